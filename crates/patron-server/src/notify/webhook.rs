//! Delivery by HTTP POST to a configured URL (SMS gateways, custom senders). The JSON body
//! `{channel, to, template, subject, text, data}` is signed: `X-Patron-Signature:
//! sha256=<hex HMAC-SHA256 of the body under the shared secret>`.

use std::time::Duration;

use async_trait::async_trait;
use hmac::{Hmac, Mac};
use patron_store::OutboxMessage;
use serde_json::json;
use sha2::Sha256;

use super::Delivery;
use crate::config::WebhookSettings;

/// How long one POST may take.
const TIMEOUT: Duration = Duration::from_secs(10);
/// The signature header.
pub const SIGNATURE_HEADER: &str = "x-patron-signature";

/// POSTs JSON bodies to one URL, each signed with the shared secret.
pub struct SignedPoster {
    client: reqwest::Client,
    url: String,
    secret: String,
}

impl SignedPoster {
    /// A poster to `url` signing with `secret`.
    pub fn new(url: &str, secret: &str) -> Result<Self, String> {
        let client = reqwest::Client::builder()
            .timeout(TIMEOUT)
            .build()
            .map_err(|e| e.to_string())?;
        Ok(Self {
            client,
            url: url.to_owned(),
            secret: secret.to_owned(),
        })
    }

    /// POSTs `body` with its signature; any answer but a 2xx is an error naming `receiver`.
    pub async fn post(&self, body: String, receiver: &str) -> Result<(), String> {
        let response = self
            .client
            .post(&self.url)
            .header("content-type", "application/json")
            .header(SIGNATURE_HEADER, signature(&self.secret, body.as_bytes()))
            .body(body)
            .send()
            .await
            .map_err(|e| format!("cannot reach the {receiver}: {e}"))?;
        if response.status().is_success() {
            Ok(())
        } else {
            Err(format!("the {receiver} answered {}", response.status()))
        }
    }
}

/// Posts messages to a webhook.
pub struct WebhookDelivery {
    poster: SignedPoster,
}

impl WebhookDelivery {
    /// A delivery for the configured URL and secret.
    pub fn new(settings: &WebhookSettings) -> Result<Self, String> {
        if !(settings.url.starts_with("https://") || settings.url.starts_with("http://")) {
            return Err(
                "webhook.url must be an http:// or https:// URL when notifier = \"webhook\""
                    .to_owned(),
            );
        }
        if settings.secret.len() < 16 {
            return Err("webhook.secret must be at least 16 characters".to_owned());
        }
        Ok(Self {
            poster: SignedPoster::new(&settings.url, &settings.secret)?,
        })
    }
}

/// `sha256=` + hex HMAC-SHA256 of `body` under `secret`.
pub fn signature(secret: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

#[async_trait]
impl Delivery for WebhookDelivery {
    async fn deliver(&self, message: &OutboxMessage) -> Result<(), String> {
        let body = &message.message;
        let payload = json!({
            "id": message.id.as_str(),
            "channel": body.channel.as_str(),
            "to": body.to,
            "template": body.template,
            "subject": body.subject,
            "text": body.text,
            "data": body.data,
        })
        .to_string();
        self.poster.post(payload, "webhook").await
    }

    fn scrubs_delivered(&self, _message: &OutboxMessage) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notify::test_message as queued;
    use patron_domain::notification::Channel;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    /// A one-request HTTP receiver answering `status`; hands back (headers, body).
    async fn receiver(status: u16) -> (String, tokio::task::JoinHandle<(String, String)>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hooks/messages", listener.local_addr().unwrap());
        let task = tokio::spawn(async move {
            let (mut socket, _) = listener.accept().await.unwrap();
            let mut buffer = Vec::new();
            let mut chunk = [0u8; 4096];
            let (head, body) = loop {
                let read = socket.read(&mut chunk).await.unwrap();
                buffer.extend_from_slice(&chunk[..read]);
                let text = String::from_utf8_lossy(&buffer).to_string();
                if let Some((head, body)) = text.split_once("\r\n\r\n") {
                    let length: usize = head
                        .lines()
                        .find_map(|l| {
                            l.to_ascii_lowercase()
                                .strip_prefix("content-length:")
                                .map(|v| v.trim().parse().unwrap())
                        })
                        .unwrap_or(0);
                    if body.len() >= length {
                        break (head.to_owned(), body.to_owned());
                    }
                }
            };
            let reply =
                format!("HTTP/1.1 {status} X\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
            socket.write_all(reply.as_bytes()).await.unwrap();
            (head, body)
        });
        (url, task)
    }

    #[tokio::test]
    async fn posts_signed_json_to_a_local_receiver() {
        let (url, received) = receiver(200).await;
        let secret = "a-long-shared-secret";
        let delivery = WebhookDelivery::new(&WebhookSettings {
            url,
            secret: secret.into(),
        })
        .unwrap();
        delivery.deliver(&queued(Channel::Sms)).await.unwrap();
        let (head, body) = received.await.unwrap();
        let payload: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(
            (payload["channel"].as_str(), payload["to"].as_str()),
            (Some("sms"), Some("+919876543210"))
        );
        let header = head
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{SIGNATURE_HEADER}: ")))
            .unwrap();
        assert_eq!(
            header,
            signature(secret, body.as_bytes()),
            "the signature covers the exact body"
        );
        assert_ne!(header, signature("another-secret-key", body.as_bytes()));
    }

    #[tokio::test]
    async fn a_failing_receiver_is_an_error_to_retry() {
        let (url, _received) = receiver(503).await;
        let delivery = WebhookDelivery::new(&WebhookSettings {
            url,
            secret: "a-long-shared-secret".into(),
        })
        .unwrap();
        assert!(delivery
            .deliver(&queued(Channel::Sms))
            .await
            .unwrap_err()
            .contains("503"));
        assert!(WebhookDelivery::new(&WebhookSettings {
            url: "ftp://x".into(),
            secret: "a-long-shared-secret".into()
        })
        .is_err());
        assert!(WebhookDelivery::new(&WebhookSettings {
            url: "https://x".into(),
            secret: "short".into()
        })
        .is_err());
    }
}

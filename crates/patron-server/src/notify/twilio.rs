//! Text messages through a Twilio-compatible REST API: `POST
//! {base_url}/2010-04-01/Accounts/{account_sid}/Messages.json` with the form fields `To`,
//! `From` and `Body`, authenticated with HTTP Basic (account SID and auth token). The base
//! URL is configuration, so any provider speaking this API (or a local stub) can be used.

use std::time::Duration;

use async_trait::async_trait;
use patron_domain::notification::Channel;
use patron_store::OutboxMessage;

use super::Delivery;
use crate::config::SmsSettings;

/// How long one request may take.
const TIMEOUT: Duration = Duration::from_secs(10);

/// Sends text messages through a Twilio-compatible API.
pub struct TwilioDelivery {
    client: reqwest::Client,
    messages_url: String,
    account_sid: String,
    auth_token: String,
    from: String,
}

impl TwilioDelivery {
    /// A delivery for the configured account.
    pub fn new(settings: &SmsSettings) -> Result<Self, String> {
        let base = settings.base_url.trim_end_matches('/');
        if !(base.starts_with("https://") || base.starts_with("http://")) {
            return Err("sms.base_url must be an http:// or https:// URL".to_owned());
        }
        if settings.account_sid.is_empty() || settings.auth_token.0.is_empty() {
            return Err("sms.account_sid and sms.auth_token are required".to_owned());
        }
        if settings.from.is_empty() {
            return Err("sms.from (a sender number or id) is required".to_owned());
        }
        let client = reqwest::Client::builder()
            .timeout(TIMEOUT)
            .build()
            .map_err(|e| e.to_string())?;
        Ok(Self {
            client,
            messages_url: format!(
                "{base}/2010-04-01/Accounts/{}/Messages.json",
                settings.account_sid
            ),
            account_sid: settings.account_sid.clone(),
            auth_token: settings.auth_token.0.clone(),
            from: settings.from.clone(),
        })
    }
}

#[async_trait]
impl Delivery for TwilioDelivery {
    async fn deliver(&self, message: &OutboxMessage) -> Result<(), String> {
        let body = &message.message;
        if body.channel != Channel::Sms {
            return Err(format!(
                "the SMS provider cannot deliver {} messages",
                body.channel.as_str()
            ));
        }
        let form = [
            ("To", body.to.as_str()),
            ("From", self.from.as_str()),
            ("Body", body.text.as_str()),
        ];
        let encoded = serde_urlencoded::to_string(form).map_err(|e| e.to_string())?;
        let response = self
            .client
            .post(&self.messages_url)
            .basic_auth(&self.account_sid, Some(&self.auth_token))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(encoded)
            .send()
            .await
            .map_err(|e| format!("SMS provider unreachable: {e}"))?;
        if response.status().is_success() {
            Ok(())
        } else {
            Err(format!("SMS provider answered {}", response.status()))
        }
    }

    fn scrubs_delivered(&self, _message: &OutboxMessage) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Redacted;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// A one-request HTTP server answering `status`; returns its base URL and the request.
    async fn stub(status: u16) -> (String, tokio::task::JoinHandle<String>) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let handle = tokio::spawn(async move {
            let (mut socket, _) = listener.accept().await.unwrap();
            let mut request = Vec::new();
            let mut buffer = [0u8; 4096];
            loop {
                let read = socket.read(&mut buffer).await.unwrap();
                request.extend_from_slice(&buffer[..read]);
                let text = String::from_utf8_lossy(&request);
                if let Some((head, body)) = text.split_once("\r\n\r\n") {
                    let length = head
                        .lines()
                        .find_map(|l| {
                            l.to_ascii_lowercase()
                                .strip_prefix("content-length: ")
                                .map(str::to_owned)
                        })
                        .and_then(|l| l.trim().parse::<usize>().ok())
                        .unwrap_or(0);
                    if body.len() >= length {
                        break;
                    }
                }
                if read == 0 {
                    break;
                }
            }
            let answer = format!(
                "HTTP/1.1 {status} X\r\ncontent-length: 2\r\nconnection: close\r\n\r\n{{}}"
            );
            socket.write_all(answer.as_bytes()).await.unwrap();
            String::from_utf8_lossy(&request).into_owned()
        });
        (base, handle)
    }

    fn settings(base: &str) -> SmsSettings {
        SmsSettings {
            provider: "twilio".into(),
            base_url: base.into(),
            account_sid: "AC123".into(),
            auth_token: Redacted("token-1".into()),
            from: "+15005550006".into(),
        }
    }

    #[tokio::test]
    async fn posts_the_text_to_the_account_messages_resource() {
        let (base, request) = stub(201).await;
        let delivery = TwilioDelivery::new(&settings(&base)).unwrap();
        let message = crate::notify::test_message(Channel::Sms);
        delivery.deliver(&message).await.unwrap();
        let request = request.await.unwrap();
        assert!(
            request.starts_with("POST /2010-04-01/Accounts/AC123/Messages.json "),
            "{request}"
        );
        // Basic base64("AC123:token-1")
        assert!(
            request.contains("authorization: Basic QUMxMjM6dG9rZW4tMQ=="),
            "{request}"
        );
        assert!(request.contains("To=%2B919876543210"), "{request}");
        assert!(request.contains("From=%2B15005550006"), "{request}");
        assert!(request.contains("Body=Use+https"), "{request}");
        assert!(delivery.scrubs_delivered(&message));
    }

    #[tokio::test]
    async fn a_refusal_is_an_error_to_retry_and_emails_are_not_its_business() {
        let (base, _request) = stub(500).await;
        let delivery = TwilioDelivery::new(&settings(&base)).unwrap();
        assert!(delivery
            .deliver(&crate::notify::test_message(Channel::Sms))
            .await
            .is_err());
        assert!(delivery
            .deliver(&crate::notify::test_message(Channel::Email))
            .await
            .is_err());
        assert!(TwilioDelivery::new(&settings("ftp://x")).is_err());
    }
}

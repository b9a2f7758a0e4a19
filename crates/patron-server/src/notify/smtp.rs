//! Email delivery over SMTP (the `lettre` crate), with plain, STARTTLS or implicit TLS.

use std::time::Duration;

use async_trait::async_trait;
use lettre::message::Mailbox;
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use patron_domain::notification::Channel;
use patron_store::OutboxMessage;

use super::Delivery;
use crate::config::{SmtpSettings, SmtpTls};

/// How long one SMTP conversation may take.
const TIMEOUT: Duration = Duration::from_secs(15);

/// Sends email messages through one SMTP server.
pub struct SmtpDelivery {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl SmtpDelivery {
    /// A delivery for the configured server; fails on an unusable host or sender.
    pub fn new(settings: &SmtpSettings) -> Result<Self, String> {
        if settings.host.is_empty() {
            return Err("smtp.host is required when notifier = \"smtp\"".to_owned());
        }
        let from: Mailbox = settings
            .from
            .parse()
            .map_err(|e| format!("smtp.from '{}' is not an address: {e}", settings.from))?;
        let builder = match settings.tls {
            SmtpTls::None => {
                AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&settings.host)
            }
            SmtpTls::Starttls => {
                AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&settings.host)
                    .map_err(|e| e.to_string())?
            }
            SmtpTls::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(&settings.host)
                .map_err(|e| e.to_string())?,
        };
        let mut builder = builder.port(settings.port).timeout(Some(TIMEOUT));
        if let (Some(username), Some(password)) = (&settings.username, &settings.password) {
            builder = builder.credentials(Credentials::new(username.clone(), password.clone()));
        }
        Ok(Self {
            transport: builder.build(),
            from,
        })
    }
}

#[async_trait]
impl Delivery for SmtpDelivery {
    async fn deliver(&self, message: &OutboxMessage) -> Result<(), String> {
        let body = &message.message;
        if body.channel != Channel::Email {
            return Err(format!(
                "the smtp notifier cannot deliver {} messages",
                body.channel.as_str()
            ));
        }
        let to: Mailbox = body.to.parse().map_err(|e| format!("bad recipient: {e}"))?;
        let email = lettre::Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(body.subject.clone())
            .body(body.text.clone())
            .map_err(|e| format!("cannot build the email: {e}"))?;
        self.transport
            .send(email)
            .await
            .map(|_| ())
            .map_err(|e| format!("smtp: {e}"))
    }

    fn scrubs_delivered(&self, _message: &OutboxMessage) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notify::test_message as queued;
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    use tokio::net::TcpListener;

    /// A minimal SMTP server that accepts one message and hands its DATA back.
    async fn sink() -> (u16, tokio::task::JoinHandle<String>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let task = tokio::spawn(async move {
            let (socket, _) = listener.accept().await.unwrap();
            let (read, mut write) = socket.into_split();
            let mut lines = BufReader::new(read).lines();
            write.write_all(b"220 sink ready\r\n").await.unwrap();
            let mut data = String::new();
            let mut in_data = false;
            while let Ok(Some(line)) = lines.next_line().await {
                if in_data {
                    if line == "." {
                        in_data = false;
                        write.write_all(b"250 queued\r\n").await.unwrap();
                    } else {
                        data.push_str(&line);
                        data.push('\n');
                    }
                    continue;
                }
                let command = line.to_ascii_uppercase();
                let reply: &[u8] = if command.starts_with("EHLO") || command.starts_with("HELO") {
                    b"250 sink\r\n"
                } else if command.starts_with("DATA") {
                    in_data = true;
                    b"354 go ahead\r\n"
                } else if command.starts_with("QUIT") {
                    write.write_all(b"221 bye\r\n").await.unwrap();
                    break;
                } else {
                    b"250 ok\r\n"
                };
                write.write_all(reply).await.unwrap();
            }
            data
        });
        (port, task)
    }

    #[tokio::test]
    async fn delivers_to_a_real_smtp_listener() {
        let (port, received) = sink().await;
        let settings = SmtpSettings {
            host: "127.0.0.1".into(),
            port,
            tls: SmtpTls::None,
            from: "Shop <no-reply@shop.example>".into(),
            ..SmtpSettings::default()
        };
        let delivery = SmtpDelivery::new(&settings).unwrap();
        delivery.deliver(&queued(Channel::Email)).await.unwrap();
        let data = received.await.unwrap();
        assert!(data.contains("Subject: Reset your password"), "{data}");
        assert!(data.contains("To: asha@example.com"), "{data}");
        assert!(data.contains("code=abc"), "{data}");
        assert!(
            delivery.deliver(&queued(Channel::Sms)).await.is_err(),
            "smtp carries only email"
        );
    }

    #[tokio::test]
    async fn an_unreachable_server_is_an_error_to_retry() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        drop(listener);
        let settings = SmtpSettings {
            host: "127.0.0.1".into(),
            port,
            tls: SmtpTls::None,
            from: "a@b.io".into(),
            ..SmtpSettings::default()
        };
        assert!(SmtpDelivery::new(&settings)
            .unwrap()
            .deliver(&queued(Channel::Email))
            .await
            .is_err());
        assert!(
            SmtpDelivery::new(&SmtpSettings::default()).is_err(),
            "a host is required"
        );
    }
}

//! Customer messages: rendered from templates (per application, with built-in defaults),
//! queued in the persisted outbox, and delivered by a background worker with retry and
//! backoff, so a slow or failing sender never blocks a request and a restart loses nothing.

mod events;
mod log;
mod smtp;
mod twilio;
mod webhook;

use std::sync::Arc;

use async_trait::async_trait;
use patron_store::OutboxMessage;

pub use self::events::{event_body, run_events_worker, WebhookEvents};
pub use self::log::LogDelivery;
pub use self::smtp::SmtpDelivery;
pub use self::twilio::TwilioDelivery;
pub use self::webhook::{signature, WebhookDelivery, SIGNATURE_HEADER};
pub use patron_service::delivery::{run_worker, Delivery};

/// Text messages to one delivery, everything else to another (an SMS provider beside the
/// email notifier).
pub struct ByChannel {
    /// Delivers text messages.
    pub sms: Arc<dyn Delivery>,
    /// Delivers every other message.
    pub other: Arc<dyn Delivery>,
}

impl ByChannel {
    fn route(&self, message: &OutboxMessage) -> &dyn Delivery {
        if message.message.channel == patron_domain::notification::Channel::Sms {
            self.sms.as_ref()
        } else {
            self.other.as_ref()
        }
    }
}

#[async_trait]
impl Delivery for ByChannel {
    async fn deliver(&self, message: &OutboxMessage) -> Result<(), String> {
        self.route(message).deliver(message).await
    }

    fn scrubs_delivered(&self, message: &OutboxMessage) -> bool {
        self.route(message).scrubs_delivered(message)
    }
}

/// A queued message for adapter tests.
#[cfg(test)]
pub(crate) fn test_message(channel: patron_domain::notification::Channel) -> OutboxMessage {
    use chrono::{TimeZone, Utc};
    use patron_domain::notification::{Channel, Message};
    use serde_json::Map;
    let at = Utc
        .with_ymd_and_hms(2026, 1, 1, 0, 0, 0)
        .single()
        .unwrap_or_default();
    OutboxMessage {
        id: patron_domain::ids::ObjectId::generate(at),
        application_id: patron_domain::ids::ObjectId::generate(at),
        message: Message {
            channel,
            to: if channel == Channel::Email {
                "asha@example.com".into()
            } else {
                "+919876543210".into()
            },
            template: "reset_password".into(),
            subject: "Reset your password".into(),
            text: "Use https://shop/x?code=abc".into(),
            data: Map::new(),
        },
        status: patron_store::OutboxStatus::Pending,
        attempts: 1,
        next_attempt_at: at,
        last_error: None,
        created_at: at,
        sent_at: None,
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use patron_domain::notification::Channel;

    use super::*;

    /// Records what it is asked to deliver.
    #[derive(Default)]
    struct Recorder {
        seen: Mutex<Vec<String>>,
        scrubs: bool,
    }

    #[async_trait]
    impl Delivery for Recorder {
        async fn deliver(&self, message: &OutboxMessage) -> Result<(), String> {
            if let Ok(mut seen) = self.seen.lock() {
                seen.push(message.message.to.clone());
            }
            Ok(())
        }

        fn scrubs_delivered(&self, _message: &OutboxMessage) -> bool {
            self.scrubs
        }
    }

    #[tokio::test]
    async fn text_messages_go_to_the_sms_delivery_and_the_rest_to_the_notifier() {
        let sms = Arc::new(Recorder {
            scrubs: true,
            ..Recorder::default()
        });
        let other = Arc::new(Recorder::default());
        let routed = ByChannel {
            sms: sms.clone(),
            other: other.clone(),
        };
        let text = test_message(Channel::Sms);
        let email = test_message(Channel::Email);
        assert!(routed.deliver(&text).await.is_ok());
        assert!(routed.deliver(&email).await.is_ok());
        let seen = |r: &Recorder| r.seen.lock().map(|s| s.clone()).unwrap_or_default();
        assert_eq!(seen(&sms), ["+919876543210"]);
        assert_eq!(seen(&other), ["asha@example.com"]);
        assert!(
            routed.scrubs_delivered(&text),
            "the provider's messages are erased"
        );
        assert!(
            !routed.scrubs_delivered(&email),
            "the log notifier keeps its own"
        );
    }
}

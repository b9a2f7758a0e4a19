//! Customer messages: rendered from the application's templates (or the built-in ones),
//! queued in the persisted outbox, and delivered with retry and backoff.

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use patron_domain::notification::{default_template, retry_delay, Channel, Message, Template};
use patron_store::{Application, OutboxStore};
use serde_json::{Map, Value};

use super::{AuthConfigs, ServiceError};
use crate::clock::Clock;
use crate::notify::Delivery;

/// How long a claimed message is reserved for one delivery attempt.
const LEASE: Duration = Duration::seconds(60);
/// Messages taken per delivery round.
pub const DELIVERY_BATCH: usize = 16;

/// Queuing and delivering customer messages.
#[derive(Clone)]
pub struct Notifications {
    outbox: Arc<dyn OutboxStore>,
    configs: AuthConfigs,
    clock: Arc<dyn Clock>,
}

impl Notifications {
    /// Messages kept in `outbox`, rendered with each application's templates.
    pub fn new(outbox: Arc<dyn OutboxStore>, configs: AuthConfigs, clock: Arc<dyn Clock>) -> Self {
        Self {
            outbox,
            configs,
            clock,
        }
    }

    /// Renders `template` for `application` with `data` and queues it for `to`; a text
    /// message ends with `data.android_hash` when there is one.
    pub async fn send(
        &self,
        application: &Application,
        channel: Channel,
        to: &str,
        template: &str,
        data: Map<String, Value>,
    ) -> Result<(), ServiceError> {
        let message = self
            .render(application, channel, to, template, data)
            .await?;
        self.outbox
            .enqueue(&application.id, &message, self.clock.now())
            .await?;
        Ok(())
    }

    /// The message [`Notifications::send`] would queue, for a caller that queues it with
    /// other writes of its own.
    pub async fn render(
        &self,
        application: &Application,
        channel: Channel,
        to: &str,
        template: &str,
        data: Map<String, Value>,
    ) -> Result<Message, ServiceError> {
        let config = self.configs.load(application).await?.config;
        let template_text = config
            .template(template)
            .or_else(|| default_template(template))
            .ok_or_else(|| ServiceError::Internal(format!("no template named {template}")))?;
        let (subject, mut text) = Template::render(&template_text, &data);
        // Android's SMS retriever reads the app hash from the end of the message.
        if let (Channel::Sms, Some(Value::String(hash))) = (channel, data.get("android_hash")) {
            text = format!("{text}\n{hash}");
        }
        Ok(Message {
            channel,
            to: to.to_owned(),
            template: template.to_owned(),
            subject,
            text,
            data,
        })
    }

    /// Delivers the messages due at `now` through `delivery` (at most [`DELIVERY_BATCH`]);
    /// returns how many went out. A failed delivery is retried with backoff, and given up
    /// after the last attempt.
    pub async fn deliver_due(
        &self,
        delivery: &dyn Delivery,
        now: DateTime<Utc>,
    ) -> Result<usize, ServiceError> {
        let claimed = self.outbox.claim_due(now, LEASE, DELIVERY_BATCH).await?;
        let mut delivered = 0;
        for message in claimed {
            match delivery.deliver(&message).await {
                Ok(()) => {
                    self.outbox
                        .mark_sent(&message.id, now, delivery.scrubs_delivered(&message))
                        .await?;
                    delivered += 1;
                }
                Err(error) => {
                    tracing::warn!(id = %message.id, attempt = message.attempts, %error, "message delivery failed");
                    let retry_at = retry_delay(message.attempts).map(|delay| now + delay);
                    self.outbox
                        .mark_failed(&message.id, &error, retry_at)
                        .await?;
                }
            }
        }
        Ok(delivered)
    }
}

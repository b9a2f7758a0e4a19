//! Customer messages: rendered from the application's templates (or the built-in ones),
//! sealed (their subject, text and values carry codes and links), queued in the persisted
//! outbox, opened only to be delivered, and scrubbed once delivered, given up or expired.

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use patron_domain::notification::{default_template, retry_delay, Channel, Message, Template};
use patron_store::{Application, OutboxMessage, OutboxStore};
use serde_json::{Map, Value};

use super::{AuthConfigs, ServiceError};
use crate::clock::Clock;
use crate::delivery::Delivery;
use crate::secrets::{OpenError, SecretBox};

/// The key under which a sealed message keeps its values in `data`.
pub const SEALED_DATA: &str = "sealed";

/// How long a claimed message is reserved for one delivery attempt.
const LEASE: Duration = Duration::seconds(60);
/// Messages taken per delivery round.
pub const DELIVERY_BATCH: usize = 16;

/// Queuing and delivering customer messages.
#[derive(Clone)]
pub struct Notifications {
    outbox: Arc<dyn OutboxStore>,
    configs: AuthConfigs,
    secrets: SecretBox,
    clock: Arc<dyn Clock>,
}

impl Notifications {
    /// Messages kept in `outbox`, rendered with each application's templates and sealed
    /// with `secrets`.
    pub fn new(
        outbox: Arc<dyn OutboxStore>,
        configs: AuthConfigs,
        secrets: SecretBox,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            outbox,
            configs,
            secrets,
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
        self.send_or_discard(application, channel, to, template, data, true)
            .await
    }

    /// [`Notifications::send`], kept only when `keep`: for no one (an unknown account) the
    /// message is rendered, sealed and written in a transaction that is rolled back, so
    /// the two cases do the same work and leave different traces only in the outbox.
    pub async fn send_or_discard(
        &self,
        application: &Application,
        channel: Channel,
        to: &str,
        template: &str,
        data: Map<String, Value>,
        keep: bool,
    ) -> Result<(), ServiceError> {
        let message = self
            .prepare(application, channel, to, template, data)
            .await?;
        self.outbox
            .enqueue_or_discard(&application.id, &message, keep, self.clock.now())
            .await?;
        Ok(())
    }

    /// The message [`Notifications::send`] would queue, rendered and sealed, for a caller
    /// that queues it with other writes of its own.
    pub async fn prepare(
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
        let binding = message_binding(application.id.as_str(), to);
        let sealed_data = Value::Object(data).to_string();
        Ok(Message {
            channel,
            to: to.to_owned(),
            template: template.to_owned(),
            subject: self.secrets.seal(&subject, &binding),
            text: self.secrets.seal(&text, &binding),
            data: Map::from_iter([(
                SEALED_DATA.to_owned(),
                Value::String(self.secrets.seal(&sealed_data, &binding)),
            )]),
        })
    }

    /// The newest `limit` messages of the outbox, opened when `reveal` (local development:
    /// `patron outbox list --reveal`), else with their sealed parts left out.
    pub async fn list(
        &self,
        limit: usize,
        reveal: bool,
    ) -> Result<Vec<OutboxMessage>, ServiceError> {
        let messages = self.outbox.list_outbox(limit).await?;
        messages
            .into_iter()
            .map(|message| {
                if reveal {
                    reveal_message(&self.secrets, message)
                        .map_err(|error| ServiceError::Internal(error.to_string()))
                } else {
                    Ok(conceal_message(message))
                }
            })
            .collect()
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
            let id = message.id.clone();
            let Ok(message) = reveal_message(&self.secrets, message) else {
                tracing::error!(%id, "a queued message cannot be opened: given up");
                self.outbox
                    .mark_failed(&id, "sealed under an unknown key, or moved", None)
                    .await?;
                continue;
            };
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

/// What a queued message's sealed parts are bound to: its application and recipient.
pub fn message_binding<'a>(application_id: &'a str, to: &'a str) -> [&'a str; 3] {
    ["outbox message", application_id, to]
}

/// A queued message with its sealed subject, text and values opened (parts already
/// scrubbed, or queued before messages were sealed, are left as they are).
pub fn reveal_message(
    secrets: &SecretBox,
    mut queued: OutboxMessage,
) -> Result<OutboxMessage, OpenError> {
    let to = queued.message.to.clone();
    let binding = message_binding(queued.application_id.as_str(), &to);
    let open = |text: &str| {
        if SecretBox::is_sealed(text) {
            secrets.open(text, &binding)
        } else {
            Ok(text.to_owned())
        }
    };
    let message = &mut queued.message;
    message.subject = open(&message.subject)?;
    message.text = open(&message.text)?;
    if let Some(Value::String(sealed)) = message.data.get(SEALED_DATA) {
        let opened = open(sealed)?;
        message.data = serde_json::from_str(&opened).map_err(|_| OpenError)?;
    }
    Ok(queued)
}

/// A queued message with its sealed parts left out, for listings.
pub fn conceal_message(mut queued: OutboxMessage) -> OutboxMessage {
    let message = &mut queued.message;
    for part in [&mut message.subject, &mut message.text] {
        if SecretBox::is_sealed(part) {
            *part = "(sealed: --reveal to show)".to_owned();
        }
    }
    if message.data.contains_key(SEALED_DATA) {
        message.data = Map::from_iter([(SEALED_DATA.to_owned(), Value::Bool(true))]);
    }
    queued
}

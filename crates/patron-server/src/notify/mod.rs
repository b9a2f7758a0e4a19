//! Customer messages: rendered from templates (per application, with built-in defaults),
//! queued in the persisted outbox, and delivered by a background worker with retry and
//! backoff, so a slow or failing sender never blocks a request and a restart loses nothing.

mod log;
mod smtp;
mod webhook;

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use patron_domain::notification::{default_template, retry_delay, Channel, Message, Template};
use patron_store::{Application, OutboxMessage, Stores};
use serde_json::{Map, Value};

pub use self::log::LogDelivery;
pub use self::smtp::SmtpDelivery;
pub use self::webhook::{signature, WebhookDelivery, SIGNATURE_HEADER};
use crate::app::AppState;
use crate::auth_config;
use crate::error::ApiError;

/// How long a claimed message is reserved for one delivery attempt.
const LEASE: Duration = Duration::seconds(60);
/// Messages taken per worker round.
const BATCH: usize = 16;

/// A way of delivering messages (the `notifier` setting picks one).
#[async_trait]
pub trait Delivery: Send + Sync {
    /// Sends one message; an error is retried later.
    async fn deliver(&self, message: &OutboxMessage) -> Result<(), String>;
    /// Whether a delivered message's body and data are erased from the outbox (they may
    /// hold reset codes). The log adapter keeps them: the outbox is where it delivers to.
    fn scrubs_delivered(&self) -> bool;
}

/// Renders `template` for `application` and queues it for `to`.
pub(crate) async fn enqueue(
    state: &AppState,
    application: &Application,
    channel: Channel,
    to: &str,
    template: &str,
    data: Map<String, Value>,
) -> Result<(), ApiError> {
    let config = auth_config::load(state, application).await?.config;
    let template_text = config
        .template(template)
        .or_else(|| default_template(template))
        .ok_or_else(|| ApiError::Internal(format!("no template named {template}")))?;
    let (subject, text) = Template::render(&template_text, &data);
    let message = Message {
        channel,
        to: to.to_owned(),
        template: template.to_owned(),
        subject,
        text,
        data,
    };
    state
        .stores
        .outbox
        .enqueue(&application.id, &message, state.clock.now())
        .await?;
    Ok(())
}

/// Delivers the messages due at `now`; returns how many were delivered.
pub async fn deliver_due(
    stores: &Stores,
    delivery: &dyn Delivery,
    now: DateTime<Utc>,
) -> Result<usize, ApiError> {
    let claimed = stores.outbox.claim_due(now, LEASE, BATCH).await?;
    let mut delivered = 0;
    for message in claimed {
        match delivery.deliver(&message).await {
            Ok(()) => {
                stores
                    .outbox
                    .mark_sent(&message.id, now, delivery.scrubs_delivered())
                    .await?;
                delivered += 1;
            }
            Err(error) => {
                tracing::warn!(id = %message.id, attempt = message.attempts, %error, "message delivery failed");
                let retry_at = retry_delay(message.attempts).map(|delay| now + delay);
                stores
                    .outbox
                    .mark_failed(&message.id, &error, retry_at)
                    .await?;
            }
        }
    }
    Ok(delivered)
}

/// Runs [`deliver_due`] forever, once a second (until the task is dropped).
pub async fn run_worker(stores: Stores, delivery: Arc<dyn Delivery>, clock: Arc<dyn crate::Clock>) {
    let mut interval = tokio::time::interval(std::time::Duration::from_secs(1));
    loop {
        interval.tick().await;
        if let Err(error) = deliver_due(&stores, delivery.as_ref(), clock.now()).await {
            tracing::warn!(%error, "outbox worker round failed");
        }
    }
}

/// A queued message for adapter tests.
#[cfg(test)]
pub(crate) fn test_message(channel: Channel) -> OutboxMessage {
    use chrono::TimeZone;
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

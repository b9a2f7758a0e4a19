//! Lifecycle events to other systems: the store writes each with the change it announces;
//! this delivers them, at least once, retrying with backoff for about a day, and replays
//! them on demand.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use patron_domain::events::retry_delay;
use patron_store::{EventStore, LifecycleEvent};

use super::ServiceError;
use crate::clock::Clock;

/// How long a claimed event is reserved for one delivery attempt.
const LEASE: Duration = Duration::seconds(60);
/// Events taken per delivery round.
pub const EVENT_BATCH: usize = 32;

/// Where events go (the signed webhook of `[events]`).
#[async_trait]
pub trait EventSink: Send + Sync {
    /// Delivers one event; an error is retried later.
    async fn deliver(&self, event: &LifecycleEvent) -> Result<(), String>;
}

/// Delivery and replay of lifecycle events.
#[derive(Clone)]
pub struct Events {
    store: Arc<dyn EventStore>,
    sink: Option<Arc<dyn EventSink>>,
    clock: Arc<dyn Clock>,
}

impl Events {
    /// Events kept in `store`, delivered to `sink` (none configured: they wait, and can be
    /// replayed once a receiver exists).
    pub fn new(
        store: Arc<dyn EventStore>,
        sink: Option<Arc<dyn EventSink>>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self { store, sink, clock }
    }

    /// Whether a receiver is configured.
    pub fn has_sink(&self) -> bool {
        self.sink.is_some()
    }

    /// Delivers the events due now (at most [`EVENT_BATCH`], in order); returns how many
    /// were delivered. A failed delivery is retried with backoff, and given up after about
    /// a day.
    pub async fn deliver_due(&self) -> Result<usize, ServiceError> {
        let Some(sink) = &self.sink else {
            return Ok(0);
        };
        let now = self.clock.now();
        let claimed = self.store.claim_due_events(now, LEASE, EVENT_BATCH).await?;
        let mut delivered = 0;
        for event in claimed {
            match sink.deliver(&event).await {
                Ok(()) => {
                    self.store.mark_event_delivered(event.id, now).await?;
                    delivered += 1;
                }
                Err(error) => {
                    tracing::warn!(event_id = event.id, attempt = event.attempts, %error, "event delivery failed");
                    let retry_at = retry_delay(event.attempts).map(|delay| now + delay);
                    self.store
                        .mark_event_failed(event.id, &error, retry_at)
                        .await?;
                }
            }
        }
        Ok(delivered)
    }

    /// Makes every event since `since` due again (`patron events replay`); returns how many.
    pub async fn replay(&self, since: DateTime<Utc>) -> Result<u64, ServiceError> {
        Ok(self.store.replay_events(since, self.clock.now()).await?)
    }
}

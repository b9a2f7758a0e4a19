//! Lifecycle events by signed HTTP POST to `[events] url`: the JSON body `{id, type,
//! occurred_at, company_id, application_id, actor, reason, data}` carries `X-Patron-Signature:
//! sha256=<hex HMAC-SHA256 of the body under [events] secret>`.

use std::time::Duration;

use async_trait::async_trait;
use patron_domain::time::to_wire;
use patron_store::LifecycleEvent;
use serde_json::{json, Value};

use super::webhook::SignedPoster;
use crate::config::EventsSettings;
use patron_service::workers::Shutdown;
use patron_service::{EventSink, Events, EVENT_BATCH};

/// Posts events to the configured receiver.
pub struct WebhookEvents {
    poster: SignedPoster,
}

impl WebhookEvents {
    /// A sink for the configured URL and secret.
    pub fn new(settings: &EventsSettings) -> Result<Self, String> {
        Ok(Self {
            poster: SignedPoster::new(&settings.url, &settings.secret)?,
        })
    }
}

/// The JSON body of an event as receivers get it.
pub fn event_body(event: &LifecycleEvent) -> Value {
    json!({
        "id": event.id.to_string(),
        "type": event.kind,
        "occurred_at": to_wire(event.occurred_at),
        "company_id": event.company_id,
        "application_id": event.application_id,
        "actor": event.actor,
        "reason": event.reason,
        "data": {
            "user_id": event.customer_id,
            "action": event.action,
            "reason_id": event.reason_id,
        },
    })
}

#[async_trait]
impl EventSink for WebhookEvents {
    async fn deliver(&self, event: &LifecycleEvent) -> Result<(), String> {
        self.poster
            .post(event_body(event).to_string(), "events receiver")
            .await
    }
}

/// Delivers due events until `shutdown`: batch after batch while full batches go out, else
/// once a second.
pub async fn run_events_worker(events: Events, mut shutdown: Shutdown) {
    loop {
        let pause = match events.deliver_due().await {
            Ok(delivered) if delivered >= EVENT_BATCH => Duration::ZERO,
            Ok(_) => Duration::from_secs(1),
            Err(error) => {
                tracing::warn!(%error, "events worker round failed");
                Duration::from_secs(1)
            }
        };
        if shutdown.sleep(pause).await {
            return;
        }
    }
}

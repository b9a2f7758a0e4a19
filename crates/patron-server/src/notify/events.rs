//! Lifecycle events by signed HTTP POST to `[events] url`: the JSON body `{id, type,
//! occurred_at, company_id, application_id, actor, reason, data}` carries `X-Patron-Signature:
//! sha256=<hex HMAC-SHA256 of the body under [events] secret>`.

use std::time::Duration;

use async_trait::async_trait;
use patron_domain::time::to_wire;
use patron_store::LifecycleEvent;
use serde_json::{json, Value};

use super::webhook::{signature, SIGNATURE_HEADER};
use crate::config::EventsSettings;
use crate::service::{EventSink, Events, EVENT_BATCH};
use crate::workers::Shutdown;

/// How long one POST may take.
const TIMEOUT: Duration = Duration::from_secs(10);

/// Posts events to the configured receiver.
pub struct WebhookEvents {
    client: reqwest::Client,
    url: String,
    secret: String,
}

impl WebhookEvents {
    /// A sink for the configured URL and secret.
    pub fn new(settings: &EventsSettings) -> Result<Self, String> {
        let client = reqwest::Client::builder()
            .timeout(TIMEOUT)
            .build()
            .map_err(|e| e.to_string())?;
        Ok(Self {
            client,
            url: settings.url.clone(),
            secret: settings.secret.clone(),
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
        let body = event_body(event).to_string();
        let response = self
            .client
            .post(&self.url)
            .header("content-type", "application/json")
            .header(SIGNATURE_HEADER, signature(&self.secret, body.as_bytes()))
            .body(body)
            .send()
            .await
            .map_err(|error| format!("cannot reach the events receiver: {error}"))?;
        if response.status().is_success() {
            Ok(())
        } else {
            Err(format!(
                "the events receiver answered {}",
                response.status()
            ))
        }
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

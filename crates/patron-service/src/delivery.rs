//! The port through which customer messages leave: the server's adapters (log, SMTP,
//! Twilio, webhook) implement [`Delivery`], and [`run_worker`] drains the outbox through one.

use std::sync::Arc;

use async_trait::async_trait;
use patron_store::OutboxMessage;

use crate::clock::Clock;
use crate::workers::Shutdown;
use crate::{Notifications, DELIVERY_BATCH};

/// A way of delivering messages (the `notifier` setting picks one).
#[async_trait]
pub trait Delivery: Send + Sync {
    /// Sends one message; an error is retried later.
    async fn deliver(&self, message: &OutboxMessage) -> Result<(), String>;
    /// Whether a delivered message's body and data are erased from the outbox (they may
    /// hold reset codes). The log adapter keeps them: the outbox is where it delivers to.
    fn scrubs_delivered(&self, message: &OutboxMessage) -> bool;
}

/// Delivers the due messages through `delivery` until `shutdown`: batch after batch while
/// full batches go out (a burst of codes is not held to one batch a second), else once a
/// second.
pub async fn run_worker(
    notifications: Notifications,
    delivery: Arc<dyn Delivery>,
    clock: Arc<dyn Clock>,
    mut shutdown: Shutdown,
) {
    loop {
        let pause = match notifications
            .deliver_due(delivery.as_ref(), clock.now())
            .await
        {
            Ok(delivered) if delivered >= DELIVERY_BATCH => std::time::Duration::ZERO,
            Ok(_) => std::time::Duration::from_secs(1),
            Err(error) => {
                tracing::warn!(%error, "outbox worker round failed");
                std::time::Duration::from_secs(1)
            }
        };
        if shutdown.sleep(pause).await {
            return;
        }
    }
}

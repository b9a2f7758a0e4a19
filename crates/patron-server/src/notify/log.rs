//! The default delivery: the message stays in the outbox (read it with
//! `patron outbox list`) and a line goes to the log. The log line names the message, not
//! its content, which may hold a reset code.

use async_trait::async_trait;
use patron_store::OutboxMessage;

use super::Delivery;

/// Delivers to the outbox table and the log.
#[derive(Debug, Default, Clone, Copy)]
pub struct LogDelivery;

#[async_trait]
impl Delivery for LogDelivery {
    async fn deliver(&self, message: &OutboxMessage) -> Result<(), String> {
        tracing::info!(
            id = %message.id,
            channel = message.message.channel.as_str(),
            template = %message.message.template,
            subject = %message.message.subject,
            "message ready in the outbox (notifier = log)"
        );
        Ok(())
    }

    fn scrubs_delivered(&self, _message: &OutboxMessage) -> bool {
        false
    }
}

//! Lifecycle events as stored for delivery to other systems.

use chrono::{DateTime, Utc};

/// One event waiting for (or past) delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LifecycleEvent {
    /// Its id (increasing; receivers deduplicate by it).
    pub id: i64,
    /// `customer.created`, `session.revoked`, …
    pub kind: String,
    /// The company of the application.
    pub company_id: String,
    /// The application.
    pub application_id: String,
    /// The customer it concerns.
    pub customer_id: Option<String>,
    /// The recorded change behind it (`block`, `sessions_end`, …).
    pub action: String,
    /// Who made the change.
    pub actor: String,
    /// Why, when recorded.
    pub reason: Option<String>,
    /// The reason's id, when recorded.
    pub reason_id: Option<String>,
    /// When the change happened.
    pub occurred_at: DateTime<Utc>,
    /// Delivery attempts so far, this claim included.
    pub attempts: u32,
}

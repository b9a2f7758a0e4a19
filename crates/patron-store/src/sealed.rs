//! Values sealed with the service's key, found and rewritten by `patron secrets rotate`.

use async_trait::async_trait;

use crate::StoreError;

/// Where sealed values are kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SealedKind {
    /// An application's social provider secrets (`auth_configs.secrets`).
    ProviderSecrets,
    /// Values of encrypted attributes (`attribute_values.value`).
    AttributeValues,
    /// Queued customer messages (`outbox`: subject, body, data).
    OutboxMessages,
}

impl SealedKind {
    /// Every kind.
    pub const ALL: [SealedKind; 3] = [
        SealedKind::ProviderSecrets,
        SealedKind::AttributeValues,
        SealedKind::OutboxMessages,
    ];
}

/// One record's sealed values and what they are bound to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealedRecord {
    /// The record's key (paging is by it).
    pub id: String,
    /// What the values are bound to, by kind: the application id (provider secrets); the
    /// definition and customer ids (attribute values); the application id and recipient
    /// (outbox messages).
    pub context: Vec<String>,
    /// The stored values, by kind: the secrets; the value; subject, body and data.
    pub values: Vec<String>,
}

/// Finds and rewrites sealed values.
#[async_trait]
pub trait SealedStore: Send + Sync {
    /// Up to `limit` records of `kind` holding sealed values (only values of the first,
    /// unbound `v1:` format when `legacy_only`), with keys after `after`, in key order.
    async fn sealed_records(
        &self,
        kind: SealedKind,
        after: &str,
        limit: usize,
        legacy_only: bool,
    ) -> Result<Vec<SealedRecord>, StoreError>;
    /// Replaces `record`'s values with `values` if they are still those read (a write made
    /// meanwhile wins); true when replaced.
    async fn replace_sealed(
        &self,
        kind: SealedKind,
        record: &SealedRecord,
        values: &[String],
    ) -> Result<bool, StoreError>;
}

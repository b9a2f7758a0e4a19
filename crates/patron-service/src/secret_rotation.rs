//! `patron secrets rotate`: every stored sealed value rewritten under the current key (and
//! in the current format, bound to its record), so the previous keys can be retired.

use std::sync::Arc;

use patron_store::{SealedKind, SealedRecord, SealedStore};
use serde::Serialize;
use serde_json::{Map, Value};

use super::attributes::value_binding;
use super::auth_config::secrets_binding;
use super::notifications::{message_binding, SEALED_DATA};
use super::ServiceError;
use crate::secrets::SecretBox;

/// Records read per round.
const PAGE: usize = 200;

/// What a rotation rewrote, by kind, and how many records were current already.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct RotationReport {
    /// Applications' provider secrets rewritten.
    pub provider_secrets: u64,
    /// Encrypted attribute values rewritten.
    pub attribute_values: u64,
    /// Queued messages rewritten.
    pub outbox_messages: u64,
    /// Records already sealed under the current key.
    pub already_current: u64,
    /// Records left as they were because no known key opens them (the upgrade at start
    /// only; `secrets rotate` stops at the first).
    pub unreadable: u64,
}

/// Re-encrypts stored secrets under the current key.
pub struct SecretRotation {
    store: Arc<dyn SealedStore>,
    secrets: SecretBox,
}

impl SecretRotation {
    /// A rotation over `store`, opening with every key `secrets` knows and sealing with its
    /// current one.
    pub fn new(store: Arc<dyn SealedStore>, secrets: SecretBox) -> Self {
        Self { store, secrets }
    }

    /// Rewrites every value not yet sealed under the current key. A value that cannot be
    /// opened (a key missing from `previous_secret_keys`) stops the rotation with an error
    /// naming its record; values written meanwhile by the service are left as written.
    pub async fn rotate(&self) -> Result<RotationReport, ServiceError> {
        self.rewrite(false).await
    }

    /// Rewrites the records still holding a value of the first format (`v1:`, bound to no
    /// record, so a database writer could move it between records) in the current one:
    /// run at every start, before any request is served, as no `v1:` value opens anymore.
    /// A value no known key opens is logged and left (it never opened, and never will).
    pub async fn upgrade_legacy(&self) -> Result<RotationReport, ServiceError> {
        self.rewrite(true).await
    }

    async fn rewrite(&self, legacy_only: bool) -> Result<RotationReport, ServiceError> {
        let mut report = RotationReport::default();
        for kind in SealedKind::ALL {
            let mut after = String::new();
            loop {
                let page = self
                    .store
                    .sealed_records(kind, &after, PAGE, legacy_only)
                    .await?;
                for record in &page {
                    let resealed = match self.reseal(kind, record) {
                        Err(error) if legacy_only => {
                            tracing::warn!(%error, "a value of the first format no key opens");
                            report.unreadable += 1;
                            continue;
                        }
                        other => other?,
                    };
                    let Some(values) = resealed else {
                        report.already_current += 1;
                        continue;
                    };
                    if self.store.replace_sealed(kind, record, &values).await? {
                        *match kind {
                            SealedKind::ProviderSecrets => &mut report.provider_secrets,
                            SealedKind::AttributeValues => &mut report.attribute_values,
                            SealedKind::OutboxMessages => &mut report.outbox_messages,
                        } += 1;
                    }
                }
                match page.last() {
                    Some(last) if page.len() == PAGE => after = last.id.clone(),
                    _ => break,
                }
            }
        }
        Ok(report)
    }

    /// The record's values sealed under the current key, or `None` when they already are.
    fn reseal(
        &self,
        kind: SealedKind,
        record: &SealedRecord,
    ) -> Result<Option<Vec<String>>, ServiceError> {
        let context = |index: usize| record.context.get(index).map_or("", String::as_str);
        let binding: Vec<&str> = match kind {
            SealedKind::ProviderSecrets => secrets_binding(context(0)).to_vec(),
            SealedKind::AttributeValues => value_binding(context(0), context(1)).to_vec(),
            SealedKind::OutboxMessages => message_binding(context(0), context(1)).to_vec(),
        };
        let mut changed = false;
        let mut reseal_text = |text: &str| -> Result<String, ServiceError> {
            if !(text.starts_with("v1:") || text.starts_with("v2:"))
                || self.secrets.is_current(text)
            {
                return Ok(text.to_owned());
            }
            let plain = self
                .secrets
                .open_to_rewrite(text, &binding)
                .map_err(|error| {
                    ServiceError::Internal(format!("{kind:?} {}: {error}", record.id))
                })?;
            changed = true;
            Ok(self.secrets.seal(&plain, &binding))
        };
        let mut values = Vec::with_capacity(record.values.len());
        for (index, value) in record.values.iter().enumerate() {
            // A message's values are a JSON object holding one sealed string.
            let is_message_data = kind == SealedKind::OutboxMessages && index == 2;
            let rewritten = match serde_json::from_str::<Map<String, Value>>(value) {
                Ok(mut data) if is_message_data => {
                    if let Some(Value::String(sealed)) = data.get(SEALED_DATA) {
                        let resealed = reseal_text(sealed)?;
                        data.insert(SEALED_DATA.to_owned(), Value::String(resealed));
                    }
                    Value::Object(data).to_string()
                }
                _ => reseal_text(value)?,
            };
            values.push(rewritten);
        }
        Ok(changed.then_some(values))
    }
}

//! Attribute values between the wire and the store: sealing encrypted values, opening them
//! for responses, and preparing bulk updates row by row (one bad row never spoils another).

use std::collections::{BTreeMap, HashMap, HashSet};

use patron_domain::attribute::AttributeRules;
use patron_domain::ids::ObjectId;
use patron_store::{AttributeDefinition, AttributeValue, CustomerValues, ValueWrite};
use serde_json::{json, Value};

use crate::app::AppState;
use crate::error::ApiError;
use crate::secrets::SecretBox;
use crate::wire::attribute::KeyValue;

/// A definition with its compiled rules.
pub(crate) struct Checked {
    /// The stored definition.
    pub(crate) definition: AttributeDefinition,
    /// Its compiled rules.
    pub(crate) rules: AttributeRules,
}

impl Checked {
    /// Compiles the rules of a stored definition.
    pub(crate) fn new(definition: AttributeDefinition) -> Result<Self, ApiError> {
        let rules = definition.spec.rules()?;
        Ok(Self { definition, rules })
    }

    /// Checks `value` and prepares it for the store (sealed when encrypted).
    pub(crate) fn prepare(
        &self,
        secrets: &SecretBox,
        field: &str,
        value: &Value,
        customer_overridden: bool,
    ) -> Result<ValueWrite, ApiError> {
        let checked = self.rules.check(field, value)?;
        let text = checked.json.to_string();
        let stored = if self.rules.encrypted() {
            secrets.seal(&text)
        } else {
            text
        };
        Ok(ValueWrite {
            definition_id: self.definition.id.clone(),
            stored,
            index: checked.index,
            customer_overridden,
        })
    }
}

/// The plaintext JSON of a stored value.
pub(crate) fn open_value(secrets: &SecretBox, value: &AttributeValue) -> Result<Value, ApiError> {
    let text = if value.encrypted {
        secrets
            .open(&value.stored)
            .map_err(|error| ApiError::Internal(format!("attribute value {}: {error}", value.id)))?
    } else {
        value.stored.clone()
    };
    serde_json::from_str(&text)
        .map_err(|error| ApiError::Internal(format!("attribute value {}: {error}", value.id)))
}

/// One row of a bulk update: a customer (as the client wrote it) and its attributes.
#[derive(Debug, Clone)]
pub(crate) struct BulkRow {
    /// The `user_id` as sent.
    pub(crate) user_id: String,
    /// `{key, value}` pairs.
    pub(crate) attributes: Vec<KeyValue>,
}

/// Why a row failed, as counted in `error_summary`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Reason {
    /// The user id is not a valid id.
    InvalidUserId,
    /// The same customer appears twice.
    DuplicateUser,
    /// An attribute key names no definition.
    UnknownAttribute,
    /// A value breaks its definition's rules.
    InvalidValue,
    /// The customer does not exist or is archived.
    UserNotFound,
    /// The file row could not be read.
    MalformedRow,
}

impl Reason {
    /// The `error_summary` key.
    pub(crate) fn key(self) -> &'static str {
        match self {
            Reason::InvalidUserId => "invalid_user_id",
            Reason::DuplicateUser => "duplicate_user",
            Reason::UnknownAttribute => "unknown_attribute",
            Reason::InvalidValue => "invalid_value",
            Reason::UserNotFound => "user_not_found",
            Reason::MalformedRow => "malformed_row",
        }
    }
}

/// A failed row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RowFailure {
    /// The `user_id` as sent (or the file cell).
    pub(crate) user_id: String,
    /// What went wrong.
    pub(crate) error: String,
    /// The category.
    pub(crate) reason: Reason,
}

/// The tally of a bulk update.
#[derive(Debug, Default, Clone)]
pub(crate) struct BulkOutcome {
    /// Rows targeted.
    pub(crate) total: u64,
    /// Rows written.
    pub(crate) processed: u64,
    /// Rows refused.
    pub(crate) failures: Vec<RowFailure>,
}

impl BulkOutcome {
    /// Adds another outcome's counts and failures.
    pub(crate) fn absorb(&mut self, other: BulkOutcome) {
        self.total += other.total;
        self.processed += other.processed;
        self.failures.extend(other.failures);
    }

    /// The seed's `BulkOperation` body.
    pub(crate) fn to_wire(&self, processing_type: &str) -> Value {
        let mut summary: BTreeMap<&str, u64> = BTreeMap::new();
        for failure in &self.failures {
            *summary.entry(failure.reason.key()).or_default() += 1;
        }
        let errors: Vec<Value> = self
            .failures
            .iter()
            .map(|f| json!({ "user_id": f.user_id, "error": f.error }))
            .collect();
        json!({
            "success": true,
            "total": self.total,
            "processed": self.processed,
            "errors_count": self.failures.len(),
            "errors": errors,
            "processing_type": processing_type,
            "error_summary": summary,
        })
    }
}

/// Loads the definitions the rows name (by slug), compiled.
pub(crate) async fn definitions_for(
    state: &AppState,
    application_id: &ObjectId,
    rows: &[BulkRow],
) -> Result<HashMap<String, Checked>, ApiError> {
    let slugs: HashSet<String> = rows
        .iter()
        .flat_map(|row| row.attributes.iter().filter_map(|kv| kv.key.clone()))
        .collect();
    let slugs: Vec<String> = slugs.into_iter().collect();
    let mut by_slug = HashMap::new();
    for chunk in slugs.chunks(500) {
        for definition in state
            .stores
            .attributes
            .find_definitions_by_slug(application_id, chunk)
            .await?
        {
            by_slug.insert(definition.spec.slug.clone(), Checked::new(definition)?);
        }
    }
    Ok(by_slug)
}

/// Checks and writes one batch of rows; every row ends either written or in `failures`.
pub(crate) async fn apply_rows(
    state: &AppState,
    application_id: &ObjectId,
    definitions: &HashMap<String, Checked>,
    rows: &[BulkRow],
    actor: &patron_store::Actor,
    seen: &mut HashSet<String>,
) -> Result<BulkOutcome, ApiError> {
    let mut outcome = BulkOutcome {
        total: rows.len() as u64,
        ..BulkOutcome::default()
    };
    let mut prepared = Vec::with_capacity(rows.len());
    let mut sent_ids = HashMap::new();
    for row in rows {
        match prepare_row(&state.secrets, definitions, row, seen) {
            Ok(values) => {
                sent_ids.insert(values.customer_id.to_string(), row.user_id.clone());
                prepared.push(values);
            }
            Err(failure) => outcome.failures.push(failure),
        }
    }
    let refused = state
        .stores
        .attributes
        .bulk_upsert_values(application_id, &prepared, actor, state.clock.now(), None)
        .await?;
    for id in refused {
        outcome.failures.push(RowFailure {
            user_id: sent_ids
                .get(id.as_str())
                .cloned()
                .unwrap_or_else(|| id.to_string()),
            error: format!("customer {id} not found"),
            reason: Reason::UserNotFound,
        });
    }
    outcome.processed = outcome.total - outcome.failures.len() as u64;
    Ok(outcome)
}

/// Checks one row: a valid, not yet seen customer id and values that fit their definitions.
pub(crate) fn prepare_row(
    secrets: &SecretBox,
    definitions: &HashMap<String, Checked>,
    row: &BulkRow,
    seen: &mut HashSet<String>,
) -> Result<CustomerValues, RowFailure> {
    let fail = |reason: Reason, error: String| RowFailure {
        user_id: row.user_id.clone(),
        error,
        reason,
    };
    let customer_id = ObjectId::parse("user_id", row.user_id.trim())
        .map_err(|error| fail(Reason::InvalidUserId, error.to_string()))?;
    if !seen.insert(customer_id.to_string()) {
        return Err(fail(
            Reason::DuplicateUser,
            "the customer appears more than once in the request".to_owned(),
        ));
    }
    let mut values: Vec<ValueWrite> = Vec::with_capacity(row.attributes.len());
    for (index, pair) in row.attributes.iter().enumerate() {
        let key = pair.key.as_deref().unwrap_or_default();
        let definition = definitions.get(key).ok_or_else(|| {
            fail(
                Reason::UnknownAttribute,
                format!("attributes[{index}].key: no attribute definition has the slug '{key}'"),
            )
        })?;
        let value = definition
            .prepare(secrets, key, &pair.value, false)
            .map_err(|error| fail(Reason::InvalidValue, error.to_string()))?;
        values.retain(|existing| existing.definition_id != value.definition_id);
        values.push(value);
    }
    Ok(CustomerValues {
        customer_id,
        values,
    })
}

//! Bulk attribute updates, row by row: one bad row never spoils another.

use std::collections::{HashMap, HashSet};

use patron_domain::ids::ObjectId;
use patron_store::{Actor, CustomerValues, ValueWrite};

use super::{Attributes, Checked, KeyValue};
use crate::secrets::SecretBox;
use crate::ServiceError;

/// One row of a bulk update: a customer (as the client wrote it) and its attributes.
#[derive(Debug, Clone)]
pub struct BulkRow {
    /// The `user_id` as sent.
    pub user_id: String,
    /// `{key, value}` pairs.
    pub attributes: Vec<KeyValue>,
}

/// Why a row failed, as counted in `error_summary`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Reason {
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
    pub fn key(self) -> &'static str {
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
pub struct RowFailure {
    /// The `user_id` as sent (or the file cell).
    pub user_id: String,
    /// What went wrong.
    pub error: String,
    /// The category.
    pub reason: Reason,
}

/// The tally of a bulk update.
#[derive(Debug, Default, Clone)]
pub struct BulkOutcome {
    /// Rows targeted.
    pub total: u64,
    /// Rows written.
    pub processed: u64,
    /// Rows refused.
    pub failures: Vec<RowFailure>,
}

impl BulkOutcome {
    /// Adds another outcome's counts and failures.
    pub fn absorb(&mut self, other: BulkOutcome) {
        self.total += other.total;
        self.processed += other.processed;
        self.failures.extend(other.failures);
    }
}

impl Attributes {
    /// Loads the definitions the rows name (by slug), compiled.
    pub async fn definitions_for(
        &self,
        application_id: &ObjectId,
        rows: &[BulkRow],
    ) -> Result<HashMap<String, Checked>, ServiceError> {
        let slugs: HashSet<String> = rows
            .iter()
            .flat_map(|row| row.attributes.iter().filter_map(|kv| kv.key.clone()))
            .collect();
        let slugs: Vec<String> = slugs.into_iter().collect();
        self.definitions_by_slug(application_id, &slugs).await
    }

    /// The application's definitions among `slugs`, compiled, by slug (unknown slugs are
    /// left out).
    pub async fn definitions_by_slug(
        &self,
        application_id: &ObjectId,
        slugs: &[String],
    ) -> Result<HashMap<String, Checked>, ServiceError> {
        let mut by_slug = HashMap::new();
        for chunk in slugs.chunks(500) {
            for definition in self
                .store
                .find_definitions_by_slug(application_id, chunk)
                .await?
            {
                by_slug.insert(definition.spec.slug.clone(), Checked::new(definition)?);
            }
        }
        Ok(by_slug)
    }

    /// Checks and writes one batch of rows; every row ends either written or in `failures`.
    pub async fn apply_rows(
        &self,
        application_id: &ObjectId,
        definitions: &HashMap<String, Checked>,
        rows: &[BulkRow],
        actor: &Actor,
        seen: &mut HashSet<String>,
    ) -> Result<BulkOutcome, ServiceError> {
        let mut outcome = BulkOutcome {
            total: rows.len() as u64,
            ..BulkOutcome::default()
        };
        let mut prepared = Vec::with_capacity(rows.len());
        let mut sent_ids = HashMap::new();
        for row in rows {
            match prepare_row(&self.secrets, definitions, row, seen) {
                Ok(values) => {
                    sent_ids.insert(values.customer_id.to_string(), row.user_id.clone());
                    prepared.push(values);
                }
                Err(failure) => outcome.failures.push(failure),
            }
        }
        let refused = self
            .store
            .bulk_upsert_values(application_id, &prepared, actor, self.clock.now(), None)
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
}

/// Checks one row: a valid, not yet seen customer id and values that fit their definitions.
pub fn prepare_row(
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
            .prepare(secrets, key, &pair.value, &customer_id, false)
            .map_err(|error| fail(Reason::InvalidValue, error.to_string()))?;
        values.retain(|existing| existing.definition_id != value.definition_id);
        values.push(value);
    }
    Ok(CustomerValues {
        customer_id,
        values,
    })
}

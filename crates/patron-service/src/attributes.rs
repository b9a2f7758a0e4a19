//! Attribute values: checking them against their definitions, sealing encrypted values and
//! opening them again; bulk updates row by row are in [`bulk`].

use std::sync::Arc;

use patron_domain::attribute::{AttributeRules, DefinitionInput, DefinitionSpec};
use patron_domain::ids::ObjectId;
use patron_domain::page::PageRequest;
use patron_store::{
    Actor, AttributeDefinition, AttributeStore, AttributeValue, Conflict, CustomerStore,
    CustomerValues, DefinitionFilter, Entity, StoreError, ValueWrite,
};
use serde::{Deserialize, Serialize};
use serde_json::Value;

mod bulk;

pub use bulk::{prepare_row, BulkOutcome, BulkRow, Reason, RowFailure};

use super::ServiceError;
use crate::clock::Clock;
use crate::secrets::SecretBox;

/// `{key: <definition slug>, value}`: one attribute of a bulk row.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct KeyValue {
    /// The definition's slug.
    pub key: Option<String>,
    /// The value, as sent.
    #[serde(default)]
    pub value: Value,
}

/// A definition with its compiled rules.
pub struct Checked {
    /// The stored definition.
    pub definition: AttributeDefinition,
    /// Its compiled rules.
    pub rules: AttributeRules,
}

impl Checked {
    /// Compiles the rules of a stored definition.
    pub fn new(definition: AttributeDefinition) -> Result<Self, ServiceError> {
        let rules = definition.spec.rules()?;
        Ok(Self { definition, rules })
    }

    /// Checks `value` and prepares it for the store as `customer_id`'s value (sealed, and
    /// bound to the customer and definition, when encrypted).
    pub fn prepare(
        &self,
        secrets: &SecretBox,
        field: &str,
        value: &Value,
        customer_id: &ObjectId,
        customer_overridden: bool,
    ) -> Result<ValueWrite, ServiceError> {
        let checked = self.rules.check(field, value)?;
        let text = checked.json.to_string();
        let stored = if self.rules.encrypted() {
            secrets.seal(
                &text,
                &value_binding(self.definition.id.as_str(), customer_id.as_str()),
            )
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

/// The error for a customer without a value of a definition.
fn value_not_found(definition_id: &ObjectId, customer_id: &ObjectId) -> StoreError {
    StoreError::not_found(
        Entity::AttributeValue,
        format!("of definition {definition_id} for customer {customer_id}"),
    )
}

/// What an encrypted value is bound to: its definition (and so its application) and its
/// customer.
pub fn value_binding<'a>(definition_id: &'a str, customer_id: &'a str) -> [&'a str; 3] {
    ["attribute value", definition_id, customer_id]
}

/// The plaintext JSON of a stored value.
fn open_value(secrets: &SecretBox, value: &AttributeValue) -> Result<Value, ServiceError> {
    let unreadable = |error: String| {
        ServiceError::Internal(format!(
            "attribute value {} is unreadable: {error}",
            value.id
        ))
    };
    let text = if value.encrypted {
        secrets
            .open(
                &value.stored,
                &value_binding(value.definition_id.as_str(), value.customer_id.as_str()),
            )
            .map_err(|error| unreadable(error.to_string()))?
    } else {
        value.stored.clone()
    };
    serde_json::from_str(&text).map_err(|error| unreadable(error.to_string()))
}

/// Attribute values and bulk updates.
#[derive(Clone)]
pub struct Attributes {
    store: Arc<dyn AttributeStore>,
    customers: Arc<dyn CustomerStore>,
    secrets: SecretBox,
    clock: Arc<dyn Clock>,
}

/// Pages of 100 customer-editable definitions read at most for a customer's own view.
const MAX_EDITABLE_PAGES: u32 = 10;

/// Attempts at a definition update that races another writer of it.
const UPDATE_ATTEMPTS: usize = 3;

/// A stored value with its plaintext.
#[derive(Debug, Clone)]
pub struct OpenedValue {
    /// The value as stored.
    pub stored: AttributeValue,
    /// Its JSON, opened when encrypted.
    pub plain: Value,
}

impl Attributes {
    /// Definitions and values kept in `store` for the customers of `customers`, encrypted
    /// values sealed by `secrets`.
    pub fn new(
        store: Arc<dyn AttributeStore>,
        customers: Arc<dyn CustomerStore>,
        secrets: SecretBox,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            store,
            customers,
            secrets,
            clock,
        }
    }

    /// Creates a definition on behalf of `author`.
    pub async fn create_definition(
        &self,
        application_id: &ObjectId,
        author: &str,
        input: DefinitionInput,
        is_locked: bool,
    ) -> Result<AttributeDefinition, ServiceError> {
        let now = self.clock.now();
        let definition = AttributeDefinition {
            id: ObjectId::generate(now),
            application_id: application_id.clone(),
            spec: DefinitionSpec::create(input)?,
            is_locked,
            created_by: author.to_owned(),
            updated_by: author.to_owned(),
            created_at: now,
            updated_at: now,
            version: 0,
        };
        self.store.create_definition(&definition).await?;
        Ok(definition)
    }

    /// One page of the application's definitions matching `filter`, and how many match.
    pub async fn list_definitions(
        &self,
        application_id: &ObjectId,
        filter: &DefinitionFilter,
        page: PageRequest,
    ) -> Result<(Vec<AttributeDefinition>, u64), ServiceError> {
        Ok(self
            .store
            .list_definitions(application_id, filter, page)
            .await?)
    }

    /// The definition `id`; `NotFound` when the application has none.
    pub async fn definition(
        &self,
        application_id: &ObjectId,
        id: &ObjectId,
    ) -> Result<AttributeDefinition, ServiceError> {
        Ok(self
            .store
            .find_definition(application_id, id)
            .await?
            .ok_or_else(|| StoreError::not_found(Entity::AttributeDefinition, id))?)
    }

    /// Applies `input` to an unlocked definition (its type, multiplicity and encryption
    /// stay); `lock` sets whether it is locked afterwards. Re-applied when another writer
    /// saved first.
    pub async fn update_definition(
        &self,
        application_id: &ObjectId,
        id: &ObjectId,
        author: &str,
        input: DefinitionInput,
        lock: Option<bool>,
    ) -> Result<AttributeDefinition, ServiceError> {
        for _ in 0..UPDATE_ATTEMPTS {
            let current = self.definition(application_id, id).await?;
            if current.is_locked {
                return Err(StoreError::Locked {
                    entity: Entity::AttributeDefinition,
                    id: id.to_string(),
                }
                .into());
            }
            let updated = AttributeDefinition {
                spec: current.spec.update(input.clone())?,
                is_locked: lock.unwrap_or(false),
                updated_by: author.to_owned(),
                updated_at: self.clock.now(),
                version: current.version + 1,
                ..current
            };
            match self.store.update_definition(&updated).await {
                Ok(()) => return Ok(updated),
                Err(StoreError::Conflict(Conflict::Version)) => continue,
                Err(other) => return Err(other.into()),
            }
        }
        Err(StoreError::Conflict(Conflict::Version).into())
    }

    /// Deletes a definition and every value of it, unless it is locked or group conditions
    /// use it.
    pub async fn delete_definition(
        &self,
        application_id: &ObjectId,
        id: &ObjectId,
    ) -> Result<(), ServiceError> {
        Ok(self.store.delete_definition(application_id, id).await?)
    }

    /// Sets a customer's value of one definition; true when it was created.
    pub async fn set_value(
        &self,
        application_id: &ObjectId,
        definition_id: &ObjectId,
        customer_id: &ObjectId,
        value: &Value,
        customer_overridden: bool,
        actor: &Actor,
    ) -> Result<(OpenedValue, bool), ServiceError> {
        let definition = Checked::new(self.definition(application_id, definition_id).await?)?;
        let write = definition.prepare(
            &self.secrets,
            "attribute.value",
            value,
            customer_id,
            customer_overridden,
        )?;
        let (stored, created) = self
            .store
            .upsert_value(application_id, customer_id, &write, actor, self.clock.now())
            .await?;
        Ok((self.open(stored)?, created))
    }

    /// A customer's value of one definition.
    pub async fn value(
        &self,
        application_id: &ObjectId,
        definition_id: &ObjectId,
        customer_id: &ObjectId,
    ) -> Result<OpenedValue, ServiceError> {
        let stored = self
            .store
            .find_value(application_id, definition_id, customer_id)
            .await?
            .ok_or_else(|| value_not_found(definition_id, customer_id))?;
        self.open(stored)
    }

    /// The value with this id.
    pub async fn value_by_id(
        &self,
        application_id: &ObjectId,
        id: &ObjectId,
    ) -> Result<OpenedValue, ServiceError> {
        let stored = self
            .store
            .find_value_by_id(application_id, id)
            .await?
            .ok_or_else(|| StoreError::not_found(Entity::AttributeValue, id))?;
        self.open(stored)
    }

    /// Removes a customer's value of one definition.
    pub async fn delete_value(
        &self,
        application_id: &ObjectId,
        definition_id: &ObjectId,
        customer_id: &ObjectId,
        actor: &Actor,
    ) -> Result<(), ServiceError> {
        let now = self.clock.now();
        match self
            .store
            .delete_value(application_id, definition_id, customer_id, actor, now)
            .await
        {
            Err(StoreError::NotFound {
                entity: Entity::AttributeValue,
                ..
            }) => Err(value_not_found(definition_id, customer_id).into()),
            other => Ok(other?),
        }
    }

    /// One page of a customer's values, and how many there are.
    pub async fn list_values(
        &self,
        application_id: &ObjectId,
        customer_id: &ObjectId,
        page: PageRequest,
    ) -> Result<(Vec<OpenedValue>, u64), ServiceError> {
        self.ensure_customer(application_id, customer_id).await?;
        let (values, total) = self
            .store
            .list_values(application_id, customer_id, page)
            .await?;
        let opened = values
            .into_iter()
            .map(|value| self.open(value))
            .collect::<Result<Vec<_>, _>>()?;
        Ok((opened, total))
    }

    /// One page of a customer's values, each with its definition (support staff read them
    /// by name), and how many there are.
    pub async fn labelled_values(
        &self,
        application_id: &ObjectId,
        customer_id: &ObjectId,
        page: PageRequest,
    ) -> Result<(Vec<(AttributeDefinition, OpenedValue)>, u64), ServiceError> {
        let (values, total) = self.list_values(application_id, customer_id, page).await?;
        let ids: Vec<ObjectId> = values
            .iter()
            .map(|value| value.stored.definition_id.clone())
            .collect();
        let definitions = self.store.find_definitions(application_id, &ids).await?;
        let labelled = values
            .into_iter()
            .filter_map(|value| {
                definitions
                    .iter()
                    .find(|definition| definition.id == value.stored.definition_id)
                    .map(|definition| (definition.clone(), value))
            })
            .collect();
        Ok((labelled, total))
    }

    /// Sets several values of one customer, addressed by definition id, all or none;
    /// returns them as stored. `field` names the list in errors.
    pub async fn set_values(
        &self,
        application_id: &ObjectId,
        customer_id: &ObjectId,
        field: &str,
        entries: &[(ObjectId, Value)],
        actor: &Actor,
    ) -> Result<Vec<OpenedValue>, ServiceError> {
        let ids: Vec<ObjectId> = entries.iter().map(|(id, _)| id.clone()).collect();
        let definitions = self.store.find_definitions(application_id, &ids).await?;
        let mut values = Vec::with_capacity(entries.len());
        for (index, (id, value)) in entries.iter().enumerate() {
            let definition = definitions
                .iter()
                .find(|definition| &definition.id == id)
                .cloned()
                .ok_or_else(|| {
                    ServiceError::invalid(
                        &format!("{field}[{index}].definition_id"),
                        format!("no attribute definition has the id {id}"),
                    )
                })?;
            values.push(Checked::new(definition)?.prepare(
                &self.secrets,
                &format!("{field}[{index}].value"),
                value,
                customer_id,
                false,
            )?);
        }
        self.write_values(application_id, customer_id, values, actor)
            .await
    }

    /// Writes checked values of one customer, all or none; returns them as stored.
    async fn write_values(
        &self,
        application_id: &ObjectId,
        customer_id: &ObjectId,
        values: Vec<ValueWrite>,
        actor: &Actor,
    ) -> Result<Vec<OpenedValue>, ServiceError> {
        let ids: Vec<ObjectId> = values.iter().map(|v| v.definition_id.clone()).collect();
        let refused = self
            .store
            .bulk_upsert_values(
                application_id,
                &[CustomerValues {
                    customer_id: customer_id.clone(),
                    values,
                }],
                actor,
                self.clock.now(),
                None,
            )
            .await?;
        if !refused.is_empty() {
            return Err(StoreError::not_found(Entity::Customer, customer_id).into());
        }
        let mut stored = Vec::with_capacity(ids.len());
        for id in &ids {
            if let Some(value) = self
                .store
                .find_value(application_id, id, customer_id)
                .await?
            {
                stored.push(self.open(value)?);
            }
        }
        Ok(stored)
    }

    /// The definitions customers may read and write themselves (`customer_editable`): the
    /// one with `slug` (an error naming it when there is none), else all of them.
    async fn customer_editable(
        &self,
        application_id: &ObjectId,
        slug: Option<&str>,
    ) -> Result<Vec<AttributeDefinition>, ServiceError> {
        let filter = DefinitionFilter {
            slug: slug.map(str::to_owned),
            customer_editable: Some(true),
            ..DefinitionFilter::default()
        };
        let mut definitions = Vec::new();
        for page in 1..=MAX_EDITABLE_PAGES {
            let page = PageRequest::parse(Some(&page.to_string()), Some("100"))?;
            let (found, total) = self
                .store
                .list_definitions(application_id, &filter, page)
                .await?;
            let done = found.is_empty();
            definitions.extend(found);
            if done || definitions.len() as u64 >= total {
                break;
            }
        }
        if let (Some(slug), true) = (slug, definitions.is_empty()) {
            return Err(ServiceError::invalid(
                "slug",
                format!("no attribute the customer may edit has the slug '{slug}'"),
            ));
        }
        Ok(definitions)
    }

    /// A customer's own view of their attributes: the values of customer-editable
    /// definitions (one of them with `slug`), by slug.
    pub async fn customer_view(
        &self,
        application_id: &ObjectId,
        customer_id: &ObjectId,
        slug: Option<&str>,
    ) -> Result<Vec<(String, Value)>, ServiceError> {
        let definitions = self.customer_editable(application_id, slug).await?;
        let ids: Vec<ObjectId> = definitions.iter().map(|d| d.id.clone()).collect();
        let values = self
            .values_of(application_id, std::slice::from_ref(customer_id), &ids)
            .await?;
        Ok(definitions
            .into_iter()
            .filter_map(|definition| {
                values
                    .iter()
                    .find(|value| value.stored.definition_id == definition.id)
                    .map(|value| (definition.spec.slug.clone(), value.plain.clone()))
            })
            .collect())
    }

    /// A customer sets their own values by slug, all or none: every slug must name a
    /// customer-editable definition and every value must fit it. Returns the values set.
    pub async fn customer_update(
        &self,
        application_id: &ObjectId,
        customer_id: &ObjectId,
        entries: &[(String, Value)],
        actor: &Actor,
    ) -> Result<Vec<(String, Value)>, ServiceError> {
        let slugs: Vec<String> = entries.iter().map(|(slug, _)| slug.clone()).collect();
        let definitions = self
            .store
            .find_definitions_by_slug(application_id, &slugs)
            .await?;
        let mut values = Vec::with_capacity(entries.len());
        for (slug, value) in entries {
            let field = format!("attributes.{slug}");
            let definition = definitions
                .iter()
                .find(|d| &d.spec.slug == slug && d.spec.customer_editable)
                .ok_or_else(|| {
                    ServiceError::invalid(&field, "is not an attribute the customer may edit")
                })?;
            values.push(Checked::new(definition.clone())?.prepare(
                &self.secrets,
                &field,
                value,
                customer_id,
                true,
            )?);
        }
        let stored = self
            .write_values(application_id, customer_id, values, actor)
            .await?;
        Ok(stored
            .into_iter()
            .filter_map(|value| {
                definitions
                    .iter()
                    .find(|d| d.id == value.stored.definition_id)
                    .map(|d| (d.spec.slug.clone(), value.plain))
            })
            .collect())
    }

    /// Removes a customer's values of the listed definitions.
    pub async fn delete_values(
        &self,
        application_id: &ObjectId,
        customer_id: &ObjectId,
        definition_ids: &[ObjectId],
        actor: &Actor,
    ) -> Result<(), ServiceError> {
        self.ensure_customer(application_id, customer_id).await?;
        self.store
            .delete_values(
                application_id,
                customer_id,
                definition_ids,
                actor,
                self.clock.now(),
            )
            .await?;
        Ok(())
    }

    /// The values of `definition_ids` that these customers have, opened.
    pub async fn values_of(
        &self,
        application_id: &ObjectId,
        customer_ids: &[ObjectId],
        definition_ids: &[ObjectId],
    ) -> Result<Vec<OpenedValue>, ServiceError> {
        self.store
            .values_of(application_id, customer_ids, definition_ids)
            .await?
            .into_iter()
            .map(|value| self.open(value))
            .collect()
    }

    /// `NotFound` unless the application has this live customer.
    async fn ensure_customer(
        &self,
        application_id: &ObjectId,
        customer_id: &ObjectId,
    ) -> Result<(), ServiceError> {
        match self
            .customers
            .find_customer(application_id, customer_id)
            .await?
        {
            Some(_) => Ok(()),
            None => Err(StoreError::not_found(Entity::Customer, customer_id).into()),
        }
    }

    /// A stored value with its plaintext.
    pub fn open(&self, stored: AttributeValue) -> Result<OpenedValue, ServiceError> {
        let plain = open_value(&self.secrets, &stored)?;
        Ok(OpenedValue { stored, plain })
    }

    /// The box encrypted values are sealed with.
    pub fn secrets(&self) -> &SecretBox {
        &self.secrets
    }

    /// The store of definitions and values.
    pub fn store(&self) -> &Arc<dyn AttributeStore> {
        &self.store
    }
}

//! Attribute definition and value bodies and responses, the attribute filter's request, and
//! a shopper's own attributes. Renamed fields are accepted in both spellings and emitted in
//! both (`multi_value`/`is_multi_value`, `customer_overriden`/`customer_overridden`).

use patron_domain::attribute::DefinitionInput;
use patron_domain::time::to_wire;
use patron_store::AttributeDefinition;

use patron_service::{BulkOutcome, BulkResult, OpenedValue, SubmittedJob};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{json, Map, Value};

/// `CreateUserAttributeDefinition` (create and update).
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub(crate) struct DefinitionBody {
    name: Option<String>,
    slug: Option<String>,
    description: Option<String>,
    #[serde(rename = "type")]
    attribute_type: Option<String>,
    multi_value: Option<bool>,
    is_multi_value: Option<bool>,
    customer_editable: Option<bool>,
    encrypted: Option<bool>,
    pinned: Option<bool>,
    pin_order: Option<i64>,
    #[serde(default, deserialize_with = "present")]
    default_value: Option<Value>,
    validations: Option<Vec<Value>>,
    pub(crate) is_locked: Option<bool>,
    icon: Option<String>,
    ordering_channels: Option<Vec<String>>,
    masking: Option<Toggle>,
    registration: Option<Toggle>,
}

/// `AttributeMaskingProperties` / `AttributeRegistrationProperties`.
#[derive(Debug, Deserialize, Serialize, utoipa::ToSchema)]
struct Toggle {
    #[serde(skip_serializing_if = "Option::is_none")]
    enabled: Option<bool>,
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    kind: Option<String>,
}

/// Keeps an explicit `null` as `Some(Null)` (absent stays `None`).
fn present<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Value>, D::Error> {
    Value::deserialize(deserializer).map(Some)
}

impl DefinitionBody {
    /// The domain's view of the body.
    pub(crate) fn into_input(self) -> DefinitionInput {
        let mut extras = Map::new();
        if let Some(icon) = self.icon {
            extras.insert("icon".to_owned(), json!(icon));
        }
        if let Some(channels) = self.ordering_channels {
            extras.insert("ordering_channels".to_owned(), json!(channels));
        }
        if let Some(masking) = self.masking {
            extras.insert("masking".to_owned(), json!(masking));
        }
        if let Some(registration) = self.registration {
            extras.insert("registration".to_owned(), json!(registration));
        }
        DefinitionInput {
            name: self.name,
            slug: self.slug,
            description: self.description,
            attribute_type: self.attribute_type,
            multi_value: self.is_multi_value.or(self.multi_value),
            customer_editable: self.customer_editable,
            encrypted: self.encrypted,
            pinned: self.pinned,
            pin_order: self.pin_order,
            default_value: self.default_value,
            validations: self.validations,
            extras,
        }
    }
}

/// `UserAttributeDefinition` / `UserAttributeDefinitionDetails`; the extra keys a client
/// stored (`icon`, `ordering_channels`, …) sit beside the fields.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct DefinitionOut {
    #[serde(rename = "_id")]
    id: String,
    name: String,
    slug: String,
    description: String,
    application_id: String,
    #[serde(rename = "type")]
    attribute_type: &'static str,
    multi_value: bool,
    is_multi_value: bool,
    customer_editable: bool,
    encrypted: bool,
    pinned: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pin_order: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    default_value: Option<Value>,
    validations: Vec<Value>,
    is_locked: bool,
    created_by: String,
    updated_by: String,
    created_at: String,
    modified_at: String,
    updated_at: String,
    #[serde(rename = "__v")]
    version: i64,
    #[serde(flatten)]
    #[schema(value_type = Object)]
    extras: Map<String, Value>,
}

impl From<&AttributeDefinition> for DefinitionOut {
    fn from(definition: &AttributeDefinition) -> Self {
        let spec = &definition.spec;
        Self {
            id: definition.id.to_string(),
            name: spec.name.clone(),
            slug: spec.slug.clone(),
            description: spec.description.clone(),
            application_id: definition.application_id.to_string(),
            attribute_type: spec.attribute_type.as_str(),
            multi_value: spec.multi_value,
            is_multi_value: spec.multi_value,
            customer_editable: spec.customer_editable,
            encrypted: spec.encrypted,
            pinned: spec.pinned,
            pin_order: spec.pin_order,
            default_value: spec.default_value.clone(),
            validations: spec.validations.clone(),
            is_locked: definition.is_locked,
            created_by: definition.created_by.clone(),
            updated_by: definition.updated_by.clone(),
            created_at: to_wire(definition.created_at),
            modified_at: to_wire(definition.updated_at),
            updated_at: to_wire(definition.updated_at),
            version: definition.version,
            extras: spec.extras.clone(),
        }
    }
}

/// `CreateUserAttribute` (value upsert): `attribute` is `{"value": …}`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub(crate) struct ValueBody {
    pub(crate) customer_overriden: Option<bool>,
    pub(crate) customer_overridden: Option<bool>,
    #[schema(value_type = Option<Object>)]
    pub(crate) attribute: Option<Map<String, Value>>,
}

/// `UserAttribute`, with its value opened (`value` is the plaintext JSON).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct ValueOut {
    #[serde(rename = "_id")]
    id: String,
    name: String,
    user_id: String,
    application_id: String,
    user_attribute_definition_id: String,
    #[serde(rename = "type")]
    attribute_type: String,
    customer_overriden: bool,
    customer_overridden: bool,
    attribute: ValueOfAttribute,
    updated_by: String,
    created_at: String,
    updated_at: String,
}

/// `{"value": …}`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
struct ValueOfAttribute {
    value: Value,
}

impl From<OpenedValue> for ValueOut {
    fn from(opened: OpenedValue) -> Self {
        let value = opened.stored;
        Self {
            id: value.id.to_string(),
            name: value.definition_name,
            user_id: value.customer_id.to_string(),
            application_id: value.application_id.to_string(),
            user_attribute_definition_id: value.definition_id.to_string(),
            attribute_type: value.definition_type,
            customer_overriden: value.customer_overridden,
            customer_overridden: value.customer_overridden,
            attribute: ValueOfAttribute {
                value: opened.plain,
            },
            updated_by: value.updated_by,
            created_at: to_wire(value.created_at),
            updated_at: to_wire(value.updated_at),
        }
    }
}

/// `{"success": true, "attributes": [UserAttribute]}`: values set several at once.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct ValuesSetOut {
    success: bool,
    attributes: Vec<ValueOut>,
}

impl From<Vec<OpenedValue>> for ValuesSetOut {
    fn from(values: Vec<OpenedValue>) -> Self {
        Self {
            success: true,
            attributes: values.into_iter().map(ValueOut::from).collect(),
        }
    }
}

/// `CreateBulkUserAttribute` (SDK `updateUserAttributes`).
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub(crate) struct UserAttributesBody {
    pub(crate) attributes: Option<Vec<DefinitionValue>>,
}

/// `BulkUserAttributeRequestBody`: a value addressed by definition id.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub(crate) struct DefinitionValue {
    pub(crate) definition_id: Option<String>,
    #[serde(default)]
    pub(crate) value: Value,
}

/// `DeleteBulkUserAttribute` (SDK `deleteUserAttributesInBulk`).
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub(crate) struct DeleteValuesBody {
    pub(crate) definition_ids: Option<Vec<String>>,
}

/// `BulkUpdateUserAttributesBody`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub(crate) struct BulkSameBody {
    pub(crate) users: Option<Vec<String>>,
    pub(crate) user_file_url: Option<String>,
    pub(crate) attribute: Option<Vec<KeyValue>>,
}

/// `BulkUpdatePerUserAttributesBody`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub(crate) struct BulkPerUserBody {
    pub(crate) user_detail_attributes: Option<Vec<UserAttributes>>,
}

/// `UserDetailAttributes`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub(crate) struct UserAttributes {
    pub(crate) user_id: Option<String>,
    pub(crate) attributes: Option<Vec<KeyValue>>,
}

/// `{key: <definition slug>, value}`: one attribute of a bulk row.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub(crate) struct KeyValue {
    /// The definition's slug.
    pub(crate) key: Option<String>,
    /// The value, as sent.
    #[serde(default)]
    pub(crate) value: serde_json::Value,
}

impl From<KeyValue> for patron_service::KeyValue {
    fn from(pair: KeyValue) -> Self {
        Self {
            key: pair.key,
            value: pair.value,
        }
    }
}

/// One refused row of a `BulkOperation`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct BulkErrorOut {
    user_id: String,
    error: String,
}

/// The seed's `BulkOperation` of a bulk update done within the request.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct BulkOperationOut {
    success: bool,
    total: u64,
    processed: u64,
    errors_count: usize,
    errors: Vec<BulkErrorOut>,
    processing_type: &'static str,
    error_summary: std::collections::BTreeMap<&'static str, u64>,
}

impl From<BulkOutcome> for BulkOperationOut {
    fn from(outcome: BulkOutcome) -> Self {
        let mut error_summary = std::collections::BTreeMap::new();
        for failure in &outcome.failures {
            *error_summary.entry(failure.reason.key()).or_default() += 1;
        }
        Self {
            success: true,
            total: outcome.total,
            processed: outcome.processed,
            errors_count: outcome.failures.len(),
            errors: outcome
                .failures
                .into_iter()
                .map(|f| BulkErrorOut {
                    user_id: f.user_id,
                    error: f.error,
                })
                .collect(),
            processing_type: "synchronous",
            error_summary,
        }
    }
}

/// The answer to a bulk update: done, or queued as a job.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(untagged)]
pub(crate) enum BulkAnswer {
    /// Done within the request.
    Done(BulkOperationOut),
    /// Stored as a job.
    Queued(QueuedOperationOut),
}

impl From<BulkResult> for BulkAnswer {
    fn from(result: BulkResult) -> Self {
        match result {
            BulkResult::Done(outcome) => BulkAnswer::Done(outcome.into()),
            BulkResult::Queued(job) => BulkAnswer::Queued(job.into()),
        }
    }
}

/// The seed's asynchronous `BulkOperation`: the update became a job.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct QueuedOperationOut {
    success: bool,
    processing_type: &'static str,
    request_id: String,
    job_id: String,
    total: usize,
}

impl From<SubmittedJob> for QueuedOperationOut {
    fn from(job: SubmittedJob) -> Self {
        Self {
            success: true,
            processing_type: "asynchronous",
            request_id: job.id.to_string(),
            job_id: job.id.to_string(),
            total: job.total,
        }
    }
}

/// `UserAttributeFilter`.
#[derive(Debug, Deserialize)]
pub(crate) struct FilterBody {
    pub(crate) query: Option<FilterQuery>,
}

/// `UserAttributeFilterQuery`.
#[derive(Debug, Deserialize)]
pub(crate) struct FilterQuery {
    #[serde(rename = "type")]
    pub(crate) combinator: Option<String>,
    pub(crate) limit: Option<u32>,
    pub(crate) page: Option<u32>,
    pub(crate) email: Option<String>,
    pub(crate) phone: Option<String>,
    pub(crate) definition_ids: Option<Vec<String>>,
    pub(crate) conditions: Option<Vec<FilterCondition>>,
}

/// `UserAttributeFilterRequestConditions`.
#[derive(Debug, Deserialize)]
pub(crate) struct FilterCondition {
    pub(crate) definition_id: Option<String>,
    #[serde(rename = "type")]
    pub(crate) operator: Option<String>,
    #[serde(default)]
    pub(crate) value: Value,
}

/// `UpdateUserAttributes`: values by slug.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub(crate) struct AttributesBody {
    #[schema(value_type = Option<Object>)]
    pub(crate) attributes: Option<Map<String, Value>>,
}

/// `UserAttributes`: values by slug.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct AttributesOut {
    #[schema(value_type = Object)]
    pub(crate) attributes: Map<String, Value>,
}

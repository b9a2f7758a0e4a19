//! Customer group bodies and `UserGroupResponseSchema`.

use patron_domain::time::to_wire;
use patron_store::{Group, GroupCondition};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// `CreateUserGroup` / `UpdateUserGroupSchema`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub(crate) struct GroupBody {
    #[schema(required = true)]
    pub(crate) name: Option<String>,
    #[schema(required = true)]
    pub(crate) description: Option<String>,
    #[serde(rename = "type")]
    pub(crate) kind: Option<String>,
    pub(crate) conditions: Option<Vec<ConditionIn>>,
    pub(crate) file_url: Option<String>,
    pub(crate) blacklisted_users: Option<Vec<String>>,
}

impl GroupBody {
    /// The definition as the use case reads it.
    pub(crate) fn draft(&self) -> patron_service::GroupDraft<'_> {
        patron_service::GroupDraft {
            name: self.name.clone(),
            description: self.description.clone(),
            kind: self.kind.as_deref(),
            conditions: self
                .conditions
                .as_ref()
                .map(|conditions| conditions.iter().map(ConditionIn::input).collect()),
            file_url: self.file_url.clone(),
            blacklisted_users: self.blacklisted_users.clone(),
        }
    }
}

/// `ConditionsSchema`: `value` may be any JSON type and is echoed as sent.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub(crate) struct ConditionIn {
    pub(crate) user_attribute_definition_id: Option<String>,
    #[serde(rename = "type")]
    pub(crate) operator: Option<String>,
    #[serde(default)]
    pub(crate) value: Value,
}

impl ConditionIn {
    /// The condition as the use case reads it.
    pub(crate) fn input(&self) -> patron_service::ConditionInput<'_> {
        patron_service::ConditionInput {
            definition_id: self.user_attribute_definition_id.as_deref(),
            operator: self.operator.as_deref(),
            value: &self.value,
        }
    }
}

/// `PartialUserGroupUpdateSchema`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub(crate) struct PatchGroupBody {
    #[serde(rename = "type")]
    pub(crate) source: Option<String>,
    pub(crate) name: Option<String>,
    pub(crate) description: Option<String>,
    pub(crate) file_url: Option<String>,
    pub(crate) user_data: Option<Vec<UserDataIn>>,
    pub(crate) whitelisted_users: Option<Vec<String>>,
    pub(crate) blacklisted_users: Option<Vec<String>>,
}

impl From<PatchGroupBody> for patron_service::GroupPatch {
    fn from(body: PatchGroupBody) -> Self {
        Self {
            source: body.source,
            name: body.name,
            description: body.description,
            file_url: body.file_url,
            user_data: body.user_data.map(|data| {
                data.into_iter()
                    .map(|item| patron_service::MemberEntry {
                        user_id: item.user_id,
                        phone_number: item.phone_number,
                        email: item.email,
                        action: item.action,
                    })
                    .collect()
            }),
            whitelisted_users: body.whitelisted_users,
            blacklisted_users: body.blacklisted_users,
        }
    }
}

/// `UserGroupUpdateData`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub(crate) struct UserDataIn {
    pub(crate) user_id: Option<String>,
    pub(crate) phone_number: Option<String>,
    pub(crate) email: Option<String>,
    pub(crate) action: Option<String>,
}

/// `UserGroupResponseSchema`; absent values are omitted, never null.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct GroupOut {
    #[serde(rename = "_id")]
    id: String,
    uid: i64,
    name: String,
    description: String,
    application_id: String,
    #[serde(rename = "type")]
    kind: &'static str,
    status: &'static str,
    is_active: bool,
    /// `{user_attribute_definition_id, type, value, key}` each.
    #[schema(value_type = Vec<Object>)]
    conditions: Vec<GroupCondition>,
    blacklisted_users: Vec<String>,
    tags: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    file_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<GroupErrorOut>,
    created_at: String,
    modified_at: String,
    #[serde(rename = "__v")]
    version: i64,
}

/// The refused rows of a bulk group's file: how many, and where the report is.
#[derive(Debug, Serialize, utoipa::ToSchema)]
struct GroupErrorOut {
    count: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    file_url: Option<String>,
}

impl From<&Group> for GroupOut {
    fn from(group: &Group) -> Self {
        Self {
            id: group.id.to_string(),
            uid: group.uid,
            name: group.name.clone(),
            description: group.description.clone(),
            application_id: group.application_id.to_string(),
            kind: group.kind.as_str(),
            status: group.status.as_str(),
            is_active: group.is_active,
            conditions: group.conditions.clone(),
            blacklisted_users: group.blacklisted.iter().map(ToString::to_string).collect(),
            tags: group.tags.clone(),
            file_url: group.file_url.clone(),
            error: group.error_count.map(|count| GroupErrorOut {
                count,
                file_url: group.error_file_url.clone(),
            }),
            created_at: to_wire(group.created_at),
            modified_at: to_wire(group.updated_at),
            version: group.version,
        }
    }
}

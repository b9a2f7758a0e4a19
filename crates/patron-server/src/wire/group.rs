//! Customer group bodies and `UserGroupResponseSchema`.

use patron_domain::time::to_wire;
use patron_store::Group;
use serde::Deserialize;
use serde_json::{json, Value};

/// `CreateUserGroup` / `UpdateUserGroupSchema`.
#[derive(Debug, Deserialize)]
pub(crate) struct GroupBody {
    pub(crate) name: Option<String>,
    pub(crate) description: Option<String>,
    #[serde(rename = "type")]
    pub(crate) kind: Option<String>,
    pub(crate) conditions: Option<Vec<ConditionIn>>,
    pub(crate) file_url: Option<String>,
    pub(crate) blacklisted_users: Option<Vec<String>>,
}

/// `ConditionsSchema`: `value` may be any JSON type and is echoed as sent.
#[derive(Debug, Deserialize)]
pub(crate) struct ConditionIn {
    pub(crate) user_attribute_definition_id: Option<String>,
    #[serde(rename = "type")]
    pub(crate) operator: Option<String>,
    #[serde(default)]
    pub(crate) value: Value,
}

impl ConditionIn {
    /// The condition as the use case reads it.
    pub(crate) fn input(&self) -> crate::service::ConditionInput<'_> {
        crate::service::ConditionInput {
            definition_id: self.user_attribute_definition_id.as_deref(),
            operator: self.operator.as_deref(),
            value: &self.value,
        }
    }
}

/// `PartialUserGroupUpdateSchema`.
#[derive(Debug, Deserialize)]
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

/// `UserGroupUpdateData`.
#[derive(Debug, Deserialize)]
pub(crate) struct UserDataIn {
    pub(crate) user_id: Option<String>,
    pub(crate) phone_number: Option<String>,
    pub(crate) email: Option<String>,
    pub(crate) action: Option<String>,
}

/// `UserGroupResponseSchema`; absent values are omitted, never null.
pub(crate) fn group_out(group: &Group) -> Value {
    let mut out = json!({
        "_id": group.id.as_str(),
        "uid": group.uid,
        "name": group.name,
        "description": group.description,
        "application_id": group.application_id.as_str(),
        "type": group.kind.as_str(),
        "status": group.status,
        "is_active": group.is_active,
        "conditions": group.conditions,
        "blacklisted_users": group.blacklisted.iter().map(|id| id.as_str()).collect::<Vec<_>>(),
        "tags": group.tags,
        "created_at": to_wire(group.created_at),
        "modified_at": to_wire(group.updated_at),
        "__v": group.version,
    });
    if let Some(url) = &group.file_url {
        out["file_url"] = json!(url);
    }
    if let Some(count) = group.error_count {
        let mut error = json!({ "count": count });
        if let Some(url) = &group.error_file_url {
            error["file_url"] = json!(url);
        }
        out["error"] = error;
    }
    out
}

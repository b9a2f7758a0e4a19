//! Records of customer attributes and groups.

use chrono::{DateTime, Utc};
use patron_domain::attribute::{DefinitionSpec, IndexEntry};
use patron_domain::ids::ObjectId;
use patron_domain::segment::Predicate;
use serde_json::Value;

/// A stored attribute definition.
#[derive(Debug, Clone, PartialEq)]
pub struct AttributeDefinition {
    /// 24-hex id.
    pub id: ObjectId,
    /// Owning application.
    pub application_id: ObjectId,
    /// The definition's content.
    pub spec: DefinitionSpec,
    /// A locked definition refuses update and delete.
    pub is_locked: bool,
    /// Who created it (platform client id).
    pub created_by: String,
    /// Who changed it last.
    pub updated_by: String,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
    /// Bumped on every change.
    pub version: i64,
}

/// Filters of the definition list; every `Some` must hold.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DefinitionFilter {
    /// Ids to leave out.
    pub excluding_ids: Vec<ObjectId>,
    /// Exact slug.
    pub slug: Option<String>,
    /// Exact type name.
    pub attribute_type: Option<String>,
    /// Customer-editable or not.
    pub customer_editable: Option<bool>,
    /// Encrypted or not.
    pub encrypted: Option<bool>,
    /// Pinned or not.
    pub pinned: Option<bool>,
    /// Exact pin order.
    pub pin_order: Option<i64>,
    /// Locked or not.
    pub is_locked: Option<bool>,
    /// Case-insensitive substring of the name (matched literally, never as a pattern).
    pub name: Option<String>,
}

/// A stored attribute value, with what responses show of its definition.
#[derive(Debug, Clone, PartialEq)]
pub struct AttributeValue {
    /// 24-hex id of the value record.
    pub id: ObjectId,
    /// Owning application.
    pub application_id: ObjectId,
    /// The definition.
    pub definition_id: ObjectId,
    /// The customer.
    pub customer_id: ObjectId,
    /// The value as stored: JSON text, or sealed text when `encrypted`.
    pub stored: String,
    /// Whether the customer set the value themselves.
    pub customer_overridden: bool,
    /// Who wrote it last.
    pub updated_by: String,
    /// First written.
    pub created_at: DateTime<Utc>,
    /// Last written.
    pub updated_at: DateTime<Utc>,
    /// The definition's name.
    pub definition_name: String,
    /// The definition's type name.
    pub definition_type: String,
    /// Whether `stored` is sealed.
    pub encrypted: bool,
}

/// One value to write for a customer.
#[derive(Debug, Clone, PartialEq)]
pub struct ValueWrite {
    /// The definition.
    pub definition_id: ObjectId,
    /// JSON text, or sealed text for encrypted definitions.
    pub stored: String,
    /// Index entries (empty for encrypted definitions).
    pub index: Vec<IndexEntry>,
    /// Whether the customer set the value themselves.
    pub customer_overridden: bool,
}

/// Values to write for one customer, all or none.
#[derive(Debug, Clone, PartialEq)]
pub struct CustomerValues {
    /// The customer.
    pub customer_id: ObjectId,
    /// Its values (at most one per definition).
    pub values: Vec<ValueWrite>,
}

/// How a group's membership is defined.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupKind {
    /// Members listed by files and PATCH operations.
    Bulk,
    /// Members are the customers whose attributes satisfy every condition.
    Conditional,
}

impl GroupKind {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            GroupKind::Bulk => "bulk",
            GroupKind::Conditional => "conditional",
        }
    }

    /// Parses a wire name.
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "bulk" => Some(GroupKind::Bulk),
            "conditional" => Some(GroupKind::Conditional),
            _ => None,
        }
    }
}

/// Where building a group's members stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupStatus {
    /// Its member file is still being applied.
    Pending,
    /// Its members are as defined.
    Completed,
    /// No row of its member file could be applied.
    Failed,
}

impl GroupStatus {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            GroupStatus::Pending => "pending",
            GroupStatus::Completed => "completed",
            GroupStatus::Failed => "failed",
        }
    }

    /// Parses a wire name.
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "pending" => Some(GroupStatus::Pending),
            "completed" => Some(GroupStatus::Completed),
            "failed" => Some(GroupStatus::Failed),
            _ => None,
        }
    }
}

/// A group condition as saved: the definition, the operator's name, the operand in the
/// JSON type the client sent, and the definition's slug.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct GroupCondition {
    /// The definition's id.
    #[serde(rename = "user_attribute_definition_id")]
    pub definition_id: String,
    /// The operator's name, e.g. `gte`.
    #[serde(rename = "type")]
    pub operator: String,
    /// The operand, as sent.
    pub value: Value,
    /// The definition's slug.
    #[serde(default)]
    pub key: String,
}

/// A stored customer group.
#[derive(Debug, Clone, PartialEq)]
pub struct Group {
    /// 24-hex id.
    pub id: ObjectId,
    /// Owning application.
    pub application_id: ObjectId,
    /// Per-application sequence number (what coupons and promotions reference).
    pub uid: i64,
    /// Name.
    pub name: String,
    /// Description.
    pub description: String,
    /// Bulk or conditional.
    pub kind: GroupKind,
    /// Where building its members stands.
    pub status: GroupStatus,
    /// Whether the group may be used for targeting.
    pub is_active: bool,
    /// Conditions as saved.
    pub conditions: Vec<GroupCondition>,
    /// The member file of a bulk group.
    pub file_url: Option<String>,
    /// Rows of the member file that could not be used.
    pub error_count: Option<i64>,
    /// Where the report of unusable rows is.
    pub error_file_url: Option<String>,
    /// Free tags.
    pub tags: Vec<String>,
    /// Up to [`Group::SHOWN_BLACKLIST`] blacklisted customers, as read (ignored on writes:
    /// the blacklist changes through [`MemberChanges`]).
    pub blacklisted: Vec<ObjectId>,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
    /// Bumped on every change.
    pub version: i64,
}

impl Group {
    /// Most blacklisted customers a read group carries.
    pub const SHOWN_BLACKLIST: usize = 1000;

    /// The definitions the conditions use.
    pub fn condition_definitions(&self) -> Vec<String> {
        let mut ids: Vec<String> = self
            .conditions
            .iter()
            .map(|condition| condition.definition_id.clone())
            .collect();
        ids.sort();
        ids.dedup();
        ids
    }
}

/// Filters of the group list; every `Some` must hold.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct GroupFilter {
    /// Case-insensitive substring of the name (matched literally).
    pub name: Option<String>,
    /// Exact type.
    pub kind: Option<String>,
    /// Exact status.
    pub status: Option<String>,
    /// Exact uid.
    pub uid: Option<i64>,
}

/// Changes to who is in a group, applied together. A customer blacklisted in the same
/// change is not whitelisted (the blacklist wins).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MemberChanges {
    /// Customers to list as members (bulk groups).
    pub add: Vec<ObjectId>,
    /// Customers to unlist.
    pub remove: Vec<ObjectId>,
    /// Customers always in the group.
    pub whitelist: Vec<ObjectId>,
    /// Customers never in the group.
    pub blacklist: Vec<ObjectId>,
}

impl MemberChanges {
    /// Whether nothing changes.
    pub fn is_empty(&self) -> bool {
        self.add.is_empty()
            && self.remove.is_empty()
            && self.whitelist.is_empty()
            && self.blacklist.is_empty()
    }
}

/// What makes a customer a member of a group, compiled for the store to query: the group's
/// overrides always apply, then its rule.
#[derive(Debug, Clone, PartialEq)]
pub struct Membership {
    /// The group.
    pub group_id: ObjectId,
    /// Its rule.
    pub rule: MembershipRule,
    /// Whether a condition's attribute holds lists, so that one customer may match several
    /// index rows (counting members then has to remove repeats).
    pub multi_valued: bool,
}

/// A group's own rule, before the white- and blacklist.
#[derive(Debug, Clone, PartialEq)]
pub enum MembershipRule {
    /// Customers listed in the group's members.
    Listed,
    /// Customers whose values of each definition satisfy its predicate.
    Conditions(Vec<(ObjectId, Predicate)>),
    /// Customers whose values satisfy at least one of the predicates.
    AnyCondition(Vec<(ObjectId, Predicate)>),
}

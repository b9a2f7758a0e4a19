//! SQL for attributes and groups: row types, and the translation of a group's membership
//! rule into a condition on the customer aliased `c` (the same semantics as
//! [`patron_domain::segment::Predicate::matches`]).

use patron_domain::attribute::{AttributeType, DefinitionSpec};
use patron_domain::ids::ObjectId;
use patron_domain::segment::{Comparison, Predicate, Test};
use patron_domain::time::from_millis;

use super::rows::json_column;
use super::{Dialect, SqlBuilder, SqlParam};
use crate::error::StoreError;
use crate::segments::{
    AttributeDefinition, AttributeValue, Group, GroupKind, GroupStatus, Membership, MembershipRule,
};

/// The definition columns, in [`DefinitionRow`] order.
pub(crate) const DEFINITION_COLUMNS: &str =
    "d.id, d.application_id, d.slug, d.name, d.description, d.type, d.multi_value, \
     d.customer_editable, d.encrypted, d.pinned, d.pin_order, d.default_value, d.validations, \
     d.extras, d.is_locked, d.created_by, d.updated_by, d.created_at, d.updated_at, d.version";

#[derive(sqlx::FromRow)]
pub(crate) struct DefinitionRow {
    id: String,
    application_id: String,
    slug: String,
    name: String,
    description: String,
    #[sqlx(rename = "type")]
    attribute_type: String,
    multi_value: bool,
    customer_editable: bool,
    encrypted: bool,
    pinned: bool,
    pin_order: Option<i64>,
    default_value: Option<String>,
    validations: String,
    extras: String,
    is_locked: bool,
    created_by: String,
    updated_by: String,
    created_at: i64,
    updated_at: i64,
    version: i64,
}

impl TryFrom<DefinitionRow> for AttributeDefinition {
    type Error = StoreError;

    fn try_from(row: DefinitionRow) -> Result<Self, StoreError> {
        const TABLE: &str = "attribute_definitions";
        let default_value = row
            .default_value
            .map(|text| json_column(TABLE, &row.id, "default_value", &text))
            .transpose()?;
        let validations = json_column(TABLE, &row.id, "validations", &row.validations)?;
        let extras = json_column(TABLE, &row.id, "extras", &row.extras)?;
        Ok(Self {
            id: ObjectId::from_trusted(row.id),
            application_id: ObjectId::from_trusted(row.application_id),
            spec: DefinitionSpec {
                name: row.name,
                slug: row.slug,
                description: row.description,
                attribute_type: AttributeType::parse("type", &row.attribute_type)?,
                multi_value: row.multi_value,
                customer_editable: row.customer_editable,
                encrypted: row.encrypted,
                pinned: row.pinned,
                pin_order: row.pin_order,
                default_value,
                validations,
                extras,
            },
            is_locked: row.is_locked,
            created_by: row.created_by,
            updated_by: row.updated_by,
            created_at: from_millis(row.created_at),
            updated_at: from_millis(row.updated_at),
            version: row.version,
        })
    }
}

/// The value columns joined with their definition (aliases `v`, `d`), in [`ValueRow`] order.
pub(crate) const VALUE_COLUMNS: &str =
    "v.id, v.application_id, v.definition_id, v.customer_id, v.value, v.customer_overridden, \
     v.updated_by, v.created_at, v.updated_at, d.name, d.type, d.encrypted";

#[derive(sqlx::FromRow)]
pub(crate) struct ValueRow {
    id: String,
    application_id: String,
    definition_id: String,
    customer_id: String,
    value: String,
    customer_overridden: bool,
    updated_by: String,
    created_at: i64,
    updated_at: i64,
    name: String,
    #[sqlx(rename = "type")]
    attribute_type: String,
    encrypted: bool,
}

impl From<ValueRow> for AttributeValue {
    fn from(row: ValueRow) -> Self {
        Self {
            id: ObjectId::from_trusted(row.id),
            application_id: ObjectId::from_trusted(row.application_id),
            definition_id: ObjectId::from_trusted(row.definition_id),
            customer_id: ObjectId::from_trusted(row.customer_id),
            stored: row.value,
            customer_overridden: row.customer_overridden,
            updated_by: row.updated_by,
            created_at: from_millis(row.created_at),
            updated_at: from_millis(row.updated_at),
            definition_name: row.name,
            definition_type: row.attribute_type,
            encrypted: row.encrypted,
        }
    }
}

/// The group columns, in [`GroupRow`] order.
pub(crate) const GROUP_COLUMNS: &str =
    "g.id, g.application_id, g.uid, g.name, g.description, g.type, g.status, g.is_active, \
     g.conditions, g.file_url, g.error_count, g.error_file_url, g.tags, g.created_at, \
     g.updated_at, g.version";

#[derive(sqlx::FromRow)]
pub(crate) struct GroupRow {
    id: String,
    application_id: String,
    uid: i64,
    name: String,
    description: String,
    #[sqlx(rename = "type")]
    kind: String,
    status: String,
    is_active: bool,
    conditions: String,
    file_url: Option<String>,
    error_count: Option<i64>,
    error_file_url: Option<String>,
    tags: String,
    created_at: i64,
    updated_at: i64,
    version: i64,
}

impl TryFrom<GroupRow> for Group {
    type Error = StoreError;

    fn try_from(row: GroupRow) -> Result<Self, StoreError> {
        const TABLE: &str = "customer_groups";
        let kind = GroupKind::parse(&row.kind)
            .ok_or_else(|| StoreError::corrupt(TABLE, &row.id, format!("type '{}'", row.kind)))?;
        let status = GroupStatus::parse(&row.status).ok_or_else(|| {
            StoreError::corrupt(TABLE, &row.id, format!("status '{}'", row.status))
        })?;
        let conditions = json_column(TABLE, &row.id, "conditions", &row.conditions)?;
        let tags = json_column(TABLE, &row.id, "tags", &row.tags)?;
        Ok(Self {
            id: ObjectId::from_trusted(row.id),
            application_id: ObjectId::from_trusted(row.application_id),
            uid: row.uid,
            name: row.name,
            description: row.description,
            kind,
            status,
            is_active: row.is_active,
            conditions,
            file_url: row.file_url,
            error_count: row.error_count,
            error_file_url: row.error_file_url,
            tags,
            blacklisted: Vec::new(),
            created_at: from_millis(row.created_at),
            updated_at: from_millis(row.updated_at),
            version: row.version,
        })
    }
}

/// Appends the condition "customer `c` is a member" for one known customer: every part is
/// an indexed `EXISTS` probe keyed by `c.id`.
pub(crate) fn push_membership(sql: &mut SqlBuilder, membership: &Membership, dialect: Dialect) {
    let group = || SqlParam::Text(membership.group_id.to_string());
    sql.push("NOT EXISTS (SELECT 1 FROM group_overrides o WHERE o.group_id = ")
        .bind(group())
        .push(" AND o.customer_id = c.id AND o.listed = 'black') AND (");
    push_rule_probe(sql, membership, dialect);
    sql.push(" OR EXISTS (SELECT 1 FROM group_overrides o WHERE o.group_id = ")
        .bind(group())
        .push(" AND o.customer_id = c.id AND o.listed = 'white'))");
}

/// Appends "customer `c` satisfies the group's own rule" (overrides aside), as probes.
fn push_rule_probe(sql: &mut SqlBuilder, membership: &Membership, dialect: Dialect) {
    match &membership.rule {
        MembershipRule::Listed => {
            sql.push("EXISTS (SELECT 1 FROM group_members m WHERE m.group_id = ")
                .bind(SqlParam::Text(membership.group_id.to_string()))
                .push(" AND m.customer_id = c.id)");
        }
        MembershipRule::Conditions(conditions) | MembershipRule::AnyCondition(conditions)
            if conditions.is_empty() =>
        {
            sql.push("1 = 0");
        }
        MembershipRule::Conditions(conditions) | MembershipRule::AnyCondition(conditions) => {
            let joiner = if matches!(membership.rule, MembershipRule::Conditions(_)) {
                " AND "
            } else {
                " OR "
            };
            sql.push("(");
            for (index, (definition_id, predicate)) in conditions.iter().enumerate() {
                if index > 0 {
                    sql.push(joiner);
                }
                push_probe(sql, definition_id, predicate, dialect);
            }
            sql.push(")");
        }
    }
}

/// Appends a query of one number: how many live members the group has. Where no customer
/// can match twice (listed groups, and conditions on single-valued attributes) this counts
/// the rule's rows as they are and adds the whitelisted customers the rule leaves out,
/// instead of removing repeats from the whole member set.
pub(crate) fn push_member_count(sql: &mut SqlBuilder, membership: &Membership, dialect: Dialect) {
    let direct = match &membership.rule {
        MembershipRule::Listed => true,
        MembershipRule::Conditions(_) => !membership.multi_valued,
        MembershipRule::AnyCondition(_) => false,
    };
    if !direct {
        sql.push("SELECT COUNT(*) FROM (");
        push_member_ids(sql, membership, dialect);
        sql.push(") members");
        return;
    }
    sql.push("SELECT (SELECT COUNT(*) FROM (");
    push_rule_ids(sql, membership, dialect);
    sql.push(
        ") r) + (SELECT COUNT(*) FROM group_overrides w JOIN customers c ON c.id = w.customer_id \
         WHERE w.group_id = ",
    )
    .bind(SqlParam::Text(membership.group_id.to_string()))
    .push(" AND w.listed = 'white' AND c.archived = FALSE AND NOT ");
    push_rule_probe(sql, membership, dialect);
    sql.push(")");
}

/// `(EXISTS a matching element)`, or for a negated predicate `(EXISTS an element AND NOT
/// EXISTS a matching one)`, for customer `c`.
fn push_probe(
    sql: &mut SqlBuilder,
    definition_id: &ObjectId,
    predicate: &Predicate,
    dialect: Dialect,
) {
    let open = |sql: &mut SqlBuilder| {
        sql.push("EXISTS (SELECT 1 FROM attribute_index i WHERE i.definition_id = ")
            .bind(SqlParam::Text(definition_id.to_string()))
            .push(" AND i.customer_id = c.id");
    };
    // The fence keeps PostgreSQL from turning the probe into a hashed set of every
    // matching customer (measured: 95 ms to build it for one page of ten).
    let fence = dialect.subquery_fence();
    sql.push("(");
    if predicate.negated {
        open(sql);
        sql.push(fence).push(") AND NOT ");
    }
    open(sql);
    sql.push(" AND ");
    push_test(sql, "i", &predicate.test, dialect);
    sql.push(fence).push("))");
}

/// Appends a query of the ids (column `customer_id`, each once) of the group's live members,
/// driven by the group's own lists and indexes rather than a walk over every customer: a
/// listed group reads its member list; a conditional group range-scans the index of its
/// first positive condition (whose rows carry the customer's archived flag) and checks the
/// other conditions against sets built once per query. The whitelist is added, the
/// blacklist taken out.
pub(crate) fn push_member_ids(sql: &mut SqlBuilder, membership: &Membership, dialect: Dialect) {
    push_rule_ids(sql, membership, dialect);
    sql.push(
        " UNION SELECT w.customer_id AS customer_id FROM group_overrides w JOIN customers c ON \
         c.id = w.customer_id WHERE w.group_id = ",
    )
    .bind(SqlParam::Text(membership.group_id.to_string()))
    .push(" AND w.listed = 'white' AND c.archived = FALSE");
}

/// The ids of live customers satisfying the group's own rule and not blacklisted (a
/// customer may appear more than once when an attribute holds lists).
fn push_rule_ids(sql: &mut SqlBuilder, membership: &Membership, dialect: Dialect) {
    let group = || SqlParam::Text(membership.group_id.to_string());
    let blacklist = |sql: &mut SqlBuilder, column: &str| {
        sql.push(&format!(
            " AND {column} NOT IN (SELECT b.customer_id FROM group_overrides b WHERE b.group_id = "
        ))
        .bind(group())
        .push(" AND b.listed = 'black')");
    };
    match &membership.rule {
        MembershipRule::Listed => {
            sql.push(
                "SELECT m.customer_id AS customer_id FROM group_members m JOIN customers c ON c.id \
                 = m.customer_id WHERE m.group_id = ",
            )
            .bind(group())
            .push(" AND c.archived = FALSE");
            blacklist(sql, "m.customer_id");
        }
        MembershipRule::Conditions(conditions) => {
            push_all_of(sql, conditions, dialect);
            blacklist(sql, "i.customer_id");
        }
        MembershipRule::AnyCondition(conditions) if conditions.is_empty() => {
            sql.push("SELECT c.id AS customer_id FROM customers c WHERE 1 = 0");
        }
        MembershipRule::AnyCondition(conditions) => {
            for (index, condition) in conditions.iter().enumerate() {
                if index > 0 {
                    sql.push(" UNION ");
                }
                push_all_of(sql, std::slice::from_ref(condition), dialect);
                blacklist(sql, "i.customer_id");
            }
        }
    }
}

/// `SELECT i.customer_id … WHERE …` for customers satisfying every condition: the index of
/// the first positive condition drives, the others are sets checked per row.
fn push_all_of(sql: &mut SqlBuilder, conditions: &[(ObjectId, Predicate)], dialect: Dialect) {
    let driver = conditions
        .iter()
        .position(|(_, predicate)| !predicate.negated)
        .unwrap_or(0);
    let Some((definition_id, predicate)) = conditions.get(driver) else {
        sql.push("SELECT i.customer_id AS customer_id FROM attribute_index i WHERE 1 = 0");
        return;
    };
    sql.push("SELECT i.customer_id AS customer_id FROM attribute_index i WHERE i.definition_id = ")
        .bind(SqlParam::Text(definition_id.to_string()))
        .push(" AND i.archived = FALSE");
    if predicate.negated {
        push_set(sql, false, definition_id, Some(&predicate.test), dialect);
    } else {
        sql.push(" AND ");
        push_test(sql, "i", &predicate.test, dialect);
    }
    for (index, (definition_id, predicate)) in conditions.iter().enumerate() {
        if index == driver {
            continue;
        }
        if predicate.negated {
            push_set(sql, true, definition_id, None, dialect);
            push_set(sql, false, definition_id, Some(&predicate.test), dialect);
        } else {
            push_set(sql, true, definition_id, Some(&predicate.test), dialect);
        }
    }
}

/// ` AND i.customer_id [NOT] IN (ids with an element of the definition [passing test])`.
fn push_set(
    sql: &mut SqlBuilder,
    inside: bool,
    definition_id: &ObjectId,
    test: Option<&Test>,
    dialect: Dialect,
) {
    sql.push(if inside {
        " AND i.customer_id IN ("
    } else {
        " AND i.customer_id NOT IN ("
    });
    sql.push("SELECT x.customer_id FROM attribute_index x WHERE x.definition_id = ")
        .bind(SqlParam::Text(definition_id.to_string()));
    if inside {
        sql.push(" AND x.archived = FALSE");
    }
    if let Some(test) = test {
        sql.push(" AND ");
        push_test(sql, "x", test, dialect);
    }
    sql.push(")");
}

/// The SQL of one element test on index row alias `row`.
fn push_test(sql: &mut SqlBuilder, row: &str, test: &Test, dialect: Dialect) {
    let text = |value: &str| SqlParam::Text(value.to_owned());
    let num = format!("{row}.num");
    let txt = format!("{row}.txt");
    match test {
        Test::Compare(comparison, value) => {
            let operator = match comparison {
                Comparison::Equal => " = ",
                Comparison::Greater => " > ",
                Comparison::Less => " < ",
                Comparison::GreaterOrEqual => " >= ",
                Comparison::LessOrEqual => " <= ",
            };
            sql.push(&num).push(operator).bind(SqlParam::Float(*value));
        }
        Test::Between(low, high) => {
            sql.push(&num).push(" >= ").bind(SqlParam::Float(*low));
            sql.push(" AND ")
                .push(&num)
                .push(" <= ")
                .bind(SqlParam::Float(*high));
        }
        Test::NumberIn(values) => {
            sql.push(&num).push(" IN (");
            for (index, value) in values.iter().enumerate() {
                if index > 0 {
                    sql.push(", ");
                }
                sql.bind(SqlParam::Float(*value));
            }
            sql.push(")");
        }
        Test::TextEquals(value) => {
            sql.push(&txt).push(" = ").bind(text(value));
        }
        Test::TextContains(value) => {
            sql.push(dialect.substring_position());
            sql.push(&txt).push(", ").bind(text(value)).push(") > 0");
        }
        Test::TextStartsWith(value) => {
            sql.push("substr(")
                .push(&txt)
                .push(", 1, length(")
                .bind(text(value))
                .push(")) = ")
                .bind(text(value));
        }
        Test::TextEndsWith(value) => {
            sql.push("length(")
                .push(&txt)
                .push(") >= length(")
                .bind(text(value))
                .push(")");
            sql.push(" AND substr(")
                .push(&txt)
                .push(", length(")
                .push(&txt)
                .push(") - length(")
                .bind(text(value));
            sql.push(") + 1) = ").bind(text(value));
        }
        Test::TextIn(values) => {
            sql.push(&txt)
                .push(" IN (")
                .bind_list(values.iter().map(String::as_str))
                .push(")");
        }
    }
}

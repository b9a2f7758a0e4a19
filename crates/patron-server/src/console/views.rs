//! What the console's templates show, built from the use cases' records: plain strings,
//! already formatted, so the templates hold no logic beyond loops and conditions.

use chrono::{DateTime, Utc};
use patron_domain::customer::Customer;
use patron_domain::page::PageInfo;
use patron_store::{Application, AttributeDefinition, Group, GroupKind, Session};
use serde::Serialize;
use serde_json::Value;

/// The frame around every signed-in page.
#[derive(Debug, Serialize)]
pub(crate) struct Frame {
    /// The operator's company.
    pub(crate) company_id: String,
    /// The platform client signed in as.
    pub(crate) client_id: String,
    /// The application worked in, when one is chosen.
    pub(crate) application: Option<AppLink>,
    /// The navigation entry to highlight.
    pub(crate) section: &'static str,
    /// The token every form posts back.
    pub(crate) form_token: String,
}

/// An application and the path of its pages.
#[derive(Debug, Serialize)]
pub(crate) struct AppLink {
    id: String,
    name: String,
    base: String,
    created: String,
}

impl From<&Application> for AppLink {
    fn from(application: &Application) -> Self {
        Self {
            id: application.id.to_string(),
            name: application.name.clone(),
            base: format!("/console/apps/{}", application.id),
            created: day(application.created_at),
        }
    }
}

/// `2026-12-03 17:19 UTC`.
pub(crate) fn moment(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M UTC").to_string()
}

/// `2026-12-03`.
pub(crate) fn day(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d").to_string()
}

/// A customer as a row of a table.
#[derive(Debug, Serialize)]
pub(crate) struct CustomerRow {
    id: String,
    name: String,
    email: String,
    phone: String,
    status: &'static str,
    created: String,
}

/// A customer's state in one word: archived, deletion pending, blocked or active.
pub(crate) fn status_of(customer: &Customer) -> &'static str {
    if customer.archived {
        "archived"
    } else if customer.deletion.is_some() {
        "deleting"
    } else if !customer.active {
        "blocked"
    } else {
        "active"
    }
}

/// The customer's name, or `(no name)`.
pub(crate) fn name_of(customer: &Customer) -> String {
    let parts: Vec<&str> = [&customer.profile.first_name, &customer.profile.last_name]
        .into_iter()
        .filter_map(|part| part.as_deref())
        .map(str::trim)
        .filter(|part| !part.is_empty())
        .collect();
    if parts.is_empty() {
        "(no name)".to_owned()
    } else {
        parts.join(" ")
    }
}

impl From<&Customer> for CustomerRow {
    fn from(customer: &Customer) -> Self {
        Self {
            id: customer.id.to_string(),
            name: name_of(customer),
            email: customer
                .emails
                .first()
                .map(|entry| entry.email.as_str().to_owned())
                .unwrap_or_default(),
            phone: customer
                .phones
                .first()
                .map(|entry| entry.phone.to_string())
                .unwrap_or_default(),
            status: status_of(customer),
            created: day(customer.created_at),
        }
    }
}

/// One contact (email or phone) of a customer.
#[derive(Debug, Serialize)]
pub(crate) struct ContactView {
    kind: &'static str,
    value: String,
    primary: bool,
    verified: bool,
    active: bool,
}

/// A customer's contacts, emails first.
pub(crate) fn contacts_of(customer: &Customer) -> Vec<ContactView> {
    let emails = customer.emails.iter().map(|entry| ContactView {
        kind: "Email",
        value: entry.email.as_str().to_owned(),
        primary: entry.primary,
        verified: entry.verified,
        active: entry.active,
    });
    let phones = customer.phones.iter().map(|entry| ContactView {
        kind: "Phone",
        value: entry.phone.to_string(),
        primary: entry.primary,
        verified: entry.verified,
        active: entry.active,
    });
    emails.chain(phones).collect()
}

/// The profile fields of a customer, as label and value.
pub(crate) fn profile_of(customer: &Customer) -> Vec<(&'static str, String)> {
    let profile = &customer.profile;
    let text = |value: &Option<String>| value.clone().unwrap_or_default();
    vec![
        ("Username", customer.username.clone()),
        ("First name", text(&profile.first_name)),
        ("Last name", text(&profile.last_name)),
        ("Gender", text(&profile.gender)),
        ("Date of birth", text(&profile.dob)),
        ("External id", text(&profile.external_id)),
        ("Created", moment(customer.created_at)),
        ("Updated", moment(customer.updated_at)),
        (
            "Deletion",
            customer
                .deletion
                .map(|deletion| format!("requested; takes effect {}", moment(deletion.purge_at)))
                .unwrap_or_default(),
        ),
    ]
}

/// A signed-in session of a customer.
#[derive(Debug, Serialize)]
pub(crate) struct SessionView {
    id: String,
    started: String,
    expires: String,
    ip: String,
    user_agent: String,
    domain: String,
}

impl From<&Session> for SessionView {
    fn from(session: &Session) -> Self {
        Self {
            id: session.id.to_string(),
            started: moment(session.created_at),
            expires: moment(session.expires_at),
            ip: session.ip.clone(),
            user_agent: session.user_agent.clone(),
            domain: session.domain.clone(),
        }
    }
}

/// A JSON value as an operator reads it: strings bare, the rest as JSON.
pub(crate) fn shown(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// An attribute definition as a row of a table.
#[derive(Debug, Serialize)]
pub(crate) struct DefinitionView {
    pub(crate) id: String,
    pub(crate) name: String,
    slug: String,
    kind: String,
    multi_value: bool,
    customer_editable: bool,
    encrypted: bool,
    locked: bool,
    description: String,
}

impl From<&AttributeDefinition> for DefinitionView {
    fn from(definition: &AttributeDefinition) -> Self {
        let spec = &definition.spec;
        Self {
            id: definition.id.to_string(),
            name: spec.name.clone(),
            slug: spec.slug.clone(),
            kind: spec.attribute_type.as_str().to_owned(),
            multi_value: spec.multi_value,
            customer_editable: spec.customer_editable,
            encrypted: spec.encrypted,
            locked: definition.is_locked,
            description: spec.description.clone(),
        }
    }
}

/// A group as a row of a table, or the head of its page.
#[derive(Debug, Serialize)]
pub(crate) struct GroupView {
    id: String,
    name: String,
    description: String,
    kind: &'static str,
    active: bool,
    conditions: Vec<String>,
    created: String,
}

impl From<&Group> for GroupView {
    fn from(group: &Group) -> Self {
        Self {
            id: group.id.to_string(),
            name: group.name.clone(),
            description: group.description.clone(),
            kind: match group.kind {
                GroupKind::Conditional => "conditional",
                GroupKind::Bulk => "bulk",
            },
            active: group.is_active,
            conditions: group
                .conditions
                .iter()
                .map(|condition| {
                    format!(
                        "{} {} {}",
                        condition.key,
                        condition.operator,
                        shown(&condition.value)
                    )
                })
                .collect(),
            created: day(group.created_at),
        }
    }
}

/// Where a paged table is and the links to its neighbours.
#[derive(Debug, Serialize)]
pub(crate) struct Pager {
    current: u32,
    last: u64,
    total: u64,
    previous: Option<String>,
    next: Option<String>,
}

impl Pager {
    /// The pager of `info`, its links made by `link(page_no)`.
    pub(crate) fn new(info: &PageInfo, link: impl Fn(u32) -> String) -> Self {
        let size = u64::from(info.size.max(1));
        let last = info.item_total.div_ceil(size).max(1);
        // Past the end (a stale link), "previous" leads back to the last page.
        let previous = u64::from(info.current).saturating_sub(1).min(last);
        Self {
            current: info.current,
            last,
            total: info.item_total,
            previous: (previous >= 1).then(|| link(u32::try_from(previous).unwrap_or(u32::MAX))),
            next: info.has_next.then(|| link(info.current + 1)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(current: u32, item_total: u64) -> PageInfo {
        PageInfo {
            current,
            size: 20,
            item_total,
            has_next: u64::from(current) * 20 < item_total,
        }
    }

    #[test]
    fn the_pager_links_its_neighbours_and_leads_back_from_past_the_end() {
        let link = |n: u32| format!("?page_no={n}");
        let first = Pager::new(&info(1, 45), link);
        assert_eq!(
            (first.last, first.previous.as_deref(), first.next.as_deref()),
            (3, None, Some("?page_no=2"))
        );
        let middle = Pager::new(&info(2, 45), link);
        assert_eq!(
            (middle.previous.as_deref(), middle.next.as_deref()),
            (Some("?page_no=1"), Some("?page_no=3"))
        );
        let last = Pager::new(&info(3, 45), link);
        assert_eq!(last.next, None);
        let beyond = Pager::new(&info(9, 45), link);
        assert_eq!(
            (beyond.previous.as_deref(), beyond.next),
            (Some("?page_no=3"), None)
        );
        let empty = Pager::new(&info(1, 0), link);
        assert_eq!(
            (empty.last, empty.total, empty.previous, empty.next),
            (1, 0, None, None)
        );
    }
}

//! Customers: search (plain text or the `q` language), a customer's page, and the support
//! actions on it (block, unblock, archive, restore, end sessions), each with a reason.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use patron_domain::ids::ObjectId;
use patron_domain::page::PageRequest;
use patron_domain::query::parse_query;
use patron_domain::scope::Scope;
use serde::Serialize;

use super::render::page_with_status;
use super::views::{self, ContactView, CustomerRow, DefinitionView, Pager, SessionView};
use super::{page, redirect, Console, ConsoleError, Form, Notice};
use crate::app::AppState;
use crate::error::ApiError;
use crate::extract::QueryPairs;

/// Customers per page of the list.
const PAGE_SIZE: &str = "20";

#[derive(Serialize)]
struct ListPage {
    frame: views::Frame,
    q: String,
    customers: Vec<CustomerRow>,
    pager: Option<Pager>,
}

/// The customer list, newest first, filtered by `q` (text or the `q` language).
pub(crate) async fn list(
    State(state): State<AppState>,
    console: Console,
    query: QueryPairs,
) -> Result<Response, ConsoleError> {
    console.operator.require(Scope::CustomersRead)?;
    let q = query.get("q").unwrap_or_default().trim().to_owned();
    let frame = console.frame("customers");
    let outcome = async {
        let page = PageRequest::parse(query.get("page_no"), Some(PAGE_SIZE))?;
        let filter = parse_query(&q, console.application.default_region)?;
        let (customers, total) = state
            .services
            .customers
            .list(&console.application.id, filter.as_ref(), page)
            .await?;
        Ok::<_, ConsoleError>((customers, page.info(total)))
    }
    .await;
    match outcome {
        Ok((customers, info)) => {
            let pager = console.pager("customers", &[("q", q.as_str())], &info);
            page(
                "customers.html",
                &ListPage {
                    frame,
                    q,
                    customers: customers.iter().map(CustomerRow::from).collect(),
                    pager: Some(pager),
                },
                Notice::None,
            )
        }
        Err(error) => {
            let (status, notice) = Notice::from_error(error)?;
            page_with_status(
                status,
                "customers.html",
                &ListPage {
                    frame,
                    q,
                    customers: Vec::new(),
                    pager: None,
                },
                notice,
            )
        }
    }
}

#[derive(Serialize)]
struct CustomerPage {
    frame: views::Frame,
    id: String,
    name: String,
    status: &'static str,
    profile: Vec<(&'static str, String)>,
    contacts: Vec<ContactView>,
    attributes: Vec<(DefinitionView, String)>,
    attributes_total: u64,
    sessions: Vec<SessionView>,
    timeline: Vec<(String, String, String)>,
    can_write: bool,
}

/// A customer's page: profile, contacts, attributes, sessions and timeline.
pub(crate) async fn show(
    State(state): State<AppState>,
    console: Console,
    Path((_, customer_id)): Path<(String, String)>,
    query: QueryPairs,
) -> Result<Response, ConsoleError> {
    console.operator.require(Scope::CustomersRead)?;
    let notice = query
        .get("done")
        .and_then(Action::parse)
        .map_or(Notice::None, |action| {
            Notice::Done(action.done().to_owned())
        });
    let id = ObjectId::parse("customer_id", &customer_id)?;
    customer_page(&state, &console, &id, StatusCode::OK, notice).await
}

async fn customer_page(
    state: &AppState,
    console: &Console,
    id: &ObjectId,
    status: StatusCode,
    notice: Notice,
) -> Result<Response, ConsoleError> {
    let application_id = &console.application.id;
    let services = &state.services;
    let customer = services.customers.find(application_id, id).await?;
    let (values, attributes_total) = services
        .attributes
        .labelled_values(application_id, id, PageRequest::parse(None, Some("100"))?)
        .await?;
    let attributes = values
        .iter()
        .map(|(definition, value)| (DefinitionView::from(definition), views::shown(&value.plain)))
        .collect();
    let sessions = services.sessions.list(application_id, id).await?;
    let timeline = services.customers.timeline(application_id, id).await?;
    let data = CustomerPage {
        frame: console.frame("customers"),
        id: customer.id.to_string(),
        name: views::name_of(&customer),
        status: views::status_of(&customer),
        profile: views::profile_of(&customer),
        contacts: views::contacts_of(&customer),
        attributes,
        attributes_total,
        sessions: sessions.iter().map(SessionView::from).collect(),
        timeline: timeline
            .entries
            .into_iter()
            .filter(|(_, entry)| entry.visible)
            .map(|(at, entry)| {
                (
                    views::moment(at),
                    entry.title,
                    entry.sub_title.unwrap_or_default(),
                )
            })
            .collect(),
        can_write: console.operator.may(Scope::CustomersWrite),
    };
    page_with_status(status, "customer.html", &data, notice)
}

/// What support staff can do to a customer from their page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Action {
    Block,
    Unblock,
    Archive,
    Restore,
    EndSessions,
    EndSession,
}

impl Action {
    fn parse(name: &str) -> Option<Self> {
        Some(match name {
            "block" => Self::Block,
            "unblock" => Self::Unblock,
            "archive" => Self::Archive,
            "restore" => Self::Restore,
            "end-sessions" => Self::EndSessions,
            "end-session" => Self::EndSession,
            _ => return None,
        })
    }

    fn name(self) -> &'static str {
        match self {
            Self::Block => "block",
            Self::Unblock => "unblock",
            Self::Archive => "archive",
            Self::Restore => "restore",
            Self::EndSessions => "end-sessions",
            Self::EndSession => "end-session",
        }
    }

    /// What the page says once it is done.
    fn done(self) -> &'static str {
        match self {
            Self::Block => "The customer is blocked: they cannot sign in.",
            Self::Unblock => "The customer is unblocked.",
            Self::Archive => "The customer is archived.",
            Self::Restore => "The customer is restored.",
            Self::EndSessions => "Every session of the customer has ended.",
            Self::EndSession => "The session has ended.",
        }
    }

    /// Whether the action must say why (it is recorded in the timeline).
    fn needs_reason(self) -> bool {
        matches!(
            self,
            Self::Block | Self::Unblock | Self::Archive | Self::Restore
        )
    }
}

/// Performs an action on a customer, then shows their page again.
pub(crate) async fn act(
    State(state): State<AppState>,
    console: Console,
    Path((_, customer_id, action)): Path<(String, String, String)>,
    form: Form,
) -> Result<Response, ConsoleError> {
    console.operator.check_form(&form)?;
    console.operator.require(Scope::CustomersWrite)?;
    let action = Action::parse(&action)
        .ok_or_else(|| ApiError::validation("action", format!("unknown action '{action}'")))?;
    let id = ObjectId::parse("customer_id", &customer_id)?;
    match perform(&state, &console, &id, action, &form).await {
        Ok(()) => Ok(redirect(&format!(
            "{}?done={}",
            console.path(&format!("customers/{id}")),
            action.name()
        ))),
        Err(error) => {
            let (status, notice) = Notice::from_error(error)?;
            customer_page(&state, &console, &id, status, notice).await
        }
    }
}

async fn perform(
    state: &AppState,
    console: &Console,
    id: &ObjectId,
    action: Action,
    form: &Form,
) -> Result<(), ConsoleError> {
    let application_id = &console.application.id;
    let customers = &state.services.customers;
    let mut actor = console.operator.actor();
    if action.needs_reason() {
        let reason = form.required("reason", "reason")?;
        patron_domain::customer::validate_text("reason", &reason)?;
        actor = actor.with_reason(reason, None);
    }
    match action {
        Action::Block | Action::Unblock => {
            customers
                .set_active(
                    application_id,
                    std::slice::from_ref(id),
                    action == Action::Unblock,
                    &actor,
                )
                .await?
        }
        Action::Archive => customers.archive(application_id, id, &actor).await?,
        Action::Restore => customers.restore(application_id, id, &actor).await?,
        Action::EndSessions => {
            state
                .services
                .sessions
                .end_all(application_id, id, &actor)
                .await?;
        }
        Action::EndSession => {
            let session = ObjectId::parse("session_id", &form.required("session_id", "session")?)?;
            state
                .services
                .sessions
                .end(application_id, id, &session, &actor)
                .await?
        }
    }
    Ok(())
}

//! Groups: the list, creating a conditional group, and a group's members and size.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use patron_domain::ids::ObjectId;
use patron_domain::page::PageRequest;
use patron_domain::scope::Scope;
use patron_domain::segment::{operand_from_text, Operator};
use patron_store::{DefinitionFilter, GroupFilter, GroupKind, StoreError};
use serde::Serialize;
use serde_json::Value;

use super::render::page_with_status;
use super::views::{self, CustomerRow, DefinitionView, GroupView, Pager};
use super::{page, redirect, Console, ConsoleError, Form, Notice};
use crate::app::AppState;
use crate::error::ApiError;
use crate::extract::QueryPairs;
use patron_service::{ConditionInput, GroupDraft, Requester, ServiceError};

/// Rows of a table page.
const PAGE_SIZE: &str = "20";
/// Condition rows the create form offers.
const CONDITION_ROWS: usize = 3;
/// The operators offered, with what they mean.
const OPERATORS: [(&str, &str); 15] = [
    ("eq", "equals"),
    ("ne", "does not equal"),
    ("gt", "greater than"),
    ("gte", "at least"),
    ("lt", "less than"),
    ("lte", "at most"),
    ("btw", "between (a,b)"),
    ("cnt", "contains"),
    ("nct", "does not contain"),
    ("sw", "starts with"),
    ("ew", "ends with"),
    ("in", "one of (a,b,…)"),
    ("nin", "none of (a,b,…)"),
    ("is", "is"),
    ("nis", "is not"),
];

#[derive(Serialize)]
struct ListPage {
    frame: views::Frame,
    groups: Vec<GroupView>,
    pager: Pager,
    definitions: Vec<DefinitionView>,
    definitions_total: u64,
    operators: &'static [(&'static str, &'static str)],
    rows: Vec<usize>,
    can_write: bool,
}

/// The application's groups and the form creating a conditional one.
pub(crate) async fn list(
    State(state): State<AppState>,
    console: Console,
    query: QueryPairs,
) -> Result<Response, ConsoleError> {
    console.operator.require(Scope::CustomersRead)?;
    let page_no = PageRequest::parse(query.get("page_no"), Some(PAGE_SIZE))?;
    list_page(&state, &console, page_no, StatusCode::OK, Notice::None).await
}

async fn list_page(
    state: &AppState,
    console: &Console,
    page_no: PageRequest,
    status: StatusCode,
    notice: Notice,
) -> Result<Response, ConsoleError> {
    let application_id = &console.application.id;
    let (groups, total) = state
        .services
        .groups
        .list(application_id, &GroupFilter::default(), page_no)
        .await?;
    let (definitions, definitions_total) = state
        .services
        .attributes
        .list_definitions(
            application_id,
            &DefinitionFilter::default(),
            PageRequest::parse(None, Some("100"))?,
        )
        .await?;
    let data = ListPage {
        frame: console.frame("groups"),
        groups: groups.iter().map(GroupView::from).collect(),
        pager: console.pager("groups", &[], &page_no.info(total)),
        definitions: definitions
            .iter()
            .filter(|definition| !definition.spec.encrypted)
            .map(DefinitionView::from)
            .collect(),
        definitions_total,
        operators: &OPERATORS,
        rows: (0..CONDITION_ROWS).collect(),
        can_write: console.operator.may(Scope::CustomersWrite),
    };
    page_with_status(status, "groups.html", &data, notice)
}

/// Creates a conditional group from the form, then shows it.
pub(crate) async fn create(
    State(state): State<AppState>,
    console: Console,
    form: Form,
) -> Result<Response, ConsoleError> {
    console.operator.check_form(&form)?;
    console.operator.require(Scope::CustomersWrite)?;
    match create_group(&state, &console, &form).await {
        Ok(id) => Ok(redirect(&format!(
            "{}?done=created",
            console.path(&format!("groups/{id}"))
        ))),
        Err(error) => {
            let (status, notice) = Notice::from_error(error)?;
            let first = PageRequest::parse(None, Some(PAGE_SIZE))?;
            list_page(&state, &console, first, status, notice).await
        }
    }
}

async fn create_group(
    state: &AppState,
    console: &Console,
    form: &Form,
) -> Result<ObjectId, ConsoleError> {
    let application_id = &console.application.id;
    let name = form.required("name", "name")?;
    let description = form
        .get("description")
        .unwrap_or_default()
        .trim()
        .to_owned();
    let definitions = form.all("definition_id");
    let operators = form.all("operator");
    let texts = form.all("value");
    if definitions.len() > CONDITION_ROWS {
        return Err(ApiError::validation(
            "conditions",
            format!("the form has {CONDITION_ROWS} conditions at most"),
        )
        .into());
    }
    let mut operands: Vec<(&str, &str, Value)> = Vec::new();
    for (row, definition_id) in definitions.iter().enumerate() {
        if definition_id.trim().is_empty() {
            continue;
        }
        // Named as the service names them: by position among the conditions given.
        let field = format!("conditions[{}]", operands.len());
        let id_field = format!("{field}.user_attribute_definition_id");
        let id = ObjectId::parse(&id_field, definition_id)?;
        let definition = match state
            .services
            .attributes
            .definition(application_id, &id)
            .await
        {
            Err(ServiceError::Store(StoreError::NotFound { .. })) => {
                return Err(ApiError::validation(
                    id_field,
                    format!("no attribute definition has the id {id}"),
                )
                .into())
            }
            other => other?,
        };
        let operator_name = operators.get(row).copied().unwrap_or_default();
        let operator = Operator::parse(&format!("{field}.type"), operator_name)?;
        let text = texts.get(row).copied().unwrap_or_default();
        let operand = operand_from_text(definition.spec.attribute_type.kind(), operator, text);
        operands.push((definition_id, operator_name, operand));
    }
    if operands.is_empty() {
        return Err(ApiError::validation(
            "conditions",
            "a conditional group needs at least one condition: choose an attribute",
        )
        .into());
    }
    let inputs: Vec<ConditionInput<'_>> = operands
        .iter()
        .map(|(definition_id, operator, value)| ConditionInput {
            definition_id: Some(definition_id),
            operator: Some(operator),
            value,
        })
        .collect();
    let requester = Requester {
        application: &console.application,
        client_id: &console.operator.client_id,
    };
    let created = state
        .services
        .groups
        .create(
            requester,
            GroupDraft {
                name: Some(name),
                description: Some(description),
                kind: Some(GroupKind::Conditional.as_str()),
                conditions: Some(inputs),
                ..GroupDraft::default()
            },
        )
        .await?;
    Ok(created.id)
}

#[derive(Serialize)]
struct GroupPage {
    frame: views::Frame,
    group: GroupView,
    members: Vec<CustomerRow>,
    pager: Pager,
}

/// A group: what it is, how many it admits, and one page of its members.
pub(crate) async fn show(
    State(state): State<AppState>,
    console: Console,
    Path((_, group_id)): Path<(String, String)>,
    query: QueryPairs,
) -> Result<Response, ConsoleError> {
    console.operator.require(Scope::CustomersRead)?;
    let application_id = &console.application.id;
    let id = ObjectId::parse("group_id", &group_id)?;
    let page_no = PageRequest::parse(query.get("page_no"), Some(PAGE_SIZE))?;
    let group = state.services.groups.find(application_id, &id).await?;
    let membership = state.services.groups.membership(&group).await?;
    let (members, total) = state
        .services
        .groups
        .members(application_id, &membership, None, page_no)
        .await?;
    let notice = Notice::done_when(query.get("done"), "created", "The group is created.");
    page(
        "group.html",
        &GroupPage {
            frame: console.frame("groups"),
            group: GroupView::from(&group),
            members: members.iter().map(CustomerRow::from).collect(),
            pager: console.pager(&format!("groups/{id}"), &[], &page_no.info(total)),
        },
        notice,
    )
}

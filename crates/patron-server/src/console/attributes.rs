//! Attribute definitions: the list and the form declaring a new one.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use patron_domain::attribute::{AttributeType, DefinitionInput};
use patron_domain::page::PageRequest;
use patron_domain::scope::Scope;
use patron_store::DefinitionFilter;
use serde::Serialize;

use super::render::page_with_status;
use super::views::{self, DefinitionView, Pager};
use super::{redirect, Console, ConsoleError, Form, Notice};
use crate::app::AppState;
use crate::extract::QueryPairs;

/// Definitions per page.
const PAGE_SIZE: &str = "50";

#[derive(Serialize)]
struct DefinitionsPage {
    frame: views::Frame,
    definitions: Vec<DefinitionView>,
    pager: Pager,
    types: Vec<&'static str>,
    can_write: bool,
}

/// The application's attribute definitions.
pub(crate) async fn list(
    State(state): State<AppState>,
    console: Console,
    query: QueryPairs,
) -> Result<Response, ConsoleError> {
    console.operator.require(Scope::CustomersRead)?;
    let page_no = PageRequest::parse(query.get("page_no"), Some(PAGE_SIZE))?;
    let notice = Notice::done_when(query.get("done"), "created", "The attribute is defined.");
    definitions_page(&state, &console, page_no, StatusCode::OK, notice).await
}

async fn definitions_page(
    state: &AppState,
    console: &Console,
    page_no: PageRequest,
    status: StatusCode,
    notice: Notice,
) -> Result<Response, ConsoleError> {
    let (definitions, total) = state
        .services
        .attributes
        .list_definitions(
            &console.application.id,
            &DefinitionFilter::default(),
            page_no,
        )
        .await?;
    let data = DefinitionsPage {
        frame: console.frame("attributes"),
        definitions: definitions.iter().map(DefinitionView::from).collect(),
        pager: console.pager("attributes", &[], &page_no.info(total)),
        types: AttributeType::names().collect(),
        can_write: console.operator.may(Scope::CustomersWrite),
    };
    page_with_status(status, "attributes.html", &data, notice)
}

/// Declares a definition from the form.
pub(crate) async fn create(
    State(state): State<AppState>,
    console: Console,
    form: Form,
) -> Result<Response, ConsoleError> {
    console.operator.check_form(&form)?;
    console.operator.require(Scope::CustomersWrite)?;
    let text = |name: &str| {
        form.get(name)
            .map(str::trim)
            .filter(|value| !value.is_empty())
            .map(str::to_owned)
    };
    let input = DefinitionInput {
        name: text("name"),
        slug: text("slug"),
        description: text("description"),
        attribute_type: text("type"),
        customer_editable: Some(form.checked("customer_editable")),
        ..DefinitionInput::default()
    };
    let author = console.operator.actor();
    match state
        .services
        .attributes
        .create_definition(&console.application.id, &author.id, input, false)
        .await
    {
        Ok(_) => Ok(redirect(&format!(
            "{}?done=created",
            console.path("attributes")
        ))),
        Err(error) => {
            let (status, notice) = Notice::from_error(error.into())?;
            let first = PageRequest::parse(None, Some(PAGE_SIZE))?;
            definitions_page(&state, &console, first, status, notice).await
        }
    }
}

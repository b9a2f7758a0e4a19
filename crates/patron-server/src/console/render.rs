//! The console's templates (MiniJinja, embedded in the binary, HTML-escaped) and assets.

use std::sync::OnceLock;

use axum::extract::Path;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use minijinja::{context, Environment, Value};
use serde::Serialize;

use super::ConsoleError;
use crate::error::ApiError;

/// Every template, by name.
const TEMPLATES: [(&str, &str); 11] = [
    ("pager.html", include_str!("templates/pager.html")),
    ("base.html", include_str!("templates/base.html")),
    ("sign_in.html", include_str!("templates/sign_in.html")),
    (
        "applications.html",
        include_str!("templates/applications.html"),
    ),
    ("customers.html", include_str!("templates/customers.html")),
    ("customer.html", include_str!("templates/customer.html")),
    ("groups.html", include_str!("templates/groups.html")),
    ("group.html", include_str!("templates/group.html")),
    ("attributes.html", include_str!("templates/attributes.html")),
    ("settings.html", include_str!("templates/settings.html")),
    ("error.html", include_str!("templates/error.html")),
];

/// The stylesheet and the script, by file name.
const ASSETS: [(&str, &str, &str); 2] = [
    (
        "console.css",
        "text/css; charset=utf-8",
        include_str!("assets/console.css"),
    ),
    (
        "console.js",
        "text/javascript; charset=utf-8",
        include_str!("assets/console.js"),
    ),
];

/// A message shown at the top of a page.
#[derive(Debug, Clone, Default)]
pub(crate) enum Notice {
    /// None.
    #[default]
    None,
    /// What an action did.
    Done(String),
    /// Why an action was refused.
    Error(String),
}

impl Notice {
    fn value(&self) -> Value {
        match self {
            Notice::None => Value::from(()),
            Notice::Done(text) => Value::from_serialize(context! { kind => "done", text }),
            Notice::Error(text) => Value::from_serialize(context! { kind => "error", text }),
        }
    }

    /// `Done(text)` when the page was reached after the action `expected` (its `done`
    /// query parameter, set by the action's redirect).
    pub(crate) fn done_when(sent: Option<&str>, expected: &str, text: &str) -> Notice {
        if sent == Some(expected) {
            Notice::Done(text.to_owned())
        } else {
            Notice::None
        }
    }

    /// The notice for an error an action answered: its status and message.
    pub(crate) fn from_error(error: ConsoleError) -> Result<(StatusCode, Notice), ConsoleError> {
        match error {
            ConsoleError::Failed(error) => {
                let (status, _, message, _) = error.status_code_message_meta();
                if status.is_server_error() {
                    return Err(ConsoleError::Failed(error));
                }
                Ok((status, Notice::Error(message)))
            }
            sign_in => Err(sign_in),
        }
    }
}

/// The templates, compiled; one that does not compile is logged and left out (the unit
/// tests compile every one).
fn environment() -> &'static Environment<'static> {
    static ENVIRONMENT: OnceLock<Environment<'static>> = OnceLock::new();
    ENVIRONMENT.get_or_init(|| {
        let mut environment = Environment::new();
        for (name, source) in TEMPLATES {
            if let Err(error) = environment.add_template(name, source) {
                tracing::error!(error = %format!("{error:#}"), template = name, "console template does not compile");
            }
        }
        environment
    })
}

/// Renders template `name` with `data` and `notice` as a `200` page.
pub(crate) fn page(
    name: &str,
    data: &impl Serialize,
    notice: Notice,
) -> Result<Response, ConsoleError> {
    let html = render(name, data, &notice)?;
    Ok(Html(html).into_response())
}

/// Renders `name` with `status` (an action refused: the page again, with why).
pub(crate) fn page_with_status(
    status: StatusCode,
    name: &str,
    data: &impl Serialize,
    notice: Notice,
) -> Result<Response, ConsoleError> {
    let mut response = page(name, data, notice)?;
    *response.status_mut() = status;
    Ok(response)
}

fn render(name: &str, data: &impl Serialize, notice: &Notice) -> Result<String, ConsoleError> {
    let template = environment()
        .get_template(name)
        .map_err(|error| ApiError::Internal(format!("console template {name}: {error}")))?;
    template
        .render(context! { notice => notice.value(), ..Value::from_serialize(data) })
        .map_err(|error| ApiError::Internal(format!("rendering {name}: {error:#}")).into())
}

/// The error page, for a status and message.
pub(crate) fn error_page(status: StatusCode, message: &str) -> Response {
    let shown = if status.is_server_error() {
        "Something went wrong on our side. The error is logged; try again in a moment."
    } else {
        message
    };
    let data = context! { status => status.as_u16(), reason => status.canonical_reason(), message => shown };
    let html = render("error.html", &data, &Notice::None)
        .unwrap_or_else(|_| format!("<!doctype html><title>Error</title><p>{}</p>", status));
    (status, Html(html)).into_response()
}

/// `/console/assets/{name}`: the embedded stylesheet and script.
pub(crate) async fn asset(Path(name): Path<String>) -> Response {
    match ASSETS.iter().find(|(file, _, _)| *file == name) {
        Some((_, content_type, body)) => (
            [
                (CONTENT_TYPE, *content_type),
                (CACHE_CONTROL, "public, max-age=300"),
            ],
            *body,
        )
            .into_response(),
        None => error_page(StatusCode::NOT_FOUND, "no such file"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_template_compiles() {
        let mut fresh = Environment::new();
        for (name, source) in TEMPLATES {
            fresh
                .add_template(name, source)
                .unwrap_or_else(|error| panic!("{name}: {error:#}"));
        }
    }

    #[test]
    fn values_are_html_escaped() {
        let html = render(
            "error.html",
            &context! { status => 400, reason => "Bad Request", message => "<script>x</script>" },
            &Notice::None,
        )
        .unwrap();
        assert!(
            html.contains("&lt;script&gt;x&lt;&#x2f;script&gt;"),
            "{html}"
        );
        assert!(!html.contains("<script>x"));
    }
}

//! The OpenAPI 3.1 document of the service (`GET /openapi.json`), and a page that shows it
//! (`GET /docs`, served from the binary: no CDN, nothing to build).
//!
//! Each route is declared once, by its handler's `#[utoipa::path]` annotation, and
//! registered with `routes!`: the router and the document are made from the same
//! declarations ([`crate::app::api_routes`]), so they cannot name different operations.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use axum::http::header::CONTENT_TYPE;
use axum::response::{Html, IntoResponse};
use utoipa::openapi::security::{
    ApiKey, ApiKeyValue, ClientCredentials, Flow, HttpAuthScheme, HttpBuilder, OAuth2, Scopes,
    SecurityScheme,
};
use utoipa::openapi::{ContentBuilder, Ref, RefOr, ResponseBuilder};
use utoipa::{Modify, OpenApi};

/// The document's root: its information, shared schemas, security schemes and tags; the
/// routes add their operations.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Patron",
        description = "Customer identity and management: Fynd Platform's User API (platform and storefront) and Patron's own extensions.",
        license(name = "Apache-2.0")
    ),
    components(schemas(crate::error::ErrorBody)),
    modifiers(&SecuritySchemes),
    tags(
        (name = "operations", description = "Health and readiness (metrics have a listener of their own)."),
        (name = "oauth", description = "Platform clients' tokens."),
        (name = "storefront", description = "The storefront (application) API: sign-up, sign-in, sessions, passwords, one-time passwords, profile, contacts, attributes and account deletion."),
        (name = "customers", description = "Customers: create, find, change, block, archive, restore, and their history."),
        (name = "sessions", description = "Customers' storefront sessions, seen and ended by operators."),
        (name = "configuration", description = "An application's authentication configuration."),
        (name = "attributes", description = "Typed customer attributes: definitions and values."),
        (name = "groups", description = "Customer groups: conditional (live segments) and bulk."),
        (name = "jobs", description = "Background jobs: customer imports and exports, and their state."),
    )
)]
pub(crate) struct ApiDoc;

/// The security schemes operations name.
struct SecuritySchemes;

impl Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        let scopes = Scopes::from_iter([
            (
                "application/customers/read",
                "Read customers, attributes, groups and jobs.",
            ),
            (
                "application/customers/write",
                "Change customers, attributes and groups; import customers.",
            ),
            (
                "company/settings/write",
                "Change an application's authentication configuration.",
            ),
        ]);
        components.add_security_scheme(
            "platform",
            SecurityScheme::OAuth2(OAuth2::with_description(
                [Flow::ClientCredentials(ClientCredentials::new(
                    "/service/panel/authentication/v1.0/company/{company_id}/oauth/token",
                    scopes,
                ))],
                "A platform client's access token (client credentials grant), as `Authorization: Bearer`.",
            )),
        );
        components.add_security_scheme(
            "client",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Basic)
                    .description(Some(
                        "A platform client's id and secret, for the token endpoint.",
                    ))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "application",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "Storefront calls: base64 of `<application id>:<application token>`.",
                    ))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                "f.session",
                "A signed-in shopper's session cookie.",
            ))),
        );
    }
}

pub(crate) use crate::wire::path::ApplicationPath;

/// Error answers in Fynd's error shape, by status and meaning.
fn error_responses(
    answers: &[(u16, &str)],
) -> BTreeMap<String, RefOr<utoipa::openapi::response::Response>> {
    answers
        .iter()
        .map(|(status, description)| {
            let response = ResponseBuilder::new()
                .description(*description)
                .content(
                    "application/json",
                    ContentBuilder::new()
                        .schema(Some(Ref::from_schema_name("ErrorSchema")))
                        .build(),
                )
                .build();
            (status.to_string(), RefOr::T(response))
        })
        .collect()
}

/// The errors every platform operation may answer.
pub(crate) struct PlatformErrors;

impl utoipa::IntoResponses for PlatformErrors {
    fn responses() -> BTreeMap<String, RefOr<utoipa::openapi::response::Response>> {
        error_responses(&[
            (400, "Invalid input."),
            (401, "No valid token."),
            (403, "The token lacks the scope, or is another company's."),
        ])
    }
}

/// The errors every storefront operation may answer.
pub(crate) struct StorefrontErrors;

impl utoipa::IntoResponses for StorefrontErrors {
    fn responses() -> BTreeMap<String, RefOr<utoipa::openapi::response::Response>> {
        error_responses(&[
            (400, "Invalid input."),
            (
                401,
                "No valid application token, or no session where one is needed.",
            ),
            (403, "Turned off for the application, or refused."),
            (429, "A limit or budget is spent (see Retry-After)."),
        ])
    }
}

/// The document, built once.
pub fn json() -> &'static str {
    static DOCUMENT: OnceLock<String> = OnceLock::new();
    DOCUMENT.get_or_init(|| {
        crate::app::api_routes()
            .into_openapi()
            .to_pretty_json()
            .unwrap_or_else(|error| format!("{{\"error\": \"{error}\"}}"))
    })
}

/// `GET /openapi.json`.
pub async fn document() -> impl IntoResponse {
    ([(CONTENT_TYPE, "application/json")], json())
}

/// `GET /docs`: a page listing the document's operations, with their parameters,
/// request bodies, responses and schemas.
pub async fn page() -> Html<&'static str> {
    Html(include_str!("openapi/docs.html"))
}

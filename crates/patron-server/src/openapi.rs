//! The OpenAPI 3.1 document of the service (`GET /openapi.json`), generated from the
//! handlers' `#[utoipa::path]` annotations and the wire types' schemas, and a page that
//! shows it (`GET /docs`, served from the binary: no CDN, nothing to build).
//!
//! The API test `openapi_describes_every_route` checks that the document and the routers
//! name the same operations.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use axum::http::header::CONTENT_TYPE;
use axum::response::{Html, IntoResponse};
use utoipa::openapi::path::{ParameterBuilder, ParameterIn};
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::security::{
    ApiKey, ApiKeyValue, ClientCredentials, Flow, HttpAuthScheme, HttpBuilder, OAuth2, Scopes,
    SecurityScheme,
};
use utoipa::openapi::{ContentBuilder, Ref, RefOr, Required, ResponseBuilder};
use utoipa::{Modify, OpenApi};

/// The document's root: operations, shared schemas, security schemes and tags.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Patron",
        description = "Customer identity and management: Fynd Platform's User API (platform and storefront) and Patron's own extensions.",
        license(name = "Apache-2.0")
    ),
    paths(
        crate::app::healthz,
        crate::oauth::token,
        crate::app::readyz,
        crate::platform::customers::list,
        crate::platform::customers::search,
        crate::platform::customers::create,
        crate::platform::customers::update,
        crate::platform::customers::activation,
        crate::platform::customers::archive,
        crate::platform::customers::undelete,
        crate::platform::customers::timeline,
        crate::platform::sessions::create,
        crate::platform::sessions::login_token,
        crate::platform::sessions::list,
        crate::platform::sessions::end_one,
        crate::platform::sessions::end_all,
        crate::platform::auth_config::read,
        crate::platform::auth_config::update,
        crate::platform::attributes::create_definition,
        crate::platform::attributes::list_definitions,
        crate::platform::attributes::get_definition,
        crate::platform::attributes::update_definition,
        crate::platform::attributes::delete_definition,
        crate::platform::attributes::upsert_value,
        crate::platform::attributes::get_value,
        crate::platform::attributes::delete_value,
        crate::platform::attributes::list_values,
        crate::platform::attributes::set_values,
        crate::platform::attributes::delete_values,
        crate::platform::attributes::get_value_by_id,
        crate::platform::attributes::bulk_same,
        crate::platform::attributes::bulk_per_user,
        crate::platform::groups::create,
        crate::platform::groups::list,
        crate::platform::groups::read,
        crate::platform::groups::update,
        crate::platform::groups::patch,
        crate::platform::groups::members,
        crate::platform::attribute_filter::filter,
        crate::storefront::attributes::read_attributes,
        crate::storefront::attributes::update_attributes,
        crate::storefront::config::read,
        crate::storefront::contacts::add_email,
        crate::storefront::contacts::add_mobile,
        crate::storefront::contacts::delete_email,
        crate::storefront::contacts::delete_mobile,
        crate::storefront::contacts::email_link,
        crate::storefront::contacts::email_primary,
        crate::storefront::contacts::mobile_link,
        crate::storefront::contacts::mobile_primary,
        crate::storefront::contacts::prove_new,
        crate::storefront::contacts::prove_primary,
        crate::storefront::contacts::send_to_new,
        crate::storefront::contacts::send_to_primary,
        crate::storefront::contacts::verify_link,
        crate::storefront::otp::login_with_otp,
        crate::storefront::otp::send_email,
        crate::storefront::otp::send_forgot_email,
        crate::storefront::otp::send_forgot_mobile,
        crate::storefront::otp::send_mobile,
        crate::storefront::otp::verify_email,
        crate::storefront::otp::verify_forgot_email,
        crate::storefront::otp::verify_forgot_mobile,
        crate::storefront::otp::verify_mobile,
        crate::storefront::password::has_password,
        crate::storefront::password::login,
        crate::storefront::password::login_with_token,
        crate::storefront::password::update_password,
        crate::storefront::profile::update_profile,
        crate::storefront::register::register,
        crate::storefront::register::user_exists,
        crate::storefront::reset::check_code,
        crate::storefront::reset::reset_and_sign_in,
        crate::storefront::reset::reset_only,
        crate::storefront::reset::send_reset_email,
        crate::storefront::reset::send_reset_sms,
        crate::storefront::session::active_sessions,
        crate::storefront::session::delete_user,
        crate::storefront::session::logged_in_user,
        crate::storefront::session::logout,
        crate::storefront::social::apple,
        crate::storefront::social::facebook,
        crate::storefront::social::google,
        crate::platform::jobs::import,
        crate::platform::jobs::export,
        crate::platform::jobs::list_imports,
        crate::platform::jobs::list_exports,
        crate::platform::jobs::job_state,
        crate::platform::jobs::error_report,
        crate::platform::jobs::export_file,
    ),
    components(schemas(crate::error::ErrorBody)),
    modifiers(&SecuritySchemes, &SharedHandlers),
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
struct ApiDoc;

/// Routes answered by a handler described under another route: (described path, method,
/// path, method, operation id). The description is copied under the second route.
const SHARED: [(&str, &str, &str, &str, &str); 4] = [
    (
        "/service/application/user/authentication/v1.0/verify/email",
        "post",
        "/service/application/user/authentication/v1.0/verify/mobile",
        "post",
        "verifyMobile",
    ),
    (
        "/service/application/user/authentication/v1.0/logout",
        "get",
        "/service/application/user/authentication/v1.0/logout",
        "post",
        "logoutPost",
    ),
    (
        "/service/application/user/authentication/v1.0/login/google-token",
        "post",
        "/service/application/user/authentication/v1.0/login/google-android",
        "post",
        "loginWithGoogleAndroid",
    ),
    (
        "/service/application/user/authentication/v1.0/login/google-token",
        "post",
        "/service/application/user/authentication/v1.0/login/google-ios",
        "post",
        "loginWithGoogleIOS",
    ),
];

/// Describes the routes of [`SHARED`].
struct SharedHandlers;

impl Modify for SharedHandlers {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for (from, from_method, to, to_method, operation_id) in SHARED {
            let Some(mut operation) = openapi
                .paths
                .get_path_operation(from, http_method(from_method))
                .cloned()
            else {
                continue;
            };
            operation.operation_id = Some(operation_id.to_owned());
            let mut item = openapi.paths.paths.remove(to).unwrap_or_default();
            match to_method {
                "post" => item.post = Some(operation),
                _ => item.get = Some(operation),
            }
            openapi.paths.paths.insert(to.to_owned(), item);
        }
    }
}

fn http_method(name: &str) -> utoipa::openapi::HttpMethod {
    match name {
        "post" => utoipa::openapi::HttpMethod::Post,
        _ => utoipa::openapi::HttpMethod::Get,
    }
}

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

/// `company_id` and `application_id`, the path parameters of every platform operation.
pub(crate) struct ApplicationPath;

impl utoipa::IntoParams for ApplicationPath {
    fn into_params(
        _: impl Fn() -> Option<utoipa::openapi::path::ParameterIn>,
    ) -> Vec<utoipa::openapi::path::Parameter> {
        [
            ("company_id", "The company's numeric id."),
            ("application_id", "The application's 24-hex id."),
        ]
        .into_iter()
        .map(|(name, description)| {
            ParameterBuilder::new()
                .name(name)
                .parameter_in(ParameterIn::Path)
                .required(Required::True)
                .description(Some(description))
                .schema(Some(ObjectBuilder::new().schema_type(Type::String)))
                .build()
        })
        .collect()
    }
}

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
        ApiDoc::openapi()
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

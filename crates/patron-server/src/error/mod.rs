//! Every failure of the HTTP layer, and the one place it becomes a response: Fynd's error
//! shape `{"success": false, "message", "code", "request_id", "meta"?, "authenticated"?}`.
//! `code` lists the codes; `from_layers` maps the errors of the layers below.

mod code;
mod from_layers;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use patron_store::Conflict;
use serde_json::{json, Value};

use crate::telemetry::current_request_id;

pub use code::ErrorCode;

/// An error answered to the client.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// A field is missing, malformed or out of range (400).
    #[error("{field}: {message}")]
    Validation {
        /// Wire name of the field.
        field: String,
        /// What is wrong.
        message: String,
    },
    /// The body is not JSON / form data of the right shape (400).
    #[error("{0}")]
    MalformedBody(String),
    /// `q` uses something outside the customer query language (400).
    #[error("{0}")]
    InvalidQuery(String),
    /// The body is not declared as JSON (415).
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// The body is larger than the configured limit (413).
    #[error("request body is larger than {0} bytes")]
    PayloadTooLarge(usize),
    /// No valid credentials (401).
    #[error("{0}")]
    Unauthenticated(String),
    /// Valid credentials that do not allow this (403).
    #[error("{0}")]
    Forbidden(String),
    /// The account may not do this now, for a reason the code names (403), e.g.
    /// `USER_BLOCKED`, `PASSWORD_EXPIRED`.
    #[error("{message}")]
    Denied {
        /// Stable code.
        code: ErrorCode,
        /// Human-readable message.
        message: String,
    },
    /// The customer deleted their account (403, `ACCOUNT_DELETED`, `meta.is_deleted: true`,
    /// which storefronts route to their "account locked" page).
    #[error("this account was deleted")]
    Deleted,
    /// Too many failed sign-ins: locked until `retry_after` (403, `ACCOUNT_LOCKED`).
    #[error("{message}")]
    Locked {
        /// Human-readable message with the time to retry.
        message: String,
        /// When sign-in is possible again.
        retry_after: chrono::DateTime<chrono::Utc>,
    },
    /// The addressed resource does not exist (404).
    #[error("{message}")]
    NotFound {
        /// Stable code, e.g. `USER_NOT_FOUND`.
        code: ErrorCode,
        /// Human-readable message.
        message: String,
    },
    /// The route or method does not exist (404/405).
    #[error("{message}")]
    NoRoute {
        /// 404 or 405.
        status: StatusCode,
        /// Human-readable message.
        message: String,
    },
    /// A uniqueness rule (400, as the seed documents for create).
    #[error("{0:?}")]
    Conflict(Conflict),
    /// Some ids of a batch are unknown; nothing was changed (400).
    #[error("unknown user ids: {}", .0.join(", "))]
    UnknownUsers(Vec<String>),
    /// A business rule refuses the operation in the resource's current state (400).
    #[error("{message}")]
    Rule {
        /// Stable code, e.g. `USER_NOT_ARCHIVED`.
        code: ErrorCode,
        /// Human-readable message.
        message: String,
    },
    /// An OAuth request the token endpoint cannot honour (400).
    #[error("{message}")]
    OAuth {
        /// RFC 6749 error name, e.g. `invalid_grant`.
        error: &'static str,
        /// Human-readable message.
        message: String,
    },
    /// Too many requests of a kind: try again after `retry_after_secs` (429 with
    /// `Retry-After`).
    #[error("{message}")]
    TooManyRequests {
        /// Stable code.
        code: ErrorCode,
        /// Human-readable message, with the seconds to wait.
        message: String,
        /// Seconds to wait.
        retry_after_secs: u64,
        /// Details, e.g. which limit.
        meta: Option<Value>,
    },
    /// A social provider could not be asked (502).
    #[error("{0}")]
    ProviderUnavailable(String),
    /// The database is not reachable (503).
    #[error("service unavailable: {0}")]
    Unavailable(String),
    /// Too much work queued: try again after `retry_after_secs` (503 with `Retry-After`).
    #[error("busy: retry after {retry_after_secs} s")]
    Busy {
        /// Seconds to wait.
        retry_after_secs: u64,
    },
    /// Anything else (500); details are logged, not shown.
    #[error("internal error: {0}")]
    Internal(String),
}

impl ApiError {
    /// Shorthand for a validation error.
    pub fn validation(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Validation {
            field: field.into(),
            message: message.into(),
        }
    }

    /// Shorthand for a missing required field.
    pub fn required(field: &str) -> Self {
        Self::validation(field, "is required")
    }

    /// 404 for an unknown customer.
    pub fn user_not_found(id: &str) -> Self {
        Self::NotFound {
            code: ErrorCode::UserNotFound,
            message: format!("customer {id} not found"),
        }
    }

    pub(crate) fn status_code_message_meta(
        &self,
    ) -> (StatusCode, ErrorCode, String, Option<Value>) {
        match self {
            ApiError::Validation { field, message } => (
                StatusCode::BAD_REQUEST,
                ErrorCode::ValidationError,
                format!("{field}: {message}"),
                Some(json!({ "field": field })),
            ),
            ApiError::MalformedBody(message) => (
                StatusCode::BAD_REQUEST,
                ErrorCode::MalformedBody,
                message.clone(),
                None,
            ),
            ApiError::InvalidQuery(message) => (
                StatusCode::BAD_REQUEST,
                ErrorCode::InvalidQuery,
                message.clone(),
                Some(json!({ "field": "q" })),
            ),
            ApiError::UnsupportedMediaType(message) => (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                ErrorCode::UnsupportedMediaType,
                message.clone(),
                None,
            ),
            ApiError::PayloadTooLarge(_) => (
                StatusCode::PAYLOAD_TOO_LARGE,
                ErrorCode::PayloadTooLarge,
                self.to_string(),
                None,
            ),
            ApiError::Unauthenticated(message) => (
                StatusCode::UNAUTHORIZED,
                ErrorCode::Unauthenticated,
                message.clone(),
                None,
            ),
            ApiError::Forbidden(message) => (
                StatusCode::FORBIDDEN,
                ErrorCode::Forbidden,
                message.clone(),
                None,
            ),
            ApiError::Denied { code, message } => {
                (StatusCode::FORBIDDEN, *code, message.clone(), None)
            }
            ApiError::Deleted => (
                StatusCode::FORBIDDEN,
                ErrorCode::AccountDeleted,
                "this account was deleted".to_owned(),
                Some(json!({ "is_deleted": true })),
            ),
            ApiError::Locked {
                message,
                retry_after,
            } => (
                StatusCode::FORBIDDEN,
                ErrorCode::AccountLocked,
                message.clone(),
                Some(json!({ "retry_after": patron_domain::time::to_wire(*retry_after) })),
            ),
            ApiError::NotFound { code, message } => {
                (StatusCode::NOT_FOUND, *code, message.clone(), None)
            }
            ApiError::NoRoute { status, message } => {
                let code = if *status == StatusCode::METHOD_NOT_ALLOWED {
                    ErrorCode::MethodNotAllowed
                } else {
                    ErrorCode::RouteNotFound
                };
                (*status, code, message.clone(), None)
            }
            ApiError::Conflict(conflict) => {
                let (code, field, message) = match conflict {
                    Conflict::Email(email) => (
                        ErrorCode::EmailAlreadyExists,
                        "email",
                        format!("email {email} already belongs to another customer"),
                    ),
                    Conflict::Phone(phone) => (
                        ErrorCode::PhoneAlreadyExists,
                        "phone_number",
                        format!("phone number {phone} already belongs to another customer"),
                    ),
                    Conflict::Username(name) => (
                        ErrorCode::UsernameAlreadyExists,
                        "username",
                        format!("username {name} is already taken"),
                    ),
                    Conflict::Id(id) => (
                        ErrorCode::AlreadyExists,
                        "id",
                        format!("{id} already exists"),
                    ),
                    Conflict::Slug(slug) => (
                        ErrorCode::SlugAlreadyExists,
                        "slug",
                        format!("an attribute definition with the slug '{slug}' already exists"),
                    ),
                    Conflict::Version => (
                        ErrorCode::ConcurrentUpdate,
                        "version",
                        "the record changed while being updated; try again".to_owned(),
                    ),
                };
                (
                    StatusCode::BAD_REQUEST,
                    code,
                    message,
                    Some(json!({ "field": field })),
                )
            }
            ApiError::UnknownUsers(ids) => (
                StatusCode::BAD_REQUEST,
                ErrorCode::UnknownUsers,
                self.to_string(),
                Some(json!({ "user_ids": ids })),
            ),
            ApiError::Rule { code, message } => {
                (StatusCode::BAD_REQUEST, *code, message.clone(), None)
            }
            ApiError::OAuth { error, message } => (
                StatusCode::BAD_REQUEST,
                ErrorCode::OauthError,
                message.clone(),
                Some(json!({ "error": error })),
            ),
            ApiError::TooManyRequests {
                code,
                message,
                meta,
                ..
            } => (
                StatusCode::TOO_MANY_REQUESTS,
                *code,
                message.clone(),
                meta.clone(),
            ),
            ApiError::Busy { retry_after_secs } => (
                StatusCode::SERVICE_UNAVAILABLE,
                ErrorCode::ServiceBusy,
                format!("too many sign-ins are being checked: try again in {retry_after_secs} s"),
                None,
            ),
            ApiError::ProviderUnavailable(message) => (
                StatusCode::BAD_GATEWAY,
                ErrorCode::ProviderUnavailable,
                message.clone(),
                None,
            ),
            ApiError::Unavailable(_) => (
                StatusCode::SERVICE_UNAVAILABLE,
                ErrorCode::Unavailable,
                "the database is not reachable".to_owned(),
                None,
            ),
            ApiError::Internal(_) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                ErrorCode::InternalError,
                "internal error".to_owned(),
                None,
            ),
        }
    }
}

/// Every error's body, Fynd's error shape (`ErrorSchema` in the OpenAPI document).
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
#[schema(as = ErrorSchema)]
pub(crate) struct ErrorBody {
    /// Always `false`.
    success: bool,
    /// What went wrong, for people.
    message: String,
    /// What went wrong, for programs (e.g. `VALIDATION_ERROR`, `NOT_FOUND`).
    code: &'static str,
    /// The request's id (also in the `x-request-id` header and the logs).
    request_id: String,
    /// More about the error where there is more: the field at fault, `retry_after`, …
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    meta: Option<serde_json::Value>,
    /// The OAuth error name, on the token endpoint.
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<&'static str>,
    /// `false` on 401 answers.
    #[serde(skip_serializing_if = "Option::is_none")]
    authenticated: Option<bool>,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code, message, meta) = self.status_code_message_meta();
        if status.is_server_error() {
            tracing::error!(error = %self, "request failed");
        }
        let body = ErrorBody {
            success: false,
            message,
            code: code.as_str(),
            request_id: current_request_id().unwrap_or_default(),
            meta,
            error: match &self {
                ApiError::OAuth { error, .. } => Some(*error),
                _ => None,
            },
            authenticated: (status == StatusCode::UNAUTHORIZED).then_some(false),
        };
        let mut response = (status, Json(body)).into_response();
        if let ApiError::Busy { retry_after_secs }
        | ApiError::TooManyRequests {
            retry_after_secs, ..
        } = &self
        {
            response.headers_mut().insert(
                axum::http::header::RETRY_AFTER,
                axum::http::HeaderValue::from(*retry_after_secs),
            );
        }
        response
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use axum::body::to_bytes;

    /// The status and JSON body `error` answers with.
    pub(crate) async fn body_of(error: ApiError) -> (StatusCode, Value) {
        let response = error.into_response();
        let status = response.status();
        let bytes = to_bytes(response.into_body(), usize::MAX).await.unwrap();
        (status, serde_json::from_slice(&bytes).unwrap())
    }

    #[tokio::test]
    async fn errors_have_fynds_shape() {
        let (status, body) = body_of(ApiError::validation("email", "is not valid")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(body["success"], false);
        assert_eq!(body["code"], "VALIDATION_ERROR");
        assert_eq!(body["message"], "email: is not valid");
        assert_eq!(body["meta"]["field"], "email");
        assert!(body["request_id"].is_string());
    }

    #[tokio::test]
    async fn unauthenticated_says_so() {
        let (status, body) = body_of(ApiError::Unauthenticated("no token".into())).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(body["authenticated"], false);
    }
}

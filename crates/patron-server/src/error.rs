//! Every failure of the HTTP layer, and the one place it becomes a response: Fynd's error
//! shape `{"success": false, "message", "code", "request_id", "meta"?, "authenticated"?}`.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use patron_domain::DomainError;
use patron_store::{Conflict, StoreError};
use serde_json::{json, Value};

use crate::telemetry::current_request_id;

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
        code: &'static str,
        /// Human-readable message.
        message: String,
    },
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
        code: &'static str,
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
        code: &'static str,
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
    /// The database is not reachable (503).
    #[error("service unavailable: {0}")]
    Unavailable(String),
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
            code: "USER_NOT_FOUND",
            message: format!("customer {id} not found"),
        }
    }

    fn status_code_message_meta(&self) -> (StatusCode, &'static str, String, Option<Value>) {
        match self {
            ApiError::Validation { field, message } => (
                StatusCode::BAD_REQUEST,
                "VALIDATION_ERROR",
                format!("{field}: {message}"),
                Some(json!({ "field": field })),
            ),
            ApiError::MalformedBody(message) => (
                StatusCode::BAD_REQUEST,
                "MALFORMED_BODY",
                message.clone(),
                None,
            ),
            ApiError::InvalidQuery(message) => (
                StatusCode::BAD_REQUEST,
                "INVALID_QUERY",
                message.clone(),
                Some(json!({ "field": "q" })),
            ),
            ApiError::PayloadTooLarge(_) => (
                StatusCode::PAYLOAD_TOO_LARGE,
                "PAYLOAD_TOO_LARGE",
                self.to_string(),
                None,
            ),
            ApiError::Unauthenticated(message) => (
                StatusCode::UNAUTHORIZED,
                "UNAUTHENTICATED",
                message.clone(),
                None,
            ),
            ApiError::Forbidden(message) => {
                (StatusCode::FORBIDDEN, "FORBIDDEN", message.clone(), None)
            }
            ApiError::Denied { code, message } => {
                (StatusCode::FORBIDDEN, code, message.clone(), None)
            }
            ApiError::Locked {
                message,
                retry_after,
            } => (
                StatusCode::FORBIDDEN,
                "ACCOUNT_LOCKED",
                message.clone(),
                Some(json!({ "retry_after": patron_domain::time::to_wire(*retry_after) })),
            ),
            ApiError::NotFound { code, message } => {
                (StatusCode::NOT_FOUND, code, message.clone(), None)
            }
            ApiError::NoRoute { status, message } => {
                let code = if *status == StatusCode::METHOD_NOT_ALLOWED {
                    "METHOD_NOT_ALLOWED"
                } else {
                    "ROUTE_NOT_FOUND"
                };
                (*status, code, message.clone(), None)
            }
            ApiError::Conflict(conflict) => {
                let (code, field, message) = match conflict {
                    Conflict::Email(email) => (
                        "EMAIL_ALREADY_EXISTS",
                        "email",
                        format!("email {email} already belongs to another customer"),
                    ),
                    Conflict::Phone(phone) => (
                        "PHONE_ALREADY_EXISTS",
                        "phone_number",
                        format!("phone number {phone} already belongs to another customer"),
                    ),
                    Conflict::Username(name) => (
                        "USERNAME_ALREADY_EXISTS",
                        "username",
                        format!("username {name} is already taken"),
                    ),
                    Conflict::Id(id) => ("ALREADY_EXISTS", "id", format!("{id} already exists")),
                    Conflict::Slug(slug) => (
                        "SLUG_ALREADY_EXISTS",
                        "slug",
                        format!("an attribute definition with the slug '{slug}' already exists"),
                    ),
                    Conflict::Version => (
                        "CONCURRENT_UPDATE",
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
                "UNKNOWN_USERS",
                self.to_string(),
                Some(json!({ "user_ids": ids })),
            ),
            ApiError::Rule { code, message } => {
                (StatusCode::BAD_REQUEST, code, message.clone(), None)
            }
            ApiError::OAuth { error, message } => (
                StatusCode::BAD_REQUEST,
                "OAUTH_ERROR",
                message.clone(),
                Some(json!({ "error": error })),
            ),
            ApiError::Unavailable(_) => (
                StatusCode::SERVICE_UNAVAILABLE,
                "UNAVAILABLE",
                "the database is not reachable".to_owned(),
                None,
            ),
            ApiError::Internal(_) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "INTERNAL_ERROR",
                "internal error".to_owned(),
                None,
            ),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code, message, meta) = self.status_code_message_meta();
        if status.is_server_error() {
            tracing::error!(error = %self, "request failed");
        }
        let mut body = json!({
            "success": false,
            "message": message,
            "code": code,
            "request_id": current_request_id().unwrap_or_default(),
        });
        if let Some(meta) = meta {
            body["meta"] = meta;
        }
        if let ApiError::OAuth { error, .. } = &self {
            body["error"] = json!(error);
        }
        if status == StatusCode::UNAUTHORIZED {
            body["authenticated"] = json!(false);
        }
        (status, Json(body)).into_response()
    }
}

impl From<DomainError> for ApiError {
    fn from(error: DomainError) -> Self {
        match error {
            DomainError::InvalidField { field, message } => ApiError::Validation { field, message },
            DomainError::InvalidQuery(message) => ApiError::InvalidQuery(message),
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::Conflict(conflict) => ApiError::Conflict(conflict),
            StoreError::NotFound => ApiError::NotFound {
                code: "NOT_FOUND",
                message: "not found".to_owned(),
            },
            StoreError::UnknownCustomers(ids) => ApiError::UnknownUsers(ids),
            StoreError::Rule(rule) => rule.into(),
            StoreError::Blocked => ApiError::Rule {
                code: "USER_BLOCKED",
                message: "customer is blocked".to_owned(),
            },
            StoreError::ArchiveState(true) => ApiError::Rule {
                code: "USER_ARCHIVED",
                message: "customer is archived".to_owned(),
            },
            StoreError::Locked => ApiError::Rule {
                code: "LOCKED",
                message: "the record is locked and cannot be changed".to_owned(),
            },
            StoreError::InUse(users) => ApiError::Rule {
                code: "IN_USE",
                message: format!("the record is in use by: {}", users.join(", ")),
            },
            StoreError::ArchiveState(false) => ApiError::Rule {
                code: "USER_NOT_ARCHIVED",
                message: "customer is not archived".to_owned(),
            },
            other if other.is_unavailable() => ApiError::Unavailable(other.to_string()),
            other => ApiError::Internal(other.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::to_bytes;

    async fn body_of(error: ApiError) -> (StatusCode, Value) {
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

    #[tokio::test]
    async fn store_errors_map_to_statuses() {
        let (status, body) =
            body_of(StoreError::Conflict(Conflict::Email("a@b.io".into())).into()).await;
        assert_eq!(
            (status, body["code"].as_str()),
            (StatusCode::BAD_REQUEST, Some("EMAIL_ALREADY_EXISTS"))
        );
        let (status, body) = body_of(StoreError::UnknownCustomers(vec!["x".into()]).into()).await;
        assert_eq!(
            (status, body["meta"]["user_ids"][0].as_str()),
            (StatusCode::BAD_REQUEST, Some("x"))
        );
        let (status, body) = body_of(ApiError::Internal("secret detail".into())).await;
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
        assert!(!body.to_string().contains("secret detail"));
    }
}

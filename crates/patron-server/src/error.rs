//! Every failure of the HTTP layer, and the one place it becomes a response: Fynd's error
//! shape `{"success": false, "message", "code", "request_id", "meta"?, "authenticated"?}`.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use patron_domain::DomainError;
use patron_store::{Conflict, Entity, StoreError};
use serde_json::{json, Value};

use crate::passwords::HashError;
use crate::service::{Feature, ServiceError};
use crate::telemetry::current_request_id;

/// Every code an error body's `code` can carry; the table in docs/ARCHITECTURE.md lists
/// each with its status (a unit test holds the two together).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    /// A field is missing, malformed or out of range.
    ValidationError,
    /// The body is not a JSON object (or form data on the token endpoint).
    MalformedBody,
    /// `q` uses something outside the customer query language.
    InvalidQuery,
    /// Another live customer holds the email.
    EmailAlreadyExists,
    /// Another live customer holds the phone number.
    PhoneAlreadyExists,
    /// Another customer has the username.
    UsernameAlreadyExists,
    /// A record with the id exists already.
    AlreadyExists,
    /// Some ids of a batch are unknown; nothing changed.
    UnknownUsers,
    /// The customer is archived.
    UserArchived,
    /// The customer is not archived (restore).
    UserNotArchived,
    /// Another attribute definition has the slug.
    SlugAlreadyExists,
    /// The attribute definition is locked.
    DefinitionLocked,
    /// Group conditions use the attribute definition.
    DefinitionInUse,
    /// The record kept changing while being updated.
    ConcurrentUpdate,
    /// The token endpoint cannot honour the request (RFC 6749 name in `error`).
    OauthError,
    /// No valid credentials.
    Unauthenticated,
    /// Wrong email, phone number or password.
    InvalidCredentials,
    /// The reset link is invalid, expired or used.
    InvalidResetCode,
    /// The customer is blocked.
    UserBlocked,
    /// Valid credentials that do not allow this.
    Forbidden,
    /// Too many failed sign-ins.
    AccountLocked,
    /// The password is older than the configured expiry.
    PasswordExpired,
    /// Registration is turned off.
    RegistrationDisabled,
    /// Password sign-in is turned off.
    PasswordLoginDisabled,
    /// Password reset is turned off.
    ForgotPasswordDisabled,
    /// No such customer.
    UserNotFound,
    /// No such application in the company.
    ApplicationNotFound,
    /// No such session.
    SessionNotFound,
    /// No such route.
    RouteNotFound,
    /// No such attribute definition.
    AttributeDefinitionNotFound,
    /// The customer has no value of the attribute.
    UserAttributeNotFound,
    /// No such customer group.
    UserGroupNotFound,
    /// No such job.
    JobNotFound,
    /// The route does not take this method.
    MethodNotAllowed,
    /// The body is larger than `max_body_bytes`.
    PayloadTooLarge,
    /// The body is not sent as JSON.
    UnsupportedMediaType,
    /// Anything else; details are logged, never returned.
    InternalError,
    /// The database is not reachable.
    Unavailable,
    /// Every password hashing slot stayed busy; `Retry-After` says when to try again.
    ServiceBusy,
    /// Sign-in with a one-time password is turned off.
    OtpLoginDisabled,
    /// The one-time password is wrong, expired or used.
    InvalidOtp,
    /// The challenge had its last wrong answer.
    OtpAttemptsExceeded,
    /// A resend before the resend timer ran out (`Retry-After`).
    OtpResendTooEarly,
    /// A send budget is spent (`Retry-After`, `meta.limit`).
    OtpLimitReached,
    /// The registration token is unknown, expired or used.
    InvalidRegisterToken,
    /// The verification link is unknown, expired or used.
    InvalidLink,
    /// The sign-in token is unknown, expired or used.
    InvalidLoginToken,
    /// The customer deleted their account (`meta.is_deleted: true`).
    AccountDeleted,
    /// The customer deleted their account: an administrator's operation cannot apply.
    UserDeleted,
    /// Sign-in with this social provider is turned off.
    SocialLoginDisabled,
    /// The social provider's credential is not accepted.
    InvalidSocialToken,
    /// The social provider could not be asked.
    ProviderUnavailable,
}

impl ErrorCode {
    /// Every code.
    pub const ALL: &'static [ErrorCode] = &[
        ErrorCode::ValidationError,
        ErrorCode::MalformedBody,
        ErrorCode::InvalidQuery,
        ErrorCode::EmailAlreadyExists,
        ErrorCode::PhoneAlreadyExists,
        ErrorCode::UsernameAlreadyExists,
        ErrorCode::AlreadyExists,
        ErrorCode::UnknownUsers,
        ErrorCode::UserArchived,
        ErrorCode::UserNotArchived,
        ErrorCode::SlugAlreadyExists,
        ErrorCode::DefinitionLocked,
        ErrorCode::DefinitionInUse,
        ErrorCode::ConcurrentUpdate,
        ErrorCode::OauthError,
        ErrorCode::Unauthenticated,
        ErrorCode::InvalidCredentials,
        ErrorCode::InvalidResetCode,
        ErrorCode::UserBlocked,
        ErrorCode::Forbidden,
        ErrorCode::AccountLocked,
        ErrorCode::PasswordExpired,
        ErrorCode::RegistrationDisabled,
        ErrorCode::PasswordLoginDisabled,
        ErrorCode::ForgotPasswordDisabled,
        ErrorCode::UserNotFound,
        ErrorCode::ApplicationNotFound,
        ErrorCode::SessionNotFound,
        ErrorCode::RouteNotFound,
        ErrorCode::AttributeDefinitionNotFound,
        ErrorCode::UserAttributeNotFound,
        ErrorCode::UserGroupNotFound,
        ErrorCode::JobNotFound,
        ErrorCode::MethodNotAllowed,
        ErrorCode::PayloadTooLarge,
        ErrorCode::UnsupportedMediaType,
        ErrorCode::InternalError,
        ErrorCode::Unavailable,
        ErrorCode::ServiceBusy,
        ErrorCode::OtpLoginDisabled,
        ErrorCode::InvalidOtp,
        ErrorCode::OtpAttemptsExceeded,
        ErrorCode::OtpResendTooEarly,
        ErrorCode::OtpLimitReached,
        ErrorCode::InvalidRegisterToken,
        ErrorCode::InvalidLink,
        ErrorCode::InvalidLoginToken,
        ErrorCode::AccountDeleted,
        ErrorCode::UserDeleted,
        ErrorCode::SocialLoginDisabled,
        ErrorCode::InvalidSocialToken,
        ErrorCode::ProviderUnavailable,
    ];

    /// The code as it appears on the wire, e.g. `USER_NOT_FOUND`.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::ValidationError => "VALIDATION_ERROR",
            ErrorCode::MalformedBody => "MALFORMED_BODY",
            ErrorCode::InvalidQuery => "INVALID_QUERY",
            ErrorCode::EmailAlreadyExists => "EMAIL_ALREADY_EXISTS",
            ErrorCode::PhoneAlreadyExists => "PHONE_ALREADY_EXISTS",
            ErrorCode::UsernameAlreadyExists => "USERNAME_ALREADY_EXISTS",
            ErrorCode::AlreadyExists => "ALREADY_EXISTS",
            ErrorCode::UnknownUsers => "UNKNOWN_USERS",
            ErrorCode::UserArchived => "USER_ARCHIVED",
            ErrorCode::UserNotArchived => "USER_NOT_ARCHIVED",
            ErrorCode::SlugAlreadyExists => "SLUG_ALREADY_EXISTS",
            ErrorCode::DefinitionLocked => "DEFINITION_LOCKED",
            ErrorCode::DefinitionInUse => "DEFINITION_IN_USE",
            ErrorCode::ConcurrentUpdate => "CONCURRENT_UPDATE",
            ErrorCode::OauthError => "OAUTH_ERROR",
            ErrorCode::Unauthenticated => "UNAUTHENTICATED",
            ErrorCode::InvalidCredentials => "INVALID_CREDENTIALS",
            ErrorCode::InvalidResetCode => "INVALID_RESET_CODE",
            ErrorCode::UserBlocked => "USER_BLOCKED",
            ErrorCode::Forbidden => "FORBIDDEN",
            ErrorCode::AccountLocked => "ACCOUNT_LOCKED",
            ErrorCode::PasswordExpired => "PASSWORD_EXPIRED",
            ErrorCode::RegistrationDisabled => "REGISTRATION_DISABLED",
            ErrorCode::PasswordLoginDisabled => "PASSWORD_LOGIN_DISABLED",
            ErrorCode::ForgotPasswordDisabled => "FORGOT_PASSWORD_DISABLED",
            ErrorCode::UserNotFound => "USER_NOT_FOUND",
            ErrorCode::ApplicationNotFound => "APPLICATION_NOT_FOUND",
            ErrorCode::SessionNotFound => "SESSION_NOT_FOUND",
            ErrorCode::RouteNotFound => "ROUTE_NOT_FOUND",
            ErrorCode::AttributeDefinitionNotFound => "ATTRIBUTE_DEFINITION_NOT_FOUND",
            ErrorCode::UserAttributeNotFound => "USER_ATTRIBUTE_NOT_FOUND",
            ErrorCode::UserGroupNotFound => "USER_GROUP_NOT_FOUND",
            ErrorCode::JobNotFound => "JOB_NOT_FOUND",
            ErrorCode::MethodNotAllowed => "METHOD_NOT_ALLOWED",
            ErrorCode::PayloadTooLarge => "PAYLOAD_TOO_LARGE",
            ErrorCode::UnsupportedMediaType => "UNSUPPORTED_MEDIA_TYPE",
            ErrorCode::InternalError => "INTERNAL_ERROR",
            ErrorCode::Unavailable => "UNAVAILABLE",
            ErrorCode::ServiceBusy => "SERVICE_BUSY",
            ErrorCode::OtpLoginDisabled => "OTP_LOGIN_DISABLED",
            ErrorCode::InvalidOtp => "INVALID_OTP",
            ErrorCode::OtpAttemptsExceeded => "OTP_ATTEMPTS_EXCEEDED",
            ErrorCode::OtpResendTooEarly => "OTP_RESEND_TOO_EARLY",
            ErrorCode::OtpLimitReached => "OTP_LIMIT_REACHED",
            ErrorCode::InvalidRegisterToken => "INVALID_REGISTER_TOKEN",
            ErrorCode::InvalidLink => "INVALID_LINK",
            ErrorCode::InvalidLoginToken => "INVALID_LOGIN_TOKEN",
            ErrorCode::AccountDeleted => "ACCOUNT_DELETED",
            ErrorCode::UserDeleted => "USER_DELETED",
            ErrorCode::SocialLoginDisabled => "SOCIAL_LOGIN_DISABLED",
            ErrorCode::InvalidSocialToken => "INVALID_SOCIAL_TOKEN",
            ErrorCode::ProviderUnavailable => "PROVIDER_UNAVAILABLE",
        }
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

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

    fn status_code_message_meta(&self) -> (StatusCode, ErrorCode, String, Option<Value>) {
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

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code, message, meta) = self.status_code_message_meta();
        if status.is_server_error() {
            tracing::error!(error = %self, "request failed");
        }
        let mut body = json!({
            "success": false,
            "message": message,
            "code": code.as_str(),
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

impl From<DomainError> for ApiError {
    fn from(error: DomainError) -> Self {
        match error {
            DomainError::InvalidField { field, message } => ApiError::Validation { field, message },
            DomainError::InvalidQuery(message) => ApiError::InvalidQuery(message),
        }
    }
}

impl From<ServiceError> for ApiError {
    fn from(error: ServiceError) -> Self {
        match error {
            ServiceError::Domain(error) => error.into(),
            ServiceError::Store(error) => error.into(),
            ServiceError::InvalidCredentials => ApiError::Rule {
                code: ErrorCode::InvalidCredentials,
                message: "the email, phone number or password is wrong".to_owned(),
            },
            ServiceError::AccountLocked { until } => ApiError::Locked {
                message: format!(
                    "too many failed attempts: try again after {}",
                    patron_domain::time::to_wire(until)
                ),
                retry_after: until,
            },
            ServiceError::AccountDeleted => ApiError::Deleted,
            ServiceError::AccountBlocked => ApiError::Denied {
                code: ErrorCode::UserBlocked,
                message: "this account is blocked".to_owned(),
            },
            ServiceError::PasswordExpired => ApiError::Denied {
                code: ErrorCode::PasswordExpired,
                message: "the password has expired: reset it to sign in".to_owned(),
            },
            ServiceError::Disabled(Feature::Registration) => ApiError::Denied {
                code: ErrorCode::RegistrationDisabled,
                message: "registration is turned off for this store".to_owned(),
            },
            ServiceError::Disabled(Feature::PasswordLogin) => ApiError::Rule {
                code: ErrorCode::PasswordLoginDisabled,
                message: "password sign-in is turned off for this store".to_owned(),
            },
            ServiceError::Disabled(Feature::ForgotPassword) => ApiError::Denied {
                code: ErrorCode::ForgotPasswordDisabled,
                message: "password reset is turned off for this store".to_owned(),
            },
            ServiceError::Disabled(Feature::OtpLogin) => ApiError::Rule {
                code: ErrorCode::OtpLoginDisabled,
                message: "sign-in with a one-time password is turned off for this store".to_owned(),
            },
            ServiceError::InvalidOtp => ApiError::Rule {
                code: ErrorCode::InvalidOtp,
                message: "the code is wrong or has expired".to_owned(),
            },
            ServiceError::OtpAttemptsExhausted => ApiError::Rule {
                code: ErrorCode::OtpAttemptsExceeded,
                message: "too many wrong codes: ask for a new one".to_owned(),
            },
            ServiceError::ResendTooEarly { retry_after_secs } => ApiError::TooManyRequests {
                code: ErrorCode::OtpResendTooEarly,
                message: format!("a new code can be sent in {retry_after_secs} seconds"),
                retry_after_secs,
                meta: None,
            },
            ServiceError::SendLimit {
                scope,
                retry_after_secs,
            } => ApiError::TooManyRequests {
                code: ErrorCode::OtpLimitReached,
                message: format!(
                    "too many codes were sent: try again in {retry_after_secs} seconds"
                ),
                retry_after_secs,
                meta: Some(json!({ "limit": scope.as_str() })),
            },
            ServiceError::Disabled(Feature::Social) => ApiError::Rule {
                code: ErrorCode::SocialLoginDisabled,
                message: "sign-in with this provider is turned off for this store".to_owned(),
            },
            ServiceError::SocialCredential(message) => ApiError::Rule {
                code: ErrorCode::InvalidSocialToken,
                message,
            },
            ServiceError::ProviderUnavailable(message) => ApiError::ProviderUnavailable(message),
            ServiceError::InvalidLoginToken => ApiError::Rule {
                code: ErrorCode::InvalidLoginToken,
                message: "the sign-in token is invalid, expired or already used".to_owned(),
            },
            ServiceError::InvalidLink => ApiError::Rule {
                code: ErrorCode::InvalidLink,
                message: "the verification link is invalid, expired or already used".to_owned(),
            },
            ServiceError::InvalidRegisterToken => ApiError::Rule {
                code: ErrorCode::InvalidRegisterToken,
                message: "the registration token is invalid or has expired".to_owned(),
            },
            ServiceError::Unauthenticated(message) => ApiError::Unauthenticated(message),
            ServiceError::OAuth { error, message } => ApiError::OAuth { error, message },
            ServiceError::Hashing(error) => error.into(),
            ServiceError::Internal(message) => ApiError::Internal(message),
        }
    }
}

impl From<HashError> for ApiError {
    fn from(error: HashError) -> Self {
        match error {
            HashError::Busy { retry_after } => ApiError::Busy {
                retry_after_secs: retry_after.as_secs().max(1),
            },
            other => ApiError::Internal(other.to_string()),
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::Conflict(conflict) => ApiError::Conflict(conflict),
            StoreError::NotFound { entity, id } => not_found(entity, &id),
            StoreError::UnknownCustomers(ids) => ApiError::UnknownUsers(ids),
            StoreError::Rule(rule) => rule.into(),
            StoreError::Deleted => ApiError::Rule {
                code: ErrorCode::UserDeleted,
                message: "the customer deleted their account (or it was anonymised after the grace window)"
                    .to_owned(),
            },
            StoreError::Blocked => ApiError::Rule {
                code: ErrorCode::UserBlocked,
                message: "customer is blocked".to_owned(),
            },
            StoreError::ArchiveState(true) => ApiError::Rule {
                code: ErrorCode::UserArchived,
                message: "customer is archived".to_owned(),
            },
            StoreError::ArchiveState(false) => ApiError::Rule {
                code: ErrorCode::UserNotArchived,
                message: "customer is not archived".to_owned(),
            },
            StoreError::Locked {
                entity: Entity::AttributeDefinition,
                id,
            } => ApiError::Rule {
                code: ErrorCode::DefinitionLocked,
                message: format!(
                    "attribute definition {id} is locked and cannot be changed or deleted"
                ),
            },
            StoreError::InUse {
                entity: Entity::AttributeDefinition,
                id,
                users,
            } => ApiError::Rule {
                code: ErrorCode::DefinitionInUse,
                message: format!(
                    "attribute definition {id} is used by the conditions of the groups: {}",
                    users.join(", ")
                ),
            },
            other if other.is_unavailable() => ApiError::Unavailable(other.to_string()),
            other => ApiError::Internal(other.to_string()),
        }
    }
}

/// The answer for a record that does not exist.
fn not_found(entity: Entity, id: &str) -> ApiError {
    let (code, message) = match entity {
        Entity::Customer => (ErrorCode::UserNotFound, format!("customer {id} not found")),
        Entity::Session => (
            ErrorCode::SessionNotFound,
            format!("session {id} not found"),
        ),
        Entity::AttributeDefinition => (
            ErrorCode::AttributeDefinitionNotFound,
            format!("attribute definition {id} not found"),
        ),
        Entity::AttributeValue => (
            ErrorCode::UserAttributeNotFound,
            format!("attribute value {id} not found"),
        ),
        Entity::Group => (
            ErrorCode::UserGroupNotFound,
            format!("user group {id} not found"),
        ),
        Entity::Job => (ErrorCode::JobNotFound, format!("job {id} not found")),
        // A reset code that matches nothing is a bad link, not a missing resource.
        Entity::ResetCode => {
            return ApiError::Rule {
                code: ErrorCode::InvalidResetCode,
                message: "the reset link is invalid, expired or already used".to_owned(),
            }
        }
    };
    ApiError::NotFound { code, message }
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

    /// The codes listed in the error table of docs/ARCHITECTURE.md.
    fn documented_codes() -> std::collections::BTreeSet<String> {
        let architecture = include_str!("../../../docs/ARCHITECTURE.md");
        let section = architecture
            .split("\n## Errors\n")
            .nth(1)
            .and_then(|rest| rest.split("\n## ").next())
            .expect("docs/ARCHITECTURE.md has an Errors section");
        section
            .lines()
            .filter_map(|line| line.strip_prefix('|'))
            .filter_map(|row| row.split('|').nth(1))
            .flat_map(|column| column.split('`').skip(1).step_by(2))
            .filter(|code| code.chars().all(|c| c.is_ascii_uppercase() || c == '_'))
            .map(str::to_owned)
            .collect()
    }

    #[test]
    fn every_code_is_documented_and_every_documented_code_exists() {
        let codes: std::collections::BTreeSet<String> = ErrorCode::ALL
            .iter()
            .map(|code| code.as_str().to_owned())
            .collect();
        assert_eq!(codes.len(), ErrorCode::ALL.len(), "a code is listed twice");
        let documented = documented_codes();
        let undocumented: Vec<_> = codes.difference(&documented).collect();
        let unknown: Vec<_> = documented.difference(&codes).collect();
        assert!(
            undocumented.is_empty(),
            "codes missing from the table: {undocumented:?}"
        );
        assert!(
            unknown.is_empty(),
            "documented codes the enum lacks: {unknown:?}"
        );
    }

    #[test]
    fn wire_names_are_the_variant_names_in_upper_snake_case() {
        for code in ErrorCode::ALL {
            let mut expected = String::new();
            for (index, c) in format!("{code:?}").chars().enumerate() {
                if c.is_ascii_uppercase() && index > 0 {
                    expected.push('_');
                }
                expected.push(c.to_ascii_uppercase());
            }
            assert_eq!(code.as_str(), expected);
        }
    }

    #[tokio::test]
    async fn store_errors_name_their_entity() {
        let (status, body) =
            body_of(StoreError::not_found(Entity::Group, "6b0000000000000000000001").into()).await;
        assert_eq!(
            (status, body["code"].as_str()),
            (StatusCode::NOT_FOUND, Some("USER_GROUP_NOT_FOUND"))
        );
        assert!(body["message"]
            .as_str()
            .unwrap()
            .contains("6b0000000000000000000001"));
        let (status, body) = body_of(StoreError::not_found(Entity::ResetCode, "").into()).await;
        assert_eq!(
            (status, body["code"].as_str()),
            (StatusCode::BAD_REQUEST, Some("INVALID_RESET_CODE"))
        );
        let locked = StoreError::Locked {
            entity: Entity::AttributeDefinition,
            id: "d".into(),
        };
        let (status, body) = body_of(locked.into()).await;
        assert_eq!(
            (status, body["code"].as_str()),
            (StatusCode::BAD_REQUEST, Some("DEFINITION_LOCKED"))
        );
        let corrupt = StoreError::Corrupt {
            table: "customers",
            id: "c".into(),
            reason: "meta".into(),
        };
        let (status, body) = body_of(corrupt.into()).await;
        assert_eq!(
            (status, body["code"].as_str()),
            (StatusCode::INTERNAL_SERVER_ERROR, Some("INTERNAL_ERROR"))
        );
    }

    #[tokio::test]
    async fn a_busy_hasher_answers_503_with_retry_after() {
        let busy = HashError::Busy {
            retry_after: std::time::Duration::from_secs(10),
        };
        let response = ApiError::from(busy).into_response();
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(response.headers()["retry-after"], "10");
        let bytes = to_bytes(response.into_body(), usize::MAX).await.unwrap();
        let body: Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(body["code"], "SERVICE_BUSY");
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

//! How the errors of the layers below (domain, store, services, hasher) become answers.

use patron_domain::DomainError;
use patron_store::{Entity, StoreError};
use serde_json::json;

use super::{ApiError, ErrorCode};
use patron_service::hasher::HashError;
use patron_service::{Feature, ServiceError};

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
            ServiceError::SignInLimit { retry_after_secs } => ApiError::TooManyRequests {
                code: ErrorCode::SignInLimitReached,
                message: format!(
                    "too many failed sign-ins from this address: try again in {retry_after_secs} seconds"
                ),
                retry_after_secs,
                meta: None,
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
            ServiceError::Disabled(Feature::UserExists) => ApiError::Denied {
                code: ErrorCode::UserExistsDisabled,
                message: "this store does not tell which emails or phone numbers have an account"
                    .to_owned(),
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
            ServiceError::GuessLimit { retry_after_secs } => ApiError::TooManyRequests {
                code: ErrorCode::OtpAttemptsExceeded,
                message: format!(
                    "too many wrong codes for this contact: try again in {retry_after_secs} \
                     seconds"
                ),
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
            ServiceError::Busy { retry_after_secs } => ApiError::Busy { retry_after_secs },
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
        Entity::Application => (
            ErrorCode::ApplicationNotFound,
            format!("application {id} not found"),
        ),
        // Only the command line addresses clients; the nearest Fynd code.
        Entity::Client => (
            ErrorCode::ApplicationNotFound,
            format!("platform client {id} not found"),
        ),
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
    use crate::error::tests::body_of;
    use axum::body::to_bytes;
    use axum::http::StatusCode;
    use axum::response::IntoResponse;
    use patron_store::Conflict;
    use serde_json::Value;

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

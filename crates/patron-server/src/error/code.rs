//! The stable codes of error bodies, each documented in docs/ARCHITECTURE.md.

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
    /// The client's address made too many failed sign-ins this minute (`Retry-After`).
    SignInLimitReached,
    /// The password is older than the configured expiry.
    PasswordExpired,
    /// Registration is turned off.
    RegistrationDisabled,
    /// Password sign-in is turned off.
    PasswordLoginDisabled,
    /// Password reset is turned off.
    ForgotPasswordDisabled,
    /// `userExists` is turned off.
    UserExistsDisabled,
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
        ErrorCode::SignInLimitReached,
        ErrorCode::PasswordExpired,
        ErrorCode::RegistrationDisabled,
        ErrorCode::PasswordLoginDisabled,
        ErrorCode::ForgotPasswordDisabled,
        ErrorCode::UserExistsDisabled,
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
            ErrorCode::SignInLimitReached => "SIGN_IN_LIMIT_REACHED",
            ErrorCode::PasswordExpired => "PASSWORD_EXPIRED",
            ErrorCode::RegistrationDisabled => "REGISTRATION_DISABLED",
            ErrorCode::PasswordLoginDisabled => "PASSWORD_LOGIN_DISABLED",
            ErrorCode::ForgotPasswordDisabled => "FORGOT_PASSWORD_DISABLED",
            ErrorCode::UserExistsDisabled => "USER_EXISTS_DISABLED",
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The codes listed in the error table of docs/ARCHITECTURE.md.
    fn documented_codes() -> std::collections::BTreeSet<String> {
        let architecture = include_str!("../../../../docs/ARCHITECTURE.md");
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
}

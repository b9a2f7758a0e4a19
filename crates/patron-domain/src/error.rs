//! The domain's one error type: a rule was broken by the input.

/// A rule of the domain was violated. Every variant is the caller's fault (a 4xx at the
/// HTTP edge) and carries a message fit to show to an API user.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DomainError {
    /// A field's value is malformed or out of range; `field` names it in wire terms.
    #[error("{field}: {message}")]
    InvalidField {
        /// The wire name of the offending field or query key.
        field: String,
        /// What is wrong with it.
        message: String,
    },
    /// The customer query (`q`) uses something outside the supported language.
    #[error("{0}")]
    InvalidQuery(String),
}

impl DomainError {
    /// Shorthand for [`DomainError::InvalidField`].
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::InvalidField {
            field: field.into(),
            message: message.into(),
        }
    }
}

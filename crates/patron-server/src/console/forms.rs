//! Reading the console's HTML forms.

use axum::extract::{FromRequest, Request};

use super::ConsoleError;
use crate::error::ApiError;
use crate::extract::{body_bytes, QueryPairs};

/// A submitted form's fields (`application/x-www-form-urlencoded`), in order.
pub(crate) struct Form(QueryPairs);

impl Form {
    /// A form of these fields.
    #[cfg(test)]
    pub(crate) fn from_pairs(pairs: QueryPairs) -> Self {
        Self(pairs)
    }

    /// The first value of `name`.
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name)
    }

    /// Every value of `name`, in order.
    pub(crate) fn all(&self, name: &str) -> Vec<&str> {
        self.0.all(name)
    }

    /// The trimmed value of `name`; `Validation` naming `label` when it is missing or blank.
    pub(crate) fn required(&self, name: &str, label: &str) -> Result<String, ConsoleError> {
        self.get(name)
            .map(str::trim)
            .filter(|value| !value.is_empty())
            .map(str::to_owned)
            .ok_or_else(|| ApiError::validation(label, "is required").into())
    }

    /// Whether the checkbox `name` is ticked.
    pub(crate) fn checked(&self, name: &str) -> bool {
        self.get(name).is_some_and(|value| value != "false")
    }
}

impl<S: Send + Sync> FromRequest<S> for Form {
    type Rejection = ConsoleError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = body_bytes(request, state).await?;
        Ok(Self(QueryPairs::parse(&bytes)?))
    }
}

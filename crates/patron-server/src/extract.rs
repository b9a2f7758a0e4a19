//! Request extractors whose every rejection is an [`ApiError`], so malformed input gets
//! Fynd's error shape rather than axum's plain text.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, RawPathParams, Request};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use crate::error::ApiError;

/// A route's path parameters deserialised into `T` (one of [`crate::wire::path`]); a
/// malformed one is a 400 naming it.
pub(crate) struct PathParams<T>(pub(crate) T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for PathParams<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let params = RawPathParams::from_request_parts(parts, state)
            .await
            .map_err(|rejection| ApiError::validation("path", rejection.body_text()))?;
        let fields = params
            .iter()
            .map(|(name, value)| (name.to_owned(), serde_json::Value::from(value)))
            .collect();
        serde_path_to_error::deserialize(serde_json::Value::Object(fields))
            .map(PathParams)
            .map_err(|error| {
                let field = error.path().to_string();
                ApiError::validation(field, strip_position(&error.into_inner().to_string()))
            })
    }
}

/// A JSON body deserialised into `T`; errors name the offending field's path.
pub struct JsonBody<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        // A body must say it is JSON: a cross-site form (text/plain, urlencoded, multipart)
        // never reaches a handler.
        let content_type = request
            .headers()
            .get(axum::http::header::CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default();
        if !is_json(content_type) {
            return Err(ApiError::UnsupportedMediaType(format!(
                "the body must be sent as application/json, not '{content_type}'"
            )));
        }
        let bytes = body_bytes(request, state).await?;
        if bytes.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
            return Err(ApiError::MalformedBody(
                "request body must be a JSON object".to_owned(),
            ));
        }
        let mut deserializer = serde_json::Deserializer::from_slice(&bytes);
        serde_path_to_error::deserialize(&mut deserializer)
            .map(JsonBody)
            .map_err(|error| {
                let path = error.path().to_string();
                let inner = error.into_inner();
                if inner.is_data() && path != "." {
                    ApiError::validation(path, strip_position(&inner.to_string()))
                } else {
                    ApiError::MalformedBody(format!("request body is not valid JSON: {inner}"))
                }
            })
    }
}

/// Whether a `Content-Type` names JSON: `application/json` or `application/<x>+json`, with
/// any parameters.
fn is_json(content_type: &str) -> bool {
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

/// Reads the body, turning the size limit into a 413 in our shape.
pub async fn body_bytes<S: Send + Sync>(request: Request, state: &S) -> Result<Bytes, ApiError> {
    let limit = request
        .extensions()
        .get::<BodyLimit>()
        .map_or(usize::MAX, |limit| limit.0);
    Bytes::from_request(request, state)
        .await
        .map_err(|rejection| {
            if rejection.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::PayloadTooLarge(limit)
            } else {
                ApiError::MalformedBody(format!("cannot read request body: {rejection}"))
            }
        })
}

/// The configured body limit, recorded in request extensions for error messages.
#[derive(Debug, Clone, Copy)]
pub struct BodyLimit(pub usize);

/// serde_json appends " at line 1 column 20" to messages; clients need the field, not that.
fn strip_position(message: &str) -> String {
    message
        .split(" at line ")
        .next()
        .unwrap_or(message)
        .to_owned()
}

/// The query string as ordered key/value pairs, keeping repeated keys (`query=a&query=b`).
#[derive(Debug, Default)]
pub struct QueryPairs(Vec<(String, String)>);

impl QueryPairs {
    /// Parses `application/x-www-form-urlencoded` text (a query string or a form body).
    pub fn parse(raw: &[u8]) -> Result<Self, ApiError> {
        serde_urlencoded::from_bytes(raw)
            .map(QueryPairs)
            .map_err(|error| ApiError::MalformedBody(format!("malformed form data: {error}")))
    }

    /// The first value of `key`, if present.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// Every value of `key`, also accepting the `key[]` spelling.
    pub fn all(&self, key: &str) -> Vec<&str> {
        let bracketed = format!("{key}[]");
        self.0
            .iter()
            .filter(|(k, _)| k == key || *k == bracketed)
            .map(|(_, v)| v.as_str())
            .collect()
    }
}

impl<S: Send + Sync> FromRequestParts<S> for QueryPairs {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Self::parse(parts.uri.query().unwrap_or_default().as_bytes())
    }
}

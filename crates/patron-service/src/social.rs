//! Checking social sign-in credentials with their providers: Google and Apple ID tokens
//! (RS256 JWTs) against the provider's published keys, Facebook access tokens through the
//! Graph API's `debug_token`. The endpoints are configuration, so tests serve their own.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use serde_json::Value;

/// Keys are kept this long when the provider says nothing (`Cache-Control: max-age`).
const DEFAULT_KEY_LIFETIME: Duration = Duration::from_secs(3600);
/// An unknown key id refetches the keys at most this often.
const REFETCH_AFTER: Duration = Duration::from_secs(60);
/// Clock skew allowed on `exp` and `iat`, seconds.
const LEEWAY_SECS: i64 = 60;
/// Google's ID-token issuers.
const GOOGLE_ISSUERS: [&str; 2] = ["https://accounts.google.com", "accounts.google.com"];
/// Apple's ID-token issuer.
const APPLE_ISSUER: &str = "https://appleid.apple.com";

/// Where the providers are reached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SocialEndpoints {
    /// Google's JWKS.
    pub google_jwks_url: String,
    /// Apple's JWKS.
    pub apple_jwks_url: String,
    /// Facebook's Graph API base.
    pub facebook_graph_url: String,
    /// How long one HTTP call to a provider may take.
    pub timeout: Duration,
}

/// Who a provider says the credential belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ProviderIdentity {
    /// The provider's stable id of the person (`sub`).
    pub subject: String,
    /// Their email, if the provider shares it.
    pub email: Option<String>,
    /// Whether the provider asserts it verified that email.
    pub email_verified: bool,
    /// Given name.
    pub first_name: Option<String>,
    /// Family name.
    pub last_name: Option<String>,
}

/// Why a credential was not accepted.
#[derive(Debug, thiserror::Error)]
pub enum SocialError {
    /// The credential is forged, expired, for another application, or malformed.
    #[error("{0}")]
    Invalid(String),
    /// The provider could not be asked.
    #[error("{0}")]
    Unavailable(String),
}

/// The keys of one JWKS URL, and when they were fetched.
struct CachedKeys {
    keys: JwkSet,
    fetched: Instant,
    fresh_until: Instant,
}

/// Checks credentials with the providers; keeps their keys per `Cache-Control`.
pub struct SocialVerifier {
    http: reqwest::Client,
    endpoints: SocialEndpoints,
    keys: Mutex<HashMap<String, CachedKeys>>,
}

/// The claims Patron reads from an ID token.
#[derive(Debug, Deserialize)]
struct Claims {
    sub: String,
    exp: i64,
    iat: Option<i64>,
    email: Option<String>,
    email_verified: Option<Value>,
    given_name: Option<String>,
    family_name: Option<String>,
}

impl SocialVerifier {
    /// A verifier for these endpoints.
    pub fn new(endpoints: SocialEndpoints) -> Self {
        let http = reqwest::Client::builder()
            .timeout(endpoints.timeout)
            .build()
            .unwrap_or_default();
        Self {
            http,
            endpoints,
            keys: Mutex::new(HashMap::new()),
        }
    }

    /// A Google ID token for the client id `audience`.
    pub async fn google(
        &self,
        token: &str,
        audience: &str,
        now: DateTime<Utc>,
    ) -> Result<ProviderIdentity, SocialError> {
        let claims = self
            .id_token(
                &self.endpoints.google_jwks_url,
                token,
                audience,
                &GOOGLE_ISSUERS,
                now,
            )
            .await?;
        Ok(identity(claims))
    }

    /// An Apple ID token for the client id `audience`, whose subject must be
    /// `user_identifier`.
    pub async fn apple(
        &self,
        token: &str,
        audience: &str,
        user_identifier: &str,
        now: DateTime<Utc>,
    ) -> Result<ProviderIdentity, SocialError> {
        let claims = self
            .id_token(
                &self.endpoints.apple_jwks_url,
                token,
                audience,
                &[APPLE_ISSUER],
                now,
            )
            .await?;
        if claims.sub != user_identifier {
            return Err(SocialError::Invalid(
                "the token is not the user_identifier's".to_owned(),
            ));
        }
        Ok(identity(claims))
    }

    /// A Facebook access token of the app `app_id` for the user `user_id`: checked with
    /// `debug_token` (valid, same app, same user), then the profile is read. Facebook does
    /// not say it verified the email, so it never links to an existing account.
    pub async fn facebook(
        &self,
        token: &str,
        app_id: &str,
        app_secret: &str,
        user_id: &str,
    ) -> Result<ProviderIdentity, SocialError> {
        let base = self.endpoints.facebook_graph_url.trim_end_matches('/');
        let debug = self
            .get_json(
                &format!("{base}/debug_token"),
                &[
                    ("input_token", token),
                    ("access_token", &format!("{app_id}|{app_secret}")),
                ],
            )
            .await?;
        let data = &debug["data"];
        let valid = data["is_valid"].as_bool() == Some(true)
            && data["app_id"].as_str() == Some(app_id)
            && data["user_id"].as_str() == Some(user_id);
        if !valid {
            return Err(SocialError::Invalid(
                "the Facebook token is not valid for this application and user".to_owned(),
            ));
        }
        let profile = self
            .get_json(
                &format!("{base}/me"),
                &[
                    ("fields", "id,email,first_name,last_name"),
                    ("access_token", token),
                ],
            )
            .await?;
        if profile["id"].as_str() != Some(user_id) {
            return Err(SocialError::Invalid(
                "the Facebook profile is another user's".to_owned(),
            ));
        }
        let text = |key: &str| profile[key].as_str().map(str::to_owned);
        Ok(ProviderIdentity {
            subject: user_id.to_owned(),
            email: text("email"),
            email_verified: false,
            first_name: text("first_name"),
            last_name: text("last_name"),
        })
    }

    /// Checks an RS256 ID token: a key of `jwks_url` by `kid`, the audience, an issuer of
    /// `issuers`, and `exp`/`iat` against `now` with a minute of leeway.
    async fn id_token(
        &self,
        jwks_url: &str,
        token: &str,
        audience: &str,
        issuers: &[&str],
        now: DateTime<Utc>,
    ) -> Result<Claims, SocialError> {
        let invalid = |why: &str| SocialError::Invalid(format!("the ID token {why}"));
        if audience.is_empty() {
            return Err(SocialError::Invalid(
                "the application has no client id for this provider (social_tokens.*.app_id)"
                    .to_owned(),
            ));
        }
        let header =
            jsonwebtoken::decode_header(token).map_err(|_| invalid("is not a signed JWT"))?;
        if header.alg != Algorithm::RS256 {
            return Err(invalid("is not signed with RS256"));
        }
        let kid = header.kid.ok_or_else(|| invalid("names no key (kid)"))?;
        let key = self.key(jwks_url, &kid).await?;
        let mut validation = Validation::new(Algorithm::RS256);
        validation.set_audience(&[audience]);
        validation.set_issuer(issuers);
        validation.validate_exp = false;
        validation.validate_nbf = false;
        validation.required_spec_claims = ["sub", "aud", "iss", "exp"]
            .into_iter()
            .map(str::to_owned)
            .collect();
        let claims = jsonwebtoken::decode::<Claims>(token, &key, &validation)
            .map_err(|error| invalid(&format!("is refused: {error}")))?
            .claims;
        let now = now.timestamp();
        if claims.exp + LEEWAY_SECS < now {
            return Err(invalid("has expired"));
        }
        if claims.iat.is_some_and(|iat| iat - LEEWAY_SECS > now) {
            return Err(invalid("is issued in the future"));
        }
        Ok(claims)
    }

    /// The key `kid` of `url`: from the cache while fresh; an unknown `kid` refetches, at
    /// most once a minute.
    async fn key(&self, url: &str, kid: &str) -> Result<DecodingKey, SocialError> {
        let now = Instant::now();
        let cached = {
            let keys = self.keys.lock().map_err(|_| unavailable("key cache"))?;
            keys.get(url).map(|entry| {
                let fresh = entry.fresh_until > now;
                let may_refetch = now.duration_since(entry.fetched) >= REFETCH_AFTER;
                (entry.keys.find(kid).cloned(), fresh, may_refetch)
            })
        };
        match cached {
            Some((Some(jwk), true, _)) => return decoding_key(&jwk),
            Some((None, true, false)) => {
                return Err(SocialError::Invalid(
                    "the ID token's key is not one of the provider's".to_owned(),
                ))
            }
            _ => {}
        }
        let response = self
            .http
            .get(url)
            .send()
            .await
            .map_err(|error| transport_failure("the provider's keys", &error))?;
        if !response.status().is_success() {
            return Err(unavailable(&format!(
                "the provider's keys: HTTP {}",
                response.status()
            )));
        }
        let lifetime = max_age(response.headers()).unwrap_or(DEFAULT_KEY_LIFETIME);
        let keys: JwkSet = response
            .json()
            .await
            .map_err(|_| unavailable("the provider's keys are unreadable"))?;
        let jwk = keys.find(kid).cloned();
        if let Ok(mut cache) = self.keys.lock() {
            cache.insert(
                url.to_owned(),
                CachedKeys {
                    keys,
                    fetched: now,
                    fresh_until: now + lifetime,
                },
            );
        }
        match jwk {
            Some(jwk) => decoding_key(&jwk),
            None => Err(SocialError::Invalid(
                "the ID token's key is not one of the provider's".to_owned(),
            )),
        }
    }

    /// A Graph API call. Its query carries the app's and the shopper's tokens, so no error
    /// made from it names the URL: failures are told by their kind only.
    async fn get_json(&self, url: &str, query: &[(&str, &str)]) -> Result<Value, SocialError> {
        let response = self
            .http
            .get(url)
            .query(query)
            .send()
            .await
            .map_err(|error| transport_failure("Facebook", &error))?;
        let status = response.status();
        if status.is_client_error() {
            return Err(SocialError::Invalid(
                "Facebook refused the token".to_owned(),
            ));
        }
        if !status.is_success() {
            return Err(unavailable(&format!("Facebook answered {status}")));
        }
        response
            .json()
            .await
            .map_err(|_| unavailable("Facebook's answer is not JSON"))
    }
}

/// A provider call that got no usable answer, told by its kind alone: reqwest's own
/// message names the URL, whose query may carry a secret (Facebook's app token).
fn transport_failure(provider: &str, error: &reqwest::Error) -> SocialError {
    let what = if error.is_timeout() {
        "did not answer in time"
    } else if error.is_connect() {
        "cannot be reached"
    } else {
        "closed the connection without an answer"
    };
    unavailable(&format!("{provider} {what}"))
}

fn unavailable(what: &str) -> SocialError {
    SocialError::Unavailable(format!("cannot check the credential: {what}"))
}

fn decoding_key(jwk: &jsonwebtoken::jwk::Jwk) -> Result<DecodingKey, SocialError> {
    DecodingKey::from_jwk(jwk).map_err(|_| unavailable("a provider key is unusable"))
}

fn identity(claims: Claims) -> ProviderIdentity {
    // Apple sends `email_verified` as the string "true".
    let email_verified = match &claims.email_verified {
        Some(Value::Bool(verified)) => *verified,
        Some(Value::String(text)) => text == "true",
        _ => false,
    };
    ProviderIdentity {
        subject: claims.sub,
        email: claims.email,
        email_verified,
        first_name: claims.given_name,
        last_name: claims.family_name,
    }
}

/// `max-age` of a `Cache-Control` header, at least a minute.
fn max_age(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let value = headers.get(reqwest::header::CACHE_CONTROL)?.to_str().ok()?;
    value
        .split(',')
        .filter_map(|part| part.trim().strip_prefix("max-age="))
        .find_map(|seconds| seconds.trim().parse::<u64>().ok())
        .map(|seconds| Duration::from_secs(seconds).max(REFETCH_AFTER))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn max_age_is_read_from_cache_control_and_kept_at_least_a_minute() {
        let mut headers = reqwest::header::HeaderMap::new();
        assert_eq!(max_age(&headers), None);
        headers.insert(
            reqwest::header::CACHE_CONTROL,
            reqwest::header::HeaderValue::from_static("public, max-age=21600, must-revalidate"),
        );
        assert_eq!(max_age(&headers), Some(Duration::from_secs(21600)));
        headers.insert(
            reqwest::header::CACHE_CONTROL,
            reqwest::header::HeaderValue::from_static("max-age=5"),
        );
        assert_eq!(max_age(&headers), Some(REFETCH_AFTER));
    }

    #[test]
    fn apple_verification_strings_count() {
        let claims = |verified: Value| Claims {
            sub: "s".into(),
            exp: 0,
            iat: None,
            email: Some("a@privaterelay.appleid.com".into()),
            email_verified: Some(verified),
            given_name: None,
            family_name: None,
        };
        assert!(identity(claims(Value::String("true".into()))).email_verified);
        assert!(identity(claims(Value::Bool(true))).email_verified);
        assert!(!identity(claims(Value::String("false".into()))).email_verified);
    }
}

//! Platform clients and their OAuth tokens: client authentication, the client-credentials
//! and refresh-token grants (refresh tokens work once), and access-token lookup.

use std::sync::Arc;

use chrono::Duration;
use patron_domain::ids::{CompanyId, ObjectId};
use patron_domain::scope::Scope;
use patron_domain::secret;
use patron_store::{ApiClient, ClientStore, Rotation, TokenGrant, TokenKind, TokenStore};

use super::ServiceError;
use crate::clock::Clock;

/// How long issued tokens last.
#[derive(Debug, Clone, Copy)]
pub struct TokenLifetimes {
    /// Access tokens.
    pub access: Duration,
    /// Refresh tokens.
    pub refresh: Duration,
}

/// Tokens just issued: the secrets to hand out (only their digests are stored).
#[derive(Debug, Clone)]
pub struct IssuedTokens {
    /// The bearer access token.
    pub access_token: String,
    /// The refresh token.
    pub refresh_token: String,
    /// Seconds the access token lasts.
    pub expires_in: i64,
    /// What the access token may do.
    pub scopes: Vec<Scope>,
}

/// How long an operator stays signed in to the console.
pub const OPERATOR_SESSION_LIFETIME: Duration = Duration::hours(8);

/// An operator signed in to the console with a platform client's credentials: the session
/// secret for its cookie (stored only as a digest).
#[derive(Debug, Clone)]
pub struct OperatorSession {
    /// The cookie's secret.
    pub token: String,
    /// The client signed in as.
    pub client: ApiClient,
}

/// An OAuth refusal with its RFC 6749 error name.
fn refused(error: &'static str, message: impl Into<String>) -> ServiceError {
    ServiceError::OAuth {
        error,
        message: message.into(),
    }
}

/// Platform clients' tokens.
#[derive(Clone)]
pub struct Tokens {
    clients: Arc<dyn ClientStore>,
    tokens: Arc<dyn TokenStore>,
    lifetimes: TokenLifetimes,
    clock: Arc<dyn Clock>,
}

impl Tokens {
    /// Tokens of the clients in `clients`, kept in `tokens`.
    pub fn new(
        clients: Arc<dyn ClientStore>,
        tokens: Arc<dyn TokenStore>,
        lifetimes: TokenLifetimes,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            clients,
            tokens,
            lifetimes,
            clock,
        }
    }

    /// The client with this id and secret in `company`.
    pub async fn authenticate_client(
        &self,
        company: &CompanyId,
        client_id: &str,
        client_secret: &str,
    ) -> Result<ApiClient, ServiceError> {
        self.verified_client(client_id, client_secret)
            .await?
            .filter(|client| &client.company_id == company)
            .ok_or_else(invalid_client)
    }

    /// The client with this id and secret, if they match. The secret is compared by digest
    /// in constant time, and an unknown client costs the same as a wrong secret.
    async fn verified_client(
        &self,
        client_id: &str,
        client_secret: &str,
    ) -> Result<Option<ApiClient>, ServiceError> {
        let client = self.clients.find_client(client_id).await?;
        let expected = client.as_ref().map_or_else(
            || secret::digest("unknown-client"),
            |c| c.secret_digest.clone(),
        );
        let secret_ok = secret::matches(client_secret, &expected);
        Ok(client.filter(|_| secret_ok))
    }

    /// Signs an operator in to the console with a platform client's id and secret: a
    /// session of [`OPERATOR_SESSION_LIFETIME`], kept apart from OAuth tokens (its secret
    /// is no bearer token). `replacing`, the session the browser still held, ends.
    pub async fn sign_in_operator(
        &self,
        client_id: &str,
        client_secret: &str,
        replacing: Option<&str>,
    ) -> Result<OperatorSession, ServiceError> {
        let client = self
            .verified_client(client_id, client_secret)
            .await?
            .ok_or_else(invalid_client)?;
        if let Some(old) = replacing {
            self.sign_out(old).await?;
        }
        let now = self.clock.now();
        let token = secret::generate_secret();
        self.tokens
            .start_console_session(
                &secret::digest(&token),
                &client.client_id,
                now,
                now + OPERATOR_SESSION_LIFETIME,
            )
            .await?;
        Ok(OperatorSession { token, client })
    }

    /// The client (with its current company and scopes) of the live console session with
    /// this secret.
    pub async fn operator(&self, token: &str) -> Result<Option<ApiClient>, ServiceError> {
        Ok(self
            .tokens
            .find_console_session(&secret::digest(token), self.clock.now())
            .await?)
    }

    /// Ends an operator's console session: its cookie stops working at once.
    pub async fn sign_out(&self, token: &str) -> Result<(), ServiceError> {
        self.tokens
            .end_console_session(&secret::digest(token))
            .await?;
        Ok(())
    }

    /// The client-credentials grant: the client's scopes, narrowed to `requested`
    /// (comma- or space-separated) when given.
    pub async fn client_credentials(
        &self,
        client: &ApiClient,
        requested: Option<&str>,
    ) -> Result<IssuedTokens, ServiceError> {
        let scopes = granted_scopes(client, requested)?;
        let (grants, issued) = self.issue(client, scopes);
        self.tokens.insert_tokens(&grants).await?;
        Ok(issued)
    }

    /// The refresh-token grant: the refresh token is spent (it works once, even under
    /// concurrent use) and fresh tokens are issued with its scopes that the client still
    /// has. A refresh token presented a second time means it leaked: its whole family,
    /// access tokens included, is revoked and the client must authenticate again.
    pub async fn refresh(
        &self,
        client: &ApiClient,
        refresh_token: &str,
    ) -> Result<IssuedTokens, ServiceError> {
        let (grants, mut issued) = self.issue(client, client.scopes.clone());
        match self
            .tokens
            .rotate_refresh_token(
                &secret::digest(refresh_token),
                &client.client_id,
                &grants,
                self.clock.now(),
            )
            .await?
        {
            Rotation::Rotated(spent) => {
                issued.scopes = spent
                    .scopes
                    .into_iter()
                    .filter(|scope| client.scopes.contains(scope))
                    .collect();
                Ok(issued)
            }
            Rotation::Replayed => {
                tracing::warn!(
                    client_id = %client.client_id,
                    "a spent refresh token was presented again: its token family is revoked"
                );
                Err(refused(
                    "invalid_grant",
                    "the refresh token was already used: every token issued from it is revoked",
                ))
            }
            Rotation::Invalid => Err(refused(
                "invalid_grant",
                "the refresh token is invalid, expired or already used",
            )),
        }
    }

    /// The unexpired access token with this bearer secret.
    pub async fn access_grant(&self, bearer: &str) -> Result<Option<TokenGrant>, ServiceError> {
        Ok(self
            .tokens
            .find_token(&secret::digest(bearer), TokenKind::Access, self.clock.now())
            .await?)
    }

    /// Fresh access and refresh tokens with `scopes`, in a new family (a rotation moves
    /// them into the spent token's family and narrows their scopes to its).
    fn issue(&self, client: &ApiClient, scopes: Vec<Scope>) -> (Vec<TokenGrant>, IssuedTokens) {
        let now = self.clock.now();
        let family_id = ObjectId::generate(now).to_string();
        let access = secret::generate_secret();
        let refresh = secret::generate_secret();
        let grant = |token: &str, kind, ttl: Duration| TokenGrant {
            digest: secret::digest(token),
            kind,
            client_id: client.client_id.clone(),
            company_id: client.company_id.clone(),
            scopes: scopes.clone(),
            family_id: family_id.clone(),
            created_at: now,
            expires_at: now + ttl,
        };
        let grants = vec![
            grant(&access, TokenKind::Access, self.lifetimes.access),
            grant(&refresh, TokenKind::Refresh, self.lifetimes.refresh),
        ];
        let issued = IssuedTokens {
            access_token: access,
            refresh_token: refresh,
            expires_in: self.lifetimes.access.num_seconds(),
            scopes,
        };
        (grants, issued)
    }
}

fn invalid_client() -> ServiceError {
    ServiceError::Unauthenticated("invalid client credentials".to_owned())
}

/// The client's scopes, narrowed to those requested.
fn granted_scopes(client: &ApiClient, requested: Option<&str>) -> Result<Vec<Scope>, ServiceError> {
    let Some(requested) = requested.filter(|r| !r.trim().is_empty()) else {
        return Ok(client.scopes.clone());
    };
    let requested = Scope::parse_list(requested)
        .map_err(|error| refused("invalid_scope", error.to_string()))?;
    if let Some(missing) = requested
        .iter()
        .find(|scope| !client.scopes.contains(scope))
    {
        return Err(refused(
            "invalid_scope",
            format!("the client may not be granted {missing}"),
        ));
    }
    Ok(requested)
}

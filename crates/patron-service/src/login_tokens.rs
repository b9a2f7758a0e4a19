//! Token login: an administrator mints a single-use, short-lived sign-in token for a
//! customer (Patron's own platform extension), and the storefront's `loginWithToken` spends
//! it for a session — how an app hands a signed-in shopper to the web.

use std::sync::Arc;

use chrono::Duration;
use patron_domain::ids::ObjectId;
use patron_domain::secret;
use patron_store::{Actor, Application, CredentialStore, CustomerStore};

use super::{Origin, ServiceError, Sessions, SignedIn};
use crate::clock::Clock;

/// How long a sign-in token can be used.
pub const LOGIN_TOKEN_LIFETIME: Duration = Duration::minutes(5);

/// Sign-in tokens.
#[derive(Clone)]
pub struct LoginTokens {
    credentials: Arc<dyn CredentialStore>,
    customers: Arc<dyn CustomerStore>,
    sessions: Sessions,
    clock: Arc<dyn Clock>,
}

impl LoginTokens {
    /// Tokens kept (as digests) in `credentials`.
    pub fn new(
        credentials: Arc<dyn CredentialStore>,
        customers: Arc<dyn CustomerStore>,
        sessions: Sessions,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            credentials,
            customers,
            sessions,
            clock,
        }
    }

    /// Mints a token for a live, active customer, audited under `actor`; returns it (only
    /// its digest is kept) and its lifetime.
    pub async fn mint(
        &self,
        application: &Application,
        customer_id: &ObjectId,
        actor: &Actor,
    ) -> Result<(String, Duration), ServiceError> {
        let token = secret::generate_secret();
        let now = self.clock.now();
        self.credentials
            .create_login_token(
                &application.id,
                customer_id,
                &secret::digest(&token),
                now + LOGIN_TOKEN_LIFETIME,
                actor,
                now,
            )
            .await?;
        Ok((token, LOGIN_TOKEN_LIFETIME))
    }

    /// Spends a token for a session of its customer (blocked: 403; archived or unknown
    /// token: refused alike).
    pub async fn sign_in(
        &self,
        application: &Application,
        token: &str,
        origin: Origin,
    ) -> Result<SignedIn, ServiceError> {
        if token.len() > 128 {
            return Err(ServiceError::InvalidLoginToken);
        }
        let customer_id = self
            .credentials
            .use_login_token(&application.id, &secret::digest(token), self.clock.now())
            .await?
            .ok_or(ServiceError::InvalidLoginToken)?;
        let customer = self
            .customers
            .find_customer(&application.id, &customer_id)
            .await?
            .filter(|customer| !customer.archived)
            .ok_or(ServiceError::InvalidLoginToken)?;
        if customer.deletion.is_some() {
            return Err(ServiceError::AccountDeleted);
        }
        if !customer.active {
            return Err(ServiceError::AccountBlocked);
        }
        let session = self
            .sessions
            .sign_in(application, &customer.id, origin)
            .await?;
        Ok(SignedIn { customer, session })
    }
}

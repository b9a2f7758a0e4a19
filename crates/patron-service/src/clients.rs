//! Platform API clients: registered, narrowed and revoked from the command line. Secrets
//! are returned once, here, and stored only as digests.

use std::sync::Arc;

use patron_domain::ids::{CompanyId, ObjectId};
use patron_domain::scope::Scope;
use patron_domain::{secret, DomainError};
use patron_store::{ApiClient, ClientStore, Entity, StoreError};
use serde::Serialize;

use super::applications::display_name;
use super::ServiceError;
use crate::clock::Clock;

/// A registered platform client and its secret (shown once).
#[derive(Debug, Serialize)]
pub struct CreatedClient {
    /// The OAuth client id.
    pub client_id: String,
    /// The OAuth client secret; only its digest is stored.
    pub client_secret: String,
    /// Company the client acts for.
    pub company_id: String,
    /// Scopes the client may be granted.
    pub scopes: Vec<String>,
}

/// The platform clients of every company.
#[derive(Clone)]
pub struct Clients {
    store: Arc<dyn ClientStore>,
    clock: Arc<dyn Clock>,
}

impl Clients {
    /// Clients kept in `store`.
    pub fn new(store: Arc<dyn ClientStore>, clock: Arc<dyn Clock>) -> Self {
        Self { store, clock }
    }

    /// Registers a platform API client for `company` with `scopes` (comma-separated).
    pub async fn create(
        &self,
        company: &str,
        scopes: &str,
        name: Option<&str>,
    ) -> Result<CreatedClient, ServiceError> {
        let now = self.clock.now();
        let company_id = CompanyId::parse(company)?;
        let scopes = scope_list(scopes)?;
        let client_id = ObjectId::generate(now).to_string();
        let client_secret = secret::generate_secret();
        self.store
            .create_client(&ApiClient {
                client_id: client_id.clone(),
                company_id: company_id.clone(),
                name: display_name("name", name.unwrap_or("platform client"))?,
                secret_digest: secret::digest(&client_secret),
                scopes: scopes.clone(),
                created_at: now,
            })
            .await?;
        Ok(CreatedClient {
            client_id,
            client_secret,
            company_id: company_id.to_string(),
            scopes: scope_names(&scopes),
        })
    }

    /// Deletes a platform client and every token issued to it.
    pub async fn revoke(&self, client_id: &str) -> Result<(), ServiceError> {
        if !self.store.revoke_client(client_id).await? {
            return Err(StoreError::not_found(Entity::Client, client_id).into());
        }
        Ok(())
    }

    /// Sets the scopes a platform client may be granted (comma-separated): its access
    /// tokens end at once, and its refresh tokens keep only these scopes when they rotate.
    pub async fn set_scopes(
        &self,
        client_id: &str,
        scopes: &str,
    ) -> Result<Vec<String>, ServiceError> {
        let scopes = scope_list(scopes)?;
        if !self.store.set_client_scopes(client_id, &scopes).await? {
            return Err(StoreError::not_found(Entity::Client, client_id).into());
        }
        Ok(scope_names(&scopes))
    }
}

/// A comma-separated list of at least one known scope.
fn scope_list(scopes: &str) -> Result<Vec<Scope>, DomainError> {
    let scopes = Scope::parse_list(scopes)?;
    if scopes.is_empty() {
        return Err(DomainError::invalid(
            "scopes",
            "at least one scope is required",
        ));
    }
    Ok(scopes)
}

fn scope_names(scopes: &[Scope]) -> Vec<String> {
    scopes
        .iter()
        .map(|scope| scope.as_str().to_owned())
        .collect()
}

//! The admin operations behind `patron app …` and `patron client …`. Secrets are returned
//! once, here, and stored only as digests.

use chrono::{DateTime, Utc};
use patron_domain::ids::{CompanyId, ObjectId};
use patron_domain::phone::Region;
use patron_domain::scope::Scope;
use patron_domain::{secret, DomainError};
use patron_store::{ApiClient, Application, StoreError, Stores};
use serde::Serialize;

/// Why an admin command failed.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    /// An argument is invalid.
    #[error("{0}")]
    Invalid(#[from] DomainError),
    /// The store refused or failed.
    #[error("{0}")]
    Store(#[from] StoreError),
    /// The application or client named does not exist.
    #[error("{0} not found")]
    NotFound(String),
    /// A use case refused or failed.
    #[error("{0}")]
    Service(#[from] patron_service::ServiceError),
}

/// A registered application and its storefront token (shown once).
#[derive(Debug, Serialize)]
pub struct CreatedApplication {
    /// Owning company.
    pub company_id: String,
    /// The new application's id.
    pub application_id: String,
    /// The storefront application token; only its digest is stored.
    pub application_token: String,
}

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

/// Registers a sales-channel application under `company`, with `id` if given.
pub async fn create_application(
    stores: &Stores,
    company: &str,
    name: &str,
    id: Option<&str>,
    default_region: Option<&str>,
    now: DateTime<Utc>,
) -> Result<CreatedApplication, AdminError> {
    let company_id = CompanyId::parse(company)?;
    let id = id
        .map(|id| ObjectId::parse("id", id))
        .transpose()?
        .unwrap_or_else(|| ObjectId::generate(now));
    let name = non_empty("name", name)?;
    let default_region = default_region
        .map(Region::parse)
        .transpose()?
        .unwrap_or_default();
    let token = secret::generate_secret();
    stores
        .applications
        .create_application(&Application {
            id: id.clone(),
            company_id: company_id.clone(),
            name,
            token_digest: secret::digest(&token),
            default_region,
            created_at: now,
        })
        .await?;
    Ok(CreatedApplication {
        company_id: company_id.to_string(),
        application_id: id.to_string(),
        application_token: token,
    })
}

/// Registers a platform API client for `company` with `scopes` (comma-separated).
pub async fn create_client(
    stores: &Stores,
    company: &str,
    scopes: &str,
    name: Option<&str>,
    now: DateTime<Utc>,
) -> Result<CreatedClient, AdminError> {
    let company_id = CompanyId::parse(company)?;
    let scopes = Scope::parse_list(scopes)?;
    if scopes.is_empty() {
        return Err(DomainError::invalid("scopes", "at least one scope is required").into());
    }
    let client_id = ObjectId::generate(now).to_string();
    let client_secret = secret::generate_secret();
    stores
        .clients
        .create_client(&ApiClient {
            client_id: client_id.clone(),
            company_id: company_id.clone(),
            name: non_empty("name", name.unwrap_or("platform client"))?,
            secret_digest: secret::digest(&client_secret),
            scopes: scopes.clone(),
            created_at: now,
        })
        .await?;
    Ok(CreatedClient {
        client_id,
        client_secret,
        company_id: company_id.to_string(),
        scopes: scopes
            .iter()
            .map(|scope| scope.as_str().to_owned())
            .collect(),
    })
}

/// A new storefront token for an application (shown once).
#[derive(Debug, Serialize)]
pub struct RotatedToken {
    /// The application.
    pub application_id: String,
    /// Its new storefront token; the old one stops working (within a second on every node).
    pub application_token: String,
}

/// Replaces an application's storefront token.
pub async fn rotate_application_token(
    stores: &Stores,
    application_id: &str,
) -> Result<RotatedToken, AdminError> {
    let id = ObjectId::parse("id", application_id)?;
    let token = secret::generate_secret();
    if !stores
        .applications
        .set_application_token(&id, &secret::digest(&token))
        .await?
    {
        return Err(AdminError::NotFound(format!("application {id}")));
    }
    Ok(RotatedToken {
        application_id: id.to_string(),
        application_token: token,
    })
}

/// Sets the Firebase password hash parameters of an application (its `hash_config` from
/// `firebase auth:export`): customers imported with Firebase hashes and salts are checked
/// with them, and their hash becomes argon2id at their first sign-in.
pub async fn set_firebase_scrypt(
    stores: &Stores,
    auth_configs: &patron_service::AuthConfigs,
    application_id: &str,
    parameters: &patron_service::hasher::FirebaseScrypt,
) -> Result<(), AdminError> {
    let id = ObjectId::parse("id", application_id)?;
    let application = stores
        .applications
        .find_application(&id)
        .await?
        .ok_or_else(|| AdminError::NotFound(format!("application {id}")))?;
    auth_configs
        .set_firebase_scrypt(&application, parameters)
        .await?;
    Ok(())
}

/// Deletes a platform client and every token issued to it.
pub async fn revoke_client(stores: &Stores, client_id: &str) -> Result<(), AdminError> {
    if !stores.clients.revoke_client(client_id).await? {
        return Err(AdminError::NotFound(format!("client {client_id}")));
    }
    Ok(())
}

/// Sets the scopes a platform client may be granted (comma-separated): its access tokens
/// end at once, and its refresh tokens keep only these scopes when they rotate.
pub async fn set_client_scopes(
    stores: &Stores,
    client_id: &str,
    scopes: &str,
) -> Result<Vec<String>, AdminError> {
    let scopes = Scope::parse_list(scopes)?;
    if scopes.is_empty() {
        return Err(DomainError::invalid("scopes", "at least one scope is required").into());
    }
    if !stores.clients.set_client_scopes(client_id, &scopes).await? {
        return Err(AdminError::NotFound(format!("client {client_id}")));
    }
    Ok(scopes
        .iter()
        .map(|scope| scope.as_str().to_owned())
        .collect())
}

fn non_empty(field: &str, value: &str) -> Result<String, DomainError> {
    let value = value.trim();
    if value.is_empty() || value.chars().count() > 200 {
        return Err(DomainError::invalid(field, "must be 1 to 200 characters"));
    }
    Ok(value.to_owned())
}

//! The applications (sales channels) of a company: registered and given a new storefront
//! token from the command line, listed by the console.

use std::sync::Arc;

use patron_domain::ids::{CompanyId, ObjectId};
use patron_domain::phone::Region;
use patron_domain::{secret, DomainError};
use patron_store::{Application, ApplicationStore, Entity, StoreError};
use serde::Serialize;

use super::ServiceError;
use crate::clock::Clock;

/// Most applications one company lists.
pub const MAX_APPLICATIONS: u32 = 500;

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

/// A new storefront token for an application (shown once).
#[derive(Debug, Serialize)]
pub struct RotatedToken {
    /// The application.
    pub application_id: String,
    /// Its new storefront token; the old one stops working (within a second on every node).
    pub application_token: String,
}

/// What a new application is given.
#[derive(Debug, Default)]
pub struct NewApplication<'a> {
    /// Owning company.
    pub company: &'a str,
    /// Display name.
    pub name: &'a str,
    /// The id to register it under (a new one when absent).
    pub id: Option<&'a str>,
    /// The region numbers without a country code are read in (`IN` when absent).
    pub default_region: Option<&'a str>,
}

/// A company's applications.
#[derive(Clone)]
pub struct Applications {
    store: Arc<dyn ApplicationStore>,
    clock: Arc<dyn Clock>,
}

impl Applications {
    /// Applications kept in `store`.
    pub fn new(store: Arc<dyn ApplicationStore>, clock: Arc<dyn Clock>) -> Self {
        Self { store, clock }
    }

    /// The application `id` (as given on the command line); `NotFound` when there is none.
    pub async fn find(&self, id: &str) -> Result<Application, ServiceError> {
        let id = ObjectId::parse("id", id)?;
        Ok(self
            .store
            .find_application(&id)
            .await?
            .ok_or_else(|| StoreError::not_found(Entity::Application, &id))?)
    }

    /// The company's applications, by name.
    pub async fn of_company(&self, company: &CompanyId) -> Result<Vec<Application>, ServiceError> {
        Ok(self
            .store
            .list_applications(company, MAX_APPLICATIONS)
            .await?)
    }

    /// The application `id` when it belongs to `company`; `NotFound` otherwise (another
    /// company's application is not told apart from a missing one).
    pub async fn of_company_by_id(
        &self,
        company: &CompanyId,
        id: &ObjectId,
    ) -> Result<Application, ServiceError> {
        self.store
            .find_application(id)
            .await?
            .filter(|application| &application.company_id == company)
            .ok_or_else(|| StoreError::not_found(Entity::Application, id).into())
    }

    /// Registers a sales-channel application; its token is returned once and only its
    /// digest kept.
    pub async fn create(
        &self,
        new: NewApplication<'_>,
    ) -> Result<CreatedApplication, ServiceError> {
        let now = self.clock.now();
        let company_id = CompanyId::parse(new.company)?;
        let id = new
            .id
            .map(|id| ObjectId::parse("id", id))
            .transpose()?
            .unwrap_or_else(|| ObjectId::generate(now));
        let name = display_name("name", new.name)?;
        let default_region = new
            .default_region
            .map(Region::parse)
            .transpose()?
            .unwrap_or_default();
        let token = secret::generate_secret();
        self.store
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

    /// Replaces an application's storefront token.
    pub async fn rotate_token(&self, application_id: &str) -> Result<RotatedToken, ServiceError> {
        let id = ObjectId::parse("id", application_id)?;
        let token = secret::generate_secret();
        if !self
            .store
            .set_application_token(&id, &secret::digest(&token))
            .await?
        {
            return Err(StoreError::not_found(Entity::Application, id).into());
        }
        Ok(RotatedToken {
            application_id: id.to_string(),
            application_token: token,
        })
    }
}

/// A display name: trimmed, 1 to 200 characters.
pub(crate) fn display_name(field: &str, value: &str) -> Result<String, DomainError> {
    let value = value.trim();
    if value.is_empty() || value.chars().count() > 200 {
        return Err(DomainError::invalid(field, "must be 1 to 200 characters"));
    }
    Ok(value.to_owned())
}

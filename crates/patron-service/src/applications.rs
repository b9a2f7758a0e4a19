//! The applications (sales channels) of a company, as an operator of that company sees them.

use std::sync::Arc;

use patron_domain::ids::{CompanyId, ObjectId};
use patron_store::{Application, ApplicationStore, Entity, StoreError};

use super::ServiceError;

/// Most applications one company lists.
pub const MAX_APPLICATIONS: u32 = 500;

/// A company's applications.
#[derive(Clone)]
pub struct Applications {
    store: Arc<dyn ApplicationStore>,
}

impl Applications {
    /// Applications kept in `store`.
    pub fn new(store: Arc<dyn ApplicationStore>) -> Self {
        Self { store }
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
}

//! Customers, their contacts and audit trail.

use super::prelude::*;

/// Customers of an application, with their contacts and audit trail.
#[async_trait]
pub trait CustomerStore: Send + Sync {
    /// Inserts a customer. Fails with [`StoreError::Conflict`] naming the email, phone or
    /// username another live customer holds.
    async fn create_customer(
        &self,
        customer: &NewCustomer,
        actor: &Actor,
    ) -> Result<Customer, StoreError>;
    /// Inserts many customers in one transaction with multi-row statements (imports and
    /// benchmark seeding); all or none. Contacts must not collide with each other or with
    /// stored live customers, or the whole batch fails with the conflict.
    async fn import_customers(
        &self,
        customers: &[NewCustomer],
        actor: &Actor,
    ) -> Result<(), StoreError>;
    /// The customer's audit trail, newest first, up to `limit` records.
    async fn audit_trail(
        &self,
        application_id: &ObjectId,
        customer_id: &ObjectId,
        limit: usize,
    ) -> Result<Vec<AuditRecord>, StoreError>;
    /// Up to `limit` live customers of the application with ids after `after`, in id order
    /// (the pages of an export, each read where the last ended).
    async fn customers_after(
        &self,
        application_id: &ObjectId,
        after: Option<&ObjectId>,
        limit: usize,
    ) -> Result<Vec<Customer>, StoreError>;
    /// Reads a customer (archived or not) of `application_id`.
    async fn find_customer(
        &self,
        application_id: &ObjectId,
        id: &ObjectId,
    ) -> Result<Option<Customer>, StoreError>;
    /// One page of customers matching `filter`, newest first, and the total count. Archived
    /// customers are left out unless the filter asks about `archive`.
    async fn list_customers(
        &self,
        application_id: &ObjectId,
        filter: Option<&CustomerFilter>,
        page: PageRequest,
    ) -> Result<(Vec<Customer>, u64), StoreError>;
    /// Live customers holding any of `emails` or `phones` (exact match on the canonical
    /// email, or on country code and national number).
    async fn search_customers(
        &self,
        application_id: &ObjectId,
        emails: &[Email],
        phones: &[Phone],
    ) -> Result<Vec<Customer>, StoreError>;
    /// Applies `changes` to a live customer; bumps `version` and `updated_at`.
    async fn update_customer(
        &self,
        application_id: &ObjectId,
        id: &ObjectId,
        changes: &CustomerChanges,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<Customer, StoreError>;
    /// Blocks (`active = false`) or unblocks every listed customer, all or none: unknown ids
    /// fail the whole call with [`StoreError::UnknownCustomers`].
    async fn set_active(
        &self,
        application_id: &ObjectId,
        ids: &[ObjectId],
        active: bool,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError>;
    /// Archives a customer: hidden from lists, its contacts freed.
    async fn archive_customer(
        &self,
        application_id: &ObjectId,
        id: &ObjectId,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError>;
    /// Restores an archived customer, unless another live customer took its email or phone.
    async fn restore_customer(
        &self,
        application_id: &ObjectId,
        id: &ObjectId,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError>;
    /// The customer linked to `subject` at `provider`, if any (archived ones included, so
    /// the caller can refuse them).
    async fn find_by_identity(
        &self,
        application_id: &ObjectId,
        provider: &str,
        subject: &str,
    ) -> Result<Option<Customer>, StoreError>;
    /// Links `subject` at `provider` to a customer (`Conflict::Id` when another customer
    /// has it).
    async fn link_identity(
        &self,
        application_id: &ObjectId,
        customer_id: &ObjectId,
        provider: &str,
        subject: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError>;
    /// Records a customer's own deletion request: sign-in ends now (every session is
    /// deleted), the account is anonymised after `purge_at` unless an administrator undoes
    /// it first; audited as `delete_request` with the actor's reason.
    async fn request_deletion(
        &self,
        application_id: &ObjectId,
        id: &ObjectId,
        purge_at: DateTime<Utc>,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError>;
    /// Undoes a deletion request whose grace window is still open (`Deleted` once the
    /// account was anonymised, `ArchiveState(false)` when there is none); audited as
    /// `undelete`.
    async fn cancel_deletion(
        &self,
        application_id: &ObjectId,
        id: &ObjectId,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError>;
    /// Anonymises up to `limit` customers whose grace window ended by `now`: names,
    /// contacts, attribute values, credentials, sessions and tokens go, the username
    /// becomes `deleted_<id>`, the contacts become free; the id and an `anonymise` audit
    /// entry stay. Returns the ids.
    async fn anonymise_due(
        &self,
        now: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<ObjectId>, StoreError>;
    /// Applies a customer's own change to one of their contacts, in the transaction that
    /// reads the current lists (the edit's rules see what is stored); a contact another
    /// live customer holds is a conflict. Returns the customer as it now is.
    async fn edit_contacts(
        &self,
        application_id: &ObjectId,
        id: &ObjectId,
        edit: &ContactEdit,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<Customer, StoreError>;
}

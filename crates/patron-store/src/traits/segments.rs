//! Attribute definitions and values, groups, and background jobs.

use super::prelude::*;

/// Customer attribute definitions and values.
#[async_trait]
pub trait AttributeStore: Send + Sync {
    /// Inserts a definition; [`Conflict::Slug`] when the application has the slug already.
    async fn create_definition(&self, definition: &AttributeDefinition) -> Result<(), StoreError>;
    /// Reads a definition of `application_id`.
    async fn find_definition(
        &self,
        application_id: &ObjectId,
        id: &ObjectId,
    ) -> Result<Option<AttributeDefinition>, StoreError>;
    /// The definitions of `application_id` with these slugs (unknown slugs are left out).
    async fn find_definitions_by_slug(
        &self,
        application_id: &ObjectId,
        slugs: &[String],
    ) -> Result<Vec<AttributeDefinition>, StoreError>;
    /// The definitions of `application_id` with these ids (unknown ids are left out).
    async fn find_definitions(
        &self,
        application_id: &ObjectId,
        ids: &[ObjectId],
    ) -> Result<Vec<AttributeDefinition>, StoreError>;
    /// One page of definitions matching `filter`, newest first, and the total count.
    async fn list_definitions(
        &self,
        application_id: &ObjectId,
        filter: &DefinitionFilter,
        page: PageRequest,
    ) -> Result<(Vec<AttributeDefinition>, u64), StoreError>;
    /// Saves `definition` (matched by id and application) if its stored version is still
    /// `definition.version - 1` and it is not locked: `Locked`, `NotFound`, `Conflict::Slug`,
    /// or `Conflict::Version` when another writer saved first.
    async fn update_definition(&self, definition: &AttributeDefinition) -> Result<(), StoreError>;
    /// Deletes a definition and every value of it; `Locked`, `NotFound`, or `InUse` naming
    /// the groups whose conditions use it.
    async fn delete_definition(
        &self,
        application_id: &ObjectId,
        id: &ObjectId,
    ) -> Result<(), StoreError>;
    /// Writes one value of a live customer; returns it and whether it was created.
    /// `NotFound` for an unknown definition or customer, `ArchiveState(true)` if archived.
    async fn upsert_value(
        &self,
        application_id: &ObjectId,
        customer_id: &ObjectId,
        value: &ValueWrite,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<(AttributeValue, bool), StoreError>;
    /// Writes the values of many customers; each customer's values are written all or
    /// none. Returns the ids of customers that are unknown or archived (nothing written for
    /// them); everyone else's values are written. With a `checkpoint` (at most 500
    /// customers), the writes, the job's progress and its failures (the given ones and
    /// the refused customers) commit in one transaction, or none of them does
    /// (`Conflict::Version` when the runner lost its lease).
    async fn bulk_upsert_values(
        &self,
        application_id: &ObjectId,
        customers: &[CustomerValues],
        actor: &Actor,
        now: DateTime<Utc>,
        checkpoint: Option<&Checkpoint>,
    ) -> Result<Vec<ObjectId>, StoreError>;
    /// A customer's value of a definition.
    async fn find_value(
        &self,
        application_id: &ObjectId,
        definition_id: &ObjectId,
        customer_id: &ObjectId,
    ) -> Result<Option<AttributeValue>, StoreError>;
    /// A value by its own id.
    async fn find_value_by_id(
        &self,
        application_id: &ObjectId,
        id: &ObjectId,
    ) -> Result<Option<AttributeValue>, StoreError>;
    /// Deletes a customer's value of a definition, audited (and announced) as an attributes
    /// change by `actor`; `NotFound` when there is none.
    async fn delete_value(
        &self,
        application_id: &ObjectId,
        definition_id: &ObjectId,
        customer_id: &ObjectId,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError>;
    /// The values of these customers for these definitions (all definitions when
    /// `definition_ids` is empty), in customer then value order.
    async fn values_of(
        &self,
        application_id: &ObjectId,
        customer_ids: &[ObjectId],
        definition_ids: &[ObjectId],
    ) -> Result<Vec<AttributeValue>, StoreError>;
    /// Deletes a customer's values of these definitions, in one transaction; returns how
    /// many existed. Audited (and announced) as an attributes change by `actor` when any did.
    async fn delete_values(
        &self,
        application_id: &ObjectId,
        customer_id: &ObjectId,
        definition_ids: &[ObjectId],
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<u64, StoreError>;
    /// One page of a customer's values, newest first, and their count.
    async fn list_values(
        &self,
        application_id: &ObjectId,
        customer_id: &ObjectId,
        page: PageRequest,
    ) -> Result<(Vec<AttributeValue>, u64), StoreError>;
}

/// Customer groups and their membership.
#[async_trait]
pub trait GroupStore: Send + Sync {
    /// Inserts a group under the application's next uid (the `uid` given is ignored),
    /// applies `changes` and stores `members_job` (the job that reads its member file), in
    /// one transaction; `UnknownCustomers` (nothing written) when a change names a customer
    /// the application does not have.
    async fn create_group(
        &self,
        group: &Group,
        changes: &MemberChanges,
        members_job: Option<&NewJob>,
    ) -> Result<Group, StoreError>;
    /// Reads a group of `application_id`.
    async fn find_group(
        &self,
        application_id: &ObjectId,
        id: &ObjectId,
    ) -> Result<Option<Group>, StoreError>;
    /// One page of groups matching `filter`, newest first, and the total count.
    async fn list_groups(
        &self,
        application_id: &ObjectId,
        filter: &GroupFilter,
        page: PageRequest,
    ) -> Result<(Vec<Group>, u64), StoreError>;
    /// Saves a group's fields, applies `changes` and stores `members_job`, in one
    /// transaction (`NotFound`, `UnknownCustomers`); returns the saved group with its
    /// version bumped.
    async fn update_group(
        &self,
        group: &Group,
        changes: &MemberChanges,
        members_job: Option<&NewJob>,
    ) -> Result<Group, StoreError>;
    /// Applies a job batch's member changes (ids resolved already) together with the
    /// job's progress, in one transaction (`Conflict::Version` when the lease was lost).
    async fn apply_member_batch(
        &self,
        group_id: &ObjectId,
        changes: &MemberChanges,
        checkpoint: &Checkpoint,
    ) -> Result<(), StoreError>;
    /// Records the outcome of building a group's members.
    async fn set_group_status(
        &self,
        group_id: &ObjectId,
        status: GroupStatus,
        error_count: Option<i64>,
        error_file_url: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError>;
    /// The live customers holding each email / phone / id, in order (`None`: no such
    /// customer).
    async fn resolve_customers(
        &self,
        application_id: &ObjectId,
        identifiers: &[Identifier],
    ) -> Result<Vec<Option<ObjectId>>, StoreError>;
    /// One page of a group's live members, newest first, and their count.
    async fn list_members(
        &self,
        application_id: &ObjectId,
        membership: &Membership,
        page: PageRequest,
    ) -> Result<(Vec<Customer>, u64), StoreError>;
    /// Whether a customer is a live member of the group, answered from indexes.
    async fn is_member(
        &self,
        application_id: &ObjectId,
        membership: &Membership,
        customer_id: &ObjectId,
    ) -> Result<bool, StoreError>;
}

/// Background jobs, leased by runners on any node.
#[async_trait]
pub trait JobStore: Send + Sync {
    /// Stores a new pending job and the rows refused before it started.
    async fn create_job(&self, job: &Job, failures: &[JobFailure]) -> Result<(), StoreError>;
    /// Reads a job of `application_id` (without its payload, which only runners read).
    async fn find_job(
        &self,
        application_id: &ObjectId,
        id: &ObjectId,
    ) -> Result<Option<Job>, StoreError>;
    /// Leases the oldest job that is pending, or running under an expired lease, to
    /// `owner` until `now + lease` (skipping rows other runners are claiming).
    async fn claim_job(
        &self,
        owner: &str,
        now: DateTime<Utc>,
        lease: Duration,
    ) -> Result<Option<Job>, StoreError>;
    /// Commits a batch's progress that wrote nothing else (`Conflict::Version` when the
    /// lease was lost).
    async fn checkpoint(&self, checkpoint: &Checkpoint) -> Result<(), StoreError>;
    /// Ends a job `owner` holds: `Done`, or `Failed` with `error`; an import's rows (which
    /// may carry password hashes) are dropped from its payload. False when the lease was lost.
    async fn finish_job(
        &self,
        id: &ObjectId,
        owner: &str,
        status: JobStatus,
        error: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError>;
    /// The job's refused rows after row `after` in input order, up to `limit` (a page of
    /// the error report: start with `i64::MIN`, continue after the last row read).
    async fn job_failures(
        &self,
        id: &ObjectId,
        after: i64,
        limit: usize,
    ) -> Result<Vec<JobFailure>, StoreError>;
    /// How many rows were refused for each reason.
    async fn failure_summary(&self, id: &ObjectId) -> Result<Vec<(String, i64)>, StoreError>;
    /// One page of the application's jobs of `kind` that pass `filter`, newest first, and
    /// how many pass it.
    async fn list_jobs(
        &self,
        application_id: &ObjectId,
        kind: JobKind,
        filter: &JobFilter,
        page: PageRequest,
    ) -> Result<(Vec<Job>, u64), StoreError>;
    /// Ends an export `owner` holds: done, `rows` customers written to `file`. False when
    /// the lease was lost.
    async fn finish_export(
        &self,
        id: &ObjectId,
        owner: &str,
        file: &str,
        rows: i64,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError>;
    /// Inserts a batch of imported customers (contacts, password hashes, attribute values,
    /// audit records and `customer.created` events) and moves the job's cursor as
    /// `checkpoint` says, in one transaction. A row whose email or phone a live customer or
    /// an earlier row of the batch holds is refused (`email_taken`, `phone_taken`) and the
    /// others land; a customer written concurrently may still fail the whole batch with
    /// [`StoreError::Conflict`] (nothing written), which a retry then refuses row by row.
    async fn import_batch(
        &self,
        application_id: &ObjectId,
        rows: &[ImportedCustomer],
        actor: &Actor,
        checkpoint: &Checkpoint,
    ) -> Result<(), StoreError>;
}

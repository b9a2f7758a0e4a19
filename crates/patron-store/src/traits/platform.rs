//! Applications, platform clients and their tokens, authentication configurations, health.

use super::prelude::*;

/// Sales-channel applications.
#[async_trait]
pub trait ApplicationStore: Send + Sync {
    /// Registers an application; fails with a conflict when the id is taken.
    async fn create_application(&self, application: &Application) -> Result<(), StoreError>;
    /// Reads an application by id.
    async fn find_application(&self, id: &ObjectId) -> Result<Option<Application>, StoreError>;
    /// The applications of `company`, by name (byte order; at most `limit`, the first by
    /// id).
    async fn list_applications(
        &self,
        company: &patron_domain::ids::CompanyId,
        limit: u32,
    ) -> Result<Vec<Application>, StoreError>;
    /// Replaces the digest of an application's storefront token; false when there is no
    /// such application.
    async fn set_application_token(
        &self,
        id: &ObjectId,
        token_digest: &str,
    ) -> Result<bool, StoreError>;
}

/// Platform API clients (OAuth client id and secret digest).
#[async_trait]
pub trait ClientStore: Send + Sync {
    /// Registers a client.
    async fn create_client(&self, client: &ApiClient) -> Result<(), StoreError>;
    /// Reads a client by its id.
    async fn find_client(&self, client_id: &str) -> Result<Option<ApiClient>, StoreError>;
    /// Deletes a client and every token issued to it; false when there was none.
    async fn revoke_client(&self, client_id: &str) -> Result<bool, StoreError>;
    /// Sets the scopes a client may be granted. Its access tokens end at once; its refresh
    /// tokens keep only the new scopes when they rotate. False when there is no such client.
    async fn set_client_scopes(
        &self,
        client_id: &str,
        scopes: &[Scope],
    ) -> Result<bool, StoreError>;
}

/// OAuth access and refresh tokens, kept as digests.
#[async_trait]
pub trait TokenStore: Send + Sync {
    /// Stores freshly issued tokens.
    async fn insert_tokens(&self, grants: &[TokenGrant]) -> Result<(), StoreError>;
    /// Finds an unexpired token of `kind` by digest.
    async fn find_token(
        &self,
        digest: &str,
        kind: TokenKind,
        now: DateTime<Utc>,
    ) -> Result<Option<TokenGrant>, StoreError>;
    /// Spends an unexpired refresh token of `client_id` and stores its replacements, in one
    /// transaction: of two concurrent rotations of one token, only one succeeds. The
    /// replacements join the spent token's family and keep only the spent token's scopes
    /// that they were also given (the client's current ones). A token presented again after
    /// it was spent is a replay: every token of its family, access tokens included, is
    /// deleted.
    async fn rotate_refresh_token(
        &self,
        digest: &str,
        client_id: &str,
        replacements: &[TokenGrant],
        now: DateTime<Utc>,
    ) -> Result<Rotation, StoreError>;
    /// Starts a console session of `client_id` under the digest of its cookie's secret.
    async fn start_console_session(
        &self,
        digest: &str,
        client_id: &str,
        created_at: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> Result<(), StoreError>;
    /// The client of the unexpired console session with this digest.
    async fn find_console_session(
        &self,
        digest: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<ApiClient>, StoreError>;
    /// Ends the console session with this digest; false when there was none.
    async fn end_console_session(&self, digest: &str) -> Result<bool, StoreError>;
    /// Deletes expired tokens and console sessions; returns how many.
    async fn purge_expired_tokens(&self, now: DateTime<Utc>) -> Result<u64, StoreError>;
}

/// Per-application authentication configuration documents.
#[async_trait]
pub trait AuthConfigStore: Send + Sync {
    /// The stored configuration of `application_id`, if it was ever saved.
    async fn find_auth_config(
        &self,
        application_id: &ObjectId,
    ) -> Result<Option<StoredAuthConfig>, StoreError>;
    /// Saves a new version if the stored version is still `expected_version` (`None`: nothing
    /// stored yet; the first save keeps the application's creation time as `created_at`,
    /// which is what the defaults showed). Returns `None` when another writer saved first;
    /// the caller re-reads, re-applies its update and tries again, so concurrent updates
    /// never lose each other.
    async fn save_auth_config(
        &self,
        application_id: &ObjectId,
        expected_version: Option<i64>,
        document: &serde_json::Map<String, serde_json::Value>,
        secrets: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<Option<StoredAuthConfig>, StoreError>;
}

/// Liveness of the database.
#[async_trait]
pub trait HealthStore: Send + Sync {
    /// Runs a trivial query.
    async fn ping(&self) -> Result<(), StoreError>;
    /// What waits in the outbox, the job table and the events table, and the connection
    /// pool's use (for `/metrics`).
    async fn backlogs(&self) -> Result<Backlogs, StoreError>;
}

//! Applications, platform clients, OAuth tokens, authentication configurations and health.

use super::prelude::*;

#[async_trait]
impl ApplicationStore for Store {
    async fn create_application(&self, application: &Application) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO applications (id, company_id, name, token_digest, default_region, \
             created_at) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(application.id.as_str())
        .bind(application.company_id.as_str())
        .bind(&application.name)
        .bind(&application.token_digest)
        .bind(application.default_region.code())
        .bind(to_millis(application.created_at))
        .execute(&self.pool)
        .await
        .map_err(|error| match unique_violation(&error) {
            Some(_) => StoreError::Conflict(Conflict::Id(application.id.to_string())),
            None => StoreError::Database(error),
        })?;
        Ok(())
    }

    async fn find_application(&self, id: &ObjectId) -> Result<Option<Application>, StoreError> {
        let row: Option<ApplicationRow> = sqlx::query_as(
            "SELECT id, company_id, name, token_digest, default_region, created_at FROM \
             applications WHERE id = $1",
        )
        .bind(id.as_str())
        .fetch_optional(&self.pool)
        .await?;
        row.map(Application::try_from).transpose()
    }

    async fn list_applications(
        &self,
        company: &patron_domain::ids::CompanyId,
        limit: u32,
    ) -> Result<Vec<Application>, StoreError> {
        let rows: Vec<ApplicationRow> = sqlx::query_as(
            "SELECT id, company_id, name, token_digest, default_region, created_at FROM \
             applications WHERE company_id = $1 ORDER BY id LIMIT $2",
        )
        .bind(company.as_str())
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        // Sorted here: the two databases collate names differently.
        let mut applications = rows
            .into_iter()
            .map(Application::try_from)
            .collect::<Result<Vec<_>, _>>()?;
        applications.sort_by(|a, b| a.name.cmp(&b.name).then_with(|| a.id.cmp(&b.id)));
        Ok(applications)
    }

    async fn set_application_token(
        &self,
        id: &ObjectId,
        token_digest: &str,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query("UPDATE applications SET token_digest = $1 WHERE id = $2")
            .bind(token_digest)
            .bind(id.as_str())
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() == 1)
    }
}

#[async_trait]
impl ClientStore for Store {
    async fn create_client(&self, client: &ApiClient) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO api_clients (client_id, company_id, name, secret_digest, scopes, \
             created_at) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&client.client_id)
        .bind(client.company_id.as_str())
        .bind(&client.name)
        .bind(&client.secret_digest)
        .bind(scopes_text(&client.scopes))
        .bind(to_millis(client.created_at))
        .execute(&self.pool)
        .await
        .map_err(|error| match unique_violation(&error) {
            Some(_) => StoreError::Conflict(Conflict::Id(client.client_id.clone())),
            None => StoreError::Database(error),
        })?;
        Ok(())
    }

    async fn find_client(&self, client_id: &str) -> Result<Option<ApiClient>, StoreError> {
        let row: Option<ClientRow> = sqlx::query_as(
            "SELECT client_id, company_id, name, secret_digest, scopes, created_at FROM \
             api_clients WHERE client_id = $1",
        )
        .bind(client_id)
        .fetch_optional(&self.pool)
        .await?;
        row.map(ApiClient::try_from).transpose()
    }

    async fn revoke_client(&self, client_id: &str) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        for sessions in [
            "DELETE FROM oauth_tokens WHERE client_id = $1",
            "DELETE FROM console_sessions WHERE client_id = $1",
        ] {
            sqlx::query(sessions)
                .bind(client_id)
                .execute(&mut *tx)
                .await?;
        }
        let done = sqlx::query("DELETE FROM api_clients WHERE client_id = $1")
            .bind(client_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(done.rows_affected() == 1)
    }

    async fn set_client_scopes(
        &self,
        client_id: &str,
        scopes: &[Scope],
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query("UPDATE api_clients SET scopes = $1 WHERE client_id = $2")
            .bind(scopes_text(scopes))
            .bind(client_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM oauth_tokens WHERE client_id = $1 AND kind = 'access'")
            .bind(client_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(done.rows_affected() == 1)
    }
}

impl Store {
    async fn insert_token_rows(
        conn: &mut Connection,
        grants: &[TokenGrant],
    ) -> Result<(), sqlx::Error> {
        for grant in grants {
            sqlx::query(
                "INSERT INTO oauth_tokens (token_digest, kind, client_id, company_id, scopes, \
                 family_id, expires_at, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(&grant.digest)
            .bind(grant.kind.as_str())
            .bind(&grant.client_id)
            .bind(grant.company_id.as_str())
            .bind(scopes_text(&grant.scopes))
            .bind(&grant.family_id)
            .bind(to_millis(grant.expires_at))
            .bind(to_millis(grant.created_at))
            .execute(&mut *conn)
            .await?;
        }
        Ok(())
    }
}

#[async_trait]
impl TokenStore for Store {
    async fn insert_tokens(&self, grants: &[TokenGrant]) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        Self::insert_token_rows(&mut tx, grants).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn find_token(
        &self,
        digest: &str,
        kind: TokenKind,
        now: DateTime<Utc>,
    ) -> Result<Option<TokenGrant>, StoreError> {
        let row: Option<TokenRow> = sqlx::query_as(&format!(
            "SELECT {TOKEN_COLUMNS} FROM oauth_tokens WHERE token_digest = $1 AND kind = $2 AND \
             expires_at > $3 AND used_at IS NULL"
        ))
        .bind(digest)
        .bind(kind.as_str())
        .bind(to_millis(now))
        .fetch_optional(&self.pool)
        .await?;
        row.map(TokenGrant::try_from).transpose()
    }

    async fn rotate_refresh_token(
        &self,
        digest: &str,
        client_id: &str,
        replacements: &[TokenGrant],
        now: DateTime<Utc>,
    ) -> Result<Rotation, StoreError> {
        let mut tx = self.begin_write().await?;
        let spent: Option<TokenRow> = sqlx::query_as(&format!(
            "UPDATE oauth_tokens SET used_at = $3 WHERE token_digest = $1 AND kind = 'refresh' \
             AND client_id = $2 AND expires_at > $3 AND used_at IS NULL RETURNING {TOKEN_COLUMNS}"
        ))
        .bind(digest)
        .bind(client_id)
        .bind(to_millis(now))
        .fetch_optional(&mut *tx)
        .await?;
        let Some(spent) = spent else {
            let replayed: Option<(String,)> = sqlx::query_as(
                "SELECT family_id FROM oauth_tokens WHERE token_digest = $1 AND kind = 'refresh' \
                 AND client_id = $2 AND used_at IS NOT NULL",
            )
            .bind(digest)
            .bind(client_id)
            .fetch_optional(&mut *tx)
            .await?;
            let Some((family_id,)) = replayed else {
                return Ok(Rotation::Invalid);
            };
            sqlx::query("DELETE FROM oauth_tokens WHERE family_id = $1")
                .bind(&family_id)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            return Ok(Rotation::Replayed);
        };
        let spent = TokenGrant::try_from(spent)?;
        let replacements: Vec<TokenGrant> = replacements
            .iter()
            .map(|grant| TokenGrant {
                scopes: spent
                    .scopes
                    .iter()
                    .filter(|scope| grant.scopes.contains(scope))
                    .cloned()
                    .collect(),
                family_id: spent.family_id.clone(),
                ..grant.clone()
            })
            .collect();
        Self::insert_token_rows(&mut tx, &replacements).await?;
        tx.commit().await?;
        Ok(Rotation::Rotated(spent))
    }

    async fn start_console_session(
        &self,
        digest: &str,
        client_id: &str,
        created_at: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO console_sessions (token_digest, client_id, created_at, expires_at) \
             VALUES ($1, $2, $3, $4)",
        )
        .bind(digest)
        .bind(client_id)
        .bind(to_millis(created_at))
        .bind(to_millis(expires_at))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn find_console_session(
        &self,
        digest: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<ApiClient>, StoreError> {
        let row: Option<ClientRow> = sqlx::query_as(
            "SELECT c.client_id, c.company_id, c.name, c.secret_digest, c.scopes, c.created_at \
             FROM console_sessions s JOIN api_clients c ON c.client_id = s.client_id \
             WHERE s.token_digest = $1 AND s.expires_at > $2",
        )
        .bind(digest)
        .bind(to_millis(now))
        .fetch_optional(&self.pool)
        .await?;
        row.map(ApiClient::try_from).transpose()
    }

    async fn end_console_session(&self, digest: &str) -> Result<bool, StoreError> {
        let done = sqlx::query("DELETE FROM console_sessions WHERE token_digest = $1")
            .bind(digest)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn purge_expired_tokens(&self, now: DateTime<Utc>) -> Result<u64, StoreError> {
        let tokens = sqlx::query("DELETE FROM oauth_tokens WHERE expires_at <= $1")
            .bind(to_millis(now))
            .execute(&self.pool)
            .await?;
        let sessions = sqlx::query("DELETE FROM console_sessions WHERE expires_at <= $1")
            .bind(to_millis(now))
            .execute(&self.pool)
            .await?;
        Ok(tokens.rows_affected() + sessions.rows_affected())
    }
}

#[async_trait]
impl AuthConfigStore for Store {
    async fn find_auth_config(
        &self,
        application_id: &ObjectId,
    ) -> Result<Option<StoredAuthConfig>, StoreError> {
        let row: Option<AuthConfigRow> = sqlx::query_as(
            "SELECT application_id, document, secrets, version, created_at, updated_at FROM \
             auth_configs WHERE application_id = $1",
        )
        .bind(application_id.as_str())
        .fetch_optional(&self.pool)
        .await?;
        row.map(StoredAuthConfig::try_from).transpose()
    }

    async fn save_auth_config(
        &self,
        application_id: &ObjectId,
        expected_version: Option<i64>,
        document: &serde_json::Map<String, serde_json::Value>,
        secrets: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<Option<StoredAuthConfig>, StoreError> {
        let text = serde_json::Value::Object(document.clone()).to_string();
        let at = to_millis(now);
        let saved: Option<AuthConfigRow> =
            match expected_version {
                None => {
                    sqlx::query_as(
                        "INSERT INTO auth_configs (application_id, document, secrets, version, \
                         created_at, updated_at) SELECT $1, $2, $3, 1, a.created_at, $4 FROM \
                         applications a WHERE a.id = $1 ON CONFLICT (application_id) DO NOTHING \
                         RETURNING application_id, document, secrets, version, created_at, updated_at",
                    )
                    .bind(application_id.as_str())
                    .bind(&text)
                    .bind(secrets)
                    .bind(at)
                    .fetch_optional(&self.pool)
                    .await?
                }
                Some(version) => sqlx::query_as(
                    "UPDATE auth_configs SET document = $1, secrets = $2, version = version + 1, \
                     updated_at = $3 WHERE application_id = $4 AND version = $5 RETURNING \
                     application_id, document, secrets, version, created_at, updated_at",
                )
                .bind(&text)
                .bind(secrets)
                .bind(at)
                .bind(application_id.as_str())
                .bind(version)
                .fetch_optional(&self.pool)
                .await?,
            };
        saved.map(StoredAuthConfig::try_from).transpose()
    }
}

#[async_trait]
impl HealthStore for Store {
    async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    async fn backlogs(&self) -> Result<Backlogs, StoreError> {
        let rows: Vec<(String, String, i64)> = sqlx::query_as(
            "SELECT 'outbox', status, COUNT(*) FROM outbox WHERE status IN ('pending', 'failed') \
             GROUP BY status UNION ALL SELECT 'jobs', status, COUNT(*) FROM jobs WHERE status IN \
             ('pending', 'running', 'failed') GROUP BY status UNION ALL SELECT 'events', status, \
             COUNT(*) FROM lifecycle_events WHERE status IN ('pending', 'failed') GROUP BY status",
        )
        .fetch_all(&self.pool)
        .await?;
        let mut backlogs = Backlogs {
            pool_size: self.pool.size(),
            pool_idle: u32::try_from(self.pool.num_idle()).unwrap_or(u32::MAX),
            ..Backlogs::default()
        };
        for (table, status, count) in rows {
            let slot = match (table.as_str(), status.as_str()) {
                ("outbox", "pending") => &mut backlogs.outbox_pending,
                ("outbox", _) => &mut backlogs.outbox_failed,
                ("jobs", "pending") => &mut backlogs.jobs_pending,
                ("jobs", "running") => &mut backlogs.jobs_running,
                ("jobs", _) => &mut backlogs.jobs_failed,
                ("events", "pending") => &mut backlogs.events_pending,
                _ => &mut backlogs.events_failed,
            };
            *slot = count;
        }
        Ok(backlogs)
    }
}

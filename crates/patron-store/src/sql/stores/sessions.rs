//! Storefront sessions.

use super::prelude::*;

/// Devices kept per customer (the newest).
const MAX_DEVICES: i64 = 20;

#[async_trait]
impl SessionStore for Store {
    async fn create_session(
        &self,
        session: &Session,
        actor: Option<&Actor>,
        device: Option<&KnownDevice>,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        let row = Self::customer_row(&mut tx, &session.application_id, &session.customer_id, true)
            .await?;
        if row.archived {
            return Err(StoreError::ArchiveState(true));
        }
        if !row.active {
            return Err(StoreError::Blocked);
        }
        sqlx::query(
            "INSERT INTO customer_sessions (id, token_digest, application_id, customer_id, domain, \
             user_agent, ip, created_at, expires_at, last_seen_at) VALUES ($1, $2, $3, $4, $5, $6, \
             $7, $8, $9, $10)",
        )
        .bind(session.id.as_str())
        .bind(&session.token_digest)
        .bind(session.application_id.as_str())
        .bind(session.customer_id.as_str())
        .bind(&session.domain)
        .bind(&session.user_agent)
        .bind(&session.ip)
        .bind(to_millis(session.created_at))
        .bind(to_millis(session.expires_at))
        .bind(to_millis(session.last_seen_at))
        .execute(&mut *tx)
        .await?;
        if let Some(actor) = actor {
            Self::audit(
                &mut tx,
                &session.application_id,
                session.customer_id.as_str(),
                "session_create",
                actor,
                session.created_at,
            )
            .await?;
        }
        if let Some(device) = device {
            Self::remember_device(&mut tx, device).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn device_owner(
        &self,
        application_id: &ObjectId,
        token_digest: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<ObjectId>, StoreError> {
        let mut conn = self.pool.acquire().await?;
        let owner: Option<(String,)> = sqlx::query_as(
            "SELECT customer_id FROM known_devices WHERE token_digest = $1 AND application_id = \
             $2 AND expires_at > $3",
        )
        .bind(token_digest)
        .bind(application_id.as_str())
        .bind(to_millis(now))
        .fetch_optional(&mut *conn)
        .await?;
        Ok(owner.map(|(id,)| ObjectId::from_trusted(id)))
    }

    async fn find_session(
        &self,
        application_id: &ObjectId,
        token_digest: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<(Session, Customer)>, StoreError> {
        let mut conn = self.pool.acquire().await?;
        let sql = format!(
            "SELECT {CUSTOMER_COLUMNS}, {SESSION_AS_PREFIXED} FROM customer_sessions s JOIN \
             customers c ON c.id = s.customer_id WHERE s.token_digest = $1 AND s.application_id = \
             $2 AND s.expires_at > $3 AND c.active AND NOT c.archived AND c.deleted_at IS NULL"
        );
        let row: Option<SessionCustomerRow> = sqlx::query_as(&sql)
            .bind(token_digest)
            .bind(application_id.as_str())
            .bind(to_millis(now))
            .fetch_optional(&mut *conn)
            .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        let session = row.session();
        let customer = Self::customer_with_contacts(&mut conn, row.customer).await?;
        Ok(Some((session, customer)))
    }

    async fn extend_session(
        &self,
        id: &ObjectId,
        expires_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE customer_sessions SET expires_at = $1, last_seen_at = $2 WHERE id = $3",
        )
        .bind(to_millis(expires_at))
        .bind(to_millis(now))
        .bind(id.as_str())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn list_sessions(
        &self,
        application_id: &ObjectId,
        customer_id: &ObjectId,
        now: DateTime<Utc>,
    ) -> Result<Vec<Session>, StoreError> {
        let mut conn = self.pool.acquire().await?;
        Self::customer_row(&mut conn, application_id, customer_id, false).await?;
        let sql = format!(
            "SELECT {SESSION_COLUMNS} FROM customer_sessions s WHERE s.application_id = $1 AND \
             s.customer_id = $2 AND s.expires_at > $3 ORDER BY s.id DESC"
        );
        let rows: Vec<SessionRow> = sqlx::query_as(&sql)
            .bind(application_id.as_str())
            .bind(customer_id.as_str())
            .bind(to_millis(now))
            .fetch_all(&mut *conn)
            .await?;
        Ok(rows.into_iter().map(Session::from).collect())
    }

    async fn end_session(
        &self,
        application_id: &ObjectId,
        customer_id: &ObjectId,
        session_id: &ObjectId,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query(
            "DELETE FROM customer_sessions WHERE id = $1 AND customer_id = $2 AND application_id = \
             $3",
        )
        .bind(session_id.as_str())
        .bind(customer_id.as_str())
        .bind(application_id.as_str())
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::not_found(Entity::Session, session_id));
        }
        Self::audit(
            &mut tx,
            application_id,
            customer_id.as_str(),
            "session_end",
            actor,
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn end_sessions(
        &self,
        application_id: &ObjectId,
        customer_id: &ObjectId,
        keep: Option<&ObjectId>,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<Vec<ObjectId>, StoreError> {
        let mut tx = self.begin_write().await?;
        Self::customer_row(&mut tx, application_id, customer_id, true).await?;
        let ended: Vec<(String,)> = sqlx::query_as(
            "DELETE FROM customer_sessions WHERE customer_id = $1 AND application_id = $2 AND id \
             <> $3 RETURNING id",
        )
        .bind(customer_id.as_str())
        .bind(application_id.as_str())
        .bind(keep.map_or("", ObjectId::as_str))
        .fetch_all(&mut *tx)
        .await?;
        if keep.is_none() {
            Self::forget_devices(&mut tx, customer_id.as_str()).await?;
        }
        Self::audit(
            &mut tx,
            application_id,
            customer_id.as_str(),
            "sessions_end",
            actor,
            now,
        )
        .await?;
        tx.commit().await?;
        let mut ended: Vec<ObjectId> = ended
            .into_iter()
            .map(|(id,)| ObjectId::from_trusted(id))
            .collect();
        ended.sort();
        Ok(ended)
    }
}

impl Store {
    /// Remembers a device its customer signed in on, or moves its last use and expiry
    /// when it is that customer's already; keeps the customer's 20 devices used last (in
    /// the caller's transaction).
    async fn remember_device(
        conn: &mut Connection,
        device: &KnownDevice,
    ) -> Result<(), StoreError> {
        // A device signed in on again: its last use and expiry move (only its own
        // customer's row; a digest is never moved to another customer).
        sqlx::query(
            "INSERT INTO known_devices (token_digest, application_id, customer_id, created_at, \
             last_used_at, expires_at) VALUES ($1, $2, $3, $4, $4, $5) ON CONFLICT \
             (token_digest) DO UPDATE SET last_used_at = excluded.last_used_at, expires_at = \
             excluded.expires_at WHERE known_devices.customer_id = excluded.customer_id",
        )
        .bind(&device.token_digest)
        .bind(device.application_id.as_str())
        .bind(device.customer_id.as_str())
        .bind(to_millis(device.created_at))
        .bind(to_millis(device.expires_at))
        .execute(&mut *conn)
        .await?;
        // A client that never sends the cookie back gets a new device at each sign-in:
        // only the customer's devices used last are kept.
        sqlx::query(
            "DELETE FROM known_devices WHERE customer_id = $1 AND token_digest NOT IN (SELECT \
             token_digest FROM known_devices WHERE customer_id = $1 ORDER BY last_used_at DESC, \
             token_digest LIMIT $2)",
        )
        .bind(device.customer_id.as_str())
        .bind(MAX_DEVICES)
        .execute(&mut *conn)
        .await?;
        Ok(())
    }
}

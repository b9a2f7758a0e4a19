//! Passwords, lockout, reset codes and pending registrations.

use super::prelude::*;

#[async_trait]
impl CredentialStore for Store {
    async fn register_customer(
        &self,
        customer: &NewCustomer,
        password_hash: Option<&str>,
        actor: &Actor,
    ) -> Result<Customer, StoreError> {
        let mut tx = self.begin_write().await?;
        let created = Self::insert_customer(&mut tx, customer, actor).await?;
        if let Some(hash) = password_hash {
            sqlx::query(
                "INSERT INTO customer_credentials (customer_id, password_hash, \
                 password_changed_at) VALUES ($1, $2, $3)",
            )
            .bind(customer.id.as_str())
            .bind(hash)
            .bind(to_millis(customer.created_at))
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(created)
    }

    async fn find_login(
        &self,
        application_id: &ObjectId,
        email: Option<&Email>,
        phone: Option<&Phone>,
    ) -> Result<Option<LoginRecord>, StoreError> {
        let mut sql = SqlBuilder::default();
        sql.push(&format!(
            "SELECT {CUSTOMER_COLUMNS} FROM customers c WHERE c.application_id = "
        ));
        sql.bind(SqlParam::Text(application_id.to_string()))
            .push(" AND c.archived = FALSE AND ");
        match (email, phone) {
            (Some(email), _) => {
                sql.push(
                    "c.id IN (SELECT e.customer_id FROM customer_emails e WHERE e.application_id = \
                     $1 AND NOT e.archived AND e.email = ",
                );
                sql.bind(SqlParam::Text(email.to_string())).push(")");
            }
            (None, Some(phone)) => {
                sql.push(
                    "c.id IN (SELECT p.customer_id FROM customer_phones p WHERE p.application_id = \
                     $1 AND NOT p.archived AND p.country_code = ",
                );
                sql.bind(SqlParam::Int(i64::from(phone.country_code())));
                sql.push(" AND p.phone = ")
                    .bind(SqlParam::Text(phone.national().to_owned()))
                    .push(")");
            }
            (None, None) => return Ok(None),
        }
        let mut conn = self.pool.acquire().await?;
        let row: Option<CustomerRow> =
            sqlx::query_as_with::<_, CustomerRow, _>(&sql.sql, arguments(&sql.params)?)
                .fetch_optional(&mut *conn)
                .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        let credential: Option<(String, i64)> = sqlx::query_as(
            "SELECT password_hash, password_changed_at FROM customer_credentials WHERE customer_id \
             = $1",
        )
        .bind(&row.id)
        .fetch_optional(&mut *conn)
        .await?;
        let customer = Self::customer_with_contacts(&mut conn, row).await?;
        Ok(Some(LoginRecord {
            customer,
            password_hash: credential.as_ref().map(|(hash, _)| hash.clone()),
            password_changed_at: credential.map(|(_, at)| from_millis(at)),
        }))
    }

    async fn claim_login_attempt(
        &self,
        application_id: &ObjectId,
        subject: LoginSubject<'_>,
        attempts: Option<u32>,
        lock_for: chrono::Duration,
        now: DateTime<Utc>,
    ) -> Result<AttemptClaim, StoreError> {
        let Some(attempts) = attempts else {
            return Ok(AttemptClaim::Allowed);
        };
        let now_ms = to_millis(now);
        let key = subject.key();
        // A lock that has run out starts a fresh count; a live lock claims nothing.
        let claimed: Option<(i64,)> = sqlx::query_as(
            "INSERT INTO login_failures (application_id, subject, failed_logins, locked_until, \
             last_failed_at) VALUES ($1, $2, 1, CASE WHEN $3 <= 1 THEN $4 ELSE NULL END, $5) \
             ON CONFLICT (application_id, subject) DO UPDATE SET failed_logins = CASE WHEN \
             login_failures.locked_until IS NOT NULL THEN 1 ELSE login_failures.failed_logins + \
             1 END, locked_until = CASE WHEN (CASE WHEN login_failures.locked_until IS NOT NULL \
             THEN 1 ELSE login_failures.failed_logins + 1 END) >= $3 THEN $4 ELSE NULL END, \
             last_failed_at = $5 WHERE login_failures.locked_until IS NULL OR \
             login_failures.locked_until <= $5 RETURNING failed_logins",
        )
        .bind(application_id.as_str())
        .bind(&key)
        .bind(i64::from(attempts))
        .bind(to_millis(now + lock_for))
        .bind(now_ms)
        .fetch_optional(&self.pool)
        .await?;
        if claimed.is_some() {
            return Ok(AttemptClaim::Allowed);
        }
        let locked: Option<(Option<i64>,)> = sqlx::query_as(
            "SELECT locked_until FROM login_failures WHERE application_id = $1 AND subject = $2",
        )
        .bind(application_id.as_str())
        .bind(&key)
        .fetch_optional(&self.pool)
        .await?;
        Ok(match locked {
            Some((Some(until),)) => AttemptClaim::Locked {
                until: from_millis(until),
            },
            _ => AttemptClaim::Allowed,
        })
    }

    async fn reset_login_failures(
        &self,
        application_id: &ObjectId,
        subject: LoginSubject<'_>,
    ) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM login_failures WHERE application_id = $1 AND subject = $2")
            .bind(application_id.as_str())
            .bind(subject.key())
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn claim_address_attempt(
        &self,
        address: &str,
        limit: u32,
        window: chrono::Duration,
        now: DateTime<Utc>,
    ) -> Result<AttemptClaim, StoreError> {
        let now_ms = to_millis(now);
        let window_ended = to_millis(now - window);
        // An ended window starts over at one; a full one claims nothing.
        let claimed: Option<(i64,)> = sqlx::query_as(
            "INSERT INTO sign_in_address_failures (address, window_start, failures) VALUES ($1, \
             $2, 1) ON CONFLICT (address) DO UPDATE SET failures = CASE WHEN \
             sign_in_address_failures.window_start <= $3 THEN 1 ELSE \
             sign_in_address_failures.failures + 1 END, window_start = CASE WHEN \
             sign_in_address_failures.window_start <= $3 THEN $2 ELSE \
             sign_in_address_failures.window_start END WHERE \
             sign_in_address_failures.window_start <= $3 OR sign_in_address_failures.failures < \
             $4 RETURNING failures",
        )
        .bind(address)
        .bind(now_ms)
        .bind(window_ended)
        .bind(i64::from(limit))
        .fetch_optional(&self.pool)
        .await?;
        if claimed.is_some() {
            return Ok(AttemptClaim::Allowed);
        }
        let started: Option<(i64,)> =
            sqlx::query_as("SELECT window_start FROM sign_in_address_failures WHERE address = $1")
                .bind(address)
                .fetch_optional(&self.pool)
                .await?;
        Ok(match started {
            Some((started,)) => AttemptClaim::Locked {
                until: from_millis(started) + window,
            },
            None => AttemptClaim::Allowed,
        })
    }

    async fn release_address_attempt(&self, address: &str) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE sign_in_address_failures SET failures = failures - 1 WHERE address = $1 AND \
             failures > 0",
        )
        .bind(address)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn upgrade_password_hash(
        &self,
        customer_id: &ObjectId,
        old_hash: &str,
        new_hash: &str,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE customer_credentials SET password_hash = $1 WHERE customer_id = $2 AND \
             password_hash = $3",
        )
        .bind(new_hash)
        .bind(customer_id.as_str())
        .bind(old_hash)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn password_hashes(
        &self,
        customer_id: &ObjectId,
        history: usize,
    ) -> Result<Vec<String>, StoreError> {
        let mut conn = self.pool.acquire().await?;
        let mut hashes: Vec<String> = sqlx::query_as::<_, (String,)>(
            "SELECT password_hash FROM customer_credentials WHERE customer_id = $1",
        )
        .bind(customer_id.as_str())
        .fetch_all(&mut *conn)
        .await?
        .into_iter()
        .map(|(hash,)| hash)
        .collect();
        if history > 0 {
            let older: Vec<(String,)> = sqlx::query_as(
                "SELECT password_hash FROM password_history WHERE customer_id = $1 ORDER BY id \
                 DESC LIMIT $2",
            )
            .bind(customer_id.as_str())
            .bind(i64::try_from(history).unwrap_or(i64::MAX))
            .fetch_all(&mut *conn)
            .await?;
            hashes.extend(older.into_iter().map(|(hash,)| hash));
        }
        Ok(hashes)
    }

    async fn set_password(
        &self,
        application_id: &ObjectId,
        customer_id: &ObjectId,
        change: &PasswordChange<'_>,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        Self::customer_row(&mut tx, application_id, customer_id, true).await?;
        Self::write_password(&mut tx, application_id, customer_id, change, actor, now).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn create_reset_code(
        &self,
        application_id: &ObjectId,
        customer_id: &ObjectId,
        code_digest: &str,
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO password_reset_codes (code_digest, application_id, customer_id, \
             created_at, expires_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(code_digest)
        .bind(application_id.as_str())
        .bind(customer_id.as_str())
        .bind(to_millis(now))
        .bind(to_millis(expires_at))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn issue_reset_link(
        &self,
        application_id: &ObjectId,
        customer_id: Option<&ObjectId>,
        code: &NewResetCode<'_>,
        message: &Message,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO password_reset_codes (code_digest, application_id, customer_id, \
             created_at, expires_at) SELECT $1, $2, id, $4, $5 FROM customers WHERE id = $3",
        )
        .bind(code.code_digest)
        .bind(application_id.as_str())
        .bind(customer_id.map_or("", ObjectId::as_str))
        .bind(to_millis(code.created_at))
        .bind(to_millis(code.expires_at))
        .execute(&mut *tx)
        .await?;
        Self::insert_outbox(&mut tx, application_id, message, code.created_at).await?;
        if customer_id.is_some() {
            tx.commit().await?;
        } else {
            tx.rollback().await?;
        }
        Ok(())
    }

    async fn find_reset_code(
        &self,
        application_id: &ObjectId,
        code_digest: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<ObjectId>, StoreError> {
        let found: Option<(String,)> = sqlx::query_as(
            "SELECT r.customer_id FROM password_reset_codes r JOIN customers c ON c.id = \
             r.customer_id WHERE r.code_digest = $1 AND r.application_id = $2 AND r.used_at IS \
             NULL AND r.expires_at > $3 AND c.active AND NOT c.archived AND c.deleted_at IS NULL",
        )
        .bind(code_digest)
        .bind(application_id.as_str())
        .bind(to_millis(now))
        .fetch_optional(&self.pool)
        .await?;
        Ok(found.map(|(id,)| ObjectId::from_trusted(id)))
    }

    async fn reset_password(
        &self,
        application_id: &ObjectId,
        code_digest: &str,
        change: &PasswordChange<'_>,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<ObjectId, StoreError> {
        let mut tx = self.begin_write().await?;
        let used: Option<(String,)> = sqlx::query_as(
            "UPDATE password_reset_codes SET used_at = $1 WHERE code_digest = $2 AND \
             application_id = $3 AND used_at IS NULL AND expires_at > $1 RETURNING customer_id",
        )
        .bind(to_millis(now))
        .bind(code_digest)
        .bind(application_id.as_str())
        .fetch_optional(&mut *tx)
        .await?;
        // The code is secret material: the error names no id.
        let unusable = || StoreError::not_found(Entity::ResetCode, "");
        let customer_id = ObjectId::from_trusted(used.ok_or_else(unusable)?.0);
        let row = Self::customer_row(&mut tx, application_id, &customer_id, true).await?;
        if row.archived || row.deleted_at.is_some() {
            return Err(unusable());
        }
        if !row.active {
            return Err(StoreError::Blocked);
        }
        sqlx::query(
            "UPDATE password_reset_codes SET used_at = $1 WHERE customer_id = $2 AND used_at IS \
             NULL",
        )
        .bind(to_millis(now))
        .bind(customer_id.as_str())
        .execute(&mut *tx)
        .await?;
        Self::write_password(&mut tx, application_id, &customer_id, change, actor, now).await?;
        tx.commit().await?;
        Ok(customer_id)
    }

    async fn save_pending_registration(
        &self,
        pending: &PendingRegistration,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO pending_registrations (token_digest, application_id, payload, created_at, \
             expires_at, email_verified, mobile_verified) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&pending.token_digest)
        .bind(pending.application_id.as_str())
        .bind(pending.payload.to_string())
        .bind(to_millis(pending.created_at))
        .bind(to_millis(pending.expires_at))
        .bind(pending.email_verified)
        .bind(pending.mobile_verified)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn create_login_token(
        &self,
        application_id: &ObjectId,
        customer_id: &ObjectId,
        token_digest: &str,
        expires_at: DateTime<Utc>,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        let row = Self::customer_row(&mut tx, application_id, customer_id, true).await?;
        if row.archived {
            return Err(StoreError::ArchiveState(true));
        }
        if row.deleted_at.is_some() {
            return Err(StoreError::Deleted);
        }
        if !row.active {
            return Err(StoreError::Blocked);
        }
        sqlx::query(
            "INSERT INTO login_tokens (token_digest, application_id, customer_id, created_at, \
             expires_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(token_digest)
        .bind(application_id.as_str())
        .bind(customer_id.as_str())
        .bind(to_millis(now))
        .bind(to_millis(expires_at))
        .execute(&mut *tx)
        .await?;
        Self::audit(
            &mut tx,
            application_id,
            customer_id.as_str(),
            "login_token",
            actor,
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn use_login_token(
        &self,
        application_id: &ObjectId,
        token_digest: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<ObjectId>, StoreError> {
        let mut tx = self.begin_write().await?;
        let used: Option<(String,)> = sqlx::query_as(
            "UPDATE login_tokens SET used_at = $1 WHERE token_digest = $2 AND application_id = \
             $3 AND used_at IS NULL AND expires_at > $1 RETURNING customer_id",
        )
        .bind(to_millis(now))
        .bind(token_digest)
        .bind(application_id.as_str())
        .fetch_optional(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(used.map(|(id,)| ObjectId::from_trusted(id)))
    }

    async fn find_pending_registration(
        &self,
        application_id: &ObjectId,
        token_digest: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<PendingRegistration>, StoreError> {
        let sql = format!(
            "SELECT {PENDING_COLUMNS} FROM pending_registrations WHERE token_digest = $1 AND \
             application_id = $2 AND expires_at > $3"
        );
        let row: Option<PendingRow> = sqlx::query_as(&sql)
            .bind(token_digest)
            .bind(application_id.as_str())
            .bind(to_millis(now))
            .fetch_optional(&self.pool)
            .await?;
        row.map(PendingRegistration::try_from).transpose()
    }

    async fn mark_pending_verified(
        &self,
        application_id: &ObjectId,
        token_digest: &str,
        email: bool,
        now: DateTime<Utc>,
    ) -> Result<Option<PendingRegistration>, StoreError> {
        let column = if email {
            "email_verified"
        } else {
            "mobile_verified"
        };
        let sql = format!(
            "UPDATE pending_registrations SET {column} = TRUE WHERE token_digest = $1 AND \
             application_id = $2 AND expires_at > $3 RETURNING {PENDING_COLUMNS}"
        );
        let mut tx = self.begin_write().await?;
        let row: Option<PendingRow> = sqlx::query_as(&sql)
            .bind(token_digest)
            .bind(application_id.as_str())
            .bind(to_millis(now))
            .fetch_optional(&mut *tx)
            .await?;
        tx.commit().await?;
        row.map(PendingRegistration::try_from).transpose()
    }

    async fn take_pending_registration(
        &self,
        application_id: &ObjectId,
        token_digest: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<PendingRegistration>, StoreError> {
        let sql = format!(
            "DELETE FROM pending_registrations WHERE token_digest = $1 AND application_id = $2 \
             AND expires_at > $3 RETURNING {PENDING_COLUMNS}"
        );
        let mut tx = self.begin_write().await?;
        let row: Option<PendingRow> = sqlx::query_as(&sql)
            .bind(token_digest)
            .bind(application_id.as_str())
            .bind(to_millis(now))
            .fetch_optional(&mut *tx)
            .await?;
        tx.commit().await?;
        row.map(PendingRegistration::try_from).transpose()
    }
}

/// The columns every pending-registration query selects, in [`PendingRow`] order.
const PENDING_COLUMNS: &str =
    "token_digest, application_id, payload, created_at, expires_at, email_verified, \
     mobile_verified";

#[derive(sqlx::FromRow)]
struct PendingRow {
    token_digest: String,
    application_id: String,
    payload: String,
    created_at: i64,
    expires_at: i64,
    email_verified: bool,
    mobile_verified: bool,
}

impl TryFrom<PendingRow> for PendingRegistration {
    type Error = StoreError;

    fn try_from(row: PendingRow) -> Result<Self, StoreError> {
        let payload = serde_json::from_str(&row.payload).map_err(|error| {
            StoreError::corrupt("pending_registrations", "", format!("payload: {error}"))
        })?;
        Ok(PendingRegistration {
            token_digest: row.token_digest,
            application_id: ObjectId::from_trusted(row.application_id),
            payload,
            created_at: from_millis(row.created_at),
            expires_at: from_millis(row.expires_at),
            email_verified: row.email_verified,
            mobile_verified: row.mobile_verified,
        })
    }
}

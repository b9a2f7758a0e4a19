//! The store implementations, written once and stamped for each backend by [`impl_stores`].
//!
//! Inside the macro, `$store` is the backend's store type, which provides:
//! `self.pool` (a `sqlx::Pool<$db>`), `self.begin_write()` (a transaction that takes the
//! write lock up front), `Self::DIALECT`, and `Self::LOCK_ROW` (`" FOR UPDATE"` where the
//! database has row locks, empty on SQLite whose write transactions are exclusive).

/// Implements every store trait for `$store` over database `$db`.
macro_rules! impl_stores {
    ($store:ty, $db:ty) => {
        mod store_impls {
        use super::*;
        use std::collections::BTreeSet;

        use async_trait::async_trait;
        use chrono::{DateTime, Utc};
        use patron_domain::customer::{Customer, CustomerChanges, EmailEntry, NewCustomer, PhoneEntry};
        use patron_domain::email::Email;
        use patron_domain::notification::Message;
        use patron_domain::ids::ObjectId;
        use patron_domain::page::PageRequest;
        use patron_domain::phone::Phone;
        use patron_domain::query::{CustomerFilter, FlagField};
        use patron_domain::time::{from_millis, to_millis};

        use $crate::error::{Conflict, StoreError};
        use $crate::records::{
            Actor, ApiClient, Application, AttemptClaim, LoginRecord, OutboxMessage, PasswordChange, PendingRegistration, Session, StoredAuthConfig, TokenGrant,
            TokenKind,
        };
        use $crate::sql::filter::push_filter;
        use $crate::sql::rows::{
            assemble, contacts_sql, scopes_text, unique_violation, ApplicationRow, AuthConfigRow, ClientRow, OutboxRow, SessionCustomerRow, SessionRow, OUTBOX_COLUMNS, SESSION_AS_PREFIXED, SESSION_COLUMNS, CustomerRow, ContactRow, TokenRow, UniqueIndex, CUSTOMER_COLUMNS,
        };
        use $crate::sql::{bind_params, SqlBuilder, SqlParam};
        use $crate::{
            ApplicationStore, AuthConfigStore, ClientStore, CredentialStore, CustomerStore, HealthStore, OutboxStore, SessionStore, TokenStore,
        };

        type Connection = <$db as sqlx::Database>::Connection;

        /// Maps a failed customer write to the conflict it reports, naming `customer`'s value.
        fn customer_write_error(error: sqlx::Error, username: &str, emails: &[EmailEntry], phones: &[PhoneEntry]) -> StoreError {
            match unique_violation(&error) {
                Some(UniqueIndex::Email) => StoreError::Conflict(Conflict::Email(
                    emails.first().map(|e| e.email.to_string()).unwrap_or_default(),
                )),
                Some(UniqueIndex::Phone) => StoreError::Conflict(Conflict::Phone(
                    phones.first().map(|p| p.phone.to_string()).unwrap_or_default(),
                )),
                Some(UniqueIndex::Username) => StoreError::Conflict(Conflict::Username(username.to_owned())),
                Some(UniqueIndex::Other) | None => StoreError::Database(error),
            }
        }

        impl $store {
            /// Loads the emails and phones of `rows` and builds the customers.
            async fn with_contacts(conn: &mut Connection, rows: Vec<CustomerRow>) -> Result<Vec<Customer>, StoreError> {
                if rows.is_empty() {
                    return Ok(Vec::new());
                }
                let mut placeholders = SqlBuilder::default();
                placeholders.bind_list(rows.iter().map(|row| row.id.as_str()));
                let sql = contacts_sql(&placeholders.sql);
                let contacts: Vec<ContactRow> =
                    bind_params!(sqlx::query_as::<_, ContactRow>(&sql), &placeholders.params).fetch_all(&mut *conn).await?;
                Ok(assemble(rows, contacts))
            }

            /// Reads one customer row, locking it where the backend has row locks.
            async fn customer_row(conn: &mut Connection, application_id: &ObjectId, id: &ObjectId, lock: bool) -> Result<CustomerRow, StoreError> {
                let sql = format!(
                    "SELECT {CUSTOMER_COLUMNS} FROM customers c WHERE c.application_id = $1 AND c.id = $2{}",
                    if lock { Self::LOCK_ROW } else { "" }
                );
                sqlx::query_as::<_, CustomerRow>(&sql)
                    .bind(application_id.as_str())
                    .bind(id.as_str())
                    .fetch_optional(&mut *conn)
                    .await?
                    .ok_or(StoreError::NotFound)
            }

            /// The first email or phone of the lists that another live customer holds.
            async fn contact_conflict(
                conn: &mut Connection,
                application_id: &ObjectId,
                owner: &str,
                emails: &[EmailEntry],
                phones: &[PhoneEntry],
            ) -> Result<Option<Conflict>, StoreError> {
                if !emails.is_empty() {
                    let mut sql = SqlBuilder::default();
                    sql.push("SELECT email FROM customer_emails WHERE application_id = ");
                    sql.bind(SqlParam::Text(application_id.to_string()));
                    sql.push(" AND NOT archived AND customer_id <> ").bind(SqlParam::Text(owner.to_owned()));
                    sql.push(" AND email IN (").bind_list(emails.iter().map(|e| e.email.as_str())).push(") LIMIT 1");
                    let taken: Option<(String,)> =
                        bind_params!(sqlx::query_as::<_, (String,)>(&sql.sql), &sql.params).fetch_optional(&mut *conn).await?;
                    if let Some((email,)) = taken {
                        return Ok(Some(Conflict::Email(email)));
                    }
                }
                for entry in phones {
                    let taken: Option<(String,)> = sqlx::query_as(
                        "SELECT phone FROM customer_phones WHERE application_id = $1 AND NOT archived \
                         AND customer_id <> $2 AND country_code = $3 AND phone = $4 LIMIT 1",
                    )
                    .bind(application_id.as_str())
                    .bind(owner)
                    .bind(i32::from(entry.phone.country_code()))
                    .bind(entry.phone.national())
                    .fetch_optional(&mut *conn)
                    .await?;
                    if taken.is_some() {
                        return Ok(Some(Conflict::Phone(entry.phone.to_string())));
                    }
                }
                Ok(None)
            }

            /// Writes a customer's contact rows (after any old ones were deleted).
            async fn insert_contacts(
                conn: &mut Connection,
                application_id: &ObjectId,
                customer_id: &str,
                emails: &[EmailEntry],
                phones: &[PhoneEntry],
            ) -> Result<(), sqlx::Error> {
                for (position, entry) in emails.iter().enumerate() {
                    sqlx::query(
                        "INSERT INTO customer_emails (customer_id, application_id, position, email, is_primary, verified, active) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7)",
                    )
                    .bind(customer_id)
                    .bind(application_id.as_str())
                    .bind(i32::try_from(position).unwrap_or(i32::MAX))
                    .bind(entry.email.as_str())
                    .bind(entry.primary)
                    .bind(entry.verified)
                    .bind(entry.active)
                    .execute(&mut *conn)
                    .await?;
                }
                for (position, entry) in phones.iter().enumerate() {
                    sqlx::query(
                        "INSERT INTO customer_phones (customer_id, application_id, position, country_code, phone, is_primary, verified, active) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                    )
                    .bind(customer_id)
                    .bind(application_id.as_str())
                    .bind(i32::try_from(position).unwrap_or(i32::MAX))
                    .bind(i32::from(entry.phone.country_code()))
                    .bind(entry.phone.national())
                    .bind(entry.primary)
                    .bind(entry.verified)
                    .bind(entry.active)
                    .execute(&mut *conn)
                    .await?;
                }
                Ok(())
            }

            /// Appends one event to the audit trail.
            async fn audit(
                conn: &mut Connection,
                application_id: &ObjectId,
                customer_id: &str,
                action: &str,
                actor: &Actor,
                now: DateTime<Utc>,
            ) -> Result<(), sqlx::Error> {
                sqlx::query(
                    "INSERT INTO audit_events (application_id, customer_id, action, actor, reason, reason_id, at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7)",
                )
                .bind(application_id.as_str())
                .bind(customer_id)
                .bind(action)
                .bind(&actor.id)
                .bind(actor.reason.as_deref())
                .bind(actor.reason_id.as_deref())
                .bind(to_millis(now))
                .execute(&mut *conn)
                .await?;
                Ok(())
            }

            /// Marks a customer and its contacts archived or not, bumping its version.
            async fn set_archived(conn: &mut Connection, id: &str, archived: bool, now: DateTime<Utc>) -> Result<(), sqlx::Error> {
                sqlx::query("UPDATE customers SET archived = $1, version = version + 1, updated_at = $2 WHERE id = $3")
                    .bind(archived)
                    .bind(to_millis(now))
                    .bind(id)
                    .execute(&mut *conn)
                    .await?;
                sqlx::query("UPDATE customer_emails SET archived = $1 WHERE customer_id = $2")
                    .bind(archived)
                    .bind(id)
                    .execute(&mut *conn)
                    .await?;
                sqlx::query("UPDATE customer_phones SET archived = $1 WHERE customer_id = $2")
                    .bind(archived)
                    .bind(id)
                    .execute(&mut *conn)
                    .await?;
                Ok(())
            }
        }

        #[async_trait]
        impl AuthConfigStore for $store {
            async fn find_auth_config(&self, application_id: &ObjectId) -> Result<Option<StoredAuthConfig>, StoreError> {
                let row: Option<AuthConfigRow> = sqlx::query_as(
                    "SELECT document, secrets, version, created_at, updated_at FROM auth_configs WHERE application_id = $1",
                )
                .bind(application_id.as_str())
                .fetch_optional(&self.pool)
                .await?;
                Ok(row.map(StoredAuthConfig::from))
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
                let saved: Option<AuthConfigRow> = match expected_version {
                    None => sqlx::query_as(
                        "INSERT INTO auth_configs (application_id, document, secrets, version, created_at, updated_at) \
                         SELECT $1, $2, $3, 1, a.created_at, $4 FROM applications a WHERE a.id = $1 \
                         ON CONFLICT (application_id) DO NOTHING \
                         RETURNING document, secrets, version, created_at, updated_at",
                    )
                    .bind(application_id.as_str())
                    .bind(&text)
                    .bind(secrets)
                    .bind(at)
                    .fetch_optional(&self.pool)
                    .await?,
                    Some(version) => sqlx::query_as(
                        "UPDATE auth_configs SET document = $1, secrets = $2, version = version + 1, updated_at = $3 \
                         WHERE application_id = $4 AND version = $5 \
                         RETURNING document, secrets, version, created_at, updated_at",
                    )
                    .bind(&text)
                    .bind(secrets)
                    .bind(at)
                    .bind(application_id.as_str())
                    .bind(version)
                    .fetch_optional(&self.pool)
                    .await?,
                };
                Ok(saved.map(StoredAuthConfig::from))
            }
        }

        impl $store {
            /// Inserts a customer, its contacts and the audit event (inside the caller's transaction).
            async fn insert_customer(tx: &mut Connection, customer: &NewCustomer, actor: &Actor) -> Result<Customer, StoreError> {
                let application_id = &customer.application_id;
                // A new customer has at most one email and one phone, so the unique index that
                // refuses a write names the taken value exactly: no pre-check round trips.
                if customer.emails.len() > 1 || customer.phones.len() > 1 {
                    if let Some(conflict) = Self::contact_conflict(&mut *tx, application_id, "", &customer.emails, &customer.phones).await? {
                        return Err(StoreError::Conflict(conflict));
                    }
                }
                let profile = &customer.profile;
                let meta = serde_json::Value::Object(profile.meta.clone()).to_string();
                let at = to_millis(customer.created_at);
                let write_error = |error| customer_write_error(error, &customer.username, &customer.emails, &customer.phones);
                sqlx::query(
                    "INSERT INTO customers (id, application_id, username, first_name, last_name, gender, dob, profile_pic_url, \
                     external_id, rr_id, meta, active, archived, account_type, created_at, updated_at, version) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, TRUE, FALSE, 'user', $12, $12, 0)",
                )
                .bind(customer.id.as_str())
                .bind(application_id.as_str())
                .bind(&customer.username)
                .bind(profile.first_name.as_deref())
                .bind(profile.last_name.as_deref())
                .bind(profile.gender.as_deref())
                .bind(profile.dob.as_deref())
                .bind(profile.profile_pic_url.as_deref())
                .bind(profile.external_id.as_deref())
                .bind(profile.rr_id.as_deref())
                .bind(&meta)
                .bind(at)
                .execute(&mut *tx)
                .await
                .map_err(write_error)?;
                Self::insert_contacts(&mut *tx, application_id, customer.id.as_str(), &customer.emails, &customer.phones)
                    .await
                    .map_err(write_error)?;
                Self::audit(&mut *tx, application_id, customer.id.as_str(), "create", actor, customer.created_at).await?;
                Self::count_live(&mut *tx, application_id, 1).await?;
                Ok(Customer {
                    id: customer.id.clone(),
                    application_id: application_id.clone(),
                    username: customer.username.clone(),
                    profile: customer.profile.clone(),
                    emails: customer.emails.clone(),
                    phones: customer.phones.clone(),
                    active: true,
                    archived: false,
                    account_type: "user".to_owned(),
                    created_at: customer.created_at,
                    updated_at: customer.created_at,
                    version: 0,
                })
            }

            /// Sets a password (inside the caller's transaction): history, lockout reset, and every
            /// session but `change.keep_session` ended.
            async fn write_password(
                conn: &mut Connection,
                application_id: &ObjectId,
                customer_id: &ObjectId,
                change: &PasswordChange<'_>,
                actor: &Actor,
                now: DateTime<Utc>,
            ) -> Result<(), StoreError> {
                let PasswordChange { password_hash, history_limit, keep_session } = *change;
                let at = to_millis(now);
                sqlx::query(
                    "INSERT INTO password_history (customer_id, password_hash, created_at) \
                     SELECT customer_id, password_hash, $2 FROM customer_credentials WHERE customer_id = $1",
                )
                .bind(customer_id.as_str())
                .bind(at)
                .execute(&mut *conn)
                .await?;
                sqlx::query(
                    "DELETE FROM password_history WHERE customer_id = $1 AND id NOT IN \
                     (SELECT id FROM password_history WHERE customer_id = $1 ORDER BY id DESC LIMIT $2)",
                )
                .bind(customer_id.as_str())
                .bind(i64::try_from(history_limit).unwrap_or(i64::MAX))
                .execute(&mut *conn)
                .await?;
                sqlx::query(
                    "INSERT INTO customer_credentials (customer_id, password_hash, password_changed_at, failed_logins, locked_until) \
                     VALUES ($1, $2, $3, 0, NULL) ON CONFLICT (customer_id) DO UPDATE SET password_hash = $2, \
                     password_changed_at = $3, failed_logins = 0, locked_until = NULL",
                )
                .bind(customer_id.as_str())
                .bind(password_hash)
                .bind(at)
                .execute(&mut *conn)
                .await?;
                sqlx::query("DELETE FROM customer_sessions WHERE customer_id = $1 AND id <> $2")
                    .bind(customer_id.as_str())
                    .bind(keep_session.map_or("", ObjectId::as_str))
                    .execute(&mut *conn)
                    .await?;
                Self::audit(&mut *conn, application_id, customer_id.as_str(), "password_change", actor, now).await?;
                Ok(())
            }

            /// Adds `delta` to the application's live-customer count (inside the caller's
            /// transaction), on a random shard.
            async fn count_live(conn: &mut Connection, application_id: &ObjectId, delta: i64) -> Result<(), sqlx::Error> {
                /// Shards per application: enough that concurrent writers rarely share a row.
                const SHARDS: i64 = 16;
                let shard = i64::from(rand::random::<u8>()) % SHARDS;
                sqlx::query(
                    "INSERT INTO customer_counts (application_id, shard, live) VALUES ($1, $2, $3) \
                     ON CONFLICT (application_id, shard) DO UPDATE SET live = customer_counts.live + excluded.live",
                )
                .bind(application_id.as_str())
                .bind(shard)
                .bind(delta)
                .execute(&mut *conn)
                .await?;
                Ok(())
            }

            /// Ends every session of a customer (inside the caller's transaction).
            async fn delete_customer_sessions(conn: &mut Connection, customer_id: &str) -> Result<(), sqlx::Error> {
                sqlx::query("DELETE FROM customer_sessions WHERE customer_id = $1").bind(customer_id).execute(&mut *conn).await?;
                Ok(())
            }
        }

        #[async_trait]
        impl SessionStore for $store {
            async fn create_session(&self, session: &Session) -> Result<(), StoreError> {
                let mut tx = self.begin_write().await?;
                let row = Self::customer_row(&mut tx, &session.application_id, &session.customer_id, true).await?;
                if row.archived {
                    return Err(StoreError::ArchiveState(true));
                }
                if !row.active {
                    return Err(StoreError::Blocked);
                }
                sqlx::query(
                    "INSERT INTO customer_sessions (id, token_digest, application_id, customer_id, domain, user_agent, ip, \
                     created_at, expires_at, last_seen_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
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
                tx.commit().await?;
                Ok(())
            }

            async fn find_session(
                &self,
                application_id: &ObjectId,
                token_digest: &str,
                now: DateTime<Utc>,
            ) -> Result<Option<(Session, Customer)>, StoreError> {
                let mut conn = self.pool.acquire().await?;
                let sql = format!(
                    "SELECT {CUSTOMER_COLUMNS}, {SESSION_AS_PREFIXED} FROM customer_sessions s JOIN customers c ON c.id = s.customer_id \
                     WHERE s.token_digest = $1 AND s.application_id = $2 AND s.expires_at > $3 AND c.active AND NOT c.archived"
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
                let customer = Self::with_contacts(&mut conn, vec![row.customer]).await?.pop().ok_or(StoreError::NotFound)?;
                Ok(Some((session, customer)))
            }

            async fn extend_session(&self, id: &ObjectId, expires_at: DateTime<Utc>, now: DateTime<Utc>) -> Result<(), StoreError> {
                sqlx::query("UPDATE customer_sessions SET expires_at = $1, last_seen_at = $2 WHERE id = $3")
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
                    "SELECT {SESSION_COLUMNS} FROM customer_sessions s \
                     WHERE s.application_id = $1 AND s.customer_id = $2 AND s.expires_at > $3 ORDER BY s.id DESC"
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
                let done = sqlx::query("DELETE FROM customer_sessions WHERE id = $1 AND customer_id = $2 AND application_id = $3")
                    .bind(session_id.as_str())
                    .bind(customer_id.as_str())
                    .bind(application_id.as_str())
                    .execute(&mut *tx)
                    .await?;
                if done.rows_affected() == 0 {
                    return Err(StoreError::NotFound);
                }
                Self::audit(&mut tx, application_id, customer_id.as_str(), "session_end", actor, now).await?;
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
                    "DELETE FROM customer_sessions WHERE customer_id = $1 AND application_id = $2 AND id <> $3 RETURNING id",
                )
                .bind(customer_id.as_str())
                .bind(application_id.as_str())
                .bind(keep.map_or("", ObjectId::as_str))
                .fetch_all(&mut *tx)
                .await?;
                Self::audit(&mut tx, application_id, customer_id.as_str(), "sessions_end", actor, now).await?;
                tx.commit().await?;
                let mut ended: Vec<ObjectId> = ended.into_iter().map(|(id,)| ObjectId::from_trusted(id)).collect();
                ended.sort();
                Ok(ended)
            }
        }

        #[async_trait]
        impl CredentialStore for $store {
            async fn register_customer(&self, customer: &NewCustomer, password_hash: Option<&str>, actor: &Actor) -> Result<Customer, StoreError> {
                let mut tx = self.begin_write().await?;
                let created = Self::insert_customer(&mut tx, customer, actor).await?;
                if let Some(hash) = password_hash {
                    sqlx::query("INSERT INTO customer_credentials (customer_id, password_hash, password_changed_at) VALUES ($1, $2, $3)")
                        .bind(customer.id.as_str())
                        .bind(hash)
                        .bind(to_millis(customer.created_at))
                        .execute(&mut *tx)
                        .await?;
                }
                tx.commit().await?;
                Ok(created)
            }

            async fn find_login(&self, application_id: &ObjectId, email: Option<&Email>, phone: Option<&Phone>) -> Result<Option<LoginRecord>, StoreError> {
                let mut sql = SqlBuilder::default();
                sql.push(&format!("SELECT {CUSTOMER_COLUMNS} FROM customers c WHERE c.application_id = "));
                sql.bind(SqlParam::Text(application_id.to_string())).push(" AND c.archived = FALSE AND ");
                match (email, phone) {
                    (Some(email), _) => {
                        sql.push("c.id IN (SELECT e.customer_id FROM customer_emails e WHERE e.application_id = $1 AND NOT e.archived AND e.email = ");
                        sql.bind(SqlParam::Text(email.to_string())).push(")");
                    }
                    (None, Some(phone)) => {
                        sql.push("c.id IN (SELECT p.customer_id FROM customer_phones p WHERE p.application_id = $1 AND NOT p.archived AND p.country_code = ");
                        sql.bind(SqlParam::Int(i64::from(phone.country_code())));
                        sql.push(" AND p.phone = ").bind(SqlParam::Text(phone.national().to_owned())).push(")");
                    }
                    (None, None) => return Ok(None),
                }
                let mut conn = self.pool.acquire().await?;
                let row: Option<CustomerRow> =
                    bind_params!(sqlx::query_as::<_, CustomerRow>(&sql.sql), &sql.params).fetch_optional(&mut *conn).await?;
                let Some(row) = row else {
                    return Ok(None);
                };
                let credential: Option<(String, i64)> =
                    sqlx::query_as("SELECT password_hash, password_changed_at FROM customer_credentials WHERE customer_id = $1")
                        .bind(&row.id)
                        .fetch_optional(&mut *conn)
                        .await?;
                let customer = Self::with_contacts(&mut conn, vec![row]).await?.pop().ok_or(StoreError::NotFound)?;
                Ok(Some(LoginRecord {
                    customer,
                    password_hash: credential.as_ref().map(|(hash, _)| hash.clone()),
                    password_changed_at: credential.map(|(_, at)| from_millis(at)),
                }))
            }

            async fn claim_login_attempt(
                &self,
                customer_id: &ObjectId,
                attempts: Option<u32>,
                lock_for: chrono::Duration,
                now: DateTime<Utc>,
            ) -> Result<AttemptClaim, StoreError> {
                let Some(attempts) = attempts else {
                    return Ok(AttemptClaim::Allowed);
                };
                let now_ms = to_millis(now);
                let claimed: Option<(i64,)> = sqlx::query_as(
                    "UPDATE customer_credentials SET \
                       failed_logins = CASE WHEN locked_until IS NOT NULL THEN 1 ELSE failed_logins + 1 END, \
                       locked_until = CASE WHEN (CASE WHEN locked_until IS NOT NULL THEN 1 ELSE failed_logins + 1 END) >= $1 \
                                      THEN $2 ELSE NULL END \
                     WHERE customer_id = $3 AND (locked_until IS NULL OR locked_until <= $4) RETURNING failed_logins",
                )
                .bind(i64::from(attempts))
                .bind(to_millis(now + lock_for))
                .bind(customer_id.as_str())
                .bind(now_ms)
                .fetch_optional(&self.pool)
                .await?;
                if claimed.is_some() {
                    return Ok(AttemptClaim::Allowed);
                }
                let locked: Option<(Option<i64>,)> = sqlx::query_as("SELECT locked_until FROM customer_credentials WHERE customer_id = $1")
                    .bind(customer_id.as_str())
                    .fetch_optional(&self.pool)
                    .await?;
                Ok(match locked {
                    Some((Some(until),)) => AttemptClaim::Locked { until: from_millis(until) },
                    _ => AttemptClaim::Allowed,
                })
            }

            async fn reset_login_failures(&self, customer_id: &ObjectId) -> Result<(), StoreError> {
                sqlx::query("UPDATE customer_credentials SET failed_logins = 0, locked_until = NULL WHERE customer_id = $1")
                    .bind(customer_id.as_str())
                    .execute(&self.pool)
                    .await?;
                Ok(())
            }

            async fn password_hashes(&self, customer_id: &ObjectId, history: usize) -> Result<Vec<String>, StoreError> {
                let mut conn = self.pool.acquire().await?;
                let mut hashes: Vec<String> = sqlx::query_as::<_, (String,)>("SELECT password_hash FROM customer_credentials WHERE customer_id = $1")
                    .bind(customer_id.as_str())
                    .fetch_all(&mut *conn)
                    .await?
                    .into_iter()
                    .map(|(hash,)| hash)
                    .collect();
                if history > 0 {
                    let older: Vec<(String,)> =
                        sqlx::query_as("SELECT password_hash FROM password_history WHERE customer_id = $1 ORDER BY id DESC LIMIT $2")
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
                    "INSERT INTO password_reset_codes (code_digest, application_id, customer_id, created_at, expires_at) \
                     VALUES ($1, $2, $3, $4, $5)",
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

            async fn find_reset_code(&self, application_id: &ObjectId, code_digest: &str, now: DateTime<Utc>) -> Result<Option<ObjectId>, StoreError> {
                let found: Option<(String,)> = sqlx::query_as(
                    "SELECT r.customer_id FROM password_reset_codes r JOIN customers c ON c.id = r.customer_id \
                     WHERE r.code_digest = $1 AND r.application_id = $2 AND r.used_at IS NULL AND r.expires_at > $3 \
                     AND c.active AND NOT c.archived",
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
                    "UPDATE password_reset_codes SET used_at = $1 \
                     WHERE code_digest = $2 AND application_id = $3 AND used_at IS NULL AND expires_at > $1 RETURNING customer_id",
                )
                .bind(to_millis(now))
                .bind(code_digest)
                .bind(application_id.as_str())
                .fetch_optional(&mut *tx)
                .await?;
                let customer_id = ObjectId::from_trusted(used.ok_or(StoreError::NotFound)?.0);
                let row = Self::customer_row(&mut tx, application_id, &customer_id, true).await?;
                if row.archived {
                    return Err(StoreError::NotFound);
                }
                if !row.active {
                    return Err(StoreError::Blocked);
                }
                sqlx::query("UPDATE password_reset_codes SET used_at = $1 WHERE customer_id = $2 AND used_at IS NULL")
                    .bind(to_millis(now))
                    .bind(customer_id.as_str())
                    .execute(&mut *tx)
                    .await?;
                Self::write_password(&mut tx, application_id, &customer_id, change, actor, now).await?;
                tx.commit().await?;
                Ok(customer_id)
            }

            async fn save_pending_registration(&self, pending: &PendingRegistration) -> Result<(), StoreError> {
                sqlx::query(
                    "INSERT INTO pending_registrations (token_digest, application_id, payload, created_at, expires_at) \
                     VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(&pending.token_digest)
                .bind(pending.application_id.as_str())
                .bind(pending.payload.to_string())
                .bind(to_millis(pending.created_at))
                .bind(to_millis(pending.expires_at))
                .execute(&self.pool)
                .await?;
                Ok(())
            }
        }

        #[async_trait]
        impl OutboxStore for $store {
            async fn enqueue(&self, application_id: &ObjectId, message: &Message, now: DateTime<Utc>) -> Result<ObjectId, StoreError> {
                let id = ObjectId::generate(now);
                sqlx::query(
                    "INSERT INTO outbox (id, application_id, channel, recipient, template, subject, body, data, status, attempts, \
                     next_attempt_at, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'pending', 0, $9, $9)",
                )
                .bind(id.as_str())
                .bind(application_id.as_str())
                .bind(message.channel.as_str())
                .bind(&message.to)
                .bind(&message.template)
                .bind(&message.subject)
                .bind(&message.text)
                .bind(serde_json::Value::Object(message.data.clone()).to_string())
                .bind(to_millis(now))
                .execute(&self.pool)
                .await?;
                Ok(id)
            }

            async fn claim_due(&self, now: DateTime<Utc>, lease: chrono::Duration, limit: usize) -> Result<Vec<OutboxMessage>, StoreError> {
                let mut tx = self.begin_write().await?;
                let sql = format!(
                    "SELECT {OUTBOX_COLUMNS} FROM outbox WHERE status = 'pending' AND next_attempt_at <= $1 \
                     ORDER BY next_attempt_at LIMIT $2{}",
                    Self::SKIP_LOCKED
                );
                let rows: Vec<OutboxRow> = sqlx::query_as(&sql)
                    .bind(to_millis(now))
                    .bind(i64::try_from(limit).unwrap_or(i64::MAX))
                    .fetch_all(&mut *tx)
                    .await?;
                let lease_until = to_millis(now + lease);
                for row in &rows {
                    sqlx::query("UPDATE outbox SET next_attempt_at = $1, attempts = attempts + 1 WHERE id = $2")
                        .bind(lease_until)
                        .bind(&row.id)
                        .execute(&mut *tx)
                        .await?;
                }
                tx.commit().await?;
                Ok(rows
                    .into_iter()
                    .map(|row| {
                        let mut claimed = OutboxMessage::from(row);
                        claimed.attempts += 1;
                        claimed
                    })
                    .collect())
            }

            async fn mark_sent(&self, id: &ObjectId, now: DateTime<Utc>, scrub: bool) -> Result<(), StoreError> {
                let sql = if scrub {
                    "UPDATE outbox SET status = 'sent', sent_at = $1, last_error = NULL, body = '', data = '{}' WHERE id = $2"
                } else {
                    "UPDATE outbox SET status = 'sent', sent_at = $1, last_error = NULL WHERE id = $2"
                };
                sqlx::query(sql).bind(to_millis(now)).bind(id.as_str()).execute(&self.pool).await?;
                Ok(())
            }

            async fn mark_failed(&self, id: &ObjectId, error: &str, retry_at: Option<DateTime<Utc>>) -> Result<(), StoreError> {
                match retry_at {
                    Some(at) => sqlx::query("UPDATE outbox SET last_error = $1, next_attempt_at = $2 WHERE id = $3")
                        .bind(error)
                        .bind(to_millis(at))
                        .bind(id.as_str())
                        .execute(&self.pool)
                        .await?,
                    None => sqlx::query("UPDATE outbox SET last_error = $1, status = 'failed' WHERE id = $2")
                        .bind(error)
                        .bind(id.as_str())
                        .execute(&self.pool)
                        .await?,
                };
                Ok(())
            }

            async fn list_outbox(&self, limit: usize) -> Result<Vec<OutboxMessage>, StoreError> {
                let sql = format!("SELECT {OUTBOX_COLUMNS} FROM outbox ORDER BY id DESC LIMIT $1");
                let rows: Vec<OutboxRow> = sqlx::query_as(&sql).bind(i64::try_from(limit).unwrap_or(i64::MAX)).fetch_all(&self.pool).await?;
                Ok(rows.into_iter().map(OutboxMessage::from).collect())
            }
        }

        #[async_trait]
        impl HealthStore for $store {
            async fn ping(&self) -> Result<(), StoreError> {
                sqlx::query("SELECT 1").execute(&self.pool).await?;
                Ok(())
            }
        }

        #[async_trait]
        impl ApplicationStore for $store {
            async fn create_application(&self, application: &Application) -> Result<(), StoreError> {
                sqlx::query(
                    "INSERT INTO applications (id, company_id, name, token_digest, default_region, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $6)",
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
                    "SELECT id, company_id, name, token_digest, default_region, created_at FROM applications WHERE id = $1",
                )
                .bind(id.as_str())
                .fetch_optional(&self.pool)
                .await?;
                Ok(row.map(Application::from))
            }
        }

        #[async_trait]
        impl ClientStore for $store {
            async fn create_client(&self, client: &ApiClient) -> Result<(), StoreError> {
                sqlx::query(
                    "INSERT INTO api_clients (client_id, company_id, name, secret_digest, scopes, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $6)",
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
                    "SELECT client_id, company_id, name, secret_digest, scopes, created_at FROM api_clients WHERE client_id = $1",
                )
                .bind(client_id)
                .fetch_optional(&self.pool)
                .await?;
                Ok(row.map(ApiClient::from))
            }
        }

        impl $store {
            async fn insert_token_rows(conn: &mut Connection, grants: &[TokenGrant]) -> Result<(), sqlx::Error> {
                for grant in grants {
                    sqlx::query(
                        "INSERT INTO oauth_tokens (token_digest, kind, client_id, company_id, scopes, expires_at, created_at) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7)",
                    )
                    .bind(&grant.digest)
                    .bind(grant.kind.as_str())
                    .bind(&grant.client_id)
                    .bind(grant.company_id.as_str())
                    .bind(scopes_text(&grant.scopes))
                    .bind(to_millis(grant.expires_at))
                    .bind(to_millis(grant.created_at))
                    .execute(&mut *conn)
                    .await?;
                }
                Ok(())
            }
        }

        #[async_trait]
        impl TokenStore for $store {
            async fn insert_tokens(&self, grants: &[TokenGrant]) -> Result<(), StoreError> {
                let mut tx = self.begin_write().await?;
                Self::insert_token_rows(&mut tx, grants).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn find_token(&self, digest: &str, kind: TokenKind, now: DateTime<Utc>) -> Result<Option<TokenGrant>, StoreError> {
                let row: Option<TokenRow> = sqlx::query_as(
                    "SELECT token_digest, kind, client_id, company_id, scopes, created_at, expires_at FROM oauth_tokens \
                     WHERE token_digest = $1 AND kind = $2 AND expires_at > $3",
                )
                .bind(digest)
                .bind(kind.as_str())
                .bind(to_millis(now))
                .fetch_optional(&self.pool)
                .await?;
                Ok(row.map(TokenGrant::from))
            }

            async fn rotate_refresh_token(
                &self,
                digest: &str,
                client_id: &str,
                replacements: &[TokenGrant],
                now: DateTime<Utc>,
            ) -> Result<Option<TokenGrant>, StoreError> {
                let mut tx = self.begin_write().await?;
                let consumed: Option<TokenRow> = sqlx::query_as(
                    "DELETE FROM oauth_tokens WHERE token_digest = $1 AND kind = 'refresh' AND client_id = $2 AND expires_at > $3 \
                     RETURNING token_digest, kind, client_id, company_id, scopes, created_at, expires_at",
                )
                .bind(digest)
                .bind(client_id)
                .bind(to_millis(now))
                .fetch_optional(&mut *tx)
                .await?;
                let Some(consumed) = consumed else {
                    return Ok(None);
                };
                let consumed = TokenGrant::from(consumed);
                let replacements: Vec<TokenGrant> = replacements
                    .iter()
                    .map(|grant| TokenGrant { scopes: consumed.scopes.clone(), ..grant.clone() })
                    .collect();
                Self::insert_token_rows(&mut tx, &replacements).await?;
                tx.commit().await?;
                Ok(Some(consumed))
            }

            async fn purge_expired_tokens(&self, now: DateTime<Utc>) -> Result<u64, StoreError> {
                let done = sqlx::query("DELETE FROM oauth_tokens WHERE expires_at <= $1")
                    .bind(to_millis(now))
                    .execute(&self.pool)
                    .await?;
                Ok(done.rows_affected())
            }
        }

        #[async_trait]
        impl CustomerStore for $store {
            async fn create_customer(&self, customer: &NewCustomer, actor: &Actor) -> Result<Customer, StoreError> {
                let mut tx = self.begin_write().await?;
                let created = Self::insert_customer(&mut tx, customer, actor).await?;
                tx.commit().await?;
                Ok(created)
            }

            async fn import_customers(&self, customers: &[NewCustomer], actor: &Actor) -> Result<(), StoreError> {
                /// Rows per statement, well under both backends' bound-parameter limits.
                const ROWS_PER_STATEMENT: usize = 500;
                let mut tx = self.begin_write().await?;
                for chunk in customers.chunks(ROWS_PER_STATEMENT) {
                    let mut rows = SqlBuilder::default();
                    rows.push(
                        "INSERT INTO customers (id, application_id, username, first_name, last_name, gender, external_id, rr_id, \
                         meta, active, archived, account_type, created_at, updated_at, version) VALUES ",
                    );
                    let mut emails = SqlBuilder::default();
                    emails.push("INSERT INTO customer_emails (customer_id, application_id, position, email, is_primary, verified, active) VALUES ");
                    let mut phones = SqlBuilder::default();
                    phones.push(
                        "INSERT INTO customer_phones (customer_id, application_id, position, country_code, phone, is_primary, verified, active) VALUES ",
                    );
                    let mut audit = SqlBuilder::default();
                    audit.push("INSERT INTO audit_events (application_id, customer_id, action, actor, at) VALUES ");
                    let text = |value: &str| SqlParam::Text(value.to_owned());
                    let optional = |value: &Option<String>| value.as_deref().map_or(SqlParam::Null, |v| SqlParam::Text(v.to_owned()));
                    for (index, customer) in chunk.iter().enumerate() {
                        let separator = if index == 0 { "(" } else { ", (" };
                        let profile = &customer.profile;
                        let at = SqlParam::Int(to_millis(customer.created_at));
                        rows.push(separator);
                        for (column, param) in [
                            text(customer.id.as_str()),
                            text(customer.application_id.as_str()),
                            text(&customer.username),
                            optional(&profile.first_name),
                            optional(&profile.last_name),
                            optional(&profile.gender),
                            optional(&profile.external_id),
                            optional(&profile.rr_id),
                            text(&serde_json::Value::Object(profile.meta.clone()).to_string()),
                        ]
                        .into_iter()
                        .enumerate()
                        {
                            if column > 0 {
                                rows.push(", ");
                            }
                            rows.bind(param);
                        }
                        rows.push(", TRUE, FALSE, 'user', ").bind(at.clone()).push(", ").bind(at.clone()).push(", 0)");
                        for (position, entry) in customer.emails.iter().enumerate() {
                            emails.push(if emails.params.is_empty() { "(" } else { ", (" });
                            emails.bind(text(customer.id.as_str())).push(", ").bind(text(customer.application_id.as_str()));
                            emails.push(", ").bind(SqlParam::Int(i64::try_from(position).unwrap_or_default()));
                            emails.push(", ").bind(text(entry.email.as_str())).push(", ").bind(SqlParam::Bool(entry.primary));
                            emails.push(", ").bind(SqlParam::Bool(entry.verified)).push(", ").bind(SqlParam::Bool(entry.active)).push(")");
                        }
                        for (position, entry) in customer.phones.iter().enumerate() {
                            phones.push(if phones.params.is_empty() { "(" } else { ", (" });
                            phones.bind(text(customer.id.as_str())).push(", ").bind(text(customer.application_id.as_str()));
                            phones.push(", ").bind(SqlParam::Int(i64::try_from(position).unwrap_or_default()));
                            phones.push(", ").bind(SqlParam::Int(i64::from(entry.phone.country_code())));
                            phones.push(", ").bind(text(entry.phone.national())).push(", ").bind(SqlParam::Bool(entry.primary));
                            phones.push(", ").bind(SqlParam::Bool(entry.verified)).push(", ").bind(SqlParam::Bool(entry.active)).push(")");
                        }
                        audit.push(separator).bind(text(customer.application_id.as_str())).push(", ").bind(text(customer.id.as_str()));
                        audit.push(", 'import', ").bind(text(&actor.id)).push(", ").bind(at).push(")");
                    }
                    for statement in [&rows, &emails, &phones, &audit] {
                        if statement.params.is_empty() {
                            continue;
                        }
                        bind_params!(sqlx::query(&statement.sql), &statement.params)
                            .execute(&mut *tx)
                            .await
                            .map_err(|error| {
                                let first = &chunk[0];
                                customer_write_error(error, &first.username, &first.emails, &first.phones)
                            })?;
                    }
                }
                if let Some(first) = customers.first() {
                    Self::count_live(&mut tx, &first.application_id, i64::try_from(customers.len()).unwrap_or(i64::MAX)).await?;
                }
                tx.commit().await?;
                Ok(())
            }

            async fn find_customer(&self, application_id: &ObjectId, id: &ObjectId) -> Result<Option<Customer>, StoreError> {
                let mut conn = self.pool.acquire().await?;
                match Self::customer_row(&mut conn, application_id, id, false).await {
                    Ok(row) => Ok(Self::with_contacts(&mut conn, vec![row]).await?.pop()),
                    Err(StoreError::NotFound) => Ok(None),
                    Err(error) => Err(error),
                }
            }

            async fn list_customers(
                &self,
                application_id: &ObjectId,
                filter: Option<&CustomerFilter>,
                page: PageRequest,
            ) -> Result<(Vec<Customer>, u64), StoreError> {
                let mut condition = SqlBuilder::default();
                condition.push(" WHERE c.application_id = ").bind(SqlParam::Text(application_id.to_string()));
                if !filter.is_some_and(|f| f.mentions(FlagField::Archived)) {
                    condition.push(" AND c.archived = FALSE");
                }
                if let Some(filter) = filter {
                    condition.push(" AND ");
                    push_filter(&mut condition, filter, "$1", Self::DIALECT);
                }
                let mut conn = self.pool.acquire().await?;
                let total: i64 = match filter {
                    None => {
                        let (live,): (Option<i64>,) =
                            sqlx::query_as("SELECT CAST(SUM(live) AS BIGINT) FROM customer_counts WHERE application_id = $1")
                                .bind(application_id.as_str())
                                .fetch_one(&mut *conn)
                                .await?;
                        live.unwrap_or(0)
                    }
                    Some(_) => {
                        let count_sql = format!("SELECT COUNT(*) FROM customers c{}", condition.sql);
                        let (total,): (i64,) =
                            bind_params!(sqlx::query_as::<_, (i64,)>(&count_sql), &condition.params).fetch_one(&mut *conn).await?;
                        total
                    }
                };
                let mut select = SqlBuilder { sql: format!("SELECT {CUSTOMER_COLUMNS} FROM customers c{}", condition.sql), params: condition.params };
                select.push(" ORDER BY c.id DESC LIMIT ").bind(SqlParam::Int(i64::from(page.size())));
                select.push(" OFFSET ").bind(SqlParam::Int(i64::try_from(page.offset()).unwrap_or(i64::MAX)));
                let rows: Vec<CustomerRow> =
                    bind_params!(sqlx::query_as::<_, CustomerRow>(&select.sql), &select.params).fetch_all(&mut *conn).await?;
                let customers = Self::with_contacts(&mut conn, rows).await?;
                Ok((customers, u64::try_from(total).unwrap_or_default()))
            }

            async fn search_customers(&self, application_id: &ObjectId, emails: &[Email], phones: &[Phone]) -> Result<Vec<Customer>, StoreError> {
                if emails.is_empty() && phones.is_empty() {
                    return Ok(Vec::new());
                }
                let mut sql = SqlBuilder::default();
                sql.push(&format!("SELECT {CUSTOMER_COLUMNS} FROM customers c WHERE c.application_id = "));
                sql.bind(SqlParam::Text(application_id.to_string()));
                sql.push(" AND c.archived = FALSE AND (");
                let mut alternatives = 0;
                if !emails.is_empty() {
                    sql.push("c.id IN (SELECT e.customer_id FROM customer_emails e WHERE e.application_id = $1 AND e.email IN (");
                    sql.bind_list(emails.iter().map(Email::as_str)).push("))");
                    alternatives += 1;
                }
                for phone in phones {
                    if alternatives > 0 {
                        sql.push(" OR ");
                    }
                    sql.push("c.id IN (SELECT p.customer_id FROM customer_phones p WHERE p.application_id = $1 AND p.country_code = ");
                    sql.bind(SqlParam::Int(i64::from(phone.country_code())));
                    sql.push(" AND p.phone = ").bind(SqlParam::Text(phone.national().to_owned())).push(")");
                    alternatives += 1;
                }
                sql.push(") ORDER BY c.id DESC LIMIT 100");
                let mut conn = self.pool.acquire().await?;
                let rows: Vec<CustomerRow> =
                    bind_params!(sqlx::query_as::<_, CustomerRow>(&sql.sql), &sql.params).fetch_all(&mut *conn).await?;
                Self::with_contacts(&mut conn, rows).await
            }

            async fn update_customer(
                &self,
                application_id: &ObjectId,
                id: &ObjectId,
                changes: &CustomerChanges,
                actor: &Actor,
                now: DateTime<Utc>,
            ) -> Result<Customer, StoreError> {
                let mut tx = self.begin_write().await?;
                let row = Self::customer_row(&mut tx, application_id, id, true).await?;
                if row.archived {
                    return Err(StoreError::ArchiveState(true));
                }
                let username = row.username.clone();
                let current = Self::with_contacts(&mut tx, vec![row]).await?.pop().ok_or(StoreError::NotFound)?;
                changes.check_leaves_a_contact(&current)?;
                if changes.is_noop_for(&current) {
                    return Ok(current);
                }
                let emails = changes.emails.as_deref().unwrap_or_default();
                let phones = changes.phones.as_deref().unwrap_or_default();
                if let Some(conflict) = Self::contact_conflict(&mut tx, application_id, id.as_str(), emails, phones).await? {
                    return Err(StoreError::Conflict(conflict));
                }
                let write_error = |error| customer_write_error(error, &username, emails, phones);
                if let Some(emails) = &changes.emails {
                    sqlx::query("DELETE FROM customer_emails WHERE customer_id = $1").bind(id.as_str()).execute(&mut *tx).await?;
                    Self::insert_contacts(&mut tx, application_id, id.as_str(), emails, &[]).await.map_err(write_error)?;
                }
                if let Some(phones) = &changes.phones {
                    sqlx::query("DELETE FROM customer_phones WHERE customer_id = $1").bind(id.as_str()).execute(&mut *tx).await?;
                    Self::insert_contacts(&mut tx, application_id, id.as_str(), &[], phones).await.map_err(write_error)?;
                }
                let mut profile = current.profile.clone();
                changes.apply_to(&mut profile);
                sqlx::query(
                    "UPDATE customers SET first_name = $1, last_name = $2, gender = $3, external_id = $4, rr_id = $5, meta = $6, \
                     version = version + 1, updated_at = $7 WHERE id = $8",
                )
                .bind(profile.first_name.as_deref())
                .bind(profile.last_name.as_deref())
                .bind(profile.gender.as_deref())
                .bind(profile.external_id.as_deref())
                .bind(profile.rr_id.as_deref())
                .bind(serde_json::Value::Object(profile.meta.clone()).to_string())
                .bind(to_millis(now))
                .bind(id.as_str())
                .execute(&mut *tx)
                .await?;
                Self::audit(&mut tx, application_id, id.as_str(), "update", actor, now).await?;
                let updated = Self::customer_row(&mut tx, application_id, id, false).await?;
                let customer = Self::with_contacts(&mut tx, vec![updated]).await?.pop().ok_or(StoreError::NotFound)?;
                tx.commit().await.map_err(write_error)?;
                Ok(customer)
            }

            async fn set_active(
                &self,
                application_id: &ObjectId,
                ids: &[ObjectId],
                active: bool,
                actor: &Actor,
                now: DateTime<Utc>,
            ) -> Result<(), StoreError> {
                let wanted: BTreeSet<&str> = ids.iter().map(ObjectId::as_str).collect();
                let mut tx = self.begin_write().await?;
                let mut found = SqlBuilder::default();
                found.push("SELECT id FROM customers WHERE application_id = ").bind(SqlParam::Text(application_id.to_string()));
                found.push(" AND id IN (").bind_list(wanted.iter().copied()).push(")");
                found.push(Self::LOCK_ROW);
                let existing: Vec<(String,)> =
                    bind_params!(sqlx::query_as::<_, (String,)>(&found.sql), &found.params).fetch_all(&mut *tx).await?;
                let existing: BTreeSet<&str> = existing.iter().map(|(id,)| id.as_str()).collect();
                let unknown: Vec<String> = wanted.difference(&existing).map(|id| (*id).to_owned()).collect();
                if !unknown.is_empty() {
                    return Err(StoreError::UnknownCustomers(unknown));
                }
                let action = if active { "unblock" } else { "block" };
                for id in &wanted {
                    sqlx::query("UPDATE customers SET active = $1, version = version + 1, updated_at = $2 WHERE id = $3")
                        .bind(active)
                        .bind(to_millis(now))
                        .bind(*id)
                        .execute(&mut *tx)
                        .await?;
                    if !active {
                        Self::delete_customer_sessions(&mut tx, id).await?;
                    }
                    Self::audit(&mut tx, application_id, id, action, actor, now).await?;
                }
                tx.commit().await?;
                Ok(())
            }

            async fn archive_customer(&self, application_id: &ObjectId, id: &ObjectId, actor: &Actor, now: DateTime<Utc>) -> Result<(), StoreError> {
                let mut tx = self.begin_write().await?;
                let row = Self::customer_row(&mut tx, application_id, id, true).await?;
                if row.archived {
                    return Err(StoreError::ArchiveState(true));
                }
                Self::set_archived(&mut tx, id.as_str(), true, now).await?;
                Self::delete_customer_sessions(&mut tx, id.as_str()).await?;
                Self::audit(&mut tx, application_id, id.as_str(), "archive", actor, now).await?;
                Self::count_live(&mut tx, application_id, -1).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn restore_customer(&self, application_id: &ObjectId, id: &ObjectId, actor: &Actor, now: DateTime<Utc>) -> Result<(), StoreError> {
                let mut tx = self.begin_write().await?;
                let row = Self::customer_row(&mut tx, application_id, id, true).await?;
                if !row.archived {
                    return Err(StoreError::ArchiveState(false));
                }
                let customer = Self::with_contacts(&mut tx, vec![row]).await?.pop().ok_or(StoreError::NotFound)?;
                if let Some(conflict) = Self::contact_conflict(&mut tx, application_id, id.as_str(), &customer.emails, &customer.phones).await? {
                    return Err(StoreError::Conflict(conflict));
                }
                Self::set_archived(&mut tx, id.as_str(), false, now)
                    .await
                    .map_err(|error| customer_write_error(error, &customer.username, &customer.emails, &customer.phones))?;
                Self::audit(&mut tx, application_id, id.as_str(), "restore", actor, now).await?;
                Self::count_live(&mut tx, application_id, 1).await?;
                tx.commit().await?;
                Ok(())
            }
        }
        }
    };
}
pub(crate) use impl_stores;

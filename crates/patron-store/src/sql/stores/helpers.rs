//! Helpers every store implementation shares: reading customers with their contacts, contact
//! conflicts, audit, password writes, live counts (each inside the caller's transaction).

use patron_domain::contacts::Contact;

use super::prelude::*;

/// Maps a failed customer write to the conflict it reports, naming `customer`'s value.
pub(super) fn customer_write_error(
    error: sqlx::Error,
    username: &str,
    emails: &[EmailEntry],
    phones: &[PhoneEntry],
) -> StoreError {
    match unique_violation(&error) {
        Some(UniqueIndex::Email) => StoreError::Conflict(Conflict::Email(
            emails
                .first()
                .map(|e| e.email.to_string())
                .unwrap_or_default(),
        )),
        Some(UniqueIndex::Phone) => StoreError::Conflict(Conflict::Phone(
            phones
                .first()
                .map(|p| p.phone.to_string())
                .unwrap_or_default(),
        )),
        Some(UniqueIndex::Username) => {
            StoreError::Conflict(Conflict::Username(username.to_owned()))
        }
        Some(UniqueIndex::Slug | UniqueIndex::Other) | None => StoreError::Database(error),
    }
}

impl Store {
    /// Loads the emails and phones of `rows` and builds the customers.
    pub(super) async fn with_contacts(
        conn: &mut Connection,
        rows: Vec<CustomerRow>,
    ) -> Result<Vec<Customer>, StoreError> {
        if rows.is_empty() {
            return Ok(Vec::new());
        }
        let mut placeholders = SqlBuilder::default();
        placeholders.bind_list(rows.iter().map(|row| row.id.as_str()));
        let sql = contacts_sql(&placeholders.sql);
        let contacts: Vec<ContactRow> =
            sqlx::query_as_with::<_, ContactRow, _>(&sql, arguments(&placeholders.params)?)
                .fetch_all(&mut *conn)
                .await?;
        assemble(rows, contacts)
    }

    /// Loads the emails and phones of one customer row and builds the customer.
    pub(super) async fn customer_with_contacts(
        conn: &mut Connection,
        row: CustomerRow,
    ) -> Result<Customer, StoreError> {
        let id = row.id.clone();
        Self::with_contacts(conn, vec![row])
            .await?
            .pop()
            .ok_or_else(|| StoreError::not_found(Entity::Customer, id))
    }

    /// Reads one customer row, locking it where the backend has row locks.
    pub(super) async fn customer_row(
        conn: &mut Connection,
        application_id: &ObjectId,
        id: &ObjectId,
        lock: bool,
    ) -> Result<CustomerRow, StoreError> {
        let sql = format!(
            "SELECT {CUSTOMER_COLUMNS} FROM customers c WHERE c.application_id = $1 \
             AND c.id = $2{}",
            if lock { Self::LOCK_ROW } else { "" }
        );
        sqlx::query_as::<_, CustomerRow>(&sql)
            .bind(application_id.as_str())
            .bind(id.as_str())
            .fetch_optional(&mut *conn)
            .await?
            .ok_or_else(|| StoreError::not_found(Entity::Customer, id))
    }

    /// The first email or phone of the lists that another live customer holds.
    pub(super) async fn contact_conflict(
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
            sql.push(" AND NOT archived AND customer_id <> ")
                .bind(SqlParam::Text(owner.to_owned()));
            sql.push(" AND email IN (")
                .bind_list(emails.iter().map(|e| e.email.as_str()))
                .push(") LIMIT 1");
            let taken: Option<(String,)> =
                sqlx::query_as_with::<_, (String,), _>(&sql.sql, arguments(&sql.params)?)
                    .fetch_optional(&mut *conn)
                    .await?;
            if let Some((email,)) = taken {
                return Ok(Some(Conflict::Email(email)));
            }
        }
        for entry in phones {
            let taken: Option<(String,)> = sqlx::query_as(
                "SELECT phone FROM customer_phones WHERE application_id = $1 AND NOT archived AND \
                 customer_id <> $2 AND country_code = $3 AND phone = $4 LIMIT 1",
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
    pub(super) async fn insert_contacts(
        conn: &mut Connection,
        application_id: &ObjectId,
        customer_id: &str,
        emails: &[EmailEntry],
        phones: &[PhoneEntry],
    ) -> Result<(), sqlx::Error> {
        for (position, entry) in emails.iter().enumerate() {
            sqlx::query(
                "INSERT INTO customer_emails (customer_id, application_id, position, email, \
                 is_primary, verified, active) VALUES ($1, $2, $3, $4, $5, $6, $7)",
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
                "INSERT INTO customer_phones (customer_id, application_id, position, country_code, \
                 phone, is_primary, verified, active) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
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

    /// Appends one event to the audit trail, with the lifecycle event it announces (in
    /// the caller's transaction).
    pub(super) async fn audit(
        conn: &mut Connection,
        application_id: &ObjectId,
        customer_id: &str,
        action: &str,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<(), sqlx::Error> {
        Self::audit_many(conn, application_id, &[customer_id], action, actor, now).await
    }

    /// Marks a customer and its contacts archived or not, bumping its version.
    pub(super) async fn set_archived(
        conn: &mut Connection,
        id: &str,
        archived: bool,
        now: DateTime<Utc>,
    ) -> Result<(), sqlx::Error> {
        sqlx::query(
            "UPDATE customers SET archived = $1, version = version + 1, updated_at = $2 WHERE id = \
             $3",
        )
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
        sqlx::query(
            "UPDATE attribute_index SET archived = $1 WHERE customer_id = $2 AND definition_id IN \
             (SELECT v.definition_id FROM attribute_values v WHERE v.customer_id = $2)",
        )
        .bind(archived)
        .bind(id)
        .execute(&mut *conn)
        .await?;
        Ok(())
    }
}

impl Store {
    /// Inserts a customer, its contacts and the audit event (inside the caller's transaction).
    pub(super) async fn insert_customer(
        tx: &mut Connection,
        customer: &NewCustomer,
        actor: &Actor,
    ) -> Result<Customer, StoreError> {
        let application_id = &customer.application_id;
        if customer.takes_unproven_contacts {
            let proven: Vec<Contact> = customer
                .emails
                .iter()
                .filter(|entry| entry.verified)
                .map(|entry| Contact::Email(entry.email.clone()))
                .chain(
                    customer
                        .phones
                        .iter()
                        .filter(|entry| entry.verified)
                        .map(|entry| Contact::Phone(entry.phone.clone())),
                )
                .collect();
            Self::release_unproven_contacts(
                &mut *tx,
                application_id,
                customer.id.as_str(),
                &proven,
                actor,
                customer.created_at,
            )
            .await?;
        }
        // A new customer has at most one email and one phone, so the unique index that
        // refuses a write names the taken value exactly: no pre-check round trips.
        if customer.emails.len() > 1 || customer.phones.len() > 1 {
            if let Some(conflict) = Self::contact_conflict(
                &mut *tx,
                application_id,
                "",
                &customer.emails,
                &customer.phones,
            )
            .await?
            {
                return Err(StoreError::Conflict(conflict));
            }
        }
        let profile = &customer.profile;
        let meta = serde_json::Value::Object(profile.meta.clone()).to_string();
        let at = to_millis(customer.created_at);
        let write_error = |error| {
            customer_write_error(
                error,
                &customer.username,
                &customer.emails,
                &customer.phones,
            )
        };
        sqlx::query(
            "INSERT INTO customers (id, application_id, username, first_name, last_name, gender, \
             dob, profile_pic_url, external_id, rr_id, meta, active, archived, account_type, \
             created_at, updated_at, version) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, \
             $11, TRUE, FALSE, 'user', $12, $12, 0)",
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
        Self::insert_contacts(
            &mut *tx,
            application_id,
            customer.id.as_str(),
            &customer.emails,
            &customer.phones,
        )
        .await
        .map_err(write_error)?;
        Self::audit(
            &mut *tx,
            application_id,
            customer.id.as_str(),
            "create",
            actor,
            customer.created_at,
        )
        .await?;
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
            deletion: None,
        })
    }

    /// Queues a customer message (inside the caller's transaction); returns its id.
    pub(super) async fn insert_outbox(
        conn: &mut Connection,
        application_id: &ObjectId,
        message: &Message,
        now: DateTime<Utc>,
    ) -> Result<ObjectId, StoreError> {
        let id = ObjectId::generate(now);
        sqlx::query(
            "INSERT INTO outbox (id, application_id, channel, recipient, template, subject, body, \
             data, status, attempts, next_attempt_at, created_at) VALUES ($1, $2, $3, $4, $5, $6, \
             $7, $8, 'pending', 0, $9, $9)",
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
        .execute(&mut *conn)
        .await?;
        Ok(id)
    }

    /// Sets a password (inside the caller's transaction): history, lockout reset, and every
    /// session but `change.keep_session` ended.
    pub(super) async fn write_password(
        conn: &mut Connection,
        application_id: &ObjectId,
        customer_id: &ObjectId,
        change: &PasswordChange<'_>,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let PasswordChange {
            password_hash,
            history_limit,
            keep_session,
        } = *change;
        let at = to_millis(now);
        sqlx::query(
            "INSERT INTO password_history (customer_id, password_hash, created_at) SELECT \
             customer_id, password_hash, $2 FROM customer_credentials WHERE customer_id = $1",
        )
        .bind(customer_id.as_str())
        .bind(at)
        .execute(&mut *conn)
        .await?;
        sqlx::query(
            "DELETE FROM password_history WHERE customer_id = $1 AND id NOT IN (SELECT id FROM \
             password_history WHERE customer_id = $1 ORDER BY id DESC LIMIT $2)",
        )
        .bind(customer_id.as_str())
        .bind(i64::try_from(history_limit).unwrap_or(i64::MAX))
        .execute(&mut *conn)
        .await?;
        sqlx::query(
            "INSERT INTO customer_credentials (customer_id, password_hash, password_changed_at) \
             VALUES ($1, $2, $3) ON CONFLICT (customer_id) DO UPDATE SET password_hash = $2, \
             password_changed_at = $3",
        )
        .bind(customer_id.as_str())
        .bind(password_hash)
        .bind(at)
        .execute(&mut *conn)
        .await?;
        sqlx::query("DELETE FROM login_failures WHERE application_id = $1 AND subject = $2")
            .bind(application_id.as_str())
            .bind(LoginSubject::Customer(customer_id).key())
            .execute(&mut *conn)
            .await?;
        sqlx::query("DELETE FROM customer_sessions WHERE customer_id = $1 AND id <> $2")
            .bind(customer_id.as_str())
            .bind(keep_session.map_or("", ObjectId::as_str))
            .execute(&mut *conn)
            .await?;
        // A new password ends every device's standing, the current one's too: a device
        // someone else kept from before must not outlive the change.
        Self::forget_devices(&mut *conn, customer_id.as_str()).await?;
        Self::audit(
            &mut *conn,
            application_id,
            customer_id.as_str(),
            "password_change",
            actor,
            now,
        )
        .await?;
        Ok(())
    }

    /// Advances a job by one batch inside the caller's transaction: moves the cursor
    /// (only if `checkpoint.owner` still holds the lease at `checkpoint.from`), renews
    /// the lease, counts the batch and records its failures, including `refused`
    /// customers (matched to their rows by `checkpoint.row_of`).
    pub(super) async fn advance_job(
        conn: &mut Connection,
        checkpoint: &crate::jobs::Checkpoint,
        refused: &[ObjectId],
    ) -> Result<(), StoreError> {
        let mut failures = checkpoint.failures.clone();
        for id in refused {
            let (user_id, row_index) = checkpoint
                .row_of
                .iter()
                .find(|(customer, _)| customer == id.as_str())
                .map(|(customer, row)| (customer.clone(), *row))
                .unwrap_or_else(|| (id.to_string(), -1));
            failures.push(crate::jobs::JobFailure {
                row_index,
                user_id,
                error: format!("customer {id} not found"),
                reason: "user_not_found".to_owned(),
            });
        }
        let failed = i64::try_from(failures.len()).unwrap_or(i64::MAX);
        let succeeded = (checkpoint.to - checkpoint.from - failed).max(0);
        let moved = sqlx::query(
            "UPDATE jobs SET cursor = $1, succeeded = succeeded + $2, failed = failed + $3, \
             lease_until = $4, updated_at = $5 WHERE id = $6 AND lease_owner = $7 AND cursor = $8 \
             AND status = 'running'",
        )
        .bind(checkpoint.to)
        .bind(succeeded)
        .bind(failed)
        .bind(to_millis(checkpoint.lease_until))
        .bind(to_millis(checkpoint.now))
        .bind(checkpoint.job_id.as_str())
        .bind(&checkpoint.owner)
        .bind(checkpoint.from)
        .execute(&mut *conn)
        .await?;
        if moved.rows_affected() == 0 {
            return Err(StoreError::Conflict(Conflict::Version));
        }
        Self::insert_failures(conn, &checkpoint.job_id, &failures).await?;
        Ok(())
    }

    /// Records a job's refused rows.
    pub(super) async fn insert_failures(
        conn: &mut Connection,
        job_id: &ObjectId,
        failures: &[crate::jobs::JobFailure],
    ) -> Result<(), sqlx::Error> {
        for chunk in failures.chunks(200) {
            let mut sql = SqlBuilder::default();
            sql.push(
                "INSERT INTO job_failures (job_id, row_index, user_id, error, reason) VALUES ",
            );
            for (index, failure) in chunk.iter().enumerate() {
                sql.push(if index == 0 { "(" } else { ", (" })
                    .bind(SqlParam::Text(job_id.to_string()));
                sql.push(", ").bind(SqlParam::Int(failure.row_index));
                sql.push(", ").bind(SqlParam::Text(failure.user_id.clone()));
                sql.push(", ").bind(SqlParam::Text(failure.error.clone()));
                sql.push(", ")
                    .bind(SqlParam::Text(failure.reason.clone()))
                    .push(")");
            }
            sql.push(" ON CONFLICT (job_id, row_index) DO NOTHING");
            sqlx::query_with(&sql.sql, arguments(&sql.params)?)
                .execute(&mut *conn)
                .await?;
        }
        Ok(())
    }

    /// Adds `delta` to the application's live-customer count (inside the caller's
    /// transaction), on a random shard.
    pub(super) async fn count_live(
        conn: &mut Connection,
        application_id: &ObjectId,
        delta: i64,
    ) -> Result<(), sqlx::Error> {
        /// Shards per application: enough that concurrent writers rarely share a row.
        const SHARDS: i64 = 16;
        let shard = i64::from(rand::random::<u8>()) % SHARDS;
        sqlx::query(
            "INSERT INTO customer_counts (application_id, shard, live) VALUES ($1, $2, $3) ON \
             CONFLICT (application_id, shard) DO UPDATE SET live = customer_counts.live + \
             excluded.live",
        )
        .bind(application_id.as_str())
        .bind(shard)
        .bind(delta)
        .execute(&mut *conn)
        .await?;
        Ok(())
    }

    /// Ends every session of a customer (inside the caller's transaction).
    pub(super) async fn delete_customer_sessions(
        conn: &mut Connection,
        customer_id: &str,
    ) -> Result<(), sqlx::Error> {
        sqlx::query("DELETE FROM customer_sessions WHERE customer_id = $1")
            .bind(customer_id)
            .execute(&mut *conn)
            .await?;
        Self::forget_devices(conn, customer_id).await
    }

    /// Forgets every device the customer signed in from (with their sessions, everywhere).
    pub(super) async fn forget_devices(
        conn: &mut Connection,
        customer_id: &str,
    ) -> Result<(), sqlx::Error> {
        sqlx::query("DELETE FROM known_devices WHERE customer_id = $1")
            .bind(customer_id)
            .execute(&mut *conn)
            .await?;
        Ok(())
    }

    /// Leases claimed rows of a delivery queue (`outbox`, `lifecycle_events`: tables with
    /// `id`, `attempts` and `next_attempt_at`): their next attempt moves to `lease_until`, so
    /// no other worker claims them meanwhile, and the attempt is counted, in one statement.
    pub(super) async fn lease_claimed(
        conn: &mut Connection,
        table: &str,
        ids: Vec<SqlParam>,
        lease_until: DateTime<Utc>,
    ) -> Result<(), sqlx::Error> {
        if ids.is_empty() {
            return Ok(());
        }
        let mut sql = SqlBuilder::default();
        sql.push(&format!("UPDATE {table} SET next_attempt_at = "))
            .bind(SqlParam::Int(to_millis(lease_until)))
            .push(", attempts = attempts + 1 WHERE id IN (");
        for (index, id) in ids.into_iter().enumerate() {
            if index > 0 {
                sql.push(", ");
            }
            sql.bind(id);
        }
        sql.push(")");
        sqlx::query_with(&sql.sql, arguments(&sql.params)?)
            .execute(&mut *conn)
            .await?;
        Ok(())
    }
}

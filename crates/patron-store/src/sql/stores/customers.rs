//! Customers: create, import, read, list, search, update, block, archive, restore.

use patron_domain::contacts::{release_unproven, Contact, ContactEdit};

use super::prelude::*;

use super::helpers::customer_write_error;

#[async_trait]
impl CustomerStore for Store {
    async fn create_customer(
        &self,
        customer: &NewCustomer,
        actor: &Actor,
    ) -> Result<Customer, StoreError> {
        let mut tx = self.begin_write().await?;
        let created = Self::insert_customer(&mut tx, customer, actor).await?;
        tx.commit().await?;
        Ok(created)
    }

    async fn import_customers(
        &self,
        customers: &[NewCustomer],
        actor: &Actor,
    ) -> Result<(), StoreError> {
        self.insert_imported(customers, actor).await
    }

    async fn customers_after(
        &self,
        application_id: &ObjectId,
        after: Option<&ObjectId>,
        limit: usize,
    ) -> Result<Vec<Customer>, StoreError> {
        let mut select = SqlBuilder::default();
        select
            .push(&format!(
                "SELECT {CUSTOMER_COLUMNS} FROM customers c WHERE c.application_id = "
            ))
            .bind(SqlParam::Text(application_id.to_string()))
            .push(" AND c.archived = FALSE");
        if let Some(after) = after {
            select
                .push(" AND c.id > ")
                .bind(SqlParam::Text(after.to_string()));
        }
        select
            .push(" ORDER BY c.id LIMIT ")
            .bind(SqlParam::Int(i64::try_from(limit).unwrap_or(i64::MAX)));
        let mut conn = self.pool.acquire().await?;
        let rows: Vec<CustomerRow> =
            sqlx::query_as_with::<_, CustomerRow, _>(&select.sql, arguments(&select.params)?)
                .fetch_all(&mut *conn)
                .await?;
        Self::with_contacts(&mut conn, rows).await
    }

    async fn find_customer(
        &self,
        application_id: &ObjectId,
        id: &ObjectId,
    ) -> Result<Option<Customer>, StoreError> {
        let mut conn = self.pool.acquire().await?;
        match Self::customer_row(&mut conn, application_id, id, false).await {
            Ok(row) => Ok(Self::with_contacts(&mut conn, vec![row]).await?.pop()),
            Err(StoreError::NotFound { .. }) => Ok(None),
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
        condition
            .push(" WHERE c.application_id = ")
            .bind(SqlParam::Text(application_id.to_string()));
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
                let (live,): (Option<i64>,) = sqlx::query_as(
                    "SELECT CAST(SUM(live) AS BIGINT) FROM customer_counts WHERE application_id = \
                     $1",
                )
                .bind(application_id.as_str())
                .fetch_one(&mut *conn)
                .await?;
                live.unwrap_or(0)
            }
            Some(_) => {
                let count_sql = format!("SELECT COUNT(*) FROM customers c{}", condition.sql);
                let (total,): (i64,) =
                    sqlx::query_as_with::<_, (i64,), _>(&count_sql, arguments(&condition.params)?)
                        .fetch_one(&mut *conn)
                        .await?;
                total
            }
        };
        let mut select = SqlBuilder {
            sql: format!(
                "SELECT {CUSTOMER_COLUMNS} FROM customers c{}",
                condition.sql
            ),
            params: condition.params,
        };
        select
            .push(" ORDER BY c.id DESC LIMIT ")
            .bind(SqlParam::Int(i64::from(page.size())));
        select.push(" OFFSET ").bind(SqlParam::Int(
            i64::try_from(page.offset()).unwrap_or(i64::MAX),
        ));
        let rows: Vec<CustomerRow> =
            sqlx::query_as_with::<_, CustomerRow, _>(&select.sql, arguments(&select.params)?)
                .fetch_all(&mut *conn)
                .await?;
        let customers = Self::with_contacts(&mut conn, rows).await?;
        Ok((customers, u64::try_from(total).unwrap_or_default()))
    }

    async fn search_customers(
        &self,
        application_id: &ObjectId,
        emails: &[Email],
        phones: &[Phone],
    ) -> Result<Vec<Customer>, StoreError> {
        if emails.is_empty() && phones.is_empty() {
            return Ok(Vec::new());
        }
        let mut sql = SqlBuilder::default();
        sql.push(&format!(
            "SELECT {CUSTOMER_COLUMNS} FROM customers c WHERE c.application_id = "
        ));
        sql.bind(SqlParam::Text(application_id.to_string()));
        sql.push(" AND c.archived = FALSE AND (");
        let mut alternatives = 0;
        if !emails.is_empty() {
            sql.push(
                "c.id IN (SELECT e.customer_id FROM customer_emails e WHERE e.application_id = $1 \
                 AND e.email IN (",
            );
            sql.bind_list(emails.iter().map(Email::as_str)).push("))");
            alternatives += 1;
        }
        for phone in phones {
            if alternatives > 0 {
                sql.push(" OR ");
            }
            sql.push(
                "c.id IN (SELECT p.customer_id FROM customer_phones p WHERE p.application_id = $1 \
                 AND p.country_code = ",
            );
            sql.bind(SqlParam::Int(i64::from(phone.country_code())));
            sql.push(" AND p.phone = ")
                .bind(SqlParam::Text(phone.national().to_owned()))
                .push(")");
            alternatives += 1;
        }
        sql.push(") ORDER BY c.id DESC LIMIT 100");
        let mut conn = self.pool.acquire().await?;
        let rows: Vec<CustomerRow> =
            sqlx::query_as_with::<_, CustomerRow, _>(&sql.sql, arguments(&sql.params)?)
                .fetch_all(&mut *conn)
                .await?;
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
        let current = Self::live_customer_for_update(&mut tx, application_id, id).await?;
        changes.check_leaves_a_contact(&current)?;
        if changes.is_noop_for(&current) {
            return Ok(current);
        }
        let customer =
            Self::write_changes(&mut tx, &current, changes, "update", actor, now).await?;
        Self::commit_changes(tx, &current, changes).await?;
        Ok(customer)
    }

    async fn edit_contacts(
        &self,
        application_id: &ObjectId,
        id: &ObjectId,
        edit: &ContactEdit,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<Customer, StoreError> {
        let mut tx = self.begin_write().await?;
        let current = Self::live_customer_for_update(&mut tx, application_id, id).await?;
        let Some(changes) = edit.apply(&current)? else {
            return Ok(current);
        };
        if let ContactEdit::Verify(contact) | ContactEdit::VerifyAsPrimary(contact) = edit {
            Self::release_unproven_contacts(
                &mut tx,
                application_id,
                id.as_str(),
                std::slice::from_ref(contact),
                actor,
                now,
            )
            .await?;
        }
        let customer =
            Self::write_changes(&mut tx, &current, &changes, "contacts", actor, now).await?;
        Self::commit_changes(tx, &current, &changes).await?;
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
        found
            .push("SELECT id FROM customers WHERE application_id = ")
            .bind(SqlParam::Text(application_id.to_string()));
        found
            .push(" AND id IN (")
            .bind_list(wanted.iter().copied())
            .push(")");
        found.push(Self::LOCK_ROW);
        let existing: Vec<(String,)> =
            sqlx::query_as_with::<_, (String,), _>(&found.sql, arguments(&found.params)?)
                .fetch_all(&mut *tx)
                .await?;
        let existing: BTreeSet<&str> = existing.iter().map(|(id,)| id.as_str()).collect();
        let unknown: Vec<String> = wanted
            .difference(&existing)
            .map(|id| (*id).to_owned())
            .collect();
        if !unknown.is_empty() {
            return Err(StoreError::UnknownCustomers(unknown));
        }
        let action = if active { "unblock" } else { "block" };
        for id in &wanted {
            sqlx::query(
                "UPDATE customers SET active = $1, version = version + 1, updated_at = $2 WHERE id \
                 = $3",
            )
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

    async fn archive_customer(
        &self,
        application_id: &ObjectId,
        id: &ObjectId,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
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

    async fn restore_customer(
        &self,
        application_id: &ObjectId,
        id: &ObjectId,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        let row = Self::customer_row(&mut tx, application_id, id, true).await?;
        if !row.archived {
            return Err(StoreError::ArchiveState(false));
        }
        // An anonymised customer stays archived for good.
        if row.deleted_at.is_some() {
            return Err(StoreError::Deleted);
        }
        let customer = Self::customer_with_contacts(&mut tx, row).await?;
        if let Some(conflict) = Self::contact_conflict(
            &mut tx,
            application_id,
            id.as_str(),
            &customer.emails,
            &customer.phones,
        )
        .await?
        {
            return Err(StoreError::Conflict(conflict));
        }
        Self::set_archived(&mut tx, id.as_str(), false, now)
            .await
            .map_err(|error| {
                customer_write_error(
                    error,
                    &customer.username,
                    &customer.emails,
                    &customer.phones,
                )
            })?;
        Self::audit(&mut tx, application_id, id.as_str(), "restore", actor, now).await?;
        Self::count_live(&mut tx, application_id, 1).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn find_by_identity(
        &self,
        application_id: &ObjectId,
        provider: &str,
        subject: &str,
    ) -> Result<Option<Customer>, StoreError> {
        let sql = format!(
            "SELECT {CUSTOMER_COLUMNS} FROM customers c JOIN social_identities i ON i.customer_id \
             = c.id WHERE i.application_id = $1 AND i.provider = $2 AND i.subject = $3"
        );
        let mut conn = self.pool.acquire().await?;
        let row: Option<CustomerRow> = sqlx::query_as(&sql)
            .bind(application_id.as_str())
            .bind(provider)
            .bind(subject)
            .fetch_optional(&mut *conn)
            .await?;
        match row {
            Some(row) => Ok(Some(Self::customer_with_contacts(&mut conn, row).await?)),
            None => Ok(None),
        }
    }

    async fn link_identity(
        &self,
        application_id: &ObjectId,
        customer_id: &ObjectId,
        provider: &str,
        subject: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        let linked = sqlx::query(
            "INSERT INTO social_identities (application_id, provider, subject, customer_id, \
             created_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
        )
        .bind(application_id.as_str())
        .bind(provider)
        .bind(subject)
        .bind(customer_id.as_str())
        .bind(to_millis(now))
        .execute(&mut *tx)
        .await?;
        if linked.rows_affected() == 0 {
            let (holder,): (String,) = sqlx::query_as(
                "SELECT customer_id FROM social_identities WHERE application_id = $1 AND \
                 provider = $2 AND subject = $3",
            )
            .bind(application_id.as_str())
            .bind(provider)
            .bind(subject)
            .fetch_one(&mut *tx)
            .await?;
            if holder != customer_id.as_str() {
                return Err(StoreError::Conflict(Conflict::Id(format!(
                    "{provider} identity {subject}"
                ))));
            }
        }
        tx.commit().await?;
        Ok(())
    }

    async fn request_deletion(
        &self,
        application_id: &ObjectId,
        id: &ObjectId,
        purge_at: DateTime<Utc>,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        let row = Self::customer_row(&mut tx, application_id, id, true).await?;
        if row.archived {
            return Err(StoreError::ArchiveState(true));
        }
        if row.deleted_at.is_some() {
            return Err(StoreError::Deleted);
        }
        sqlx::query(
            "UPDATE customers SET deleted_at = $1, purge_at = $2, version = version + 1, \
             updated_at = $1 WHERE id = $3",
        )
        .bind(to_millis(now))
        .bind(to_millis(purge_at))
        .bind(id.as_str())
        .execute(&mut *tx)
        .await?;
        Self::delete_customer_sessions(&mut tx, id.as_str()).await?;
        Self::audit(
            &mut tx,
            application_id,
            id.as_str(),
            "delete_request",
            actor,
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn cancel_deletion(
        &self,
        application_id: &ObjectId,
        id: &ObjectId,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        let row = Self::customer_row(&mut tx, application_id, id, true).await?;
        match (row.deleted_at, row.purge_at) {
            (Some(_), Some(purge_at)) if purge_at > to_millis(now) && !row.archived => {}
            (Some(_), _) => return Err(StoreError::Deleted),
            (None, _) => return Err(StoreError::ArchiveState(false)),
        }
        sqlx::query(
            "UPDATE customers SET deleted_at = NULL, purge_at = NULL, version = version + 1, \
             updated_at = $1 WHERE id = $2",
        )
        .bind(to_millis(now))
        .bind(id.as_str())
        .execute(&mut *tx)
        .await?;
        Self::audit(&mut tx, application_id, id.as_str(), "undelete", actor, now).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn audit_trail(
        &self,
        application_id: &ObjectId,
        customer_id: &ObjectId,
        limit: usize,
    ) -> Result<Vec<AuditRecord>, StoreError> {
        let rows: Vec<(String, String, Option<String>, i64)> = sqlx::query_as(
            "SELECT action, actor, reason, at FROM audit_events WHERE customer_id = $1 AND \
             application_id = $2 ORDER BY id DESC LIMIT $3",
        )
        .bind(customer_id.as_str())
        .bind(application_id.as_str())
        .bind(i64::try_from(limit).unwrap_or(i64::MAX))
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(action, actor, reason, at)| AuditRecord {
                action,
                actor,
                reason,
                at: from_millis(at),
            })
            .collect())
    }

    async fn anonymise_due(
        &self,
        now: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<ObjectId>, StoreError> {
        let due: Vec<(String, String)> = sqlx::query_as(
            "SELECT id, application_id FROM customers WHERE purge_at <= $1 AND NOT archived \
             ORDER BY purge_at LIMIT $2",
        )
        .bind(to_millis(now))
        .bind(i64::try_from(limit).unwrap_or(i64::MAX))
        .fetch_all(&self.pool)
        .await?;
        let mut done = Vec::with_capacity(due.len());
        for (id, application_id) in due {
            let application_id = ObjectId::from_trusted(application_id);
            let mut tx = self.begin_write().await?;
            let still_due: Option<(i64,)> = sqlx::query_as(&format!(
                "SELECT purge_at FROM customers WHERE id = $1 AND purge_at <= $2 AND NOT \
                 archived{}",
                Self::LOCK_ROW
            ))
            .bind(&id)
            .bind(to_millis(now))
            .fetch_optional(&mut *tx)
            .await?;
            if still_due.is_none() {
                continue;
            }
            // Index rows by (definition, customer), the index they have.
            sqlx::query(
                "DELETE FROM attribute_index WHERE customer_id = $1 AND definition_id IN (SELECT \
                 v.definition_id FROM attribute_values v WHERE v.customer_id = $1)",
            )
            .bind(&id)
            .execute(&mut *tx)
            .await?;
            for table in [
                "customer_emails",
                "customer_phones",
                "attribute_values",
                "group_members",
                "group_overrides",
                "customer_sessions",
                "customer_credentials",
                "password_history",
                "password_reset_codes",
                "login_tokens",
                "social_identities",
            ] {
                sqlx::query(&format!("DELETE FROM {table} WHERE customer_id = $1"))
                    .bind(&id)
                    .execute(&mut *tx)
                    .await?;
            }
            sqlx::query("DELETE FROM otp_challenges WHERE customer_id = $1")
                .bind(&id)
                .execute(&mut *tx)
                .await?;
            sqlx::query("DELETE FROM login_failures WHERE application_id = $1 AND subject = $2")
                .bind(application_id.as_str())
                .bind(LoginSubject::Customer(&ObjectId::from_trusted(id.clone())).key())
                .execute(&mut *tx)
                .await?;
            sqlx::query(
                "UPDATE customers SET username = $1, first_name = NULL, last_name = NULL, \
                 gender = NULL, dob = NULL, profile_pic_url = NULL, external_id = NULL, rr_id = \
                 NULL, meta = '{}', active = FALSE, archived = TRUE, purge_at = NULL, version = \
                 version + 1, updated_at = $2 WHERE id = $3",
            )
            .bind(format!("deleted_{id}"))
            .bind(to_millis(now))
            .bind(&id)
            .execute(&mut *tx)
            .await?;
            Self::count_live(&mut tx, &application_id, -1).await?;
            Self::audit(
                &mut tx,
                &application_id,
                &id,
                "anonymise",
                &Actor::new("retention").with_reason("deletion grace window ended", None),
                now,
            )
            .await?;
            tx.commit().await?;
            done.push(ObjectId::from_trusted(id));
        }
        Ok(done)
    }
}

impl Store {
    /// Reads a live customer with their contacts, locking the row where the backend can.
    async fn live_customer_for_update(
        conn: &mut Connection,
        application_id: &ObjectId,
        id: &ObjectId,
    ) -> Result<Customer, StoreError> {
        let row = Self::customer_row(conn, application_id, id, true).await?;
        if row.archived {
            return Err(StoreError::ArchiveState(true));
        }
        Self::customer_with_contacts(conn, row).await
    }

    /// Takes each of the `proven` contacts, which `keeper` has just proven, from every other
    /// live customer holding it unproven (in the caller's transaction, each holder's row
    /// locked): the holder loses the entry, audited as `contact_release` by `actor` and
    /// announced as `customer.updated`. Holders that proved it stay, and the unique index
    /// refuses the keeper's write.
    pub(super) async fn release_unproven_contacts(
        conn: &mut Connection,
        application_id: &ObjectId,
        keeper: &str,
        proven: &[Contact],
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        for contact in proven {
            let holders: Vec<(String,)> =
                match contact {
                    Contact::Email(email) => sqlx::query_as(
                        "SELECT customer_id FROM customer_emails WHERE application_id = $1 AND \
                         email = $2 AND NOT archived AND NOT verified AND customer_id <> $3",
                    )
                    .bind(application_id.as_str())
                    .bind(email.as_str())
                    .bind(keeper)
                    .fetch_all(&mut *conn)
                    .await?,
                    Contact::Phone(phone) => sqlx::query_as(
                        "SELECT customer_id FROM customer_phones WHERE application_id = $1 AND \
                         country_code = $2 AND phone = $3 AND NOT archived AND NOT verified AND \
                         customer_id <> $4",
                    )
                    .bind(application_id.as_str())
                    .bind(i32::from(phone.country_code()))
                    .bind(phone.national())
                    .bind(keeper)
                    .fetch_all(&mut *conn)
                    .await?,
                };
            for (holder,) in holders {
                let holder = ObjectId::from_trusted(holder);
                let current = Self::live_customer_for_update(conn, application_id, &holder).await?;
                if let Some(changes) = release_unproven(&current, contact) {
                    Self::write_changes(conn, &current, &changes, "contact_release", actor, now)
                        .await?;
                }
            }
        }
        Ok(())
    }

    /// Commits a transaction that wrote `changes`; a unique index that refuses it at commit
    /// is the conflict naming the value.
    async fn commit_changes(
        tx: crate::sql::WriteTransaction<Db>,
        current: &Customer,
        changes: &CustomerChanges,
    ) -> Result<(), StoreError> {
        tx.commit().await.map_err(|error| {
            customer_write_error(
                error,
                &current.username,
                changes.emails.as_deref().unwrap_or_default(),
                changes.phones.as_deref().unwrap_or_default(),
            )
        })
    }

    /// Writes `changes` to `current` (contact lists replaced wholesale, profile fields
    /// merged), audits them as `action` and returns the customer as it now is.
    async fn write_changes(
        conn: &mut Connection,
        current: &Customer,
        changes: &CustomerChanges,
        action: &str,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<Customer, StoreError> {
        let application_id = &current.application_id;
        let id = &current.id;
        let emails = changes.emails.as_deref().unwrap_or_default();
        let phones = changes.phones.as_deref().unwrap_or_default();
        if let Some(conflict) =
            Self::contact_conflict(conn, application_id, id.as_str(), emails, phones).await?
        {
            return Err(StoreError::Conflict(conflict));
        }
        let write_error = |error| customer_write_error(error, &current.username, emails, phones);
        if let Some(emails) = &changes.emails {
            sqlx::query("DELETE FROM customer_emails WHERE customer_id = $1")
                .bind(id.as_str())
                .execute(&mut *conn)
                .await?;
            Self::insert_contacts(conn, application_id, id.as_str(), emails, &[])
                .await
                .map_err(write_error)?;
        }
        if let Some(phones) = &changes.phones {
            sqlx::query("DELETE FROM customer_phones WHERE customer_id = $1")
                .bind(id.as_str())
                .execute(&mut *conn)
                .await?;
            Self::insert_contacts(conn, application_id, id.as_str(), &[], phones)
                .await
                .map_err(write_error)?;
        }
        let mut profile = current.profile.clone();
        changes.apply_to(&mut profile);
        sqlx::query(
            "UPDATE customers SET first_name = $1, last_name = $2, gender = $3, external_id = $4, \
             rr_id = $5, meta = $6, version = version + 1, updated_at = $7, dob = $9, \
             profile_pic_url = $10 WHERE id = $8",
        )
        .bind(profile.first_name.as_deref())
        .bind(profile.last_name.as_deref())
        .bind(profile.gender.as_deref())
        .bind(profile.external_id.as_deref())
        .bind(profile.rr_id.as_deref())
        .bind(serde_json::Value::Object(profile.meta.clone()).to_string())
        .bind(to_millis(now))
        .bind(id.as_str())
        .bind(profile.dob.as_deref())
        .bind(profile.profile_pic_url.as_deref())
        .execute(&mut *conn)
        .await?;
        Self::audit(conn, application_id, id.as_str(), action, actor, now).await?;
        let updated = Self::customer_row(conn, application_id, id, false).await?;
        Self::customer_with_contacts(conn, updated).await
    }
}

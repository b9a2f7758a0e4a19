//! Bulk insertion of customers (import jobs, benchmark seeding): multi-row statements for
//! the customers, their contacts, password hashes and attribute values, their audit records
//! and the events announcing them.

use std::collections::HashSet;

use super::helpers::customer_write_error;
use super::prelude::*;

use crate::jobs::{Checkpoint, ImportedCustomer, JobFailure};
use crate::ValueWrite;

/// Rows per statement, well under both backends' bound-parameter limits.
///
/// PostgreSQL connections cache statements by their text with the parameter types of their
/// first use, so the INTEGER columns bound here from 64-bit values are cast explicitly: a
/// one-row statement then never shares its text with the single-customer inserts, which
/// bind 32-bit values.
const ROWS_PER_STATEMENT: usize = 500;

impl Store {
    /// Inserts `customers` in one transaction, all or none (see
    /// [`crate::CustomerStore::import_customers`]).
    pub(super) async fn insert_imported(
        &self,
        customers: &[NewCustomer],
        actor: &Actor,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        let all: Vec<&NewCustomer> = customers.iter().collect();
        Self::write_customers(&mut tx, &all, actor).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Inserts one batch of an import job (see [`crate::JobStore::import_batch`]).
    pub(super) async fn insert_import_batch(
        &self,
        application_id: &ObjectId,
        rows: &[ImportedCustomer],
        actor: &Actor,
        checkpoint: &Checkpoint,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        let (accepted, refused) = Self::refuse_taken(&mut tx, application_id, rows).await?;
        let customers: Vec<&NewCustomer> = accepted.iter().map(|row| &row.customer).collect();
        Self::write_customers(&mut tx, &customers, actor).await?;
        Self::write_password_hashes(&mut tx, &accepted).await?;
        let values: Vec<(&ObjectId, &ValueWrite)> = accepted
            .iter()
            .flat_map(|row| row.values.iter().map(|value| (&row.customer.id, value)))
            .collect();
        if !values.is_empty() {
            Self::write_values(&mut tx, application_id, &values, actor, checkpoint.now).await?;
        }
        let mut progress = checkpoint.clone();
        progress.failures.extend(refused);
        Self::advance_job(&mut tx, &progress, &[]).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Splits `rows` into those whose contacts are free and refusals for those whose email
    /// or phone a live customer, or an earlier row, holds.
    async fn refuse_taken<'a>(
        conn: &mut Connection,
        application_id: &ObjectId,
        rows: &'a [ImportedCustomer],
    ) -> Result<(Vec<&'a ImportedCustomer>, Vec<JobFailure>), StoreError> {
        let mut taken_emails: HashSet<String> = HashSet::new();
        let mut taken_phones: HashSet<(i64, String)> = HashSet::new();
        for chunk in rows.chunks(ROWS_PER_STATEMENT) {
            let emails: Vec<&str> = chunk
                .iter()
                .flat_map(|row| row.customer.emails.iter().map(|e| e.email.as_str()))
                .collect();
            if !emails.is_empty() {
                let mut sql = SqlBuilder::default();
                sql.push("SELECT email FROM customer_emails WHERE application_id = ")
                    .bind(SqlParam::Text(application_id.to_string()))
                    .push(" AND archived = FALSE AND email IN (")
                    .bind_list(emails)
                    .push(")");
                let found: Vec<(String,)> = sqlx::query_as_with(&sql.sql, arguments(&sql.params)?)
                    .fetch_all(&mut *conn)
                    .await?;
                taken_emails.extend(found.into_iter().map(|(email,)| email));
            }
            let phones: Vec<&str> = chunk
                .iter()
                .flat_map(|row| row.customer.phones.iter().map(|p| p.phone.national()))
                .collect();
            if !phones.is_empty() {
                let mut sql = SqlBuilder::default();
                sql.push(
                    "SELECT CAST(country_code AS BIGINT), phone FROM customer_phones WHERE \
                     application_id = ",
                )
                .bind(SqlParam::Text(application_id.to_string()))
                .push(" AND archived = FALSE AND phone IN (")
                .bind_list(phones)
                .push(")");
                let found: Vec<(i64, String)> =
                    sqlx::query_as_with(&sql.sql, arguments(&sql.params)?)
                        .fetch_all(&mut *conn)
                        .await?;
                taken_phones.extend(found);
            }
        }
        let mut accepted = Vec::with_capacity(rows.len());
        let mut refused = Vec::new();
        for row in rows {
            let customer = &row.customer;
            let email = customer
                .emails
                .iter()
                .find(|e| taken_emails.contains(e.email.as_str()));
            let phone = customer.phones.iter().find(|p| {
                taken_phones.contains(&(
                    i64::from(p.phone.country_code()),
                    p.phone.national().to_owned(),
                ))
            });
            let refusal = match (email, phone) {
                (Some(entry), _) => Some((
                    entry.email.to_string(),
                    "email_taken",
                    "another customer has this email",
                )),
                (None, Some(entry)) => Some((
                    entry.phone.to_string(),
                    "phone_taken",
                    "another customer has this phone number",
                )),
                (None, None) => None,
            };
            match refusal {
                Some((user_id, reason, error)) => refused.push(JobFailure {
                    row_index: row.row_index,
                    user_id,
                    error: match row.line {
                        0 => error.to_owned(),
                        line => format!("line {line}: {error}"),
                    },
                    reason: reason.to_owned(),
                }),
                None => {
                    taken_emails.extend(customer.emails.iter().map(|e| e.email.to_string()));
                    taken_phones.extend(customer.phones.iter().map(|p| {
                        (
                            i64::from(p.phone.country_code()),
                            p.phone.national().to_owned(),
                        )
                    }));
                    accepted.push(row);
                }
            }
        }
        Ok((accepted, refused))
    }

    /// Stores the imported password hashes of `rows` (those that have one).
    async fn write_password_hashes(
        conn: &mut Connection,
        rows: &[&ImportedCustomer],
    ) -> Result<(), StoreError> {
        let with_hash: Vec<(&ImportedCustomer, &str)> = rows
            .iter()
            .filter_map(|row| row.password_hash.as_deref().map(|hash| (*row, hash)))
            .collect();
        for chunk in with_hash.chunks(ROWS_PER_STATEMENT) {
            let mut sql = SqlBuilder::default();
            sql.push(
                "INSERT INTO customer_credentials (customer_id, password_hash, \
                 password_changed_at) VALUES ",
            );
            for (index, (row, hash)) in chunk.iter().enumerate() {
                sql.push(if index == 0 { "(" } else { ", (" })
                    .bind(SqlParam::Text(row.customer.id.to_string()))
                    .push(", ")
                    .bind(SqlParam::Text((*hash).to_owned()))
                    .push(", ")
                    .bind(SqlParam::Int(to_millis(row.customer.created_at)))
                    .push(")");
            }
            sqlx::query_with(&sql.sql, arguments(&sql.params)?)
                .execute(&mut *conn)
                .await?;
        }
        Ok(())
    }

    /// Inserts `customers` with their contacts, audit records and `customer.created` events,
    /// and counts them live.
    async fn write_customers(
        tx: &mut Connection,
        customers: &[&NewCustomer],
        actor: &Actor,
    ) -> Result<(), StoreError> {
        for chunk in customers.chunks(ROWS_PER_STATEMENT) {
            let mut rows = SqlBuilder::default();
            rows.push(
                "INSERT INTO customers (id, application_id, username, first_name, last_name, \
                 gender, external_id, rr_id, meta, active, archived, account_type, created_at, \
                 updated_at, version) VALUES ",
            );
            let mut emails = SqlBuilder::default();
            emails.push(
                "INSERT INTO customer_emails (customer_id, application_id, position, email, \
                 is_primary, verified, active) VALUES ",
            );
            let mut phones = SqlBuilder::default();
            phones.push(
                "INSERT INTO customer_phones (customer_id, application_id, position, country_code, \
                 phone, is_primary, verified, active) VALUES ",
            );
            let mut audit = SqlBuilder::default();
            audit.push(
                "INSERT INTO audit_events (application_id, customer_id, action, actor, at) VALUES ",
            );
            let text = |value: &str| SqlParam::Text(value.to_owned());
            let optional = |value: &Option<String>| {
                value
                    .as_deref()
                    .map_or(SqlParam::Null, |v| SqlParam::Text(v.to_owned()))
            };
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
                rows.push(", TRUE, FALSE, 'user', ")
                    .bind(at.clone())
                    .push(", ")
                    .bind(at.clone())
                    .push(", 0)");
                for (position, entry) in customer.emails.iter().enumerate() {
                    emails.push(if emails.params.is_empty() { "(" } else { ", (" });
                    emails
                        .bind(text(customer.id.as_str()))
                        .push(", ")
                        .bind(text(customer.application_id.as_str()));
                    emails
                        .push(", CAST(")
                        .bind(SqlParam::Int(i64::try_from(position).unwrap_or_default()))
                        .push(" AS INTEGER)");
                    emails
                        .push(", ")
                        .bind(text(entry.email.as_str()))
                        .push(", ")
                        .bind(SqlParam::Bool(entry.primary));
                    emails
                        .push(", ")
                        .bind(SqlParam::Bool(entry.verified))
                        .push(", ")
                        .bind(SqlParam::Bool(entry.active))
                        .push(")");
                }
                for (position, entry) in customer.phones.iter().enumerate() {
                    phones.push(if phones.params.is_empty() { "(" } else { ", (" });
                    phones
                        .bind(text(customer.id.as_str()))
                        .push(", ")
                        .bind(text(customer.application_id.as_str()));
                    phones
                        .push(", CAST(")
                        .bind(SqlParam::Int(i64::try_from(position).unwrap_or_default()))
                        .push(" AS INTEGER)");
                    phones
                        .push(", CAST(")
                        .bind(SqlParam::Int(i64::from(entry.phone.country_code())))
                        .push(" AS INTEGER)");
                    phones
                        .push(", ")
                        .bind(text(entry.phone.national()))
                        .push(", ")
                        .bind(SqlParam::Bool(entry.primary));
                    phones
                        .push(", ")
                        .bind(SqlParam::Bool(entry.verified))
                        .push(", ")
                        .bind(SqlParam::Bool(entry.active))
                        .push(")");
                }
                audit
                    .push(separator)
                    .bind(text(customer.application_id.as_str()))
                    .push(", ")
                    .bind(text(customer.id.as_str()));
                audit
                    .push(", 'import', ")
                    .bind(text(&actor.id))
                    .push(", ")
                    .bind(at)
                    .push(")");
            }
            // Each imported customer is announced as created.
            let mut events = SqlBuilder::default();
            events.push(
                "INSERT INTO lifecycle_events (type, company_id, application_id, customer_id, \
                 action, actor, occurred_at, next_attempt_at) SELECT 'customer.created', \
                 a.company_id, c.application_id, c.id, 'import', ",
            );
            events.bind(text(&actor.id)).push(
                ", c.created_at, c.created_at FROM customers c JOIN applications a ON a.id = \
                       c.application_id WHERE c.id IN (",
            );
            for (index, customer) in chunk.iter().enumerate() {
                if index > 0 {
                    events.push(", ");
                }
                events.bind(text(customer.id.as_str()));
            }
            events.push(")");
            for statement in [&rows, &emails, &phones, &audit, &events] {
                if statement.params.is_empty() {
                    continue;
                }
                sqlx::query_with(&statement.sql, arguments(&statement.params)?)
                    .execute(&mut *tx)
                    .await
                    .map_err(|error| {
                        let first = &chunk[0];
                        customer_write_error(error, &first.username, &first.emails, &first.phones)
                    })?;
            }
        }
        if let Some(first) = customers.first() {
            Self::count_live(
                tx,
                &first.application_id,
                i64::try_from(customers.len()).unwrap_or(i64::MAX),
            )
            .await?;
        }
        Ok(())
    }
}

//! Bulk insertion of customers (imports, benchmark seeding): multi-row statements for the
//! customers, their contacts, their audit records and the events announcing them.

use super::helpers::customer_write_error;
use super::prelude::*;

impl Store {
    /// Inserts `customers` in one transaction, all or none (see
    /// [`crate::CustomerStore::import_customers`]).
    pub(super) async fn insert_imported(
        &self,
        customers: &[NewCustomer],
        actor: &Actor,
    ) -> Result<(), StoreError> {
        /// Rows per statement, well under both backends' bound-parameter limits.
        const ROWS_PER_STATEMENT: usize = 500;
        let mut tx = self.begin_write().await?;
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
                        .push(", ")
                        .bind(SqlParam::Int(i64::try_from(position).unwrap_or_default()));
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
                        .push(", ")
                        .bind(SqlParam::Int(i64::try_from(position).unwrap_or_default()));
                    phones
                        .push(", ")
                        .bind(SqlParam::Int(i64::from(entry.phone.country_code())));
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
                &mut tx,
                &first.application_id,
                i64::try_from(customers.len()).unwrap_or(i64::MAX),
            )
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }
}

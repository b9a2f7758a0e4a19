//! Lifecycle events: recorded beside the audit trail, claimed and marked by the events
//! worker.

use super::prelude::*;

use crate::{EventStore, LifecycleEvent};

/// The columns of an event row, in [`EventRow`]'s order.
const EVENT_COLUMNS: &str = "id, type, company_id, application_id, customer_id, action, actor, \
                             reason, reason_id, occurred_at, attempts";

#[derive(sqlx::FromRow)]
struct EventRow {
    id: i64,
    #[sqlx(rename = "type")]
    kind: String,
    company_id: String,
    application_id: String,
    customer_id: Option<String>,
    action: String,
    actor: String,
    reason: Option<String>,
    reason_id: Option<String>,
    occurred_at: i64,
    attempts: i64,
}

impl From<EventRow> for LifecycleEvent {
    fn from(row: EventRow) -> Self {
        LifecycleEvent {
            id: row.id,
            kind: row.kind,
            company_id: row.company_id,
            application_id: row.application_id,
            customer_id: row.customer_id,
            action: row.action,
            actor: row.actor,
            reason: row.reason,
            reason_id: row.reason_id,
            occurred_at: from_millis(row.occurred_at),
            attempts: u32::try_from(row.attempts).unwrap_or(u32::MAX),
        }
    }
}

impl Store {
    /// Appends the audit entries and lifecycle events of one change made to many customers
    /// at once, a few statements per 400 customers (inside the caller's transaction).
    pub(super) async fn audit_many(
        conn: &mut Connection,
        application_id: &ObjectId,
        customer_ids: &[&str],
        action: &str,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<(), sqlx::Error> {
        let text = |value: &str| SqlParam::Text(value.to_owned());
        let optional = |value: Option<&str>| value.map_or(SqlParam::Null, text);
        let at = SqlParam::Int(to_millis(now));
        for chunk in customer_ids.chunks(400) {
            let mut audit = SqlBuilder::default();
            audit.push(
                "INSERT INTO audit_events (application_id, customer_id, action, actor, reason, \
                 reason_id, at) VALUES ",
            );
            for (index, customer_id) in chunk.iter().enumerate() {
                audit.push(if index == 0 { "(" } else { ", (" });
                for (column, param) in [
                    text(application_id.as_str()),
                    text(customer_id),
                    text(action),
                    text(&actor.id),
                    optional(actor.reason.as_deref()),
                    optional(actor.reason_id.as_deref()),
                    at.clone(),
                ]
                .into_iter()
                .enumerate()
                {
                    if column > 0 {
                        audit.push(", ");
                    }
                    audit.bind(param);
                }
                audit.push(")");
            }
            sqlx::query_with(&audit.sql, arguments(&audit.params)?)
                .execute(&mut *conn)
                .await?;
            let Some(kind) = patron_domain::events::event_type(action) else {
                continue;
            };
            let mut events = SqlBuilder::default();
            events
                .push(
                    "INSERT INTO lifecycle_events (type, company_id, application_id, \
                     customer_id, action, actor, reason, reason_id, occurred_at, \
                     next_attempt_at) SELECT ",
                )
                .bind(text(kind))
                .push(", a.company_id, a.id, c.id, ")
                .bind(text(action))
                .push(", ")
                .bind(text(&actor.id))
                .push(", ")
                .bind(optional(actor.reason.as_deref()))
                .push(", ")
                .bind(optional(actor.reason_id.as_deref()))
                .push(", ")
                .bind(at.clone())
                .push(", ")
                .bind(at.clone());
            events.push(
                " FROM customers c JOIN applications a ON a.id = c.application_id WHERE \
                 c.application_id = ",
            );
            events
                .bind(text(application_id.as_str()))
                .push(" AND c.id IN (");
            events.bind_list(chunk.iter().copied()).push(")");
            sqlx::query_with(&events.sql, arguments(&events.params)?)
                .execute(&mut *conn)
                .await?;
        }
        Ok(())
    }
}

#[async_trait]
impl EventStore for Store {
    async fn claim_due_events(
        &self,
        now: DateTime<Utc>,
        lease: chrono::Duration,
        limit: usize,
    ) -> Result<Vec<LifecycleEvent>, StoreError> {
        let mut tx = self.begin_write().await?;
        let rows: Vec<EventRow> = sqlx::query_as(&format!(
            "SELECT {EVENT_COLUMNS} FROM lifecycle_events WHERE status = 'pending' AND \
             next_attempt_at <= $1 ORDER BY id LIMIT $2{}",
            Self::SKIP_LOCKED
        ))
        .bind(to_millis(now))
        .bind(i64::try_from(limit).unwrap_or(i64::MAX))
        .fetch_all(&mut *tx)
        .await?;
        let ids = rows.iter().map(|row| SqlParam::Int(row.id)).collect();
        Self::lease_claimed(&mut tx, "lifecycle_events", ids, now + lease).await?;
        let claimed = rows
            .into_iter()
            .map(|row| {
                let mut event = LifecycleEvent::from(row);
                event.attempts += 1;
                event
            })
            .collect();
        tx.commit().await?;
        Ok(claimed)
    }

    async fn mark_event_delivered(&self, id: i64, now: DateTime<Utc>) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE lifecycle_events SET status = 'delivered', delivered_at = $1, last_error = \
             NULL WHERE id = $2",
        )
        .bind(to_millis(now))
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn mark_event_failed(
        &self,
        id: i64,
        error: &str,
        retry_at: Option<DateTime<Utc>>,
    ) -> Result<(), StoreError> {
        let query = match retry_at {
            Some(at) => sqlx::query(
                "UPDATE lifecycle_events SET last_error = $1, next_attempt_at = $2 WHERE id = $3",
            )
            .bind(error)
            .bind(to_millis(at))
            .bind(id),
            None => sqlx::query(
                "UPDATE lifecycle_events SET last_error = $1, status = 'failed' WHERE id = $2",
            )
            .bind(error)
            .bind(id),
        };
        query.execute(&self.pool).await?;
        Ok(())
    }

    async fn replay_events(
        &self,
        since: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query(
            "UPDATE lifecycle_events SET status = 'pending', attempts = 0, next_attempt_at = $1, \
             last_error = NULL WHERE occurred_at >= $2",
        )
        .bind(to_millis(now))
        .bind(to_millis(since))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(done.rows_affected())
    }
}

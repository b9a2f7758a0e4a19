//! The outbox of customer messages.

use super::prelude::*;

#[async_trait]
impl OutboxStore for Store {
    async fn enqueue(
        &self,
        application_id: &ObjectId,
        message: &Message,
        now: DateTime<Utc>,
    ) -> Result<ObjectId, StoreError> {
        let mut conn = self.pool.acquire().await?;
        Self::insert_outbox(&mut conn, application_id, message, now).await
    }

    async fn enqueue_or_discard(
        &self,
        application_id: &ObjectId,
        message: &Message,
        keep: bool,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        Self::insert_outbox(&mut tx, application_id, message, now).await?;
        if keep {
            tx.commit().await?;
        } else {
            tx.rollback().await?;
        }
        Ok(())
    }

    async fn claim_due(
        &self,
        now: DateTime<Utc>,
        lease: chrono::Duration,
        limit: usize,
    ) -> Result<Vec<OutboxMessage>, StoreError> {
        let mut tx = self.begin_write().await?;
        let sql = format!(
            "SELECT {OUTBOX_COLUMNS} FROM outbox WHERE status = 'pending' AND next_attempt_at <= \
             $1 ORDER BY next_attempt_at LIMIT $2{}",
            Self::SKIP_LOCKED
        );
        let rows: Vec<OutboxRow> = sqlx::query_as(&sql)
            .bind(to_millis(now))
            .bind(i64::try_from(limit).unwrap_or(i64::MAX))
            .fetch_all(&mut *tx)
            .await?;
        let mut claimed = Vec::with_capacity(rows.len());
        for row in rows {
            let id = row.id.clone();
            match OutboxMessage::try_from(row) {
                Ok(mut message) => {
                    message.attempts += 1;
                    claimed.push(message);
                }
                // An unreadable message cannot be delivered; it must not hold up the others
                // either. It is given up with the reason, kept for an operator to see.
                Err(error) => {
                    tracing::error!(outbox_id = %id, %error, "giving up an unreadable message");
                    sqlx::query(
                        "UPDATE outbox SET status = 'failed', last_error = $1 WHERE id = $2",
                    )
                    .bind(error.to_string())
                    .bind(&id)
                    .execute(&mut *tx)
                    .await?;
                }
            }
        }
        let ids = claimed
            .iter()
            .map(|message: &OutboxMessage| SqlParam::Text(message.id.to_string()))
            .collect();
        Self::lease_claimed(&mut tx, "outbox", ids, now + lease).await?;
        tx.commit().await?;
        Ok(claimed)
    }

    async fn mark_sent(
        &self,
        id: &ObjectId,
        now: DateTime<Utc>,
        scrub: bool,
    ) -> Result<(), StoreError> {
        let sql = if scrub {
            "UPDATE outbox SET status = 'sent', sent_at = $1, last_error = NULL, subject = '', body \
             = '', data = '{}' WHERE id = $2"
        } else {
            "UPDATE outbox SET status = 'sent', sent_at = $1, last_error = NULL WHERE id = $2"
        };
        sqlx::query(sql)
            .bind(to_millis(now))
            .bind(id.as_str())
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn mark_failed(
        &self,
        id: &ObjectId,
        error: &str,
        retry_at: Option<DateTime<Utc>>,
    ) -> Result<(), StoreError> {
        match retry_at {
            Some(at) => {
                sqlx::query("UPDATE outbox SET last_error = $1, next_attempt_at = $2 WHERE id = $3")
                    .bind(error)
                    .bind(to_millis(at))
                    .bind(id.as_str())
                    .execute(&self.pool)
                    .await?
            }
            None => {
                // Given up: nothing will ever need its codes again.
                sqlx::query(
                    "UPDATE outbox SET last_error = $1, status = 'failed', subject = '', body = '', \
                     data = '{}' WHERE id = $2",
                )
                    .bind(error)
                    .bind(id.as_str())
                    .execute(&self.pool)
                    .await?
            }
        };
        Ok(())
    }

    async fn list_outbox(&self, limit: usize) -> Result<Vec<OutboxMessage>, StoreError> {
        let sql = format!("SELECT {OUTBOX_COLUMNS} FROM outbox ORDER BY id DESC LIMIT $1");
        let rows: Vec<OutboxRow> = sqlx::query_as(&sql)
            .bind(i64::try_from(limit).unwrap_or(i64::MAX))
            .fetch_all(&self.pool)
            .await?;
        rows.into_iter().map(OutboxMessage::try_from).collect()
    }
}

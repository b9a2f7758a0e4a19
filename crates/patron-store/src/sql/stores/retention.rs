//! The retention purge: old sessions, reset codes, pending registrations, outbox messages
//! and finished jobs, deleted in small batches so no statement holds locks for long.

use super::prelude::*;

use crate::{PurgeBefore, Purged, RetentionStore};

/// Rows deleted per statement.
const BATCH: i64 = 500;

impl Store {
    /// Deletes, batch after batch, the rows of `table` whose `key` the selection `old`
    /// (a `WHERE` condition with `$1` for the cutoff) picks; returns how many went.
    async fn purge_table(
        &self,
        table: &str,
        key: &str,
        old: &str,
        cutoff: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        let sql = format!(
            "DELETE FROM {table} WHERE {key} IN (SELECT {key} FROM {table} WHERE {old} LIMIT $2)"
        );
        let mut deleted = 0;
        loop {
            let mut tx = self.begin_write().await?;
            let done = sqlx::query(&sql)
                .bind(to_millis(cutoff))
                .bind(BATCH)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            deleted += done.rows_affected();
            if done.rows_affected() < u64::try_from(BATCH).unwrap_or(u64::MAX) {
                return Ok(deleted);
            }
        }
    }
}

impl Store {
    /// Scrubs, batch after batch, the subject, text and values of messages queued before
    /// `cutoff` that still have them; returns how many.
    async fn scrub_outbox(&self, cutoff: DateTime<Utc>) -> Result<u64, StoreError> {
        let mut scrubbed = 0;
        loop {
            let mut tx = self.begin_write().await?;
            let done = sqlx::query(
                "UPDATE outbox SET subject = '', body = '', data = '{}' WHERE id IN (SELECT id \
                 FROM outbox WHERE created_at < $1 AND (body <> '' OR data <> '{}') LIMIT $2)",
            )
            .bind(to_millis(cutoff))
            .bind(BATCH)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            scrubbed += done.rows_affected();
            if done.rows_affected() < u64::try_from(BATCH).unwrap_or(u64::MAX) {
                return Ok(scrubbed);
            }
        }
    }
}

#[async_trait]
impl RetentionStore for Store {
    async fn purge(&self, before: &PurgeBefore) -> Result<Purged, StoreError> {
        Ok(Purged {
            sessions: self
                .purge_table(
                    "customer_sessions",
                    "id",
                    "expires_at < $1",
                    before.sessions,
                )
                .await?
                + self
                    .purge_table(
                        "known_devices",
                        "token_digest",
                        "expires_at < $1",
                        before.sessions,
                    )
                    .await?,
            reset_codes: self
                .purge_table(
                    "password_reset_codes",
                    "code_digest",
                    "used_at < $1 OR expires_at < $1",
                    before.reset_codes,
                )
                .await?,
            pending_registrations: self
                .purge_table(
                    "pending_registrations",
                    "token_digest",
                    "expires_at < $1",
                    before.pending_registrations,
                )
                .await?,
            outbox: self
                .purge_table(
                    "outbox",
                    "id",
                    "(status = 'sent' AND sent_at < $1) OR (status = 'failed' AND \
                     next_attempt_at < $1)",
                    before.outbox,
                )
                .await?,
            outbox_scrubbed: self.scrub_outbox(before.outbox_secrets).await?,
            // Refused rows go with their job (ON DELETE CASCADE).
            jobs: self
                .purge_table(
                    "jobs",
                    "id",
                    "status IN ('done', 'failed') AND finished_at < $1",
                    before.jobs,
                )
                .await?,
            otp_challenges: self
                .purge_table(
                    "otp_challenges",
                    "id",
                    "used_at < $1 OR expires_at < $1",
                    before.otp_challenges,
                )
                .await?
                + self
                    .purge_table(
                        "login_tokens",
                        "token_digest",
                        "used_at < $1 OR expires_at < $1",
                        before.otp_challenges,
                    )
                    .await?,
            otp_sends: self
                .purge_table("otp_sends", "id", "sent_at < $1", before.otp_sends)
                .await?
                + self
                    .purge_table(
                        "otp_budget_keys",
                        "budget_key",
                        "budget_key NOT IN (SELECT s.budget_key FROM otp_sends s WHERE s.sent_at \
                         >= $1)",
                        before.otp_sends,
                    )
                    .await?,
            login_failures: self
                .purge_table(
                    "login_failures",
                    "subject",
                    "last_failed_at < $1 AND (locked_until IS NULL OR locked_until < $1)",
                    before.login_failures,
                )
                .await?
                + self
                    .purge_table(
                        "sign_in_address_failures",
                        "address",
                        "window_start < $1",
                        before.login_failures,
                    )
                    .await?,
            events: self
                .purge_table(
                    "lifecycle_events",
                    "id",
                    "status <> 'pending' AND occurred_at < $1",
                    before.events_done,
                )
                .await?
                + self
                    .purge_table(
                        "lifecycle_events",
                        "id",
                        "occurred_at < $1",
                        before.events_waiting,
                    )
                    .await?,
        })
    }
}

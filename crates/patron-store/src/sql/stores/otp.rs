//! One-time password challenges and their send budgets. A budget is counted in the
//! transaction that records the send, after locking the budget's key row (on SQLite the
//! write transaction is exclusive already), so concurrent sends to one key are counted one
//! after another and never exceed it.

use chrono::Duration;
use patron_domain::otp::OtpPurpose;

use super::prelude::*;
use crate::{AttemptOutcome, BudgetCharge, OtpChallenge, OtpStore, ResendOutcome, SendOutcome};

/// The columns every challenge query selects, in [`ChallengeRow`] order.
const CHALLENGE_COLUMNS: &str = "id, application_id, purpose, target, customer_id, context, \
     code_hash, resend_digest, attempts, sends, last_sent_at, created_at, expires_at, used_at";

#[derive(sqlx::FromRow)]
struct ChallengeRow {
    id: String,
    application_id: String,
    purpose: String,
    target: String,
    customer_id: Option<String>,
    context: Option<String>,
    code_hash: String,
    resend_digest: Option<String>,
    attempts: i64,
    sends: i64,
    last_sent_at: i64,
    created_at: i64,
    expires_at: i64,
    used_at: Option<i64>,
}

impl TryFrom<ChallengeRow> for OtpChallenge {
    type Error = StoreError;

    fn try_from(row: ChallengeRow) -> Result<Self, StoreError> {
        let purpose = OtpPurpose::parse(&row.purpose).ok_or_else(|| {
            StoreError::corrupt(
                "otp_challenges",
                &row.id,
                format!("unknown purpose {}", row.purpose),
            )
        })?;
        Ok(OtpChallenge {
            application_id: ObjectId::from_trusted(row.application_id),
            purpose,
            target: row.target,
            customer_id: row.customer_id.map(ObjectId::from_trusted),
            context: row.context,
            code_hash: row.code_hash,
            resend_digest: row.resend_digest,
            attempts: u32::try_from(row.attempts).unwrap_or(u32::MAX),
            sends: u32::try_from(row.sends).unwrap_or(u32::MAX),
            last_sent_at: from_millis(row.last_sent_at),
            created_at: from_millis(row.created_at),
            expires_at: from_millis(row.expires_at),
            used_at: row.used_at.map(from_millis),
            id: row.id,
        })
    }
}

/// A budget that has no room, and when it will.
struct Spent {
    scope: patron_domain::otp::BudgetScope,
    retry_at: DateTime<Utc>,
}

impl Store {
    /// Locks every budget key of `charges` and checks each has room at `now`; records one
    /// send against each when all do.
    async fn charge_budgets(
        conn: &mut Connection,
        charges: &[BudgetCharge],
        now: DateTime<Utc>,
    ) -> Result<Option<Spent>, StoreError> {
        for charge in charges {
            sqlx::query(
                "INSERT INTO otp_budget_keys (budget_key) VALUES ($1) ON CONFLICT (budget_key) \
                 DO UPDATE SET budget_key = excluded.budget_key",
            )
            .bind(&charge.key)
            .execute(&mut *conn)
            .await?;
            let since = to_millis(now - charge.window);
            let (count,): (i64,) = sqlx::query_as(
                "SELECT COUNT(*) FROM otp_sends WHERE budget_key = $1 AND sent_at > $2",
            )
            .bind(&charge.key)
            .bind(since)
            .fetch_one(&mut *conn)
            .await?;
            let limit = i64::from(charge.limit);
            if count >= limit {
                // The send that must leave the window before one more fits.
                let (oldest,): (i64,) = sqlx::query_as(
                    "SELECT sent_at FROM otp_sends WHERE budget_key = $1 AND sent_at > $2 ORDER \
                     BY sent_at LIMIT 1 OFFSET $3",
                )
                .bind(&charge.key)
                .bind(since)
                .bind(count - limit)
                .fetch_one(&mut *conn)
                .await?;
                return Ok(Some(Spent {
                    scope: charge.scope,
                    retry_at: from_millis(oldest) + charge.window,
                }));
            }
        }
        for charge in charges {
            sqlx::query("INSERT INTO otp_sends (budget_key, sent_at) VALUES ($1, $2)")
                .bind(&charge.key)
                .bind(to_millis(now))
                .execute(&mut *conn)
                .await?;
        }
        Ok(None)
    }
}

#[async_trait]
impl OtpStore for Store {
    async fn create_challenge(
        &self,
        challenge: &OtpChallenge,
        charges: &[BudgetCharge],
        now: DateTime<Utc>,
    ) -> Result<SendOutcome, StoreError> {
        let mut tx = self.begin_write().await?;
        if let Some(spent) = Self::charge_budgets(&mut tx, charges, now).await? {
            return Ok(SendOutcome::OverBudget {
                scope: spent.scope,
                retry_at: spent.retry_at,
            });
        }
        sqlx::query(
            "INSERT INTO otp_challenges (id, application_id, purpose, target, customer_id, \
             context, code_hash, resend_digest, attempts, sends, last_sent_at, created_at, \
             expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 0, 1, $9, $9, $10)",
        )
        .bind(&challenge.id)
        .bind(challenge.application_id.as_str())
        .bind(challenge.purpose.as_str())
        .bind(&challenge.target)
        .bind(challenge.customer_id.as_ref().map(ObjectId::as_str))
        .bind(challenge.context.as_deref())
        .bind(&challenge.code_hash)
        .bind(challenge.resend_digest.as_deref())
        .bind(to_millis(now))
        .bind(to_millis(challenge.expires_at))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(SendOutcome::Sent)
    }

    async fn record_send(
        &self,
        charges: &[BudgetCharge],
        now: DateTime<Utc>,
    ) -> Result<SendOutcome, StoreError> {
        let mut tx = self.begin_write().await?;
        if let Some(spent) = Self::charge_budgets(&mut tx, charges, now).await? {
            return Ok(SendOutcome::OverBudget {
                scope: spent.scope,
                retry_at: spent.retry_at,
            });
        }
        tx.commit().await?;
        Ok(SendOutcome::Sent)
    }

    async fn device_holds_target(
        &self,
        application_id: &ObjectId,
        token_digest: &str,
        target: &patron_domain::otp::OtpTarget,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let device = "SELECT d.customer_id FROM known_devices d JOIN customers c ON c.id = \
                      d.customer_id WHERE d.token_digest = $1 AND d.application_id = $2 AND \
                      d.expires_at > $3 AND c.archived = FALSE";
        let mut conn = self.pool.acquire().await?;
        let held: Option<(String,)> = match target {
            patron_domain::otp::OtpTarget::Email(email) => {
                sqlx::query_as(&format!(
                    "SELECT e.customer_id FROM customer_emails e WHERE e.customer_id IN \
                     ({device}) AND e.email = $4 AND e.verified AND NOT e.archived"
                ))
                .bind(token_digest)
                .bind(application_id.as_str())
                .bind(to_millis(now))
                .bind(email.as_str())
                .fetch_optional(&mut *conn)
                .await?
            }
            patron_domain::otp::OtpTarget::Mobile(phone) => {
                sqlx::query_as(&format!(
                    "SELECT p.customer_id FROM customer_phones p WHERE p.customer_id IN \
                     ({device}) AND p.country_code = $4 AND p.phone = $5 AND p.verified AND NOT \
                     p.archived"
                ))
                .bind(token_digest)
                .bind(application_id.as_str())
                .bind(to_millis(now))
                .bind(i32::from(phone.country_code()))
                .bind(phone.national())
                .fetch_optional(&mut *conn)
                .await?
            }
        };
        Ok(held.is_some())
    }

    async fn refund_sends(&self, keys: &[String], at: DateTime<Utc>) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        for key in keys {
            sqlx::query(
                "DELETE FROM otp_sends WHERE id = (SELECT id FROM otp_sends WHERE budget_key = $1 \
                 AND sent_at = $2 ORDER BY id DESC LIMIT 1)",
            )
            .bind(key)
            .bind(to_millis(at))
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn resend_challenge(
        &self,
        application_id: &ObjectId,
        resend_digest: &str,
        target: &str,
        code_hash: &str,
        resend_after: Duration,
        expires_at: DateTime<Utc>,
        charges: &[BudgetCharge],
        now: DateTime<Utc>,
    ) -> Result<ResendOutcome, StoreError> {
        let mut tx = self.begin_write().await?;
        let sql = format!(
            "SELECT {CHALLENGE_COLUMNS} FROM otp_challenges WHERE resend_digest = $1 AND \
             application_id = $2 AND target = $3 AND used_at IS NULL AND expires_at > $4{}",
            Self::LOCK_ROW
        );
        let row: Option<ChallengeRow> = sqlx::query_as(&sql)
            .bind(resend_digest)
            .bind(application_id.as_str())
            .bind(target)
            .bind(to_millis(now))
            .fetch_optional(&mut *tx)
            .await?;
        let Some(row) = row else {
            return Ok(ResendOutcome::Unknown);
        };
        let ready = from_millis(row.last_sent_at) + resend_after;
        if ready > now {
            return Ok(ResendOutcome::TooEarly { retry_at: ready });
        }
        if let Some(spent) = Self::charge_budgets(&mut tx, charges, now).await? {
            return Ok(ResendOutcome::OverBudget {
                scope: spent.scope,
                retry_at: spent.retry_at,
            });
        }
        let sql = format!(
            "UPDATE otp_challenges SET code_hash = $1, sends = sends + 1, last_sent_at = $2, \
             expires_at = $3 WHERE id = $4 RETURNING {CHALLENGE_COLUMNS}"
        );
        let updated: ChallengeRow = sqlx::query_as(&sql)
            .bind(code_hash)
            .bind(to_millis(now))
            .bind(to_millis(expires_at))
            .bind(&row.id)
            .fetch_one(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(ResendOutcome::Resent(Box::new(updated.try_into()?)))
    }

    async fn claim_attempt(
        &self,
        application_id: &ObjectId,
        id: &str,
        max_attempts: u32,
        now: DateTime<Utc>,
    ) -> Result<AttemptOutcome, StoreError> {
        let sql = format!(
            "UPDATE otp_challenges SET attempts = attempts + 1 WHERE id = $1 AND application_id \
             = $2 AND used_at IS NULL AND expires_at > $3 AND attempts < $4 RETURNING \
             {CHALLENGE_COLUMNS}"
        );
        let mut tx = self.begin_write().await?;
        let claimed: Option<ChallengeRow> = sqlx::query_as(&sql)
            .bind(id)
            .bind(application_id.as_str())
            .bind(to_millis(now))
            .bind(i64::from(max_attempts))
            .fetch_optional(&mut *tx)
            .await?;
        if let Some(row) = claimed {
            tx.commit().await?;
            return Ok(AttemptOutcome::Claimed(Box::new(row.try_into()?)));
        }
        let live: Option<(i64,)> = sqlx::query_as(
            "SELECT attempts FROM otp_challenges WHERE id = $1 AND application_id = $2 AND \
             used_at IS NULL AND expires_at > $3",
        )
        .bind(id)
        .bind(application_id.as_str())
        .bind(to_millis(now))
        .fetch_optional(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(match live {
            Some(_) => AttemptOutcome::Exhausted,
            None => AttemptOutcome::Unknown,
        })
    }

    async fn consume_challenge(
        &self,
        application_id: &ObjectId,
        id: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query(
            "UPDATE otp_challenges SET used_at = $1 WHERE id = $2 AND application_id = $3 AND \
             used_at IS NULL AND expires_at > $1",
        )
        .bind(to_millis(now))
        .bind(id)
        .bind(application_id.as_str())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(done.rows_affected() == 1)
    }

    async fn latest_challenge(
        &self,
        application_id: &ObjectId,
        target: &str,
        purposes: &[OtpPurpose],
        now: DateTime<Utc>,
    ) -> Result<Option<OtpChallenge>, StoreError> {
        if purposes.is_empty() {
            return Ok(None);
        }
        let mut sql = SqlBuilder::default();
        sql.push(&format!(
            "SELECT {CHALLENGE_COLUMNS} FROM otp_challenges WHERE application_id = "
        ));
        sql.bind(SqlParam::Text(application_id.to_string()));
        sql.push(" AND target = ")
            .bind(SqlParam::Text(target.to_owned()));
        sql.push(" AND used_at IS NULL AND expires_at > ")
            .bind(SqlParam::Int(to_millis(now)));
        sql.push(" AND purpose IN (")
            .bind_list(purposes.iter().map(|p| p.as_str()))
            .push(") ORDER BY created_at DESC, id DESC LIMIT 1");
        let mut conn = self.pool.acquire().await?;
        let row: Option<ChallengeRow> =
            sqlx::query_as_with::<_, ChallengeRow, _>(&sql.sql, arguments(&sql.params)?)
                .fetch_optional(&mut *conn)
                .await?;
        row.map(OtpChallenge::try_from).transpose()
    }
}

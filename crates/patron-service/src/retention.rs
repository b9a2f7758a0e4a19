//! The scheduled purge of records that have served their purpose: expired OAuth tokens,
//! old sessions, reset codes and pending registrations, delivered or given-up messages,
//! finished jobs with their error reports and exported files; and the anonymisation of
//! customers whose deletion grace window has ended.

use std::sync::Arc;

use chrono::Duration;
use patron_store::{PurgeBefore, Purged, RetentionStore, TokenStore};

use super::{Customers, ExportFiles, ServiceError};
use crate::clock::Clock;

/// How long the longest-lived code or link a message can carry stays usable (verification
/// links: 24 hours); after it, a queued message's sealed parts are scrubbed.
const MESSAGE_SECRETS_LIFETIME: Duration = Duration::hours(24);

/// How long a count of failed sign-ins is remembered after its last failure (and its
/// lock, if any, has ended).
const FAILURE_MEMORY: Duration = Duration::days(1);

/// How long each kind of record is kept once it has served its purpose.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetentionAges {
    /// After a session expires.
    pub sessions: Duration,
    /// After a reset code is used or expires.
    pub reset_codes: Duration,
    /// After a pending registration expires.
    pub pending_registrations: Duration,
    /// After a message is delivered or given up.
    pub outbox: Duration,
    /// After a job finishes (its error report goes with it).
    pub jobs: Duration,
}

/// What one purge deleted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PurgeReport {
    /// Expired OAuth tokens.
    pub tokens: u64,
    /// Customers anonymised after their deletion grace window.
    pub anonymised: usize,
    /// Exported files as old as the finished jobs purged (or abandoned half-written).
    pub export_files: u64,
    /// Everything else, by kind.
    pub records: Purged,
}

/// The retention purge.
#[derive(Clone)]
pub struct Retention {
    store: Arc<dyn RetentionStore>,
    tokens: Arc<dyn TokenStore>,
    customers: Customers,
    exports: ExportFiles,
    ages: RetentionAges,
    clock: Arc<dyn Clock>,
}

impl Retention {
    /// A purge keeping records for `ages`.
    pub fn new(
        store: Arc<dyn RetentionStore>,
        tokens: Arc<dyn TokenStore>,
        customers: Customers,
        exports: ExportFiles,
        ages: RetentionAges,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            store,
            tokens,
            customers,
            exports,
            ages,
            clock,
        }
    }

    /// Deletes everything old enough now.
    pub async fn purge(&self) -> Result<PurgeReport, ServiceError> {
        let now = self.clock.now();
        let tokens = self.tokens.purge_expired_tokens(now).await?;
        let before = PurgeBefore {
            sessions: now - self.ages.sessions,
            reset_codes: now - self.ages.reset_codes,
            pending_registrations: now - self.ages.pending_registrations,
            outbox: now - self.ages.outbox,
            outbox_secrets: now - MESSAGE_SECRETS_LIFETIME,
            jobs: now - self.ages.jobs,
            otp_challenges: now - self.ages.reset_codes,
            otp_sends: now - patron_domain::otp::MAX_BUDGET_WINDOW,
            login_failures: now - FAILURE_MEMORY,
            events_done: now - self.ages.outbox,
            events_waiting: now - self.ages.jobs,
        };
        let records = self.store.purge(&before).await?;
        let anonymised = self.customers.anonymise_due().await?;
        let exports = self.exports.clone();
        let export_files = tokio::task::spawn_blocking(move || exports.purge(before.jobs))
            .await
            .map_err(|error| ServiceError::Internal(format!("export file purge: {error}")))?
            .map_err(|error| ServiceError::Internal(format!("export file purge: {error}")))?;
        Ok(PurgeReport {
            tokens,
            anonymised,
            export_files,
            records,
        })
    }
}

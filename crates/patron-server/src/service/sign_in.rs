//! Password sign-in and password changes: the sign-in order (claim an attempt, verify,
//! clear the failures, then refuse blocked customers and expired passwords), the password
//! policy, and the history rule.

use std::sync::Arc;

use patron_domain::customer::Customer;
use patron_domain::email::Email;
use patron_domain::ids::ObjectId;
use patron_domain::password::{LockoutPolicy, PasswordPolicy};
use patron_domain::phone::Phone;
use patron_domain::DomainError;
use patron_store::{
    Actor, Application, AttemptClaim, CredentialStore, LoginRecord, PasswordChange,
};

use super::{AuthConfigs, Feature, Origin, ServiceError, Sessions, StartedSession};
use crate::clock::Clock;
use crate::passwords::PasswordHasher;

/// A customer who proved who they are, and the session started for them.
#[derive(Debug, Clone)]
pub struct SignedIn {
    /// The customer.
    pub customer: Customer,
    /// Their new session.
    pub session: StartedSession,
}

/// Password sign-in and password changes.
#[derive(Clone)]
pub struct Passwords {
    credentials: Arc<dyn CredentialStore>,
    hasher: PasswordHasher,
    configs: AuthConfigs,
    sessions: Sessions,
    clock: Arc<dyn Clock>,
}

impl Passwords {
    /// Passwords kept in `credentials`, hashed by `hasher`.
    pub fn new(
        credentials: Arc<dyn CredentialStore>,
        hasher: PasswordHasher,
        configs: AuthConfigs,
        sessions: Sessions,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            credentials,
            hasher,
            configs,
            sessions,
            clock,
        }
    }

    /// Signs in with an email or a phone number (any spelling) and a password. Unknown
    /// customers are hashed against a dummy so they cost the same as a wrong password, and
    /// get the same answer; every attempt is counted before the password is checked.
    pub async fn sign_in(
        &self,
        application: &Application,
        username: &str,
        password: String,
        origin: Origin,
    ) -> Result<SignedIn, ServiceError> {
        let config = self.configs.load(application).await?.config;
        if !config.password_login_enabled() {
            return Err(ServiceError::Disabled(Feature::PasswordLogin));
        }
        let Some(record) = self.find_login(application, username).await? else {
            self.hasher.verify(password, None).await?;
            return Err(ServiceError::InvalidCredentials);
        };
        let customer_id = record.customer.id.clone();
        let lockout = LockoutPolicy::from_config(&config);
        let now = self.clock.now();
        if let AttemptClaim::Locked { until } = self
            .credentials
            .claim_login_attempt(&customer_id, lockout.attempts, lockout.duration, now)
            .await?
        {
            return Err(ServiceError::AccountLocked { until });
        }
        if !self
            .hasher
            .verify(password, record.password_hash.clone())
            .await?
        {
            return Err(ServiceError::InvalidCredentials);
        }
        self.credentials.reset_login_failures(&customer_id).await?;
        if record.customer.deletion.is_some() {
            return Err(ServiceError::AccountDeleted);
        }
        if !record.customer.active {
            return Err(ServiceError::AccountBlocked);
        }
        let policy = PasswordPolicy::from_config(&config);
        if record
            .password_changed_at
            .is_some_and(|changed| policy.is_expired(changed, now))
        {
            return Err(ServiceError::PasswordExpired);
        }
        let session = self
            .sessions
            .start(application, &customer_id, origin, config.session().lifetime)
            .await?;
        Ok(SignedIn {
            customer: record.customer,
            session,
        })
    }

    /// Looks a sign-in name up as an email, or as a phone number with or without country
    /// code; a name that is neither matches no one.
    async fn find_login(
        &self,
        application: &Application,
        username: &str,
    ) -> Result<Option<LoginRecord>, ServiceError> {
        let (email, phone) = if username.contains('@') {
            (Email::parse("username", username).ok(), None)
        } else {
            let region = application.default_region;
            (None, Phone::parse("username", username, None, region).ok())
        };
        if email.is_none() && phone.is_none() {
            return Ok(None);
        }
        Ok(self
            .credentials
            .find_login(&application.id, email.as_ref(), phone.as_ref())
            .await?)
    }

    /// Whether the customer has a password at all.
    pub async fn has_password(&self, customer_id: &ObjectId) -> Result<bool, ServiceError> {
        Ok(!self
            .credentials
            .password_hashes(customer_id, 0)
            .await?
            .is_empty())
    }

    /// Changes a signed-in customer's password: the old one must match (when there is one),
    /// the new one must pass the policy and the history rule; every other session ends.
    pub async fn change(
        &self,
        application: &Application,
        customer_id: &ObjectId,
        session_id: &ObjectId,
        old_password: Option<String>,
        new_password: String,
    ) -> Result<(), ServiceError> {
        let config = self.configs.load(application).await?.config;
        let policy = PasswordPolicy::from_config(&config);
        policy.check(&new_password).map_err(|error| match error {
            DomainError::InvalidField { message, .. } => {
                ServiceError::invalid("new_password", message)
            }
            other => other.into(),
        })?;
        let hashes = self
            .credentials
            .password_hashes(customer_id, policy.history)
            .await?;
        if let Some(current) = hashes.first() {
            let old_password = old_password.unwrap_or_default();
            if !self
                .hasher
                .verify(old_password, Some(current.clone()))
                .await?
            {
                return Err(ServiceError::invalid("old_password", "is wrong"));
            }
        }
        self.ensure_not_reused("new_password", &new_password, &hashes, policy.history)
            .await?;
        let hash = self.hasher.hash(new_password).await?;
        let actor = Actor::new(customer_actor(customer_id))
            .with_reason("password changed by the customer", None);
        let change = PasswordChange {
            password_hash: &hash,
            history_limit: policy.history,
            keep_session: Some(session_id),
        };
        self.credentials
            .set_password(
                &application.id,
                customer_id,
                &change,
                &actor,
                self.clock.now(),
            )
            .await?;
        Ok(())
    }

    /// Refuses a password equal to the current one or one of the last `history` ones (when
    /// the configuration keeps a history), naming `field`.
    pub async fn ensure_not_reused(
        &self,
        field: &str,
        password: &str,
        hashes: &[String],
        history: usize,
    ) -> Result<(), ServiceError> {
        if history == 0 {
            return Ok(());
        }
        for hash in hashes.iter().take(history + 1) {
            if self
                .hasher
                .verify(password.to_owned(), Some(hash.clone()))
                .await?
            {
                return Err(ServiceError::invalid(
                    field,
                    format!("must differ from the last {history} passwords"),
                ));
            }
        }
        Ok(())
    }
}

/// How a customer acting on their own account appears in the audit trail.
pub fn customer_actor(customer_id: &ObjectId) -> String {
    format!("customer:{customer_id}")
}

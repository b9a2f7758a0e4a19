//! Password sign-in and password changes: the sign-in order (claim an attempt, verify,
//! clear the failures, then refuse blocked customers and expired passwords), the password
//! policy, and the history rule.

use std::sync::Arc;

use patron_domain::auth_config::AuthConfig;
use patron_domain::customer::Customer;
use patron_domain::email::Email;
use patron_domain::ids::ObjectId;
use patron_domain::password::{LockoutPolicy, PasswordPolicy};
use patron_domain::phone::Phone;
use patron_domain::DomainError;
use patron_store::{
    Actor, Application, AttemptClaim, CredentialStore, LoginRecord, LoginSubject, PasswordChange,
};

use super::{AuthConfigs, Feature, Origin, ServiceError, Sessions, StartedSession};
use crate::clock::Clock;
use crate::hasher::{FirebaseScrypt, PasswordHasher, FIREBASE_PREFIX};
use crate::secrets::SecretBox;

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
    secrets: SecretBox,
    configs: AuthConfigs,
    sessions: Sessions,
    failures_per_minute: u32,
    clock: Arc<dyn Clock>,
}

/// What [`Passwords`] is built from.
pub struct PasswordParts {
    /// Passwords and failure counts.
    pub credentials: Arc<dyn CredentialStore>,
    /// The hasher.
    pub hasher: PasswordHasher,
    /// Keys the digests of sign-in names that match no one.
    pub secrets: SecretBox,
    /// Authentication configurations (lockout, policy).
    pub configs: AuthConfigs,
    /// Sessions, started on success.
    pub sessions: Sessions,
    /// Failed sign-ins a client address may make per minute (0: unlimited).
    pub failures_per_minute: u32,
    /// The source of "now".
    pub clock: Arc<dyn Clock>,
}

/// The window of the per-address budget of failed sign-ins.
const ADDRESS_WINDOW: chrono::Duration = chrono::Duration::minutes(1);

impl Passwords {
    /// Passwords over the given parts.
    pub fn new(parts: PasswordParts) -> Self {
        Self {
            credentials: parts.credentials,
            hasher: parts.hasher,
            secrets: parts.secrets,
            configs: parts.configs,
            sessions: parts.sessions,
            failures_per_minute: parts.failures_per_minute,
            clock: parts.clock,
        }
    }

    /// Signs in with an email or a phone number (any spelling) and a password.
    ///
    /// Every attempt is counted before the password is checked: against the client's
    /// address (a budget per minute, shared by all nodes), and against the customer — or,
    /// for a name that matches no one, against a keyed digest of the name, so an unknown
    /// name is hashed against a dummy, counted and locked exactly like a known one and
    /// no answer tells the two apart.
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
        let now = self.clock.now();
        self.claim_address_attempt(&origin.ip, now).await?;
        let (name, record) = self.find_login(application, username).await?;
        let stranger = self
            .secrets
            .mac(&["sign-in name", application.id.as_str(), &name]);
        let subject = match &record {
            Some(record) => LoginSubject::Customer(&record.customer.id),
            None => LoginSubject::Unknown(&stranger),
        };
        self.claim_lockout_attempt(application, &config, subject, now)
            .await?;
        let hash = record.as_ref().and_then(|r| r.password_hash.clone());
        let firebase = self.firebase_for(application, hash.as_deref()).await?;
        let matched = self.hasher.verify(password.clone(), hash, firebase).await?;
        let Some(record) = record.filter(|_| matched) else {
            return Err(ServiceError::InvalidCredentials);
        };
        let customer_id = record.customer.id.clone();
        if let Some(stored) = &record.password_hash {
            self.upgrade_hash(&customer_id, stored, password).await?;
        }
        self.forgive_attempt(application, &customer_id, &origin.ip)
            .await?;
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

    /// Replaces a hash an import brought (bcrypt, PBKDF2, scrypt, other argon2 costs) by
    /// argon2id of the password just proven, so it is checked only once in its old form.
    async fn upgrade_hash(
        &self,
        customer_id: &ObjectId,
        stored: &str,
        password: String,
    ) -> Result<(), ServiceError> {
        if !self.hasher.needs_rehash(stored) {
            return Ok(());
        }
        let upgraded = self.hasher.hash(password).await?;
        self.credentials
            .upgrade_password_hash(customer_id, stored, &upgraded)
            .await?;
        Ok(())
    }

    /// Counts a password check against `subject`'s lockout before it runs; refused while
    /// locked.
    async fn claim_lockout_attempt(
        &self,
        application: &Application,
        config: &AuthConfig,
        subject: LoginSubject<'_>,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<(), ServiceError> {
        let lockout = LockoutPolicy::from_config(config);
        match self
            .credentials
            .claim_login_attempt(
                &application.id,
                subject,
                lockout.attempts,
                lockout.duration,
                now,
            )
            .await?
        {
            AttemptClaim::Locked { until } => Err(ServiceError::AccountLocked { until }),
            AttemptClaim::Allowed => Ok(()),
        }
    }

    /// The password was right: the customer's failure count is cleared and the address's
    /// slot given back.
    async fn forgive_attempt(
        &self,
        application: &Application,
        customer_id: &ObjectId,
        address: &str,
    ) -> Result<(), ServiceError> {
        self.credentials
            .reset_login_failures(&application.id, LoginSubject::Customer(customer_id))
            .await?;
        if self.failures_per_minute > 0 {
            self.credentials.release_address_attempt(address).await?;
        }
        Ok(())
    }

    /// Takes a failed-sign-in slot of the client's address for this attempt (given back
    /// when the password is right).
    async fn claim_address_attempt(
        &self,
        address: &str,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<(), ServiceError> {
        if self.failures_per_minute == 0 {
            return Ok(());
        }
        match self
            .credentials
            .claim_address_attempt(address, self.failures_per_minute, ADDRESS_WINDOW, now)
            .await?
        {
            AttemptClaim::Allowed => Ok(()),
            AttemptClaim::Locked { until } => Err(ServiceError::SignInLimit {
                retry_after_secs: u64::try_from((until - now).num_seconds().max(1)).unwrap_or(1),
            }),
        }
    }

    /// Looks a sign-in name up as an email, or as a phone number with or without country
    /// code; a name that is neither matches no one. Returns the name in its canonical
    /// spelling (what the failure count of a name that matches no one is keyed by).
    async fn find_login(
        &self,
        application: &Application,
        username: &str,
    ) -> Result<(String, Option<LoginRecord>), ServiceError> {
        let (email, phone) = if username.contains('@') {
            (Email::parse("username", username).ok(), None)
        } else {
            let region = application.default_region;
            (None, Phone::parse("username", username, None, region).ok())
        };
        let name = match (&email, &phone) {
            (Some(email), _) => email.to_string(),
            (_, Some(phone)) => phone.to_string(),
            _ => return Ok((username.trim().to_lowercase(), None)),
        };
        let record = self
            .credentials
            .find_login(&application.id, email.as_ref(), phone.as_ref())
            .await?;
        Ok((name, record))
    }

    /// Whether the customer has a password at all.
    pub async fn has_password(&self, customer_id: &ObjectId) -> Result<bool, ServiceError> {
        Ok(!self
            .credentials
            .password_hashes(customer_id, 0)
            .await?
            .is_empty())
    }

    /// The application's Firebase hash parameters, when `hash` is a Firebase hash.
    async fn firebase_for(
        &self,
        application: &Application,
        hash: Option<&str>,
    ) -> Result<Option<FirebaseScrypt>, ServiceError> {
        match hash {
            Some(hash) if hash.starts_with(FIREBASE_PREFIX) => {
                self.configs.firebase_scrypt(application).await
            }
            _ => Ok(None),
        }
    }

    /// Changes a signed-in customer's password: the old one must match (when there is one),
    /// the new one must pass the policy and the history rule; every other session ends. A
    /// wrong old password counts as a failed sign-in, against the customer's lockout and
    /// the client address's budget, so a stolen session cannot guess it at leisure.
    pub async fn change(
        &self,
        application: &Application,
        customer_id: &ObjectId,
        session_id: &ObjectId,
        passwords: PasswordUpdate,
        client_address: &str,
    ) -> Result<(), ServiceError> {
        let PasswordUpdate {
            old_password,
            new_password,
        } = passwords;
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
            let now = self.clock.now();
            self.claim_address_attempt(client_address, now).await?;
            let subject = LoginSubject::Customer(customer_id);
            self.claim_lockout_attempt(application, &config, subject, now)
                .await?;
            let old_password = old_password.unwrap_or_default();
            let firebase = self.firebase_for(application, Some(current)).await?;
            if !self
                .hasher
                .verify(old_password, Some(current.clone()), firebase)
                .await?
            {
                return Err(ServiceError::invalid("old_password", "is wrong"));
            }
            self.forgive_attempt(application, customer_id, client_address)
                .await?;
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
        let recent = hashes.iter().take(history + 1).cloned().collect();
        if self.hasher.matches_any(password.to_owned(), recent).await? {
            return Err(ServiceError::invalid(
                field,
                format!("must differ from the last {history} passwords"),
            ));
        }
        Ok(())
    }
}

/// The passwords of a change: the current one (when the customer has one) and the new one.
/// `Debug` shows neither.
#[derive(Clone)]
pub struct PasswordUpdate {
    /// The current password.
    pub old_password: Option<String>,
    /// The new password.
    pub new_password: String,
}

impl std::fmt::Debug for PasswordUpdate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PasswordUpdate(***)")
    }
}

/// How a customer acting on their own account appears in the audit trail.
pub fn customer_actor(customer_id: &ObjectId) -> String {
    format!("customer:{customer_id}")
}

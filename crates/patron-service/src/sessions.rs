//! Storefront sessions: minting them (random 256-bit tokens, stored as digests), resolving
//! the session a token names, rolling extension, listing and ending them.

use std::sync::Arc;

use chrono::Duration;
use patron_domain::customer::Customer;
use patron_domain::ids::ObjectId;
use patron_domain::secret;
use patron_store::{Actor, Application, KnownDevice, Session, SessionStore};

use super::{AuthConfigs, ServiceError};
use crate::clock::Clock;

/// How often a rolling session's new expiry is written: at most once a minute.
const EXTEND_EVERY: Duration = Duration::minutes(1);
/// How long a device a shopper signed in on is remembered (browsers keep a cookie at most
/// 400 days).
pub const DEVICE_LIFETIME: Duration = Duration::days(400);

/// The secret token of a device's cookie, as the client presented it; never shown by
/// `Debug`.
#[derive(Clone, PartialEq, Eq)]
pub struct DeviceToken(pub String);

impl std::fmt::Debug for DeviceToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DeviceToken(***)")
    }
}

impl DeviceToken {
    /// The digest it is stored and counted under.
    pub fn digest(&self) -> String {
        secret::digest(&self.0)
    }
}

/// Where a session was started from.
#[derive(Debug, Clone, Default)]
pub struct Origin {
    /// The host the storefront was reached at.
    pub domain: String,
    /// The client's user agent.
    pub user_agent: String,
    /// The client's address.
    pub ip: String,
    /// The device cookie the client presented, if any.
    pub device: Option<DeviceToken>,
}

/// A session just started: the secret token for the cookie (only its digest is stored),
/// how long it lasts, and the device cookie to set beside it.
#[derive(Debug, Clone)]
pub struct StartedSession {
    /// The bearer secret.
    pub token: String,
    /// Its lifetime.
    pub lifetime: Duration,
    /// The device token to (re)set in its own cookie when the customer signed in
    /// themselves (none for sessions an administrator mints).
    pub device: Option<DeviceToken>,
}

/// A valid session and its customer.
#[derive(Debug, Clone)]
pub struct CurrentSession {
    /// The session.
    pub session: Session,
    /// Its customer (active, not archived).
    pub customer: Customer,
    /// The new lifetime when a rolling session was just extended (re-send the cookie).
    pub extended_for: Option<Duration>,
}

/// Storefront sessions.
#[derive(Clone)]
pub struct Sessions {
    store: Arc<dyn SessionStore>,
    configs: AuthConfigs,
    rolling_cap: Duration,
    clock: Arc<dyn Clock>,
}

impl Sessions {
    /// Sessions kept in `store`, governed by each application's configuration; a rolling
    /// session never outlives `rolling_cap` after its start, however active.
    pub fn new(
        store: Arc<dyn SessionStore>,
        configs: AuthConfigs,
        rolling_cap: Duration,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            store,
            configs,
            rolling_cap,
            clock,
        }
    }

    /// Starts a session for `customer_id` lasting `lifetime`.
    pub async fn start(
        &self,
        application: &Application,
        customer_id: &ObjectId,
        origin: Origin,
        lifetime: Duration,
    ) -> Result<StartedSession, ServiceError> {
        self.create(application, customer_id, origin, lifetime, None)
            .await
    }

    /// Starts a session, recorded in the audit trail when an `actor` other than the
    /// customer mints it.
    async fn create(
        &self,
        application: &Application,
        customer_id: &ObjectId,
        origin: Origin,
        lifetime: Duration,
        actor: Option<&Actor>,
    ) -> Result<StartedSession, ServiceError> {
        let now = self.clock.now();
        let token = secret::generate_secret();
        let presented = origin.device.clone();
        let session = Session {
            id: ObjectId::generate(now),
            token_digest: secret::digest(&token),
            application_id: application.id.clone(),
            customer_id: customer_id.clone(),
            domain: origin.domain,
            user_agent: origin.user_agent,
            ip: origin.ip,
            created_at: now,
            expires_at: now + lifetime,
            last_seen_at: now,
        };
        let device = match actor {
            Some(_) => None,
            None => Some(self.device_of(application, customer_id, presented).await?),
        };
        let known = device.as_ref().map(|device| KnownDevice {
            token_digest: device.digest(),
            application_id: application.id.clone(),
            customer_id: customer_id.clone(),
            created_at: now,
            expires_at: now + DEVICE_LIFETIME,
        });
        self.store
            .create_session(&session, actor, known.as_ref())
            .await?;
        Ok(StartedSession {
            token,
            lifetime,
            device,
        })
    }

    /// The device token of a customer's own sign-in: the one the client presented when it
    /// is already this customer's, else a new one (the session's transaction remembers it
    /// for [`DEVICE_LIFETIME`] from now).
    async fn device_of(
        &self,
        application: &Application,
        customer_id: &ObjectId,
        presented: Option<DeviceToken>,
    ) -> Result<DeviceToken, ServiceError> {
        let now = self.clock.now();
        let known = match presented {
            Some(device) => {
                let owner = self
                    .store
                    .device_owner(&application.id, &device.digest(), now)
                    .await?;
                (owner.as_ref() == Some(customer_id)).then_some(device)
            }
            None => None,
        };
        Ok(known.unwrap_or_else(|| DeviceToken(secret::generate_secret())))
    }

    /// Starts a session of the configured lifetime for a customer who just proved who
    /// they are.
    pub async fn sign_in(
        &self,
        application: &Application,
        customer_id: &ObjectId,
        origin: Origin,
    ) -> Result<StartedSession, ServiceError> {
        let lifetime = self
            .configs
            .load(application)
            .await?
            .config
            .session()
            .lifetime;
        self.start(application, customer_id, origin, lifetime).await
    }

    /// Starts a session an administrator (`actor`) asked for, recorded in the audit trail:
    /// `lifetime` when given, else the configured one. Only the domain of the customer's
    /// device is known.
    pub async fn start_for_administrator(
        &self,
        application: &Application,
        customer_id: &ObjectId,
        domain: String,
        lifetime: Option<Duration>,
        actor: &Actor,
    ) -> Result<StartedSession, ServiceError> {
        let lifetime = match lifetime {
            Some(lifetime) => lifetime,
            None => {
                self.configs
                    .load(application)
                    .await?
                    .config
                    .session()
                    .lifetime
            }
        };
        let origin = Origin {
            domain,
            ..Origin::default()
        };
        self.create(application, customer_id, origin, lifetime, Some(actor))
            .await
    }

    /// The session `token` names, when it is unexpired and its customer active and not
    /// archived. Rolling sessions are extended (written at most once a minute).
    pub async fn resolve(
        &self,
        application: &Application,
        token: &str,
    ) -> Result<Option<CurrentSession>, ServiceError> {
        let now = self.clock.now();
        let Some((session, customer)) = self
            .store
            .find_session(&application.id, &secret::digest(token), now)
            .await?
        else {
            return Ok(None);
        };
        let policy = self.configs.load(application).await?.config.session();
        let mut extended_for = None;
        if policy.rolling && now - session.last_seen_at >= EXTEND_EVERY {
            let expires_at = (now + policy.lifetime).min(session.created_at + self.rolling_cap);
            if expires_at > session.expires_at {
                self.store
                    .extend_session(&session.id, expires_at, now)
                    .await?;
                extended_for = Some(expires_at - now);
            }
        }
        Ok(Some(CurrentSession {
            session,
            customer,
            extended_for,
        }))
    }

    /// The customer's unexpired sessions.
    pub async fn list(
        &self,
        application_id: &ObjectId,
        customer_id: &ObjectId,
    ) -> Result<Vec<Session>, ServiceError> {
        Ok(self
            .store
            .list_sessions(application_id, customer_id, self.clock.now())
            .await?)
    }

    /// Ends one session of the customer.
    pub async fn end(
        &self,
        application_id: &ObjectId,
        customer_id: &ObjectId,
        session_id: &ObjectId,
        actor: &Actor,
    ) -> Result<(), ServiceError> {
        Ok(self
            .store
            .end_session(
                application_id,
                customer_id,
                session_id,
                actor,
                self.clock.now(),
            )
            .await?)
    }

    /// Ends every session of the customer; returns their ids.
    pub async fn end_all(
        &self,
        application_id: &ObjectId,
        customer_id: &ObjectId,
        actor: &Actor,
    ) -> Result<Vec<ObjectId>, ServiceError> {
        Ok(self
            .store
            .end_sessions(application_id, customer_id, None, actor, self.clock.now())
            .await?)
    }
}

//! An application's authentication configuration: defaults until the first save,
//! optimistic retries so concurrent updates never lose each other, social secrets sealed
//! before they reach the store, and a one-second cache per node.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use patron_domain::auth_config::AuthConfig;
use patron_store::{Application, AuthConfigStore, StoredAuthConfig};
use serde_json::{Map, Value};

use super::ServiceError;
use crate::cache::Caches;
use crate::clock::Clock;
use crate::hasher::FirebaseScrypt;
use crate::secrets::SecretBox;

/// How many times an update is re-applied when another writer saved first.
const SAVE_ATTEMPTS: usize = 5;

/// A configuration with its bookkeeping, ready to render.
#[derive(Debug, Clone)]
pub struct CurrentConfig {
    /// The validated document.
    pub config: AuthConfig,
    /// Its version (`__v`); 0 until first saved.
    pub version: i64,
    /// First save (the application's creation until then).
    pub created_at: DateTime<Utc>,
    /// Last save.
    pub updated_at: DateTime<Utc>,
}

impl CurrentConfig {
    fn from_stored(stored: StoredAuthConfig) -> Self {
        Self {
            config: AuthConfig::from_trusted(stored.document),
            version: stored.version,
            created_at: stored.created_at,
            updated_at: stored.updated_at,
        }
    }

    fn defaults(application: &Application) -> Self {
        Self {
            config: AuthConfig::defaults(&application.name),
            version: 0,
            created_at: application.created_at,
            updated_at: application.created_at,
        }
    }
}

/// Reading and updating authentication configurations.
#[derive(Clone)]
pub struct AuthConfigs {
    store: Arc<dyn AuthConfigStore>,
    secrets: SecretBox,
    caches: Arc<Caches>,
    clock: Arc<dyn Clock>,
}

impl AuthConfigs {
    /// Configurations kept in `store`, secrets sealed by `secrets`.
    pub fn new(
        store: Arc<dyn AuthConfigStore>,
        secrets: SecretBox,
        caches: Arc<Caches>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            store,
            secrets,
            caches,
            clock,
        }
    }

    /// The application's configuration: stored, or the defaults when never saved.
    pub async fn load(&self, application: &Application) -> Result<CurrentConfig, ServiceError> {
        if let Some(cached) = self.caches.configs.get(application.id.as_str()) {
            return Ok(cached);
        }
        let current = self
            .store
            .find_auth_config(&application.id)
            .await?
            .map_or_else(
                || CurrentConfig::defaults(application),
                CurrentConfig::from_stored,
            );
        self.remember(application, &current);
        Ok(current)
    }

    /// Merges `update` into the stored configuration and saves it.
    pub async fn update(
        &self,
        application: &Application,
        update: &Map<String, Value>,
    ) -> Result<CurrentConfig, ServiceError> {
        self.save(application, update, Map::new()).await
    }

    /// Merges `update` into the configuration if it is still at `version` (what the editor
    /// saw: 0 when it was never saved) and saves it; `None` when it changed since, so the
    /// update, made against an older version, is not merged over that change.
    pub async fn update_at_version(
        &self,
        application: &Application,
        version: i64,
        update: &Map<String, Value>,
    ) -> Result<Option<CurrentConfig>, ServiceError> {
        self.save_once(application, update, &Map::new(), Some(version))
            .await
    }

    /// Merges `update` into the stored configuration and `extra_secrets` into its sealed
    /// secrets, and saves both.
    async fn save(
        &self,
        application: &Application,
        update: &Map<String, Value>,
        extra_secrets: Map<String, Value>,
    ) -> Result<CurrentConfig, ServiceError> {
        for _ in 0..SAVE_ATTEMPTS {
            if let Some(saved) = self
                .save_once(application, update, &extra_secrets, None)
                .await?
            {
                return Ok(saved);
            }
        }
        Err(ServiceError::Internal(
            "the configuration kept changing during the update".to_owned(),
        ))
    }

    /// One attempt of [`Self::save`], against the stored version (or, with `only_at`, only
    /// when the stored version is that one); `None` when another writer saved first.
    async fn save_once(
        &self,
        application: &Application,
        update: &Map<String, Value>,
        extra_secrets: &Map<String, Value>,
        only_at: Option<i64>,
    ) -> Result<Option<CurrentConfig>, ServiceError> {
        let stored = self.store.find_auth_config(&application.id).await?;
        let (base, expected_version, sealed) = match &stored {
            Some(stored) => (
                AuthConfig::from_trusted(stored.document.clone()),
                Some(stored.version),
                stored.secrets.clone(),
            ),
            None => (AuthConfig::defaults(&application.name), None, None),
        };
        if only_at.is_some_and(|version| version != expected_version.unwrap_or(0)) {
            return Ok(None);
        }
        let (config, mut new_secrets) = base.apply_update(update)?;
        new_secrets.extend(extra_secrets.clone());
        let secrets = self.merge_secrets(application, sealed.as_deref(), new_secrets)?;
        let saved = self
            .store
            .save_auth_config(
                &application.id,
                expected_version,
                config.document(),
                secrets.as_deref(),
                self.clock.now(),
            )
            .await?;
        Ok(saved.map(|saved| {
            let current = CurrentConfig::from_stored(saved);
            self.remember(application, &current);
            current
        }))
    }

    /// The Firebase password hash parameters of the application, if set (kept sealed with
    /// its other secrets, under [`FIREBASE_SECRET`]).
    pub async fn firebase_scrypt(
        &self,
        application: &Application,
    ) -> Result<Option<FirebaseScrypt>, ServiceError> {
        let stored = self.store.find_auth_config(&application.id).await?;
        let Some(sealed) = stored.and_then(|stored| stored.secrets) else {
            return Ok(None);
        };
        self.open_secrets(application, &sealed)?
            .remove(FIREBASE_SECRET)
            .map(|value| {
                serde_json::from_value(value).map_err(|error| {
                    ServiceError::Internal(format!("the stored Firebase parameters: {error}"))
                })
            })
            .transpose()
    }

    /// Sets the Firebase password hash parameters customers imported from Firebase are
    /// checked with (sealed with the application's other secrets).
    pub async fn set_firebase_scrypt(
        &self,
        application: &Application,
        parameters: &FirebaseScrypt,
    ) -> Result<(), ServiceError> {
        parameters
            .check()
            .map_err(|message| ServiceError::invalid("firebase_scrypt", message))?;
        let value = serde_json::to_value(parameters)
            .map_err(|error| ServiceError::Internal(format!("encoding parameters: {error}")))?;
        let mut secrets = Map::new();
        secrets.insert(FIREBASE_SECRET.to_owned(), value);
        self.save(application, &Map::new(), secrets).await?;
        Ok(())
    }

    /// The application's write-only secret at `provider` (`social_tokens.<provider>.
    /// app_secret`), opened.
    pub async fn social_secret(
        &self,
        application: &Application,
        provider: &str,
    ) -> Result<Option<String>, ServiceError> {
        let stored = self.store.find_auth_config(&application.id).await?;
        let Some(sealed) = stored.and_then(|stored| stored.secrets) else {
            return Ok(None);
        };
        Ok(self
            .open_secrets(application, &sealed)?
            .get(provider)
            .and_then(Value::as_str)
            .map(str::to_owned))
    }

    /// The sealed provider secrets, opened.
    fn open_secrets(
        &self,
        application: &Application,
        sealed: &str,
    ) -> Result<Map<String, Value>, ServiceError> {
        let plain = self
            .secrets
            .open(sealed, &secrets_binding(application.id.as_str()))
            .map_err(|error| {
                ServiceError::Internal(format!("the stored social secrets: {error}"))
            })?;
        // Never re-seal an unreadable set as empty: that would drop the secrets.
        serde_json::from_str(&plain).map_err(|error| {
            ServiceError::Internal(format!("the stored social secrets are unreadable: {error}"))
        })
    }

    /// Caches `current` unless the cache already holds a newer version.
    fn remember(&self, application: &Application, current: &CurrentConfig) {
        self.caches.configs.put_unless_newer(
            application.id.as_str(),
            current.clone(),
            |cached, read| cached.version > read.version,
        );
    }

    /// Adds newly written provider secrets to the sealed set.
    fn merge_secrets(
        &self,
        application: &Application,
        sealed: Option<&str>,
        new_secrets: Map<String, Value>,
    ) -> Result<Option<String>, ServiceError> {
        if new_secrets.is_empty() {
            return Ok(sealed.map(str::to_owned));
        }
        let mut secrets = match sealed {
            Some(sealed) => self.open_secrets(application, sealed)?,
            None => Map::new(),
        };
        secrets.extend(new_secrets);
        Ok(Some(self.secrets.seal(
            &Value::Object(secrets).to_string(),
            &secrets_binding(application.id.as_str()),
        )))
    }
}

/// What an application's sealed provider secrets are bound to.
/// The key of the Firebase hash parameters among an application's sealed secrets.
pub const FIREBASE_SECRET: &str = "firebase_scrypt";

/// What an application's sealed secrets are bound to.
pub fn secrets_binding(application_id: &str) -> [&str; 2] {
    ["auth config secrets", application_id]
}

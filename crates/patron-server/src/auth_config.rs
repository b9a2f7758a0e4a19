//! Reading and updating an application's authentication configuration: defaults until the
//! first save, optimistic retries so concurrent updates never lose each other, and social
//! secrets sealed before they reach the store.

use chrono::{DateTime, Utc};
use patron_domain::auth_config::AuthConfig;
use patron_store::{Application, StoredAuthConfig};
use serde_json::{Map, Value};

use crate::app::AppState;
use crate::error::ApiError;

/// How many times an update is re-applied when another writer saved first.
const SAVE_ATTEMPTS: usize = 5;

/// A configuration with its bookkeeping, ready to render.
#[derive(Debug, Clone)]
pub struct CurrentConfig {
    /// The validated document.
    pub(crate) config: AuthConfig,
    /// Its version (`__v`); 0 until first saved.
    pub(crate) version: i64,
    /// First save (the application's creation until then).
    pub(crate) created_at: DateTime<Utc>,
    /// Last save.
    pub(crate) updated_at: DateTime<Utc>,
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

/// The application's configuration: stored, or the defaults when never saved.
pub(crate) async fn load(
    state: &AppState,
    application: &Application,
) -> Result<CurrentConfig, ApiError> {
    if let Some(cached) = state.caches.configs.get(application.id.as_str()) {
        return Ok(cached);
    }
    let current = state
        .stores
        .auth_configs
        .find_auth_config(&application.id)
        .await?
        .map_or_else(
            || CurrentConfig::defaults(application),
            CurrentConfig::from_stored,
        );
    state.caches.configs.put_unless_newer(
        application.id.as_str(),
        current.clone(),
        |cached, read| cached.version > read.version,
    );
    Ok(current)
}

/// Merges `update` into the stored configuration and saves it.
pub(crate) async fn update(
    state: &AppState,
    application: &Application,
    update: &Map<String, Value>,
) -> Result<CurrentConfig, ApiError> {
    for _ in 0..SAVE_ATTEMPTS {
        let stored = state
            .stores
            .auth_configs
            .find_auth_config(&application.id)
            .await?;
        let (base, expected_version, sealed) = match &stored {
            Some(stored) => (
                AuthConfig::from_trusted(stored.document.clone()),
                Some(stored.version),
                stored.secrets.clone(),
            ),
            None => (AuthConfig::defaults(&application.name), None, None),
        };
        let (config, new_secrets) = base.apply_update(update)?;
        let secrets = merge_secrets(state, sealed.as_deref(), new_secrets)?;
        let saved = state
            .stores
            .auth_configs
            .save_auth_config(
                &application.id,
                expected_version,
                config.document(),
                secrets.as_deref(),
                state.clock.now(),
            )
            .await?;
        if let Some(saved) = saved {
            let current = CurrentConfig::from_stored(saved);
            state.caches.configs.put_unless_newer(
                application.id.as_str(),
                current.clone(),
                |cached, read| cached.version > read.version,
            );
            return Ok(current);
        }
    }
    Err(ApiError::Internal(
        "the configuration kept changing during the update".to_owned(),
    ))
}

/// Adds newly written provider secrets to the sealed set.
fn merge_secrets(
    state: &AppState,
    sealed: Option<&str>,
    new_secrets: Map<String, Value>,
) -> Result<Option<String>, ApiError> {
    if new_secrets.is_empty() {
        return Ok(sealed.map(str::to_owned));
    }
    let mut secrets: Map<String, Value> = match sealed {
        Some(sealed) => {
            let plain = state
                .secrets
                .open(sealed)
                .map_err(|error| ApiError::Internal(error.to_string()))?;
            // Never re-seal an unreadable set as empty: that would drop the stored secrets.
            serde_json::from_str(&plain).map_err(|error| {
                ApiError::Internal(format!("the stored social secrets are unreadable: {error}"))
            })?
        }
        None => Map::new(),
    };
    secrets.extend(new_secrets);
    Ok(Some(
        state.secrets.seal(&Value::Object(secrets).to_string()),
    ))
}

//! Short-lived, per-node caches for data that changes rarely and is read on every request
//! (applications, authentication configurations). Entries live one second: a change made on
//! another node is seen within that time. Sessions are never cached, so revoking one takes
//! effect at once everywhere.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use patron_store::Application;

use crate::auth_config::CurrentConfig;

/// How long an entry is served without reading the database again.
const TTL: Duration = Duration::from_secs(1);
/// Entries kept at most per cache; past that the cache starts afresh.
const MAX_ENTRIES: usize = 10_000;

/// A map whose entries expire [`TTL`] after they were stored.
#[derive(Debug)]
pub struct TtlCache<V> {
    entries: Mutex<HashMap<String, (Instant, V)>>,
}

impl<V> Default for TtlCache<V> {
    fn default() -> Self {
        Self {
            entries: Mutex::new(HashMap::new()),
        }
    }
}

impl<V: Clone> TtlCache<V> {
    /// The value stored under `key`, unless it expired.
    pub fn get(&self, key: &str) -> Option<V> {
        let entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        entries
            .get(key)
            .filter(|(stored_at, _)| stored_at.elapsed() < TTL)
            .map(|(_, value)| value.clone())
    }

    /// Stores `value` under `key`.
    pub fn put(&self, key: &str, value: V) {
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        if entries.len() >= MAX_ENTRIES {
            entries.clear();
        }
        entries.insert(key.to_owned(), (Instant::now(), value));
    }
}

/// Every cache of the service.
#[derive(Debug, Default)]
pub struct Caches {
    /// Applications by id.
    pub applications: TtlCache<Application>,
    /// Authentication configurations by application id.
    pub configs: TtlCache<CurrentConfig>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stores_reads_and_bounds_entries() {
        let cache = TtlCache::default();
        assert_eq!(cache.get("a"), None);
        cache.put("a", 1);
        assert_eq!(cache.get("a"), Some(1));
        for i in 0..MAX_ENTRIES {
            cache.put(&i.to_string(), i);
        }
        assert!(cache.entries.lock().unwrap().len() <= MAX_ENTRIES);
    }
}

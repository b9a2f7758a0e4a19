//! Short-lived, per-node caches for data that changes rarely and is read on every request
//! (applications, authentication configurations). Entries live one second: a change made on
//! another node is seen within that time. Sessions are never cached, so revoking one takes
//! effect at once everywhere.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use patron_store::Application;

use crate::CurrentConfig;

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
        self.put_unless_newer(key, value, |_, _| false);
    }

    /// Stores `value` under `key` unless the fresh entry there is newer
    /// (`newer(existing, value)`): of two requests finishing out of order, the one that read
    /// or wrote the later version stays cached.
    pub fn put_unless_newer(&self, key: &str, value: V, newer: impl Fn(&V, &V) -> bool) {
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        if entries.len() >= MAX_ENTRIES {
            entries.clear();
        }
        if let Some((stored_at, existing)) = entries.get(key) {
            if stored_at.elapsed() < TTL && newer(existing, &value) {
                return;
            }
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

    #[test]
    fn an_older_version_does_not_replace_a_newer_one() {
        let cache = TtlCache::default();
        let newer = |existing: &i64, value: &i64| existing > value;
        cache.put_unless_newer("config", 2, newer);
        cache.put_unless_newer("config", 1, newer);
        assert_eq!(cache.get("config"), Some(2));
        cache.put_unless_newer("config", 3, newer);
        assert_eq!(cache.get("config"), Some(3));
    }
}

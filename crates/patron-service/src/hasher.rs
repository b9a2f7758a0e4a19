//! Password hashing with argon2id on a bounded pool: at most one hash per core runs at a
//! time, on tokio's blocking threads, so a burst of logins queues here instead of stalling
//! the async runtime or spawning unbounded threads.

mod formats;

use std::sync::Arc;

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher as _, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use tokio::sync::Semaphore;

pub use formats::{firebase_hash, FirebaseScrypt, HashFormat, FIREBASE_PREFIX};

/// Why a password could not be hashed or checked.
#[derive(Debug, thiserror::Error)]
pub enum HashError {
    /// argon2 refused (it does not for valid parameters).
    #[error("hashing failed: {0}")]
    Failed(String),
    /// The pool was closed or its task died.
    #[error("the hashing pool is unavailable: {0}")]
    Unavailable(String),
    /// Every slot stayed busy for the whole wait: try again after `retry_after`.
    #[error("every password hashing slot is busy")]
    Busy {
        /// When a retry may find a free slot.
        retry_after: std::time::Duration,
    },
}

/// How long a hash waits for a free slot by default before the request is turned away.
pub const DEFAULT_QUEUE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// Hashes and verifies passwords with fixed argon2id parameters.
#[derive(Clone)]
pub struct PasswordHasher {
    params: Params,
    permits: Arc<Semaphore>,
    /// Longest wait for a slot.
    queue_timeout: std::time::Duration,
    /// A hash of a random password, checked when there is no real hash so that "unknown
    /// customer" and "wrong password" take the same time.
    dummy_hash: Arc<String>,
    /// Hashes and checks this hasher has started (its own count, beside the process-wide
    /// metrics).
    started: Arc<std::sync::atomic::AtomicU64>,
}

impl std::fmt::Debug for PasswordHasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PasswordHasher")
            .field("params", &self.params)
            .finish_non_exhaustive()
    }
}

impl PasswordHasher {
    /// A hasher with the given cost, running at most `concurrency` hashes at once.
    pub fn new(
        memory_kib: u32,
        iterations: u32,
        parallelism: u32,
        concurrency: usize,
    ) -> Result<Self, String> {
        let params = Params::new(memory_kib, iterations, parallelism, None)
            .map_err(|e| format!("invalid argon2 parameters: {e}"))?;
        let dummy_hash = hash_with(&params, &patron_domain::secret::generate_secret())
            .map_err(|e| e.to_string())?;
        Ok(Self {
            params,
            permits: Arc::new(Semaphore::new(concurrency.max(1))),
            queue_timeout: DEFAULT_QUEUE_TIMEOUT,
            dummy_hash: Arc::new(dummy_hash),
            started: Arc::default(),
        })
    }

    /// Waits at most `timeout` for a free slot (then [`HashError::Busy`]).
    pub fn with_queue_timeout(mut self, timeout: std::time::Duration) -> Self {
        self.queue_timeout = timeout;
        self
    }

    /// How many hashes and checks this hasher has started.
    pub fn started(&self) -> u64 {
        self.started.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// One slot per core: the bound the benchmark compares login throughput with.
    pub fn default_concurrency() -> usize {
        std::thread::available_parallelism().map_or(1, usize::from)
    }

    /// Hashes `password` into a PHC string (`$argon2id$v=19$…`) with a random salt.
    pub async fn hash(&self, password: String) -> Result<String, HashError> {
        let params = self.params.clone();
        self.run(move || hash_with(&params, &password))
            .await?
            .map_err(|e| HashError::Failed(e.to_string()))
    }

    /// Whether `password` matches `hash` — argon2id, or a format an import brought (see
    /// [`HashFormat`]; a Firebase hash is checked with `firebase`, the application's
    /// parameters); with no hash, spends an argon2id check and says no.
    pub async fn verify(
        &self,
        password: String,
        hash: Option<String>,
        firebase: Option<FirebaseScrypt>,
    ) -> Result<bool, HashError> {
        let (hash, real) = match hash {
            Some(hash) => (hash, true),
            None => ((*self.dummy_hash).clone(), false),
        };
        let matched = self
            .run(move || formats::matches(password.as_bytes(), &hash, firebase.as_ref()))
            .await?;
        Ok(real && matched)
    }

    /// Whether a stored hash should be replaced at the next successful sign-in: it is in
    /// another format than argon2id, or was made with other argon2 costs than the current.
    pub fn needs_rehash(&self, hash: &str) -> bool {
        let Ok(parsed) = PasswordHash::new(hash) else {
            return true;
        };
        let current = |name: &str, value: u32| {
            parsed
                .params
                .get_decimal(name)
                .is_some_and(|stored| stored == value)
        };
        !(parsed.algorithm.as_str() == "argon2id"
            && current("m", self.params.m_cost())
            && current("t", self.params.t_cost())
            && current("p", self.params.p_cost()))
    }

    /// Whether `password` matches any of `hashes` (a password history), checked in one
    /// blocking task under one permit and stopping at the first match: a long history
    /// costs one queue slot, not one per entry.
    pub async fn matches_any(
        &self,
        password: String,
        hashes: Vec<String>,
    ) -> Result<bool, HashError> {
        self.run(move || {
            hashes
                .iter()
                .any(|hash| formats::matches(password.as_bytes(), hash, None))
        })
        .await
    }

    /// Runs `work` on the blocking pool once a permit is free. The permit moves into the
    /// blocking task and is released when the work ends, not when the caller stops waiting:
    /// a request dropped mid-hash cannot free its slot while its hash still runs.
    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, HashError> {
        let queued = std::time::Instant::now();
        self.started
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        crate::metrics::hash_queue(1.0);
        let waited =
            tokio::time::timeout(self.queue_timeout, self.permits.clone().acquire_owned()).await;
        crate::metrics::hash_queue(-1.0);
        crate::metrics::hash_waited(queued.elapsed().as_secs_f64());
        let permit = waited
            .map_err(|_| HashError::Busy {
                retry_after: self.queue_timeout,
            })?
            .map_err(|_| HashError::Unavailable("the pool is closed".to_owned()))?;
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            work()
        })
        .await
        .map_err(|e| HashError::Unavailable(e.to_string()))
    }
}

fn argon2(params: &Params) -> Argon2<'static> {
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone())
}

fn hash_with(params: &Params, password: &str) -> Result<String, argon2::password_hash::Error> {
    let salt = SaltString::generate(&mut OsRng);
    Ok(argon2(params)
        .hash_password(password.as_bytes(), &salt)?
        .to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Occupies the hasher's only slot with work that runs until `release` is sent.
    async fn occupy(
        hasher: &PasswordHasher,
    ) -> (
        std::sync::mpsc::Sender<()>,
        tokio::task::JoinHandle<Result<(), HashError>>,
    ) {
        let (release, wait) = std::sync::mpsc::channel::<()>();
        let worker = hasher.clone();
        let caller = tokio::spawn(async move {
            worker
                .run(move || {
                    let _ = wait.recv();
                })
                .await
        });
        while hasher.permits.available_permits() > 0 {
            tokio::task::yield_now().await;
        }
        (release, caller)
    }

    #[tokio::test]
    async fn a_dropped_caller_keeps_the_slot_until_its_hash_ends() {
        let hasher = PasswordHasher::new(64, 1, 1, 1).unwrap();
        let (release, caller) = occupy(&hasher).await;
        caller.abort();
        let _ = caller.await;
        assert_eq!(
            hasher.permits.available_permits(),
            0,
            "the work still runs, so its slot stays taken"
        );
        release.send(()).unwrap();
        let _permit = hasher.permits.acquire().await.unwrap();
    }

    #[tokio::test]
    async fn a_full_queue_turns_the_wait_away_instead_of_growing() {
        let hasher = PasswordHasher::new(64, 1, 1, 1)
            .unwrap()
            .with_queue_timeout(std::time::Duration::from_millis(20));
        let (release, busy) = occupy(&hasher).await;
        let refused = hasher.hash("another".into()).await;
        assert!(
            matches!(refused, Err(HashError::Busy { .. })),
            "{refused:?}"
        );
        release.send(()).unwrap();
        busy.await.unwrap().unwrap();
        assert!(hasher.hash("now".into()).await.is_ok());
    }

    #[tokio::test]
    async fn hashes_verify_and_unknown_users_fail() {
        let hasher = PasswordHasher::new(64, 1, 1, 2).unwrap();
        let hash = hasher.hash("correct horse".into()).await.unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert!(hasher
            .verify("correct horse".into(), Some(hash.clone()), None)
            .await
            .unwrap());
        assert!(!hasher
            .verify("wrong".into(), Some(hash), None)
            .await
            .unwrap());
        assert!(!hasher.verify("anything".into(), None, None).await.unwrap());
        assert!(!hasher
            .verify("x".into(), Some("not a phc string".into()), None)
            .await
            .unwrap());
    }

    #[tokio::test]
    async fn only_current_argon2id_hashes_are_kept_as_they_are() {
        let hasher = PasswordHasher::new(64, 1, 1, 1).unwrap();
        let current = hasher.hash("x".into()).await.unwrap();
        assert!(!hasher.needs_rehash(&current));
        let costlier = PasswordHasher::new(128, 1, 1, 1).unwrap();
        assert!(costlier.needs_rehash(&current), "other argon2 costs");
        let bcrypt = "$2b$04$84We4RugYbRxft8iPfcru.FEu2fWsJxhEBknAO8YN3ZVbhGnbZh2S";
        assert!(hasher.needs_rehash(bcrypt));
        assert!(hasher
            .verify("Migrated-1".into(), Some(bcrypt.into()), None)
            .await
            .unwrap());
    }
}

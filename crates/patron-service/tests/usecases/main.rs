//! The use cases without HTTP: each test wires `Services` as the server does, over a fresh
//! database of each backend and the manual clock, and checks a rule of the order of steps
//! (sign-in, codes and their budgets, group member files) directly.

#![allow(missing_docs, clippy::unwrap_used)]

mod codes;
mod groups;
mod sign_in;

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use chrono::{TimeZone, Utc};
use patron_domain::customer::Profile;
use patron_domain::email::Email;
use patron_domain::ids::ObjectId;
use patron_service::cache::Caches;
use patron_service::files::{FetchFailure, FileSource};
use patron_service::hasher::PasswordHasher;
use patron_service::secrets::SecretBox;
use patron_service::{
    reveal_message, CustomerDraft, ManualClock, NewApplication, Origin, RetentionAges,
    ServiceSettings, Services, TokenLifetimes,
};
use patron_store::testing::{backends, TestDatabase};
use patron_store::{Actor, Application, Stores};

/// Files the use cases fetch, served from memory by URL.
#[derive(Default)]
pub struct MemoryFiles {
    files: Mutex<HashMap<String, Vec<u8>>>,
}

impl MemoryFiles {
    /// Serves `bytes` at `url`.
    pub fn put(&self, url: &str, bytes: &[u8]) {
        if let Ok(mut files) = self.files.lock() {
            files.insert(url.to_owned(), bytes.to_vec());
        }
    }
}

#[async_trait]
impl FileSource for MemoryFiles {
    async fn fetch(&self, url: &str) -> Result<Vec<u8>, FetchFailure> {
        self.files
            .lock()
            .ok()
            .and_then(|files| files.get(url).cloned())
            .ok_or_else(|| FetchFailure::Refused(format!("nothing at {url}")))
    }
}

/// Services over one fresh database, with the clock and files the test drives.
pub struct World {
    pub services: Services,
    pub stores: Stores,
    pub clock: Arc<ManualClock>,
    pub secrets: SecretBox,
    pub files: Arc<MemoryFiles>,
    pub hasher: PasswordHasher,
    pub application: Application,
    database: TestDatabase,
}

/// Runs `test` once per backend (SQLite always, PostgreSQL when configured).
pub async fn each_world<F, Fut>(test: F)
where
    F: Fn(World) -> Fut,
    Fut: Future<Output = World>,
{
    for backend in backends() {
        let world = World::new(TestDatabase::create(backend).await).await;
        let world = test(world).await;
        world.database.drop_database().await;
    }
}

impl World {
    async fn new(database: TestDatabase) -> Self {
        let stores = patron_store::connect(&database.url).await.unwrap();
        let clock = Arc::new(ManualClock::new(
            Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap(),
        ));
        let secrets = SecretBox::from_base64(&SecretBox::generate_key()).unwrap();
        // Cheap argon2 parameters: these tests check rules, not hashing cost.
        let hasher = PasswordHasher::new(64, 1, 1, 2).unwrap();
        let files = Arc::new(MemoryFiles::default());
        let settings = ServiceSettings {
            public_url: "https://accounts.example.com".to_owned(),
            retention: RetentionAges {
                sessions: chrono::Duration::days(7),
                reset_codes: chrono::Duration::days(7),
                pending_registrations: chrono::Duration::days(7),
                outbox: chrono::Duration::days(7),
                jobs: chrono::Duration::days(7),
            },
            bulk_sync_limit: 20,
            export_dir: std::env::temp_dir()
                .join(format!("patron-service-{}", rand::random::<u64>())),
            export_link_ttl: chrono::Duration::hours(1),
            token_lifetimes: TokenLifetimes {
                access: chrono::Duration::hours(1),
                refresh: chrono::Duration::days(30),
            },
            rolling_session_cap: chrono::Duration::days(30),
            sign_in_failures_per_minute: 0,
            social: patron_service::social::SocialEndpoints {
                google_jwks_url: "http://127.0.0.1:9/jwks".to_owned(),
                apple_jwks_url: "http://127.0.0.1:9/jwks".to_owned(),
                facebook_graph_url: "http://127.0.0.1:9/graph".to_owned(),
                timeout: std::time::Duration::from_secs(1),
            },
        };
        let services = Services::new(
            &stores,
            clock.clone(),
            hasher.clone(),
            secrets.clone(),
            Arc::new(Caches::default()),
            files.clone(),
            settings,
        );
        let created = services
            .applications
            .create(NewApplication {
                company: "559",
                name: "Shop",
                ..NewApplication::default()
            })
            .await
            .unwrap();
        let id = ObjectId::parse("id", &created.application_id).unwrap();
        let application = stores
            .applications
            .find_application(&id)
            .await
            .unwrap()
            .unwrap();
        Self {
            services,
            stores,
            clock,
            secrets,
            files,
            hasher,
            application,
            database,
        }
    }

    /// A customer with `email` (proven) and `password`.
    pub async fn customer(&self, email: &str, password: &str) -> ObjectId {
        let hash = self.hasher.hash(password.to_owned()).await.unwrap();
        let draft = CustomerDraft {
            username: None,
            profile: Profile::default(),
            email: Some(Email::parse("email", email).unwrap()),
            phone: None,
            email_verified: true,
            phone_verified: false,
            password_hash: Some(hash),
            proven_by_shopper: true,
        };
        self.services
            .customers
            .create(&self.application.id, draft, &Actor::new("test"))
            .await
            .unwrap()
            .id
    }

    /// The request's origin: a client at `ip`.
    pub fn origin(ip: &str) -> Origin {
        Origin {
            domain: "shop.example.com".to_owned(),
            user_agent: "tests".to_owned(),
            ip: ip.to_owned(),
            device: None,
        }
    }

    /// The code of the newest message sent to `to`, opened.
    pub async fn code_sent_to(&self, to: &str) -> String {
        let messages = self.stores.outbox.list_outbox(100).await.unwrap();
        let message = messages
            .into_iter()
            .filter(|queued| queued.message.to == to)
            .max_by_key(|queued| (queued.created_at, queued.id.clone()))
            .unwrap_or_else(|| panic!("nothing was sent to {to}"));
        let opened = reveal_message(&self.secrets, message).unwrap();
        opened.message.data["otp"].as_str().unwrap().to_owned()
    }
}

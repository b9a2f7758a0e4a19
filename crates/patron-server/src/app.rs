//! Building the service: state, router, middleware, and serving with graceful shutdown.

use std::any::Any;
use std::future::Future;
use std::sync::Arc;

use axum::extract::{DefaultBodyLimit, State};
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{middleware, Extension, Json, Router};
use patron_domain::ids::ObjectId;
use patron_store::{Application, StoreError, Stores};
use tokio::net::TcpListener;
use tower_http::catch_panic::CatchPanicLayer;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::config::{Config, ConfigError};
use crate::error::ApiError;
use crate::extract::BodyLimit;
use crate::fetch::{Fetcher, IpBlock};
use crate::notify::Delivery;
use crate::wire::Status;
use crate::{console, platform, storefront, telemetry, token_endpoint};
use patron_service::cache::Caches;
use patron_service::clock::Clock;
use patron_service::hasher::PasswordHasher;
use patron_service::secrets::SecretBox;
use patron_service::workers::{Shutdown, Workers};
use patron_service::{Events, Retention, Services};

/// What every handler can reach: the stores, the clock and the configuration.
#[derive(Clone)]
pub struct AppState {
    /// Every store concern.
    pub stores: Stores,
    /// The source of "now".
    pub clock: Arc<dyn Clock>,
    /// The loaded configuration.
    pub config: Arc<Config>,
    /// Encrypts secrets at rest.
    pub secrets: SecretBox,
    /// Hashes passwords on a bounded pool.
    pub hasher: PasswordHasher,
    /// Recently read applications and configurations.
    pub caches: Arc<Caches>,
    /// The use cases (shared: a request's copy of the state clones one pointer).
    pub services: Arc<Services>,
    /// The proxies whose `X-Forwarded-For` names the client.
    pub trusted_proxies: Arc<[IpBlock]>,
}

impl AppState {
    /// The state of a server over `stores`, with fresh caches and every use case wired.
    fn new(
        stores: Stores,
        clock: Arc<dyn Clock>,
        config: Config,
        secrets: SecretBox,
        hasher: PasswordHasher,
        fetcher: Fetcher,
        trusted_proxies: Vec<IpBlock>,
    ) -> Self {
        let caches = Arc::new(Caches::default());
        let services = Services::new(
            &stores,
            clock.clone(),
            hasher.clone(),
            secrets.clone(),
            caches.clone(),
            Arc::new(fetcher),
            config.service_settings(),
        );
        Self {
            stores,
            clock,
            config: Arc::new(config),
            secrets,
            hasher,
            caches,
            services: Arc::new(services),
            trusted_proxies: trusted_proxies.into(),
        }
    }

    /// The application with this id (served from the one-second cache when fresh).
    pub(crate) async fn application(&self, id: &ObjectId) -> Result<Option<Application>, ApiError> {
        if let Some(application) = self.caches.applications.get(id.as_str()) {
            return Ok(Some(application));
        }
        let found = self.stores.applications.find_application(id).await?;
        if let Some(application) = &found {
            self.caches
                .applications
                .put(id.as_str(), application.clone());
        }
        Ok(found)
    }
}

/// Why the service could not be assembled.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// A setting is unusable.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The database cannot be opened or migrated.
    #[error("cannot open the database: {0}")]
    Store(#[from] StoreError),
}

/// The composition root: the whole service assembled once, the same way for the binary,
/// the API tests and the benchmarks.
pub struct App {
    /// What every handler reaches.
    pub state: AppState,
    delivery: Arc<dyn Delivery>,
    events: Events,
}

impl App {
    /// Opens (and migrates) the configured database and wires everything on it.
    pub async fn build(config: Config, clock: Arc<dyn Clock>) -> Result<Self, BuildError> {
        let stores = patron_store::connect(&config.database_url).await?;
        Self::on_stores(stores, config, clock)
    }

    /// Wires everything on stores already open.
    pub fn on_stores(
        stores: Stores,
        config: Config,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, BuildError> {
        let secrets = config.secret_box()?;
        let hasher = config.password_hasher()?;
        let fetcher = config.fetcher()?;
        let delivery = config.delivery()?;
        let events = Events::new(stores.events.clone(), config.event_sink()?, clock.clone());
        let trusted_proxies = config.trusted_proxy_blocks()?;
        Ok(Self {
            state: AppState::new(
                stores,
                clock,
                config,
                secrets,
                hasher,
                fetcher,
                trusted_proxies,
            ),
            delivery,
            events,
        })
    }

    /// The HTTP surface.
    pub fn router(&self) -> Router {
        build_router(self.state.clone())
    }

    /// The router of the metrics listener.
    pub fn metrics_router(&self) -> Router {
        build_metrics_router(self.state.clone())
    }

    /// Starts the background workers every `patron serve` runs: the job runner, the outbox
    /// delivery, the events delivery (when `[events] url` is set) and the retention purge.
    pub fn start_workers(&self) -> Workers {
        let mut workers = Workers::new();
        let jobs = self.state.services.jobs.clone();
        workers.spawn("jobs", move |shutdown| {
            patron_service::run_jobs(jobs.clone(), shutdown)
        });
        let notifications = self.state.services.notifications.clone();
        let delivery = self.delivery.clone();
        let clock = self.state.clock.clone();
        workers.spawn("outbox", move |shutdown| {
            crate::notify::run_worker(
                notifications.clone(),
                delivery.clone(),
                clock.clone(),
                shutdown,
            )
        });
        if self.events.has_sink() {
            let events = self.events.clone();
            workers.spawn("events", move |shutdown| {
                crate::notify::run_events_worker(events.clone(), shutdown)
            });
        }
        let retention = self.state.services.retention.clone();
        let every = std::time::Duration::from_secs(self.state.config.retention.interval_secs);
        workers.spawn("retention", move |shutdown| {
            purge_regularly(retention.clone(), every, shutdown)
        });
        workers
    }
}

/// Runs the retention purge every `every`, until `shutdown`.
async fn purge_regularly(retention: Retention, every: std::time::Duration, mut shutdown: Shutdown) {
    loop {
        match retention.purge().await {
            Ok(report) => tracing::debug!(?report, "retention purge done"),
            Err(error) => tracing::warn!(%error, "retention purge failed"),
        }
        if shutdown.sleep(every).await {
            return;
        }
    }
}

/// The API's routes, each with its OpenAPI operation: the route table and the document are
/// both made from it.
pub(crate) fn api_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(crate::openapi::ApiDoc::openapi())
        .routes(routes!(healthz))
        .routes(routes!(readyz))
        .merge(token_endpoint::router())
        .merge(platform::router())
        .merge(storefront::router())
}

/// The whole HTTP surface with its middleware.
pub fn build_router(state: AppState) -> Router {
    let limit = state.config.max_body_bytes;
    crate::metrics::handle();
    let (api, _) = api_routes().split_for_parts();
    api.route("/openapi.json", get(crate::openapi::document))
        .route("/docs", get(crate::openapi::page))
        .merge(console::router())
        .route_layer(middleware::from_fn(crate::metrics::track))
        .fallback(no_route)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(state)
        .layer(DefaultBodyLimit::max(limit))
        .layer(Extension(BodyLimit(limit)))
        .layer(CatchPanicLayer::custom(panic_response))
        .layer(middleware::from_fn(telemetry::request_id))
}

/// The metrics listener's surface: `/metrics` alone, served apart from the public port
/// (`[metrics] listen`), so backlogs and rates are no one else's to read.
pub fn build_metrics_router(state: AppState) -> Router {
    crate::metrics::handle();
    Router::new()
        .route("/metrics", get(crate::metrics::scrape))
        .with_state(state)
}

/// Serves `router` on `listener` until `shutdown` resolves; requests in flight then finish.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(
        listener,
        router.into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
}

/// The process answers.
#[utoipa::path(
    get,
    path = "/healthz",
    operation_id = "healthz",
    tag = "operations",
    responses((status = 200, description = "`{\"status\": \"ok\"}`", body = Status)),
    security(())
)]
pub(crate) async fn healthz() -> Json<Status> {
    Json(Status { status: "ok" })
}

/// The database answers.
#[utoipa::path(
    get,
    path = "/readyz",
    operation_id = "readyz",
    tag = "operations",
    responses(
        (status = 200, description = "`{\"status\": \"ready\"}`", body = Status),
        (status = 503, description = "The database does not answer.", body = crate::error::ErrorBody),
    ),
    security(())
)]
pub(crate) async fn readyz(State(state): State<AppState>) -> Result<Json<Status>, ApiError> {
    state
        .stores
        .health
        .ping()
        .await
        .map_err(|error| ApiError::Unavailable(error.to_string()))?;
    Ok(Json(Status { status: "ready" }))
}

async fn no_route(method: Method) -> ApiError {
    crate::metrics::unmatched(&method, StatusCode::NOT_FOUND);
    ApiError::NoRoute {
        status: StatusCode::NOT_FOUND,
        message: "no such route".to_owned(),
    }
}

async fn method_not_allowed(method: Method) -> ApiError {
    crate::metrics::unmatched(&method, StatusCode::METHOD_NOT_ALLOWED);
    ApiError::NoRoute {
        status: StatusCode::METHOD_NOT_ALLOWED,
        message: "method not allowed on this route".to_owned(),
    }
}

fn panic_response(_panic: Box<dyn Any + Send + 'static>) -> Response {
    ApiError::Internal("handler panicked".to_owned()).into_response()
}

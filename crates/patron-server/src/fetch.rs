//! Downloads a file named by a client-supplied URL (a CSV to import) without letting the
//! client reach the service's own network (server-side request forgery).
//!
//! Only `http` and `https` URLs without credentials are fetched. The host is resolved once
//! and every address it resolves to is checked: loopback, private, link-local (cloud
//! metadata), shared, documentation, multicast and reserved ranges are refused, including
//! IPv4 addresses embedded in IPv6 ones, unless the `[fetch] allow` list names them. The
//! connection then goes only to the checked addresses, so a second DNS answer cannot
//! redirect it. Only ports 80 and 443 are fetched from, unless every address is on the
//! allow-list. Redirects are followed by hand and every hop is checked again. The body is
//! capped at `max_bytes`, the whole download at `timeout_secs`, and the downloads running at
//! once at `max_concurrent`.

mod address;

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use reqwest::header::{HeaderValue, ACCEPT, LOCATION};
use reqwest::redirect::Policy;
use reqwest::{Response, StatusCode, Url};

use self::address::blocked_reason;
pub use self::address::IpBlock;
use crate::config::{ConfigError, FetchSettings};
use patron_service::files::{FetchFailure, FileSource};

/// The most memory reserved up front for a body, whatever its announced length.
const INITIAL_CAPACITY: u64 = 1024 * 1024;
/// Sent as `User-Agent` with every download.
const USER_AGENT: &str = concat!("patron/", env!("CARGO_PKG_VERSION"));

/// Downloads client-named files within the configured limits. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Fetcher {
    inner: Arc<Limits>,
}

#[derive(Debug)]
struct Limits {
    max_bytes: u64,
    connect_timeout: Duration,
    timeout: Duration,
    max_redirects: u32,
    allow: Vec<IpBlock>,
    /// One permit per download running at once.
    running: Arc<tokio::sync::Semaphore>,
}

/// Why a download failed. The messages are fit to show to the API client: they never hold
/// a response body. The use cases see them as a [`FetchFailure`].
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    /// The text is not an absolute URL.
    #[error("is not a valid URL ({0})")]
    InvalidUrl(String),
    /// The scheme is neither `http` nor `https`.
    #[error("scheme '{0}' is not supported (use http or https)")]
    UnsupportedScheme(String),
    /// The URL carries a user name or password.
    #[error("URLs with a user name or password are not accepted")]
    Credentials,
    /// The host name does not resolve.
    #[error("cannot resolve host {0}")]
    Resolve(String),
    /// A port other than 80 and 443 on a host that is not on the allow-list.
    #[error("port {0} is not allowed (only 80 and 443, unless the address is on [fetch] allow)")]
    PortNotAllowed(u16),
    /// Every download slot stayed busy for the whole timeout.
    #[error("too many downloads are running: try again later")]
    Busy,
    /// The host resolves to an address in a range the service must not reach.
    #[error("address {address} is not allowed ({reason})")]
    AddressNotAllowed {
        /// The refused address.
        address: IpAddr,
        /// The range it is in, e.g. `private network`.
        reason: &'static str,
    },
    /// The server redirected more often than `max_redirects` allows.
    #[error("more than {0} redirects")]
    TooManyRedirects(u32),
    /// A redirect without a usable `Location`.
    #[error("redirect ({0}) without a valid Location")]
    BadRedirect(StatusCode),
    /// The final answer is not a success.
    #[error("the server answered {0}")]
    Status(StatusCode),
    /// The body is larger than `max_bytes`.
    #[error("the file is larger than {0} bytes")]
    TooLarge(u64),
    /// The download did not finish within `timeout_secs`.
    #[error("the download did not finish within {0} seconds")]
    Timeout(u64),
    /// No connection could be made to the host.
    #[error("cannot connect to {host}")]
    Connect {
        /// The URL's host.
        host: String,
        /// What the HTTP client reported (for logs; not shown).
        #[source]
        source: reqwest::Error,
    },
    /// The connection failed during the request or the body.
    #[error("the download from {host} failed")]
    Transfer {
        /// The URL's host.
        host: String,
        /// What the HTTP client reported (for logs; not shown).
        #[source]
        source: reqwest::Error,
    },
    /// The HTTP client could not be built: the service's fault, not the client's.
    #[error("cannot build the HTTP client: {0}")]
    Client(#[source] reqwest::Error),
}

/// The fetcher as the use cases' file source: refusals are the request's fault (a 400
/// naming its field), a broken client the service's.
#[async_trait::async_trait]
impl FileSource for Fetcher {
    async fn fetch(&self, url: &str) -> Result<Vec<u8>, FetchFailure> {
        Fetcher::fetch(self, url)
            .await
            .map_err(|error| match error {
                FetchError::Client(_) => FetchFailure::Failed(error.to_string()),
                FetchError::Busy => FetchFailure::Busy,
                refused => FetchFailure::Refused(refused.to_string()),
            })
    }
}

impl Fetcher {
    /// A fetcher with the limits and allow-list of `settings`; an allow-list entry that is
    /// not an IP address or CIDR block, or a zero timeout, is an error naming it.
    pub fn new(settings: &FetchSettings) -> Result<Self, ConfigError> {
        let allow = settings
            .allow
            .iter()
            .map(|entry| entry.parse::<IpBlock>())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|message| ConfigError::Setting {
                key: "[fetch] allow / PATRON_FETCH_ALLOW".to_owned(),
                message,
            })?;
        for (key, secs) in [
            (
                "[fetch] timeout_secs / PATRON_FETCH_TIMEOUT_SECS",
                settings.timeout_secs,
            ),
            (
                "[fetch] connect_timeout_secs / PATRON_FETCH_CONNECT_TIMEOUT_SECS",
                settings.connect_timeout_secs,
            ),
            (
                "[fetch] max_concurrent / PATRON_FETCH_MAX_CONCURRENT",
                u64::from(settings.max_concurrent),
            ),
        ] {
            if secs == 0 {
                return Err(ConfigError::Setting {
                    key: key.to_owned(),
                    message: "must be at least 1".to_owned(),
                });
            }
        }
        Ok(Self {
            inner: Arc::new(Limits {
                max_bytes: settings.max_bytes,
                connect_timeout: Duration::from_secs(settings.connect_timeout_secs),
                timeout: Duration::from_secs(settings.timeout_secs),
                max_redirects: settings.max_redirects,
                allow,
                running: Arc::new(tokio::sync::Semaphore::new(
                    usize::try_from(settings.max_concurrent).unwrap_or(1),
                )),
            }),
        })
    }

    /// Downloads `url` and returns its body, following redirects; see the module docs for
    /// what is refused. At most `max_concurrent` downloads run at once; a download that
    /// finds no free slot within `timeout_secs` fails with [`FetchError::Busy`].
    pub async fn fetch(&self, url: &str) -> Result<Vec<u8>, FetchError> {
        let limits = &self.inner;
        let _slot = tokio::time::timeout(limits.timeout, limits.running.acquire())
            .await
            .map_err(|_| FetchError::Busy)?
            .map_err(|_| FetchError::Busy)?;
        tokio::time::timeout(limits.timeout, self.fetch_unbounded(url))
            .await
            .unwrap_or_else(|_| Err(FetchError::Timeout(limits.timeout.as_secs())))
    }

    async fn fetch_unbounded(&self, url: &str) -> Result<Vec<u8>, FetchError> {
        let mut current =
            Url::parse(url.trim()).map_err(|e| FetchError::InvalidUrl(e.to_string()))?;
        let mut redirects = 0;
        loop {
            let addresses = self.checked_addresses(&current).await?;
            let response = self.get(&current, &addresses).await?;
            let status = response.status();
            if is_followed_redirect(status) {
                if redirects == self.inner.max_redirects {
                    return Err(FetchError::TooManyRedirects(self.inner.max_redirects));
                }
                redirects += 1;
                current = response
                    .headers()
                    .get(LOCATION)
                    .and_then(|location| location.to_str().ok())
                    .and_then(|location| current.join(location).ok())
                    .ok_or(FetchError::BadRedirect(status))?;
                continue;
            }
            if !status.is_success() {
                return Err(FetchError::Status(status));
            }
            return self.read_body(&current, response).await;
        }
    }

    /// Checks the scheme and credentials of `url`, resolves its host and checks every
    /// address; returns the addresses the connection may use.
    async fn checked_addresses(&self, url: &Url) -> Result<Vec<SocketAddr>, FetchError> {
        if !matches!(url.scheme(), "http" | "https") {
            return Err(FetchError::UnsupportedScheme(url.scheme().to_owned()));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(FetchError::Credentials);
        }
        let host = url.host_str().unwrap_or_default();
        let port = url.port_or_known_default().unwrap_or(80);
        let addresses: Vec<SocketAddr> = match url.domain() {
            Some(domain) => tokio::net::lookup_host((domain, port))
                .await
                .map_err(|_| FetchError::Resolve(host.to_owned()))?
                .collect(),
            None => {
                let literal = host.trim_start_matches('[').trim_end_matches(']');
                let ip = literal
                    .parse::<IpAddr>()
                    .map_err(|_| FetchError::InvalidUrl(format!("host '{host}' is not usable")))?;
                vec![SocketAddr::new(ip, port)]
            }
        };
        if addresses.is_empty() {
            return Err(FetchError::Resolve(host.to_owned()));
        }
        for address in &addresses {
            let ip = address.ip();
            if let Some(reason) = blocked_reason(ip) {
                if !self.is_allowed(ip) {
                    tracing::warn!(host, %ip, reason, "refused to fetch from a blocked address");
                    return Err(FetchError::AddressNotAllowed {
                        address: ip,
                        reason,
                    });
                }
            }
        }
        let allowed_everywhere = addresses
            .iter()
            .all(|address| self.is_allowed(address.ip()));
        if !matches!(port, 80 | 443) && !allowed_everywhere {
            tracing::warn!(
                host,
                port,
                "refused to fetch from a port other than 80 and 443"
            );
            return Err(FetchError::PortNotAllowed(port));
        }
        Ok(addresses)
    }

    /// Whether the allow-list holds `ip` (an IPv4-mapped IPv6 address also matches its
    /// IPv4 form).
    fn is_allowed(&self, ip: IpAddr) -> bool {
        let canonical = ip.to_canonical();
        self.inner
            .allow
            .iter()
            .any(|block| block.contains(ip) || block.contains(canonical))
    }

    /// Sends one GET for `url`, connecting only to `addresses`.
    async fn get(&self, url: &Url, addresses: &[SocketAddr]) -> Result<Response, FetchError> {
        let limits = &self.inner;
        let mut builder = reqwest::Client::builder()
            .redirect(Policy::none())
            .no_proxy()
            .connect_timeout(limits.connect_timeout)
            .timeout(limits.timeout)
            .pool_max_idle_per_host(0)
            .user_agent(USER_AGENT);
        if let Some(domain) = url.domain() {
            builder = builder.resolve_to_addrs(domain, addresses);
        }
        let client = builder.build().map_err(FetchError::Client)?;
        let host = url.host_str().unwrap_or_default().to_owned();
        client
            .get(url.clone())
            .header(
                ACCEPT,
                HeaderValue::from_static("text/csv, text/plain, */*"),
            )
            .send()
            .await
            .map_err(|source| self.request_error(host, source))
    }

    /// Reads the body of `response`, refusing it once it passes `max_bytes`.
    async fn read_body(&self, url: &Url, mut response: Response) -> Result<Vec<u8>, FetchError> {
        let max = self.inner.max_bytes;
        let announced = response.content_length().unwrap_or(0);
        if announced > max {
            return Err(FetchError::TooLarge(max));
        }
        let mut body =
            Vec::with_capacity(usize::try_from(announced.min(INITIAL_CAPACITY)).unwrap_or(0));
        while let Some(chunk) = response.chunk().await.map_err(|source| {
            self.request_error(url.host_str().unwrap_or_default().to_owned(), source)
        })? {
            let len = u64::try_from(body.len() + chunk.len()).unwrap_or(u64::MAX);
            if len > max {
                return Err(FetchError::TooLarge(max));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }

    fn request_error(&self, host: String, source: reqwest::Error) -> FetchError {
        if source.is_connect() {
            FetchError::Connect { host, source }
        } else if source.is_timeout() {
            FetchError::Timeout(self.inner.timeout.as_secs())
        } else {
            FetchError::Transfer { host, source }
        }
    }
}

/// The redirects followed: 301, 302, 303, 307 and 308.
fn is_followed_redirect(status: StatusCode) -> bool {
    matches!(status.as_u16(), 301 | 302 | 303 | 307 | 308)
}

#[cfg(test)]
mod tests;

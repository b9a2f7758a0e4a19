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
use crate::error::ApiError;

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
/// a response body. [`FetchError::to_api_error`] turns one into the handler's error.
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

impl FetchError {
    /// The API error for a download named by request field `field`: a 400 naming the field
    /// (`file_url: address 10.0.0.5 is not allowed (private network)`), or a 500 when the
    /// service itself failed.
    pub fn to_api_error(&self, field: &str) -> ApiError {
        match self {
            FetchError::Client(_) => ApiError::Internal(self.to_string()),
            FetchError::Busy => ApiError::Busy {
                retry_after_secs: 10,
            },
            _ => ApiError::validation(field, self.to_string()),
        }
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
mod tests {
    use std::io::ErrorKind;
    use std::time::Instant;

    use tokio::net::{TcpListener, TcpStream};

    use super::*;

    fn settings(allow: &[&str]) -> FetchSettings {
        FetchSettings {
            max_bytes: 1000,
            connect_timeout_secs: 5,
            timeout_secs: 5,
            max_redirects: 3,
            max_concurrent: 4,
            allow: allow.iter().map(|entry| (*entry).to_owned()).collect(),
        }
    }

    fn fetcher(allow: &[&str]) -> Fetcher {
        Fetcher::new(&settings(allow)).unwrap()
    }

    #[test]
    fn settings_with_a_bad_allow_entry_are_refused() {
        let error = Fetcher::new(&settings(&["127.0.0.1/32", "10.0.0.0/40"])).unwrap_err();
        let message = error.to_string();
        assert!(message.contains("PATRON_FETCH_ALLOW"), "{message}");
        assert!(message.contains("'10.0.0.0/40'"), "{message}");
        let zero = FetchSettings {
            timeout_secs: 0,
            ..settings(&[])
        };
        assert!(Fetcher::new(&zero)
            .unwrap_err()
            .to_string()
            .contains("PATRON_FETCH_TIMEOUT_SECS"));
    }

    #[test]
    fn allow_list_admits_its_blocks_only() {
        let fetcher = fetcher(&["10.0.0.0/8", "fd00::/8"]);
        assert!(fetcher.is_allowed("10.1.2.3".parse().unwrap()));
        assert!(fetcher.is_allowed("::ffff:10.1.2.3".parse().unwrap()));
        assert!(fetcher.is_allowed("fd00::5".parse().unwrap()));
        assert!(!fetcher.is_allowed("192.168.0.1".parse().unwrap()));
        assert!(!fetcher.is_allowed("fc00::1".parse().unwrap()));
    }

    #[tokio::test]
    async fn checks_literal_addresses_against_the_allow_list() {
        let fetcher = fetcher(&["10.0.0.0/8"]);
        let url = Url::parse("http://10.1.2.3:8080/a.csv").unwrap();
        assert_eq!(
            fetcher.checked_addresses(&url).await.unwrap(),
            vec!["10.1.2.3:8080".parse::<SocketAddr>().unwrap()]
        );
        let url = Url::parse("https://[::ffff:10.9.9.9]/").unwrap();
        assert_eq!(fetcher.checked_addresses(&url).await.unwrap().len(), 1);
        let error = fetcher
            .fetch("http://192.168.0.10/a.csv")
            .await
            .unwrap_err();
        assert_eq!(
            error.to_string(),
            "address 192.168.0.10 is not allowed (private network)"
        );
    }

    #[tokio::test]
    async fn refuses_ports_other_than_80_and_443_unless_the_address_is_allowed() {
        let refusing = fetcher(&[]);
        for url in [
            "http://93.184.216.34:8080/list.csv",
            "https://93.184.216.34:22/list.csv",
        ] {
            let error = refusing.fetch(url).await.unwrap_err();
            assert!(
                matches!(error, FetchError::PortNotAllowed(_)),
                "{url}: {error}"
            );
        }
        let allowed = fetcher(&["93.184.216.34/32"]);
        let error = allowed
            .checked_addresses(&Url::parse("http://93.184.216.34:8080/list.csv").unwrap())
            .await;
        assert!(error.is_ok(), "{error:?}");
    }

    #[tokio::test]
    async fn a_download_waits_for_a_free_slot_and_gives_up_busy() {
        let fetcher = Fetcher::new(&FetchSettings {
            max_concurrent: 1,
            timeout_secs: 1,
            ..settings(&[])
        })
        .unwrap();
        let running = fetcher.inner.running.clone();
        let slot = running.acquire().await.unwrap();
        let error = fetcher
            .fetch("http://93.184.216.34/list.csv")
            .await
            .unwrap_err();
        assert!(matches!(error, FetchError::Busy), "{error}");
        assert_eq!(
            error.to_api_error("file_url").to_string(),
            "busy: retry after 10 s"
        );
        drop(slot);
    }

    #[tokio::test]
    async fn refuses_other_schemes_credentials_and_non_urls() {
        let fetcher = fetcher(&[]);
        for (url, scheme) in [
            ("ftp://example.com/a.csv", "ftp"),
            ("file:///etc/passwd", "file"),
            ("data:text/csv,a%2Cb", "data"),
            ("gopher://example.com/", "gopher"),
            ("javascript:alert(1)", "javascript"),
        ] {
            let error = fetcher.fetch(url).await.unwrap_err();
            assert!(
                matches!(&error, FetchError::UnsupportedScheme(s) if s == scheme),
                "{url}: {error}"
            );
        }
        for url in [
            "http://user:pass@example.com/a.csv",
            "https://user@example.com/a.csv",
            "http://:secret@example.com/",
        ] {
            let error = fetcher.fetch(url).await.unwrap_err();
            assert!(matches!(error, FetchError::Credentials), "{url}: {error}");
        }
        for url in ["not a url", "/relative/a.csv", "http://", "http://[::1/"] {
            let error = fetcher.fetch(url).await.unwrap_err();
            assert!(matches!(error, FetchError::InvalidUrl(_)), "{url}: {error}");
        }
    }

    #[tokio::test]
    async fn refuses_disguised_loopback_and_metadata_hosts() {
        let fetcher = fetcher(&[]);
        for (url, address) in [
            ("http://127.0.0.1/", "127.0.0.1"),
            ("http://0x7f000001/", "127.0.0.1"),
            ("http://2130706433/", "127.0.0.1"),
            ("http://127.1/", "127.0.0.1"),
            ("http://0/", "0.0.0.0"),
            ("http://[::1]:8080/", "::1"),
            ("http://[::ffff:127.0.0.1]/", "::ffff:127.0.0.1"),
            (
                "http://169.254.169.254/latest/meta-data/",
                "169.254.169.254",
            ),
            ("http://[fd00:ec2::254]/", "fd00:ec2::254"),
        ] {
            let error = fetcher.fetch(url).await.unwrap_err();
            assert!(
                matches!(&error, FetchError::AddressNotAllowed { address: a, .. } if a.to_string() == address),
                "{url}: {error}"
            );
        }
        // A name is resolved and its addresses checked.
        let error = fetcher.fetch("http://localhost/a.csv").await.unwrap_err();
        assert!(
            matches!(
                error,
                FetchError::AddressNotAllowed {
                    reason: "loopback",
                    ..
                }
            ),
            "{error}"
        );
        let error = fetcher
            .fetch("http://patron-fetch-test.invalid/a.csv")
            .await
            .unwrap_err();
        assert!(matches!(error, FetchError::Resolve(_)), "{error}");
    }

    #[test]
    fn errors_become_400_naming_the_field() {
        let error = FetchError::AddressNotAllowed {
            address: "10.0.0.5".parse().unwrap(),
            reason: "private network",
        };
        let api = error.to_api_error("file_url");
        assert!(matches!(api, ApiError::Validation { .. }));
        assert_eq!(
            api.to_string(),
            "file_url: address 10.0.0.5 is not allowed (private network)"
        );
    }

    /// What the test server answers.
    enum Answer {
        /// These bytes, then the connection closes.
        Raw(Vec<u8>),
        /// Nothing, with the connection held open.
        Never,
    }

    fn response(head: &str, body: &[u8]) -> Answer {
        let mut bytes = format!("HTTP/1.1 {head}\r\nConnection: close\r\n\r\n").into_bytes();
        bytes.extend_from_slice(body);
        Answer::Raw(bytes)
    }

    fn sized(body: &[u8]) -> Answer {
        response(
            &format!(
                "200 OK\r\nContent-Type: text/csv\r\nContent-Length: {}",
                body.len()
            ),
            body,
        )
    }

    fn redirect(status: &str, location: &str) -> Answer {
        response(
            &format!("{status}\r\nLocation: {location}\r\nContent-Length: 0"),
            b"",
        )
    }

    const CSV: &[u8] = b"email,first_name\na@shop.example,Ada\n";

    /// The canned answer for `path` of the test server listening on `port`.
    fn answer(path: &str, port: u16) -> Answer {
        match path {
            "/data.csv" => sized(CSV),
            "/exact" => sized(&[b'x'; 1000]),
            "/big" => sized(&[b'x'; 5000]),
            "/stream" => response("200 OK", &[b'x'; 5000]),
            "/small-stream" => response("200 OK", CSV),
            "/chunked" => {
                let chunk = format!("3e8\r\n{}\r\n", "x".repeat(1000));
                let body = format!("{}0\r\n\r\n", chunk.repeat(5));
                response("200 OK\r\nTransfer-Encoding: chunked", body.as_bytes())
            }
            "/redirect" => redirect("302 Found", "/data.csv"),
            "/redirect-relative" => redirect("303 See Other", "data.csv"),
            "/redirect-absolute" => redirect(
                "301 Moved Permanently",
                &format!("http://127.0.0.1:{port}/data.csv"),
            ),
            "/to-metadata" => redirect("302 Found", "http://169.254.169.254/latest/meta-data/"),
            "/to-private" => redirect("307 Temporary Redirect", "http://10.0.0.1/a.csv"),
            "/to-file" => redirect("308 Permanent Redirect", "file:///etc/passwd"),
            "/loop" => redirect("302 Found", "/loop"),
            "/no-location" => response("302 Found\r\nContent-Length: 0", b""),
            "/silent" => Answer::Never,
            _ => response(
                "404 Not Found\r\nContent-Length: 20",
                b"secret internal body",
            ),
        }
    }

    /// A tiny HTTP/1.1 server on 127.0.0.1 answering with [`answer`].
    async fn serve() -> SocketAddr {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(async move {
                    let Some(path) = read_request(&stream).await else {
                        return;
                    };
                    match answer(&path, address.port()) {
                        Answer::Raw(bytes) => {
                            let _ = write_all(&stream, &bytes).await;
                        }
                        Answer::Never => std::future::pending::<()>().await,
                    }
                });
            }
        });
        address
    }

    /// Reads a request's head and returns its path.
    async fn read_request(stream: &TcpStream) -> Option<String> {
        let mut request = Vec::new();
        let mut buffer = [0; 4096];
        while !request.windows(4).any(|window| window == b"\r\n\r\n") {
            stream.readable().await.ok()?;
            match stream.try_read(&mut buffer) {
                Ok(0) => return None,
                Ok(read) => request.extend_from_slice(&buffer[..read]),
                Err(error) if error.kind() == ErrorKind::WouldBlock => {}
                Err(_) => return None,
            }
        }
        let head = String::from_utf8_lossy(&request);
        head.split_whitespace().nth(1).map(str::to_owned)
    }

    async fn write_all(stream: &TcpStream, mut bytes: &[u8]) -> std::io::Result<()> {
        while !bytes.is_empty() {
            stream.writable().await?;
            match stream.try_write(bytes) {
                Ok(written) => bytes = &bytes[written..],
                Err(error) if error.kind() == ErrorKind::WouldBlock => {}
                Err(error) => return Err(error),
            }
        }
        Ok(())
    }

    #[tokio::test]
    async fn refuses_a_loopback_server_unless_allowed() {
        let server = serve().await;
        let url = format!("http://{server}/data.csv");
        let error = fetcher(&[]).fetch(&url).await.unwrap_err();
        assert!(
            matches!(
                error,
                FetchError::AddressNotAllowed {
                    reason: "loopback",
                    ..
                }
            ),
            "{error}"
        );
        assert_eq!(fetcher(&["127.0.0.1/32"]).fetch(&url).await.unwrap(), CSV);
        assert_eq!(fetcher(&["127.0.0.0/8"]).fetch(&url).await.unwrap(), CSV);
        // By name: every address `localhost` resolves to must be allowed.
        let by_name = format!("http://localhost:{}/data.csv", server.port());
        let body = fetcher(&["127.0.0.1/32", "::1/128"])
            .fetch(&by_name)
            .await
            .unwrap();
        assert_eq!(body, CSV);
    }

    #[tokio::test]
    async fn connects_only_to_the_checked_addresses() {
        let server = serve().await;
        // The name never resolves: the answer proves no second lookup is made.
        let url = Url::parse(&format!(
            "http://patron-fetch-test.invalid:{}/data.csv",
            server.port()
        ))
        .unwrap();
        let fetcher = fetcher(&["127.0.0.1/32"]);
        let response = fetcher.get(&url, &[server]).await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(fetcher.read_body(&url, response).await.unwrap(), CSV);
    }

    #[tokio::test]
    async fn caps_the_body_size() {
        let server = serve().await;
        let fetcher = fetcher(&["127.0.0.1/32"]);
        let get = |path: &str| {
            let (fetcher, url) = (fetcher.clone(), format!("http://{server}{path}"));
            async move { fetcher.fetch(&url).await }
        };
        assert_eq!(get("/exact").await.unwrap().len(), 1000);
        assert_eq!(get("/small-stream").await.unwrap(), CSV);
        for path in ["/big", "/stream", "/chunked"] {
            let error = get(path).await.unwrap_err();
            assert!(
                matches!(error, FetchError::TooLarge(1000)),
                "{path}: {error}"
            );
            assert_eq!(error.to_string(), "the file is larger than 1000 bytes");
        }
    }

    #[tokio::test]
    async fn follows_redirects_and_checks_every_hop() {
        let server = serve().await;
        let fetcher = fetcher(&["127.0.0.1/32"]);
        let get = |path: &str| {
            let (fetcher, url) = (fetcher.clone(), format!("http://{server}{path}"));
            async move { fetcher.fetch(&url).await }
        };
        for path in ["/redirect", "/redirect-relative", "/redirect-absolute"] {
            assert_eq!(get(path).await.unwrap(), CSV, "{path}");
        }
        let error = get("/to-metadata").await.unwrap_err();
        assert_eq!(
            error.to_string(),
            "address 169.254.169.254 is not allowed (cloud metadata)"
        );
        let error = get("/to-private").await.unwrap_err();
        assert_eq!(
            error.to_string(),
            "address 10.0.0.1 is not allowed (private network)"
        );
        let error = get("/to-file").await.unwrap_err();
        assert!(matches!(error, FetchError::UnsupportedScheme(_)), "{error}");
        let error = get("/loop").await.unwrap_err();
        assert!(matches!(error, FetchError::TooManyRedirects(3)), "{error}");
        assert_eq!(error.to_string(), "more than 3 redirects");
        let error = get("/no-location").await.unwrap_err();
        assert!(matches!(error, FetchError::BadRedirect(_)), "{error}");
        let strict = Fetcher::new(&FetchSettings {
            max_redirects: 0,
            ..settings(&["127.0.0.1/32"])
        })
        .unwrap();
        let error = strict
            .fetch(&format!("http://{server}/redirect"))
            .await
            .unwrap_err();
        assert!(matches!(error, FetchError::TooManyRedirects(0)), "{error}");
    }

    #[tokio::test]
    async fn reports_an_error_status_without_the_body() {
        let server = serve().await;
        let error = fetcher(&["127.0.0.1/32"])
            .fetch(&format!("http://{server}/missing.csv"))
            .await
            .unwrap_err();
        assert!(matches!(error, FetchError::Status(StatusCode::NOT_FOUND)));
        assert_eq!(error.to_string(), "the server answered 404 Not Found");
        assert!(!format!("{error:?}").contains("secret internal body"));
    }

    #[tokio::test]
    async fn gives_up_on_a_silent_server() {
        let server = serve().await;
        let fetcher = Fetcher::new(&FetchSettings {
            timeout_secs: 1,
            ..settings(&["127.0.0.1/32"])
        })
        .unwrap();
        let started = Instant::now();
        let error = fetcher
            .fetch(&format!("http://{server}/silent"))
            .await
            .unwrap_err();
        assert!(matches!(error, FetchError::Timeout(1)), "{error}");
        assert!(started.elapsed() < Duration::from_secs(3));
    }

    #[tokio::test]
    async fn reports_a_refused_connection() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        drop(listener);
        let error = fetcher(&["127.0.0.1/32"])
            .fetch(&format!("http://{address}/a.csv"))
            .await
            .unwrap_err();
        assert!(matches!(error, FetchError::Connect { .. }), "{error}");
        assert_eq!(error.to_string(), "cannot connect to 127.0.0.1");
    }
}

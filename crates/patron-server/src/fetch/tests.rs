//! The fetcher against local servers: refused addresses, ports, redirects, sizes, time.

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
    let failure = FileSource::fetch(&fetcher, "http://93.184.216.34/list.csv")
        .await
        .unwrap_err();
    assert!(matches!(failure, FetchFailure::Busy), "{failure}");
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

#[tokio::test]
async fn refusals_reach_the_use_cases_as_the_requests_fault() {
    let failure = FileSource::fetch(&fetcher(&[]), "http://10.0.0.5/list.csv")
        .await
        .unwrap_err();
    assert!(matches!(failure, FetchFailure::Refused(_)), "{failure}");
    assert_eq!(
        failure.to_string(),
        "address 10.0.0.5 is not allowed (private network)"
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

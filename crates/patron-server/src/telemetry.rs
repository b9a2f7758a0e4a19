//! Logging and request ids: every response carries `x-request-id` (echoed when the client
//! sent a sane one), and error bodies repeat it.

use std::io::IsTerminal;

use axum::extract::Request;
use axum::http::{HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use rand::RngCore;
use tracing::Instrument;

/// The header carrying the request id.
pub static REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

tokio::task_local! {
    static CURRENT_REQUEST_ID: String;
}

/// The id of the request being handled on this task, if any.
pub fn current_request_id() -> Option<String> {
    CURRENT_REQUEST_ID.try_with(Clone::clone).ok()
}

/// Installs the global `tracing` subscriber with `filter` (e.g. `info`), writing `json`
/// lines or text to stderr. Safe to call more than once: later calls are ignored.
pub fn init(filter: &str, json: bool) {
    let ansi = !json && std::io::stderr().is_terminal();
    let _ =
        tracing::subscriber::set_global_default(subscriber(filter, json, ansi, std::io::stderr));
}

/// The subscriber [`init`] installs, writing to `writer`: in `json`, one object a line, and
/// every line logged inside a request carries the request span (its `id`, method and path).
fn subscriber<W>(
    filter: &str,
    json: bool,
    ansi: bool,
    writer: W,
) -> Box<dyn tracing::Subscriber + Send + Sync>
where
    W: for<'writer> tracing_subscriber::fmt::MakeWriter<'writer> + Send + Sync + 'static,
{
    let filter = tracing_subscriber::EnvFilter::try_new(filter)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer);
    if json {
        Box::new(
            builder
                .json()
                .with_current_span(true)
                .with_span_list(false)
                .finish(),
        )
    } else {
        Box::new(builder.with_ansi(ansi).finish())
    }
}

/// Middleware: picks the request id, runs the request with it in scope and in a span, and
/// sets it on the response. Only the method and the path are logged: never headers,
/// bodies or query strings, which may carry secrets.
pub async fn request_id(request: Request, next: Next) -> Response {
    let id = request
        .headers()
        .get(&REQUEST_ID)
        .and_then(|value| value.to_str().ok())
        .filter(|value| {
            !value.is_empty() && value.len() <= 128 && value.bytes().all(|b| b.is_ascii_graphic())
        })
        .map_or_else(new_request_id, str::to_owned);
    let span = tracing::info_span!("request", id = %id, method = %request.method(), path = %request.uri().path());
    let mut response = CURRENT_REQUEST_ID
        .scope(id.clone(), next.run(request).instrument(span.clone()))
        .await;
    span.in_scope(|| tracing::info!(status = response.status().as_u16(), "handled"));
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(REQUEST_ID.clone(), value);
    }
    response
}

fn new_request_id() -> String {
    let mut bytes = [0u8; 16];
    rand::thread_rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::subscriber;

    /// A writer into a shared buffer.
    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Captured {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0
                .lock()
                .map_err(|_| std::io::Error::other("poisoned"))?
                .extend_from_slice(bytes);
            Ok(bytes.len())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn json_lines_inside_a_request_carry_its_id() {
        let captured = Captured::default();
        let writer = captured.clone();
        let logger = subscriber("info", true, false, move || writer.clone());
        tracing::subscriber::with_default(logger, || {
            let span = tracing::info_span!("request", id = "4f2a", method = "GET", path = "/x");
            span.in_scope(|| {
                tracing::info!(status = 200, "handled");
                tracing::warn!("something inside the handler");
            });
            tracing::info!("outside any request");
        });
        let text = String::from_utf8(captured.0.lock().map(|b| b.clone()).unwrap_or_default())
            .unwrap_or_default();
        let lines: Vec<serde_json::Value> = text
            .lines()
            .map(|line| serde_json::from_str(line).unwrap_or_default())
            .collect();
        assert_eq!(lines.len(), 3, "{text}");
        for line in &lines[..2] {
            assert_eq!(line["span"]["id"], "4f2a", "{line}");
            assert_eq!(line["span"]["name"], "request");
        }
        assert_eq!(lines[0]["fields"]["status"], 200);
        assert!(lines[2].get("span").is_none(), "{}", lines[2]);
    }
}

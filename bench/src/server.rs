//! The `patron` binary under test: its admin commands, and `patron serve` as a child
//! process that is stopped with SIGTERM.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::BenchResult;

/// Environment given to every `patron` process: quiet logs (without sqlx's per-statement
/// "slow statement" warnings, which the latency table already shows), and access tokens
/// that outlive a long benchmark.
const PATRON_ENV: [(&str, &str); 3] = [
    ("PATRON_LOG", "warn,sqlx::query=error"),
    ("RUST_LOG", "warn,sqlx::query=error"),
    ("PATRON_ACCESS_TOKEN_TTL_SECS", "86400"),
];

/// The company every benchmark application and client belongs to.
pub const COMPANY: &str = "559";

/// Where the `patron` executable is.
#[derive(Debug)]
pub struct PatronBin {
    /// Path of the executable.
    pub path: PathBuf,
    /// Extra environment for every command and `patron serve` (e.g. `PATRON_COOKIE_SECURE`).
    pub env: Vec<(String, String)>,
}

/// `patron app create --json` output.
#[derive(Debug)]
pub struct CreatedApp {
    /// The new application's id.
    pub application_id: String,
    /// The storefront application token (shown once).
    pub application_token: String,
}

/// `patron client create --json` output.
#[derive(Debug)]
pub struct CreatedClient {
    /// OAuth client id.
    pub client_id: String,
    /// OAuth client secret.
    pub client_secret: String,
}

impl PatronBin {
    /// Uses `explicit`, or `patron` beside this executable (both live in `target/release`).
    pub fn locate(explicit: Option<PathBuf>) -> BenchResult<Self> {
        let path = match explicit {
            Some(path) => path,
            None => std::env::current_exe()?
                .parent()
                .ok_or("the benchmark executable has no parent directory")?
                .join("patron"),
        };
        if !path.is_file() {
            return Err(format!(
                "patron binary not found at {} (build it with `cargo build --release -p patron` or pass --patron-bin)",
                path.display()
            )
            .into());
        }
        // One explicit key for the run, as a PostgreSQL deployment must have.
        let key = patron_service::secrets::SecretBox::generate_key();
        Ok(Self {
            path,
            env: vec![("PATRON_SECRET_KEY".to_owned(), key)],
        })
    }

    /// A `patron` command on database `url`.
    fn command(&self, url: &str) -> Command {
        let mut command = Command::new(&self.path);
        command
            .arg("--database")
            .arg(url)
            .envs(PATRON_ENV)
            .envs(self.env.iter().map(|(name, value)| (name, value)))
            .env_remove("PATRON_DATABASE_URL");
        command
    }

    /// Runs `patron --database url <args>` and returns its stdout.
    fn run(&self, url: &str, args: &[&str]) -> BenchResult<String> {
        let output = self.command(url).args(args).stdin(Stdio::null()).output()?;
        if !output.status.success() {
            return Err(format!(
                "patron {} failed: {}",
                args.join(" "),
                String::from_utf8_lossy(&output.stderr).trim()
            )
            .into());
        }
        Ok(String::from_utf8(output.stdout)?)
    }

    /// `patron migrate`.
    pub fn migrate(&self, url: &str) -> BenchResult<()> {
        self.run(url, &["migrate"]).map(|_| ())
    }

    /// `patron app create` for company 559.
    pub fn create_app(&self, url: &str) -> BenchResult<CreatedApp> {
        let out = self.run(
            url,
            &[
                "app",
                "create",
                "--company",
                COMPANY,
                "--name",
                "Bench",
                "--json",
            ],
        )?;
        let json: Value = serde_json::from_str(out.trim())?;
        Ok(CreatedApp {
            application_id: string_field(&json, "application_id")?,
            application_token: string_field(&json, "application_token")?,
        })
    }

    /// `patron client create` with customer read and write scopes.
    pub fn create_client(&self, url: &str) -> BenchResult<CreatedClient> {
        self.create_client_with_scopes(
            url,
            "application/customers/read,application/customers/write",
        )
    }

    /// `patron client create` with the comma-separated `scopes`.
    pub fn create_client_with_scopes(&self, url: &str, scopes: &str) -> BenchResult<CreatedClient> {
        let out = self.run(
            url,
            &[
                "client",
                "create",
                "--company",
                COMPANY,
                "--scopes",
                scopes,
                "--json",
            ],
        )?;
        let json: Value = serde_json::from_str(out.trim())?;
        Ok(CreatedClient {
            client_id: string_field(&json, "client_id")?,
            client_secret: string_field(&json, "client_secret")?,
        })
    }
}

/// The string field `name` of a JSON object.
fn string_field(json: &Value, name: &str) -> BenchResult<String> {
    json.get(name)
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| format!("patron printed no '{name}': {json}").into())
}

/// A running `patron serve`.
#[derive(Debug)]
pub struct Server {
    child: Child,
    /// `http://127.0.0.1:<port>`.
    pub base_url: String,
}

impl Server {
    /// The server's process id (for its CPU time in `/proc`).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Starts `patron serve --listen 127.0.0.1:0` on `url` and waits for its
    /// `listening on …` line.
    pub fn start(patron: &PatronBin, url: &str) -> BenchResult<Self> {
        let mut child = patron
            .command(url)
            .args(["serve", "--listen", "127.0.0.1:0"])
            .env("PATRON_METRICS_LISTEN", "127.0.0.1:0")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()?;
        let Some(stdout) = child.stdout.take() else {
            let _ = child.kill();
            return Err("patron serve has no stdout".into());
        };
        let mut reader = BufReader::new(stdout);
        let mut line = String::new();
        let read = reader.read_line(&mut line);
        let base_url = match (read, line.trim().strip_prefix("listening on ")) {
            (Ok(_), Some(address)) => {
                // Keep reading whatever else the server prints, so it never writes to a
                // closed or full pipe.
                std::thread::spawn(move || std::io::copy(&mut reader, &mut std::io::sink()));
                address.to_owned()
            }
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(
                    format!("patron serve did not start (printed {:?})", line.trim()).into(),
                );
            }
        };
        Ok(Self { child, base_url })
    }

    /// Sends SIGTERM, waits up to 10 s for a graceful exit, then kills.
    pub async fn stop(mut self) {
        let pid = self.child.id().to_string();
        let signalled = Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .is_ok_and(|status| status.success());
        if signalled {
            let deadline = Instant::now() + Duration::from_secs(10);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = self.child.try_wait() {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

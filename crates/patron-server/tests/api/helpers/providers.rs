//! Local stand-ins for the social sign-in providers: a JWKS endpoint with the tests' own
//! RSA keys (Google and Apple) and a Graph API stub (Facebook), and the calls that sign in
//! through them.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::sync::OnceLock;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use patron_service::Clock;
use reqwest::Method;
use rsa::pkcs1::EncodeRsaPrivateKey;
use rsa::traits::PublicKeyParts;
use rsa::RsaPrivateKey;
use serde_json::{json, Value};

use super::{Answer, TestApp};

/// The test providers: their keys, and the base URL of the stub serving them.
pub struct Providers {
    /// The key the stub publishes (as `test-key`).
    pub signing: EncodingKey,
    /// A key the stub does not know, for forged tokens.
    pub forger: EncodingKey,
    /// `http://127.0.0.1:<port>`.
    pub base: String,
}

/// Starts (once per test binary) the stub: `/jwks` (the signing key as `test-key`), and
/// the Graph API's `/graph/debug_token` and `/graph/me` (the token `fb-good` is valid for
/// the app `fb-app` and the user `fb-user`).
pub fn providers() -> &'static Providers {
    static PROVIDERS: OnceLock<Providers> = OnceLock::new();
    PROVIDERS.get_or_init(|| {
        let mut rng = rand::thread_rng();
        let signing = RsaPrivateKey::new(&mut rng, 2048).unwrap();
        let forger = RsaPrivateKey::new(&mut rng, 2048).unwrap();
        let jwks = json!({"keys": [{
            "kty": "RSA", "kid": "test-key", "alg": "RS256", "use": "sig",
            "n": URL_SAFE_NO_PAD.encode(signing.n().to_bytes_be()),
            "e": URL_SAFE_NO_PAD.encode(signing.e().to_bytes_be()),
        }]})
        .to_string();
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let jwks = jwks.clone();
                std::thread::spawn(move || answer_provider_call(stream, &jwks));
            }
        });
        let der =
            |key: &RsaPrivateKey| EncodingKey::from_rsa_der(key.to_pkcs1_der().unwrap().as_bytes());
        Providers {
            signing: der(&signing),
            forger: der(&forger),
            base,
        }
    })
}

/// Answers one call to the stub. Graph API tokens pick a failure: `fb-500` a server error,
/// `fb-garbage` a body that is no JSON, `fb-reset` a connection closed without an answer,
/// `fb-hang` no answer at all.
fn answer_provider_call(stream: std::net::TcpStream, jwks: &str) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut request_line = String::new();
    if reader.read_line(&mut request_line).is_err() {
        return;
    }
    let mut line = String::new();
    while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
        line.clear();
    }
    let path = request_line.split_whitespace().nth(1).unwrap_or("/");
    let mut status = "200 OK";
    let body = if path.starts_with("/jwks") {
        jwks.to_owned()
    } else if path.contains("token=fb-reset") {
        return;
    } else if path.contains("token=fb-hang") {
        // No answer: wait until the client gives up and closes the connection.
        let _ = std::io::Read::read_to_end(&mut reader, &mut Vec::new());
        return;
    } else if path.contains("token=fb-500") {
        status = "500 Internal Server Error";
        "{}".to_owned()
    } else if path.contains("token=fb-garbage") {
        "<html>not json</html>".to_owned()
    } else if path.starts_with("/graph/debug_token") {
        let valid = path.contains("input_token=fb-good")
            && path.contains("access_token=fb-app%7Cfb-secret");
        json!({"data": {"is_valid": valid, "app_id": "fb-app", "user_id": "fb-user"}}).to_string()
    } else if path.starts_with("/graph/me") {
        json!({"id": "fb-user", "email": "fia@example.com", "first_name": "Fia"}).to_string()
    } else {
        "{}".to_owned()
    };
    let mut stream = stream;
    let _ = write!(
        stream,
        "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncache-control: public, max-age=3600\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
}

impl TestApp {
    /// Turns the three providers on with the tests' client ids and Facebook secret (and
    /// makes a mobile optional, so a social sign-up completes with names alone).
    pub async fn enable_social(&self) {
        self.configure(json!({
            "required_fields": {"mobile": {"is_required": false}},
            "social": {"google": true, "apple": true, "facebook": true},
            "social_tokens": {
                "google": {"app_id": "google-client"},
                "apple": {"app_id": "apple-client"},
                "facebook": {"app_id": "fb-app", "app_secret": "fb-secret"}
            }
        }))
        .await;
    }

    /// An ID token signed by the test key (or the forger's), with `claims` over defaults
    /// valid for Google now.
    pub fn id_token(&self, claims: Value, forged: bool) -> String {
        let now = self.clock.now().timestamp();
        let mut all = json!({"iss": "https://accounts.google.com", "aud": "google-client",
            "sub": "g-1", "iat": now, "exp": now + 3600, "email": "gia@example.com",
            "email_verified": true, "given_name": "Gia"});
        for (key, value) in claims.as_object().unwrap() {
            all[key] = value.clone();
        }
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some("test-key".to_owned());
        let providers = providers();
        let key = if forged {
            &providers.forger
        } else {
            &providers.signing
        };
        jsonwebtoken::encode(&header, &all, key).unwrap()
    }

    /// Signs in with a Facebook access token.
    pub async fn facebook(&self, token: &str) -> Answer {
        self.shop(
            Method::POST,
            "/authentication/v1.0/login/facebook-token",
            Some(json!({"oauth2": {"access_token": token}, "profile": {"id": "fb-user"}})),
            None,
        )
        .await
    }

    /// Signs in with a Google ID token.
    pub async fn google(&self, token: &str) -> Answer {
        self.shop(
            Method::POST,
            "/authentication/v1.0/login/google-token",
            Some(json!({"is_signed_in": true, "oauth2": {"access_token": token}, "profile": {}})),
            None,
        )
        .await
    }
}

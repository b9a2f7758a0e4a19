//! The storefront API as a shopper's browser calls it: requests authenticated as the
//! application, with or without a session, and the registrations, sign-ins and account
//! requests tests build on.

use reqwest::{Method, RequestBuilder, StatusCode};
use serde_json::{json, Value};

use super::{execute_sql, read, text_rows, TestApp};

/// The password every registration helper gives the shopper.
pub const PASSWORD: &str = "Sup3r-secret";

/// An answer from the storefront API: status, body and the session token it set, if any.
pub struct Answer {
    pub status: StatusCode,
    pub body: Value,
    pub token: Option<String>,
    /// The `Retry-After` header, in seconds.
    pub retry_after: Option<u64>,
}

// Requests.
impl TestApp {
    /// A storefront request authenticated as this app's application.
    pub fn storefront(&self, method: Method, path: &str) -> RequestBuilder {
        use base64::Engine;
        let credentials = base64::engine::general_purpose::STANDARD.encode(format!(
            "{}:{}",
            self.application_id, self.application_token
        ));
        self.http
            .request(
                method,
                format!("{}/service/application/user{path}", self.base),
            )
            .bearer_auth(credentials)
    }

    /// Sends a storefront request with an optional JSON body and session token.
    pub async fn shop(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
        token: Option<&str>,
    ) -> Answer {
        let mut request = self.storefront(method, path);
        if let Some(body) = body {
            request = request.json(&body);
        }
        if let Some(token) = token {
            request = request.header("cookie", format!("f.session={token}"));
        }
        let response = request.send().await.unwrap();
        let token = response
            .headers()
            .get("set-cookie")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("f.session="))
            .map(|v| v.split(';').next().unwrap_or_default().to_owned())
            .filter(|v| !v.is_empty());
        let retry_after = response
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse().ok());
        let (status, body) = read(response).await;
        Answer {
            status,
            body,
            token,
            retry_after,
        }
    }

    /// Posts a storefront JSON body, optionally with a session.
    pub async fn post(&self, path: &str, body: Value, token: Option<&str>) -> Answer {
        self.shop(Method::POST, path, Some(body), token).await
    }

    /// Sends a storefront request in the session `token`.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
        token: &str,
    ) -> Answer {
        self.shop(method, path, body, Some(token)).await
    }

    /// `getLoggedInUser` with a session token: status, body and any `Set-Cookie`.
    pub async fn whoami(&self, token: &str) -> (StatusCode, Value, Option<String>) {
        let response = self
            .storefront(Method::GET, "/authentication/v1.0/session")
            .header("cookie", format!("other=1; f.session={token}"))
            .send()
            .await
            .unwrap();
        let cookie = response
            .headers()
            .get("set-cookie")
            .map(|v| v.to_str().unwrap().to_owned());
        let (status, body) = read(response).await;
        (status, body, cookie)
    }
}

// Registration, sign-in and the account.
impl TestApp {
    /// Registers a customer with a password (mobile verification relaxed); returns the answer.
    pub async fn register(&self, email: &str, mobile: &str) -> Answer {
        self.configure(json!({"register_required_fields": {"mobile": {"level": "soft"}}}))
            .await;
        let body = json!({"first_name": "Asha", "email": email, "password": PASSWORD, "phone": {"country_code": "91", "mobile": mobile}, "consent": true, "register_token": ""});
        self.shop(
            Method::POST,
            "/authentication/v1.0/register/form",
            Some(body),
            None,
        )
        .await
    }

    /// Registers as [`TestApp::register`] does, then has the shopper prove every contact
    /// (as a code or a link would): resets go only through proven contacts.
    pub async fn register_proven(&self, email: &str, mobile: &str) -> Answer {
        let answer = self.register(email, mobile).await;
        execute_sql(self, "UPDATE customer_emails SET verified = TRUE").await;
        execute_sql(self, "UPDATE customer_phones SET verified = TRUE").await;
        answer
    }

    /// Signs in with a username and password.
    pub async fn login(&self, username: &str, password: &str) -> Answer {
        self.shop(
            Method::POST,
            "/authentication/v1.0/login/password",
            Some(json!({"username": username, "password": password})),
            None,
        )
        .await
    }

    /// A storefront session of a registered customer, to reach the signed-in routes.
    pub async fn sweep_session(&self) -> String {
        self.register("sweep@example.com", "9876500000").await;
        self.login("sweep@example.com", PASSWORD)
            .await
            .token
            .unwrap()
    }

    /// Asks for a password reset link for `email`.
    pub async fn ask_reset(&self, email: &str) -> Answer {
        self.shop(
            Method::POST,
            "/authentication/v1.0/login/password/reset",
            Some(json!({"email": email})),
            None,
        )
        .await
    }

    /// Asks to delete the account of the session `token` with `body` (its proof).
    pub async fn delete_account(&self, token: &str, body: Value) -> Answer {
        self.shop(
            Method::POST,
            "/authentication/v1.0/delete",
            Some(body),
            Some(token),
        )
        .await
    }
}

// A stranger who registers with someone else's contacts, never proving them.
impl TestApp {
    /// The stranger's move: registers with `email` and `mobile` (neither proven) and a
    /// password; returns the session and the customer id.
    pub async fn pre_claim(&self, email: &str, mobile: &str) -> (String, String) {
        let registered = self.register(email, mobile).await;
        assert_eq!(registered.status, StatusCode::OK, "{}", registered.body);
        let session = registered.token.expect("the stranger is signed in");
        let (status, me, _) = self.whoami(&session).await;
        assert_eq!(status, StatusCode::OK, "{me}");
        (session, me["user"]["_id"].as_str().unwrap().to_owned())
    }

    /// Completes a sign-up that a proof started, with a first name and the fields of
    /// `more`; returns the answer.
    pub async fn complete_sign_up(&self, started: &Answer, more: Value) -> Answer {
        assert_eq!(started.status, StatusCode::OK, "{}", started.body);
        assert_eq!(
            started.body["user_exists"], false,
            "the prover is not signed in to the account holding the contact unproven: {}",
            started.body
        );
        assert!(
            started.token.is_none(),
            "no session for the stranger's account"
        );
        let mut body =
            json!({"first_name": "Olga", "register_token": started.body["register_token"]});
        for (key, value) in more.as_object().unwrap() {
            body[key] = value.clone();
        }
        let completed = self.post("/profile/v1.0/detail", body, None).await;
        assert_eq!(completed.status, StatusCode::OK, "{}", completed.body);
        completed
    }

    /// What the stranger's session sees of their account now.
    pub async fn stranger_sees(&self, session: &str) -> Value {
        let (status, me, _) = self.whoami(session).await;
        assert_eq!(status, StatusCode::OK, "{me}");
        me["user"].clone()
    }

    /// The stranger's account lost the contact: audited as a release, announced as an
    /// update.
    pub async fn assert_released(&self, stranger_id: &str) {
        let actions = text_rows(
            self,
            &format!("SELECT action FROM audit_events WHERE customer_id = '{stranger_id}'"),
        )
        .await;
        assert!(
            actions.iter().any(|a| a == "contact_release"),
            "{actions:?}"
        );
        let events = text_rows(
            self,
            &format!(
                "SELECT type FROM lifecycle_events WHERE customer_id = '{stranger_id}' AND \
                 action = 'contact_release'"
            ),
        )
        .await;
        assert_eq!(events, ["customer.updated"]);
    }
}

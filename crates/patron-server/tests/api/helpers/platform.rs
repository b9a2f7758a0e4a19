//! The platform API as the operator's clients call it: tokens, requests as the read+write
//! client, customers, admin sessions, configuration, attributes and jobs.

use reqwest::{Method, RequestBuilder, StatusCode};
use serde_json::{json, Value};

use super::{read, TestApp, COMPANY};

// Tokens and requests.
impl TestApp {
    /// POSTs a form to the token endpoint with HTTP Basic credentials.
    pub async fn token(&self, id: &str, secret: &str, form: &str) -> (StatusCode, Value) {
        let response = self
            .http
            .post(format!(
                "{}/service/panel/authentication/v1.0/company/{COMPANY}/oauth/token",
                self.base
            ))
            .basic_auth(id, Some(secret))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form.to_owned())
            .send()
            .await
            .unwrap();
        read(response).await
    }

    /// A fresh access token for the read+write client (after moving the clock past the
    /// old one's expiry).
    pub async fn renew_writer_token(&mut self) {
        let (status, body) = self
            .token(
                &self.writer.id,
                &self.writer.secret,
                "grant_type=client_credentials",
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        self.writer.token = body["access_token"].as_str().unwrap().to_owned();
    }

    /// The platform path prefix for this app's application.
    pub fn platform(&self, path: &str) -> String {
        format!(
            "{}/service/platform/user/v1.0/company/{COMPANY}/application/{}{path}",
            self.base, self.application_id
        )
    }

    /// A request as the read+write client.
    pub fn request(&self, method: Method, path: &str) -> RequestBuilder {
        self.http
            .request(method, self.platform(path))
            .bearer_auth(&self.writer.token)
    }

    /// Sends a request as the writer with a JSON body and reads the answer.
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut request = self.request(method, path);
        if let Some(body) = body {
            request = request.json(&body);
        }
        read(request.send().await.unwrap()).await
    }
}

// Customers, their sessions and the application's configuration.
impl TestApp {
    /// Creates a customer and returns its id.
    pub async fn create_customer(&self, email: &str, phone: &str) -> String {
        let (status, body) = self
            .send(
                Method::POST,
                "/customers",
                Some(serde_json::json!({ "email": email, "phone_number": phone })),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body["user"]["_id"].as_str().unwrap().to_owned()
    }

    /// Lists customers with extra query pairs; returns (status, body).
    pub async fn list(&self, query: &[(&str, &str)]) -> (StatusCode, Value) {
        read(
            self.request(Method::GET, "/customers/list")
                .query(query)
                .send()
                .await
                .unwrap(),
        )
        .await
    }

    /// Mints a session for `user_id` through the platform API; returns its cookie token.
    pub async fn admin_session(&self, user_id: &str, max_age: Option<i64>) -> String {
        let mut body = json!({"domain": "shop.example.com", "user_id": user_id});
        if let Some(max_age) = max_age {
            body["max_age"] = json!(max_age);
        }
        let (status, answer) = self
            .send(Method::POST, "/customers/session", Some(body))
            .await;
        assert_eq!(status, StatusCode::OK, "{answer}");
        answer["cookie"]["f.session"].as_str().unwrap().to_owned()
    }

    /// A session an administrator mints for customer `id`: (id, token).
    pub async fn customer_session(&self, id: &str) -> (String, String) {
        (id.to_owned(), self.admin_session(id, None).await)
    }

    /// An administrator-created customer (verified contacts) and a session of theirs.
    pub async fn customer_with_session(&self, email: &str, phone: &str) -> (String, String) {
        let id = self.create_customer(email, phone).await;
        self.customer_session(&id).await
    }

    /// Saves a configuration update, asserting success.
    pub async fn configure(&self, update: Value) {
        let (status, body) = self
            .send(Method::POST, "/platform/config", Some(update))
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
}

// Jobs: imports, and running what waits.
impl TestApp {
    /// Runs every waiting job to its end.
    pub async fn run_jobs(&self) {
        while self
            .state
            .services
            .jobs
            .run_next("runner", None)
            .await
            .unwrap()
        {}
    }

    /// Submits an import of the file at `url`; returns the job.
    pub async fn import_file(&self, url: &str, format: &str) -> (StatusCode, Value) {
        self.send(
            Method::POST,
            "/users/jobs/import",
            Some(json!({"absolute_url": url, "file_format": format, "relative_url": "/files/customers.csv"})),
        )
        .await
    }

    /// Reads job `id`.
    pub async fn job(&self, id: &Value) -> Value {
        let (status, job) = self
            .send(
                Method::GET,
                &format!("/users/jobs/{}", id.as_str().unwrap()),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{job}");
        job
    }
}

/// Creates a definition and returns its body.
pub async fn define(app: &TestApp, body: Value) -> Value {
    let (status, created) = app
        .send(Method::POST, "/user_attribute/definition", Some(body))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    created
}

/// Sets a customer's value; returns (status, body).
pub async fn set_value(
    app: &TestApp,
    definition: &Value,
    user: &str,
    value: Value,
) -> (StatusCode, Value) {
    let path = format!(
        "/user_attribute/definition/{}/user/{user}",
        definition["_id"].as_str().unwrap()
    );
    app.send(
        Method::PUT,
        &path,
        Some(json!({"attribute": {"value": value}})),
    )
    .await
}

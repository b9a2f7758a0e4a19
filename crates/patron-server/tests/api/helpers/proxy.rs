//! Storefront requests a trusted proxy forwards for many client addresses, with the
//! cookies they send and set: how tests play a flood, a stranger and a returning shopper.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use super::{each_app_with, read, TestApp, PASSWORD};

/// [`each_app`] behind a trusted proxy at 127.0.0.1, so tests speak from many addresses
/// with `X-Forwarded-For`.
pub async fn each_proxied_app<F, Fut>(test: F)
where
    F: Fn(TestApp) -> Fut,
    Fut: std::future::Future<Output = TestApp>,
{
    each_app_with(
        |config| config.trusted_proxies = vec!["127.0.0.1".to_owned()],
        test,
    )
    .await;
}

/// What a storefront POST came back with, Set-Cookie headers included.
pub struct Raw {
    pub status: StatusCode,
    pub body: Value,
    pub set_cookies: Vec<String>,
}

impl Raw {
    /// The value of the cookie `name` this answer sets, if any.
    pub fn cookie(&self, name: &str) -> Option<String> {
        self.set_cookies.iter().find_map(|c| {
            c.strip_prefix(&format!("{name}="))
                .map(|rest| rest.split(';').next().unwrap_or_default().to_owned())
        })
    }
}

// Forwarded requests.
impl TestApp {
    /// A storefront POST forwarded for `client` with the given cookies.
    pub async fn raw(
        &self,
        client: &str,
        path: &str,
        body: Value,
        cookies: &[(&str, &str)],
    ) -> Raw {
        let mut request = self
            .storefront(Method::POST, path)
            .header("x-forwarded-for", client)
            .json(&body);
        if !cookies.is_empty() {
            let header: Vec<String> = cookies.iter().map(|(k, v)| format!("{k}={v}")).collect();
            request = request.header("cookie", header.join("; "));
        }
        let response = request.send().await.unwrap();
        let set_cookies = response
            .headers()
            .get_all("set-cookie")
            .iter()
            .map(|v| v.to_str().unwrap().to_owned())
            .collect();
        let (status, body) = read(response).await;
        Raw {
            status,
            body,
            set_cookies,
        }
    }

    /// A storefront POST that a trusted proxy forwards for `client`.
    pub async fn from(&self, client: &str, path: &str, body: Value) -> (StatusCode, Value) {
        let answer = self.raw(client, path, body, &[]).await;
        (answer.status, answer.body)
    }

    /// Signs the shopper in with their password from `client`; returns the answer.
    pub async fn password_sign_in(&self, client: &str, device: Option<&str>) -> Raw {
        let cookies: Vec<(&str, &str)> = device.map(|d| ("patron_device", d)).into_iter().collect();
        self.raw(
            client,
            "/authentication/v1.0/login/password",
            json!({"username": "asha@example.com", "password": PASSWORD}),
            &cookies,
        )
        .await
    }

    /// Asks for a sign-in code to `mobile` from `client`, with a device cookie or none.
    pub async fn code_request(&self, client: &str, mobile: &str, device: Option<&str>) -> Raw {
        let cookies: Vec<(&str, &str)> = device.map(|d| ("patron_device", d)).into_iter().collect();
        self.raw(
            client,
            "/authentication/v1.0/login/otp",
            json!({"mobile": mobile, "country_code": "91"}),
            &cookies,
        )
        .await
    }
}

// Codes to 9876543210 and the shopper who holds it.
impl TestApp {
    /// Asks for a sign-in code to 9876543210 from `client`; returns the request id and the
    /// code.
    pub async fn fresh_code(&self, client: &str) -> (String, String) {
        let sent = self
            .from(
                client,
                "/authentication/v1.0/login/otp",
                json!({"mobile": "9876543210", "country_code": "91"}),
            )
            .await;
        assert_eq!(sent.0, StatusCode::OK, "{}", sent.1);
        let (code, _) = self.code_sent_to("+919876543210").await;
        (sent.1["request_id"].as_str().unwrap().to_owned(), code)
    }

    /// Answers a code from `client`; returns the status and the error code, if any.
    pub async fn answer_from(
        &self,
        client: &str,
        request_id: &str,
        otp: &str,
    ) -> (StatusCode, String) {
        let (status, body) = self
            .from(
                client,
                "/authentication/v1.0/otp/mobile/verify",
                json!({"request_id": request_id, "otp": otp}),
            )
            .await;
        (status, body["code"].as_str().unwrap_or_default().to_owned())
    }

    /// Strangers from ever new networks answer fresh codes to 9876543210 wrong, five a
    /// code, until `from` wrong answers so far become `to`; each is heard (`INVALID_OTP`).
    pub async fn answer_wrong_until(&self, from: u32, to: u32) {
        let mut wrong_in_all = from;
        let mut network = 0;
        while wrong_in_all < to {
            network += 1;
            let client = format!("198.51.100.{network}");
            let (request_id, code) = self.fresh_code(&client).await;
            for _ in 0..5 {
                if wrong_in_all == to {
                    break;
                }
                let wrong = self
                    .answer_from(&client, &request_id, &TestApp::wrong(&code))
                    .await;
                assert_eq!(wrong.1, "INVALID_OTP", "wrong answer {wrong_in_all}");
                wrong_in_all += 1;
            }
        }
    }

    /// A shopper with proven contacts (asha@example.com, 9876543210) signed in by
    /// password; returns their device cookie.
    pub async fn returning_shopper(&self) -> String {
        self.register_proven("asha@example.com", "9876543210").await;
        self.password_sign_in("203.0.113.1", None)
            .await
            .cookie("patron_device")
            .unwrap()
    }
}

//! Messages the service sends (the outbox) and the one-time codes they carry: reading
//! them, and asking for and answering codes.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use super::{Answer, TestApp};

// The outbox.
impl TestApp {
    /// The newest `limit` outbox messages, opened (as `patron outbox list --reveal` shows them).
    pub async fn outbox(
        &self,
        limit: usize,
    ) -> Result<Vec<patron_store::OutboxMessage>, patron_service::ServiceError> {
        self.state.services.notifications.list(limit, true).await
    }

    /// The code (`data.otp`) of the newest message to `to`, and how many messages `to` got.
    pub async fn code_sent_to(&self, to: &str) -> (String, usize) {
        let messages: Vec<_> = self
            .outbox(1000)
            .await
            .unwrap()
            .into_iter()
            .filter(|m| m.message.to == to)
            .collect();
        let newest = messages
            .first()
            .unwrap_or_else(|| panic!("no message to {to}"));
        let code = newest.message.data["otp"].as_str().unwrap().to_owned();
        assert!(
            newest.message.text.contains(&code),
            "{}",
            newest.message.text
        );
        (code, messages.len())
    }

    /// How many messages went to `to`.
    pub async fn messages_to(&self, to: &str) -> usize {
        self.outbox(1000)
            .await
            .unwrap()
            .iter()
            .filter(|m| m.message.to == to)
            .count()
    }

    /// The newest message to `to`: its `data`.
    pub async fn data_sent_to(&self, to: &str) -> Value {
        let messages = self.outbox(1000).await.unwrap();
        let message = messages
            .iter()
            .find(|m| m.message.to == to)
            .unwrap_or_else(|| panic!("no message to {to}"));
        Value::Object(message.message.data.clone())
    }

    /// The reset code of the newest message in the outbox.
    pub async fn latest_reset_code(&self) -> String {
        let messages = self.outbox(1).await.unwrap();
        let message = &messages[0].message;
        assert_eq!(message.template, "reset_password");
        message.data["code"].as_str().unwrap().to_owned()
    }
}

// Codes.
impl TestApp {
    /// Asks for a sign-in code to the Indian mobile `mobile`.
    pub async fn login_code(&self, mobile: &str) -> Answer {
        self.post(
            "/authentication/v1.0/login/otp",
            json!({"mobile": mobile, "country_code": "91"}),
            None,
        )
        .await
    }

    /// Answers the code challenge `request_id` with `otp`, optionally in a session.
    pub async fn verify_mobile(&self, request_id: &str, otp: &str, token: Option<&str>) -> Answer {
        self.post(
            "/authentication/v1.0/otp/mobile/verify",
            json!({"request_id": request_id, "otp": otp}),
            token,
        )
        .await
    }

    /// Sends a code to the shopper's own number; returns its request_id and the code.
    pub async fn code_to_own_number(&self, token: &str, mobile: &str) -> (String, String) {
        let sent = self
            .shop(
                Method::POST,
                "/authentication/v1.0/otp/mobile/send",
                Some(json!({"mobile": mobile, "country_code": "91", "action": "send"})),
                Some(token),
            )
            .await;
        assert_eq!(sent.status, StatusCode::OK, "{}", sent.body);
        let messages = self.outbox(1).await.unwrap();
        (
            sent.body["request_id"].as_str().unwrap().to_owned(),
            messages[0].message.data["otp"].as_str().unwrap().to_owned(),
        )
    }

    /// A wrong code for `code`: same length, another value.
    pub fn wrong(code: &str) -> String {
        code.chars()
            .map(|c| if c == '9' { '0' } else { '9' })
            .collect()
    }
}

//! Messages to customers (reset links now, OTPs next): which template, and how a template
//! becomes a subject and a text. Delivery happens elsewhere, from a persisted outbox.

use serde_json::{Map, Value};

/// How a message travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channel {
    /// An email address.
    Email,
    /// A phone number (text message).
    Sms,
}

impl Channel {
    /// The channel's name in storage and on the wire.
    pub fn as_str(&self) -> &'static str {
        match self {
            Channel::Email => "email",
            Channel::Sms => "sms",
        }
    }

    /// Parses a stored channel name.
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "email" => Some(Channel::Email),
            "sms" => Some(Channel::Sms),
            _ => None,
        }
    }
}

/// A message ready to enqueue.
#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    /// Delivery channel.
    pub channel: Channel,
    /// Recipient address or number.
    pub to: String,
    /// Template name, e.g. `reset_password`.
    pub template: String,
    /// Rendered subject (emails).
    pub subject: String,
    /// Rendered text.
    pub text: String,
    /// The values the template was rendered with.
    pub data: Map<String, Value>,
}

/// Attempts after which a message is given up.
pub const MAX_ATTEMPTS: u32 = 8;

/// How long to wait before retrying after the `attempt`-th failure (1-based): 5 s doubling
/// each time, capped at one hour; `None` once [`MAX_ATTEMPTS`] is reached.
pub fn retry_delay(attempt: u32) -> Option<chrono::Duration> {
    if attempt >= MAX_ATTEMPTS {
        return None;
    }
    let seconds = 5_i64.saturating_mul(1_i64 << attempt.saturating_sub(1).min(20));
    Some(chrono::Duration::seconds(seconds.min(3600)))
}

/// A template: subject and text with `{{name}}` placeholders.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    /// Subject line.
    pub subject: String,
    /// Body text.
    pub text: String,
}

/// The built-in template called `name`, used when the application overrides none.
pub fn default_template(name: &str) -> Option<Template> {
    let (subject, text) = match name {
        "reset_password" => (
            "Reset your password",
            "Hello {{first_name}},\n\nUse this link to choose a new password: {{link}}\n\n\
             It works once and expires in {{minutes}} minutes. If you did not ask for it, ignore this message.",
        ),
        "otp_sms" => (
            "",
            "{{otp}} is your {{application}} code. It expires in {{minutes}} minutes. Never share it.",
        ),
        "otp_email" => (
            "Your {{application}} code: {{otp}}",
            "Your one-time code is {{otp}}.\n\nIt expires in {{minutes}} minutes. If you did not ask for it, ignore this message.",
        ),
        "verify_email_link" => (
            "Confirm your email for {{application}}",
            "Confirm this address with this link: {{link}}\n\nIt works once and expires in {{hours}} hours. If you did not ask for it, ignore this message.",
        ),
        "verify_mobile_link" => (
            "",
            "Confirm your number for {{application}}: {{link}}",
        ),
        "reset_password_sms" => (
            "",
            "Reset your {{application}} password: {{link}} (works once, {{minutes}} minutes)",
        ),
        _ => return None,
    };
    Some(Template {
        subject: subject.to_owned(),
        text: text.to_owned(),
    })
}

impl Template {
    /// Fills `{{name}}` placeholders from `data` (strings as they are, other values as
    /// JSON); unknown placeholders become empty.
    pub fn render(&self, data: &Map<String, Value>) -> (String, String) {
        (fill(&self.subject, data), fill(&self.text, data))
    }
}

fn fill(template: &str, data: &Map<String, Value>) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else {
            out.push_str(&rest[start..]);
            return out;
        };
        match data.get(after[..end].trim()) {
            Some(Value::String(text)) => out.push_str(text),
            Some(Value::Null) | None => {}
            Some(other) => out.push_str(&other.to_string()),
        }
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    #[test]
    fn placeholders_are_filled() {
        let template = default_template("reset_password").unwrap();
        let data = json!({"first_name": "Asha", "link": "https://shop/x?code=1", "minutes": 30});
        let (subject, text) = template.render(data.as_object().unwrap());
        assert_eq!(subject, "Reset your password");
        assert!(
            text.starts_with("Hello Asha,")
                && text.contains("https://shop/x?code=1")
                && text.contains("30 minutes")
        );
        assert_eq!(
            fill("a {{missing}} b {{ unclosed", &Map::new()),
            "a  b {{ unclosed"
        );
        assert!(default_template("nope").is_none());
        assert_eq!(Channel::parse(Channel::Sms.as_str()), Some(Channel::Sms));
    }

    #[test]
    fn retries_back_off_then_stop() {
        assert_eq!(retry_delay(1), Some(chrono::Duration::seconds(5)));
        assert_eq!(retry_delay(2), Some(chrono::Duration::seconds(10)));
        assert_eq!(retry_delay(7), Some(chrono::Duration::seconds(320)));
        assert_eq!(retry_delay(MAX_ATTEMPTS), None);
    }

    proptest! {
        #[test]
        fn rendering_never_panics(template in "\\PC{0,60}", value in "\\PC{0,20}") {
            let data = json!({"x": value});
            let _ = fill(&template, data.as_object().unwrap());
        }
    }
}

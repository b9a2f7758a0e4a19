//! The per-application authentication configuration (Fynd's `PlatformSchema`): its defaults,
//! how an update merges into it, and the rules every field obeys.
//!
//! The configuration is kept as a JSON document so that keys Patron does not know (the SDK
//! sends some the seed does not list) round-trip unchanged. Known keys are validated by
//! the table in `rules`; the typed views ([`AuthConfig::session`], [`AuthConfig::lockout`], …) are what
//! the login flows read.

use chrono::Duration;
use serde_json::{json, Map, Value};

use crate::DomainError;

mod rules;

use rules::{fold_account_kit_spelling, merge, take_secrets, validate};

/// Keys the server owns: ignored when a client sends them.
const SERVER_MANAGED: [&str; 5] = ["_id", "application_id", "created_at", "updated_at", "__v"];

/// Social providers whose `social_tokens.<provider>.app_secret` is a secret.
const SOCIAL_PROVIDERS: [&str; 4] = ["facebook", "google", "account_kit", "apple"];

/// The configuration every application starts with, named after the application.
pub fn default_document(application_name: &str) -> Map<String, Value> {
    let document = json!({
        "name": application_name,
        "display": application_name,
        "subtext": format!("Login to {application_name}"),
        "active": true,
        "mobile_image": "",
        "desktop_image": "",
        "login": { "password": true, "otp": true, "via": "mobile" },
        "register": true,
        "forgot_password": true,
        "user_exists_enabled": true,
        "skip_captcha": false,
        "skip_login": false,
        "social": { "facebook": false, "google": false, "apple": false, "account_kit": false },
        "social_tokens": {
            "facebook": { "app_id": "" },
            "google": { "app_id": "" },
            "account_kit": { "app_id": "" }
        },
        "required_fields": {
            "email": { "is_required": false, "level": "hard" },
            "mobile": { "is_required": true, "level": "hard" },
            "password": { "is_required": false }
        },
        "register_required_fields": {
            "email": { "is_required": false, "level": "hard" },
            "mobile": { "is_required": true, "level": "hard" },
            "password": { "is_required": true }
        },
        "flash_card": { "text": "", "text_color": "#FFFFFF", "background_color": "#EF5350" },
        "look_and_feel": { "card_position": "center", "background_color": "#F5F5F5" },
        "account_lockout": { "enable": true, "attempts": 5, "duration": 15 },
        "password_settings": {
            "configs": {
                "length": 8,
                "require_special_character": false,
                "require_number": true,
                "require_capital_character": false
            },
            "history": { "required": false, "count": 0 },
            "expiry": { "required": false, "duration": 90 }
        },
        "delete_account_day": 7,
        "delete_account_reasons": [
            { "reason_id": "1", "reason_text": "Other", "show_text_area": true }
        ],
        "delete_account_consent": { "consent_text": "" },
        "session_config": { "duration": 30, "type": "Days", "is_rolling": false },
        "password_reset_url": "",
        "verify_email_url": "",
        "verify_mobile_url": "",
        "allowed_origins": [],
        "otp": {
            "length": 4,
            "expiry_secs": 600,
            "attempts": 5,
            "resend_timer": 30,
            "per_target": 5,
            "per_address": 30,
            "per_application": 1000,
            "budget_window_secs": 3600,
            "guesses_per_address": 10,
            "guesses_per_target": 30,
            "per_device": 10,
            "country_codes": []
        },
        "meta": { "fynd_default": true }
    });
    match document {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

/// Write-only social app secrets taken out of an update, by provider.
pub type SocialSecrets = Map<String, Value>;

/// A validated configuration document (server-managed keys and secrets excluded).
#[derive(Debug, Clone, PartialEq)]
pub struct AuthConfig {
    document: Map<String, Value>,
}

/// Whether registration needs an identifier, and whether it must be proven by OTP.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Requirement {
    /// The identifier must be given.
    pub required: bool,
    /// It must also be verified (`level: hard`) before the account exists.
    pub verified: bool,
}

/// What `register_required_fields` demands of a registration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RegistrationRules {
    /// Email address.
    pub email: Requirement,
    /// Mobile number.
    pub mobile: Requirement,
    /// Whether a password must be chosen.
    pub password: bool,
}

/// How long sessions last, and whether activity extends them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionPolicy {
    /// Lifetime from login, or from the last activity when rolling.
    pub lifetime: Duration,
    /// Whether each authenticated request extends the session.
    pub rolling: bool,
}

impl AuthConfig {
    /// The defaults for an application called `application_name`.
    pub fn defaults(application_name: &str) -> Self {
        Self {
            document: default_document(application_name),
        }
    }

    /// Wraps a document read back from storage (validated when written).
    pub fn from_trusted(document: Map<String, Value>) -> Self {
        Self { document }
    }

    /// Merges `update` into this configuration: objects merge key by key, other values
    /// (arrays included) replace; server-managed keys are ignored. Returns the validated
    /// result and the social secrets the update carried (removed from the document).
    pub fn apply_update(
        &self,
        update: &Map<String, Value>,
    ) -> Result<(Self, SocialSecrets), DomainError> {
        let mut update = update.clone();
        for key in SERVER_MANAGED {
            update.remove(key);
        }
        fold_account_kit_spelling(&mut update);
        let mut document = self.document.clone();
        merge(&mut document, update);
        let secrets = take_secrets(&mut document);
        validate(&mut document)?;
        Ok((Self { document }, secrets))
    }

    /// The document as stored.
    pub fn document(&self) -> &Map<String, Value> {
        &self.document
    }

    /// The session lifetime policy.
    pub fn session(&self) -> SessionPolicy {
        let duration = self.integer("session_config.duration").unwrap_or(30);
        let lifetime = match self.text("session_config.type").unwrap_or("Days") {
            "Minutes" => Duration::minutes(duration),
            "Hours" => Duration::hours(duration),
            _ => Duration::days(duration),
        };
        SessionPolicy {
            lifetime,
            rolling: self.boolean("session_config.is_rolling").unwrap_or(false),
        }
    }

    /// Whether password login is offered (`login.password`).
    pub fn password_login_enabled(&self) -> bool {
        self.boolean("login.password").unwrap_or(true)
    }

    /// Whether shoppers may register themselves (`register`).
    pub fn registration_enabled(&self) -> bool {
        self.boolean("register").unwrap_or(true)
    }

    /// Whether the forgot-password flows are offered (`forgot_password`).
    pub fn forgot_password_enabled(&self) -> bool {
        self.boolean("forgot_password").unwrap_or(true)
    }

    /// Whether `userExists` answers whether an email or phone has an account
    /// (`user_exists_enabled`, Patron's switch for that account oracle; on by default for
    /// Fynd compatibility).
    pub fn user_exists_enabled(&self) -> bool {
        self.boolean("user_exists_enabled").unwrap_or(true)
    }

    /// What registration demands: `register_required_fields` (required, and verified when
    /// `hard`), plus every identifier `required_fields` makes mandatory for all accounts
    /// (`is_required` with level `hard`), since a new account must satisfy those too.
    pub fn registration_rules(&self) -> RegistrationRules {
        let requirement = |kind: &str| {
            let flag = |path: String| self.boolean(&path).unwrap_or(false);
            let hard = |path: String| self.text(&path).unwrap_or("hard") == "hard";
            let required = flag(format!("register_required_fields.{kind}.is_required"));
            let verified = required && hard(format!("register_required_fields.{kind}.level"));
            let always = flag(format!("required_fields.{kind}.is_required"))
                && hard(format!("required_fields.{kind}.level"));
            Requirement {
                required: required || always,
                verified,
            }
        };
        RegistrationRules {
            email: requirement("email"),
            mobile: requirement("mobile"),
            password: self
                .boolean("register_required_fields.password.is_required")
                .unwrap_or(true),
        }
    }

    /// What `required_fields` demands of every account: an identifier `is_required` must be
    /// present, and proven when its level is `hard`.
    pub fn profile_rules(&self) -> RegistrationRules {
        let requirement = |kind: &str| {
            let required = self
                .boolean(&format!("required_fields.{kind}.is_required"))
                .unwrap_or(false);
            let hard = self
                .text(&format!("required_fields.{kind}.level"))
                .unwrap_or("hard")
                == "hard";
            Requirement {
                required,
                verified: required && hard,
            }
        };
        RegistrationRules {
            email: requirement("email"),
            mobile: requirement("mobile"),
            password: self
                .boolean("required_fields.password.is_required")
                .unwrap_or(false),
        }
    }

    /// The ids of the reasons a customer may give for deleting their account
    /// (`delete_account_reasons[].reason_id`).
    pub fn delete_reason_ids(&self) -> Vec<&str> {
        self.lookup("delete_account_reasons")
            .and_then(Value::as_array)
            .map(|reasons| {
                reasons
                    .iter()
                    .filter_map(|reason| reason.get("reason_id").and_then(Value::as_str))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Days a deleted account can still be restored before it is anonymised
    /// (`delete_account_day`).
    pub fn delete_grace(&self) -> Duration {
        Duration::days(self.integer("delete_account_day").unwrap_or(7).max(0))
    }

    /// Whether sign-in with `provider` is offered (`social.<provider>`; off by default).
    pub fn social_enabled(&self, provider: &str) -> bool {
        self.boolean(&format!("social.{provider}")).unwrap_or(false)
    }

    /// The application's public client id at `provider` (`social_tokens.<provider>.app_id`).
    pub fn social_app_id(&self, provider: &str) -> Option<&str> {
        self.text(&format!("social_tokens.{provider}.app_id"))
            .map(str::trim)
            .filter(|id| !id.is_empty())
    }

    /// Whether sign-in with a one-time password is offered (`login.otp`).
    pub fn otp_login_enabled(&self) -> bool {
        self.boolean("login.otp").unwrap_or(true)
    }

    /// The application's own version of message template `name`
    /// (`notification_templates.<name>.{subject,text}`), if it set one.
    pub fn template(&self, name: &str) -> Option<crate::notification::Template> {
        let subject = self.text(&format!("notification_templates.{name}.subject"))?;
        let text = self.text(&format!("notification_templates.{name}.text"))?;
        Some(crate::notification::Template {
            subject: subject.to_owned(),
            text: text.to_owned(),
        })
    }

    /// Where contact verification links point (`verify_email_url`, `verify_mobile_url`),
    /// when configured.
    pub fn verification_url(&self, email: bool) -> Option<&str> {
        let key = if email {
            "verify_email_url"
        } else {
            "verify_mobile_url"
        };
        self.text(key).filter(|url| !url.is_empty())
    }

    /// The web origins whose pages may make storefront writes with the session cookie
    /// (`allowed_origins`, canonical); empty: no check.
    pub fn allowed_origins(&self) -> Vec<String> {
        self.lookup("allowed_origins")
            .and_then(Value::as_array)
            .map(|origins| {
                origins
                    .iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Where reset links point (`password_reset_url`), when configured.
    pub fn password_reset_url(&self) -> Option<&str> {
        self.text("password_reset_url")
            .filter(|url| !url.is_empty())
    }

    fn lookup(&self, path: &str) -> Option<&Value> {
        let mut parts = path.split('.');
        let mut current = self.document.get(parts.next()?)?;
        for part in parts {
            current = current.as_object()?.get(part)?;
        }
        Some(current)
    }

    pub(crate) fn integer(&self, path: &str) -> Option<i64> {
        self.lookup(path).and_then(Value::as_i64)
    }

    pub(crate) fn boolean(&self, path: &str) -> Option<bool> {
        self.lookup(path).and_then(Value::as_bool)
    }

    pub(crate) fn integers(&self, path: &str) -> Option<Vec<i64>> {
        self.lookup(path)?
            .as_array()?
            .iter()
            .map(Value::as_i64)
            .collect()
    }

    pub(crate) fn text(&self, path: &str) -> Option<&str> {
        self.lookup(path).and_then(Value::as_str)
    }
}

#[cfg(test)]
mod tests;

//! The per-application authentication configuration (Fynd's `PlatformSchema`): its defaults,
//! how an update merges into it, and the rules every field obeys.
//!
//! The configuration is kept as a JSON document so that keys Patron does not know (the SDK
//! sends some the seed does not list) round-trip unchanged. Known keys are validated by
//! [`RULES`]; the typed views ([`AuthConfig::session`], [`AuthConfig::lockout`], …) are what
//! the login flows read.

use chrono::Duration;
use serde_json::{json, Map, Value};

use crate::DomainError;

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
            "country_codes": []
        },
        "meta": { "fynd_default": true }
    });
    match document {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

/// What a known field must hold.
#[derive(Debug, Clone, Copy)]
enum Rule {
    Object,
    Bool,
    Text,
    /// A string; `null` is stored as `""` (the SDK rejects null images).
    TextOrNull,
    /// An integer in `min..=max`.
    Integer {
        min: i64,
        max: i64,
    },
    /// One of the listed strings, matched without case and stored as listed.
    OneOf(&'static [&'static str]),
    /// An array of `{reason_id, reason_text, show_text_area}`.
    DeleteReasons,
    /// Empty, or an `http://` / `https://` URL.
    Url,
    /// An array of phone country codes (integers 1–999).
    CountryCodes,
    /// An array of web origins (`https://shop.example.com`), stored in canonical form.
    Origins,
}

/// Every known path (dotted) and its rule. Parents come before children.
const RULES: &[(&str, Rule)] = &[
    ("name", Rule::Text),
    ("display", Rule::Text),
    ("subtext", Rule::Text),
    ("active", Rule::Bool),
    ("mobile_image", Rule::TextOrNull),
    ("desktop_image", Rule::TextOrNull),
    ("login", Rule::Object),
    ("login.password", Rule::Bool),
    ("login.otp", Rule::Bool),
    ("login.via", Rule::Text),
    ("register", Rule::Bool),
    ("forgot_password", Rule::Bool),
    ("user_exists_enabled", Rule::Bool),
    ("skip_captcha", Rule::Bool),
    ("skip_login", Rule::Bool),
    ("social", Rule::Object),
    ("social.facebook", Rule::Bool),
    ("social.google", Rule::Bool),
    ("social.apple", Rule::Bool),
    ("social.account_kit", Rule::Bool),
    ("social_tokens", Rule::Object),
    ("social_tokens.facebook", Rule::Object),
    ("social_tokens.facebook.app_id", Rule::Text),
    ("social_tokens.google", Rule::Object),
    ("social_tokens.google.app_id", Rule::Text),
    ("social_tokens.account_kit", Rule::Object),
    ("social_tokens.account_kit.app_id", Rule::Text),
    ("social_tokens.apple", Rule::Object),
    ("social_tokens.apple.app_id", Rule::Text),
    ("required_fields", Rule::Object),
    ("required_fields.email", Rule::Object),
    ("required_fields.email.is_required", Rule::Bool),
    (
        "required_fields.email.level",
        Rule::OneOf(&["hard", "soft"]),
    ),
    ("required_fields.mobile", Rule::Object),
    ("required_fields.mobile.is_required", Rule::Bool),
    (
        "required_fields.mobile.level",
        Rule::OneOf(&["hard", "soft"]),
    ),
    ("required_fields.password", Rule::Object),
    ("required_fields.password.is_required", Rule::Bool),
    ("register_required_fields", Rule::Object),
    ("register_required_fields.email", Rule::Object),
    ("register_required_fields.email.is_required", Rule::Bool),
    (
        "register_required_fields.email.level",
        Rule::OneOf(&["hard", "soft"]),
    ),
    ("register_required_fields.mobile", Rule::Object),
    ("register_required_fields.mobile.is_required", Rule::Bool),
    (
        "register_required_fields.mobile.level",
        Rule::OneOf(&["hard", "soft"]),
    ),
    ("register_required_fields.password", Rule::Object),
    ("register_required_fields.password.is_required", Rule::Bool),
    ("flash_card", Rule::Object),
    ("flash_card.text", Rule::Text),
    ("flash_card.text_color", Rule::Text),
    ("flash_card.background_color", Rule::Text),
    ("look_and_feel", Rule::Object),
    ("look_and_feel.card_position", Rule::Text),
    ("look_and_feel.background_color", Rule::Text),
    ("account_lockout", Rule::Object),
    ("account_lockout.enable", Rule::Bool),
    (
        "account_lockout.attempts",
        Rule::Integer { min: 1, max: 100 },
    ),
    (
        "account_lockout.duration",
        Rule::Integer {
            min: 1,
            max: 525_600,
        },
    ),
    ("password_settings", Rule::Object),
    ("password_settings.configs", Rule::Object),
    (
        "password_settings.configs.length",
        Rule::Integer { min: 6, max: 128 },
    ),
    (
        "password_settings.configs.require_special_character",
        Rule::Bool,
    ),
    ("password_settings.configs.require_number", Rule::Bool),
    (
        "password_settings.configs.require_capital_character",
        Rule::Bool,
    ),
    ("password_settings.history", Rule::Object),
    ("password_settings.history.required", Rule::Bool),
    (
        "password_settings.history.count",
        Rule::Integer { min: 0, max: 24 },
    ),
    ("password_settings.expiry", Rule::Object),
    ("password_settings.expiry.required", Rule::Bool),
    (
        "password_settings.expiry.duration",
        Rule::Integer { min: 1, max: 3650 },
    ),
    ("delete_account_day", Rule::Integer { min: 0, max: 365 }),
    ("delete_account_reasons", Rule::DeleteReasons),
    ("delete_account_consent", Rule::Object),
    ("delete_account_consent.consent_text", Rule::Text),
    ("session_config", Rule::Object),
    (
        "session_config.duration",
        Rule::Integer {
            min: 1,
            max: 1_000_000,
        },
    ),
    (
        "session_config.type",
        Rule::OneOf(&["Days", "Hours", "Minutes"]),
    ),
    ("session_config.is_rolling", Rule::Bool),
    ("password_reset_url", Rule::Url),
    ("verify_email_url", Rule::Url),
    ("verify_mobile_url", Rule::Url),
    ("allowed_origins", Rule::Origins),
    ("notification_templates", Rule::Object),
    ("otp", Rule::Object),
    ("otp.length", Rule::Integer { min: 4, max: 8 }),
    (
        "otp.expiry_secs",
        Rule::Integer {
            min: 30,
            max: 86_400,
        },
    ),
    ("otp.attempts", Rule::Integer { min: 1, max: 20 }),
    ("otp.resend_timer", Rule::Integer { min: 0, max: 3_600 }),
    (
        "otp.per_target",
        Rule::Integer {
            min: 1,
            max: 1_000_000,
        },
    ),
    (
        "otp.per_address",
        Rule::Integer {
            min: 1,
            max: 1_000_000,
        },
    ),
    (
        "otp.per_application",
        Rule::Integer {
            min: 1,
            max: 100_000_000,
        },
    ),
    (
        "otp.budget_window_secs",
        Rule::Integer {
            min: 1,
            max: 604_800,
        },
    ),
    ("otp.country_codes", Rule::CountryCodes),
    ("meta", Rule::Object),
    ("meta.fynd_default", Rule::Bool),
];

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

/// The seed spells the Account Kit token key `accountkit`, the SDK `account_kit`; keep one.
fn fold_account_kit_spelling(update: &mut Map<String, Value>) {
    if let Some(Value::Object(tokens)) = update.get_mut("social_tokens") {
        if let Some(seed_spelling) = tokens.remove("accountkit") {
            tokens.entry("account_kit").or_insert(seed_spelling);
        }
    }
}

fn merge(target: &mut Map<String, Value>, update: Map<String, Value>) {
    for (key, value) in update {
        match (target.get_mut(&key), value) {
            (Some(Value::Object(existing)), Value::Object(incoming)) => merge(existing, incoming),
            (_, value) => {
                target.insert(key, value);
            }
        }
    }
}

fn take_secrets(document: &mut Map<String, Value>) -> SocialSecrets {
    let mut secrets = Map::new();
    if let Some(Value::Object(tokens)) = document.get_mut("social_tokens") {
        for provider in SOCIAL_PROVIDERS {
            if let Some(Value::Object(token)) = tokens.get_mut(provider) {
                if let Some(secret) = token.remove("app_secret") {
                    secrets.insert(provider.to_owned(), secret);
                }
            }
        }
    }
    secrets
}

/// Checks every known path present in `document`, canonicalising enum spellings and nulls.
fn validate(document: &mut Map<String, Value>) -> Result<(), DomainError> {
    for (path, rule) in RULES {
        let (parent_path, key) = path
            .rsplit_once('.')
            .map_or(("", *path), |(parent, key)| (parent, key));
        let Some(parent) = object_at(document, parent_path) else {
            continue;
        };
        let Some(value) = parent.get_mut(key) else {
            continue;
        };
        check(path, *rule, value)?;
    }
    Ok(())
}

fn object_at<'a>(
    document: &'a mut Map<String, Value>,
    path: &str,
) -> Option<&'a mut Map<String, Value>> {
    if path.is_empty() {
        return Some(document);
    }
    let mut current = document;
    for part in path.split('.') {
        current = current.get_mut(part)?.as_object_mut()?;
    }
    Some(current)
}

fn check(path: &str, rule: Rule, value: &mut Value) -> Result<(), DomainError> {
    let fail = |message: String| Err(DomainError::invalid(path, message));
    match rule {
        Rule::Object if value.is_object() => Ok(()),
        Rule::Object => fail("must be an object".into()),
        Rule::Bool if value.is_boolean() => Ok(()),
        Rule::Bool => fail("must be true or false".into()),
        Rule::Text if value.is_string() => Ok(()),
        Rule::Text => fail("must be a string".into()),
        Rule::TextOrNull if value.is_null() => {
            *value = Value::String(String::new());
            Ok(())
        }
        Rule::TextOrNull if value.is_string() => Ok(()),
        Rule::TextOrNull => fail("must be a string".into()),
        Rule::Integer { min, max } => match value.as_i64() {
            Some(number) if (min..=max).contains(&number) => Ok(()),
            Some(number) => fail(format!("must be between {min} and {max}, got {number}")),
            None if value.as_f64().is_some() => {
                fail(format!("must be a whole number between {min} and {max}"))
            }
            None => fail(format!("must be a number between {min} and {max}")),
        },
        Rule::Url => match value.as_str() {
            Some("") => Ok(()),
            Some(url) => crate::link::check_link_base(path, url),
            None => fail("must be an https:// URL".into()),
        },
        Rule::OneOf(allowed) => {
            let canonical = value
                .as_str()
                .and_then(|text| allowed.iter().find(|a| a.eq_ignore_ascii_case(text.trim())));
            match canonical {
                Some(canonical) => {
                    *value = Value::String((*canonical).to_owned());
                    Ok(())
                }
                None => fail(format!("must be one of {}", allowed.join(", "))),
            }
        }
        Rule::CountryCodes => {
            let valid = value.as_array().is_some_and(|codes| {
                codes
                    .iter()
                    .all(|code| code.as_i64().is_some_and(|c| (1..=999).contains(&c)))
            });
            if valid {
                Ok(())
            } else {
                fail("must be an array of country codes (1 to 999)".into())
            }
        }
        Rule::Origins => {
            let origins: Option<Vec<String>> = value.as_array().and_then(|origins| {
                origins
                    .iter()
                    .map(|origin| origin.as_str().and_then(crate::link::canonical_origin))
                    .collect()
            });
            match origins {
                Some(origins) => {
                    *value = Value::from(origins);
                    Ok(())
                }
                None => {
                    fail("must be an array of origins such as \"https://shop.example.com\"".into())
                }
            }
        }
        Rule::DeleteReasons => {
            let Some(reasons) = value.as_array() else {
                return fail("must be an array".into());
            };
            for (index, reason) in reasons.iter().enumerate() {
                let Some(reason) = reason.as_object() else {
                    return Err(DomainError::invalid(
                        format!("{path}[{index}]"),
                        "must be an object",
                    ));
                };
                for (key, want_bool) in [
                    ("reason_id", false),
                    ("reason_text", false),
                    ("show_text_area", true),
                ] {
                    match reason.get(key) {
                        None => {}
                        Some(v) if want_bool && v.is_boolean() => {}
                        Some(v) if !want_bool && v.is_string() => {}
                        Some(_) => {
                            let kind = if want_bool {
                                "true or false"
                            } else {
                                "a string"
                            };
                            return Err(DomainError::invalid(
                                format!("{path}[{index}].{key}"),
                                format!("must be {kind}"),
                            ));
                        }
                    }
                }
            }
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn update(value: Value) -> Map<String, Value> {
        value.as_object().cloned().unwrap()
    }

    fn apply(value: Value) -> Result<(AuthConfig, SocialSecrets), DomainError> {
        AuthConfig::defaults("Shop").apply_update(&update(value))
    }

    #[test]
    fn defaults_are_valid_and_complete() {
        let (config, secrets) = apply(json!({})).unwrap();
        assert_eq!(config, AuthConfig::defaults("Shop"));
        assert!(secrets.is_empty());
        let session = config.session();
        assert_eq!(
            (session.lifetime, session.rolling),
            (Duration::days(30), false)
        );
    }

    #[test]
    fn updates_merge_deeply_and_keep_unknown_keys() {
        let (config, _) =
            apply(json!({"login": {"otp": false}, "custom_flag": {"x": 1}, "__v": 99, "_id": "x"}))
                .unwrap();
        assert_eq!(
            config.document()["login"],
            json!({"password": true, "otp": false, "via": "mobile"})
        );
        assert_eq!(config.document()["custom_flag"], json!({"x": 1}));
        assert!(!config.document().contains_key("__v") && !config.document().contains_key("_id"));
    }

    #[test]
    fn enums_are_canonicalised() {
        let (config, _) = apply(json!({"session_config": {"type": "hours", "duration": 12, "is_rolling": true}, "required_fields": {"email": {"level": "SOFT"}}})).unwrap();
        assert_eq!(config.document()["session_config"]["type"], "Hours");
        assert_eq!(
            config.document()["required_fields"]["email"]["level"],
            "soft"
        );
        assert_eq!(
            config.session(),
            SessionPolicy {
                lifetime: Duration::hours(12),
                rolling: true
            }
        );
    }

    #[test]
    fn every_bad_field_is_named() {
        for (body, field) in [
            (
                json!({"account_lockout": {"attempts": 0}}),
                "account_lockout.attempts",
            ),
            (
                json!({"account_lockout": {"attempts": 101}}),
                "account_lockout.attempts",
            ),
            (
                json!({"account_lockout": {"duration": 0}}),
                "account_lockout.duration",
            ),
            (
                json!({"password_settings": {"configs": {"length": 5}}}),
                "password_settings.configs.length",
            ),
            (
                json!({"password_settings": {"configs": {"length": 129}}}),
                "password_settings.configs.length",
            ),
            (
                json!({"password_settings": {"history": {"count": 25}}}),
                "password_settings.history.count",
            ),
            (
                json!({"password_settings": {"expiry": {"duration": 0}}}),
                "password_settings.expiry.duration",
            ),
            (
                json!({"session_config": {"type": "Weeks"}}),
                "session_config.type",
            ),
            (
                json!({"session_config": {"duration": 0}}),
                "session_config.duration",
            ),
            (
                json!({"session_config": {"duration": 1.5}}),
                "session_config.duration",
            ),
            (
                json!({"required_fields": {"mobile": {"level": "medium"}}}),
                "required_fields.mobile.level",
            ),
            (json!({"register": "yes"}), "register"),
            (json!({"login": true}), "login"),
            (json!({"display": 5}), "display"),
            (
                json!({"delete_account_reasons": [{"reason_id": 1}]}),
                "delete_account_reasons[0].reason_id",
            ),
        ] {
            let error = apply(body.clone()).unwrap_err().to_string();
            assert!(error.starts_with(field), "{body}: {error}");
        }
    }

    #[test]
    fn social_secrets_are_taken_out_and_both_spellings_accepted() {
        let (config, secrets) = apply(json!({"social_tokens": {"google": {"app_id": "g", "app_secret": "s1"}, "accountkit": {"app_id": "a", "app_secret": "s2"}}})).unwrap();
        assert_eq!(secrets["google"], "s1");
        assert_eq!(secrets["account_kit"], "s2");
        let text = Value::Object(config.document().clone()).to_string();
        assert!(!text.contains("s1") && !text.contains("s2") && !text.contains("app_secret"));
        assert_eq!(
            config.document()["social_tokens"]["account_kit"]["app_id"],
            "a"
        );
    }

    #[test]
    fn registration_rules_read_required_fields() {
        let defaults = AuthConfig::defaults("Shop").registration_rules();
        assert_eq!(
            defaults.mobile,
            Requirement {
                required: true,
                verified: true
            }
        );
        assert_eq!(
            defaults.email,
            Requirement {
                required: false,
                verified: false
            }
        );
        let (soft, _) = apply(json!({"register_required_fields": {"mobile": {"level": "soft"}, "email": {"is_required": true, "level": "hard"}}})).unwrap();
        let rules = soft.registration_rules();
        assert_eq!(
            rules.mobile,
            Requirement {
                required: true,
                verified: false
            }
        );
        assert_eq!(
            rules.email,
            Requirement {
                required: true,
                verified: true
            }
        );
    }

    #[test]
    fn required_fields_also_bind_new_accounts() {
        let (login_rules, _) =
            apply(json!({"required_fields": {"email": {"is_required": true, "level": "hard"}}}))
                .unwrap();
        assert_eq!(
            login_rules.registration_rules().email,
            Requirement {
                required: true,
                verified: false
            }
        );
        let (soft_login, _) =
            apply(json!({"required_fields": {"email": {"is_required": true, "level": "soft"}}}))
                .unwrap();
        assert!(
            !soft_login.registration_rules().email.required,
            "soft means the shopper may skip it"
        );
    }

    #[test]
    fn null_images_become_empty_strings() {
        let (config, _) = apply(json!({"mobile_image": null})).unwrap();
        assert_eq!(config.document()["mobile_image"], "");
    }

    proptest! {
        #[test]
        fn arbitrary_updates_never_panic(key in "[a-z_.]{1,20}", number in any::<i64>(), flag in any::<bool>()) {
            let _ = apply(json!({ key.clone(): number }));
            let _ = apply(json!({ "session_config": { key.clone(): flag } }));
            let _ = apply(json!({ "password_settings": { "configs": { key: number } } }));
        }
    }
}

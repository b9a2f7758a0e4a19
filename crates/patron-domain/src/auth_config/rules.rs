//! The rules every known key of the configuration obeys, and how an update is merged,
//! stripped of secrets and validated against them.

use serde_json::{Map, Value};

use super::{SocialSecrets, SOCIAL_PROVIDERS};
use crate::DomainError;

/// What a known field must hold.
#[derive(Debug, Clone, Copy)]
pub(super) enum Rule {
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
pub(super) const RULES: &[(&str, Rule)] = &[
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
    (
        "otp.guesses_per_address",
        Rule::Integer { min: 1, max: 1_000 },
    ),
    (
        "otp.guesses_per_target",
        Rule::Integer {
            min: 1,
            max: 10_000,
        },
    ),
    ("otp.per_device", Rule::Integer { min: 1, max: 1_000 }),
    (
        "otp.per_country",
        Rule::Integer {
            min: 1,
            max: 100_000_000,
        },
    ),
    ("otp.country_codes", Rule::CountryCodes),
    ("meta", Rule::Object),
    ("meta.fynd_default", Rule::Bool),
];

/// The seed spells the Account Kit token key `accountkit`, the SDK `account_kit`; keep one.
pub(super) fn fold_account_kit_spelling(update: &mut Map<String, Value>) {
    if let Some(Value::Object(tokens)) = update.get_mut("social_tokens") {
        if let Some(seed_spelling) = tokens.remove("accountkit") {
            tokens.entry("account_kit").or_insert(seed_spelling);
        }
    }
}

pub(super) fn merge(target: &mut Map<String, Value>, update: Map<String, Value>) {
    for (key, value) in update {
        match (target.get_mut(&key), value) {
            (Some(Value::Object(existing)), Value::Object(incoming)) => merge(existing, incoming),
            (_, value) => {
                target.insert(key, value);
            }
        }
    }
}

pub(super) fn take_secrets(document: &mut Map<String, Value>) -> SocialSecrets {
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
pub(super) fn validate(document: &mut Map<String, Value>) -> Result<(), DomainError> {
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

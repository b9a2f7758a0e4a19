//! Password rules from the authentication configuration: strength, reuse, expiry, and the
//! lockout that follows repeated failures.

use chrono::{DateTime, Duration, Utc};

use crate::auth_config::AuthConfig;
use crate::DomainError;

/// Longest password accepted, in bytes (hashing cost must stay bounded).
pub const MAX_PASSWORD_BYTES: usize = 256;

/// What a new password must satisfy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PasswordPolicy {
    /// Minimum length in characters.
    pub min_length: usize,
    /// At least one character that is neither a letter nor a digit.
    pub require_special: bool,
    /// At least one digit.
    pub require_number: bool,
    /// At least one upper-case letter.
    pub require_capital: bool,
    /// How many previous passwords may not be reused (0: no history check).
    pub history: usize,
    /// How long a password stays valid, if it expires.
    pub expiry: Option<Duration>,
}

/// How repeated login failures lock an account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LockoutPolicy {
    /// Consecutive failures that lock the account (`None`: lockout disabled).
    pub attempts: Option<u32>,
    /// How long the lock lasts. The configuration's `duration` counts minutes.
    pub duration: Duration,
}

impl PasswordPolicy {
    /// The policy the configuration sets. History counts only when `history.required`;
    /// expiry (`duration` in days) only when `expiry.required`.
    pub fn from_config(config: &AuthConfig) -> Self {
        let count = |path| config.integer(path).and_then(|n| usize::try_from(n).ok());
        let flag = |path| config.boolean(path).unwrap_or(false);
        Self {
            min_length: count("password_settings.configs.length").unwrap_or(8),
            require_special: flag("password_settings.configs.require_special_character"),
            require_number: flag("password_settings.configs.require_number"),
            require_capital: flag("password_settings.configs.require_capital_character"),
            history: if flag("password_settings.history.required") {
                count("password_settings.history.count").unwrap_or(0)
            } else {
                0
            },
            expiry: flag("password_settings.expiry.required").then(|| {
                Duration::days(
                    config
                        .integer("password_settings.expiry.duration")
                        .unwrap_or(90),
                )
            }),
        }
    }

    /// Checks a candidate password's strength; the error names the first rule it breaks.
    pub fn check(&self, password: &str) -> Result<(), DomainError> {
        let fail = |message: String| Err(DomainError::invalid("password", message));
        if password.len() > MAX_PASSWORD_BYTES {
            return fail(format!("must be at most {MAX_PASSWORD_BYTES} bytes"));
        }
        if password.chars().count() < self.min_length {
            return fail(format!(
                "must be at least {} characters long",
                self.min_length
            ));
        }
        if self.require_number && !password.chars().any(|c| c.is_ascii_digit()) {
            return fail("must contain a number".to_owned());
        }
        if self.require_capital && !password.chars().any(char::is_uppercase) {
            return fail("must contain a capital letter".to_owned());
        }
        if self.require_special && password.chars().all(char::is_alphanumeric) {
            return fail("must contain a special character".to_owned());
        }
        Ok(())
    }

    /// Whether a password set at `changed_at` has expired by `now`.
    pub fn is_expired(&self, changed_at: DateTime<Utc>, now: DateTime<Utc>) -> bool {
        self.expiry
            .is_some_and(|lifetime| now >= changed_at + lifetime)
    }
}

impl LockoutPolicy {
    /// The lockout the configuration sets (`account_lockout`).
    pub fn from_config(config: &AuthConfig) -> Self {
        let enabled = config.boolean("account_lockout.enable").unwrap_or(false);
        Self {
            attempts: config
                .integer("account_lockout.attempts")
                .and_then(|n| u32::try_from(n).ok())
                .filter(|_| enabled),
            duration: Duration::minutes(config.integer("account_lockout.duration").unwrap_or(15)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    fn config(update: serde_json::Value) -> AuthConfig {
        AuthConfig::defaults("Shop")
            .apply_update(update.as_object().unwrap())
            .unwrap()
            .0
    }

    fn strict() -> PasswordPolicy {
        PasswordPolicy::from_config(&config(json!({"password_settings": {"configs": {
            "length": 10, "require_special_character": true, "require_number": true, "require_capital_character": true
        }}})))
    }

    #[test]
    fn each_rule_is_named() {
        let policy = strict();
        for (password, rule) in [
            ("Sh0rt!", "at least 10"),
            ("NoNumbersHere!", "number"),
            ("no capitals 123!", "capital"),
            ("NoSpecial1234", "special"),
        ] {
            let error = policy.check(password).unwrap_err().to_string();
            assert!(
                error.starts_with("password") && error.contains(rule),
                "{password}: {error}"
            );
        }
        assert!(policy.check("Correct-Horse-9").is_ok());
        assert!(policy.check(&"A1!".repeat(100)).is_err(), "bounded length");
    }

    #[test]
    fn history_and_expiry_count_only_when_required() {
        let defaults = PasswordPolicy::from_config(&AuthConfig::defaults("Shop"));
        assert_eq!((defaults.history, defaults.expiry), (0, None));
        let policy = PasswordPolicy::from_config(&config(json!({"password_settings": {
            "history": {"required": true, "count": 3}, "expiry": {"required": true, "duration": 30}
        }})));
        assert_eq!(policy.history, 3);
        let set = chrono::DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        assert!(!policy.is_expired(set, set + Duration::days(29)));
        assert!(policy.is_expired(set, set + Duration::days(30)));
    }

    #[test]
    fn lockout_follows_the_config() {
        let on = LockoutPolicy::from_config(&config(
            json!({"account_lockout": {"enable": true, "attempts": 3, "duration": 20}}),
        ));
        assert_eq!(
            on,
            LockoutPolicy {
                attempts: Some(3),
                duration: Duration::minutes(20)
            }
        );
        let off =
            LockoutPolicy::from_config(&config(json!({"account_lockout": {"enable": false}})));
        assert_eq!(off.attempts, None);
    }

    proptest! {
        #[test]
        fn check_never_panics_and_accepts_what_meets_every_rule(body in "[a-z]{10,30}") {
            let _ = strict().check(&body);
            let good = format!("{body}A9!");
            prop_assert!(strict().check(&good).is_ok());
        }
    }
}

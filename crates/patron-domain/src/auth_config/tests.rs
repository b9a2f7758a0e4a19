//! The configuration's rules, merging and typed views.

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

//! Loading the configuration: layers, names in errors, and every documented variable read.

use super::*;

#[test]
fn env_overrides_file_and_defaults() {
    let dir = std::env::temp_dir().join(format!("patron-config-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("patron.toml");
    std::fs::write(
        &file,
        "listen = \"0.0.0.0:9000\"\naccess_token_ttl_secs = 60\n",
    )
    .unwrap();
    let env = HashMap::from([("PATRON_ACCESS_TOKEN_TTL_SECS".to_owned(), "120".to_owned())]);
    let config = Config::load(Some(&file), &env).unwrap();
    assert_eq!(config.listen.port(), 9000);
    assert_eq!(config.access_token_ttl_secs, 120);
    assert_eq!(config.database_url, DEFAULT_DATABASE_URL);
}

#[test]
fn log_format_is_text_or_json() {
    assert_eq!(Config::default().log_format, "text");
    let json = HashMap::from([("PATRON_LOG_FORMAT".to_owned(), "JSON".to_owned())]);
    assert_eq!(Config::load(None, &json).unwrap().log_format, "json");
    let other = HashMap::from([("PATRON_LOG_FORMAT".to_owned(), "xml".to_owned())]);
    let error = Config::load(None, &other).unwrap_err().to_string();
    assert!(error.contains("PATRON_LOG_FORMAT"), "{error}");
}

#[test]
fn notifier_tables_load_and_secrets_stay_out_of_debug() {
    let dir = std::env::temp_dir().join(format!("patron-config-smtp-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("patron.toml");
    std::fs::write(&file, "notifier = \"smtp\"\n[smtp]\nhost = \"mail.example\"\ntls = \"tls\"\nport = 465\nusername = \"u\"\npassword = \"p4ss\"\nfrom = \"a@b.io\"\n").unwrap();
    let config = Config::load(Some(&file), &HashMap::new()).unwrap();
    assert_eq!((config.smtp.port, config.smtp.tls), (465, SmtpTls::Tls));
    assert!(!format!("{config:?}").contains("p4ss"));
    let keyed = Config::load(
        None,
        &HashMap::from([("PATRON_SECRET_KEY".to_owned(), SecretBox::generate_key())]),
    )
    .unwrap();
    assert!(format!("{keyed:?}").contains("secret_key: Some(\"***\")"));
    assert!(keyed.secret_box().is_ok());
    assert!(config.delivery().is_ok());
    let env = HashMap::from([("PATRON_NOTIFIER".to_owned(), "carrier-pigeon".to_owned())]);
    assert!(Config::load(None, &env).unwrap().delivery().is_err());
    std::fs::write(&file, "[smtp]\nhots = \"x\"\n").unwrap();
    assert!(Config::load(Some(&file), &HashMap::new())
        .unwrap_err()
        .to_string()
        .contains("hots"));
}

#[test]
fn an_sms_provider_needs_its_account_and_a_known_name() {
    let env = |pairs: &[(&str, &str)]| {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect::<HashMap<_, _>>()
    };
    let twilio = [
        ("PATRON_SMS_PROVIDER", "twilio"),
        ("PATRON_SMS_BASE_URL", "http://127.0.0.1:9"),
        ("PATRON_SMS_ACCOUNT_SID", "AC1"),
        ("PATRON_SMS_AUTH_TOKEN", "secret-token"),
        ("PATRON_SMS_FROM", "+15005550006"),
    ];
    let config = Config::load(None, &env(&twilio)).unwrap();
    assert_eq!(config.sms.account_sid, "AC1");
    assert!(!format!("{config:?}").contains("secret-token"));
    assert!(config.delivery().is_ok());
    let unknown = Config::load(None, &env(&[("PATRON_SMS_PROVIDER", "pager")])).unwrap();
    assert!(unknown.delivery().is_err());
    let incomplete = Config::load(None, &env(&twilio[..2])).unwrap();
    assert!(incomplete.delivery().is_err());
    let mut webhook = env(&twilio[..2]);
    webhook.extend(env(&[
        ("PATRON_NOTIFIER", "webhook"),
        ("PATRON_WEBHOOK_URL", "http://127.0.0.1:9/hook"),
        ("PATRON_WEBHOOK_SECRET", "0123456789abcdef"),
    ]));
    assert!(
        Config::load(None, &webhook).unwrap().delivery().is_ok(),
        "the webhook takes every channel; [sms] is not used"
    );
}

#[test]
fn fetch_settings_load_from_file_and_env() {
    let defaults = Config::default();
    assert_eq!(defaults.fetch.max_bytes, 52_428_800);
    assert_eq!(defaults.bulk_sync_limit, 1000);
    let dir = std::env::temp_dir().join(format!("patron-config-fetch-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("patron.toml");
    std::fs::write(
        &file,
        "bulk_sync_limit = 50\n[fetch]\nmax_bytes = 2048\nmax_redirects = 1\nallow = [\"10.0.0.0/8\"]\n",
    )
    .unwrap();
    let env = HashMap::from([
        ("PATRON_FETCH_TIMEOUT_SECS".to_owned(), "7".to_owned()),
        (
            "PATRON_FETCH_CONNECT_TIMEOUT_SECS".to_owned(),
            "3".to_owned(),
        ),
        (
            "PATRON_FETCH_ALLOW".to_owned(),
            "127.0.0.1/32, ::1/128,".to_owned(),
        ),
        ("PATRON_BULK_SYNC_LIMIT".to_owned(), "200".to_owned()),
    ]);
    let config = Config::load(Some(&file), &env).unwrap();
    assert_eq!(
        config.fetch,
        FetchSettings {
            max_bytes: 2048,
            connect_timeout_secs: 3,
            timeout_secs: 7,
            max_redirects: 1,
            max_concurrent: 4,
            allow: vec!["127.0.0.1/32".to_owned(), "::1/128".to_owned()],
        }
    );
    assert_eq!(config.bulk_sync_limit, 200);
    assert!(config.fetcher().is_ok());
    let env = HashMap::from([(
        "PATRON_FETCH_ALLOW".to_owned(),
        "10.0.0.0/8,intranet".to_owned(),
    )]);
    let error = Config::load(None, &env).unwrap_err().to_string();
    assert!(error.contains("'intranet'"), "{error}");
    std::fs::write(&file, "[fetch]\nallow = [\"10.0.0.1/8\"]\n").unwrap();
    let error = Config::load(Some(&file), &HashMap::new())
        .unwrap_err()
        .to_string();
    assert!(error.contains("'10.0.0.1/8'"), "{error}");
    std::fs::write(&file, "[fetch]\nmax_byte = 1\n").unwrap();
    let error = Config::load(Some(&file), &HashMap::new())
        .unwrap_err()
        .to_string();
    assert!(error.contains("max_byte"), "{error}");
    let env = HashMap::from([("PATRON_FETCH_MAX_BYTES".to_owned(), "lots".to_owned())]);
    let error = Config::load(None, &env).unwrap_err().to_string();
    assert!(error.contains("PATRON_FETCH_MAX_BYTES"), "{error}");
}

#[test]
fn retention_settings_load_from_file_and_env_and_are_checked() {
    assert_eq!(
        Config::default().retention.ages().sessions,
        chrono::Duration::days(7)
    );
    let dir = std::env::temp_dir().join(format!("patron-config-retention-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("patron.toml");
    std::fs::write(
        &file,
        "[retention]
outbox_days = 2
jobs_days = 90
",
    )
    .unwrap();
    let env = HashMap::from([("PATRON_RETENTION_JOBS_DAYS".to_owned(), "14".to_owned())]);
    let config = Config::load(Some(&file), &env).unwrap();
    let ages = config.retention.ages();
    assert_eq!(ages.outbox, chrono::Duration::days(2));
    assert_eq!(ages.jobs, chrono::Duration::days(14));
    let env = HashMap::from([("PATRON_RETENTION_INTERVAL_SECS".to_owned(), "0".to_owned())]);
    let error = Config::load(None, &env).unwrap_err().to_string();
    assert!(error.contains("interval_secs"), "{error}");
    std::fs::write(
        &file,
        "[retention]
sessions_days = 99999999999
",
    )
    .unwrap();
    let error = Config::load(Some(&file), &HashMap::new())
        .unwrap_err()
        .to_string();
    assert!(error.contains("sessions_days"), "{error}");
}

#[test]
fn the_public_url_must_be_https_off_loopback() {
    assert_eq!(
        Config::default().service_settings().public_url,
        "http://127.0.0.1:8080",
        "unset: the listen address"
    );
    let env = |url: &str| HashMap::from([("PATRON_PUBLIC_URL".to_owned(), url.to_owned())]);
    let config = Config::load(None, &env("https://accounts.example.com/")).unwrap();
    assert_eq!(
        config.service_settings().public_url,
        "https://accounts.example.com"
    );
    let error = Config::load(None, &env("http://accounts.example.com"))
        .unwrap_err()
        .to_string();
    assert!(error.contains("PATRON_PUBLIC_URL"), "{error}");
    assert!(Config::load(None, &env("http://localhost:9000")).is_ok());
}

#[test]
fn postgres_needs_an_explicit_secret_key() {
    let postgres = Config {
        database_url: "postgres://postgres@127.0.0.1:5432/patron".to_owned(),
        ..Config::default()
    };
    let error = postgres
        .secret_box()
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(error.contains("PATRON_SECRET_KEY"), "{error}");
    let keyed = Config {
        secret_key: Some(Redacted(SecretBox::generate_key())),
        ..postgres
    };
    assert!(keyed.secret_box().is_ok());
}

#[test]
fn unknown_keys_are_named() {
    let dir = std::env::temp_dir().join(format!("patron-config-bad-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("patron.toml");
    std::fs::write(&file, "listne = \"0.0.0.0:9000\"\n").unwrap();
    let error = Config::load(Some(&file), &HashMap::new())
        .unwrap_err()
        .to_string();
    assert!(error.contains("listne"), "{error}");
    let env = HashMap::from([("PATRON_LISTEN".to_owned(), "nowhere".to_owned())]);
    let generated = Config {
        secret_key_file: dir.join("secret.key"),
        ..Config::default()
    };
    let sealed = generated.secret_box().unwrap().seal("x", &["test"]);
    assert_eq!(
        generated
            .secret_box()
            .unwrap()
            .open(&sealed, &["test"])
            .unwrap(),
        "x",
        "the key file is reused"
    );
    assert!(Config::load(None, &env)
        .unwrap_err()
        .to_string()
        .contains("PATRON_LISTEN"));
}

/// The settings the README's configuration table documents, as key paths (`smtp.port`).
fn documented_settings() -> Vec<String> {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../README.md")).unwrap();
    let table = readme
        .split("| TOML key | Environment |")
        .nth(1)
        .expect("the README has the configuration table");
    let token = regex::Regex::new(r"`(\[?)([a-z0-9_]+)\]?`").unwrap();
    let mut keys = Vec::new();
    for row in table
        .lines()
        .skip(2)
        .take_while(|line| line.starts_with('|'))
    {
        let first = row.split('|').nth(1).unwrap_or_default();
        let mut section = None;
        for found in token.captures_iter(first) {
            if &found[1] == "[" {
                section = Some(found[2].to_owned());
            } else if let Some(section) = &section {
                keys.push(format!("{section}.{}", &found[2]));
            } else {
                keys.push(found[2].to_owned());
            }
        }
    }
    keys
}

#[test]
fn every_documented_setting_has_its_variable_and_every_variable_is_documented() {
    let documented = documented_settings();
    assert!(documented.len() > 40, "{documented:?}");
    let read: Vec<&str> = env::SETTINGS.iter().map(|(key, _)| *key).collect();
    for key in &documented {
        assert!(
            read.contains(&key.as_str()),
            "{key} is documented but {} is not read",
            env::variable(key)
        );
    }
    for key in &read {
        assert!(
            documented.iter().any(|documented| documented == key),
            "{} is read but {key} is not documented",
            env::variable(key)
        );
    }
}

#[test]
fn every_variable_changes_its_setting() {
    // An events URL needs its secret: every load has one, so the URL can be set alone.
    let base = HashMap::from([(
        "PATRON_EVENTS_SECRET".to_owned(),
        "0123456789abcdef".to_owned(),
    )]);
    let unchanged = Config::load(None, &base).unwrap();
    let candidates = [
        "7",
        "9",
        "false",
        "json",
        "tls",
        "127.0.0.1:7",
        "http://127.0.0.1:7",
        "10.0.0.0/8",
        "another value, long enough",
    ];
    for (key, _) in env::SETTINGS {
        let name = env::variable(key);
        let changed = candidates.iter().any(|value| {
            let mut vars = base.clone();
            vars.insert(name.clone(), (*value).to_owned());
            Config::load(None, &vars).is_ok_and(|config| config != unchanged)
        });
        assert!(changed, "{name} does not change {key}");
    }
}

#[test]
fn digits_stay_text_where_a_setting_is_text_and_bad_numbers_name_the_variable() {
    let env = HashMap::from([
        ("PATRON_SMTP_PASSWORD".to_owned(), "12345678".to_owned()),
        ("PATRON_SMS_ACCOUNT_SID".to_owned(), "007".to_owned()),
        ("PATRON_SMTP_PORT".to_owned(), " 2525 ".to_owned()),
        ("PATRON_COOKIE_SECURE".to_owned(), "false".to_owned()),
        (
            "PATRON_TRUSTED_PROXIES".to_owned(),
            "10.0.0.1, ,10.1.0.0/16".to_owned(),
        ),
    ]);
    let config = Config::load(None, &env).unwrap();
    assert_eq!(config.smtp.password.as_deref(), Some("12345678"));
    assert_eq!(config.sms.account_sid, "007");
    assert_eq!(config.smtp.port, 2525);
    assert!(!config.cookie_secure);
    assert_eq!(config.trusted_proxies, ["10.0.0.1", "10.1.0.0/16"]);
    let bad = HashMap::from([("PATRON_SMTP_PORT".to_owned(), "twenty".to_owned())]);
    let error = Config::load(None, &bad).unwrap_err().to_string();
    assert!(error.contains("PATRON_SMTP_PORT"), "{error}");
}

#[test]
fn flags_override_the_environment_and_an_empty_public_url_unsets_the_files() {
    let dir = std::env::temp_dir().join(format!("patron-flags-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("patron.toml");
    std::fs::write(&file, "public_url = \"https://accounts.example.com\"\n").unwrap();
    let env = HashMap::from([
        (
            "PATRON_DATABASE_URL".to_owned(),
            "sqlite://env.db".to_owned(),
        ),
        ("PATRON_LISTEN".to_owned(), "127.0.0.1:7001".to_owned()),
    ]);
    let flags = Flags {
        database_url: Some("sqlite://flag.db".to_owned()),
        listen: Some(SocketAddr::from(([127, 0, 0, 1], 7002))),
    };
    let config = Config::load_with(Some(&file), &env, &flags).unwrap();
    assert_eq!(config.database_url, "sqlite://flag.db");
    assert_eq!(config.listen.port(), 7002);
    assert_eq!(
        config.public_url.as_deref(),
        Some("https://accounts.example.com")
    );
    let cleared = HashMap::from([("PATRON_PUBLIC_URL".to_owned(), String::new())]);
    let config = Config::load(Some(&file), &cleared).unwrap();
    assert_eq!(config.public_url, None);
    std::fs::remove_dir_all(&dir).ok();
}

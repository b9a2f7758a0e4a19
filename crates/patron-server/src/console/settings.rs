//! The authentication configuration: login methods, lockout, password policy, session
//! lifetime and OTP limits, edited as one form and saved through the same update (merge,
//! validation, optimistic versioning) as `updatePlatformConfig`.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use patron_domain::scope::Scope;
use serde::Serialize;
use serde_json::{Map, Value};

use super::render::page_with_status;
use super::views;
use super::{redirect, Console, ConsoleError, Form, Notice};
use crate::app::AppState;
use crate::error::ApiError;
use crate::extract::QueryPairs;

/// How a setting is typed into the form.
#[derive(Debug, Clone, Copy)]
enum Input {
    /// A checkbox.
    Flag,
    /// A whole number.
    Whole,
    /// One of a list.
    Choice(&'static [&'static str]),
}

/// A setting: its path in the configuration document (dot-separated), label and input.
struct Setting {
    path: &'static str,
    label: &'static str,
    input: Input,
}

const fn setting(path: &'static str, label: &'static str, input: Input) -> Setting {
    Setting { path, label, input }
}

/// The form's sections and their settings.
const SECTIONS: [(&str, &[Setting]); 5] = [
    (
        "Login methods",
        &[
            setting("login.password", "Password sign-in", Input::Flag),
            setting("login.otp", "One-time code sign-in", Input::Flag),
            setting("register", "New customers may register", Input::Flag),
            setting("forgot_password", "Password reset by link", Input::Flag),
        ],
    ),
    (
        "Lockout",
        &[
            setting(
                "account_lockout.enable",
                "Lock an account after failed sign-ins",
                Input::Flag,
            ),
            setting(
                "account_lockout.attempts",
                "Failed attempts before the lock",
                Input::Whole,
            ),
            setting(
                "account_lockout.duration",
                "Lock duration (minutes)",
                Input::Whole,
            ),
        ],
    ),
    (
        "Password policy",
        &[
            setting(
                "password_settings.configs.length",
                "Minimum length",
                Input::Whole,
            ),
            setting(
                "password_settings.configs.require_number",
                "Needs a digit",
                Input::Flag,
            ),
            setting(
                "password_settings.configs.require_capital_character",
                "Needs a capital letter",
                Input::Flag,
            ),
            setting(
                "password_settings.configs.require_special_character",
                "Needs a special character",
                Input::Flag,
            ),
            setting(
                "password_settings.history.required",
                "Refuse recent passwords",
                Input::Flag,
            ),
            setting(
                "password_settings.history.count",
                "Recent passwords remembered",
                Input::Whole,
            ),
            setting(
                "password_settings.expiry.required",
                "Passwords expire",
                Input::Flag,
            ),
            setting(
                "password_settings.expiry.duration",
                "Expire after (days)",
                Input::Whole,
            ),
        ],
    ),
    (
        "Sessions",
        &[
            setting("session_config.duration", "Session lifetime", Input::Whole),
            setting(
                "session_config.type",
                "Lifetime unit",
                Input::Choice(&["Days", "Hours", "Minutes"]),
            ),
            setting(
                "session_config.is_rolling",
                "Extend the session while it is used",
                Input::Flag,
            ),
        ],
    ),
    (
        "One-time codes",
        &[
            setting("otp.length", "Code length (digits)", Input::Whole),
            setting("otp.expiry_secs", "Code lifetime (seconds)", Input::Whole),
            setting("otp.attempts", "Wrong tries per code", Input::Whole),
            setting(
                "otp.resend_timer",
                "Wait before resending (seconds)",
                Input::Whole,
            ),
            setting(
                "otp.per_target",
                "Sends per number or address",
                Input::Whole,
            ),
            setting("otp.per_address", "Sends per client IP", Input::Whole),
            setting("otp.per_application", "Sends per application", Input::Whole),
            setting(
                "otp.budget_window_secs",
                "Budget window (seconds)",
                Input::Whole,
            ),
            setting(
                "otp.guesses_per_address",
                "Wrong codes per number or address from one client network a day",
                Input::Whole,
            ),
            setting(
                "otp.guesses_per_target",
                "Wrong codes per number or address a day",
                Input::Whole,
            ),
            setting(
                "otp.per_device",
                "Sends per returning shopper's device",
                Input::Whole,
            ),
        ],
    ),
];

#[derive(Serialize)]
struct FieldView {
    name: &'static str,
    label: &'static str,
    kind: &'static str,
    value: String,
    checked: bool,
    choices: &'static [&'static str],
}

#[derive(Serialize)]
struct SettingsPage {
    frame: views::Frame,
    sections: Vec<(&'static str, Vec<FieldView>)>,
    version: i64,
    can_write: bool,
}

/// The configuration form with the current values.
pub(crate) async fn show(
    State(state): State<AppState>,
    console: Console,
    query: QueryPairs,
) -> Result<Response, ConsoleError> {
    if !console.operator.may(Scope::SettingsWrite) {
        console.operator.require(Scope::CustomersRead)?;
    }
    let notice = Notice::done_when(query.get("done"), "saved", "The configuration is saved.");
    settings_page(&state, &console, StatusCode::OK, notice).await
}

async fn settings_page(
    state: &AppState,
    console: &Console,
    status: StatusCode,
    notice: Notice,
) -> Result<Response, ConsoleError> {
    let current = state
        .services
        .auth_configs
        .load(&console.application)
        .await?;
    let document = current.config.document();
    // A key the stored document lacks (saved before the key existed) shows its default,
    // as the login flows read it.
    let defaults = patron_domain::auth_config::default_document(&console.application.name);
    let sections = SECTIONS
        .iter()
        .map(|(title, settings)| {
            let fields = settings
                .iter()
                .map(|setting| {
                    let value =
                        lookup(document, setting.path).or_else(|| lookup(&defaults, setting.path));
                    let (kind, choices) = match setting.input {
                        Input::Flag => ("flag", &[][..]),
                        Input::Whole => ("whole", &[][..]),
                        Input::Choice(choices) => ("choice", choices),
                    };
                    FieldView {
                        name: setting.path,
                        label: setting.label,
                        kind,
                        value: value.map(views::shown).unwrap_or_default(),
                        checked: value.and_then(Value::as_bool).unwrap_or(false),
                        choices,
                    }
                })
                .collect();
            (*title, fields)
        })
        .collect();
    let data = SettingsPage {
        frame: console.frame("settings"),
        sections,
        version: current.version,
        can_write: console.operator.may(Scope::SettingsWrite),
    };
    page_with_status(status, "settings.html", &data, notice)
}

/// Saves the form.
pub(crate) async fn save(
    State(state): State<AppState>,
    console: Console,
    form: Form,
) -> Result<Response, ConsoleError> {
    console.operator.check_form(&form)?;
    console.operator.require(Scope::SettingsWrite)?;
    let outcome = match update_from(&form) {
        Ok(update) => save_unless_changed(&state, &console, &form, &update).await,
        Err(error) => Err(error),
    };
    match outcome {
        Ok(true) => Ok(redirect(&format!(
            "{}?done=saved",
            console.path("settings")
        ))),
        Ok(false) => {
            let notice = Notice::Error(
                "The configuration was changed since this page was opened: review the current \
                 values and save again."
                    .to_owned(),
            );
            settings_page(&state, &console, StatusCode::CONFLICT, notice).await
        }
        Err(error) => {
            let (status, notice) = Notice::from_error(error)?;
            settings_page(&state, &console, status, notice).await
        }
    }
}

/// Saves `update` unless the configuration changed since the form was shown (its
/// `version`): the form carries every setting, so saving it over another operator's change
/// would quietly undo that change. False when it changed.
async fn save_unless_changed(
    state: &AppState,
    console: &Console,
    form: &Form,
    update: &Map<String, Value>,
) -> Result<bool, ConsoleError> {
    let shown = form.get("version").unwrap_or_default().trim();
    let version = shown
        .parse::<i64>()
        .map_err(|_| ApiError::validation("version", format!("is not a version: '{shown}'")))?;
    let saved = state
        .services
        .auth_configs
        .update_at_version(&console.application, version, update)
        .await?;
    Ok(saved.is_some())
}

/// The value at a dot-separated path of the document.
fn lookup<'a>(document: &'a Map<String, Value>, path: &str) -> Option<&'a Value> {
    let mut parts = path.split('.');
    let mut value = document.get(parts.next()?)?;
    for part in parts {
        value = value.get(part)?;
    }
    Some(value)
}

/// The configuration update the form states: every setting of the form, typed (an
/// unticked checkbox is `false`), nested by its path.
fn update_from(form: &Form) -> Result<Map<String, Value>, ConsoleError> {
    let mut update = Map::new();
    for setting in SECTIONS.iter().flat_map(|(_, settings)| settings.iter()) {
        let value = match setting.input {
            Input::Flag => Value::Bool(form.checked(setting.path)),
            Input::Whole => {
                let raw = form.get(setting.path).unwrap_or_default().trim();
                let number = raw.parse::<i64>().map_err(|_| {
                    ApiError::validation(
                        setting.path,
                        format!("{} must be a whole number, not '{raw}'", setting.label),
                    )
                })?;
                Value::from(number)
            }
            Input::Choice(_) => Value::from(form.get(setting.path).unwrap_or_default().trim()),
        };
        insert(&mut update, setting.path, value);
    }
    Ok(update)
}

fn insert(document: &mut Map<String, Value>, path: &str, value: Value) {
    match path.split_once('.') {
        None => {
            document.insert(path.to_owned(), value);
        }
        Some((head, rest)) => {
            let child = document
                .entry(head.to_owned())
                .or_insert_with(|| Value::Object(Map::new()));
            if !child.is_object() {
                *child = Value::Object(Map::new());
            }
            if let Value::Object(child) = child {
                insert(child, rest, value);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::extract::QueryPairs;
    use serde_json::json;

    fn form(body: &str) -> Form {
        Form::from_pairs(QueryPairs::parse(body.as_bytes()).unwrap())
    }

    fn complete(overrides: &[(&str, &str)]) -> String {
        let mut fields: Vec<(String, String)> = SECTIONS
            .iter()
            .flat_map(|(_, settings)| settings.iter())
            .filter_map(|setting| match setting.input {
                Input::Flag => None,
                Input::Whole => Some((setting.path.to_owned(), "5".to_owned())),
                Input::Choice(choices) => Some((setting.path.to_owned(), choices[0].to_owned())),
            })
            .collect();
        for (name, value) in overrides {
            fields.retain(|(field, _)| field != name);
            fields.push(((*name).to_owned(), (*value).to_owned()));
        }
        serde_urlencoded::to_string(fields).unwrap()
    }

    #[test]
    fn the_form_becomes_a_nested_typed_update() {
        let update = update_from(&form(&complete(&[
            ("account_lockout.enable", "on"),
            ("account_lockout.attempts", " 7 "),
        ])))
        .unwrap();
        assert_eq!(
            update["account_lockout"],
            json!({"enable": true, "attempts": 7, "duration": 5})
        );
        assert_eq!(update["login"], json!({"password": false, "otp": false}));
        assert_eq!(update["session_config"]["type"], json!("Days"));
        assert_eq!(update["password_settings"]["configs"]["length"], json!(5));
    }

    #[test]
    fn a_number_that_is_not_whole_is_refused_by_name() {
        let Err(ConsoleError::Failed(ApiError::Validation { field, message })) =
            update_from(&form(&complete(&[("otp.length", "four")])))
        else {
            panic!("expected a validation error");
        };
        assert_eq!(field, "otp.length");
        assert!(message.contains("Code length"), "{message}");
    }

    #[test]
    fn lookup_follows_the_path() {
        let document = json!({"a": {"b": {"c": 3}}});
        let Value::Object(document) = document else {
            unreachable!()
        };
        assert_eq!(lookup(&document, "a.b.c"), Some(&json!(3)));
        assert_eq!(lookup(&document, "a.x"), None);
    }
}

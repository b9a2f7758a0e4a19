//! `PlatformSchema` as both APIs answer it.

use patron_domain::time::to_wire;
use patron_store::Application;
use serde_json::{json, Map, Value};

use patron_service::CurrentConfig;

/// The configuration document plus its bookkeeping keys. The Account Kit token appears under
/// both of its spellings (`account_kit` for the SDK, `accountkit` for the seed).
pub(crate) fn render(application: &Application, current: &CurrentConfig) -> Map<String, Value> {
    let mut document = current.config.document().clone();
    if let Some(Value::Object(tokens)) = document.get_mut("social_tokens") {
        if let Some(account_kit) = tokens.get("account_kit").cloned() {
            tokens.insert("accountkit".to_owned(), account_kit);
        }
    }
    document.insert("_id".to_owned(), json!(application.id.as_str()));
    document.insert("application_id".to_owned(), json!(application.id.as_str()));
    document.insert("created_at".to_owned(), json!(to_wire(current.created_at)));
    document.insert("updated_at".to_owned(), json!(to_wire(current.updated_at)));
    document.insert("__v".to_owned(), json!(current.version));
    document
}

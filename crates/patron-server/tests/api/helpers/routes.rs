//! The routes the OpenAPI document describes, for the tests that sweep or check them all.

use reqwest::Method;
use serde_json::Value;

/// One operation of the OpenAPI document.
pub struct Operation {
    /// Its method.
    pub method: Method,
    /// Its path template.
    pub path: String,
    /// The platform scopes it names (empty for storefront and open operations).
    pub scopes: Vec<String>,
}

/// Every operation the OpenAPI document describes.
pub fn documented_operations() -> Vec<Operation> {
    let document: Value = serde_json::from_str(patron_server::openapi::json()).unwrap();
    let mut operations = Vec::new();
    for (path, item) in document["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            let scopes = operation["security"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|requirement| requirement["platform"].as_array())
                .flatten()
                .map(|scope| scope.as_str().unwrap().to_owned())
                .collect();
            operations.push(Operation {
                method: method.to_ascii_uppercase().parse().unwrap(),
                path: path.clone(),
                scopes,
            });
        }
    }
    assert!(operations.len() > 60, "the document has the routes");
    operations
}

/// Every (method, path template) the API routes.
pub fn declared_routes() -> Vec<(Method, String)> {
    documented_operations()
        .into_iter()
        .map(|operation| (operation.method, operation.path))
        .collect()
}

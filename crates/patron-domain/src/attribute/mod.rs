//! Customer attributes: typed definitions a merchant declares per application, and the rules
//! a value must meet to be stored against a customer.
//!
//! A definition fixes the value's type (one of the twenty names of enums.md §1), whether it
//! holds one value or a list, and optional `min` / `max` / `regex` validations. A checked
//! value comes back with its *index entries*: one number or text per element, which the
//! stores keep beside the value so that group conditions are answered from indexes. Values
//! of encrypted definitions have no index entries: they are opaque at rest.

use chrono::{NaiveDate, TimeZone, Utc};
use regex::{Regex, RegexBuilder};
use serde_json::Value;

mod definition;

pub use definition::{
    check_slug, slug_from_name, DefinitionInput, DefinitionSpec, MAX_NAME_CHARS, MAX_SLUG_CHARS,
};

use crate::time::parse_rfc3339;
use crate::DomainError;

/// Longest text value (in characters) a string-like attribute may hold.
pub const MAX_TEXT_CHARS: usize = 4096;
/// Most elements a multi-valued attribute may hold.
pub const MAX_ELEMENTS: usize = 1000;
/// Longest `regex` validation pattern, in bytes.
pub const MAX_PATTERN_BYTES: usize = 1024;
/// Compiled-size limit of a `regex` validation, in bytes (the `regex` crate's size limit).
pub const REGEX_SIZE_LIMIT: usize = 256 * 1024;

/// What one element of a value is, for type checks, validations and conditions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueKind {
    /// Text (strings, dropdown choices, HTML, image URLs, user ids).
    Text,
    /// A finite number.
    Number,
    /// `true` or `false`.
    Boolean,
    /// A calendar date (`YYYY-MM-DD`, or an RFC 3339 time whose UTC date is taken).
    Date,
    /// An instant (RFC 3339, or `YYYY-MM-DD` meaning midnight UTC).
    DateTime,
}

/// An attribute definition's `type`: a base type and whether values are encrypted at rest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AttributeType {
    name: &'static str,
    kind: ValueKind,
    array: bool,
    encrypted: bool,
}

/// Every type name Patron accepts: the ten seed types and the newer superset (enums.md §1).
const TYPES: [AttributeType; 20] = [
    AttributeType::new("string", ValueKind::Text, false, false),
    AttributeType::new("number", ValueKind::Number, false, false),
    AttributeType::new("boolean", ValueKind::Boolean, false, false),
    AttributeType::new("date", ValueKind::Date, false, false),
    AttributeType::new("date_time", ValueKind::DateTime, false, false),
    AttributeType::new("dropdown", ValueKind::Text, false, false),
    AttributeType::new("html_string", ValueKind::Text, false, false),
    AttributeType::new("image_url", ValueKind::Text, false, false),
    AttributeType::new("string_array", ValueKind::Text, true, false),
    AttributeType::new("number_array", ValueKind::Number, true, false),
    AttributeType::new("platform_user_array", ValueKind::Text, true, false),
    AttributeType::new("store_uid_array", ValueKind::Number, true, false),
    AttributeType::new("encrypted_string", ValueKind::Text, false, true),
    AttributeType::new("encrypted_number", ValueKind::Number, false, true),
    AttributeType::new("encrypted_boolean", ValueKind::Boolean, false, true),
    AttributeType::new("encrypted_date", ValueKind::Date, false, true),
    AttributeType::new("encrypted_date_time", ValueKind::DateTime, false, true),
    AttributeType::new("encrypted_dropdown", ValueKind::Text, false, true),
    AttributeType::new("encrypted_string_array", ValueKind::Text, true, true),
    AttributeType::new("encrypted_number_array", ValueKind::Number, true, true),
];

impl AttributeType {
    const fn new(name: &'static str, kind: ValueKind, array: bool, encrypted: bool) -> Self {
        Self {
            name,
            kind,
            array,
            encrypted,
        }
    }

    /// Every type name, seed types first.
    pub fn names() -> impl Iterator<Item = &'static str> {
        TYPES.iter().map(|known| known.name)
    }

    /// Parses a type name; unknown names are refused with the list of known ones.
    pub fn parse(field: &str, name: &str) -> Result<Self, DomainError> {
        TYPES
            .iter()
            .find(|known| known.name == name)
            .copied()
            .ok_or_else(|| {
                let names: Vec<&str> = Self::names().collect();
                DomainError::invalid(
                    field,
                    format!(
                        "unknown attribute type '{name}'; expected one of {}",
                        names.join(", ")
                    ),
                )
            })
    }

    /// The wire name.
    pub fn as_str(&self) -> &'static str {
        self.name
    }

    /// What each element is.
    pub fn kind(&self) -> ValueKind {
        self.kind
    }

    /// Whether the type itself is a list (`*_array`).
    pub fn is_array(&self) -> bool {
        self.array
    }

    /// Whether the type itself is an `encrypted_*` type.
    pub fn is_encrypted(&self) -> bool {
        self.encrypted
    }
}

/// What a definition says about its values: the rules [`AttributeRules::check`] applies.
#[derive(Debug, Clone)]
pub struct AttributeRules {
    kind: ValueKind,
    multi_value: bool,
    encrypted: bool,
    checks: Vec<Check>,
}

#[derive(Debug, Clone)]
enum Check {
    /// Lower bound: value (numbers, as millis for dates) or length (text).
    Min(f64),
    /// Upper bound, like `Min`.
    Max(f64),
    Regex(Regex),
}

/// A value that passed its definition's rules.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckedValue {
    /// The value as the client sent it.
    pub json: Value,
    /// One entry per element, for conditions; empty for encrypted definitions.
    pub index: Vec<IndexEntry>,
}

/// One element of a value as the indexes hold it: dates and booleans become numbers
/// (milliseconds since the epoch; 1 and 0) so that they compare as such.
#[derive(Debug, Clone, PartialEq)]
pub enum IndexEntry {
    /// A number, date or boolean.
    Number(f64),
    /// A text.
    Text(String),
}

impl AttributeRules {
    /// Compiles the rules of a definition. `validations` is the stored list of
    /// `{type: min|max|regex, value}` objects; a malformed one is refused naming its index.
    pub fn new(
        attribute_type: AttributeType,
        multi_value: bool,
        encrypted: bool,
        validations: &[Value],
    ) -> Result<Self, DomainError> {
        let kind = attribute_type.kind();
        let mut checks = Vec::with_capacity(validations.len());
        for (index, validation) in validations.iter().enumerate() {
            let field = format!("validations[{index}]");
            let object = validation
                .as_object()
                .ok_or_else(|| DomainError::invalid(&field, "must be an object {type, value}"))?;
            let rule = object.get("type").and_then(Value::as_str).ok_or_else(|| {
                DomainError::invalid(format!("{field}.type"), "must be min, max or regex")
            })?;
            let value = object.get("value").unwrap_or(&Value::Null);
            let value_field = format!("{field}.value");
            checks.push(match rule {
                "min" => Check::Min(bound(&value_field, kind, value)?),
                "max" => Check::Max(bound(&value_field, kind, value)?),
                "regex" => Check::Regex(compile_pattern(&value_field, kind, value)?),
                other => {
                    return Err(DomainError::invalid(
                        format!("{field}.type"),
                        format!("unknown validation '{other}'; expected min, max or regex"),
                    ))
                }
            });
        }
        let (mut min, mut max) = (None, None);
        for check in &checks {
            match check {
                Check::Min(value) => min = Some(*value),
                Check::Max(value) => max = Some(*value),
                Check::Regex(_) => {}
            }
        }
        if let (Some(min), Some(max)) = (min, max) {
            if min > max {
                return Err(DomainError::invalid(
                    "validations",
                    "min is greater than max",
                ));
            }
        }
        Ok(Self {
            kind,
            multi_value: multi_value || attribute_type.is_array(),
            encrypted: encrypted || attribute_type.is_encrypted(),
            checks,
        })
    }

    /// Whether values are lists.
    pub fn multi_value(&self) -> bool {
        self.multi_value
    }

    /// Whether values are encrypted at rest (and so cannot be used in conditions).
    pub fn encrypted(&self) -> bool {
        self.encrypted
    }

    /// What each element is.
    pub fn kind(&self) -> ValueKind {
        self.kind
    }

    /// Checks `value` against the type, multiplicity and validations; `field` names it in
    /// the error, which also names the rule broken.
    pub fn check(&self, field: &str, value: &Value) -> Result<CheckedValue, DomainError> {
        let elements: Vec<&Value> = match (self.multi_value, value) {
            (_, Value::Null) => return Err(DomainError::invalid(field, "a value is required")),
            (true, Value::Array(items)) => {
                if items.len() > MAX_ELEMENTS {
                    return Err(DomainError::invalid(
                        field,
                        format!("holds more than {MAX_ELEMENTS} elements"),
                    ));
                }
                items.iter().collect()
            }
            (true, _) => {
                return Err(DomainError::invalid(
                    field,
                    "must be an array (the attribute is multi-valued)",
                ))
            }
            (false, Value::Array(_)) => {
                return Err(DomainError::invalid(
                    field,
                    "must be a single value, not an array (the attribute is not multi-valued)",
                ))
            }
            (false, single) => vec![single],
        };
        let mut index = Vec::with_capacity(elements.len());
        for (position, element) in elements.into_iter().enumerate() {
            let element_field = if self.multi_value {
                format!("{field}[{position}]")
            } else {
                field.to_owned()
            };
            index.push(self.check_element(&element_field, element)?);
        }
        if self.encrypted {
            index.clear();
        }
        Ok(CheckedValue {
            json: value.clone(),
            index,
        })
    }

    fn check_element(&self, field: &str, value: &Value) -> Result<IndexEntry, DomainError> {
        let (entry, measure) = match self.kind {
            ValueKind::Text => {
                let text = value
                    .as_str()
                    .ok_or_else(|| DomainError::invalid(field, "type: must be a string"))?;
                let chars = text.chars().count();
                if chars > MAX_TEXT_CHARS {
                    return Err(DomainError::invalid(
                        field,
                        format!("type: longer than {MAX_TEXT_CHARS} characters"),
                    ));
                }
                (IndexEntry::Text(text.to_owned()), chars as f64)
            }
            ValueKind::Number => {
                let number = value
                    .as_f64()
                    .filter(|n| n.is_finite())
                    .ok_or_else(|| DomainError::invalid(field, "type: must be a number"))?;
                (IndexEntry::Number(number), number)
            }
            ValueKind::Boolean => {
                let flag = value
                    .as_bool()
                    .ok_or_else(|| DomainError::invalid(field, "type: must be true or false"))?;
                let number = if flag { 1.0 } else { 0.0 };
                (IndexEntry::Number(number), number)
            }
            ValueKind::Date | ValueKind::DateTime => {
                let millis = value
                    .as_str()
                    .and_then(|text| date_millis(self.kind, text))
                    .ok_or_else(|| {
                        DomainError::invalid(field, "type: must be a date (YYYY-MM-DD or RFC 3339)")
                    })?;
                (IndexEntry::Number(millis as f64), millis as f64)
            }
        };
        for check in &self.checks {
            match check {
                Check::Min(min) if measure < *min => {
                    return Err(DomainError::invalid(field, self.bound_message("min", *min)))
                }
                Check::Max(max) if measure > *max => {
                    return Err(DomainError::invalid(field, self.bound_message("max", *max)))
                }
                Check::Regex(pattern) => {
                    if let IndexEntry::Text(text) = &entry {
                        if !pattern.is_match(text) {
                            return Err(DomainError::invalid(
                                field,
                                format!("regex: does not match {}", pattern.as_str()),
                            ));
                        }
                    }
                }
                _ => {}
            }
        }
        Ok(entry)
    }

    fn bound_message(&self, rule: &str, bound: f64) -> String {
        let relation = if rule == "min" { "at least" } else { "at most" };
        match self.kind {
            ValueKind::Text => format!("{rule}: must be {relation} {bound} characters long"),
            ValueKind::Date | ValueKind::DateTime => format!(
                "{rule}: must be {} {}",
                if rule == "min" {
                    "on or after"
                } else {
                    "on or before"
                },
                crate::time::to_wire(crate::time::from_millis(bound as i64))
            ),
            _ => format!("{rule}: must be {relation} {bound}"),
        }
    }
}

/// A `min`/`max` bound: a number (value or text length) or, for dates, a date.
fn bound(field: &str, kind: ValueKind, value: &Value) -> Result<f64, DomainError> {
    match kind {
        ValueKind::Text => value
            .as_f64()
            .filter(|n| n.is_finite() && *n >= 0.0 && n.fract() == 0.0)
            .ok_or_else(|| {
                DomainError::invalid(field, "must be a non-negative whole number (a length)")
            }),
        ValueKind::Number => value
            .as_f64()
            .filter(|n| n.is_finite())
            .ok_or_else(|| DomainError::invalid(field, "must be a number")),
        ValueKind::Date | ValueKind::DateTime => value
            .as_str()
            .and_then(|text| date_millis(kind, text))
            .map(|millis| millis as f64)
            .ok_or_else(|| DomainError::invalid(field, "must be a date (YYYY-MM-DD or RFC 3339)")),
        ValueKind::Boolean => Err(DomainError::invalid(
            field,
            "boolean attributes take no min or max",
        )),
    }
}

fn compile_pattern(field: &str, kind: ValueKind, value: &Value) -> Result<Regex, DomainError> {
    if kind != ValueKind::Text {
        return Err(DomainError::invalid(
            field,
            "regex applies to text attributes only",
        ));
    }
    let pattern = value
        .as_str()
        .ok_or_else(|| DomainError::invalid(field, "must be a string pattern"))?;
    if pattern.len() > MAX_PATTERN_BYTES {
        return Err(DomainError::invalid(
            field,
            format!("pattern is longer than {MAX_PATTERN_BYTES} bytes"),
        ));
    }
    RegexBuilder::new(pattern)
        .size_limit(REGEX_SIZE_LIMIT)
        .dfa_size_limit(REGEX_SIZE_LIMIT)
        .build()
        .map_err(|error| DomainError::invalid(field, format!("invalid pattern: {error}")))
}

/// Milliseconds since the epoch of a date (`YYYY-MM-DD`, midnight UTC) or RFC 3339 time;
/// for [`ValueKind::Date`] the time of day is dropped.
pub fn date_millis(kind: ValueKind, text: &str) -> Option<i64> {
    let at = match NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        Ok(date) => Utc.from_utc_datetime(&date.and_hms_opt(0, 0, 0)?),
        Err(_) => parse_rfc3339(text)?,
    };
    match kind {
        ValueKind::Date => Some(
            Utc.from_utc_datetime(&at.date_naive().and_hms_opt(0, 0, 0)?)
                .timestamp_millis(),
        ),
        _ => Some(at.timestamp_millis()),
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde_json::json;

    use super::*;

    fn rules(type_name: &str, multi: bool, validations: Value) -> AttributeRules {
        let validations = validations.as_array().cloned().unwrap_or_default();
        AttributeRules::new(
            AttributeType::parse("type", type_name).unwrap(),
            multi,
            false,
            &validations,
        )
        .unwrap()
    }

    fn message(result: Result<CheckedValue, DomainError>) -> String {
        result.unwrap_err().to_string()
    }

    #[test]
    fn knows_all_twenty_types_and_refuses_others() {
        for known in TYPES {
            assert_eq!(AttributeType::parse("type", known.as_str()).unwrap(), known);
        }
        let error = AttributeType::parse("type", "text")
            .unwrap_err()
            .to_string();
        assert!(error.contains("unknown attribute type 'text'"), "{error}");
        assert!(AttributeType::parse("type", "encrypted_number")
            .unwrap()
            .is_encrypted());
        assert!(AttributeType::parse("type", "store_uid_array")
            .unwrap()
            .is_array());
    }

    #[test]
    fn values_must_fit_type_and_multiplicity() {
        let number = rules("number", false, json!([]));
        assert_eq!(
            number.check("v", &json!(4.5)).unwrap().index,
            vec![IndexEntry::Number(4.5)]
        );
        assert!(message(number.check("v", &json!("4"))).contains("type: must be a number"));
        assert!(message(number.check("v", &json!([1]))).contains("not multi-valued"));
        assert!(message(number.check("v", &Value::Null)).contains("required"));

        let tags = rules("string_array", false, json!([]));
        assert!(tags.multi_value());
        let checked = tags.check("v", &json!(["a", "b"])).unwrap();
        assert_eq!(
            checked.index,
            vec![IndexEntry::Text("a".into()), IndexEntry::Text("b".into())]
        );
        assert!(message(tags.check("v", &json!("a"))).contains("must be an array"));
        assert!(message(tags.check("v", &json!(["a", 1]))).contains("v[1]: type"));

        let multi_dates = rules("date", true, json!([]));
        assert!(multi_dates
            .check("v", &json!(["2024-01-02", "2024-02-03T10:00:00Z"]))
            .is_ok());

        let flag = rules("boolean", false, json!([]));
        assert_eq!(
            flag.check("v", &json!(true)).unwrap().index,
            vec![IndexEntry::Number(1.0)]
        );
        assert!(flag.check("v", &json!("true")).is_err());
    }

    #[test]
    fn dates_index_as_millis_and_date_drops_the_time() {
        let date = rules("date", false, json!([]));
        let day = date
            .check("v", &json!("2024-03-01T23:59:00+00:00"))
            .unwrap();
        assert_eq!(day.index, vec![IndexEntry::Number(1_709_251_200_000.0)]);
        let instant = rules("date_time", false, json!([]));
        let at = instant.check("v", &json!("2024-03-01T00:00:01Z")).unwrap();
        assert_eq!(at.index, vec![IndexEntry::Number(1_709_251_201_000.0)]);
        assert!(message(date.check("v", &json!("01/03/2024"))).contains("must be a date"));
    }

    #[test]
    fn validations_apply_per_kind() {
        let age = rules(
            "number",
            false,
            json!([{"type": "min", "value": 18}, {"type": "max", "value": 99}]),
        );
        assert!(age.check("v", &json!(18)).is_ok());
        assert!(message(age.check("v", &json!(17))).contains("min: must be at least 18"));
        assert!(message(age.check("v", &json!(100))).contains("max: must be at most 99"));

        let code = rules(
            "string",
            false,
            json!([{"type": "min", "value": 2}, {"type": "regex", "value": "^[A-Z]+$"}]),
        );
        assert!(code.check("v", &json!("AB")).is_ok());
        assert!(message(code.check("v", &json!("A"))).contains("2 characters"));
        assert!(message(code.check("v", &json!("ab"))).contains("regex"));

        let since = rules(
            "date",
            false,
            json!([{"type": "min", "value": "2024-01-01"}]),
        );
        assert!(since.check("v", &json!("2024-01-01")).is_ok());
        assert!(message(since.check("v", &json!("2023-12-31"))).contains("on or after 2024-01-01"));
    }

    #[test]
    fn bad_validations_are_refused() {
        let number = AttributeType::parse("type", "number").unwrap();
        let text = AttributeType::parse("type", "string").unwrap();
        let cases = [
            (
                number,
                json!([{"type": "regex", "value": "a"}]),
                "text attributes only",
            ),
            (
                text,
                json!([{"type": "regex", "value": "("}]),
                "invalid pattern",
            ),
            (
                text,
                json!([{"type": "regex", "value": "a{1000}{1000}"}]),
                "invalid pattern",
            ),
            (text, json!([{"type": "min", "value": -1}]), "non-negative"),
            (
                number,
                json!([{"type": "between", "value": 1}]),
                "unknown validation",
            ),
            (
                number,
                json!([{"type": "min", "value": 5}, {"type": "max", "value": 1}]),
                "greater than max",
            ),
            (number, json!(["min"]), "must be an object"),
        ];
        for (attribute_type, validations, expected) in cases {
            let list = validations.as_array().cloned().unwrap_or_default();
            let error = AttributeRules::new(attribute_type, false, false, &list)
                .unwrap_err()
                .to_string();
            assert!(error.contains(expected), "{validations}: {error}");
        }
        let long = "a".repeat(MAX_PATTERN_BYTES + 1);
        assert!(AttributeRules::new(
            text,
            false,
            false,
            &[json!({"type": "regex", "value": long})]
        )
        .is_err());
    }

    #[test]
    fn encrypted_values_have_no_index() {
        let secret = AttributeRules::new(
            AttributeType::parse("type", "string").unwrap(),
            false,
            true,
            &[],
        )
        .unwrap();
        assert!(secret.encrypted());
        assert!(secret.check("v", &json!("x")).unwrap().index.is_empty());
        let typed = rules("encrypted_number", false, json!([]));
        assert!(typed.encrypted());
        assert!(typed.check("v", &json!("x")).is_err());
    }

    proptest! {
        #[test]
        fn numbers_within_bounds_pass_and_outside_fail(min in -1000i64..1000, span in 0i64..1000, value in -3000i64..3000) {
            let max = min + span;
            let rules = rules("number", false, json!([{"type": "min", "value": min}, {"type": "max", "value": max}]));
            let result = rules.check("v", &json!(value));
            prop_assert_eq!(result.is_ok(), (min..=max).contains(&value));
        }

        #[test]
        fn text_length_bounds_count_characters(text in "\\PC{0,20}", min in 0usize..10, span in 0usize..10) {
            let rules = rules("string", false, json!([{"type": "min", "value": min}, {"type": "max", "value": min + span}]));
            let length = text.chars().count();
            prop_assert_eq!(rules.check("v", &json!(text)).is_ok(), (min..=min + span).contains(&length));
        }

        #[test]
        fn arrays_check_every_element(values in proptest::collection::vec(-100i64..100, 0..20)) {
            let rules = rules("number_array", false, json!([{"type": "min", "value": 0}]));
            let result = rules.check("v", &json!(values));
            prop_assert_eq!(result.is_ok(), values.iter().all(|v| *v >= 0));
            if let Ok(checked) = result {
                prop_assert_eq!(checked.index.len(), values.len());
            }
        }
    }
}

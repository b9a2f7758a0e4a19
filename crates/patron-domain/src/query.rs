//! The customer query language: what `q` on `customers/list` may say.
//!
//! `q` is either plain text (matched as a prefix against emails and phone numbers) or a
//! JSON document in a small, whitelisted subset of MongoDB's filter syntax, the form
//! Fynd's own example uses: `{"$or":[{"emails.email":"a@b.com"},{"phoneNumbers.phone":"a@b.com"}]}`.
//! The parser produces a typed [`CustomerFilter`]; stores translate that into SQL with bound
//! parameters, so nothing the client writes ever reaches the database as code.
//!
//! Supported: `$and`, `$or` (arrays of documents); per field: a literal (equality), `$eq`,
//! `$in` (array), `$regex` with optional `$options: "i"`, and `$gt`/`$gte`/`$lt`/`$lte` on the
//! date fields. `$regex` accepts literal text with an optional leading `^` and trailing `$`
//! (escaped metacharacters such as `\.` are literals); anything else is refused.
//! Fields: `emails.email`, `phoneNumbers.phone` (or `phone_numbers.phone`), `_id`/`user_id`,
//! `username`, `first_name`, `last_name`, `external_id`, `rr_id`, `gender`, `active`,
//! `archive`, `created_at`, `updated_at`.

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use crate::phone::{Phone, Region};
use crate::time::parse_rfc3339;
use crate::DomainError;

/// Longest `q` accepted, in bytes.
pub const MAX_QUERY_BYTES: usize = 4096;
/// Deepest nesting of `$and`/`$or` accepted.
pub const MAX_DEPTH: usize = 4;
/// Most field conditions in one query.
pub const MAX_CONDITIONS: usize = 32;
/// Most values in one `$in`.
pub const MAX_IN_VALUES: usize = 100;
/// Longest string value in a condition.
pub const MAX_VALUE_CHARS: usize = 256;

/// A typed filter over customers.
#[derive(Debug, Clone, PartialEq)]
pub enum CustomerFilter {
    /// Every inner filter matches (`$and`, or several keys in one document).
    All(Vec<CustomerFilter>),
    /// At least one inner filter matches (`$or`).
    Any(Vec<CustomerFilter>),
    /// A condition on a text field.
    Text {
        /// Which field.
        field: TextField,
        /// How it must match.
        matcher: TextMatch,
    },
    /// A boolean flag equals a value.
    Flag {
        /// Which flag.
        field: FlagField,
        /// The required value.
        value: bool,
    },
    /// A time field compared with an instant.
    Time {
        /// Which field.
        field: TimeField,
        /// The comparison.
        bound: Bound,
        /// The instant compared with.
        at: DateTime<Utc>,
    },
}

/// Text fields a filter can test. Emails are held lower-case, phones as national numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextField {
    /// Any of the customer's email addresses.
    Email,
    /// Any of the customer's phone numbers (national number).
    Phone,
    /// The customer id.
    Id,
    /// The username.
    Username,
    /// Given name.
    FirstName,
    /// Family name.
    LastName,
    /// Merchant's external id.
    ExternalId,
    /// `rr_id`.
    RrId,
    /// Gender.
    Gender,
}

/// How a text field must match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TextMatch {
    /// Equal to one of the values (one value for plain equality, several for `$in`).
    OneOf(Vec<String>),
    /// Starts with `value`.
    Prefix {
        /// The literal prefix.
        value: String,
        /// Whether case is ignored.
        case_insensitive: bool,
    },
    /// Contains `value` anywhere.
    Contains {
        /// The literal text.
        value: String,
        /// Whether case is ignored.
        case_insensitive: bool,
    },
    /// Equal to `value` ignoring case (an anchored `^…$` regex with `i`).
    EqualsIgnoreCase(String),
}

/// Boolean customer flags.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlagField {
    /// `active` (false = blocked).
    Active,
    /// `archive` (true = archived).
    Archived,
}

/// Time fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeField {
    /// `created_at`.
    CreatedAt,
    /// `updated_at`.
    UpdatedAt,
}

/// A comparison against an instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bound {
    /// Strictly after.
    After,
    /// At or after.
    AtOrAfter,
    /// Strictly before.
    Before,
    /// At or before.
    AtOrBefore,
}

impl CustomerFilter {
    /// Whether the filter tests `flag` anywhere. A list that does not ask about `archive`
    /// shows only customers that are not archived.
    pub fn mentions(&self, flag: FlagField) -> bool {
        match self {
            CustomerFilter::All(inner) | CustomerFilter::Any(inner) => {
                inner.iter().any(|f| f.mentions(flag))
            }
            CustomerFilter::Flag { field, .. } => *field == flag,
            CustomerFilter::Text { .. } | CustomerFilter::Time { .. } => false,
        }
    }
}

/// Parses `q`. Phone values without a country code are read in `region`.
pub fn parse_query(q: &str, region: Region) -> Result<Option<CustomerFilter>, DomainError> {
    let q = q.trim();
    if q.is_empty() {
        return Ok(None);
    }
    if q.len() > MAX_QUERY_BYTES {
        return Err(invalid(format!("q is longer than {MAX_QUERY_BYTES} bytes")));
    }
    if !q.starts_with('{') {
        return plain_text(q, region).map(Some);
    }
    let document: Value =
        serde_json::from_str(q).map_err(|e| invalid(format!("q is not valid JSON: {e}")))?;
    let Value::Object(document) = document else {
        return Err(invalid("q must be a JSON object".to_owned()));
    };
    let mut parser = Parser {
        region,
        conditions: 0,
    };
    parser.document(&document, 1).map(Some)
}

fn invalid(message: String) -> DomainError {
    DomainError::InvalidQuery(message)
}

/// Plain text: a prefix of an email address, or of a phone number.
fn plain_text(text: &str, region: Region) -> Result<CustomerFilter, DomainError> {
    if text.chars().count() > MAX_VALUE_CHARS {
        return Err(invalid(format!(
            "q is longer than {MAX_VALUE_CHARS} characters"
        )));
    }
    let mut alternatives = vec![CustomerFilter::Text {
        field: TextField::Email,
        matcher: TextMatch::Prefix {
            value: text.to_lowercase(),
            case_insensitive: true,
        },
    }];
    let digits: String = text.chars().filter(char::is_ascii_digit).collect();
    let looks_like_phone = !digits.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_digit() || " +-()".contains(c));
    if looks_like_phone {
        let national = Phone::parse("q", text, None, region)
            .map_or(digits, |phone| phone.national().to_owned());
        alternatives.push(CustomerFilter::Text {
            field: TextField::Phone,
            matcher: TextMatch::Prefix {
                value: national,
                case_insensitive: false,
            },
        });
    }
    Ok(CustomerFilter::Any(alternatives))
}

enum FieldKind {
    Text(TextField),
    Flag(FlagField),
    Time(TimeField),
}

fn field_kind(path: &str) -> Option<FieldKind> {
    Some(match path {
        "emails.email" => FieldKind::Text(TextField::Email),
        "phoneNumbers.phone" | "phone_numbers.phone" => FieldKind::Text(TextField::Phone),
        "_id" | "user_id" => FieldKind::Text(TextField::Id),
        "username" => FieldKind::Text(TextField::Username),
        "first_name" | "firstName" => FieldKind::Text(TextField::FirstName),
        "last_name" | "lastName" => FieldKind::Text(TextField::LastName),
        "external_id" => FieldKind::Text(TextField::ExternalId),
        "rr_id" => FieldKind::Text(TextField::RrId),
        "gender" => FieldKind::Text(TextField::Gender),
        "active" => FieldKind::Flag(FlagField::Active),
        "archive" => FieldKind::Flag(FlagField::Archived),
        "created_at" | "createdAt" => FieldKind::Time(TimeField::CreatedAt),
        "updated_at" | "updatedAt" => FieldKind::Time(TimeField::UpdatedAt),
        _ => return None,
    })
}

struct Parser {
    region: Region,
    conditions: usize,
}

impl Parser {
    fn document(
        &mut self,
        document: &Map<String, Value>,
        depth: usize,
    ) -> Result<CustomerFilter, DomainError> {
        if depth > MAX_DEPTH {
            return Err(invalid(format!(
                "q is nested deeper than {MAX_DEPTH} levels"
            )));
        }
        if document.is_empty() {
            return Err(invalid("q contains an empty document".to_owned()));
        }
        let mut parts = Vec::with_capacity(document.len());
        for (key, value) in document {
            let part = match key.as_str() {
                "$and" => CustomerFilter::All(self.branches(key, value, depth)?),
                "$or" => CustomerFilter::Any(self.branches(key, value, depth)?),
                other if other.starts_with('$') => {
                    return Err(invalid(format!("unsupported operator '{other}' in q")));
                }
                path => self.field(path, value)?,
            };
            parts.push(part);
        }
        Ok(single_or_all(parts))
    }

    fn branches(
        &mut self,
        key: &str,
        value: &Value,
        depth: usize,
    ) -> Result<Vec<CustomerFilter>, DomainError> {
        let Value::Array(items) = value else {
            return Err(invalid(format!(
                "'{key}' in q must be an array of documents"
            )));
        };
        if items.is_empty() {
            return Err(invalid(format!("'{key}' in q must not be empty")));
        }
        items
            .iter()
            .map(|item| match item {
                Value::Object(document) => self.document(document, depth + 1),
                _ => Err(invalid(format!(
                    "'{key}' in q must be an array of documents"
                ))),
            })
            .collect()
    }

    fn field(&mut self, path: &str, value: &Value) -> Result<CustomerFilter, DomainError> {
        let kind =
            field_kind(path).ok_or_else(|| invalid(format!("unsupported field '{path}' in q")))?;
        match value {
            Value::Object(operators) => {
                let mut parts = Vec::with_capacity(operators.len());
                let options = operators.get("$options");
                for (operator, operand) in operators {
                    if operator == "$options" {
                        if !operators.contains_key("$regex") {
                            return Err(invalid(format!("'$options' on '{path}' needs '$regex'")));
                        }
                        continue;
                    }
                    parts.push(self.operator(path, &kind, operator, operand, options)?);
                }
                if parts.is_empty() {
                    return Err(invalid(format!("'{path}' in q has no condition")));
                }
                Ok(single_or_all(parts))
            }
            literal => self.operator(path, &kind, "$eq", literal, None),
        }
    }

    fn operator(
        &mut self,
        path: &str,
        kind: &FieldKind,
        operator: &str,
        operand: &Value,
        options: Option<&Value>,
    ) -> Result<CustomerFilter, DomainError> {
        self.conditions += 1;
        if self.conditions > MAX_CONDITIONS {
            return Err(invalid(format!(
                "q has more than {MAX_CONDITIONS} conditions"
            )));
        }
        let unsupported = || {
            invalid(format!(
                "unsupported operator '{operator}' on '{path}' in q"
            ))
        };
        match kind {
            FieldKind::Text(field) => {
                let matcher = match operator {
                    "$eq" => TextMatch::OneOf(vec![self.text_value(path, *field, operand)?]),
                    "$in" => {
                        let Value::Array(values) = operand else {
                            return Err(invalid(format!("'$in' on '{path}' must be an array")));
                        };
                        if values.is_empty() || values.len() > MAX_IN_VALUES {
                            return Err(invalid(format!(
                                "'$in' on '{path}' must hold 1 to {MAX_IN_VALUES} values"
                            )));
                        }
                        let values = values
                            .iter()
                            .map(|v| self.text_value(path, *field, v))
                            .collect::<Result<_, _>>()?;
                        TextMatch::OneOf(values)
                    }
                    "$regex" => self.regex(path, *field, operand, options)?,
                    _ => return Err(unsupported()),
                };
                Ok(CustomerFilter::Text {
                    field: *field,
                    matcher,
                })
            }
            FieldKind::Flag(field) => match (operator, operand) {
                ("$eq", Value::Bool(value)) => Ok(CustomerFilter::Flag {
                    field: *field,
                    value: *value,
                }),
                ("$eq", _) => Err(invalid(format!(
                    "'{path}' in q must be compared with true or false"
                ))),
                _ => Err(unsupported()),
            },
            FieldKind::Time(field) => {
                let bound = match operator {
                    "$gt" => Bound::After,
                    "$gte" => Bound::AtOrAfter,
                    "$lt" => Bound::Before,
                    "$lte" => Bound::AtOrBefore,
                    _ => return Err(unsupported()),
                };
                let at = time_value(operand).ok_or_else(|| {
                    invalid(format!(
                        "'{operator}' on '{path}' needs an RFC 3339 date-time string"
                    ))
                })?;
                Ok(CustomerFilter::Time {
                    field: *field,
                    bound,
                    at,
                })
            }
        }
    }

    /// A literal compared with a text field, normalised the way that field is stored.
    fn text_value(
        &self,
        path: &str,
        field: TextField,
        value: &Value,
    ) -> Result<String, DomainError> {
        let raw = match value {
            Value::String(text) => text.clone(),
            Value::Number(number) if field == TextField::Phone => number.to_string(),
            _ => {
                return Err(invalid(format!(
                    "'{path}' in q must be compared with a string"
                )))
            }
        };
        if raw.chars().count() > MAX_VALUE_CHARS {
            return Err(invalid(format!(
                "a value for '{path}' in q is longer than {MAX_VALUE_CHARS} characters"
            )));
        }
        Ok(match field {
            TextField::Email | TextField::Id => raw.trim().to_lowercase(),
            TextField::Phone => Phone::parse(path, &raw, None, self.region).map_or_else(
                |_| raw.trim().to_owned(),
                |phone| phone.national().to_owned(),
            ),
            _ => raw,
        })
    }

    fn regex(
        &self,
        path: &str,
        field: TextField,
        operand: &Value,
        options: Option<&Value>,
    ) -> Result<TextMatch, DomainError> {
        let Value::String(pattern) = operand else {
            return Err(invalid(format!("'$regex' on '{path}' must be a string")));
        };
        let case_insensitive = match options {
            None => false,
            Some(Value::String(flags)) if flags.is_empty() => false,
            Some(Value::String(flags)) if flags == "i" => true,
            Some(_) => return Err(invalid(format!("'$options' on '{path}' may only be \"i\""))),
        };
        if pattern.chars().count() > MAX_VALUE_CHARS {
            return Err(invalid(format!(
                "'$regex' on '{path}' is longer than {MAX_VALUE_CHARS} characters"
            )));
        }
        let (anchored_start, anchored_end, literal) =
            literal_pattern(pattern).ok_or_else(|| {
                invalid(format!(
                    "'$regex' on '{path}' may only hold literal text with optional ^ and $ anchors"
                ))
            })?;
        // Emails are stored lower-case, so they always compare without case.
        let case_insensitive = case_insensitive || field == TextField::Email;
        let value = if case_insensitive {
            literal.to_lowercase()
        } else {
            literal
        };
        if value.is_empty() {
            return Err(invalid(format!("'$regex' on '{path}' must not be empty")));
        }
        Ok(match (anchored_start, anchored_end, case_insensitive) {
            (true, true, false) => TextMatch::OneOf(vec![value]),
            (true, true, true) => TextMatch::EqualsIgnoreCase(value),
            (true, false, _) => TextMatch::Prefix {
                value,
                case_insensitive,
            },
            (false, _, _) => TextMatch::Contains {
                value,
                case_insensitive,
            },
        })
    }
}

fn single_or_all(mut parts: Vec<CustomerFilter>) -> CustomerFilter {
    if parts.len() == 1 {
        parts.remove(0)
    } else {
        CustomerFilter::All(parts)
    }
}

fn time_value(value: &Value) -> Option<DateTime<Utc>> {
    match value {
        Value::String(text) => parse_rfc3339(text),
        Value::Object(wrapper) if wrapper.len() == 1 => wrapper
            .get("$date")
            .and_then(Value::as_str)
            .and_then(parse_rfc3339),
        _ => None,
    }
}

/// Splits a regex into (starts with `^`, ends with `$`, literal text) when it holds nothing
/// but literal characters; `None` when it uses any other regex feature.
fn literal_pattern(pattern: &str) -> Option<(bool, bool, String)> {
    let mut chars = pattern.chars().peekable();
    let anchored_start = chars.next_if_eq(&'^').is_some();
    let mut literal = String::new();
    let mut anchored_end = false;
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some(escaped) if !escaped.is_alphanumeric() => literal.push(escaped),
                _ => return None,
            },
            '$' if chars.peek().is_none() => anchored_end = true,
            '.' | '*' | '+' | '?' | '(' | ')' | '[' | ']' | '{' | '}' | '|' | '^' | '$' => {
                return None
            }
            other => literal.push(other),
        }
    }
    Some((anchored_start, anchored_end, literal))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn parse(q: &str) -> Result<Option<CustomerFilter>, DomainError> {
        parse_query(q, Region::INDIA)
    }

    fn text(field: TextField, matcher: TextMatch) -> CustomerFilter {
        CustomerFilter::Text { field, matcher }
    }

    #[test]
    fn empty_means_no_filter() {
        assert_eq!(parse("  ").unwrap(), None);
    }

    #[test]
    fn the_seed_example_parses() {
        let q = r#"{"$or":[{"emails.email":"Vinit.Mav12@gofynd.com"},{"phoneNumbers.phone":"vinit.mav12@gofynd.com"}]}"#;
        assert_eq!(
            parse(q).unwrap().unwrap(),
            CustomerFilter::Any(vec![
                text(
                    TextField::Email,
                    TextMatch::OneOf(vec!["vinit.mav12@gofynd.com".into()])
                ),
                text(
                    TextField::Phone,
                    TextMatch::OneOf(vec!["vinit.mav12@gofynd.com".into()])
                ),
            ])
        );
    }

    #[test]
    fn phone_values_are_normalised() {
        let filter = parse(r#"{"phone_numbers.phone": "+91 98765 43210"}"#)
            .unwrap()
            .unwrap();
        assert_eq!(
            filter,
            text(
                TextField::Phone,
                TextMatch::OneOf(vec!["9876543210".into()])
            )
        );
        let numeric = parse(r#"{"phoneNumbers.phone": 919876543210}"#)
            .unwrap()
            .unwrap();
        assert_eq!(numeric, filter);
    }

    #[test]
    fn plain_text_matches_email_and_phone_prefixes() {
        let filter = parse("98765").unwrap().unwrap();
        let CustomerFilter::Any(alternatives) = filter else {
            panic!("expected Any")
        };
        assert_eq!(alternatives.len(), 2);
        let email_only = parse("Asha@").unwrap().unwrap();
        assert_eq!(
            email_only,
            CustomerFilter::Any(vec![text(
                TextField::Email,
                TextMatch::Prefix {
                    value: "asha@".into(),
                    case_insensitive: true
                }
            )])
        );
    }

    #[test]
    fn regexes_become_prefix_contains_or_equality() {
        let prefix = parse(r#"{"emails.email": {"$regex": "^asha\\.rao", "$options": "i"}}"#)
            .unwrap()
            .unwrap();
        assert_eq!(
            prefix,
            text(
                TextField::Email,
                TextMatch::Prefix {
                    value: "asha.rao".into(),
                    case_insensitive: true
                }
            )
        );
        let contains = parse(r#"{"first_name": {"$regex": "sha"}}"#)
            .unwrap()
            .unwrap();
        assert_eq!(
            contains,
            text(
                TextField::FirstName,
                TextMatch::Contains {
                    value: "sha".into(),
                    case_insensitive: false
                }
            )
        );
        let exact = parse(r#"{"last_name": {"$regex": "^Rao$", "$options": "i"}}"#)
            .unwrap()
            .unwrap();
        assert_eq!(
            exact,
            text(
                TextField::LastName,
                TextMatch::EqualsIgnoreCase("rao".into())
            )
        );
        assert!(parse(r#"{"first_name": {"$regex": "a.*b"}}"#).is_err());
        assert!(parse(r#"{"first_name": {"$regex": "\\d+"}}"#).is_err());
        assert!(parse(r#"{"first_name": {"$regex": "a", "$options": "x"}}"#).is_err());
        assert!(parse(r#"{"first_name": {"$options": "i"}}"#).is_err());
    }

    #[test]
    fn dates_flags_and_in() {
        let filter = parse(r#"{"created_at": {"$gte": "2024-01-01T00:00:00Z", "$lt": "2024-02-01T00:00:00.000Z"}, "active": false, "_id": {"$in": ["65A0C1E2F1D2C3B4A5968778"]}}"#)
            .unwrap()
            .unwrap();
        let CustomerFilter::All(parts) = &filter else {
            panic!("expected All")
        };
        assert_eq!(parts.len(), 3);
        assert!(!filter.mentions(FlagField::Archived));
        assert!(parse(r#"{"archive": true}"#)
            .unwrap()
            .unwrap()
            .mentions(FlagField::Archived));
        assert!(parse(r#"{"created_at": {"$gte": "yesterday"}}"#).is_err());
        assert!(parse(r#"{"active": "yes"}"#).is_err());
        assert!(parse(r#"{"username": {"$gt": "a"}}"#).is_err());
    }

    #[test]
    fn unknown_operators_and_paths_name_the_key() {
        for (q, key) in [
            (r#"{"$where": "1"}"#, "$where"),
            (r#"{"password": "x"}"#, "password"),
            (r#"{"emails.email": {"$ne": "x"}}"#, "$ne"),
            (r#"{"$or": [{"meta.secret": 1}]}"#, "meta.secret"),
        ] {
            let err = parse(q).unwrap_err().to_string();
            assert!(err.contains(key), "{q}: {err}");
        }
    }

    #[test]
    fn limits_are_enforced() {
        let deep = r#"{"$or":[{"$or":[{"$or":[{"$or":[{"$or":[{"username":"a"}]}]}]}]}]}"#;
        assert!(parse(deep).unwrap_err().to_string().contains("deeper"));
        let many: Vec<String> = (0..40)
            .map(|i| format!(r#"{{"username":"u{i}"}}"#))
            .collect();
        let wide = format!(r#"{{"$or":[{}]}}"#, many.join(","));
        assert!(parse(&wide).unwrap_err().to_string().contains("conditions"));
        assert!(parse(&"x".repeat(MAX_QUERY_BYTES + 1)).is_err());
        assert!(parse(r#"{"$or": []}"#).is_err());
        assert!(parse(r#"{"username": ["a"]}"#).is_err());
        assert!(parse("{not json").is_err());
    }

    proptest! {
        #[test]
        fn arbitrary_text_never_panics(q in "\\PC{0,200}") {
            let _ = parse(&q);
        }

        #[test]
        fn arbitrary_json_never_panics_and_unknown_keys_fail(key in "[a-z$._]{1,12}", value in "[a-z0-9@.]{0,12}") {
            let q = serde_json::json!({ key.clone(): value }).to_string();
            let result = parse(&q);
            if field_kind(&key).is_none() {
                prop_assert!(result.is_err());
            }
        }

        #[test]
        fn nested_json_never_panics(depth in 0usize..8, key in prop::sample::select(vec!["$or", "$and", "$nor", "username", "emails.email"])) {
            let mut q = serde_json::json!({"username": "x"});
            for _ in 0..depth {
                q = serde_json::json!({ key: [q] });
            }
            let _ = parse(&q.to_string());
        }
    }
}

//! Customer-group conditions: `{user_attribute_definition_id, type, value}` triples whose
//! operator (enums.md §9) is checked against the attribute's type when the group is saved,
//! and evaluated against a customer's index entries (see [`crate::attribute::IndexEntry`]).
//!
//! Semantics, the same in [`Predicate::matches`] and in the stores' SQL:
//! - a customer without a value for the attribute satisfies no condition on it;
//! - on a multi-valued attribute, a positive operator (`eq`, `gt`, `cnt`, `in`, …) holds
//!   when some element satisfies it; a negative one (`ne`, `nct`, `nis`, `nin`) holds when
//!   the customer has a value and no element satisfies its positive counterpart;
//! - numbers compare as numbers, dates as instants (date attributes as whole UTC days),
//!   booleans as 1 and 0; text comparisons are exact and case-sensitive.

use serde_json::Value;

use crate::attribute::{date_millis, AttributeRules, IndexEntry, ValueKind};
use crate::DomainError;

/// Most items an `in` / `nin` list may hold.
pub const MAX_LIST_ITEMS: usize = 1000;
/// Most conditions one group may have.
pub const MAX_CONDITIONS: usize = 20;

/// A condition operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operator {
    /// Equal.
    Eq,
    /// Not equal.
    Ne,
    /// Greater than (after, for dates).
    Gt,
    /// Less than (before).
    Lt,
    /// Greater than or equal.
    Gte,
    /// Less than or equal.
    Lte,
    /// Text contains.
    Cnt,
    /// Text does not contain.
    Nct,
    /// Text is exactly.
    Is,
    /// Text is not exactly.
    Nis,
    /// Text starts with.
    Sw,
    /// Text ends with.
    Ew,
    /// Between two bounds, inclusive.
    Btw,
    /// One of a list.
    In,
    /// None of a list.
    Nin,
}

impl Operator {
    /// Every operator with its wire name.
    pub const ALL: [(Operator, &'static str); 15] = [
        (Operator::Eq, "eq"),
        (Operator::Ne, "ne"),
        (Operator::Gt, "gt"),
        (Operator::Lt, "lt"),
        (Operator::Gte, "gte"),
        (Operator::Lte, "lte"),
        (Operator::Cnt, "cnt"),
        (Operator::Nct, "nct"),
        (Operator::Is, "is"),
        (Operator::Nis, "nis"),
        (Operator::Sw, "sw"),
        (Operator::Ew, "ew"),
        (Operator::Btw, "btw"),
        (Operator::In, "in"),
        (Operator::Nin, "nin"),
    ];

    /// Parses a wire name.
    pub fn parse(field: &str, name: &str) -> Result<Self, DomainError> {
        Self::ALL
            .iter()
            .find(|(_, known)| *known == name)
            .map(|(operator, _)| *operator)
            .ok_or_else(|| {
                let names: Vec<&str> = Self::ALL.iter().map(|(_, n)| *n).collect();
                DomainError::invalid(
                    field,
                    format!(
                        "unknown operator '{name}'; expected one of {}",
                        names.join(", ")
                    ),
                )
            })
    }

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(operator, _)| *operator == self)
            .map_or("eq", |(_, name)| name)
    }
}

/// How numbers (and dates, booleans) compare.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Comparison {
    /// `=`
    Equal,
    /// `>`
    Greater,
    /// `<`
    Less,
    /// `>=`
    GreaterOrEqual,
    /// `<=`
    LessOrEqual,
}

/// The positive test a condition applies to each element.
#[derive(Debug, Clone, PartialEq)]
pub enum Test {
    /// Compare a numeric element with a number.
    Compare(Comparison, f64),
    /// A numeric element within `[low, high]`.
    Between(f64, f64),
    /// A numeric element equal to one of these.
    NumberIn(Vec<f64>),
    /// A text element equal to this.
    TextEquals(String),
    /// A text element containing this.
    TextContains(String),
    /// A text element starting with this.
    TextStartsWith(String),
    /// A text element ending with this.
    TextEndsWith(String),
    /// A text element equal to one of these.
    TextIn(Vec<String>),
}

/// A compiled condition: a positive test, possibly negated (see the module docs).
#[derive(Debug, Clone, PartialEq)]
pub struct Predicate {
    /// Whether the condition holds when *no* element passes `test` (and a value exists).
    pub negated: bool,
    /// The per-element test.
    pub test: Test,
}

impl Predicate {
    /// Checks a condition against the attribute's rules: the operator must suit the type,
    /// the value must parse as that type, and the attribute must not be encrypted.
    /// `field` names the condition in errors (e.g. `conditions[0]`).
    pub fn compile(
        field: &str,
        rules: &AttributeRules,
        operator: Operator,
        value: &Value,
    ) -> Result<Self, DomainError> {
        if rules.encrypted() {
            return Err(DomainError::invalid(
                field,
                "the attribute is encrypted and cannot be used in group conditions",
            ));
        }
        let kind = rules.kind();
        let value_field = format!("{field}.value");
        let refuse = || {
            DomainError::invalid(
                format!("{field}.type"),
                format!(
                    "operator '{}' does not apply to {} attributes",
                    operator.as_str(),
                    kind_name(kind)
                ),
            )
        };
        let (negated, test) = match kind {
            ValueKind::Text => match operator {
                Operator::Eq | Operator::Is => {
                    (false, Test::TextEquals(text(&value_field, value)?))
                }
                Operator::Ne | Operator::Nis => {
                    (true, Test::TextEquals(text(&value_field, value)?))
                }
                Operator::Cnt => (false, Test::TextContains(text(&value_field, value)?)),
                Operator::Nct => (true, Test::TextContains(text(&value_field, value)?)),
                Operator::Sw => (false, Test::TextStartsWith(text(&value_field, value)?)),
                Operator::Ew => (false, Test::TextEndsWith(text(&value_field, value)?)),
                Operator::In | Operator::Nin => {
                    let items = list(&value_field, value)?
                        .iter()
                        .map(|item| text(&value_field, item))
                        .collect::<Result<Vec<_>, _>>()?;
                    (operator == Operator::Nin, Test::TextIn(items))
                }
                _ => return Err(refuse()),
            },
            ValueKind::Boolean => match operator {
                Operator::Eq | Operator::Is => (
                    false,
                    Test::Compare(Comparison::Equal, boolean(&value_field, value)?),
                ),
                Operator::Ne | Operator::Nis => (
                    true,
                    Test::Compare(Comparison::Equal, boolean(&value_field, value)?),
                ),
                _ => return Err(refuse()),
            },
            ValueKind::Number | ValueKind::Date | ValueKind::DateTime => {
                let one = |value: &Value| number(&value_field, kind, value);
                match operator {
                    Operator::Eq => (false, Test::Compare(Comparison::Equal, one(value)?)),
                    Operator::Ne => (true, Test::Compare(Comparison::Equal, one(value)?)),
                    Operator::Gt => (false, Test::Compare(Comparison::Greater, one(value)?)),
                    Operator::Lt => (false, Test::Compare(Comparison::Less, one(value)?)),
                    Operator::Gte => (
                        false,
                        Test::Compare(Comparison::GreaterOrEqual, one(value)?),
                    ),
                    Operator::Lte => (false, Test::Compare(Comparison::LessOrEqual, one(value)?)),
                    Operator::Btw => {
                        let bounds = list(&value_field, value)?;
                        let [low, high] = bounds.as_slice() else {
                            return Err(DomainError::invalid(
                                &value_field,
                                "btw needs exactly two bounds",
                            ));
                        };
                        let (low, high) = (one(low)?, one(high)?);
                        if low > high {
                            return Err(DomainError::invalid(
                                &value_field,
                                "the first bound of btw is greater than the second",
                            ));
                        }
                        (false, Test::Between(low, high))
                    }
                    Operator::In | Operator::Nin => {
                        let items = list(&value_field, value)?
                            .iter()
                            .map(one)
                            .collect::<Result<Vec<_>, _>>()?;
                        (operator == Operator::Nin, Test::NumberIn(items))
                    }
                    _ => return Err(refuse()),
                }
            }
        };
        Ok(Self { negated, test })
    }

    /// Whether a customer whose value has these index entries satisfies the condition.
    pub fn matches(&self, entries: &[IndexEntry]) -> bool {
        if entries.is_empty() {
            return false;
        }
        let any = entries.iter().any(|entry| self.test.passes(entry));
        any != self.negated
    }
}

impl Test {
    /// Whether one element passes.
    pub fn passes(&self, entry: &IndexEntry) -> bool {
        match (self, entry) {
            (Test::Compare(comparison, bound), IndexEntry::Number(n)) => match comparison {
                Comparison::Equal => n == bound,
                Comparison::Greater => n > bound,
                Comparison::Less => n < bound,
                Comparison::GreaterOrEqual => n >= bound,
                Comparison::LessOrEqual => n <= bound,
            },
            (Test::Between(low, high), IndexEntry::Number(n)) => low <= n && n <= high,
            (Test::NumberIn(items), IndexEntry::Number(n)) => items.contains(n),
            (Test::TextEquals(wanted), IndexEntry::Text(t)) => t == wanted,
            (Test::TextContains(part), IndexEntry::Text(t)) => t.contains(part.as_str()),
            (Test::TextStartsWith(part), IndexEntry::Text(t)) => t.starts_with(part.as_str()),
            (Test::TextEndsWith(part), IndexEntry::Text(t)) => t.ends_with(part.as_str()),
            (Test::TextIn(items), IndexEntry::Text(t)) => items.contains(t),
            _ => false,
        }
    }
}

fn kind_name(kind: ValueKind) -> &'static str {
    match kind {
        ValueKind::Text => "text",
        ValueKind::Number => "number",
        ValueKind::Boolean => "boolean",
        ValueKind::Date => "date",
        ValueKind::DateTime => "date-time",
    }
}

/// A text operand: a string, or a number written as text.
fn text(field: &str, value: &Value) -> Result<String, DomainError> {
    match value {
        Value::String(text) => Ok(text.clone()),
        Value::Number(number) => Ok(number.to_string()),
        _ => Err(DomainError::invalid(field, "must be a string")),
    }
}

/// A boolean operand as 1 or 0: `true`/`false`, or the strings.
fn boolean(field: &str, value: &Value) -> Result<f64, DomainError> {
    match value {
        Value::Bool(true) => Ok(1.0),
        Value::Bool(false) => Ok(0.0),
        Value::String(text) if text == "true" => Ok(1.0),
        Value::String(text) if text == "false" => Ok(0.0),
        _ => Err(DomainError::invalid(field, "must be true or false")),
    }
}

/// A numeric operand: a number (or numeric string) for numbers, a date for dates.
fn number(field: &str, kind: ValueKind, value: &Value) -> Result<f64, DomainError> {
    match kind {
        ValueKind::Date | ValueKind::DateTime => value
            .as_str()
            .and_then(|text| date_millis(kind, text.trim()))
            .map(|millis| millis as f64)
            .ok_or_else(|| DomainError::invalid(field, "must be a date (YYYY-MM-DD or RFC 3339)")),
        _ => match value {
            Value::Number(number) => number.as_f64(),
            Value::String(text) => text.trim().parse::<f64>().ok(),
            _ => None,
        }
        .filter(|n| n.is_finite())
        .ok_or_else(|| DomainError::invalid(field, "must be a number")),
    }
}

/// A list operand: a JSON array, or a comma-separated string (clients whose models type
/// the value as a string send lists that way).
fn list(field: &str, value: &Value) -> Result<Vec<Value>, DomainError> {
    let items: Vec<Value> = match value {
        Value::Array(items) => items.clone(),
        Value::String(text) => text
            .split(',')
            .map(|item| Value::String(item.trim().to_owned()))
            .collect(),
        _ => {
            return Err(DomainError::invalid(
                field,
                "must be a list (an array or comma-separated text)",
            ))
        }
    };
    if items.is_empty() || items.len() > MAX_LIST_ITEMS {
        return Err(DomainError::invalid(
            field,
            format!("must hold 1 to {MAX_LIST_ITEMS} items"),
        ));
    }
    Ok(items)
}

/// The operand of a condition typed into a form as text, for an attribute whose elements
/// are of `kind`: numbers become JSON numbers and `true`/`false` booleans (text that is
/// neither stays text, for [`Predicate::compile`] to refuse with its message); `in` and
/// `nin` take a comma-separated list and `btw` two values separated by a comma.
pub fn operand_from_text(kind: ValueKind, operator: Operator, text: &str) -> Value {
    let one = |item: &str| {
        let item = item.trim();
        match kind {
            ValueKind::Number => match item.parse::<i64>() {
                Ok(whole) => Value::from(whole),
                Err(_) => item
                    .parse::<f64>()
                    .ok()
                    .and_then(serde_json::Number::from_f64)
                    .map_or_else(|| Value::from(item), Value::Number),
            },
            ValueKind::Boolean => match item {
                "true" => Value::Bool(true),
                "false" => Value::Bool(false),
                other => Value::from(other),
            },
            ValueKind::Text | ValueKind::Date | ValueKind::DateTime => Value::from(item),
        }
    };
    match operator {
        Operator::In | Operator::Nin | Operator::Btw => {
            Value::Array(text.split(',').map(one).collect())
        }
        _ => one(text),
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde_json::json;

    use super::*;
    use crate::attribute::AttributeType;

    fn rules(type_name: &str) -> AttributeRules {
        AttributeRules::new(
            AttributeType::parse("type", type_name).unwrap(),
            false,
            false,
            &[],
        )
        .unwrap()
    }

    fn compile(type_name: &str, op: &str, value: Value) -> Result<Predicate, DomainError> {
        Predicate::compile(
            "conditions[0]",
            &rules(type_name),
            Operator::parse("type", op).unwrap(),
            &value,
        )
    }

    fn holds(type_name: &str, op: &str, operand: Value, stored: Value) -> bool {
        let rules = rules(type_name);
        let entries = rules.check("v", &stored).unwrap().index;
        compile(type_name, op, operand).unwrap().matches(&entries)
    }

    #[test]
    fn every_operator_round_trips_its_name() {
        for (operator, name) in Operator::ALL {
            assert_eq!(Operator::parse("type", name).unwrap(), operator);
            assert_eq!(operator.as_str(), name);
        }
        assert!(Operator::parse("type", "like").is_err());
    }

    #[test]
    fn number_operators() {
        let cases = [
            ("eq", json!(5), true),
            ("eq", json!("5"), true),
            ("ne", json!(5), false),
            ("ne", json!(6), true),
            ("gt", json!(4), true),
            ("gt", json!(5), false),
            ("gte", json!(5), true),
            ("lt", json!(6), true),
            ("lt", json!(5), false),
            ("lte", json!(5), true),
            ("btw", json!([1, 5]), true),
            ("btw", json!("6,9"), false),
            ("in", json!([1, 5]), true),
            ("in", json!("1,2"), false),
            ("nin", json!([1, 2]), true),
            ("nin", json!([5]), false),
        ];
        for (op, operand, expected) in cases {
            assert_eq!(
                holds("number", op, operand.clone(), json!(5)),
                expected,
                "{op} {operand}"
            );
        }
        for op in ["cnt", "nct", "is", "nis", "sw", "ew"] {
            let error = compile("number", op, json!("1")).unwrap_err().to_string();
            assert!(error.contains("does not apply to number"), "{op}: {error}");
        }
        assert!(compile("number", "eq", json!("five")).is_err());
        assert!(compile("number", "btw", json!([1])).is_err());
        assert!(compile("number", "btw", json!([5, 1])).is_err());
    }

    #[test]
    fn text_operators() {
        let cases = [
            ("eq", "gold", true),
            ("is", "gold", true),
            ("eq", "Gold", false),
            ("ne", "silver", true),
            ("nis", "gold", false),
            ("cnt", "ol", true),
            ("nct", "ol", false),
            ("nct", "x", true),
            ("sw", "go", true),
            ("sw", "ol", false),
            ("ew", "ld", true),
            ("ew", "go", false),
            ("in", "silver,gold", true),
            ("nin", "silver,gold", false),
        ];
        for (op, operand, expected) in cases {
            assert_eq!(
                holds("string", op, json!(operand), json!("gold")),
                expected,
                "{op} {operand}"
            );
        }
        for op in ["gt", "lt", "gte", "lte", "btw"] {
            assert!(compile("string", op, json!("a")).is_err(), "{op}");
        }
    }

    #[test]
    fn date_and_boolean_operators() {
        assert!(holds(
            "date",
            "gt",
            json!("2024-01-01"),
            json!("2024-01-02")
        ));
        assert!(holds(
            "date",
            "eq",
            json!("2024-01-02T18:00:00Z"),
            json!("2024-01-02")
        ));
        assert!(holds(
            "date",
            "btw",
            json!(["2024-01-01", "2024-12-31"]),
            json!("2024-06-30")
        ));
        assert!(!holds(
            "date_time",
            "lt",
            json!("2024-01-01T00:00:00Z"),
            json!("2024-01-01T00:00:01Z")
        ));
        assert!(compile("date", "gt", json!(12)).is_err());
        assert!(holds("boolean", "eq", json!(true), json!(true)));
        assert!(holds("boolean", "eq", json!("false"), json!(false)));
        assert!(holds("boolean", "ne", json!(true), json!(false)));
        assert!(compile("boolean", "gt", json!(true)).is_err());
    }

    #[test]
    fn arrays_match_any_element_and_negations_need_a_value() {
        let tags = AttributeRules::new(
            AttributeType::parse("type", "string_array").unwrap(),
            false,
            false,
            &[],
        )
        .unwrap();
        let entries = tags.check("v", &json!(["vip", "new"])).unwrap().index;
        let eq = Predicate::compile("c", &tags, Operator::Eq, &json!("vip")).unwrap();
        let ne = Predicate::compile("c", &tags, Operator::Ne, &json!("vip")).unwrap();
        let nin = Predicate::compile("c", &tags, Operator::Nin, &json!(["old"])).unwrap();
        assert!(eq.matches(&entries));
        assert!(!ne.matches(&entries));
        assert!(nin.matches(&entries));
        assert!(!ne.matches(&[]), "no value satisfies no condition");
        assert!(!eq.matches(&[]));
    }

    #[test]
    fn encrypted_attributes_cannot_be_conditions() {
        let secret = AttributeRules::new(
            AttributeType::parse("type", "encrypted_string").unwrap(),
            false,
            false,
            &[],
        )
        .unwrap();
        let error = Predicate::compile("conditions[1]", &secret, Operator::Eq, &json!("x"))
            .unwrap_err()
            .to_string();
        assert!(
            error.starts_with("conditions[1]: the attribute is encrypted"),
            "{error}"
        );
    }

    proptest! {
        #[test]
        fn negation_is_the_complement_when_a_value_exists(stored in -50i64..50, operand in -50i64..50) {
            let entries = vec![IndexEntry::Number(stored as f64)];
            let eq = compile("number", "eq", json!(operand)).unwrap();
            let ne = compile("number", "ne", json!(operand)).unwrap();
            prop_assert_ne!(eq.matches(&entries), ne.matches(&entries));
            let gt = compile("number", "gt", json!(operand)).unwrap();
            let lte = compile("number", "lte", json!(operand)).unwrap();
            prop_assert_ne!(gt.matches(&entries), lte.matches(&entries));
        }

        #[test]
        fn between_agrees_with_two_comparisons(stored in -50i64..50, low in -50i64..50, span in 0i64..50) {
            let entries = vec![IndexEntry::Number(stored as f64)];
            let between = compile("number", "btw", json!([low, low + span])).unwrap();
            let gte = compile("number", "gte", json!(low)).unwrap();
            let lte = compile("number", "lte", json!(low + span)).unwrap();
            prop_assert_eq!(between.matches(&entries), gte.matches(&entries) && lte.matches(&entries));
        }

        #[test]
        fn text_tests_agree_with_str_methods(stored in "[a-c]{0,6}", part in "[a-c]{0,3}") {
            let entries = vec![IndexEntry::Text(stored.clone())];
            prop_assert_eq!(compile("string", "cnt", json!(part.clone())).unwrap().matches(&entries), stored.contains(&part));
            prop_assert_eq!(compile("string", "sw", json!(part.clone())).unwrap().matches(&entries), stored.starts_with(&part));
            prop_assert_eq!(compile("string", "ew", json!(part.clone())).unwrap().matches(&entries), stored.ends_with(&part));
        }
    }

    #[test]
    fn operands_typed_into_a_form_take_the_attribute_kind() {
        use serde_json::json;
        assert_eq!(
            operand_from_text(ValueKind::Number, Operator::Gte, " 42 "),
            json!(42)
        );
        assert_eq!(
            operand_from_text(ValueKind::Number, Operator::Lt, "2.5"),
            json!(2.5)
        );
        assert_eq!(
            operand_from_text(ValueKind::Number, Operator::Eq, "many"),
            json!("many")
        );
        assert_eq!(
            operand_from_text(ValueKind::Boolean, Operator::Is, "true"),
            json!(true)
        );
        assert_eq!(
            operand_from_text(ValueKind::Text, Operator::Eq, "42"),
            json!("42")
        );
        assert_eq!(
            operand_from_text(ValueKind::Text, Operator::In, "gold, silver"),
            json!(["gold", "silver"])
        );
        assert_eq!(
            operand_from_text(ValueKind::Number, Operator::Btw, "1,10"),
            json!([1, 10])
        );
    }
}

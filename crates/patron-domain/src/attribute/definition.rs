//! Attribute definitions: what a create or update request may set, the rules a valid
//! definition meets, and slugs.

use serde_json::{Map, Value};

use super::{AttributeRules, AttributeType};
use crate::DomainError;

/// Longest slug.
pub const MAX_SLUG_CHARS: usize = 64;
/// Longest definition name.
pub const MAX_NAME_CHARS: usize = 200;

/// A definition's settable fields, as a create or update request supplies them; `None`
/// means "not given" (keep the current value on update, use the default on create).
#[derive(Debug, Clone, Default)]
pub struct DefinitionInput {
    /// Display name.
    pub name: Option<String>,
    /// Unique key per application.
    pub slug: Option<String>,
    /// Free text.
    pub description: Option<String>,
    /// Type name.
    pub attribute_type: Option<String>,
    /// `multi_value` or `is_multi_value`.
    pub multi_value: Option<bool>,
    /// Whether shoppers may edit the value.
    pub customer_editable: Option<bool>,
    /// Whether values are encrypted at rest.
    pub encrypted: Option<bool>,
    /// Whether the definition is pinned.
    pub pinned: Option<bool>,
    /// Order among pinned definitions.
    pub pin_order: Option<i64>,
    /// Default value (typed by `type`); `Some(Null)` clears it.
    pub default_value: Option<Value>,
    /// `{type, value}` validation objects.
    pub validations: Option<Vec<Value>>,
    /// Other keys (icon, ordering_channels, masking, registration, …), kept and echoed.
    pub extras: Map<String, Value>,
}

/// A valid attribute definition's content (everything but ids, authorship and times).
#[derive(Debug, Clone, PartialEq)]
pub struct DefinitionSpec {
    /// Display name.
    pub name: String,
    /// Unique key per application: lowercase letters, digits, `_` and `-`.
    pub slug: String,
    /// Free text.
    pub description: String,
    /// The value type.
    pub attribute_type: AttributeType,
    /// Whether values are lists (always true for `*_array` types).
    pub multi_value: bool,
    /// Whether shoppers may edit the value.
    pub customer_editable: bool,
    /// Whether values are encrypted at rest (always true for `encrypted_*` types).
    pub encrypted: bool,
    /// Whether the definition is pinned.
    pub pinned: bool,
    /// Order among pinned definitions.
    pub pin_order: Option<i64>,
    /// A default value that satisfies the rules.
    pub default_value: Option<Value>,
    /// The `{type, value}` validations, as given.
    pub validations: Vec<Value>,
    /// Other keys, echoed back.
    pub extras: Map<String, Value>,
}

impl DefinitionSpec {
    /// Builds a new definition from a create request: `name` and `type` are required; the
    /// slug is derived from the name when absent.
    pub fn create(input: DefinitionInput) -> Result<Self, DomainError> {
        let name = input
            .name
            .clone()
            .ok_or_else(|| DomainError::invalid("name", "is required"))?;
        let type_name = input
            .attribute_type
            .clone()
            .ok_or_else(|| DomainError::invalid("type", "is required"))?;
        let attribute_type = AttributeType::parse("type", &type_name)?;
        let slug = match &input.slug {
            Some(slug) => slug.clone(),
            None => slug_from_name(&name),
        };
        let spec = Self {
            name,
            slug,
            description: String::new(),
            attribute_type,
            multi_value: false,
            customer_editable: false,
            encrypted: false,
            pinned: false,
            pin_order: None,
            default_value: None,
            validations: Vec::new(),
            extras: Map::new(),
        };
        spec.apply(input, true)
    }

    /// Applies an update request. The type, multiplicity and encryption of a definition
    /// cannot change once created (stored values would no longer fit); sending the current
    /// values is accepted.
    pub fn update(&self, input: DefinitionInput) -> Result<Self, DomainError> {
        if let Some(name) = &input.attribute_type {
            let requested = AttributeType::parse("type", name)?;
            if requested != self.attribute_type {
                return Err(DomainError::invalid(
                    "type",
                    "cannot be changed once the definition exists; create a new definition",
                ));
            }
        }
        if input.multi_value.is_some_and(|m| m != self.multi_value)
            && !self.attribute_type.is_array()
        {
            return Err(DomainError::invalid(
                "multi_value",
                "cannot be changed once the definition exists",
            ));
        }
        if input.encrypted.is_some_and(|e| e != self.encrypted)
            && !self.attribute_type.is_encrypted()
        {
            return Err(DomainError::invalid(
                "encrypted",
                "cannot be changed once the definition exists",
            ));
        }
        self.clone().apply(input, false)
    }

    fn apply(mut self, input: DefinitionInput, creating: bool) -> Result<Self, DomainError> {
        if let Some(name) = input.name {
            self.name = name;
        }
        if let Some(slug) = input.slug {
            self.slug = slug;
        }
        if let Some(description) = input.description {
            self.description = description;
        }
        if creating {
            self.multi_value = input.multi_value.unwrap_or(false);
            self.encrypted = input.encrypted.unwrap_or(false);
        }
        self.multi_value |= self.attribute_type.is_array();
        self.encrypted |= self.attribute_type.is_encrypted();
        if let Some(editable) = input.customer_editable {
            self.customer_editable = editable;
        }
        if let Some(pinned) = input.pinned {
            self.pinned = pinned;
        }
        if let Some(order) = input.pin_order {
            if order < 0 {
                return Err(DomainError::invalid("pin_order", "must not be negative"));
            }
            self.pin_order = Some(order);
        }
        if let Some(validations) = input.validations {
            self.validations = validations;
        }
        if let Some(default) = input.default_value {
            self.default_value = (!default.is_null()).then_some(default);
        }
        for (key, value) in input.extras {
            self.extras.insert(key, value);
        }
        self.validate()?;
        Ok(self)
    }

    fn validate(&self) -> Result<(), DomainError> {
        let name = self.name.trim();
        if name.is_empty() {
            return Err(DomainError::invalid("name", "must not be empty"));
        }
        if name.chars().count() > MAX_NAME_CHARS {
            return Err(DomainError::invalid(
                "name",
                format!("is longer than {MAX_NAME_CHARS} characters"),
            ));
        }
        check_slug(&self.slug)?;
        let rules = self.rules()?;
        if let Some(default) = &self.default_value {
            rules.check("default_value", default)?;
        }
        Ok(())
    }

    /// The compiled rules for this definition's values.
    pub fn rules(&self) -> Result<AttributeRules, DomainError> {
        AttributeRules::new(
            self.attribute_type,
            self.multi_value,
            self.encrypted,
            &self.validations,
        )
    }
}

/// Checks a slug: 1–64 lowercase letters, digits, `_` or `-`.
pub fn check_slug(slug: &str) -> Result<(), DomainError> {
    if slug.is_empty() || slug.chars().count() > MAX_SLUG_CHARS {
        return Err(DomainError::invalid(
            "slug",
            format!("must be 1 to {MAX_SLUG_CHARS} characters long"),
        ));
    }
    if !slug
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-')
    {
        return Err(DomainError::invalid(
            "slug",
            "may hold only lowercase letters, digits, '_' and '-'",
        ));
    }
    Ok(())
}

/// Derives a slug from a name: lowercase ASCII letters and digits kept, runs of anything
/// else become one `_`, trimmed; `attribute` when nothing is left.
pub fn slug_from_name(name: &str) -> String {
    let mut slug = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            slug.push(c.to_ascii_lowercase());
        } else if !slug.ends_with('_') && !slug.is_empty() {
            slug.push('_');
        }
    }
    let slug: String = slug
        .trim_end_matches('_')
        .chars()
        .take(MAX_SLUG_CHARS)
        .collect();
    let slug = slug.trim_end_matches('_').to_owned();
    if slug.is_empty() {
        "attribute".to_owned()
    } else {
        slug
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde_json::json;

    use super::*;

    #[test]
    fn definitions_derive_slugs_and_check_defaults() {
        let spec = DefinitionSpec::create(DefinitionInput {
            name: Some("Loyalty Tier (2024)".into()),
            attribute_type: Some("string".into()),
            default_value: Some(json!("gold")),
            validations: Some(vec![json!({"type": "max", "value": 10})]),
            ..DefinitionInput::default()
        })
        .unwrap();
        assert_eq!(spec.slug, "loyalty_tier_2024");
        let too_long = DefinitionSpec::create(DefinitionInput {
            name: Some("x".into()),
            attribute_type: Some("string".into()),
            default_value: Some(json!("far too long a default")),
            validations: Some(vec![json!({"type": "max", "value": 10})]),
            ..DefinitionInput::default()
        });
        assert!(too_long
            .unwrap_err()
            .to_string()
            .starts_with("default_value: max"));
        let bad_slug = DefinitionSpec::create(DefinitionInput {
            name: Some("x".into()),
            slug: Some("Has Space".into()),
            attribute_type: Some("string".into()),
            ..DefinitionInput::default()
        });
        assert!(bad_slug.unwrap_err().to_string().starts_with("slug:"));
        assert!(DefinitionSpec::create(DefinitionInput {
            name: Some("x".into()),
            ..DefinitionInput::default()
        })
        .is_err());
    }

    #[test]
    fn updates_keep_type_multiplicity_and_encryption() {
        let spec = DefinitionSpec::create(DefinitionInput {
            name: Some("Tags".into()),
            attribute_type: Some("string_array".into()),
            ..DefinitionInput::default()
        })
        .unwrap();
        assert!(spec.multi_value);
        let renamed = spec
            .update(DefinitionInput {
                name: Some("Labels".into()),
                attribute_type: Some("string_array".into()),
                ..DefinitionInput::default()
            })
            .unwrap();
        assert_eq!(
            (renamed.name.as_str(), renamed.slug.as_str()),
            ("Labels", "tags")
        );
        assert!(spec
            .update(DefinitionInput {
                attribute_type: Some("number".into()),
                ..DefinitionInput::default()
            })
            .is_err());
        let plain = DefinitionSpec::create(DefinitionInput {
            name: Some("n".into()),
            attribute_type: Some("number".into()),
            ..DefinitionInput::default()
        })
        .unwrap();
        assert!(plain
            .update(DefinitionInput {
                encrypted: Some(true),
                ..DefinitionInput::default()
            })
            .is_err());
        assert!(plain
            .update(DefinitionInput {
                multi_value: Some(true),
                ..DefinitionInput::default()
            })
            .is_err());
        assert!(plain
            .update(DefinitionInput {
                multi_value: Some(false),
                ..DefinitionInput::default()
            })
            .is_ok());
    }

    proptest! {
        #[test]
        fn derived_slugs_are_always_valid(name in "\\PC{0,80}") {
            prop_assert!(check_slug(&slug_from_name(&name)).is_ok());
        }
    }
}

//! Customer import files: what each column of the header means, and one row read into the
//! customer it describes. Parsing the file format (CSV, XLSX) is the caller's; this module
//! sees a header and rows of text cells.

use crate::attribute::ValueKind;
use crate::customer::Profile;
use crate::email::Email;
use crate::error::DomainError;
use crate::phone::{Phone, Region};
use serde_json::Value;

/// The profile and contact columns an import file may have.
const PROFILE_COLUMNS: [&str; 9] = [
    "first_name",
    "last_name",
    "email",
    "phone_number",
    "country_code",
    "gender",
    "external_id",
    "password_hash",
    "password_salt",
];

/// Columns an export writes that an import accepts and ignores, so an exported file can be
/// imported elsewhere as it is.
const IGNORED_COLUMNS: [&str; 5] = ["user_id", "username", "active", "created_at", "updated_at"];

/// A file's header understood: where each profile column is and which columns hold
/// attribute values (by definition slug).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportColumns {
    profile: [Option<usize>; PROFILE_COLUMNS.len()],
    attributes: Vec<(String, usize)>,
}

/// One row read: the customer's profile and contacts, the password hash it brings (format
/// not yet checked), and its attribute cells by slug.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportRow {
    /// Names, gender, external id.
    pub profile: Profile,
    /// The email, when the row has one.
    pub email: Option<Email>,
    /// The phone number, when the row has one.
    pub phone: Option<Phone>,
    /// The password hash from the customer's previous system.
    pub password_hash: Option<String>,
    /// The salt stored beside the hash, for systems that keep it apart (Firebase).
    pub password_salt: Option<String>,
    /// Non-empty attribute cells: (slug, text).
    pub attributes: Vec<(String, String)>,
}

/// Why a row was refused: a category (the error report's `reason`) and a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    /// `invalid_email`, `invalid_phone`, `missing_contact` or `invalid_value`.
    pub reason: &'static str,
    /// What is wrong, naming the column.
    pub message: String,
}

impl RowError {
    fn new(reason: &'static str, error: DomainError) -> Self {
        Self {
            reason,
            message: error.to_string(),
        }
    }
}

impl ImportColumns {
    /// Reads a header: column names match without regard to case or surrounding spaces;
    /// a name that is no profile column must be an attribute slug (`is_attribute`). The file
    /// needs an `email` or a `phone_number` column, and no column twice.
    pub fn from_header(
        header: &[String],
        is_attribute: impl Fn(&str) -> bool,
    ) -> Result<Self, DomainError> {
        let mut profile = [None; PROFILE_COLUMNS.len()];
        let mut attributes: Vec<(String, usize)> = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for (index, raw) in header.iter().enumerate() {
            let name = raw.trim().to_ascii_lowercase();
            if name.is_empty() {
                continue;
            }
            if !seen.insert(name.clone()) {
                return Err(DomainError::invalid(
                    "file",
                    format!("the column '{name}' appears twice"),
                ));
            }
            if let Some(position) = PROFILE_COLUMNS.iter().position(|column| *column == name) {
                profile[position] = Some(index);
            } else if is_attribute(raw.trim()) {
                attributes.push((raw.trim().to_owned(), index));
            } else if !IGNORED_COLUMNS.contains(&name.as_str()) {
                return Err(DomainError::invalid(
                    "file",
                    format!(
                        "the column '{}' is neither one of {} nor an attribute definition's slug",
                        raw.trim(),
                        PROFILE_COLUMNS.join(", ")
                    ),
                ));
            }
        }
        let columns = Self {
            profile,
            attributes,
        };
        if columns.column("email").is_none() && columns.column("phone_number").is_none() {
            return Err(DomainError::invalid(
                "file",
                "the header needs an email or a phone_number column",
            ));
        }
        Ok(columns)
    }

    fn column(&self, name: &str) -> Option<usize> {
        let position = PROFILE_COLUMNS.iter().position(|column| *column == name)?;
        self.profile[position]
    }

    /// How the error report names a row: its email, phone number or external id as
    /// written (never another cell: a hash or an encrypted attribute's value must not end
    /// up in a report).
    pub fn name_of(&self, cells: &[String]) -> String {
        ["email", "phone_number", "external_id"]
            .into_iter()
            .filter_map(|name| self.column(name).and_then(|index| cells.get(index)))
            .map(|cell| cell.trim())
            .find(|cell| !cell.is_empty())
            .map(|cell| cell.chars().take(crate::customer::MAX_TEXT).collect())
            .unwrap_or_default()
    }

    /// Whether the file keeps salts apart from hashes (a `password_salt` column, as in
    /// Firebase exports).
    pub fn has_salts(&self) -> bool {
        self.column("password_salt").is_some()
    }

    /// The attribute slugs the file carries.
    pub fn attribute_slugs(&self) -> impl Iterator<Item = &str> {
        self.attributes.iter().map(|(slug, _)| slug.as_str())
    }

    /// Reads one row; phone numbers without a country code (and no `country_code` cell)
    /// are read in `region`. Needs an email or a phone number.
    pub fn read(&self, cells: &[String], region: Region) -> Result<ImportRow, RowError> {
        let cell = |name: &str| {
            self.column(name)
                .and_then(|index| cells.get(index))
                .map(|text| text.trim())
                .filter(|text| !text.is_empty())
        };
        let text = |name: &str| -> Result<Option<String>, RowError> {
            match cell(name) {
                Some(value) if value.chars().count() > crate::customer::MAX_TEXT => {
                    Err(RowError::new(
                        "invalid_value",
                        DomainError::invalid(
                            name,
                            format!("longer than {} characters", crate::customer::MAX_TEXT),
                        ),
                    ))
                }
                value => Ok(value.map(str::to_owned)),
            }
        };
        let email = cell("email")
            .map(|address| Email::parse("email", address))
            .transpose()
            .map_err(|error| RowError::new("invalid_email", error))?;
        let country_code = cell("country_code")
            .map(|code| {
                code.trim_start_matches('+').parse::<u16>().map_err(|_| {
                    RowError::new(
                        "invalid_phone",
                        DomainError::invalid(
                            "country_code",
                            format!("is not a country calling code: '{code}'"),
                        ),
                    )
                })
            })
            .transpose()?;
        let phone = cell("phone_number")
            .map(|number| Phone::parse("phone_number", number, country_code, region))
            .transpose()
            .map_err(|error| RowError::new("invalid_phone", error))?;
        if email.is_none() && phone.is_none() {
            return Err(RowError::new(
                "missing_contact",
                DomainError::invalid("email", "the row has neither an email nor a phone_number"),
            ));
        }
        let profile = Profile {
            first_name: text("first_name")?,
            last_name: text("last_name")?,
            gender: text("gender")?,
            external_id: text("external_id")?,
            ..Profile::default()
        };
        let attributes = self
            .attributes
            .iter()
            .filter_map(|(slug, index)| {
                let value = cells.get(*index)?.trim();
                (!value.is_empty()).then(|| (slug.clone(), value.to_owned()))
            })
            .collect();
        Ok(ImportRow {
            profile,
            email,
            phone,
            password_hash: cell("password_hash").map(str::to_owned),
            password_salt: cell("password_salt").map(str::to_owned),
            attributes,
        })
    }
}

/// The JSON value a spreadsheet cell stands for, for an attribute whose elements are `kind`
/// (a list when `multi_value`): numbers and booleans are read as such (a cell that is
/// neither stays text, for the definition's check to refuse), dates stay text. A list is a
/// JSON array, or elements separated by `|`.
pub fn cell_value(kind: ValueKind, multi_value: bool, text: &str) -> Value {
    let element = |text: &str| -> Value {
        let text = text.trim();
        match kind {
            ValueKind::Number => text
                .parse::<f64>()
                .ok()
                .and_then(serde_json::Number::from_f64)
                .map_or_else(|| Value::String(text.to_owned()), Value::Number),
            ValueKind::Boolean => match text.to_ascii_lowercase().as_str() {
                "true" | "yes" | "1" => Value::Bool(true),
                "false" | "no" | "0" => Value::Bool(false),
                _ => Value::String(text.to_owned()),
            },
            ValueKind::Text | ValueKind::Date | ValueKind::DateTime => {
                Value::String(text.to_owned())
            }
        }
    };
    if !multi_value {
        return element(text);
    }
    if text.trim_start().starts_with('[') {
        if let Ok(list @ Value::Array(_)) = serde_json::from_str::<Value>(text) {
            return list;
        }
    }
    Value::Array(text.split('|').map(element).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn header(names: &[&str]) -> Vec<String> {
        names.iter().map(|name| (*name).to_owned()).collect()
    }

    fn row(cells: &[&str]) -> Vec<String> {
        header(cells)
    }

    fn columns(names: &[&str]) -> Result<ImportColumns, DomainError> {
        ImportColumns::from_header(&header(names), |slug| slug == "loyalty_tier")
    }

    #[test]
    fn headers_name_profile_columns_and_attribute_slugs() {
        let read = columns(&[" Email ", "FIRST_NAME", "loyalty_tier", "user_id", ""]).unwrap();
        assert_eq!(
            read.attribute_slugs().collect::<Vec<_>>(),
            vec!["loyalty_tier"]
        );
        let unknown = columns(&["email", "shoe_size"]).unwrap_err();
        assert!(unknown.to_string().contains("shoe_size"), "{unknown}");
        let twice = columns(&["email", "EMAIL"]).unwrap_err();
        assert!(twice.to_string().contains("twice"), "{twice}");
        let no_contact = columns(&["first_name"]).unwrap_err();
        assert!(
            no_contact.to_string().contains("phone_number"),
            "{no_contact}"
        );
    }

    #[test]
    fn rows_become_customers_or_say_what_is_wrong() {
        let read = columns(&[
            "email",
            "phone_number",
            "country_code",
            "first_name",
            "password_hash",
            "loyalty_tier",
        ])
        .unwrap();
        let good = read
            .read(
                &row(&[
                    "Asha@Example.com",
                    "9876543210",
                    "+91",
                    " Asha ",
                    "$2b$x",
                    "gold",
                ]),
                Region::INDIA,
            )
            .unwrap();
        assert_eq!(good.email.unwrap().as_str(), "asha@example.com");
        assert_eq!(good.phone.unwrap().national(), "9876543210");
        assert_eq!(good.profile.first_name.as_deref(), Some("Asha"));
        assert_eq!(good.password_hash.as_deref(), Some("$2b$x"));
        assert_eq!(
            good.attributes,
            vec![("loyalty_tier".to_owned(), "gold".to_owned())]
        );

        let us = read
            .read(&row(&["", "2025550123", "1", "", "", ""]), Region::INDIA)
            .unwrap();
        assert_eq!(us.phone.unwrap().country_code(), 1);
        let short = row(&["x@example.com"]);
        assert!(
            read.read(&short, Region::INDIA).is_ok(),
            "missing cells are empty"
        );

        for (cells, reason) in [
            (row(&["not-an-email", "", "", "", "", ""]), "invalid_email"),
            (row(&["", "12", "", "", "", ""]), "invalid_phone"),
            (row(&["", "9876543210", "abc", "", "", ""]), "invalid_phone"),
            (row(&["", "", "", "Asha", "", ""]), "missing_contact"),
        ] {
            assert_eq!(read.read(&cells, Region::INDIA).unwrap_err().reason, reason);
        }
        let secret_row = row(&["", "", "", "", "$2b$secret", ""]);
        assert_eq!(read.name_of(&secret_row), "", "only contacts name a row");
        assert_eq!(read.name_of(&row(&["", "98765", "", ""])), "98765");
        let long = "x".repeat(300);
        let refused = read
            .read(
                &row(&["a@example.com", "", "", &long, "", ""]),
                Region::INDIA,
            )
            .unwrap_err();
        assert_eq!(refused.reason, "invalid_value");
    }

    #[test]
    fn cells_take_the_type_of_their_attribute() {
        assert_eq!(
            cell_value(ValueKind::Number, false, " 12.5 "),
            serde_json::json!(12.5)
        );
        assert_eq!(
            cell_value(ValueKind::Number, false, "twelve"),
            serde_json::json!("twelve")
        );
        assert_eq!(
            cell_value(ValueKind::Boolean, false, "Yes"),
            serde_json::json!(true)
        );
        assert_eq!(
            cell_value(ValueKind::Boolean, false, "0"),
            serde_json::json!(false)
        );
        assert_eq!(
            cell_value(ValueKind::Date, false, "2026-01-31"),
            serde_json::json!("2026-01-31")
        );
        assert_eq!(
            cell_value(ValueKind::Text, true, "a|b"),
            serde_json::json!(["a", "b"])
        );
        assert_eq!(
            cell_value(ValueKind::Number, true, "[1, 2]"),
            serde_json::json!([1, 2])
        );
        assert_eq!(
            cell_value(ValueKind::Number, true, "1|x"),
            serde_json::json!([1.0, "x"])
        );
    }

    proptest! {
        #[test]
        fn reading_any_row_never_panics(cells in proptest::collection::vec(".{0,40}", 0..8)) {
            let read = columns(&["email", "phone_number", "country_code", "first_name", "gender", "loyalty_tier"]).unwrap();
            let _ = read.read(&cells, Region::INDIA);
        }

        #[test]
        fn numbers_written_as_text_read_back_as_the_same_number(n in -1.0e12f64..1.0e12) {
            let value = cell_value(ValueKind::Number, false, &n.to_string());
            prop_assert_eq!(value.as_f64(), Some(n));
        }
    }
}

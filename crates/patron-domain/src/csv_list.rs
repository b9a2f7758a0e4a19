//! Customer lists in CSV files: the `user_file_url` of bulk attribute updates (a `user_id`
//! column) and the `file_url` of bulk groups (one of `user_id`, `email`, `phone_number`,
//! plus an `action` column of `add` / `remove`).
//!
//! Only the header can make a whole file unusable; a malformed or unparsable row becomes a
//! [`RowError`] naming its line, and the other rows still count.

use crate::email::Email;
use crate::ids::ObjectId;
use crate::phone::{Phone, Region};
use crate::DomainError;

/// Most data rows one file may hold.
pub const MAX_ROWS: usize = 2_000_000;

/// How a row names a customer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Identifier {
    /// By id.
    UserId(ObjectId),
    /// By (canonical) email.
    Email(Email),
    /// By phone number.
    Phone(Phone),
}

impl Identifier {
    /// The identifier as text, for error reports.
    pub fn display(&self) -> String {
        match self {
            Identifier::UserId(id) => id.to_string(),
            Identifier::Email(email) => email.as_str().to_owned(),
            Identifier::Phone(phone) => format!("+{}{}", phone.country_code(), phone.national()),
        }
    }
}

/// What a row asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemberAction {
    /// Put the customer in.
    Add,
    /// Take the customer out.
    Remove,
}

impl MemberAction {
    /// Parses `add` / `remove` (any case).
    pub fn parse(field: &str, value: &str) -> Result<Self, DomainError> {
        match value.trim().to_ascii_lowercase().as_str() {
            "add" => Ok(MemberAction::Add),
            "remove" => Ok(MemberAction::Remove),
            other => Err(DomainError::invalid(
                field,
                format!("must be add or remove, got '{other}'"),
            )),
        }
    }
}

/// One usable row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListRow {
    /// 1-based line number in the file (the header is line 1).
    pub line: usize,
    /// Who.
    pub identifier: Identifier,
    /// What to do.
    pub action: MemberAction,
}

/// One unusable row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    /// 1-based line number in the file.
    pub line: usize,
    /// The row's identifier cell as written (may be empty).
    pub value: String,
    /// What is wrong.
    pub error: String,
}

/// A parsed file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ParsedList {
    /// Usable rows, in file order.
    pub rows: Vec<ListRow>,
    /// Unusable rows, in file order.
    pub errors: Vec<RowError>,
}

/// Which columns a file must have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListFormat {
    /// A `user_id` column; other columns are ignored; every row means "add".
    UserIds,
    /// Exactly one of `user_id`, `email`, `phone_number`, and an `action` column.
    MembersWithAction,
    /// Like `MembersWithAction`, but `action` is optional (rows without it mean "add").
    Members,
}

const IDENTIFIER_COLUMNS: [&str; 3] = ["user_id", "email", "phone_number"];

/// Parses a CSV file. The header row is required; column names are matched without regard
/// to case or surrounding spaces. `region` reads phone numbers written without a country code.
pub fn parse(bytes: &[u8], format: ListFormat, region: Region) -> Result<ParsedList, DomainError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(bytes);
    let header: Vec<String> = reader
        .headers()
        .map_err(|error| DomainError::invalid("file", format!("unreadable CSV header: {error}")))?
        .iter()
        .map(|name| name.trim().to_ascii_lowercase())
        .collect();
    let position = |name: &str| header.iter().position(|column| column == name);
    let identifier_columns: Vec<(usize, &str)> = match format {
        ListFormat::UserIds => position("user_id")
            .map(|i| vec![(i, "user_id")])
            .unwrap_or_default(),
        _ => IDENTIFIER_COLUMNS
            .iter()
            .filter_map(|name| position(name).map(|i| (i, *name)))
            .collect(),
    };
    let (id_column, id_kind) = match identifier_columns.as_slice() {
        [one] => *one,
        [] if format == ListFormat::UserIds => {
            return Err(DomainError::invalid(
                "file",
                "the CSV has no user_id column",
            ))
        }
        [] => {
            return Err(DomainError::invalid(
                "file",
                "the CSV needs one of the columns user_id, email, phone_number",
            ))
        }
        _ => {
            return Err(DomainError::invalid(
                "file",
                "the CSV must have only one of the columns user_id, email, phone_number",
            ))
        }
    };
    let action_column = match format {
        ListFormat::UserIds => None,
        _ => position("action"),
    };
    if format == ListFormat::MembersWithAction && action_column.is_none() {
        return Err(DomainError::invalid("file", "the CSV has no action column"));
    }
    let mut parsed = ParsedList::default();
    for (index, record) in reader.records().enumerate() {
        let position = match &record {
            Ok(record) => record.position(),
            Err(error) => error.position(),
        };
        let line = position.map_or(index + 2, |p| {
            usize::try_from(p.line()).unwrap_or(usize::MAX)
        });
        if parsed.rows.len() + parsed.errors.len() >= MAX_ROWS {
            return Err(DomainError::invalid(
                "file",
                format!("the CSV has more than {MAX_ROWS} rows"),
            ));
        }
        let record = match record {
            Ok(record) => record,
            Err(error) => {
                parsed.errors.push(RowError {
                    line,
                    value: String::new(),
                    error: format!("malformed row: {error}"),
                });
                continue;
            }
        };
        if record.iter().all(str::is_empty) {
            continue;
        }
        let cell = record.get(id_column).unwrap_or_default().to_owned();
        let row = identifier(id_kind, &cell, region).and_then(|identifier| {
            let action = match action_column.map(|column| record.get(column).unwrap_or_default()) {
                Some(action) if !action.is_empty() => MemberAction::parse("action", action)?,
                Some(_) if format == ListFormat::MembersWithAction => {
                    return Err(DomainError::invalid("action", "is required"))
                }
                _ => MemberAction::Add,
            };
            Ok(ListRow {
                line,
                identifier,
                action,
            })
        });
        match row {
            Ok(row) => parsed.rows.push(row),
            Err(error) => parsed.errors.push(RowError {
                line,
                value: cell,
                error: error.to_string(),
            }),
        }
    }
    Ok(parsed)
}

fn identifier(kind: &str, cell: &str, region: Region) -> Result<Identifier, DomainError> {
    if cell.is_empty() {
        return Err(DomainError::invalid(kind, "is empty"));
    }
    match kind {
        "user_id" => ObjectId::parse("user_id", cell).map(Identifier::UserId),
        "email" => Email::parse("email", cell).map(Identifier::Email),
        _ => Phone::parse("phone_number", cell, None, region).map(Identifier::Phone),
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn region() -> Region {
        Region::parse("IN").unwrap()
    }

    const ID: &str = "65a0c1e2f1d2c3b4a5968778";

    #[test]
    fn user_id_files_keep_good_rows_and_report_bad_ones() {
        let mut file = format!("name,user_id\nA,{ID}\nB,not-an-id\n").into_bytes();
        file.extend_from_slice(b"C,\xff\xfe\nD,\n");
        let parsed = parse(&file, ListFormat::UserIds, region()).unwrap();
        assert_eq!(parsed.rows.len(), 1);
        assert_eq!(parsed.rows[0].line, 2);
        assert_eq!(parsed.rows[0].action, MemberAction::Add);
        let lines: Vec<usize> = parsed.errors.iter().map(|e| e.line).collect();
        assert_eq!(lines, vec![3, 4, 5]);
        assert!(parsed.errors[0].error.contains("user_id"));
    }

    #[test]
    fn member_files_need_one_identifier_and_an_action() {
        let file =
            "phone_number,action\n9000000001,add\n9000000002,REMOVE\n9000000003,drop\n,add\n";
        let parsed = parse(file.as_bytes(), ListFormat::MembersWithAction, region()).unwrap();
        assert_eq!(parsed.rows.len(), 2);
        assert_eq!(parsed.rows[1].action, MemberAction::Remove);
        assert_eq!(parsed.errors.len(), 2);
        assert!(parsed.errors[0].error.contains("add or remove"));

        for (file, expected) in [
            ("email,phone_number,action\n", "only one"),
            ("name,action\n", "needs one of"),
            ("email\na@b.co\n", "no action column"),
        ] {
            let error = parse(file.as_bytes(), ListFormat::MembersWithAction, region())
                .unwrap_err()
                .to_string();
            assert!(error.contains(expected), "{file}: {error}");
        }
        let optional = parse(b"Email\na@b.co\n", ListFormat::Members, region()).unwrap();
        assert_eq!(optional.rows[0].action, MemberAction::Add);
        assert_eq!(optional.rows[0].identifier.display(), "a@b.co");
    }

    #[test]
    fn a_bom_and_blank_lines_are_tolerated() {
        let file = format!("\u{feff}user_id\n\n{ID}\n");
        let parsed = parse(file.as_bytes(), ListFormat::UserIds, region()).unwrap();
        assert_eq!(parsed.rows.len(), 1);
        assert!(parsed.errors.is_empty());
    }

    proptest! {
        #[test]
        fn any_bytes_parse_without_panic_and_account_for_rows(body in proptest::collection::vec(any::<u8>(), 0..300)) {
            let mut file = b"user_id\n".to_vec();
            file.extend_from_slice(&body);
            let parsed = parse(&file, ListFormat::UserIds, region()).unwrap();
            for row in &parsed.rows {
                prop_assert!(row.line >= 2);
            }
        }
    }
}

//! 24-hex-character, time-ordered identifiers in the shape of MongoDB ObjectIds, which the
//! Fynd SDKs and clients expect for `_id`, `user_id` and `application_id`.

use std::fmt;
use std::sync::atomic::{AtomicU32, Ordering};

use chrono::{DateTime, Utc};
use rand::RngCore;

use crate::DomainError;

/// A validated 24-character lowercase hexadecimal identifier.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ObjectId(String);

/// Per-process counter that keeps ids minted in the same second strictly increasing.
static COUNTER: AtomicU32 = AtomicU32::new(0);

impl ObjectId {
    /// Mints a new id: 4 bytes of seconds since the epoch, a 3-byte per-process counter, then
    /// 5 random bytes. Ids sort by creation second, and within one process by creation order,
    /// so ordering by id is (close to) ordering by creation time; the random tail keeps ids
    /// of different nodes apart.
    pub fn generate(now: DateTime<Utc>) -> Self {
        let mut bytes = [0u8; 12];
        let seconds = u32::try_from(now.timestamp().max(0)).unwrap_or(u32::MAX);
        bytes[..4].copy_from_slice(&seconds.to_be_bytes());
        let count = COUNTER.fetch_add(1, Ordering::Relaxed);
        bytes[4..7].copy_from_slice(&count.to_be_bytes()[1..]);
        rand::thread_rng().fill_bytes(&mut bytes[7..]);
        Self(hex::encode(bytes))
    }

    /// Parses an id sent by a client: exactly 24 hex digits (upper case is folded).
    pub fn parse(field: &str, value: &str) -> Result<Self, DomainError> {
        let value = value.trim();
        if value.len() == 24 && value.bytes().all(|b| b.is_ascii_hexdigit()) {
            Ok(Self(value.to_ascii_lowercase()))
        } else {
            Err(DomainError::invalid(
                field,
                "must be a 24-character hexadecimal id",
            ))
        }
    }

    /// A request's list of ids named by `field`: at most `max` (`noun` names them in the
    /// error), each error naming the item's index (`users[3]`).
    pub fn parse_list(
        field: &str,
        raw: &[String],
        max: usize,
        noun: &str,
    ) -> Result<Vec<Self>, DomainError> {
        if raw.len() > max {
            return Err(DomainError::invalid(
                field,
                format!("may name at most {max} {noun}"),
            ));
        }
        raw.iter()
            .enumerate()
            .map(|(index, id)| Self::parse(&format!("{field}[{index}]"), id))
            .collect()
    }

    /// The id as its 24 hex characters.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Wraps a value read back from our own storage, where it was validated on the way in.
    pub fn from_trusted(value: String) -> Self {
        Self(value)
    }
}

/// Read from text as [`CompanyId::parse`] reads it.
impl<'de> serde::Deserialize<'de> for CompanyId {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = std::borrow::Cow::<str>::deserialize(deserializer)?;
        CompanyId::parse(&text).map_err(|error| match error {
            DomainError::InvalidField { message, .. } => serde::de::Error::custom(message),
            other => serde::de::Error::custom(other),
        })
    }
}

/// Read from text as [`ObjectId::parse`] reads it (the error names no field: the caller's
/// deserializer knows where it is).
impl<'de> serde::Deserialize<'de> for ObjectId {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = std::borrow::Cow::<str>::deserialize(deserializer)?;
        ObjectId::parse("id", &text).map_err(|error| match error {
            DomainError::InvalidField { message, .. } => serde::de::Error::custom(message),
            other => serde::de::Error::custom(other),
        })
    }
}

impl fmt::Display for ObjectId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A company (business account) id: a decimal number carried as a string, like `"559"`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CompanyId(String);

impl CompanyId {
    /// Parses a company id: 1 to 18 ASCII digits.
    pub fn parse(value: &str) -> Result<Self, DomainError> {
        let value = value.trim();
        if !value.is_empty() && value.len() <= 18 && value.bytes().all(|b| b.is_ascii_digit()) {
            Ok(Self(value.to_owned()))
        } else {
            Err(DomainError::invalid(
                "company_id",
                "must be a numeric company id",
            ))
        }
    }

    /// The id's digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Wraps a value read back from our own storage.
    pub fn from_trusted(value: String) -> Self {
        Self(value)
    }
}

impl fmt::Display for CompanyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn id_lists_are_bounded_and_name_the_bad_item() {
        let ids = [
            "6b09a1f0c2d3e4f506172839".to_owned(),
            " 6B09A1F0C2D3E4F50617283A".to_owned(),
        ];
        assert_eq!(
            ObjectId::parse_list("users", &ids, 2, "users")
                .unwrap()
                .len(),
            2
        );
        let error = ObjectId::parse_list("users", &ids, 1, "users").unwrap_err();
        assert_eq!(error.to_string(), "users: may name at most 1 users");
        let bad = [ids[0].clone(), "42".to_owned()];
        let error = ObjectId::parse_list("users", &bad, 5, "users").unwrap_err();
        assert!(error.to_string().starts_with("users[1]:"), "{error}");
    }

    #[test]
    fn ids_read_from_text_as_parse_reads_them() {
        let id: ObjectId =
            serde_json::from_value(serde_json::json!(" 6B09A1F0C2D3E4F506172839 ")).unwrap();
        assert_eq!(id.as_str(), "6b09a1f0c2d3e4f506172839");
        let refused = serde_json::from_value::<ObjectId>(serde_json::json!("6b09")).unwrap_err();
        assert_eq!(refused.to_string(), "must be a 24-character hexadecimal id");
        let company: CompanyId = serde_json::from_value(serde_json::json!("1")).unwrap();
        assert_eq!(company.as_str(), "1");
        assert!(serde_json::from_value::<CompanyId>(serde_json::json!("x1")).is_err());
    }

    #[test]
    fn generated_ids_are_24_hex_and_time_ordered() {
        let early = ObjectId::generate(Utc.timestamp_opt(1_700_000_000, 0).unwrap());
        let late = ObjectId::generate(Utc.timestamp_opt(1_700_000_001, 0).unwrap());
        assert_eq!(early.as_str().len(), 24);
        assert!(ObjectId::parse("id", early.as_str()).is_ok());
        assert!(early < late);
    }

    #[test]
    fn ids_in_the_same_second_are_distinct() {
        let now = Utc.timestamp_opt(1_700_000_000, 0).unwrap();
        let a = ObjectId::generate(now);
        let b = ObjectId::generate(now);
        assert!(a < b, "same-second ids follow creation order");
    }

    #[test]
    fn parse_rejects_wrong_shapes() {
        assert!(ObjectId::parse("id", "abc").is_err());
        assert!(ObjectId::parse("id", "zzzzzzzzzzzzzzzzzzzzzzzz").is_err());
        assert_eq!(
            ObjectId::parse("id", "65A0C1E2F1D2C3B4A5968778")
                .unwrap()
                .as_str(),
            "65a0c1e2f1d2c3b4a5968778"
        );
        assert!(CompanyId::parse("559").is_ok());
        assert!(CompanyId::parse("55a").is_err());
        assert!(CompanyId::parse("").is_err());
    }
}

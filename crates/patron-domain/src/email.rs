//! Email addresses: validated on the way in, compared case-insensitively.

use std::fmt;

use crate::DomainError;

/// A syntactically valid email address in canonical (lower-case, trimmed) form.
///
/// Matching is case-insensitive across the whole address: two customers cannot hold
/// `Asha@Example.com` and `asha@example.com` in one application.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Email(String);

/// Longest address SMTP can carry (RFC 5321 path limit).
const MAX_LEN: usize = 254;

impl Email {
    /// Validates and canonicalises `input`; `field` names it in the error.
    pub fn parse(field: &str, input: &str) -> Result<Self, DomainError> {
        let value = input.trim().to_lowercase();
        let fail = |why: &str| {
            Err(DomainError::invalid(
                field,
                format!("{why}: '{}'", input.trim()),
            ))
        };
        if value.is_empty() || value.len() > MAX_LEN {
            return fail("is not a valid email address");
        }
        let Some((local, domain)) = value.rsplit_once('@') else {
            return fail("is not a valid email address (no '@')");
        };
        let local_ok = !local.is_empty()
            && local.len() <= 64
            && !local.starts_with('.')
            && !local.ends_with('.')
            && !local.contains("..")
            && local
                .chars()
                .all(|c| c.is_alphanumeric() || "!#$%&'*+-/=?^_`{|}~.".contains(c));
        if !local_ok {
            return fail("is not a valid email address (bad local part)");
        }
        let labels: Vec<&str> = domain.split('.').collect();
        let domain_ok = labels.len() >= 2
            && labels.iter().all(|label| {
                !label.is_empty()
                    && label.len() <= 63
                    && !label.starts_with('-')
                    && !label.ends_with('-')
                    && label.chars().all(|c| c.is_alphanumeric() || c == '-')
            });
        if !domain_ok {
            return fail("is not a valid email address (bad domain)");
        }
        Ok(Self(value))
    }

    /// The canonical address.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The part before `@`, used to derive usernames.
    pub fn local_part(&self) -> &str {
        self.0.rsplit_once('@').map_or(&self.0, |(local, _)| local)
    }

    /// Wraps a value read back from our own storage.
    pub fn from_trusted(value: String) -> Self {
        Self(value)
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn canonicalises_case_and_whitespace() {
        let email = Email::parse("email", "  Asha.Rao@Example.COM ").unwrap();
        assert_eq!(email.as_str(), "asha.rao@example.com");
        assert_eq!(email.local_part(), "asha.rao");
    }

    #[test]
    fn rejects_malformed_addresses() {
        for bad in [
            "",
            "plain",
            "@example.com",
            "a@",
            "a@b",
            "a b@example.com",
            "a@exa_mple.com",
            "a..b@example.com",
            ".a@example.com",
            "a@-x.com",
        ] {
            assert!(
                Email::parse("email", bad).is_err(),
                "{bad} should be rejected"
            );
        }
    }

    #[test]
    fn error_names_the_field() {
        let err = Email::parse("emails[1].email", "nope").unwrap_err();
        assert!(err.to_string().starts_with("emails[1].email"));
    }

    proptest! {
        #[test]
        fn never_panics_and_parsing_is_idempotent(input in "\\PC{0,80}") {
            if let Ok(email) = Email::parse("email", &input) {
                let again = Email::parse("email", email.as_str()).unwrap();
                prop_assert_eq!(again, email);
            }
        }

        #[test]
        fn simple_addresses_are_accepted(local in "[a-z0-9]{1,20}", domain in "[a-z]{1,10}", tld in "[a-z]{2,5}") {
            let raw = format!("{local}@{domain}.{tld}");
            let email = Email::parse("email", &raw.to_uppercase()).unwrap();
            prop_assert_eq!(email.as_str(), raw.as_str());
        }
    }
}

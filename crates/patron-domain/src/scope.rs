//! OAuth scopes a platform client can hold.

use std::fmt;
use std::str::FromStr;

use crate::DomainError;

/// A permission named by the seed for each platform operation. Read and write are
/// independent: a write scope does not imply the read one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scope {
    /// `application/customers/read`: list, search and read customers and their data.
    CustomersRead,
    /// `application/customers/write`: create and change customers and their data.
    CustomersWrite,
    /// `company/settings/write`: change an application's authentication configuration.
    SettingsWrite,
}

impl Scope {
    /// Every scope, in canonical order.
    pub const ALL: [Scope; 3] = [
        Scope::CustomersRead,
        Scope::CustomersWrite,
        Scope::SettingsWrite,
    ];

    /// The scope's wire name.
    pub fn as_str(&self) -> &'static str {
        match self {
            Scope::CustomersRead => "application/customers/read",
            Scope::CustomersWrite => "application/customers/write",
            Scope::SettingsWrite => "company/settings/write",
        }
    }

    /// Parses a comma- or space-separated scope list; empty entries are ignored and
    /// duplicates folded.
    pub fn parse_list(raw: &str) -> Result<Vec<Scope>, DomainError> {
        let mut scopes = raw
            .split([',', ' '])
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(Scope::from_str)
            .collect::<Result<Vec<_>, _>>()?;
        scopes.sort();
        scopes.dedup();
        Ok(scopes)
    }
}

impl FromStr for Scope {
    type Err = DomainError;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        Scope::ALL
            .into_iter()
            .find(|scope| scope.as_str() == value)
            .ok_or_else(|| DomainError::invalid("scope", format!("unknown scope '{value}'")))
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_lists() {
        let scopes = Scope::parse_list(
            "application/customers/write, application/customers/read,application/customers/read",
        )
        .unwrap();
        assert_eq!(scopes, vec![Scope::CustomersRead, Scope::CustomersWrite]);
        assert!(Scope::parse_list("application/orders/read").is_err());
        assert!(Scope::parse_list("").unwrap().is_empty());
    }
}

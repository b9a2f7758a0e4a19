//! Phone numbers: parsed and validated with libphonenumber's metadata (the `phonenumber`
//! crate) into a numeric country code and a national number.

use std::fmt;
use std::str::FromStr;

use phonenumber::country;

use crate::DomainError;

/// The region a number without a country code belongs to, e.g. `IN` (+91).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Region(country::Id);

impl Region {
    /// India, Fynd's home market: the default when an application configures none.
    pub const INDIA: Region = Region(country::Id::IN);

    /// Parses an ISO 3166-1 alpha-2 region code such as `IN` or `us`.
    pub fn parse(code: &str) -> Result<Self, DomainError> {
        country::Id::from_str(&code.trim().to_ascii_uppercase())
            .map(Region)
            .map_err(|_| DomainError::invalid("default_region", format!("unknown region '{code}'")))
    }

    /// The region's two-letter code.
    pub fn code(&self) -> &str {
        self.0.as_ref()
    }

    /// The region's country calling code, e.g. 91 for `IN`.
    fn calling_code(self) -> Option<u16> {
        phonenumber::metadata::DATABASE
            .by_id(self.code())
            .map(phonenumber::Metadata::country_code)
    }
}

impl Default for Region {
    fn default() -> Self {
        Self::INDIA
    }
}

/// A valid phone number: numeric country code plus national significant number.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Phone {
    country_code: u16,
    national: String,
}

/// Longest input we hand to the parser; real numbers are far shorter.
const MAX_INPUT: usize = 40;

impl Phone {
    /// Parses `input` such as `+91 98765 43210`, `919876543210` or `9876543210`.
    ///
    /// `country_code`, when given (the update API sends it separately), wins over `region`;
    /// a number without any country code takes `region`.
    pub fn parse(
        field: &str,
        input: &str,
        country_code: Option<u16>,
        region: Region,
    ) -> Result<Self, DomainError> {
        let trimmed = input.trim();
        let invalid =
            || DomainError::invalid(field, format!("is not a valid phone number: '{trimmed}'"));
        if trimmed.is_empty() || trimmed.len() > MAX_INPUT {
            return Err(invalid());
        }
        let parsed = candidates(trimmed, country_code, region)
            .iter()
            .filter_map(|text| phonenumber::parse(Some(region.0), text).ok())
            .find(phonenumber::PhoneNumber::is_valid)
            .ok_or_else(invalid)?;
        Ok(Self {
            country_code: parsed.code().value(),
            national: parsed.national().to_string(),
        })
    }

    /// The numeric country calling code, e.g. 91.
    pub fn country_code(&self) -> u16 {
        self.country_code
    }

    /// The national significant number, digits only, e.g. `9876543210`.
    pub fn national(&self) -> &str {
        &self.national
    }

    /// Wraps a value read back from our own storage.
    pub fn from_trusted(country_code: u16, national: String) -> Self {
        Self {
            country_code,
            national,
        }
    }
}

/// The spellings of `input` to try, most likely first.
///
/// A number written without `+` is read as national first, in the country of `country_code`
/// or else of `region`: `9136425497` is a valid Indian mobile although it begins with
/// India's code 91. Only when that reading is not valid is a leading country code taken off
/// (`919876543210`), by us for an explicit code and by the parser for the region's.
fn candidates(input: &str, country_code: Option<u16>, region: Region) -> Vec<String> {
    if input.starts_with('+') {
        return vec![input.to_owned()];
    }
    let digits: String = input.chars().filter(char::is_ascii_digit).collect();
    match country_code {
        Some(code) => {
            let mut spellings = vec![format!("+{code}{digits}")];
            if let Some(rest) = digits
                .strip_prefix(&code.to_string())
                .filter(|rest| rest.len() >= 6)
            {
                spellings.push(format!("+{code}{rest}"));
            }
            spellings
        }
        None => {
            let national = region.calling_code().map(|code| format!("+{code}{digits}"));
            national.into_iter().chain([input.to_owned()]).collect()
        }
    }
}

impl fmt::Display for Phone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "+{}{}", self.country_code, self.national)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn india(input: &str) -> Result<Phone, DomainError> {
        Phone::parse("phone", input, None, Region::INDIA)
    }

    #[test]
    fn accepts_the_three_indian_spellings() {
        for input in [
            "+91 98765 43210",
            "919876543210",
            "9876543210",
            "+919876543210",
            "098765 43210",
        ] {
            let phone = india(input).unwrap_or_else(|e| panic!("{input}: {e}"));
            assert_eq!(phone.country_code(), 91, "{input}");
            assert_eq!(phone.national(), "9876543210", "{input}");
        }
    }

    #[test]
    fn national_numbers_that_begin_with_the_country_code_stay_national() {
        for input in [
            "9136425497",
            "91364 25497",
            "09136425497",
            "+91 91364 25497",
            "919136425497",
        ] {
            let phone = india(input).unwrap_or_else(|e| panic!("{input}: {e}"));
            assert_eq!(
                (phone.country_code(), phone.national()),
                (91, "9136425497"),
                "{input}"
            );
        }
        for input in ["9136425497", "919136425497"] {
            let phone = Phone::parse("phone", input, Some(91), Region::INDIA)
                .unwrap_or_else(|e| panic!("{input} with code 91: {e}"));
            assert_eq!(
                (phone.country_code(), phone.national()),
                (91, "9136425497"),
                "{input}"
            );
        }
    }

    #[test]
    fn explicit_country_code_wins_over_region() {
        let phone = Phone::parse("phone", "2025550123", Some(1), Region::INDIA).unwrap();
        assert_eq!((phone.country_code(), phone.national()), (1, "2025550123"));
        let same = Phone::parse("phone", "12025550123", Some(1), Region::INDIA).unwrap();
        assert_eq!(same, phone);
    }

    #[test]
    fn region_applies_to_numbers_without_code() {
        let us = Region::parse("us").unwrap();
        let phone = Phone::parse("phone", "(202) 555-0123", None, us).unwrap();
        assert_eq!(phone.country_code(), 1);
        assert_eq!(phone.to_string(), "+12025550123");
    }

    #[test]
    fn rejects_invalid_numbers() {
        for bad in [
            "",
            "12",
            "abcdefghij",
            "+91 12345",
            "99999999999999999999",
            "+999 1234567",
        ] {
            assert!(india(bad).is_err(), "{bad} should be rejected");
        }
        assert!(Region::parse("XX").is_err());
    }

    proptest! {
        #[test]
        fn never_panics(input in "\\PC{0,50}") {
            let _ = india(&input);
        }

        #[test]
        fn valid_indian_mobiles_round_trip(rest in "[0-9]{8}") {
            let national = format!("98{rest}");
            let phone = india(&national).unwrap();
            prop_assert_eq!(phone.national(), national.as_str());
            let again = india(&phone.to_string()).unwrap();
            prop_assert_eq!(again, phone);
        }

        #[test]
        fn a_valid_national_number_is_read_as_national(national in "[6-9][0-9]{9}") {
            let international = phonenumber::parse(None, format!("+91{national}")).unwrap();
            prop_assume!(international.is_valid());
            for code in [None, Some(91)] {
                let phone = Phone::parse("phone", &national, code, Region::INDIA).unwrap();
                prop_assert_eq!(phone.national(), national.as_str());
            }
        }

        #[test]
        fn numbers_that_begin_with_91_are_read_as_national(rest in "[0-9]{8}") {
            let national = format!("91{rest}");
            let international = phonenumber::parse(None, format!("+91{national}")).unwrap();
            prop_assume!(international.is_valid());
            for code in [None, Some(91)] {
                let phone = Phone::parse("phone", &national, code, Region::INDIA).unwrap();
                prop_assert_eq!(phone.national(), national.as_str());
            }
        }
    }
}

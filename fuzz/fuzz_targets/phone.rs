//! Phone numbers as clients write them, with and without a separate country code: a valid
//! number or a clear error, and a valid number parses again to itself.
#![no_main]

use libfuzzer_sys::fuzz_target;
use patron_domain::phone::{Phone, Region};

fuzz_target!(|input: (&str, Option<u16>)| {
    let (text, country_code) = input;
    if let Ok(phone) = Phone::parse("phone", text, country_code, Region::INDIA) {
        let again = Phone::parse("phone", &phone.to_string(), None, Region::INDIA)
            .expect("a parsed number parses again");
        assert_eq!(again, phone);
    }
});

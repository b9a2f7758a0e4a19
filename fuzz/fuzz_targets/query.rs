//! The `q` language of the customer list: any text parses to a filter or a clear error.
#![no_main]

use libfuzzer_sys::fuzz_target;
use patron_domain::phone::Region;
use patron_domain::query::parse_query;

fuzz_target!(|text: &str| {
    let _ = parse_query(text, Region::INDIA);
});

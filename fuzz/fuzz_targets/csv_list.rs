//! Uploaded member and user-id lists: any bytes, in every format, give rows and per-line
//! errors or a clear error, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use patron_domain::csv_list::{parse, ListFormat};
use patron_domain::phone::Region;

fuzz_target!(|bytes: &[u8]| {
    for format in [
        ListFormat::UserIds,
        ListFormat::MembersWithAction,
        ListFormat::Members,
    ] {
        if let Ok(parsed) = parse(bytes, format, Region::INDIA) {
            for row in &parsed.rows {
                let _ = row.identifier.display();
            }
        }
    }
});

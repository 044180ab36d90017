//! Any bytes: parsing and preparation never panic, and a prepared entity has no bare LF.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(email) = smime_core::Email::parse(data) {
        if let Ok(entity) = email.prepared_entity() {
            let bare_lf = entity
                .iter()
                .enumerate()
                .any(|(i, &b)| b == b'\n' && (i == 0 || entity[i - 1] != b'\r'));
            assert!(!bare_lf, "prepared entity has a bare LF");
        }
    }
});

//! `protect`: the whole job on any bytes, with the test keys (`testdata/pki/keys`), a fixed
//! clock inside the certificates' validity, a fixed boundary and a seeded ChaCha RNG, so
//! that every run is reproducible.
//!
//! The first byte picks the options (opaque sign + encrypt, detached sign, opaque sign,
//! encrypt, sign + encrypt with AES-128 and without encrypt-to-self); the rest is the `.eml`.
//!
//! Properties: `Protector::protect_with_rng` never panics (errors are fine); a protected
//! message is canonical and 7-bit where promised (no bare LF; bodies 7-bit without bare CR;
//! headers as the input had them, see `shared/canonical.rs`); its envelope sender is the
//! From address.
#![no_main]

use std::sync::{Arc, OnceLock};

use chacha20::ChaCha20Rng;
use chacha20::rand_core::SeedableRng;
use libfuzzer_sys::fuzz_target;
use smime_core::{Cipher, FixedClock, KeyStore, Options, Protector, SignMode};

#[path = "shared/canonical.rs"]
mod canonical;

/// 2026-06-01T12:00:00Z, inside every good test certificate's validity.
const FIXED_TIME: u64 = 1_780_315_200;

fn protectors() -> &'static [Protector] {
    static P: OnceLock<Vec<Protector>> = OnceLock::new();
    P.get_or_init(|| {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../testdata/pki/keys");
        let keys = Arc::new(KeyStore::open(dir).expect("the test keys"));
        let clock = Arc::new(FixedClock::from_unix(FIXED_TIME));
        let mut aes128 = Options::sign_and_encrypt();
        aes128.cipher = Cipher::Aes128Cbc;
        aes128.encrypt_to_self = false;
        [
            Options::sign_and_encrypt(),
            Options::sign(SignMode::Detached),
            Options::sign(SignMode::Opaque),
            Options::encrypt(),
            aes128,
        ]
        .into_iter()
        .map(|o| {
            Protector::new(Arc::clone(&keys), o)
                .with_clock(clock.clone())
                .with_boundary("----=_smime_fuzz")
        })
        .collect()
    })
}

fuzz_target!(|data: &[u8]| {
    let [mode, eml @ ..] = data else {
        return;
    };
    let all = protectors();
    let protector = &all[usize::from(*mode) % all.len()];
    let mut rng = ChaCha20Rng::seed_from_u64(7);
    let Ok(out) = protector.protect_with_rng(eml, &mut rng) else {
        return;
    };
    assert!(!out.message.is_empty());
    if let Err(e) = canonical::check(&out.message) {
        panic!(
            "protected message not canonical 7-bit: {e}\nmessage:\n{}",
            String::from_utf8_lossy(&out.message)
        );
    }
    let from = smime_core::Email::parse(eml).expect("protect parsed it");
    assert_eq!(out.mail_from, from.from().address);
});

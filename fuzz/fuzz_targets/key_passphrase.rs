//! `key_passphrase`: passphrase-protected key files with any content, loaded through the
//! public API (`KeyStore` with the passphrase `test` and an explicit key file), which runs
//! the PKCS#12 reader (MAC, PBES1/PBES2, bags, BER) and the encrypted PEM readers (PKCS#8
//! PBES2, OpenSSL's traditional `Proc-Type: 4,ENCRYPTED`).
//!
//! Input: the first byte picks the file's name: bit 0 clear `key.p12`, set `key.pem`; bit 1
//! turns certificate checks off. The rest is the file.
//!
//! Properties: nothing panics; work stays bounded (the iteration and scrypt limits of
//! `limits.rs`: a fuzzed iteration count must not run for minutes, which libFuzzer's
//! timeout catches); a signer that loads is Alice's (the store checked that its
//! certificate holds the key's public half); no error text contains the passphrase.
#![no_main]

#[path = "shared/scratch.rs"]
mod scratch;

use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::{Duration, SystemTime};

use libfuzzer_sys::fuzz_target;
use smime_core::{KeyStore, Passphrase};

/// 2026-06-01T12:00:00Z, inside every good test certificate's validity.
const FIXED_TIME: u64 = 1_780_315_200;
const ALICE: &str = "alice@example.com";
const PASSPHRASE: &str = "test";

fn dir() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| scratch::scratch_dir("passphrase"))
}

fuzz_target!(|data: &[u8]| {
    let [mode, file @ ..] = data else {
        return;
    };
    let name = if mode & 1 == 0 { "key.p12" } else { "key.pem" };
    let path = dir().join(name);
    if std::fs::write(&path, file).is_err() {
        return;
    }
    let mut keys = KeyStore::open(dir().join("empty"))
        .expect("the empty directory")
        .with_signer_key_file(&path)
        .with_passphrase(Passphrase::new(PASSPHRASE.to_owned()));
    if mode & 2 != 0 {
        keys = keys.dangerous_skip_certificate_checks();
    }
    let now = SystemTime::UNIX_EPOCH + Duration::from_secs(FIXED_TIME);
    match keys.signer(ALICE, now) {
        // The store matched the key to the certificate before handing the signer out.
        Ok(signer) => assert_eq!(signer.address(), ALICE),
        Err(e) => {
            let shown = format!("{e} {e:?}");
            assert!(
                !shown.contains("passphrase \"test\"") && !shown.contains("\"test\""),
                "the passphrase in {shown}"
            );
        }
    }
});

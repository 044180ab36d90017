//! Shared by the integration tests: where the test data is (from `smime_testkit`), and a fixed
//! clock and RNG.
#![allow(dead_code, clippy::unwrap_used, unreachable_pub)]

use std::path::Path;
use std::sync::Arc;

use chacha20::ChaCha20Rng;
use chacha20::rand_core::SeedableRng;
use smime_core::{FixedClock, KeyBackend, KeyStore, Options, Protector, Reader, SignMode};
pub use smime_testkit::{bad_keys_dir, corpus_file, keys_dir, repo_root};

/// 2026-06-01T12:00:00Z: inside every good test certificate's validity.
pub const FIXED_TIME: u64 = 1_780_315_200;

pub fn clock() -> Arc<FixedClock> {
    Arc::new(FixedClock::from_unix(FIXED_TIME))
}

pub fn rng() -> ChaCha20Rng {
    ChaCha20Rng::seed_from_u64(7)
}

pub fn protector(options: Options) -> Protector {
    protector_with(options, KeyBackend::RustCrypto)
}

pub fn protector_with(options: Options, backend: KeyBackend) -> Protector {
    let keys = KeyStore::open(keys_dir())
        .unwrap()
        .with_key_backend(backend);
    Protector::new(Arc::new(keys), options).with_clock(clock())
}

/// The four modes, named as on the command line (the golden files are named after them).
pub fn modes() -> Vec<(&'static str, Options)> {
    vec![
        ("sign", Options::sign(SignMode::Opaque)),
        ("sign-detached", Options::sign(SignMode::Detached)),
        ("encrypt", Options::encrypt()),
        ("sign-encrypt", Options::sign_and_encrypt()),
    ]
}

/// A reader holding the private key of `address` from the test PKI.
pub fn reader_for(address: &str) -> Reader {
    let pem = std::fs::read(smime_testkit::key_pem(address)).unwrap();
    Reader::new().with_recipient_pem(&pem).unwrap()
}

/// Every signing-key implementation compiled in: the interop tests run against each.
pub fn backends() -> Vec<KeyBackend> {
    vec![
        KeyBackend::RustCrypto,
        #[cfg(feature = "aws-lc")]
        KeyBackend::AwsLc,
    ]
}

/// `openssl ARGS -in INPUT CERTS...` ([`smime_testkit::openssl::run_cli`]): its standard
/// output; panics with its messages when it fails.
pub fn openssl(args: &[&str], input: &[u8], certs: &[&Path]) -> Vec<u8> {
    smime_testkit::openssl::run_cli(args, input, certs).unwrap_or_else(|e| panic!("{e}"))
}

//! A loop to profile building: `perf record -g target/release/examples/profile_build 600KB aws-lc 500`.
//!
//! Arguments: size (`1KB`, `20KB`, `600KB`, `5MB`), backend (`rustcrypto` or `aws-lc`), count,
//! mode (`sign-encrypt`, the default, or `sign`: opaque signing alone, which at 1 KB is little
//! more than the RSA signature and so compares with `openssl speed rsa2048`).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use smime_core::{KeyBackend, KeyStore, Options, Protector, SignMode};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let size = args.get(1).map_or("20KB", String::as_str);
    let backend = match args.get(2).map_or("aws-lc", String::as_str) {
        "rustcrypto" => KeyBackend::RustCrypto,
        _ => KeyBackend::AwsLc,
    };
    let count: usize = args.get(3).and_then(|n| n.parse().ok()).unwrap_or(200);
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let eml = smime_benches::message(size);
    let keys = KeyStore::open(repo.join("testdata/pki/keys"))
        .expect("test keys")
        .with_key_backend(backend);
    let options = match args.get(4).map_or("sign-encrypt", String::as_str) {
        "sign" => Options::sign(SignMode::Opaque),
        _ => Options::sign_and_encrypt(),
    };
    let protector = Protector::new(Arc::new(keys), options);
    let start = Instant::now();
    let mut bytes = 0;
    for _ in 0..count {
        bytes += protector.protect(&eml).expect("protect").message.len();
    }
    let per = start.elapsed() / count as u32;
    eprintln!("{size}: {count} messages, {per:?} each, {bytes} bytes out");
}

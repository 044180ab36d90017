//! `keys`: key and certificate files with any content, loaded through the public API
//! (`KeyStore` with explicit file paths, then `signer` / `recipient` / `sender_as_recipient`).
//!
//! Input: the first byte picks how the rest becomes a file:
//! - bits 0-1: `0` the bytes as they are (DER, PEM text, anything); `1` wrapped in PEM armor;
//!   `2` armor with `Bag Attributes`-style text before and after; `3` armor followed by
//!   Alice's real certificate block (a key file that carries its certificate);
//! - bits 2-3: the armor's label: `CERTIFICATE`, `PRIVATE KEY`, `RSA PRIVATE KEY`,
//!   `X509 CERTIFICATE`;
//! - bit 4: certificate checks off (`dangerous_skip_certificate_checks`);
//! - bit 5: CRLF line endings in the armor.
//!
//! The file is loaded as Alice's private key (with her real certificate), as her
//! certificate (with her real key, preloaded), as a recipient certificate (`.crt` and `.pem`
//! paths) and as the sender's own copy. Properties: nothing panics; a signer or recipient
//! that loads carries the address asked for, and a signer's certificate
//! holds the key's public half.
#![no_main]

#[path = "shared/scratch.rs"]
mod scratch;

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, SystemTime};

use base64ct::{Base64, Encoding};
use libfuzzer_sys::fuzz_target;
use smime_core::{KeyStore, SigningFailure, SigningKey};

/// 2026-06-01T12:00:00Z, inside every good test certificate's validity.
const FIXED_TIME: u64 = 1_780_315_200;
const ALICE: &str = "alice@example.com";
const KEYS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../testdata/pki/keys");

fn now() -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(FIXED_TIME)
}

/// Alice's key, as far as loading needs it: the public half (loading never signs).
#[derive(Debug)]
struct AlicePublic(Vec<u8>);

impl SigningKey for AlicePublic {
    fn public_key_der(&self) -> Result<Vec<u8>, SigningFailure> {
        Ok(self.0.clone())
    }
    fn bits(&self) -> usize {
        2048
    }
    fn sign(&self, _message: &[u8]) -> Result<Vec<u8>, SigningFailure> {
        unreachable!("loading never signs")
    }
}

struct Fixture {
    /// A per-process directory in /dev/shm (else the system temp dir).
    dir: PathBuf,
    /// An empty directory for `KeyStore::open`: every file is named explicitly.
    empty: PathBuf,
    alice_crt: PathBuf,
    alice_cert_pem: Vec<u8>,
    alice_key: Arc<dyn SigningKey>,
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let dir = scratch::scratch_dir("keys");
        let empty = dir.join("empty");
        let alice_crt = Path::new(KEYS).join(format!("{ALICE}.crt"));
        let alice_cert_pem = std::fs::read(&alice_crt).expect("alice's certificate");
        let store = KeyStore::open(KEYS).expect("the test keys");
        let cert = store
            .recipient(ALICE, now())
            .expect("alice's certificate loads");
        let spki = cert
            .certificate()
            .tbs_certificate()
            .subject_public_key_info()
            .subject_public_key
            .raw_bytes()
            .to_vec();
        Fixture {
            dir,
            empty,
            alice_crt,
            alice_cert_pem,
            alice_key: Arc::new(AlicePublic(spki)),
        }
    })
}

fn armor(label: &str, der: &[u8], crlf: bool) -> Vec<u8> {
    let eol: &[u8] = if crlf { b"\r\n" } else { b"\n" };
    let b64 = Base64::encode_string(der);
    let mut out = Vec::with_capacity(b64.len() + 100);
    out.extend_from_slice(format!("-----BEGIN {label}-----").as_bytes());
    out.extend_from_slice(eol);
    for line in b64.as_bytes().chunks(64) {
        out.extend_from_slice(line);
        out.extend_from_slice(eol);
    }
    out.extend_from_slice(format!("-----END {label}-----").as_bytes());
    out.extend_from_slice(eol);
    out
}

fn store(f: &Fixture, skip_checks: bool) -> KeyStore {
    let s = KeyStore::open(&f.empty).expect("the empty dir");
    if skip_checks {
        s.dangerous_skip_certificate_checks()
    } else {
        s
    }
}

fuzz_target!(|data: &[u8]| {
    let [mode, rest @ ..] = data else {
        return;
    };
    let f = fixture();
    let label = [
        "CERTIFICATE",
        "PRIVATE KEY",
        "RSA PRIVATE KEY",
        "X509 CERTIFICATE",
    ][usize::from((mode >> 2) & 3)];
    let skip = mode & 0x10 != 0;
    let crlf = mode & 0x20 != 0;
    let file = match mode & 3 {
        0 => rest.to_vec(),
        1 => armor(label, rest, crlf),
        2 => {
            let mut v =
                b"Bag Attributes\n    localKeyID: 01 02 03\nsubject=/CN=Alice Test\n".to_vec();
            v.extend(armor(label, rest, crlf));
            v.extend_from_slice(b"trailing text\n");
            v
        }
        _ => {
            let mut v = armor(label, rest, crlf);
            v.extend_from_slice(&f.alice_cert_pem);
            v
        }
    };
    let pem = f.dir.join("fuzz.pem");
    let crt = f.dir.join("fuzz.crt");
    std::fs::write(&pem, &file).expect("write fuzz.pem");
    std::fs::write(&crt, &file).expect("write fuzz.crt");

    // As Alice's private key, with her certificate.
    let s = store(f, skip)
        .with_signer_key_file(&pem)
        .with_signer_cert_file(&f.alice_crt);
    if let Ok(signer) = s.signer(ALICE, now()) {
        assert_eq!(signer.address(), ALICE);
    }
    // As the sender's own copy (certificates in the key file, then her .crt).
    let _ = s.sender_as_recipient(ALICE, now());

    // As Alice's certificate (and chain), with her key.
    let s = store(f, skip)
        .with_signer(Arc::clone(&f.alice_key))
        .with_signer_cert_file(&crt);
    if let Ok(signer) = s.signer(ALICE, now()) {
        assert_eq!(signer.address(), ALICE);
        let public = f.alice_key.public_key_der().expect("public half");
        assert_eq!(
            signer
                .certificate()
                .tbs_certificate()
                .subject_public_key_info()
                .subject_public_key
                .raw_bytes(),
            public.as_slice(),
            "a signer whose certificate is not its key's"
        );
        let _ = signer.chain().len();
    }

    // As a recipient's certificate, from a .crt and from a .pem.
    for path in [&crt, &pem] {
        let s = store(f, skip).with_recipient_cert_file(ALICE, path);
        if let Ok(r) = s.recipient(ALICE, now()) {
            assert_eq!(r.address(), ALICE);
        }
    }
});

//! Key lookup and certificate checks: every refusal names the file and the reason.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use crate::common::*;
use smime_core::{CertProblem, KeyError, KeyStore, Options, ProtectError, Protector, SignMode};

fn now() -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(FIXED_TIME)
}

fn rejected(err: KeyError) -> (String, CertProblem) {
    match err {
        KeyError::Rejected { path, problem, .. } => (path.display().to_string(), problem),
        other => panic!("expected a rejected certificate, got {other:?}"),
    }
}

#[test]
fn lookup_ignores_case_and_reads_pkcs8_pkcs1_and_bag_attributes() {
    let keys = KeyStore::open(keys_dir()).unwrap();
    let s = keys.signer("Alice@EXAMPLE.com", now()).unwrap();
    assert_eq!(
        s.chain().len(),
        1,
        "the intermediate travels with the signature"
    );
    // erin's key file is PKCS#1 behind `Bag Attributes` text.
    let erin = std::fs::read_to_string(keys_dir().join("erin@example.com.pem")).unwrap();
    assert!(erin.starts_with("Bag Attributes") && erin.contains("BEGIN RSA PRIVATE KEY"));
    keys.signer("erin@example.com", now()).unwrap();
    keys.recipient("BOB@example.net", now()).unwrap();
}

#[test]
fn missing_files_are_named() {
    let keys = KeyStore::open(keys_dir()).unwrap();
    let err = keys.recipient("nobody@example.com", now()).unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains("nobody@example.com.crt") && msg.contains("not found"),
        "{msg}"
    );
    let err = keys.signer("nobody@example.com", now()).unwrap_err();
    assert!(err.to_string().contains("nobody@example.com.pem"), "{err}");
    assert!(KeyStore::open("/no/such/dir").is_err());
}

#[test]
fn each_bad_certificate_is_refused_with_its_reason() {
    let keys = KeyStore::open(bad_keys_dir()).unwrap();
    let (path, p) = rejected(keys.recipient("expired@example.com", now()).unwrap_err());
    assert!(path.ends_with("expired@example.com.crt"));
    assert!(matches!(p, CertProblem::Expired { .. }), "{p:?}");

    let (_, p) = rejected(keys.recipient("wrongaddr@example.com", now()).unwrap_err());
    assert!(
        matches!(&p, CertProblem::AddressMismatch { found } if found.contains("someone-else")),
        "{p:?}"
    );

    let (_, p) = rejected(keys.recipient("weak@example.com", now()).unwrap_err());
    assert_eq!(
        p,
        CertProblem::KeyTooShort {
            bits: 1024,
            min: 2048
        }
    );

    let (_, p) = rejected(keys.recipient("noeku@example.com", now()).unwrap_err());
    assert_eq!(p, CertProblem::ExtendedKeyUsage);

    let (_, p) = rejected(keys.signer("mismatch@example.com", now()).unwrap_err());
    assert_eq!(p, CertProblem::KeyMismatch);

    let (_, p) = rejected(keys.signer("nosign@example.com", now()).unwrap_err());
    assert_eq!(
        p,
        CertProblem::KeyUsage {
            needed: "digitalSignature"
        }
    );

    // The message names file and reason.
    let msg = keys
        .signer("expired@example.com", now())
        .unwrap_err()
        .to_string();
    assert!(
        msg.contains("expired@example.com") && msg.contains("expired on"),
        "{msg}"
    );
}

#[test]
fn certificates_are_checked_against_the_injected_clock() {
    let keys = KeyStore::open(keys_dir()).unwrap();
    let long_after = SystemTime::UNIX_EPOCH + Duration::from_secs(2_700_000_000); // 2055
    let (_, p) = rejected(keys.recipient("bob@example.net", long_after).unwrap_err());
    assert!(matches!(p, CertProblem::Expired { .. }));
    let before = SystemTime::UNIX_EPOCH + Duration::from_secs(1_600_000_000); // 2020
    let (_, p) = rejected(keys.signer("alice@example.com", before).unwrap_err());
    assert!(matches!(p, CertProblem::NotYetValid { .. }));
}

#[test]
fn the_dangerous_switch_turns_checks_off() {
    let keys = KeyStore::open(bad_keys_dir())
        .unwrap()
        .dangerous_skip_certificate_checks();
    keys.recipient("expired@example.com", now()).unwrap();
    keys.recipient("weak@example.com", now()).unwrap();
    keys.signer("expired@example.com", now()).unwrap();
    // A key that does not match its certificate is never usable.
    assert!(keys.signer("mismatch@example.com", now()).is_err());
}

#[test]
fn protect_fails_fast_on_a_missing_recipient_certificate() {
    let dir = tempfile::tempdir().unwrap();
    for f in ["alice@example.com.pem", "alice@example.com.crt"] {
        std::fs::copy(keys_dir().join(f), dir.path().join(f)).unwrap();
    }
    let keys = Arc::new(KeyStore::open(dir.path()).unwrap());
    let p = Protector::new(keys, Options::sign_and_encrypt()).with_clock(clock());
    let err = p.protect(&corpus_file("plain.eml")).unwrap_err();
    assert!(
        matches!(&err, ProtectError::Key(KeyError::NotFound { file, .. }) if file == "bob@example.net.crt"),
        "{err:?}"
    );
    // Signing alone needs no recipient certificate.
    let keys = Arc::new(KeyStore::open(dir.path()).unwrap());
    Protector::new(keys, Options::sign(SignMode::Opaque))
        .with_clock(clock())
        .protect(&corpus_file("plain.eml"))
        .unwrap();
}

#[test]
fn encrypted_and_broken_key_files_get_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let put = |name: &str, text: &str| std::fs::write(dir.path().join(name), text).unwrap();
    put(
        "a@x.com.pem",
        "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n",
    );
    put(
        "b@x.com.pem",
        "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
    );
    put("c@x.com.pem", "just text\n");
    put(
        "d@x.com.crt",
        "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
    );
    for backend in backends() {
        let keys = KeyStore::open(dir.path())
            .unwrap()
            .with_key_backend(backend);
        let e = keys.signer("a@x.com", now()).unwrap_err().to_string();
        assert!(e.contains("a@x.com.pem") && e.contains("encrypted"), "{e}");
        let e = keys.signer("b@x.com", now()).unwrap_err().to_string();
        assert!(e.contains("b@x.com.pem") && e.contains("PKCS#8"), "{e}");
        let e = keys.signer("c@x.com", now()).unwrap_err().to_string();
        assert!(
            e.contains("c@x.com.pem") && e.contains("no PEM private key"),
            "{e}"
        );
        let e = keys.recipient("d@x.com", now()).unwrap_err().to_string();
        assert!(
            e.contains("d@x.com.crt") && e.contains("cannot be read"),
            "{e}"
        );
    }
}

#[test]
fn debug_output_holds_no_key_material() {
    for backend in backends() {
        let keys = KeyStore::open(keys_dir())
            .unwrap()
            .with_key_backend(backend);
        let s = keys.signer("alice@example.com", now()).unwrap();
        let dbg = format!("{s:?} {keys:?}");
        assert!(dbg.contains("SigningKey { bits: 2048, .. }"), "{dbg}");
        // No long run of hex or base64 digits, which is what key bytes would print as.
        let longest_run = dbg
            .split(|c: char| !c.is_ascii_alphanumeric())
            .map(str::len)
            .max()
            .unwrap_or(0);
        assert!(longest_run < 40, "{dbg}");
    }
}

/// Counts how often the store asks, and answers `test`.
#[derive(Debug, Default)]
struct Counting(std::sync::atomic::AtomicUsize);

impl smime_core::PassphraseSource for Counting {
    fn passphrase(
        &self,
        _file: &std::path::Path,
        _kind: smime_core::EncryptedKeyKind,
    ) -> Option<smime_core::Passphrase> {
        self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        Some(smime_core::Passphrase::new("test".into()))
    }
}

#[test]
fn an_encrypted_key_file_is_opened_once_per_run() {
    let file = smime_testkit::repo_root().join("testdata/pki/encrypted/alice-trad-aes256.pem");
    let source = Arc::new(Counting::default());
    // One key file for every sender (what --signer-key does); checks off so that Bob may
    // sign with Alice's certificate: the point is how often the file is decrypted.
    let keys = KeyStore::open(keys_dir())
        .unwrap()
        .with_signer_key_file(&file)
        .with_passphrase_source(source.clone())
        .dangerous_skip_certificate_checks();
    keys.signer("alice@example.com", now()).unwrap();
    keys.signer("bob@example.net", now()).unwrap();
    keys.signer("carol@example.org", now()).unwrap();
    assert_eq!(source.0.load(std::sync::atomic::Ordering::SeqCst), 1);
}

#[test]
fn an_encrypted_key_without_or_with_a_wrong_passphrase_is_named() {
    let file = smime_testkit::repo_root().join("testdata/pki/encrypted/alice-pkcs8-aes256.pem");
    let keys = KeyStore::open(keys_dir())
        .unwrap()
        .with_signer_key_file(&file);
    let err = keys.signer("alice@example.com", now()).unwrap_err();
    assert!(
        matches!(&err, KeyError::PassphraseNeeded { path, kind: smime_core::EncryptedKeyKind::Pkcs8 } if path == &file),
        "{err:?}"
    );
    let keys = KeyStore::open(keys_dir())
        .unwrap()
        .with_signer_key_file(&file)
        .with_passphrase(smime_core::Passphrase::new("nope-4711".into()));
    let err = keys.signer("alice@example.com", now()).unwrap_err();
    assert!(matches!(err, KeyError::WrongPassphrase { .. }), "{err:?}");
    assert!(!format!("{err} {err:?}").contains("nope-4711"));
    // The right one opens it, and the certificates beside the key are used.
    let keys = KeyStore::open(keys_dir())
        .unwrap()
        .with_signer_key_file(&file)
        .with_passphrase(smime_core::Passphrase::new("test".into()));
    let s = keys.signer("alice@example.com", now()).unwrap();
    assert_eq!(s.chain().len(), 1);
}

/// A keys directory holding `files` (name → source under testdata/pki).
fn keys_with(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let pki = smime_testkit::repo_root().join("testdata/pki");
    for (name, source) in files {
        std::fs::copy(pki.join(source), dir.path().join(name)).unwrap();
    }
    dir
}

fn serial(r: &smime_core::RecipientKey) -> String {
    r.certificate()
        .tbs_certificate()
        .serial_number()
        .to_string()
}

#[test]
fn recipients_are_found_by_the_addresses_inside_any_certificate_file() {
    for (name, source) in [
        ("team-bundle.p7b", "certfiles/alice-chain.p7b"),
        ("a.p7c", "certfiles/alice-chain.p7c"),
        ("streamed.p7b", "certfiles/alice-chain-ber.p7b"),
        ("smith_a.cer", "certfiles/alice.cer"),
        ("chain.pem", "certfiles/alice-chain.pem"),
    ] {
        let dir = keys_with(&[(name, source)]);
        let keys = KeyStore::open(dir.path()).unwrap();
        let r = keys
            .recipient("Alice@Example.COM", now())
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(r.path().ends_with(name), "{name}: {}", r.path().display());
        assert_eq!(serial(&r), "10:02", "{name}");
        // Nobody else is in there.
        assert!(keys.recipient("bob@example.net", now()).is_err(), "{name}");
    }
}

#[test]
fn of_two_usable_certificates_the_one_valid_longest_is_used() {
    // alice@example.com.crt runs to 2054; the renewal (same key, serial 4242) to 2051 and
    // starts on the day testdata/pki/encrypted/make.sh ran: the real clock.
    // The file named after the address holds the shorter-lived one, and is read first.
    let dir = keys_with(&[
        ("alice@example.com.crt", "encrypted/alice-renewed.crt"),
        ("zz-older.cer", "certfiles/alice.cer"),
    ]);
    let keys = KeyStore::open(dir.path()).unwrap();
    let r = keys
        .recipient("alice@example.com", SystemTime::now())
        .unwrap();
    assert_eq!(serial(&r), "10:02");
    // Alone, the renewal is used.
    let dir = keys_with(&[("renewed.crt", "encrypted/alice-renewed.crt")]);
    let keys = KeyStore::open(dir.path()).unwrap();
    let r = keys
        .recipient("alice@example.com", SystemTime::now())
        .unwrap();
    assert_eq!(serial(&r), "10:92");
}

/// A service's keys from its secret store: nothing on disk, lookups as for a directory.
#[test]
fn a_store_from_memory_signs_and_encrypts_like_one_from_files() {
    let pki = smime_testkit::repo_root().join("testdata/pki");
    let read = |p: &str| std::fs::read(pki.join(p)).unwrap();
    let keys = KeyStore::in_memory()
        .with_file_bytes(
            "alice@example.com.pem",
            read("encrypted/alice-pkcs8-aes256.pem"),
        )
        .unwrap()
        .with_file_bytes("team.p7b", read("certfiles/alice-chain.p7b"))
        .unwrap()
        .with_file_bytes("bob.cer", read("keys/bob@example.net.crt"))
        .unwrap()
        .with_passphrase(smime_core::Passphrase::new("test".into()));
    let signer = keys.signer("alice@example.com", now()).unwrap();
    assert_eq!(signer.chain().len(), 1);
    keys.recipient("bob@example.net", now()).unwrap();
    let err = keys.recipient("carol@example.org", now()).unwrap_err();
    assert!(matches!(err, KeyError::NotFound { .. }), "{err:?}");
    // It signs and encrypts a message (to Bob and to Alice, from the bundle).
    let mut options = Options::default();
    options.sign = Some(SignMode::Opaque);
    options.encrypt = true;
    let protector = Protector::new(Arc::new(keys), options);
    protector
        .protect(&smime_testkit::corpus_file("plain.eml"))
        .unwrap();
    // Names that are not key or certificate files, and paths, are refused.
    for name in ["notes.txt", "../alice@example.com.pem", ""] {
        let err = KeyStore::in_memory()
            .with_file_bytes(name, b"x".to_vec())
            .unwrap_err();
        assert!(matches!(err, KeyError::Invalid { .. }), "{name}: {err:?}");
    }
}

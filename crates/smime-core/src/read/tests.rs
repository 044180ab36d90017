//! Unit tests of the reader: round trips through Protector, errors, keys, and a small
//! deterministic fuzz loop over arbitrary and mutated input.
#![allow(clippy::unwrap_used)]
use std::path::PathBuf;
use std::sync::Arc;

use super::*;
use crate::{FixedClock, KeyStore, Options, Protector, SignMode};

fn keys_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../testdata/pki/keys")
}

const EML: &[u8] = b"From: alice@example.com\r\nTo: bob@example.net\r\nSubject: t\r\n\r\nhello\r\n";

fn protect(options: Options) -> Vec<u8> {
    let keys = Arc::new(KeyStore::open(keys_dir()).unwrap());
    Protector::new(keys, options)
        .with_clock(Arc::new(FixedClock::from_unix(1_780_315_200)))
        .protect(EML)
        .unwrap()
        .message
}

fn bob() -> Reader {
    let pem = std::fs::read(keys_dir().join("bob@example.net.pem")).unwrap();
    Reader::new().with_recipient_pem(&pem).unwrap()
}

/// A tiny deterministic generator, so the test needs no extra dependency.
struct XorShift(u64);
impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next() % n.max(1) as u64).unwrap()
    }
}

#[test]
fn signed_and_encrypted_round_trip() {
    let msg = protect(Options::sign_and_encrypt());
    let opened = bob().open(&msg).unwrap();
    assert_eq!(opened.layers.len(), 2);
    assert!(matches!(
        opened.layers[0],
        Layer::Encrypted {
            cipher: Cipher::Aes256Cbc,
            recipients: 2
        }
    ));
    match &opened.layers[1] {
        Layer::Signed { detached, signers } => {
            assert!(!detached);
            assert_eq!(signers.len(), 1);
            assert!(
                signers[0].subject.contains("alice@example.com"),
                "{}",
                signers[0].subject
            );
            assert_eq!(
                signers[0].signing_time,
                Some(std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_780_315_200))
            );
        }
        other => panic!("{other:?}"),
    }
    assert!(opened.content.ends_with(b"\r\n\r\nhello\r\n"));
    assert!(opened.is_signed() && opened.is_encrypted());
}

#[test]
fn parse_cms_summarises_without_keys() {
    let msg = protect(Options::encrypt());
    let body = &msg[msg.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4..];
    let der = crate::message::encoding::base64_decode_lenient(body).unwrap();
    match parse_cms(&der).unwrap() {
        CmsSummary::EnvelopedData {
            cipher, recipients, ..
        } => {
            assert_eq!(cipher, Some(Cipher::Aes256Cbc));
            assert_eq!(recipients.len(), 2);
            assert!(recipients[0].starts_with("issuer \""), "{recipients:?}");
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        Reader::new().open(&msg),
        Err(ReadError::NoRecipientKey { layer: 1 })
    ));
}

#[test]
fn errors_for_plain_and_oversized_input() {
    assert!(matches!(Reader::new().open(EML), Err(ReadError::NotSmime)));
    assert!(matches!(
        Reader::new().with_max_size(10).open(EML),
        Err(ReadError::TooLarge { limit: 10, .. })
    ));
    assert!(matches!(
        Reader::new().open(b"\x00\x01 not a header\r\n"),
        Err(ReadError::Mime { layer: 1, .. })
    ));
}

#[test]
fn keys_that_do_not_fit_are_refused() {
    let alice = std::fs::read(keys_dir().join("alice@example.com.pem")).unwrap();
    let bob_cert =
        crate::keys::pem::blocks(&std::fs::read(keys_dir().join("bob@example.net.crt")).unwrap())
            .iter()
            .find_map(|b| Certificate::from_der(&b.der).ok())
            .unwrap();
    let err = Reader::new()
        .with_recipient_key(&alice, &bob_cert)
        .unwrap_err();
    assert!(err.to_string().contains("does not belong"), "{err}");
    assert!(Reader::new().with_recipient_pem(b"junk").is_err());
    assert!(
        Reader::new()
            .with_recipient_key(b"\x30\x03\x02\x01\x00", &bob_cert)
            .is_err()
    );
    // The key never shows in Debug.
    let reader = bob();
    let dbg = format!("{reader:?}");
    assert!(
        dbg.contains("RecipientKeyPair") && !dbg.contains("PrivateKey"),
        "{dbg}"
    );
}

#[test]
fn arbitrary_and_mutated_input_never_panics() {
    let mut rng = XorShift(0x5eed_1234_abcd_9876);
    let seeds = [
        protect(Options::sign(SignMode::Opaque)),
        protect(Options::sign(SignMode::Detached)),
        protect(Options::sign_and_encrypt()),
    ];
    let reader = bob();
    for _ in 0..300 {
        let len = rng.below(600);
        let junk: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
        let _ = parse_cms(&junk);
        let _ = Reader::new().open(&junk);
    }
    for seed in &seeds {
        for _ in 0..100 {
            let mut m = seed.clone();
            match rng.below(3) {
                0 => m.truncate(rng.below(m.len())),
                1 => {
                    for _ in 0..=rng.below(4) {
                        let i = rng.below(m.len());
                        m[i] ^= 1 << rng.below(8);
                    }
                }
                _ => {
                    let i = rng.below(m.len());
                    let j = rng.below(m.len());
                    m.drain(i.min(j)..i.max(j));
                }
            }
            let _ = reader.open(&m);
            let _ = Reader::new().open(&m);
        }
        // Mutate the DER itself too, where base64 would hide most flips.
        let body_at = seed.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
        if let Some(der) = crate::message::encoding::base64_decode_lenient(&seed[body_at..]) {
            for _ in 0..200 {
                let mut d = der.clone();
                let i = rng.below(d.len());
                d[i] = rng.next() as u8;
                if rng.below(4) == 0 {
                    d.truncate(rng.below(d.len()));
                }
                let _ = parse_cms(&d);
            }
        }
    }
}

#[test]
fn reader_is_shareable_between_threads() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Reader>();
    assert_send_sync::<Opened>();
    assert_send_sync::<ReadError>();
}

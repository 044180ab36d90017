//! `Debug` (`{:?}` and `{:#?}`) of every type that holds private key material prints none
//! of it: not the PEM, not the DER (hex, base64, byte lists), not the private exponent, the
//! primes or the CRT values (whole, or limb by limb in hex or decimal). Nor do the errors
//! about a damaged key file.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use crate::common::*;
use base64ct::{Base64, Encoding};
use der::Decode;
use pkcs8::DecodePrivateKey;
use smime_core::{KeyBackend, KeyStore, Options, Protector, RsaSigningKey};

const ADDRESSES: [&str; 5] = [
    "alice@example.com",
    "bob@example.net",
    "carol@example.org",
    "dave@example.net",
    "erin@example.com",
];

fn now() -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(FIXED_TIME)
}

/// A test key: its PEM block's body lines, its DER, its format.
struct TestKey {
    pem_lines: Vec<String>,
    der: Vec<u8>,
    pkcs8: bool,
}

fn load(address: &str) -> TestKey {
    let text = std::fs::read_to_string(keys_dir().join(format!("{address}.pem"))).unwrap();
    for (label, pkcs8) in [("PRIVATE KEY", true), ("RSA PRIVATE KEY", false)] {
        let begin = format!("-----BEGIN {label}-----");
        let end = format!("-----END {label}-----");
        if let Some(start) = text.find(&begin) {
            let body = &text[start + begin.len()..text.find(&end).unwrap()];
            let pem_lines: Vec<String> = body
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(str::to_owned)
                .collect();
            let der = Base64::decode_vec(&pem_lines.concat()).unwrap();
            return TestKey {
                pem_lines,
                der,
                pkcs8,
            };
        }
    }
    panic!("{address}: no private key block");
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// What must not appear: the PEM lines, and for the DER and each private value (d, p, q,
/// dP, dQ, qInv): hex in both cases, base64, a byte list as `{:?}` prints one, and each
/// 64-bit limb (aligned from the end, as big-integer types store them) in hex and decimal.
fn needles(key: &TestKey) -> Vec<String> {
    let mut out = key.pem_lines.clone();
    let pkcs1_der = if key.pkcs8 {
        pkcs8::PrivateKeyInfoRef::from_der(&key.der)
            .unwrap()
            .private_key
            .as_bytes()
            .to_vec()
    } else {
        key.der.clone()
    };
    let rsa = pkcs1::RsaPrivateKey::<der::asn1::UintRef<'_>>::from_der(&pkcs1_der).unwrap();
    let private = [
        rsa.private_exponent.as_bytes(),
        rsa.prime1.as_bytes(),
        rsa.prime2.as_bytes(),
        rsa.exponent1.as_bytes(),
        rsa.exponent2.as_bytes(),
        rsa.coefficient.as_bytes(),
    ];
    for value in private.iter().copied().chain([key.der.as_slice()]) {
        let h = hex(value);
        out.push(h.clone());
        out.push(h.to_uppercase());
        out.push(Base64::encode_string(value));
    }
    for value in private {
        // As `{:?}` prints a byte slice (the DER's start is a header every key shares).
        let list = format!("{:?}", &value[..12]);
        out.push(list.trim_matches(['[', ']']).to_owned());
        // Limbs, from the least significant end.
        let mut end = value.len();
        while end >= 8 {
            let limb: [u8; 8] = value[end - 8..end].try_into().unwrap();
            out.push(hex(&limb));
            out.push(hex(&limb).to_uppercase());
            let n = u64::from_be_bytes(limb);
            if n > 1_000_000_000_000 {
                out.push(n.to_string());
            }
            end -= 8;
        }
    }
    out.retain(|n| n.len() >= 12);
    out
}

fn assert_clean(what: &str, text: &str, needles: &[String]) {
    for n in needles {
        assert!(
            !text.contains(n.as_str()),
            "{what}: key material ({n:?}) in:\n{text}"
        );
    }
    assert!(!text.contains("PRIVATE KEY"), "{what}: {text}");
}

fn debug_both(what: &str, value: &dyn std::fmt::Debug, needles: &[String]) {
    assert_clean(what, &format!("{value:?}"), needles);
    assert_clean(what, &format!("{value:#?}"), needles);
}

#[test]
fn needles_find_the_key() {
    // The search would see a leak: the needles are in the file and in a naive Debug.
    let key = load("alice@example.com");
    let n = needles(&key);
    let file = std::fs::read_to_string(keys_dir().join("alice@example.com.pem")).unwrap();
    assert!(n.iter().any(|x| file.contains(x.as_str())));
    use rsa::traits::PrivateKeyParts;
    let rsa = rsa::PrivateKey::from_pkcs8_der(&key.der).unwrap();
    for naive in [
        format!("{:?}", key.der),
        format!("{:02x?}", key.der).replace(", ", ""),
        format!("{:?}", rsa.d()),
        format!("{:?}", rsa.primes()),
    ] {
        assert!(n.iter().any(|x| naive.contains(x.as_str())), "{naive}");
    }
}

#[test]
fn debug_of_keys_signers_stores_and_protectors_shows_no_key_material() {
    let backends = [
        KeyBackend::RustCrypto,
        #[cfg(feature = "aws-lc")]
        KeyBackend::AwsLc,
    ];
    let all: Vec<String> = ADDRESSES.iter().flat_map(|a| needles(&load(a))).collect();
    for backend in backends {
        let keys = Arc::new(
            KeyStore::open(keys_dir())
                .unwrap()
                .with_key_backend(backend),
        );
        for address in ADDRESSES {
            let signer = keys.signer(address, now()).unwrap();
            debug_both(&format!("{backend:?} Signer {address}"), &signer, &all);
            let recipient = keys.recipient(address, now()).unwrap();
            debug_both(&format!("RecipientKey {address}"), &recipient, &all);
        }
        // With every key loaded and cached.
        debug_both(&format!("{backend:?} KeyStore"), &keys, &all);
        let protector =
            Protector::new(keys.clone(), Options::sign_and_encrypt()).with_clock(clock());
        // And after use.
        protector.protect(&corpus_file("plain.eml")).unwrap();
        debug_both(&format!("{backend:?} Protector"), &protector, &all);
        debug_both(&format!("{backend:?} KeyStore after use"), &keys, &all);
    }
}

#[test]
fn debug_of_signing_keys_shows_no_key_material() {
    for address in ADDRESSES {
        let key = load(address);
        let n = needles(&key);
        let rsa = if key.pkcs8 {
            rsa::PrivateKey::from_pkcs8_der(&key.der).unwrap()
        } else {
            <rsa::PrivateKey as pkcs1::DecodeRsaPrivateKey>::from_pkcs1_der(&key.der).unwrap()
        };
        let signing = RsaSigningKey::new(rsa);
        debug_both(&format!("RsaSigningKey {address}"), &signing, &n);
        // A custom signer in a store.
        let keys = KeyStore::open(keys_dir())
            .unwrap()
            .with_signer(Arc::new(signing));
        let signer = keys.signer(address, now()).unwrap();
        debug_both(&format!("custom Signer {address}"), &signer, &n);
        debug_both(&format!("KeyStore with custom signer {address}"), &keys, &n);

        #[cfg(feature = "aws-lc")]
        {
            let aws = if key.pkcs8 {
                smime_core::AwsLcSigningKey::from_pkcs8_der(&key.der).unwrap()
            } else {
                smime_core::AwsLcSigningKey::from_pkcs1_der(&key.der).unwrap()
            };
            debug_both(&format!("AwsLcSigningKey {address}"), &aws, &n);
        }
    }
}

#[test]
fn errors_about_damaged_key_files_show_no_key_material() {
    let key = load("alice@example.com");
    let n = needles(&key);
    let dir = tempfile::tempdir().unwrap();
    let cert = std::fs::read(keys_dir().join("alice@example.com.crt")).unwrap();
    // The DER cut short, a byte of the private exponent changed (the key no longer
    // matches its certificate), and the base64 damaged.
    let mut flipped = key.der.clone();
    let mid = flipped.len() / 2;
    flipped[mid] ^= 0x55;
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("truncated", key.der[..key.der.len() - 40].to_vec()),
        ("flipped", flipped),
    ];
    for (name, der) in cases {
        let pem = format!(
            "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n",
            Base64::encode_string(&der)
        );
        std::fs::write(dir.path().join("alice@example.com.pem"), pem).unwrap();
        std::fs::write(dir.path().join("alice@example.com.crt"), &cert).unwrap();
        for backend in [
            KeyBackend::RustCrypto,
            #[cfg(feature = "aws-lc")]
            KeyBackend::AwsLc,
        ] {
            let keys = KeyStore::open(dir.path())
                .unwrap()
                .with_key_backend(backend);
            match keys.signer("alice@example.com", now()) {
                Ok(signer) => debug_both(name, &signer, &n),
                Err(e) => {
                    for text in [e.to_string(), format!("{e:?}"), format!("{e:#?}")] {
                        for needle in &n {
                            assert!(
                                !text.contains(needle.as_str()),
                                "{name} {backend:?}: key material ({needle:?}) in: {text}"
                            );
                        }
                    }
                }
            }
        }
    }
}

//! ECDSA signing keys (issue 15): frank@example.com (P-256) and grace@example.org (P-384,
//! SEC1 key) of `testdata/pki/ec` sign opaque and detached messages with every key backend;
//! OpenSSL, gpgsm and NSS verify them, and so does our own `Reader`. The SignerInfo carries
//! ecdsa-with-SHA256/384 without parameters and the matching digest. henry@example.net
//! (brainpoolP256r1) is refused by curve name. EC certificates are encrypted to with ECDH key
//! agreement next to RSA recipients in one message, the EC sender's own copy included, and
//! OpenSSL decrypts each recipient's copy (gpgsm 2.2 and NSS 3.87 do not decrypt ECDH).
#![allow(clippy::unwrap_used)]

use std::path::PathBuf;
use std::sync::Arc;

use crate::common::*;
use smime_core::{
    KeyBackend, KeyStore, Layer as ReadLayer, Options, Passphrase, Protector, ReadError, Reader,
    SignMode,
};
use smime_testkit::{Layer, Tool, assert_same_leaves, classify, tamper_signed_content};

/// `testdata/pki/ec`.
fn ec_dir() -> PathBuf {
    repo_root().join("testdata/pki/ec")
}

/// A small message from `from` to Bob.
fn message_from(from: &str) -> Vec<u8> {
    format!(
        "From: Sender <{from}>\r\nTo: Bob <bob@example.net>\r\nSubject: ECDSA\r\n\
         Message-ID: <ecdsa@example.com>\r\nMIME-Version: 1.0\r\n\
         Content-Type: text/plain; charset=us-ascii\r\n\r\nSigned with an EC key.\r\n"
    )
    .into_bytes()
}

fn ec_protector(options: Options, backend: KeyBackend) -> Protector {
    let keys = KeyStore::open(ec_dir()).unwrap().with_key_backend(backend);
    Protector::new(Arc::new(keys), options).with_clock(clock())
}

/// The CMS of a signed message (opaque, or the detached signature) and its `micalg`.
fn signed_der(message: &[u8]) -> (Vec<u8>, Option<String>) {
    match classify(message).unwrap() {
        Layer::OpaqueSigned { der } => (der, None),
        Layer::Detached {
            signature, micalg, ..
        } => (signature, micalg),
        other => panic!("not signed: {}", other.kind()),
    }
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

// AlgorithmIdentifiers as DER, parameters absent (RFC 5754 §2, RFC 5758 §3.2).
const ECDSA_SHA256: &[u8] = &[
    0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02,
];
const ECDSA_SHA384: &[u8] = &[
    0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x03,
];
const SHA256: &[u8] = &[
    0x30, 0x0b, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01,
];
const SHA384: &[u8] = &[
    0x30, 0x0b, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x02,
];
/// The OID of rsaEncryption, which must not appear as a signature algorithm.
const RSA_ENCRYPTION: &[u8] = &[
    0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01,
];

/// The signers: address, its signatureAlgorithm and digest AlgorithmIdentifiers, micalg.
const SIGNERS: [(&str, &[u8], &[u8], &str); 2] = [
    ("frank@example.com", ECDSA_SHA256, SHA256, "sha-256"),
    ("grace@example.org", ECDSA_SHA384, SHA384, "sha-384"),
];

/// The corpus message from `address`, signed in `mode` with its EC key on `backend`.
fn ec_signed(backend: KeyBackend, address: &str, mode: SignMode) -> Vec<u8> {
    ec_protector(Options::sign(mode), backend)
        .protect(&message_from(address))
        .unwrap()
        .message
}

#[test]
fn ec_signed_messages_carry_ecdsa_and_the_matching_digest() {
    for backend in backends() {
        for (address, sig_alg, digest, micalg) in SIGNERS {
            for mode in [SignMode::Opaque, SignMode::Detached] {
                let out = ec_signed(backend, address, mode);
                let what = format!("{backend:?} {address} {mode:?}");
                let (der, found_micalg) = signed_der(&out);
                assert!(contains(&der, sig_alg), "{what}: signatureAlgorithm");
                assert!(contains(&der, digest), "{what}: digestAlgorithm");
                let other = if digest == SHA256 { SHA384 } else { SHA256 };
                assert!(!contains(&der, other), "{what}: a second digest");
                // The certificates are signed by the RSA intermediate: rsaEncryption is in
                // them, but the SignerInfo is the last thing in the structure.
                let tail = &der[der.len() - 200..];
                assert!(
                    !contains(tail, RSA_ENCRYPTION),
                    "{what}: RSA in the SignerInfo"
                );
                if mode == SignMode::Detached {
                    assert_eq!(found_micalg.as_deref(), Some(micalg), "{what}");
                }
            }
        }
    }
}

#[test]
fn ec_signed_messages_verify_everywhere() {
    let tools = Tool::available();
    for backend in backends() {
        for (address, ..) in SIGNERS {
            for mode in [SignMode::Opaque, SignMode::Detached] {
                let input = message_from(address);
                let out = ec_protector(Options::sign(mode), backend)
                    .protect(&input)
                    .unwrap()
                    .message;
                let what = format!("{backend:?} {address} {mode:?}");
                for tool in &tools {
                    let entity = tool
                        .verify(&out)
                        .unwrap_or_else(|e| panic!("{what}: {tool} rejects it: {e}"));
                    assert_same_leaves(&input, &entity);
                    // The check can fail: one changed byte is refused.
                    let bad = tamper_signed_content(&out).unwrap();
                    assert!(
                        tool.verify(&bad).is_err(),
                        "{what}: {tool} accepts tampering"
                    );
                }
            }
        }
    }
}

#[test]
fn our_reader_verifies_ec_signatures_and_catches_tampering() {
    for backend in backends() {
        for (address, ..) in SIGNERS {
            for mode in [SignMode::Opaque, SignMode::Detached] {
                let out = ec_signed(backend, address, mode);
                let what = format!("{backend:?} {address} {mode:?}");
                let opened = Reader::new()
                    .open(&out)
                    .unwrap_or_else(|e| panic!("{what}: {e}"));
                let [ReadLayer::Signed { signers, .. }] = opened.layers.as_slice() else {
                    panic!("{what}: {:?}", opened.layers);
                };
                assert_eq!(signers.len(), 1, "{what}");
                assert!(signers[0].subject.contains(address), "{what}");
                let bad = tamper_signed_content(&out).unwrap();
                let e = Reader::new().open(&bad).unwrap_err();
                assert!(matches!(e, ReadError::DigestMismatch { .. }), "{what}: {e}");
            }
        }
    }
}

#[test]
fn our_reader_verifies_what_openssl_signs_with_ec_keys() {
    if smime_testkit::tool("openssl").is_none() {
        return;
    }
    let intermediate = smime_testkit::intermediate_cert();
    for (address, ..) in SIGNERS {
        let cert = ec_dir().join(format!("{address}.crt"));
        let key = ec_dir().join(format!("{address}.pem"));
        let (cert, key, intermediate) = (
            cert.display().to_string(),
            key.display().to_string(),
            intermediate.display().to_string(),
        );
        for detach in [true, false] {
            let mut args = vec![
                "cms",
                "-sign",
                "-signer",
                &cert,
                "-inkey",
                &key,
                "-certfile",
                &intermediate,
            ];
            if !detach {
                args.push("-nodetach");
            }
            let signed = openssl(
                &args,
                b"Content-Type: text/plain\r\n\r\nsigned by OpenSSL\r\n",
                &[],
            );
            Reader::new()
                .open(&signed)
                .unwrap_or_else(|e| panic!("{address} detached={detach}: {e}"));
        }
    }
}

#[test]
fn ec_keys_sign_from_every_file_form() {
    let dir = tempfile::tempdir().unwrap();
    // frank's key alone as DER (PKCS#8), and grace's (SEC1).
    let der_of = |name: &str, label: &str| {
        let pem = std::fs::read_to_string(ec_dir().join(name)).unwrap();
        let body: String = pem
            .split(&format!("-----BEGIN {label}-----"))
            .nth(1)
            .unwrap()
            .split("-----END")
            .next()
            .unwrap()
            .lines()
            .collect();
        smime_testkit::base64_decode(body.as_bytes()).unwrap()
    };
    let frank_der = dir.path().join("frank.der");
    std::fs::write(&frank_der, der_of("frank@example.com.pem", "PRIVATE KEY")).unwrap();
    let grace_der = dir.path().join("grace.der");
    std::fs::write(
        &grace_der,
        der_of("grace@example.org.pem", "EC PRIVATE KEY"),
    )
    .unwrap();
    let frank = "frank@example.com";
    let grace = "grace@example.org";
    for (address, key) in [
        (frank, ec_dir().join("frank@example.com.pem")),
        (frank, ec_dir().join("frank@example.com.p12")),
        (frank, ec_dir().join("encrypted/frank-pkcs8.pem")),
        (frank, ec_dir().join("encrypted/frank-sec1.pem")),
        (frank, frank_der.clone()),
        (grace, ec_dir().join("grace@example.org.pem")),
        (grace, grace_der.clone()),
    ] {
        for backend in backends() {
            let keys = KeyStore::open(ec_dir())
                .unwrap()
                .with_key_backend(backend)
                .with_signer_key_file(&key)
                .with_passphrase(Passphrase::new("test".into()));
            let p =
                Protector::new(Arc::new(keys), Options::sign(SignMode::Opaque)).with_clock(clock());
            let what = format!("{backend:?} {}", key.display());
            let out = p
                .protect(&message_from(address))
                .unwrap_or_else(|e| panic!("{what}: {e}"));
            Reader::new()
                .open(&out.message)
                .unwrap_or_else(|e| panic!("{what}: {e}"));
        }
    }
}

#[test]
fn an_unsupported_curve_is_refused_by_name() {
    for backend in backends() {
        let e = ec_protector(Options::sign(SignMode::Opaque), backend)
            .protect(&message_from("henry@example.net"))
            .unwrap_err()
            .to_string();
        assert!(
            e.ends_with(
                "henry@example.net.pem: holds an EC key on curve brainpoolP256r1, which is not \
                 supported (P-256 and P-384 are)"
            ),
            "{e}"
        );
    }
}

/// The cert and key files of an address: `testdata/pki/ec` for EC, else the RSA keys.
fn cert_and_key(address: &str) -> (String, String) {
    let dir = if address.starts_with("bob") || address.starts_with("alice") {
        keys_dir()
    } else {
        ec_dir()
    };
    let path = |ext: &str| dir.join(format!("{address}.{ext}")).display().to_string();
    (path("crt"), path("pem"))
}

/// OpenSSL decrypts `message` with `address`'s key and returns the content.
fn openssl_decrypts(message: &[u8], address: &str) -> Vec<u8> {
    let (cert, key) = cert_and_key(address);
    openssl(
        &["cms", "-decrypt", "-recip", &cert, "-inkey", &key],
        message,
        &[],
    )
}

// dhSinglePass-stdDH-sha256kdf-scheme and sha384kdf-scheme (RFC 5753 §7.1.4), id-aes256-wrap.
const SHA256_KDF: &[u8] = &[0x06, 0x06, 0x2b, 0x81, 0x04, 0x01, 0x0b, 0x01];
const SHA384_KDF: &[u8] = &[0x06, 0x06, 0x2b, 0x81, 0x04, 0x01, 0x0b, 0x02];
const AES256_WRAP: &[u8] = &[
    0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x01, 0x2d,
];

#[test]
fn ec_and_rsa_recipients_in_one_message_are_each_decrypted_by_openssl() {
    let keys = || {
        KeyStore::open(keys_dir())
            .unwrap()
            .with_recipient_cert_file("frank@example.com", ec_dir().join("frank@example.com.crt"))
            .with_recipient_cert_file("grace@example.org", ec_dir().join("grace@example.org.crt"))
    };
    let msg = b"From: alice@example.com\r\nTo: frank@example.com, grace@example.org, \
                bob@example.net\r\nSubject: ECDH\r\n\r\nAgreed, not transported.\r\n";
    for options in [Options::encrypt(), Options::sign_and_encrypt()] {
        let out = Protector::new(Arc::new(keys()), options)
            .with_clock(clock())
            .protect(msg)
            .unwrap()
            .message;
        let Layer::Enveloped { der } = classify(&out).unwrap() else {
            panic!("not enveloped")
        };
        // EnvelopedData version 2 (a kari is present), both KDFs, the AES-256 wrap.
        assert!(contains(&der, &[0x02, 0x01, 0x02, 0x31]), "version 2");
        for oid in [SHA256_KDF, SHA384_KDF, AES256_WRAP] {
            assert!(contains(&der, oid), "{oid:02x?}");
        }
        for address in [
            "frank@example.com",
            "grace@example.org",
            "bob@example.net",
            "alice@example.com",
        ] {
            if smime_testkit::tool("openssl").is_none() {
                return;
            }
            let plain = openssl_decrypts(&out, address);
            assert!(
                contains(&plain, b"Agreed, not transported.")
                    || classify(&plain).is_ok_and(|l| matches!(l, Layer::OpaqueSigned { .. })),
                "{address}: {}",
                String::from_utf8_lossy(&plain)
            );
        }
        // A key the message is not agreed with does not open it: the wrap key is not a
        // constant (cms 0.3.0-rc.0's builder wraps with zeros).
        let (_, henry) = cert_and_key("henry@example.net");
        let refused =
            smime_testkit::openssl::run_cli(&["cms", "-decrypt", "-inkey", &henry], &out, &[]);
        assert!(refused.is_err(), "henry decrypts it");
    }
}

#[test]
fn an_ec_sender_keeps_its_own_copy_by_key_agreement() {
    let keys = KeyStore::open(ec_dir())
        .unwrap()
        .with_recipient_cert_file("bob@example.net", keys_dir().join("bob@example.net.crt"));
    let msg = message_from("frank@example.com");
    let out = Protector::new(Arc::new(keys), Options::sign_and_encrypt())
        .with_clock(clock())
        .protect(&msg)
        .unwrap();
    // Bob reads it with our reader and every tool; the EC signature inside verifies.
    let opened = reader_for("bob@example.net").open(&out.message).unwrap();
    assert_eq!(opened.layers.len(), 2);
    for tool in Tool::available() {
        let opened = tool.open(&out.message, "bob@example.net");
        if tool.to_string().starts_with("NSS") {
            // NSS (3.87) cannot parse an EnvelopedData holding any KeyAgreeRecipientInfo,
            // even for its RSA recipients: documented in README.md. When it can, say so there.
            assert!(opened.is_err(), "NSS now reads ECDH recipients");
            continue;
        }
        let (_, layers) = opened.unwrap_or_else(|e| panic!("{tool}: {e}"));
        assert_eq!(layers, ["enveloped", "opaque-signed"], "{tool}");
    }
    // Frank's own copy opens with his EC key.
    if smime_testkit::tool("openssl").is_some() {
        let signed = openssl_decrypts(&out.message, "frank@example.com");
        assert!(classify(&signed).is_ok_and(|l| matches!(l, Layer::OpaqueSigned { .. })));
    }
}

#[test]
fn debug_of_ec_keys_and_signers_shows_no_key_material() {
    use p256::pkcs8::DecodePrivateKey as _;
    let hex = |b: &[u8]| b.iter().map(|x| format!("{x:02x}")).collect::<String>();
    let frank_pem = std::fs::read_to_string(ec_dir().join("frank@example.com.pem")).unwrap();
    let grace_pem = std::fs::read_to_string(ec_dir().join("grace@example.org.pem")).unwrap();
    let frank_key = frank_pem.split("-----END PRIVATE KEY-----").next().unwrap();
    let grace_key = grace_pem
        .split("-----END EC PRIVATE KEY-----")
        .next()
        .unwrap();
    let frank_scalar =
        p256::SecretKey::from_pkcs8_pem(&format!("{frank_key}-----END PRIVATE KEY-----\n"))
            .unwrap()
            .to_bytes();
    let grace_scalar =
        p384::SecretKey::from_sec1_pem(&format!("{grace_key}-----END EC PRIVATE KEY-----\n"))
            .unwrap()
            .to_bytes();
    let mut needles = vec![hex(&frank_scalar), hex(&grace_scalar)];
    // Every base64 line of the key blocks (the certificates' lines are public).
    for key in [frank_key, grace_key] {
        needles.extend(
            key.lines()
                .filter(|l| l.len() > 40 && !l.starts_with("-----"))
                .map(str::to_owned),
        );
    }
    for backend in backends() {
        let keys = Arc::new(KeyStore::open(ec_dir()).unwrap().with_key_backend(backend));
        for address in ["frank@example.com", "grace@example.org"] {
            let signer = keys.signer(address, std::time::SystemTime::now()).unwrap();
            let p = Protector::new(Arc::clone(&keys), Options::sign(SignMode::Opaque));
            for text in [
                format!("{signer:?}"),
                format!("{signer:#?}"),
                format!("{keys:?}"),
                format!("{p:#?}"),
            ] {
                for n in &needles {
                    assert!(!text.contains(n.as_str()), "{backend:?} {address}: {text}");
                }
                assert!(!text.contains(&hex(&frank_scalar).to_uppercase()), "{text}");
            }
        }
    }
    let key = smime_core::EcSigningKey::from_pkcs8_der(
        &smime_testkit::base64_decode(
            frank_key
                .lines()
                .filter(|l| !l.starts_with("-----"))
                .collect::<String>()
                .as_bytes(),
        )
        .unwrap(),
    )
    .unwrap();
    let text = format!("{key:?}");
    assert_eq!(
        text,
        "EcSigningKey { algorithm: EcdsaP256Sha256, bits: 256, .. }"
    );
}

//! Independent implementations read what we write: for every corpus message and every mode,
//! OpenSSL, GnuPG (gpgsm) and NSS (cmsutil) verify and decrypt the output, as every recipient
//! (To, Cc, Bcc) and as the sender, and the decoded parts equal the input's.
//!
//! A tool that is not installed is skipped with a printed reason, unless
//! `SMIME_REQUIRE_INTEROP=1`, which makes it a failure.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use crate::common::*;
use smime_core::{Cipher, Email, KeyBackend, KeyStore, Options, Protector, SignMode};
use smime_testkit::{Layer, Tool, assert_same_leaves, classify, compare_leaves};

/// Every line CRLF, at most 998 characters, 7-bit, no NUL.
fn assert_transportable(name: &str, msg: &[u8]) {
    for (i, line) in msg.split(|&b| b == b'\n').enumerate() {
        if i > 0 || !line.is_empty() {
            let body = line.strip_suffix(b"\r").unwrap_or(line);
            assert!(
                body.len() <= 998,
                "{name}: line {} is {} long",
                i + 1,
                body.len()
            );
            assert!(
                body.iter().all(|&b| b != 0 && b != b'\r' && b < 128),
                "{name}: line {} is not clean 7-bit",
                i + 1
            );
        }
    }
    assert!(
        msg.windows(2)
            .enumerate()
            .all(|(i, w)| w[1] != b'\n' || w[0] == b'\r' || i == 0),
        "{name}: bare LF"
    );
}

/// The outside keeps the input's header (minus Bcc and the MIME fields) in order and folding.
fn assert_outer_header(name: &str, input: &[u8], output: &[u8]) {
    let crlf = String::from_utf8_lossy(input)
        .replace("\r\n", "\n")
        .replace('\n', "\r\n");
    let in_head = crlf.split("\r\n\r\n").next().unwrap();
    let out_text = String::from_utf8_lossy(output);
    let out_head = out_text.split("\r\n\r\n").next().unwrap();
    let fields = |h: &str| -> Vec<String> {
        let mut v: Vec<String> = Vec::new();
        for line in h.split("\r\n") {
            if line.starts_with(' ') || line.starts_with('\t') {
                if let Some(last) = v.last_mut() {
                    last.push_str("\r\n");
                    last.push_str(line);
                }
            } else {
                v.push(line.to_owned());
            }
        }
        v
    };
    let is_outer = |f: &String| {
        let n = f.split(':').next().unwrap_or("").to_ascii_lowercase();
        !n.starts_with("content-") && n != "mime-version" && n != "bcc"
    };
    let want: Vec<String> = fields(in_head).into_iter().filter(is_outer).collect();
    let got: Vec<String> = fields(out_head).into_iter().filter(is_outer).collect();
    assert_eq!(got, want, "{name}: outer header changed");
    assert_eq!(out_head.matches("MIME-Version: 1.0").count(), 1, "{name}");
    assert!(
        !out_head.to_ascii_lowercase().contains("\r\nbcc:"),
        "{name}: Bcc leaked"
    );
}

/// Sign-only: each tool verifies, and the signed entity decodes to the input's parts.
fn check_signed(mode: SignMode, backend: KeyBackend) {
    let tools = Tool::available();
    let p = protector_with(Options::sign(mode), backend);
    let mut rows = Vec::new();
    for (name, eml) in smime_testkit::corpus() {
        let out = p.protect(&eml).unwrap().message;
        assert_transportable(&name, &out);
        assert_outer_header(&name, &eml, &out);
        match (mode, classify(&out).unwrap()) {
            (SignMode::Opaque, Layer::OpaqueSigned { .. }) => {}
            (
                SignMode::Detached,
                Layer::Detached {
                    micalg, content, ..
                },
            ) => {
                assert_eq!(micalg.as_deref(), Some("sha-256"), "{name}");
                // The entity as signed is exactly what we prepared.
                let prepared = Email::parse(&eml).unwrap().prepared_entity().unwrap();
                assert_eq!(content, prepared, "{name}: signed bytes != sent bytes");
                assert_transportable(&name, &content);
            }
            (_, other) => panic!("{name}: unexpected layer {}", other.kind()),
        }
        for &tool in &tools {
            let entity = tool
                .verify(&out)
                .unwrap_or_else(|e| panic!("{tool} rejects {name} ({mode:?}): {e}"));
            assert_same_leaves(&eml, &entity);
            rows.push(format!(
                "{mode:?} {backend:?} {name} {tool}: verified, parts equal"
            ));
        }
        // Tampering is caught (shows the check above can fail).
        let bad = smime_testkit::tamper_signed_content(&out).unwrap();
        for &tool in &tools {
            assert!(
                tool.verify(&bad).is_err(),
                "{tool} accepted tampered {name}"
            );
        }
    }
    eprintln!("{}", rows.join("\n"));
}

/// Encrypting (optionally after signing): every recipient and the sender can open it.
fn check_encrypted(sign: Option<SignMode>, backend: KeyBackend) {
    let tools = Tool::available();
    let mut opts = Options::encrypt();
    opts.sign = sign;
    let p = protector_with(opts, backend);
    let mut rows = Vec::new();
    for (name, eml) in smime_testkit::corpus() {
        let protected = p.protect(&eml).unwrap();
        let out = &protected.message;
        assert_transportable(&name, out);
        assert_outer_header(&name, &eml, out);
        let mut readers: Vec<String> = protected
            .recipients
            .iter()
            .map(|r| r.mailbox.address.to_ascii_lowercase())
            .collect();
        readers.push(SENDER.to_owned());
        let expected_layers: Vec<&str> = match sign {
            None => vec!["enveloped"],
            Some(SignMode::Opaque) => vec!["enveloped", "opaque-signed"],
            Some(_) => vec!["enveloped", "detached"],
        };
        for &tool in &tools {
            for reader in &readers {
                let (entity, layers) = tool
                    .open(out, reader)
                    .unwrap_or_else(|e| panic!("{tool} as {reader} cannot open {name}: {e}"));
                assert_eq!(layers, expected_layers, "{tool} {name}");
                compare_leaves(&eml, &entity)
                    .unwrap_or_else(|d| panic!("{tool} as {reader}, {name}: {d}"));
            }
            rows.push(format!(
                "{sign:?}+encrypt {backend:?} {name} {tool}: opened by {} readers, parts equal",
                readers.len()
            ));
            // Someone who is not a recipient cannot.
            if let Some(outsider) = smime_testkit::RECIPIENTS
                .iter()
                .find(|a| !readers.iter().any(|r| r == *a))
            {
                assert!(
                    tool.decrypt(out, outsider).is_err(),
                    "{tool}: {outsider} read {name}"
                );
            }
        }
    }
    eprintln!("{}", rows.join("\n"));
}

const SENDER: &str = smime_testkit::SENDER;

#[test]
fn opaque_signed_verifies_everywhere() {
    for backend in backends() {
        check_signed(SignMode::Opaque, backend);
    }
}

#[test]
fn detached_signed_verifies_everywhere() {
    for backend in backends() {
        check_signed(SignMode::Detached, backend);
    }
}

#[test]
fn encrypted_opens_for_every_recipient_and_the_sender() {
    // No signature: the signing-key implementation plays no part.
    check_encrypted(None, KeyBackend::RustCrypto);
}

#[test]
fn signed_then_encrypted_opens_and_verifies_everywhere() {
    for backend in backends() {
        check_encrypted(Some(SignMode::Opaque), backend);
        check_encrypted(Some(SignMode::Detached), backend);
    }
}

#[test]
fn both_key_implementations_make_the_same_signature() {
    // PKCS#1 v1.5 is deterministic: the same key and input give the same bytes.
    let eml = smime_testkit::corpus_file("html-inline-image.eml");
    let outputs: Vec<Vec<u8>> = backends()
        .into_iter()
        .map(|b| {
            protector_with(Options::sign(SignMode::Opaque), b)
                .protect(&eml)
                .unwrap()
                .message
        })
        .collect();
    assert!(outputs.windows(2).all(|w| w[0] == w[1]));
}

#[test]
fn aes128_and_no_encrypt_to_self() {
    let keys = Arc::new(KeyStore::open(keys_dir()).unwrap());
    let mut opts = Options::sign_and_encrypt();
    opts.cipher = Cipher::Aes128Cbc;
    opts.encrypt_to_self = false;
    let p = Protector::new(keys, opts).with_clock(clock());
    let eml = smime_testkit::corpus_file("plain.eml");
    let out = p.protect(&eml).unwrap().message;
    for tool in Tool::available() {
        let (entity, _) = tool.open(&out, "bob@example.net").unwrap();
        assert_same_leaves(&eml, &entity);
        assert!(
            tool.decrypt(&out, SENDER).is_err(),
            "{tool}: sender could read"
        );
    }
}

#[test]
fn golden_files_are_readable_too() {
    let dir = repo_root().join("crates/smime-core/tests/golden");
    for tool in Tool::available() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let msg = std::fs::read(&path).unwrap();
            let input = if path.to_string_lossy().contains("many-recipients") {
                smime_testkit::corpus_file("many-recipients.eml")
            } else {
                smime_testkit::corpus_file("plain.eml")
            };
            // The golden files were signed at the fixed time, inside the certificates' validity.
            let (entity, _) = tool
                .open(&msg, "bob@example.net")
                .unwrap_or_else(|e| panic!("{tool}: {}: {e}", path.display()));
            assert_same_leaves(&input, &entity);
        }
    }
}

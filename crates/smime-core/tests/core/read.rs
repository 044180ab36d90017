//! The library's own reader opens what the library writes, in every mode, for every corpus
//! message, and what OpenSSL writes; tampering and the wrong key are caught with clear errors.
#![allow(clippy::unwrap_used)]

use crate::common::*;
use smime_core::{Cipher, KeyBackend, Layer, Opened, Options, ReadError, Reader, SignMode};
use smime_testkit::{RECIPIENTS, SENDER, compare_leaves};

/// The layer kinds, outermost first: `encrypted`, `opaque`, `detached`.
fn kinds(opened: &Opened) -> Vec<&'static str> {
    opened
        .layers
        .iter()
        .map(|l| match l {
            Layer::Signed { detached: true, .. } => "detached",
            Layer::Signed { .. } => "opaque",
            Layer::Encrypted { .. } => "encrypted",
            _ => "other",
        })
        .collect()
}

fn signer_subject(opened: &Opened) -> String {
    opened
        .layers
        .iter()
        .find_map(|l| match l {
            Layer::Signed { signers, .. } => Some(signers[0].subject.clone()),
            _ => None,
        })
        .unwrap_or_default()
}

/// Every mode with the layers it makes, outermost first.
fn modes_and_layers() -> Vec<(&'static str, Options, Vec<&'static str>)> {
    let mut sign_enc_detached = Options::encrypt();
    sign_enc_detached.sign = Some(SignMode::Detached);
    vec![
        ("sign", Options::sign(SignMode::Opaque), vec!["opaque"]),
        (
            "sign-detached",
            Options::sign(SignMode::Detached),
            vec!["detached"],
        ),
        ("encrypt", Options::encrypt(), vec!["encrypted"]),
        (
            "sign+encrypt",
            Options::sign_and_encrypt(),
            vec!["encrypted", "opaque"],
        ),
        (
            "sign-detached+encrypt",
            sign_enc_detached,
            vec!["encrypted", "detached"],
        ),
    ]
}

#[test]
fn every_mode_round_trips_for_every_corpus_message() {
    let sender = reader_for(SENDER);
    for backend in backends() {
        for (mode, options, expected) in modes_and_layers() {
            let p = protector_with(options, backend);
            for (name, eml) in smime_testkit::corpus() {
                let protected = p.protect(&eml).unwrap();
                // The sender (encrypt-to-self) and the first To/Cc/Bcc recipient.
                let first = protected.recipients[0].mailbox.address.to_ascii_lowercase();
                for (who, reader) in [
                    (SENDER.to_owned(), &sender),
                    (first.clone(), &reader_for(&first)),
                ] {
                    let opened = reader
                        .open(&protected.message)
                        .unwrap_or_else(|e| panic!("{mode} {backend:?} {name} as {who}: {e}"));
                    assert_eq!(kinds(&opened), expected, "{mode} {name}");
                    compare_leaves(&eml, &opened.content)
                        .unwrap_or_else(|d| panic!("{mode} {backend:?} {name}: {d}"));
                    if mode.starts_with("sign") {
                        assert!(signer_subject(&opened).contains(SENDER), "{mode} {name}");
                    }
                    if let Some(Layer::Encrypted { cipher, recipients }) = opened.layers.first() {
                        assert_eq!(*cipher, Cipher::Aes256Cbc);
                        assert!(*recipients >= 2, "{mode} {name}");
                    }
                }
            }
        }
    }
}

#[test]
fn tampered_content_fails_verification() {
    let reader = Reader::new();
    for mode in [SignMode::Opaque, SignMode::Detached] {
        let p = protector(Options::sign(mode));
        for (name, eml) in smime_testkit::corpus() {
            let out = p.protect(&eml).unwrap().message;
            assert!(reader.open(&out).is_ok());
            let bad = smime_testkit::tamper_signed_content(&out).unwrap();
            match reader.open(&bad) {
                Err(ReadError::DigestMismatch { layer: 1, signer }) => {
                    assert!(signer.contains("serial"), "{signer}");
                }
                other => panic!("{mode:?} {name}: tampering not caught: {other:?}"),
            }
        }
    }
}

#[test]
fn a_changed_signature_fails() {
    let p = protector(Options::sign(SignMode::Detached));
    let out = p
        .protect(&smime_testkit::corpus_file("plain.eml"))
        .unwrap()
        .message;
    // Flip one base64 character in the middle of the signature part's body.
    let text = String::from_utf8(out).unwrap();
    let sig_at = text.rfind("filename=\"smime.p7s\"\r\n\r\n").unwrap();
    let end = text.rfind("\r\n--").unwrap();
    let mut bytes = text.into_bytes();
    let pos = (sig_at + (end - sig_at) / 2..end)
        .find(|&i| bytes[i].is_ascii_alphabetic())
        .unwrap();
    bytes[pos] ^= 0x20;
    let err = Reader::new().open(&bytes).unwrap_err();
    assert!(
        matches!(
            err,
            ReadError::BadSignature { .. } | ReadError::Malformed { .. }
        ),
        "{err}"
    );
}

#[test]
fn the_wrong_recipient_key_fails_clearly() {
    let mut opts = Options::sign_and_encrypt();
    opts.encrypt_to_self = false;
    let out = protector(opts)
        .protect(&smime_testkit::corpus_file("plain.eml"))
        .unwrap()
        .message;
    // plain.eml is to Bob only.
    assert!(reader_for("bob@example.net").open(&out).is_ok());
    for outsider in [SENDER, "carol@example.org"] {
        let err = reader_for(outsider).open(&out).unwrap_err();
        assert!(
            matches!(err, ReadError::NotARecipient { layer: 1, .. }),
            "{err:?}"
        );
        let text = err.to_string();
        assert!(text.contains("not encrypted to"), "{text}");
        assert!(text.contains("serial"), "{text}");
    }
    let err = Reader::new().open(&out).unwrap_err();
    assert!(
        err.to_string().contains("no recipient key was given"),
        "{err}"
    );
    // Several keys: the one that fits is used.
    let carol = std::fs::read(smime_testkit::key_pem("carol@example.org")).unwrap();
    let bob = std::fs::read(smime_testkit::key_pem("bob@example.net")).unwrap();
    let both = Reader::new()
        .with_recipient_pem(&carol)
        .unwrap()
        .with_recipient_pem(&bob)
        .unwrap();
    assert!(both.open(&out).is_ok());
}

#[test]
fn aes128_and_lf_stored_messages() {
    let mut opts = Options::sign_and_encrypt();
    opts.cipher = Cipher::Aes128Cbc;
    opts.sign = Some(SignMode::Detached);
    let eml = smime_testkit::corpus_file("qp-and-text-attachment.eml");
    let out = protector(opts).protect(&eml).unwrap().message;
    let opened = reader_for(SENDER).open(&out).unwrap();
    assert!(matches!(
        opened.layers[0],
        Layer::Encrypted {
            cipher: Cipher::Aes128Cbc,
            ..
        }
    ));
    compare_leaves(&eml, &opened.content).unwrap();

    // A detached-signed message saved with LF line endings still verifies: the content was
    // signed in canonical CRLF form, which the reader restores.
    let out = protector(Options::sign(SignMode::Detached))
        .protect(&eml)
        .unwrap()
        .message;
    let lf: Vec<u8> = String::from_utf8(out)
        .unwrap()
        .replace("\r\n", "\n")
        .into_bytes();
    let opened = Reader::new().open(&lf).unwrap();
    compare_leaves(&eml, &opened.content).unwrap();
}

#[test]
fn nesting_is_bounded() {
    let p = protector(Options::sign(SignMode::Opaque));
    let mut msg = smime_testkit::corpus_file("plain.eml");
    for depth in 1..=smime_core::MAX_LAYERS + 1 {
        msg = p.protect(&msg).unwrap().message;
        let result = Reader::new().open(&msg);
        if depth <= smime_core::MAX_LAYERS {
            assert_eq!(result.unwrap().layers.len(), depth);
        } else {
            assert!(
                matches!(result, Err(ReadError::TooManyLayers { .. })),
                "{result:?}"
            );
        }
    }
}

#[test]
fn golden_files_open() {
    let dir = repo_root().join("crates/smime-core/tests/golden");
    let reader = reader_for("bob@example.net");
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let input = if path.to_string_lossy().contains("many-recipients") {
            smime_testkit::corpus_file("many-recipients.eml")
        } else {
            smime_testkit::corpus_file("plain.eml")
        };
        let opened = reader
            .open(&std::fs::read(&path).unwrap())
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        compare_leaves(&input, &opened.content).unwrap();
    }
}

#[test]
fn messages_made_by_openssl_are_read() {
    if smime_testkit::tool("openssl").is_none() {
        return;
    }
    let path = |p: std::path::PathBuf| p.to_string_lossy().into_owned();
    let alice_pem = path(smime_testkit::key_pem(SENDER));
    let alice_crt = path(smime_testkit::key_cert(SENDER));
    let inter = path(smime_testkit::intermediate_cert());
    let bob_crt = smime_testkit::key_cert(RECIPIENTS[0]);
    let bob = reader_for(RECIPIENTS[0]);
    let sign = |extra: &[&str], input: &[u8]| {
        let mut args = vec![
            "cms",
            "-sign",
            "-binary",
            "-outform",
            "SMIME",
            "-signer",
            &alice_crt,
            "-inkey",
            &alice_pem,
            "-certfile",
            &inter,
        ];
        args.extend_from_slice(extra);
        openssl(&args, input, &[])
    };
    let encrypt = |extra: &[&str], input: &[u8]| {
        let mut args = vec!["cms", "-encrypt", "-binary", "-outform", "SMIME"];
        args.extend_from_slice(extra);
        openssl(&args, input, &[&bob_crt])
    };
    let mut rows = 0;
    for (name, eml) in smime_testkit::corpus() {
        let entity = smime_core::Email::parse(&eml)
            .unwrap()
            .prepared_entity()
            .unwrap();
        let cases: Vec<(&str, Vec<u8>, Vec<&str>)> = vec![
            ("opaque", sign(&["-nodetach"], &entity), vec!["opaque"]),
            (
                "opaque BER",
                sign(&["-nodetach", "-stream"], &entity),
                vec!["opaque"],
            ),
            ("detached", sign(&[], &entity), vec!["detached"]),
            (
                "detached no attrs",
                sign(&["-noattr"], &entity),
                vec!["detached"],
            ),
            ("aes256", encrypt(&["-aes256"], &entity), vec!["encrypted"]),
            (
                "aes128 BER",
                encrypt(&["-aes128", "-stream"], &entity),
                vec!["encrypted"],
            ),
            (
                "detached+encrypt",
                encrypt(&["-aes256", "-stream"], &sign(&["-crlfeol"], &entity)),
                vec!["encrypted", "detached"],
            ),
            (
                "opaque+encrypt",
                encrypt(&["-aes256"], &sign(&["-nodetach", "-crlfeol"], &entity)),
                vec!["encrypted", "opaque"],
            ),
        ];
        for (case, msg, expected) in cases {
            let opened = bob
                .open(&msg)
                .unwrap_or_else(|e| panic!("openssl {case} {name}: {e}"));
            assert_eq!(kinds(&opened), expected, "{case} {name}");
            compare_leaves(&eml, &opened.content)
                .unwrap_or_else(|d| panic!("openssl {case} {name}: {d}"));
            if case.contains("opaque") || case.contains("detached") {
                assert!(signer_subject(&opened).contains(SENDER), "{case} {name}");
            }
            rows += 1;
        }
    }
    // Encrypted content that is not MIME at all is returned as it is.
    let raw = b"\x00\x01 not a MIME entity\r\n".to_vec();
    let opened = bob.open(&encrypt(&["-aes256"], &raw)).unwrap();
    assert_eq!(opened.content, raw);
    eprintln!("{rows} OpenSSL-made messages read");
}

#[test]
fn the_key_backend_does_not_matter_to_the_reader() {
    // Signatures from every compiled-in backend verify the same way.
    for backend in backends() {
        let out = protector_with(Options::sign(SignMode::Opaque), backend)
            .protect(&smime_testkit::corpus_file("plain.eml"))
            .unwrap()
            .message;
        assert!(Reader::new().open(&out).is_ok(), "{backend:?}");
    }
    let _ = KeyBackend::default();
}

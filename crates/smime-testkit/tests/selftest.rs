//! Self-tests of the harness: S/MIME made by the `openssl cms` command line (not by our library)
//! must verify/decrypt in OpenSSL, gpgsm and NSS through the testkit API, and — the point of the
//! exercise — tampered or wrongly-addressed messages must FAIL in each of the three.

#![allow(clippy::unwrap_used)]

use std::path::Path;

use smime_testkit::{
    Layer, SENDER, Tool, assert_same_leaves, bad_keys_dir, classify, compare_leaves, corpus,
    corpus_file, intermediate_cert, interop_required, key_cert, key_pem, tamper_signed_content,
    tool,
};

/// Runs `openssl ARGS -in INPUT CERTS...` ([`smime_testkit::openssl::run_cli`]), returns
/// stdout.
fn openssl(args: &[&str], certs: &[&Path], input: &[u8]) -> Vec<u8> {
    tool("openssl").expect("the self-tests need the openssl command to make messages");
    smime_testkit::openssl::run_cli(args, input, certs).unwrap_or_else(|e| panic!("{e}"))
}

/// Puts an RFC 5322 header on top of an S/MIME entity, as a sending agent does.
fn with_outer_header(entity: Vec<u8>) -> Vec<u8> {
    let mut m = b"From: Alice <alice@example.com>\r\nTo: Bob <bob@example.net>\r\nSubject: self-test\r\nDate: Tue, 02 Sep 2025 10:00:00 +0200\r\n".to_vec();
    m.extend(entity);
    m
}

/// Signs with Alice's key (+ the intermediate), S/MIME output with CRLF line endings.
/// OpenSSL's text mode canonicalises the content to CRLF first.
fn sign_with(key: &Path, eml: &[u8], opaque: bool) -> Vec<u8> {
    let mut args = vec!["cms", "-sign", "-crlfeol", "-md", "sha256"];
    if opaque {
        args.push("-nodetach");
    }
    let signer = key.to_str().unwrap().to_owned();
    let chain = intermediate_cert().to_str().unwrap().to_owned();
    args.extend(["-signer", &signer, "-certfile", &chain]);
    with_outer_header(openssl(&args, &[], eml))
}

fn sign(eml: &[u8], opaque: bool) -> Vec<u8> {
    sign_with(&key_pem(SENDER), eml, opaque)
}

/// Encrypts `entity` (bytes kept as they are) with AES-256-CBC to `recipients`.
fn encrypt(entity: &[u8], recipients: &[&str]) -> Vec<u8> {
    let certs: Vec<_> = recipients.iter().map(|r| key_cert(r)).collect();
    let refs: Vec<&Path> = certs.iter().map(|p| p.as_path()).collect();
    with_outer_header(openssl(
        &["cms", "-encrypt", "-aes256", "-binary", "-crlfeol"],
        &refs,
        entity,
    ))
}

/// Drops the outer header we added, leaving the S/MIME entity (to nest it in another layer).
fn entity_of(message: &[u8]) -> Vec<u8> {
    let at = message
        .windows(12)
        .position(|w| w == b"MIME-Version")
        .unwrap();
    message[at..].to_vec()
}

/// Asserts that a verification failed, and for the expected reason (so that a test cannot pass
/// because of an unrelated error such as a parse failure).
fn assert_fails<T>(r: Result<T, String>, why: &str, what: &str) {
    match r {
        Ok(_) => panic!("{what}: ACCEPTED, expected a failure ({why})"),
        Err(e) => assert!(
            e.contains(why),
            "{what}: failed, but not with {why:?}:\n{e}"
        ),
    }
}

#[test]
fn classify_sees_what_openssl_made() {
    let eml = corpus_file("plain.eml");
    match classify(&sign(&eml, false)).unwrap() {
        Layer::Detached {
            content, micalg, ..
        } => {
            // plain.eml is CRLF already, so the signed part is the file byte for byte.
            assert_eq!(content, eml);
            assert_eq!(micalg.as_deref(), Some("sha-256"));
        }
        other => panic!("expected detached, got {}", other.kind()),
    }
    assert!(matches!(
        classify(&sign(&eml, true)).unwrap(),
        Layer::OpaqueSigned { .. }
    ));
    assert!(matches!(
        classify(&encrypt(&eml, &["bob@example.net"])).unwrap(),
        Layer::Enveloped { .. }
    ));
    assert!(matches!(classify(&eml).unwrap(), Layer::Other { .. }));
    // The legacy spelling is accepted.
    let legacy = String::from_utf8(sign(&eml, true))
        .unwrap()
        .replace("application/pkcs7-mime", "application/x-pkcs7-mime");
    assert!(matches!(
        classify(legacy.as_bytes()).unwrap(),
        Layer::OpaqueSigned { .. }
    ));
}

#[test]
fn signed_corpus_verifies_everywhere() {
    let tools = Tool::available();
    for (name, eml) in corpus() {
        for opaque in [true, false] {
            let signed = sign(&eml, opaque);
            for &t in &tools {
                let entity = t.verify(&signed).unwrap_or_else(|e| {
                    panic!("{t} rejects {name} (opaque={opaque}) signed by openssl: {e}")
                });
                if let Err(diff) = compare_leaves(&eml, &entity) {
                    panic!("{t}, {name}, opaque={opaque}: {diff}");
                }
            }
        }
    }
}

#[test]
fn openssl_own_mime_parser_accepts_both_forms() {
    if tool("openssl").is_none() {
        return;
    }
    let eml = corpus_file("html-inline-image.eml");
    for opaque in [true, false] {
        let entity = smime_testkit::openssl::verify_smime(&sign(&eml, opaque)).unwrap();
        assert_same_leaves(&eml, &entity);
    }
}

#[test]
fn tampered_signature_fails_everywhere() {
    let tools = Tool::available();
    for name in ["plain.eml", "html-inline-image.eml", "bare-lf.eml"] {
        let eml = corpus_file(name);
        for opaque in [true, false] {
            let signed = sign(&eml, opaque);
            let tampered = tamper_signed_content(&signed).unwrap();
            assert_ne!(signed, tampered);
            for &t in &tools {
                // The original passes, the tampered copy does not.
                t.verify(&signed)
                    .unwrap_or_else(|e| panic!("{t} rejects untampered {name}: {e}"));
                let r = t.verify(&tampered);
                let why = match t {
                    Tool::OpenSsl => "content verify error",
                    Tool::Gpgsm => "BADSIG",
                    Tool::Nss => "status=DigestMismatch",
                };
                assert_fails(r, why, &format!("{t}, tampered {name} (opaque={opaque})"));
            }
        }
    }
}

#[test]
fn unacceptable_signer_certificates_fail() {
    let tools = Tool::available();
    let eml = corpus_file("plain.eml");
    let key = |a: &str| bad_keys_dir().join(format!("{a}.pem"));
    // Expired and no-digitalSignature signers: rejected by all three.
    for (bad, openssl_why, gpgsm_why) in [
        (
            "expired@example.com",
            "certificate has expired",
            "EXPKEYSIG",
        ),
        (
            "nosign@example.com",
            "unsuitable certificate purpose",
            "ERROR verify.keyusage",
        ),
    ] {
        let signed = sign_with(&key(bad), &eml, false);
        for &t in &tools {
            let why = match t {
                Tool::OpenSsl => openssl_why,
                Tool::Gpgsm => gpgsm_why,
                Tool::Nss => "status=SigningCertNotTrusted",
            };
            assert_fails(t.verify(&signed), why, &format!("{t}, signer {bad}"));
        }
    }
    // serverAuth-only signer: OpenSSL (-purpose smimesign) and NSS reject it; gpgsm 2.2 does not
    // look at extendedKeyUsage, so it is not asserted there.
    let signed = sign_with(&key("noeku@example.com"), &eml, true);
    for &t in &tools {
        let r = t.verify(&signed);
        match t {
            Tool::Gpgsm => eprintln!(
                "note: gpgsm 2.2 {} a serverAuth-only signer",
                if r.is_ok() { "accepts" } else { "rejects" }
            ),
            Tool::OpenSsl => assert_fails(r, "unsuitable certificate purpose", "OpenSSL, noeku"),
            Tool::Nss => assert_fails(r, "status=SigningCertNotTrusted", "NSS, noeku"),
        }
    }
}

#[test]
fn enveloped_decrypts_for_every_recipient_everywhere() {
    let tools = Tool::available();
    let eml = corpus_file("many-recipients.eml");
    let everyone = [
        SENDER,
        "bob@example.net",
        "carol@example.org",
        "dave@example.net",
        "erin@example.com",
    ];
    let enveloped = encrypt(&eml, &everyone);
    for &t in &tools {
        for who in everyone {
            let entity = t
                .decrypt(&enveloped, who)
                .unwrap_or_else(|e| panic!("{t} cannot decrypt as {who}: {e}"));
            assert_eq!(entity, eml, "{t} as {who}: decrypted bytes differ");
        }
    }
}

#[test]
fn not_a_recipient_fails_everywhere() {
    let tools = Tool::available();
    let eml = corpus_file("utf8-8bit.eml");
    let enveloped = encrypt(&eml, &["bob@example.net"]);
    for &t in &tools {
        t.decrypt(&enveloped, "bob@example.net")
            .unwrap_or_else(|e| panic!("{t} cannot decrypt as bob: {e}"));
        assert!(
            t.decrypt(&enveloped, "carol@example.org").is_err(),
            "{t} decrypted as carol a message encrypted to bob only"
        );
    }
}

#[test]
fn sign_then_encrypt_opens_everywhere() {
    let tools = Tool::available();
    for (name, opaque) in [("qp-and-text-attachment.eml", true), ("bare-lf.eml", false)] {
        let eml = corpus_file(name);
        let signed = sign(&eml, opaque);
        let message = encrypt(
            &entity_of(&signed),
            &["carol@example.org", "dave@example.net"],
        );
        let inner = if opaque { "opaque-signed" } else { "detached" };
        for &t in &tools {
            for who in ["carol@example.org", "dave@example.net"] {
                let (entity, layers) = t
                    .open(&message, who)
                    .unwrap_or_else(|e| panic!("{t} cannot open {name} as {who}: {e}"));
                assert_eq!(layers, ["enveloped", inner], "{t} {name}");
                assert_same_leaves(&eml, &entity);
            }
        }
        // Tampering with the inner signature is caught after decryption too.
        let tampered = encrypt(
            &entity_of(&tamper_signed_content(&signed).unwrap()),
            &["carol@example.org"],
        );
        for &t in &tools {
            assert!(
                t.open(&tampered, "carol@example.org").is_err(),
                "{t} opened a sign-then-encrypt message whose signed content was changed"
            );
        }
    }
}

#[test]
fn leaf_comparison_catches_changes() {
    let eml = corpus_file("html-inline-image.eml");
    let changed = String::from_utf8(eml.clone())
        .unwrap()
        .replace("logo.png", "logo.gif");
    let err = compare_leaves(&eml, changed.as_bytes()).unwrap_err();
    assert!(err.contains("file name"), "{err}");
    // LF storage compares equal to its CRLF form.
    let lf = corpus_file("bare-lf.eml");
    let crlf = String::from_utf8(lf.clone()).unwrap().replace('\n', "\r\n");
    assert_same_leaves(&lf, crlf.as_bytes());
}

#[test]
fn tool_gate_never_skips_silently() {
    let missing = "smime-testkit-no-such-tool";
    if interop_required() {
        assert!(std::panic::catch_unwind(|| tool(missing)).is_err());
    } else {
        assert!(tool(missing).is_none());
    }
}

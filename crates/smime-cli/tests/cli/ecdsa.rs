//! ECDSA signing keys from the command line (issue 15): frank@example.com's P-256 key in a
//! PKCS#12 file (`--signer-key`, passphrase from SMIME_KEY_PASSWORD) signs opaque and
//! detached messages that every S/MIME implementation installed verifies; a key on an
//! unsupported curve is a one-line data error naming the curve.
#![allow(clippy::unwrap_used)]

use smime_testkit::{Layer, Tool, classify, repo_root};

use crate::support::*;

fn ec(name: &str) -> String {
    repo_root()
        .join("testdata/pki/ec")
        .join(name)
        .display()
        .to_string()
}

/// A message from `from`, written to `dir`.
fn message_from(dir: &std::path::Path, from: &str) -> String {
    let eml = format!(
        "From: <{from}>\r\nTo: Bob <bob@example.net>\r\nSubject: EC\r\n\r\nSigned with EC.\r\n"
    );
    write(dir, "ec.eml", eml.as_bytes())
}

#[test]
fn a_p256_pkcs12_key_signs_what_every_implementation_verifies() {
    let dir = tempfile::tempdir().unwrap();
    let message = message_from(dir.path(), "frank@example.com");
    let key = ec("frank@example.com.p12");
    for mode in ["--sign", "--sign-detached"] {
        let out = run(smime()
            .test_keys()
            .env("SMIME_KEY_PASSWORD", "test")
            .args([mode, "--signer-key", &key])
            .arg(&message));
        exit_with(&out, 0);
        match classify(&out.stdout).unwrap() {
            Layer::OpaqueSigned { .. } => assert_eq!(mode, "--sign"),
            Layer::Detached { micalg, .. } => {
                assert_eq!(mode, "--sign-detached");
                assert_eq!(micalg.as_deref(), Some("sha-256"));
            }
            other => panic!("{mode}: {}", other.kind()),
        }
        for tool in Tool::available() {
            tool.verify(&out.stdout)
                .unwrap_or_else(|e| panic!("{mode}: {tool} does not verify: {e}"));
        }
    }
}

#[test]
fn a_key_on_another_curve_is_one_line_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let message = message_from(dir.path(), "henry@example.net");
    let key = ec("henry@example.net.pem");
    let out = run(smime()
        .test_keys()
        .args(["--sign", "--signer-key", &key])
        .arg(&message));
    let err = one_error_line(&out, 65);
    assert!(
        err.contains(&key)
            && err.contains(
                "holds an EC key on curve brainpoolP256r1, which is not supported (P-256 and \
                 P-384 are)"
            ),
        "{err}"
    );
}

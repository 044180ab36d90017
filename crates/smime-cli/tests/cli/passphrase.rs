//! Encrypted key files (issue 15): the passphrase from SMIME_KEY_PASSWORD or
//! --key-password-file, never printed; a missing one is a configuration error naming the
//! variable (exit 2), a wrong one a one-line data error (exit 65). What is signed with a
//! decrypted key is checked by every S/MIME implementation installed.
#![allow(clippy::unwrap_used)]

use std::path::PathBuf;

use smime_testkit::{Tool, repo_root};

use crate::support::*;

/// The encrypted copies of Alice's key (testdata/pki/encrypted/make.sh), passphrase `test`.
const ENCRYPTED: [&str; 5] = [
    "alice-pkcs8-aes256.pem",
    "alice-trad-aes128.pem",
    "alice-trad-aes192.pem",
    "alice-trad-aes256.pem",
    "alice-trad-des3.pem",
];

/// `out` succeeded, and every implementation in `tools` verifies what it printed.
fn verified_by_all(name: &str, out: &std::process::Output, tools: &[Tool]) {
    exit_with(out, 0);
    for tool in tools {
        tool.verify(&out.stdout)
            .unwrap_or_else(|e| panic!("{name}: {tool:?} does not verify: {e}"));
    }
}

fn encrypted(name: &str) -> PathBuf {
    repo_root().join("testdata/pki/encrypted").join(name)
}

/// `smime --sign --signer-key KEY` on the plain corpus message, with `extra` arguments and
/// `SMIME_KEY_PASSWORD` set to `env` when given.
fn sign_with(key: &str, env: Option<&str>, extra: &[&str]) -> std::process::Output {
    let key = encrypted(key).display().to_string();
    let mut c = smime();
    c.test_keys()
        .args(["--sign", "--signer-key", &key])
        .args(extra)
        .arg(corpus("plain.eml"));
    if let Some(p) = env {
        c.env("SMIME_KEY_PASSWORD", p);
    }
    run(&mut c)
}

#[test]
fn encrypted_keys_sign_what_every_implementation_verifies() {
    let tools = Tool::available();
    for name in ENCRYPTED {
        let out = sign_with(name, Some("test"), &[]);
        verified_by_all(name, &out, &tools);
    }
}

#[test]
fn a_password_file_gives_its_first_line() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "pass", b"test\nnot this line\n");
    let out = sign_with(
        "alice-trad-aes256.pem",
        None,
        &["--key-password-file", &file],
    );
    exit_with(&out, 0);
    // The file wins over the environment.
    let out = sign_with(
        "alice-pkcs8-aes256.pem",
        Some("wrong"),
        &["--key-password-file", &file],
    );
    exit_with(&out, 0);
    let missing = dir.path().join("none").display().to_string();
    let out = sign_with(
        "alice-pkcs8-aes256.pem",
        None,
        &["--key-password-file", &missing],
    );
    let err = exit_with(&out, 2);
    assert!(err.contains("--key-password-file"), "{err}");
}

#[test]
fn without_a_passphrase_the_run_names_the_variable() {
    for name in ENCRYPTED {
        let out = sign_with(name, None, &[]);
        let err = exit_with(&out, 2);
        assert!(err.contains(name), "{err}");
        assert!(err.contains("needs a passphrase"), "{err}");
        assert!(err.contains("SMIME_KEY_PASSWORD"), "{err}");
        assert!(out.stdout.is_empty());
    }
}

#[test]
fn a_wrong_passphrase_is_one_line_naming_the_file() {
    for name in ENCRYPTED {
        let wrong = "Wr0ng-passphrase-4711";
        let out = sign_with(name, Some(wrong), &[]);
        let err = one_error_line(&out, 65);
        assert!(
            err.contains(name) && err.contains("wrong passphrase"),
            "{err}"
        );
        assert!(
            !all_output(&out).contains(wrong),
            "the passphrase was printed: {err}"
        );
    }
}

#[test]
fn help_offers_no_option_that_takes_the_passphrase() {
    let out = smime_args(&["--help"]);
    let help = stdout(&out);
    assert!(help.contains("--key-password-file <FILE>"), "{help}");
    assert!(help.contains("SMIME_KEY_PASSWORD"), "{help}");
    assert!(!help.contains("--key-password <"), "{help}");
    assert!(!help.contains("--passphrase"), "{help}");
}

/// The PKCS#12 files of testdata/pki/pkcs12 (make.sh, make-more.sh), passphrase `test`:
/// OpenSSL 3's defaults, its `-legacy` export, the older 2-key 3DES / RC2-128 one, a SHA-512
/// MAC, no MAC, an unencrypted key bag, a file with a second person's certificate, and what
/// NSS's pk12util writes.
const PKCS12: [&str; 8] = [
    "default.p12",
    "legacy.p12",
    "legacy2.p12",
    "sha512mac.p12",
    "nomac.p12",
    "plain.p12",
    "twocerts.p12",
    "nss.p12",
];

fn pkcs12(name: &str) -> String {
    repo_root()
        .join("testdata/pki/pkcs12")
        .join(name)
        .display()
        .to_string()
}

#[test]
fn pkcs12_files_sign_what_every_implementation_verifies() {
    let tools = Tool::available();
    for name in PKCS12 {
        let key = pkcs12(name);
        let out = run(smime()
            .test_keys()
            .env("SMIME_KEY_PASSWORD", "test")
            .args(["--sign", "--signer-key", &key])
            .arg(corpus("plain.eml")));
        verified_by_all(name, &out, &tools);
    }
}

/// A keys directory holding only what a CA delivers (`<address>.p12`) and the recipient's
/// certificate: signing finds the PKCS#12 by address, and the sender's own copy takes its
/// certificate from inside it.
#[test]
fn a_keys_directory_with_a_pkcs12_signs_and_encrypts_to_self() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        pkcs12("default.p12"),
        dir.path().join("alice@example.com.p12"),
    )
    .unwrap();
    std::fs::copy(
        smime_testkit::keys_dir().join("bob@example.net.crt"),
        dir.path().join("bob@example.net.crt"),
    )
    .unwrap();
    let message = corpus("plain.eml");
    let keys = dir.path().display().to_string();
    let out = run(smime().env("SMIME_KEY_PASSWORD", "test").args([
        "--keys",
        &keys,
        "--sign",
        "--encrypt",
        &message,
    ]));
    exit_with(&out, 0);
    for tool in Tool::available() {
        for reader in ["bob@example.net", "alice@example.com"] {
            let (_, layers) = tool
                .open(&out.stdout, reader)
                .unwrap_or_else(|e| panic!("{tool:?} as {reader}: {e}"));
            assert_eq!(
                layers,
                ["enveloped", "opaque-signed"],
                "{tool:?} as {reader}"
            );
        }
    }
    // Without the passphrase: the configuration error names the file and the variable.
    let out = run(smime().args(["--keys", &keys, "--sign", &message]));
    let err = exit_with(&out, 2);
    assert!(
        err.contains("alice@example.com.p12") && err.contains("PKCS#12 file"),
        "{err}"
    );
    assert!(err.contains("SMIME_KEY_PASSWORD"), "{err}");
}

#[test]
fn broken_pkcs12_files_are_one_line_each() {
    let dir = tempfile::tempdir().unwrap();
    let good = std::fs::read(pkcs12("default.p12")).unwrap();
    let truncated = write(dir.path(), "truncated.p12", &good[..good.len() / 2]);
    for (key, pass, what) in [
        (pkcs12("default.p12"), "Wr0ng-4711", "wrong passphrase"),
        (truncated, "test", "truncated"),
        (pkcs12("rc4.p12"), "test", "pbeWithSHAAnd128BitRC4"),
    ] {
        let out = run(smime()
            .test_keys()
            .env("SMIME_KEY_PASSWORD", pass)
            .args(["--sign", "--signer-key", &key])
            .arg(corpus("plain.eml")));
        let err = one_error_line(&out, 65);
        assert!(err.contains(&key) && err.contains(what), "{what}: {err}");
        assert!(!all_output(&out).contains("Wr0ng-4711"), "{err}");
    }
}

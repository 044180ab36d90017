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
        exit_with(&out, 0);
        for tool in &tools {
            tool.verify(&out.stdout)
                .unwrap_or_else(|e| panic!("{name}: {tool:?} does not verify: {e}"));
        }
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
        let err = exit_with(&out, 65);
        let lines: Vec<&str> = err
            .lines()
            .filter(|l| !l.contains("can be read by group"))
            .collect();
        assert_eq!(lines.len(), 1, "{err}");
        assert!(
            lines[0].contains(name) && lines[0].contains("wrong passphrase"),
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

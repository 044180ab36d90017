//! `smime certs list`: every certificate of the keys directory with its state, as text and
//! as JSON lines; trust from `--trust` files, the system bundle off with `--no-system-trust`.
#![allow(clippy::unwrap_used)]

use smime_testkit::repo_root;

use crate::support::*;

fn keys_with(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let pki = repo_root().join("testdata/pki");
    for (from, to) in files {
        std::fs::copy(pki.join(from), dir.path().join(to)).unwrap();
    }
    dir
}

/// The test PKI's root, as a `--trust` argument.
fn test_root() -> String {
    repo_root()
        .join("testdata/pki/ca.crt")
        .display()
        .to_string()
}

#[test]
fn list_shows_each_state_and_why_a_certificate_is_not_trusted() {
    let dir = keys_with(&[
        ("keys/alice@example.com.pem", "alice@example.com.pem"),
        ("keys/bob@example.net.crt", "bob@example.net.crt"),
        ("encrypted/alice-trad-aes256.pem", "carol@example.org.pem"),
        ("keys/carol@example.org.crt", "carol@example.org.crt"),
        ("bad/expired@example.com.crt", "expired@example.com.crt"),
        ("trust/stranger@example.com.crt", "stranger.cer"),
        ("trust/constrained-ca.crt", "sub-ca.crt"),
        ("trust/outside@example.org.crt", "outside.crt"),
        ("intermediate.crt", "intermediate.crt"),
    ]);
    let keys = dir.path().display().to_string();
    let ca = test_root();
    let args = [
        "certs",
        "list",
        "--keys",
        &keys,
        "--no-system-trust",
        "--trust",
        &ca,
    ];
    let out = smime_args(&[&args[..], &["--json"]].concat());
    exit_with(&out, 0);
    let rows: Vec<serde_json::Value> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let by = |a: &str| {
        rows.iter()
            .find(|r| r["address"] == a)
            .unwrap_or_else(|| panic!("{a} not listed: {rows:#?}"))
    };
    assert_eq!(rows.len(), 6, "{rows:#?}");
    let alice = by("alice@example.com");
    assert_eq!(alice["status"], "valid");
    assert_eq!(alice["private_key"], "plain");
    assert_eq!(alice["key"], "rsa-2048");
    assert_eq!(alice["not_after"], "2054-01-01T00:00:00Z");
    assert_eq!(alice["serial"], "1002");
    assert_eq!(by("bob@example.net")["private_key"], "none");
    assert_eq!(by("carol@example.org")["private_key"], "passphrase");
    assert_eq!(by("expired@example.com")["status"], "expired");
    assert_eq!(by("stranger@example.com")["status"], "untrusted");
    let outside = by("outside@example.org");
    assert_eq!(outside["status"], "untrusted");
    assert!(
        outside["trust_problem"]
            .as_str()
            .unwrap()
            .contains("outside the name constraints"),
        "{outside}"
    );

    // The text form: one line each, and the reason under an untrusted one.
    let out = smime_args(&args);
    let text = stdout(&out);
    let stranger = text
        .lines()
        .position(|l| l.starts_with("stranger@example.com"))
        .unwrap();
    assert!(
        text.lines().nth(stranger).unwrap().contains("untrusted"),
        "{text}"
    );
    assert!(
        text.lines()
            .nth(stranger + 1)
            .unwrap()
            .contains("not trusted: no trusted issuer"),
        "{text}"
    );

    // Without any anchor, nothing is trusted.
    let out = smime_args(&[
        "certs",
        "list",
        "--keys",
        &keys,
        "--no-system-trust",
        "--json",
    ]);
    assert!(
        stdout(&out)
            .lines()
            .all(|l| !l.contains("\"status\":\"valid\"")),
        "{}",
        stdout(&out)
    );
}

#[test]
fn a_missing_trust_file_or_keys_directory_is_named() {
    let out = smime_args(&[
        "certs",
        "list",
        "--keys",
        "/no/such/dir",
        "--no-system-trust",
    ]);
    let err = stderr(&out);
    assert_ne!(out.status.code(), Some(0), "{err}");
    assert!(err.contains("/no/such/dir"), "{err}");
    let out = smime_args(&["certs", "list", "--trust", "/no/such/ca.pem"]);
    let err = stderr(&out);
    assert_ne!(out.status.code(), Some(0), "{err}");
    assert!(err.contains("/no/such/ca.pem"), "{err}");
}

#[test]
fn import_writes_one_crt_per_address_and_says_what_it_did() {
    let dir = tempfile::tempdir().unwrap();
    let keys = dir.path().display().to_string();
    let pki = repo_root().join("testdata/pki");
    let p = |name: &str| pki.join(name).display().to_string();
    // A PKCS#7 bundle (leaf + intermediate) and an expired certificate: one added, one
    // refused, exit 65, and the good one written all the same.
    let out = smime_args(&[
        "certs",
        "import",
        "--keys",
        &keys,
        &p("certfiles/alice-chain.p7b"),
        &p("bad/expired@example.com.crt"),
    ]);
    exit_with(&out, 65);
    let text = stdout(&out);
    assert!(text.contains("added      alice@example.com"), "{text}");
    assert!(
        text.contains("refused    expired@example.com") && text.contains("expired on"),
        "{text}"
    );
    // The system bundle does not know the test root: imported, and said not to be trusted.
    assert!(text.contains("not trusted: no trusted issuer"), "{text}");
    let written = std::fs::read_to_string(dir.path().join("alice@example.com.crt")).unwrap();
    assert_eq!(
        written.matches("BEGIN CERTIFICATE").count(),
        2,
        "the chain comes along"
    );
    // What was written is what the keys directory now uses to encrypt to Alice.
    let listed = smime_args(&[
        "certs",
        "list",
        "--keys",
        &keys,
        "--no-system-trust",
        "--json",
    ]);
    assert!(stdout(&listed).contains("\"address\":\"alice@example.com\""));

    // The same certificate again (DER this time): unchanged, exit 0. A renewal valid for a
    // shorter time than the one present: unchanged too.
    let root = test_root();
    for file in ["certfiles/alice.cer", "encrypted/alice-renewed.crt"] {
        let out = smime_args(&[
            "certs",
            "import",
            "--keys",
            &keys,
            "--no-system-trust",
            "--trust",
            &root,
            &p(file),
        ]);
        exit_with(&out, 0);
        let text = stdout(&out);
        assert!(text.starts_with("unchanged  alice@example.com"), "{text}");
        assert!(text.trim_end().ends_with(": trusted"), "{text}");
    }

    // A PKCS#12 needs its passphrase (exit 2 without one, naming the variable); with it,
    // its certificates are imported.
    let out = smime_args(&[
        "certs",
        "import",
        "--keys",
        &keys,
        &p("pkcs12/twocerts.p12"),
    ]);
    let err = exit_with(&out, 2);
    assert!(err.contains("SMIME_KEY_PASSWORD"), "{err}");
    let out = run(smime().env("SMIME_KEY_PASSWORD", "test").args([
        "certs",
        "import",
        "--keys",
        &keys,
        &p("pkcs12/twocerts.p12"),
    ]));
    exit_with(&out, 0);
    assert!(
        stdout(&out).contains("added      bob@example.net"),
        "{}",
        stdout(&out)
    );
    assert!(dir.path().join("bob@example.net.crt").is_file());
}

/// `--require-trusted` refuses a recipient outside its CA's name constraints, and one whose
/// chain ends at an unknown root; without it, the keys directory decides, as before.
#[test]
fn require_trusted_refuses_what_does_not_chain() {
    let dir = keys_with(&[
        ("trust/constrained-ca.crt", "sub-ca.crt"),
        ("trust/inside@example.com.crt", "inside@example.com.crt"),
        ("trust/outside@example.org.crt", "outside@example.org.crt"),
        ("keys/alice@example.com.pem", "alice@example.com.pem"),
    ]);
    let keys = dir.path().display().to_string();
    let ca = test_root();
    let send = |to: &str, extra: &[&str]| {
        let message = format!("From: alice@example.com\r\nTo: {to}\r\nSubject: t\r\n\r\nhello\r\n");
        let file = write(dir.path(), "m.eml", message.as_bytes());
        let mut args = vec!["--keys", &keys, "--encrypt", "--no-encrypt-to-self"];
        args.extend_from_slice(extra);
        args.push(&file);
        smime_args(&args)
    };
    let trusted = ["--require-trusted", "--no-system-trust", "--trust", &ca];
    exit_with(&send("inside@example.com", &trusted), 0);
    let err = exit_with(&send("outside@example.org", &trusted), 65);
    assert!(
        err.contains("outside@example.org.crt")
            && err.contains("does not chain to a trust anchor")
            && err.contains("outside the name constraints"),
        "{err}"
    );
    // Without --require-trusted the keys directory is the trust decision.
    exit_with(&send("outside@example.org", &[]), 0);
    // --trust alone is a usage error: it would silently do nothing.
    exit_with(&send("inside@example.com", &["--trust", &ca]), 2);
}

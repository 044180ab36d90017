//! The `smime` command: results on stdout, one-line errors on stderr, exit codes by class.
#![allow(clippy::unwrap_used)]

use std::process::{Command, Output};

use smime_testkit::{bad_keys_dir, keys_dir};

use crate::support::{SendEnv, corpus, protect, smime_args as smime, write};

/// Standard error without warning lines (the test keys are world-readable in git).
fn errors(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr)
        .lines()
        .filter(|l| !l.starts_with("smime: warning:"))
        .map(|l| format!("{l}\n"))
        .collect()
}

/// A failure: non-zero `code`, nothing on stdout, one line on stderr naming `file` and
/// containing `what`.
fn assert_fails(out: &Output, code: i32, file: &str, what: &str) {
    let err = errors(out);
    assert_eq!(out.status.code(), Some(code), "stderr: {err}");
    assert!(out.stdout.is_empty(), "stdout not empty");
    assert_eq!(err.trim_end().lines().count(), 1, "not one line: {err}");
    assert!(err.contains(file), "{err:?} does not name {file}");
    assert!(err.contains(what), "{err:?} does not say {what:?}");
}

#[test]
fn every_mode_writes_a_message_to_stdout() {
    for mode in [
        &["--sign"][..],
        &["--sign-detached"],
        &["--sign_detached"],
        &["--encrypt"],
        &["--sign", "--encrypt"],
        &["--sign-detached", "--encrypt", "--aes128"],
    ] {
        let text = String::from_utf8(protect(mode, "plain.eml")).unwrap();
        assert!(text.contains("MIME-Version: 1.0\r\n"), "{mode:?}");
        let want = if mode.contains(&"--encrypt") {
            "smime-type=enveloped-data"
        } else if mode[0] == "--sign" {
            "smime-type=signed-data"
        } else {
            "multipart/signed"
        };
        assert!(text.contains(want), "{mode:?}");
    }
}

#[test]
fn keys_dir_comes_from_the_environment_and_output_from_dash_o() {
    let dir = tempfile::tempdir().unwrap();
    let out_path = dir.path().join("out.eml");
    let out = Command::new(env!("CARGO_BIN_EXE_smime"))
        .args(["--sign", "-o"])
        .arg(&out_path)
        .arg(corpus("plain.eml"))
        .test_keys()
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.stdout.is_empty());
    assert!(std::fs::read(&out_path).unwrap().starts_with(b"From: "));
}

#[test]
fn bad_input_gets_one_line_naming_file_and_problem() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let k = keys_dir().display().to_string();
    let cases: Vec<(String, &str)> = vec![
        (write(d, "empty.eml", b""), "the message is empty"),
        (
            write(d, "png.eml", b"\x89PNG\r\n\x1a\n\0\0"),
            "not an email",
        ),
        (
            write(d, "nofrom.eml", b"To: bob@example.net\r\n\r\nhi\r\n"),
            "no From address",
        ),
        (
            write(d, "noto.eml", b"From: alice@example.com\r\n\r\nhi\r\n"),
            "no recipients",
        ),
        (
            write(
                d,
                "stranger.eml",
                b"From: alice@example.com\r\nTo: zed@example.com\r\n\r\nhi\r\n",
            ),
            "zed@example.com.crt not found",
        ),
    ];
    for (file, what) in &cases {
        let out = smime(&["--keys", &k, "--sign", "--encrypt", file]);
        assert_fails(&out, 65, file, what);
    }
    // An unknown sender: no key; a key that does not match its certificate.
    let bad = bad_keys_dir().display().to_string();
    for (keys, sender, named, what) in [
        (&k, "zed", None, "zed@example.com.pem not found"),
        (
            &bad,
            "mismatch",
            Some("mismatch@example.com"),
            "does not match the private key",
        ),
    ] {
        let message = format!("From: {sender}@example.com\r\nTo: bob@example.net\r\n\r\nhi\r\n");
        let f = write(d, &format!("{sender}.eml"), message.as_bytes());
        let out = smime(&["--keys", keys, "--sign", &f]);
        assert_fails(&out, 65, named.unwrap_or(&f), what);
    }
    // A missing input file.
    let f = d.join("missing.eml").display().to_string();
    assert_fails(&smime(&["--keys", &k, "--sign", &f]), 66, &f, "cannot read");
}

#[test]
fn usage_errors_exit_2() {
    let f = corpus("plain.eml");
    assert_eq!(smime(&[&f]).status.code(), Some(2), "nothing to do");
    assert_eq!(
        smime(&["--sign", "--sign-detached", &f]).status.code(),
        Some(2)
    );
    assert_eq!(smime(&["--sign"]).status.code(), Some(2), "no file");
    let help = smime(&["--help"]);
    assert!(help.status.success());
    let text = String::from_utf8_lossy(&help.stdout);
    for flag in [
        "--sign",
        "--sign-detached",
        "--encrypt",
        "--keys",
        "SMIME_KEYS",
        "--output",
    ] {
        assert!(text.contains(flag), "--help lacks {flag}");
    }
}

/// The README's demo on a fresh clone (git keeps no `0600`): the TEST-ONLY demo key is
/// published on purpose and gets no warning; the same key without its marker line does.
#[cfg(unix)]
#[test]
fn the_demo_key_is_not_warned_about_but_a_real_readable_key_is() {
    use std::os::unix::fs::PermissionsExt;
    let demo = smime_testkit::repo_root().join("demo");
    let dir = tempfile::tempdir().unwrap();
    let keys = dir.path().join("keys");
    std::fs::create_dir(&keys).unwrap();
    for f in std::fs::read_dir(demo.join("keys")).unwrap() {
        let f = f.unwrap().path();
        let to = keys.join(f.file_name().unwrap());
        std::fs::copy(&f, &to).unwrap();
        std::fs::set_permissions(&to, std::fs::Permissions::from_mode(0o644)).unwrap();
    }
    let message = demo.join("message.eml").display().to_string();
    let keys_arg = keys.display().to_string();
    let args = ["--keys", &keys_arg, "--sign", "--encrypt", &message];
    let err = crate::support::exit_with(&smime(&args), 0);
    assert!(!err.contains("warning"), "{err}");

    let key = keys.join("alice@example.com.pem");
    let text = std::fs::read_to_string(&key).unwrap();
    let (marker, rest) = text.split_once('\n').unwrap();
    assert!(marker.starts_with("TEST-ONLY"), "{marker}");
    std::fs::write(&key, rest).unwrap();
    let err = crate::support::exit_with(&smime(&args), 0);
    assert!(err.contains("can be read by group or others"), "{err}");
}

/// `--signer-cert` names the certificate that signs, even when the key file holds one too
/// (a renewal: same key, new certificate); one that is not the key's is refused, naming both
/// files.
#[test]
fn signer_cert_is_the_certificate_that_signs() {
    let pki = smime_testkit::repo_root().join("testdata/pki");
    let key = keys_dir()
        .join("alice@example.com.pem")
        .display()
        .to_string();
    let renewed = pki
        .join("encrypted/alice-renewed.crt")
        .display()
        .to_string();
    let message = corpus("plain.eml");
    let signed = smime(&[
        "--sign",
        "--signer-key",
        &key,
        "--signer-cert",
        &renewed,
        &message,
    ]);
    let err = crate::support::exit_with(&signed, 0);
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "signed.eml", &signed.stdout);
    let shown = smime(&["show", "--json", &file]);
    let json: serde_json::Value = serde_json::from_slice(&shown.stdout).unwrap();
    let serial = &json["root"]["cms"]["signed"]["signers"][0]["id"]["serial"];
    assert_eq!(
        serial, "1092",
        "the renewed certificate (serial 4242) signs: {err}"
    );

    let bob = keys_dir().join("bob@example.net.crt").display().to_string();
    let out = smime(&[
        "--sign",
        "--signer-key",
        &key,
        "--signer-cert",
        &bob,
        &message,
    ]);
    let err = errors(&out);
    assert_eq!(out.status.code(), Some(65), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("bob@example.net.crt") && err.contains("alice@example.com.pem"),
        "{err}"
    );
}

/// Two usable certificates for the sender's own copy: the one valid longest is used, wherever
/// it is (here a DER `.cer` under another name, behind the address's own `.crt`), and `-v`
/// says which.
#[test]
fn the_certificate_valid_longest_is_used_and_v_says_so() {
    let pki = smime_testkit::repo_root().join("testdata/pki");
    let dir = tempfile::tempdir().unwrap();
    let copy = |from: std::path::PathBuf, to: &str| {
        std::fs::copy(from, dir.path().join(to)).unwrap();
    };
    copy(
        keys_dir().join("bob@example.net.crt"),
        "bob@example.net.crt",
    );
    copy(
        pki.join("encrypted/alice-renewed.crt"),
        "alice@example.com.crt",
    );
    copy(pki.join("certfiles/alice.cer"), "old-but-longer.cer");
    let keys = dir.path().display().to_string();
    let out = smime(&["-v", "--keys", &keys, "--encrypt", &corpus("plain.eml")]);
    let err = crate::support::exit_with(&out, 0);
    assert!(
        err.contains("using the one valid longest") && err.contains("old-but-longer.cer"),
        "{err}"
    );
    let file = write(dir.path(), "out.eml", &out.stdout);
    let shown = String::from_utf8(smime(&["show", &file]).stdout).unwrap();
    assert!(shown.contains("serial 1002"), "{shown}");
    assert!(!shown.contains("serial 1092"), "{shown}");
}

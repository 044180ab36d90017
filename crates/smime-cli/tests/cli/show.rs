//! `smime show`: the MIME tree of plain and S/MIME messages, from a file or standard input.
#![allow(clippy::unwrap_used)]

use std::io::Write;
use std::process::{Command, Output, Stdio};

use smime_testkit::{assert_line, assert_line_starts, repo_root as repo};

use crate::support::{corpus, protect, smime_args as smime};

/// `smime show` (plus `args`) with `input` on standard input.
fn show_stdin(args: &[&str], input: &[u8]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_smime"))
        .arg("show")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(input).unwrap();
    child.wait_with_output().unwrap()
}

/// Standard output of a successful `show`.
fn stdout_ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "exit {:?}: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone()).unwrap()
}

const TEST_CA: &str = "issuer \"CN=smime TEST-ONLY Intermediate CA,O=smime test PKI\"";

#[test]
fn file_stdin_and_dash_agree() {
    let file = corpus("html-inline-image.eml");
    let from_file = stdout_ok(&smime(&["show", &file]));
    let bytes = std::fs::read(&file).unwrap();
    assert_eq!(stdout_ok(&show_stdin(&[], &bytes)), from_file);
    assert_eq!(stdout_ok(&show_stdin(&["-"], &bytes)), from_file);

    assert_line(&from_file, &format!("message: {} bytes", bytes.len()));
    assert_line(
        &from_file,
        "+- multipart/related  7bit  2 parts  20035 bytes",
    );
    assert_line(
        &from_file,
        "   +- multipart/alternative  7bit  2 parts  586 bytes",
    );
    assert_line(
        &from_file,
        "      +- text/plain; charset=us-ascii  7bit  92 bytes",
    );
    assert_line(
        &from_file,
        "   +- image/png; name=logo.png  base64  inline logo.png  13964 bytes",
    );
}

#[test]
fn every_corpus_message_is_shown() {
    for entry in std::fs::read_dir(repo().join("testdata/corpus")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "eml") {
            continue;
        }
        let text = stdout_ok(&smime(&["show", &path.display().to_string()]));
        assert!(text.starts_with("message: "), "{}", path.display());
        assert!(text.contains("\n+- "), "{}", path.display());
        assert!(!text.contains("unreadable"), "{}:\n{text}", path.display());
    }
}

#[test]
fn opaque_signed() {
    let message = protect(&["--sign"], "html-inline-image.eml");
    let text = stdout_ok(&show_stdin(&[], &message));
    assert_line(
        &text,
        "   S/MIME signed-data: digest SHA-256, 2 certificates, 1 signer",
    );
    assert_line_starts(
        &text,
        &format!("   signer 1: {TEST_CA} serial 1002, SHA-256, rsaEncryption, signing time "),
    );
    assert!(
        text.lines()
            .any(|l| l.starts_with("   signer 1: ") && l.ends_with(", not verified")),
        "{text}"
    );
    assert_line_starts(&text, "   content: id-data, ");
    assert_line(&text, "   +- multipart/related  7bit  2 parts  20035 bytes");
    assert_line(
        &text,
        "         +- text/plain; charset=us-ascii  7bit  92 bytes",
    );
}

#[test]
fn aes128_encrypt_only() {
    let message = protect(&["--encrypt", "--aes128"], "many-recipients.eml");
    let text = stdout_ok(&show_stdin(&[], &message));
    assert_line_starts(
        &text,
        "   S/MIME enveloped-data: AES-128-CBC, 5 recipients, ",
    );
}

#[test]
fn damaged_smime_is_shown_not_fatal() {
    let message = protect(&["--sign"], "plain.eml");
    let cut = &message[..message.len() / 2];
    let text = stdout_ok(&show_stdin(&[], cut));
    assert_line_starts(&text, "   (unreadable: ");

    let text = String::from_utf8(message).unwrap();
    let (head, _) = text.split_once("\r\n\r\n").unwrap();
    let garbage = format!("{head}\r\n\r\n!!! not base64 ***\r\n");
    let text = stdout_ok(&show_stdin(&[], garbage.as_bytes()));
    assert_line_starts(&text, "   (unreadable: ");
}

#[test]
fn not_a_message_fails() {
    for input in [&b""[..], b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR", b"hello world\n"] {
        let out = show_stdin(&[], input);
        assert_eq!(out.status.code(), Some(65), "{input:?}");
        assert!(out.stdout.is_empty());
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("not an email message"), "{err}");
    }
}

#[test]
fn json_is_one_document() {
    let message = protect(&["--sign-detached"], "plain.eml");
    let text = stdout_ok(&show_stdin(&["--json"], &message));
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(json["size"], message.len());
    let root = &json["root"];
    assert_eq!(root["content_type"]["subtype"], "signed");
    assert_eq!(root["part_count"], 2);
    let signature = &root["children"][1];
    assert_eq!(signature["pkcs7"], "signature");
    let signed = &signature["cms"]["signed"];
    assert_eq!(
        signed["digest_algorithms"][0]["oid"],
        "2.16.840.1.101.3.4.2.1"
    );
    assert_eq!(
        signed["certificates"][1]["email_addresses"][0],
        "alice@example.com"
    );
    assert_eq!(signed["signers"][0]["id"]["serial"], "1002");
    assert_eq!(signed["content"]["detached"], true);

    let file = corpus("plain.eml");
    let from_file = stdout_ok(&smime(&["show", "--json", &file]));
    let json: serde_json::Value = serde_json::from_str(&from_file).unwrap();
    assert_eq!(json["root"]["content_type"]["charset"], "us-ascii");

    let out = show_stdin(&["--json"], b"hello world\n");
    assert_eq!(out.status.code(), Some(65));
    assert!(out.stdout.is_empty());
}

#[test]
fn exit_codes() {
    let out = smime(&["show", "/nonexistent/message.eml"]);
    assert_eq!(out.status.code(), Some(66));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.starts_with("smime: /nonexistent/message.eml: cannot read: "),
        "{err}"
    );

    // Refused from its size, without reading it (the file is sparse).
    let dir = tempfile::tempdir().unwrap();
    let big = dir.path().join("big.eml");
    std::fs::File::create(&big)
        .unwrap()
        .set_len(256 * 1024 * 1024 + 1)
        .unwrap();
    let out = smime(&["show", &big.display().to_string()]);
    assert_eq!(out.status.code(), Some(65));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.ends_with("big.eml: the message is 268435457 bytes, over the limit of 268435456\n"),
        "{err}"
    );

    // A full disk.
    if std::path::Path::new("/dev/full").exists() {
        let out = Command::new(env!("CARGO_BIN_EXE_smime"))
            .args(["show", &corpus("plain.eml")])
            .stdout(std::fs::File::create("/dev/full").unwrap())
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(73));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("plain.eml: cannot write the output: "),
            "{err}"
        );
    }

    // A reader that went away (`smime show m.eml | head -1`) is not a failure.
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let out = Command::new(env!("CARGO_BIN_EXE_smime"))
        .args(["show", &corpus("html-inline-image.eml")])
        .stdout(writer)
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert!(out.stderr.is_empty());
}

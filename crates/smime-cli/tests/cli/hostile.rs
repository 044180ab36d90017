//! Hostile input (issue 6) through the `smime` binary: each input gets exit code 65 (bad
//! input) or 0 (processed), one line on stderr naming the file, the problem and a hint, no
//! panic; every run is under a 512 MiB address-space cap (so a 1 GiB allocation would fail
//! it) and a deadline (so a hang fails it). docs/hostile-inputs.md lists the cases.
#![allow(clippy::unwrap_used)]

use std::io::Read;
use std::path::Path;
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use smime_testkit::{bad_keys_dir, keys_dir};

use crate::support::write;

/// Address-space cap for every run, in KiB (`ulimit -v`).
const CAP_KIB: u64 = 512 * 1024;
/// A run that takes longer has hung.
const DEADLINE: Duration = Duration::from_secs(30);

struct Run {
    status: ExitStatus,
    stdout: Vec<u8>,
    stderr: String,
}

/// Runs `smime ARGS` under the memory cap, killed (and the test failed) after [`DEADLINE`].
fn smime<S: AsRef<std::ffi::OsStr>>(args: &[S]) -> Run {
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(format!("ulimit -v {CAP_KIB} && exec \"$0\" \"$@\""))
        .arg(env!("CARGO_BIN_EXE_smime"))
        .args(args)
        .env_remove("SMIME_KEYS")
        .env("RUST_BACKTRACE", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let out = std::thread::spawn(move || {
        let mut v = Vec::new();
        out.read_to_end(&mut v).map(|_| v).unwrap_or_default()
    });
    let err = std::thread::spawn(move || {
        let mut v = Vec::new();
        err.read_to_end(&mut v).map(|_| v).unwrap_or_default()
    });
    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if start.elapsed() > DEADLINE {
            let _ = child.kill();
            let _ = child.wait();
            panic!("smime did not finish within {DEADLINE:?} (a hang)");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    Run {
        status,
        stdout: out.join().unwrap(),
        stderr: String::from_utf8_lossy(&err.join().unwrap()).into_owned(),
    }
}

/// Standard error without the warning about world-readable test keys.
fn errors(run: &Run) -> String {
    run.stderr
        .lines()
        .filter(|l| !l.starts_with("smime: warning:"))
        .map(|l| format!("{l}\n"))
        .collect()
}

fn assert_no_panic(run: &Run) {
    assert!(
        !run.stderr.contains("panicked") && !run.stderr.contains("stack backtrace"),
        "{}",
        run.stderr
    );
}

/// Exit 65, nothing on stdout, one line on stderr naming `file` and saying `what` and `hint`.
fn assert_refused(run: &Run, file: &str, what: &str, hint: &str) {
    assert_no_panic(run);
    let err = errors(run);
    assert_eq!(run.status.code(), Some(65), "stderr: {err}");
    assert!(run.stdout.is_empty(), "stdout not empty");
    assert_eq!(err.trim_end().lines().count(), 1, "not one line: {err}");
    assert!(err.contains(file), "{err:?} does not name {file}");
    assert!(err.contains(what), "{err:?} does not say {what:?}");
    assert!(
        err.contains(&format!("(hint: {hint}")),
        "{err:?} lacks the hint {hint:?}"
    );
}

fn assert_processed(run: &Run) {
    assert_no_panic(run);
    assert_eq!(run.status.code(), Some(0), "stderr: {}", run.stderr);
    assert!(run.stdout.starts_with(b"From: "));
}

/// [`message`] written to `name` in a new temporary directory (kept while the first value
/// lives); the second value is its path.
fn message_file(name: &str, extra: &[u8], body: &[u8]) -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), name, &message(extra, body));
    (dir, path)
}

/// A message from Alice to Bob with `extra` header bytes and `body`.
fn message(extra: &[u8], body: &[u8]) -> Vec<u8> {
    let mut m = b"From: alice@example.com\r\nTo: bob@example.net\r\n".to_vec();
    m.extend_from_slice(extra);
    m.extend_from_slice(b"Subject: hostile\r\n\r\n");
    m.extend_from_slice(body);
    m
}

/// `smime --keys testdata/pki/keys --sign --encrypt FILE`, and `smime show FILE` (which must
/// not panic or hang either, whatever it prints).
fn protect(file: &str) -> Run {
    let k = keys_dir().display().to_string();
    let show = smime(&["show", file]);
    assert_no_panic(&show);
    assert!(
        matches!(show.status.code(), Some(0 | 65)),
        "show: {}",
        show.stderr
    );
    smime(&["--keys", &k, "--sign", "--encrypt", file])
}

/// The first PEM block labelled `label` in `path`.
fn pem_block(path: &Path, label: &str) -> String {
    let text = std::fs::read_to_string(path).unwrap();
    let (begin, end) = (
        format!("-----BEGIN {label}-----"),
        format!("-----END {label}-----"),
    );
    let at = text.find(&begin).unwrap();
    let to = text[at..].find(&end).unwrap() + at + end.len();
    format!("{}\n", &text[at..to])
}

/// A keys directory with Alice's key file and `extra` files copied from `from`.
fn keys_with(from: &Path, extra: &[&str]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let copy = |src: &Path, name: &str| std::fs::copy(src.join(name), dir.path().join(name));
    copy(&keys_dir(), "alice@example.com.pem").unwrap();
    for name in extra {
        copy(from, name).unwrap();
    }
    dir
}

// 1. A 1 GB input.

/// `big.eml` in `dir`: 1 GiB of zeros, sparse (nothing is written to the disk).
fn one_gigabyte_file(dir: &Path) -> std::path::PathBuf {
    let big = dir.join("big.eml");
    std::fs::File::create(&big)
        .unwrap()
        .set_len(1 << 30)
        .unwrap();
    big
}

#[test]
fn h01_one_gigabyte_input_is_refused_by_size_without_reading_it() {
    let dir = tempfile::tempdir().unwrap();
    let big = one_gigabyte_file(dir.path()).display().to_string();
    let k = keys_dir().display().to_string();
    let start = Instant::now();
    let run = smime(&["--keys", &k, "--sign", &big]);
    assert_refused(
        &run,
        &big,
        "is 1073741824 bytes, over the --max-size limit of 52428800",
        "raise --max-size",
    );
    assert!(start.elapsed() < Duration::from_secs(5));
    // --max-size is the operator's.
    let small = write(dir.path(), "small.eml", &message(b"", &[b'x'; 2000]));
    assert_refused(
        &smime(&["--keys", &k, "--sign", "--max-size", "1000", &small]),
        &small,
        "over the --max-size limit of 1000",
        "raise --max-size",
    );
    // A device has no size: counted while reading.
    assert_refused(
        &smime(&["--keys", &k, "--sign", "--max-size", "1048576", "/dev/zero"]),
        "/dev/zero",
        "is over the --max-size limit of 1048576 bytes",
        "raise --max-size",
    );
    // The cap is real: told to read the whole gigabyte, the process cannot.
    let run = smime(&["--keys", &k, "--sign", "--max-size", "2000000000", &big]);
    assert!(!run.status.success());
    assert!(run.stderr.contains("memory allocation"), "{}", run.stderr);
}

#[test]
fn h01_show_refuses_a_one_gigabyte_input_without_reading_it() {
    let dir = tempfile::tempdir().unwrap();
    let big = one_gigabyte_file(dir.path());
    let run = smime(&["show", &big.display().to_string()]);
    assert_no_panic(&run);
    assert_eq!(run.status.code(), Some(65), "{}", run.stderr);
}

// 2. 100,000 header lines.

#[test]
fn h02_hundred_thousand_header_lines() {
    let dir = tempfile::tempdir().unwrap();
    let mut extra = Vec::new();
    for i in 0..100_000 {
        extra.extend_from_slice(format!("X-Filler-{i:06}: some header text\r\n").as_bytes());
    }
    let f = write(dir.path(), "lines.eml", &message(&extra, b"hi\r\n"));
    assert_refused(
        &protect(&f),
        &f,
        "the header section is over the limit of 1048576 bytes",
        "real mail stays far below the limits of 1 MiB per header",
    );
    // 100,000 short fields fit in 1 MiB: processed, in linear time.
    let f = write(
        dir.path(),
        "short.eml",
        &message(&b"X:1\r\n".repeat(100_000), b"hi\r\n"),
    );
    assert_processed(&protect(&f));
}

// 3. MIME nesting 10,000 deep.

#[test]
fn h03_mime_nesting_10000_deep() {
    let depth = 10_000;
    let mut body = Vec::new();
    for i in (0..depth).rev() {
        let ct = match i {
            0 => "Content-Type: text/plain\r\n".to_owned(),
            _ => format!("Content-Type: multipart/mixed; boundary=\"b{}\"\r\n", i - 1),
        };
        body.extend_from_slice(format!("--b{i}\r\n{ct}\r\n").as_bytes());
    }
    body.extend_from_slice(b"innermost\r\n");
    for i in 0..depth {
        body.extend_from_slice(format!("\r\n--b{i}--\r\n").as_bytes());
    }
    let ct = format!(
        "Content-Type: multipart/mixed; boundary=\"b{}\"\r\n",
        depth - 1
    );
    let (_dir, f) = message_file("deep.eml", ct.as_bytes(), &body);
    assert_refused(
        &protect(&f),
        &f,
        "MIME parts nested deeper than 64 levels",
        "no mail client nests parts that deep",
    );
}

// 4. A boundary that never closes.

#[test]
fn h04_unclosed_boundary_is_processed() {
    let mut body =
        b"--outer\r\nContent-Type: text/plain\r\n\r\nfirst\r\n--outer\r\n\r\nnever closed\r\n"
            .to_vec();
    body.extend_from_slice(&b"more text in the open part\r\n".repeat(50_000));
    let (_dir, f) = message_file(
        "open.eml",
        b"Content-Type: multipart/mixed; boundary=outer\r\n",
        &body,
    );
    assert_processed(&protect(&f));
}

// 5. A header line of 10 MB.

#[test]
fn h05_ten_megabyte_header_line() {
    let mut extra = b"Subject: ".to_vec();
    extra.resize(10 * 1024 * 1024, b'a');
    extra.extend_from_slice(b"\r\n");
    let (_dir, f) = message_file("line.eml", &extra, b"hi\r\n");
    assert_refused(
        &protect(&f),
        &f,
        "the Subject header field is over the limit of 102400 bytes",
        "real mail stays far below the limits of 1 MiB per header",
    );
}

// 6. NUL bytes.

#[test]
fn h06_nul_bytes_in_header_refused_in_body_encoded() {
    let (dir, f) = message_file("nulh.eml", b"X-Nul: a\0b\r\n", b"hi\r\n");
    assert_refused(
        &protect(&f),
        &f,
        "the X-Nul header field contains a NUL byte",
        "RFC 5322 forbids NUL bytes in a header",
    );
    let f = write(dir.path(), "nulb.eml", &message(b"", b"a\0b\0\0\r\n"));
    assert_processed(&protect(&f));
}

// 7. Invalid UTF-8 in headers.

#[test]
fn h07_invalid_utf8_in_headers() {
    let dir = tempfile::tempdir().unwrap();
    let raw = b"X-Latin1: caf\xe9 \xff\xfe\r\n";
    let f = write(dir.path(), "latin1.eml", &message(raw, b"hi\r\n"));
    let run = protect(&f);
    assert_processed(&run);
    assert!(
        run.stdout.windows(raw.len()).any(|w| w == raw),
        "kept byte for byte"
    );
    let f = write(
        dir.path(),
        "addr.eml",
        b"From: alice@example.com\r\nTo: b\xffb@example.net\r\n\r\nhi\r\n",
    );
    assert_refused(
        &protect(&f),
        &f,
        "the To header holds an address that cannot be read",
        "write each address as local@domain",
    );
}

// 8. A PEM file with 10,000 certificates.

#[test]
fn h08_pem_with_10000_certificates() {
    let (dir, m) = message_file("m.eml", b"", b"hi\r\n");
    // As a recipient's certificate file: 10,000 real certificates, 13 MB.
    let real = pem_block(&keys_dir().join("bob@example.net.crt"), "CERTIFICATE");
    let k = keys_with(&keys_dir(), &[]);
    let crt = write(
        k.path(),
        "bob@example.net.crt",
        real.repeat(10_000).as_bytes(),
    );
    let kd = k.path().display().to_string();
    assert_refused(
        &smime(&["--keys", &kd, "--encrypt", &m]),
        &crt,
        &format!(
            "is {} bytes; key and certificate files over 1048576 bytes are refused",
            real.len() * 10_000
        ),
        "check the file",
    );
    // As the signer's chain file: 10,000 (tiny) certificates, under 1 MiB.
    let tiny = "-----BEGIN CERTIFICATE-----\nMA==\n-----END CERTIFICATE-----\n";
    let chain = write(dir.path(), "chain.crt", tiny.repeat(10_000).as_bytes());
    let kd = keys_dir().display().to_string();
    assert_refused(
        &smime(&["--keys", &kd, "--sign", "--signer-cert", &chain, &m]),
        &chain,
        "holds 10000 certificates, over the limit of 100 per file",
        "keep the certificate and its chain in the file",
    );
}

// 9. A truncated DER key.

#[test]
fn h09_truncated_der_key() {
    let pem = pem_block(&keys_dir().join("alice@example.com.pem"), "PRIVATE KEY");
    let b64: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    // A small base64 decoder is enough for a test: standard alphabet, padded.
    let val = |c: u8| match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'+' => 62,
        _ => 63,
    };
    let mut der = Vec::new();
    for chunk in b64.trim_end_matches('=').as_bytes().chunks(4) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, &c)| n | u32::from(val(c)) << (18 - 6 * i));
        der.extend_from_slice(&n.to_be_bytes()[1..chunk.len()]);
    }
    let k = keys_with(&keys_dir(), &["alice@example.com.crt"]);
    let key = write(k.path(), "alice@example.com.pem", &der[..der.len() / 2]);
    let (_dir, m) = message_file("m.eml", b"", b"hi\r\n");
    let kd = k.path().display().to_string();
    assert_refused(
        &smime(&["--keys", &kd, "--sign", &m]),
        &key,
        "holds no PEM private key and is not a DER RSA or EC private key",
        "check the file",
    );
    // Truncated PEM text.
    write(
        k.path(),
        "alice@example.com.pem",
        &pem.as_bytes()[..pem.len() / 2],
    );
    assert_refused(
        &smime(&["--keys", &kd, "--sign", &m]),
        &key,
        "its -----BEGIN PRIVATE KEY----- PEM block has no END line: the file is truncated",
        "check the file",
    );
}

// 10. An RSA key of 16,384 bits.

#[test]
fn h10_rsa_16384_key_is_refused_at_load() {
    let dir = tempfile::tempdir().unwrap();
    let kd = bad_keys_dir().display().to_string();
    let m = write(
        dir.path(),
        "from16k.eml",
        b"From: rsa16384@example.com\r\nTo: bob@example.net\r\n\r\nhi\r\n",
    );
    let start = Instant::now();
    assert_refused(
        &smime(&["--keys", &kd, "--sign", &m]),
        "rsa16384@example.com.pem",
        "holds an RSA private key of 16384 bits; at most 8192 bits are accepted",
        "use an RSA key of 2048 to 8192 bits",
    );
    assert!(start.elapsed() < Duration::from_secs(5));
    // As a recipient.
    let k = keys_with(&bad_keys_dir(), &["rsa16384@example.com.crt"]);
    let kd = k.path().display().to_string();
    let m = write(
        dir.path(),
        "to16k.eml",
        b"From: alice@example.com\r\nTo: rsa16384@example.com\r\n\r\nhi\r\n",
    );
    assert_refused(
        &smime(&["--keys", &kd, "--encrypt", &m]),
        "rsa16384@example.com.crt",
        "has an RSA key of 16384 bits; at most 8192 are accepted",
        "use a certificate issued for S/MIME",
    );
}

// 11. An expired certificate; 12. a certificate for another address.

fn refused_as_signer_and_recipient(addr: &str, what: &str, hint: &str) {
    let dir = tempfile::tempdir().unwrap();
    let kd = bad_keys_dir().display().to_string();
    let m = write(
        dir.path(),
        "from.eml",
        format!("From: {addr}\r\nTo: bob@example.net\r\n\r\nhi\r\n").as_bytes(),
    );
    assert_refused(&smime(&["--keys", &kd, "--sign", &m]), addr, what, hint);
    let crt = format!("{addr}.crt");
    let k = keys_with(&bad_keys_dir(), &[&crt]);
    let kd = k.path().display().to_string();
    let m = write(
        dir.path(),
        "to.eml",
        format!("From: alice@example.com\r\nTo: {addr}\r\n\r\nhi\r\n").as_bytes(),
    );
    assert_refused(&smime(&["--keys", &kd, "--encrypt", &m]), &crt, what, hint);
}

#[test]
fn h11_expired_certificate() {
    refused_as_signer_and_recipient(
        "expired@example.com",
        "certificate for expired@example.com expired on 2021-01-01",
        "renew the certificate",
    );
}

#[test]
fn h12_certificate_for_another_address() {
    refused_as_signer_and_recipient(
        "wrongaddr@example.com",
        "is issued to someone-else@example.com instead",
        "the certificate is for another address",
    );
}

// mail-parser 0.11.9 panics on some malformed multiparts (found by fuzzing): `smime show`
// must report the file, not crash on it.

#[test]
fn show_survives_an_input_that_panics_the_mime_parser() {
    let seed = smime_testkit::repo_root().join("fuzz/seeds/prepare/mail-parser-panics.eml");
    let run = smime(&["show", &seed.display().to_string()]);
    assert_no_panic(&run);
    assert!(
        matches!(run.status.code(), Some(0 | 65)),
        "exit {:?}: {}",
        run.status.code(),
        run.stderr
    );
}

// A multipart whose boundary cannot be read (`;*` before it), over 8-bit content (found by
// fuzzing): refused with what is wrong and what to do, not written as a base64 multipart.

#[test]
fn multipart_without_readable_boundary_over_8bit_content_is_refused() {
    let (_dir, eml) = message_file(
        "noboundary.eml",
        b"MIME-Version: 1.0\r\nContent-Type: multipart/mixed;* boundary=\"outer\"\r\n",
        "--outer\r\nContent-Type: text/plain; charset=utf-8\r\n\r\ncaf\u{e9}\r\n--outer--\r\n"
            .as_bytes(),
    );
    assert_refused(
        &protect(&eml),
        &eml,
        "body is a multipart without a boundary that can be read, and its content is 8-bit",
        "give the multipart's Content-Type a boundary=\"...\" parameter",
    );
}

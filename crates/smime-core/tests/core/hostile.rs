//! Hostile input (issue 6): files nobody vetted must get a clear error, or a correct result,
//! with bounded time and memory; never a panic, a hang or a huge allocation. One test per kind
//! of input; `docs/hostile-inputs.md` lists them with the behaviour chosen.
//!
//! Every case runs on a thread with a deadline ([`within`]), so a hang fails the test instead
//! of stalling the suite. Inputs are made in code; big files are sparse, in temporary
//! directories.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use crate::common::*;
use smime_core::{
    CertProblem, Email, KeyError, KeyStore, MAX_CERTS_PER_FILE, MAX_FIELD_SIZE, MAX_HEADER_SIZE,
    MAX_KEY_FILE, MAX_MIME_DEPTH, MAX_RSA_BITS, Options, ParseError, ProtectError, Protector,
    SignMode,
};

/// How long one case may take in a debug test build before it counts as a hang.
const DEADLINE: Duration = Duration::from_secs(20);

/// Runs `f` on its own thread and fails the test when it has not finished within
/// [`DEADLINE`], or when it panicked.
fn within<T: Send + 'static>(what: &str, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = std::sync::mpsc::channel();
    let start = Instant::now();
    std::thread::Builder::new()
        .name(what.to_owned())
        .spawn(move || {
            let _ = tx.send(f());
        })
        .unwrap();
    match rx.recv_timeout(DEADLINE) {
        Ok(v) => {
            eprintln!("{what}: {:?}", start.elapsed());
            v
        }
        Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
            panic!("{what}: no answer within {DEADLINE:?} (a hang)")
        }
        Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => panic!("{what}: panicked"),
    }
}

fn now() -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(FIXED_TIME)
}

fn signer_only() -> Protector {
    protector(Options::sign(SignMode::Opaque))
}

fn parse_err(input: &[u8]) -> ParseError {
    Email::parse(input).unwrap_err()
}

fn protect_parse_err(p: &Protector, input: &[u8]) -> ParseError {
    match p.protect(input) {
        Err(ProtectError::Parse(e)) => e,
        other => panic!(
            "expected a parse error, got {:?}",
            other.map(|_| "a message")
        ),
    }
}

/// The process's peak resident memory (VmHWM), in bytes.
fn peak_rss() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("VmHWM:")).unwrap();
    let kb: u64 = line.split_whitespace().nth(1).unwrap().parse().unwrap();
    kb * 1024
}

/// A header with From alice and To bob, then `extra` header bytes, then `body`.
fn message(extra: &[u8], body: &[u8]) -> Vec<u8> {
    let mut m = b"From: Alice <alice@example.com>\r\nTo: bob@example.net\r\n".to_vec();
    m.extend_from_slice(extra);
    m.extend_from_slice(b"Subject: hostile\r\n\r\n");
    m.extend_from_slice(body);
    m
}

/// Parsing `m`, and protecting it, both fail with `want`, which reads `says`.
fn assert_refused(m: &[u8], want: ParseError, says: &str) {
    assert_eq!(parse_err(m), want);
    assert_eq!(protect_parse_err(&signer_only(), m), want);
    assert_eq!(want.to_string(), says);
}

/// [`message`] with `count` more header lines, the `i`-th one `line(i)`, and a short body.
fn message_with_lines(count: usize, line: impl Fn(usize) -> String) -> Vec<u8> {
    let extra: String = (0..count).map(line).collect();
    message(extra.as_bytes(), b"hi\r\n")
}

fn copy_keys(files: &[&str]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for f in files {
        std::fs::copy(keys_dir().join(f), dir.path().join(f)).unwrap();
    }
    dir
}

fn sparse(path: &Path, len: u64) {
    std::fs::File::create(path).unwrap().set_len(len).unwrap();
}

/// The first PEM block labelled `label` in `path`, as text.
fn pem_block(path: &Path, label: &str) -> String {
    let text = std::fs::read_to_string(path).unwrap();
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    let at = text.find(&begin).unwrap();
    let to = text[at..].find(&end).unwrap() + at + end.len();
    format!("{}\n", &text[at..to])
}

// 1. A 1 GB input. The library takes messages as bytes: their size is bounded where they are
//    read (the CLI's --max-size, tested in crates/smime-cli/tests/hostile.rs). What the library
//    reads itself, key and certificate files, is refused by size before reading.

#[test]
fn one_gigabyte_key_and_certificate_files_are_refused_unread() {
    within("1 GiB key files", || {
        let dir = copy_keys(&[]);
        let gib = 1024 * 1024 * 1024;
        sparse(&dir.path().join("alice@example.com.pem"), gib);
        sparse(&dir.path().join("bob@example.net.crt"), gib);
        let keys = KeyStore::open(dir.path()).unwrap();
        let start = Instant::now();
        for e in [
            keys.signer("alice@example.com", now()).unwrap_err(),
            keys.recipient("bob@example.net", now()).unwrap_err(),
        ] {
            let text = e.to_string();
            assert!(matches!(e, KeyError::Invalid { .. }), "{e:?}");
            assert!(
                text.contains(&format!("is {gib} bytes"))
                    && text.contains(&format!("over {MAX_KEY_FILE} bytes are refused")),
                "{text}"
            );
        }
        assert!(
            start.elapsed() < Duration::from_secs(1),
            "read, not refused"
        );
        // Reading the file would have touched 1 GiB of zero pages.
        assert!(peak_rss() < 512 * 1024 * 1024, "peak RSS {}", peak_rss());
    });
}

#[test]
fn key_file_without_a_size_is_refused_after_max_key_file_bytes() {
    within("/dev/zero as a certificate file", || {
        let keys = KeyStore::open(keys_dir())
            .unwrap()
            .with_recipient_cert_file("bob@example.net", "/dev/zero");
        let e = keys
            .recipient("bob@example.net", now())
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("/dev/zero") && e.contains(&format!("more than {MAX_KEY_FILE} bytes")),
            "{e}"
        );
    });
}

// 2. 100,000 header lines.

#[test]
fn hundred_thousand_header_lines_over_one_mib_are_refused() {
    within("100k header lines, 3.4 MB", || {
        let m = message_with_lines(100_000, |i| {
            format!("X-Filler-{i:06}: some header text\r\n")
        });
        assert_refused(
            &m,
            ParseError::HeaderTooLarge {
                limit: MAX_HEADER_SIZE,
            },
            "the header section is over the limit of 1048576 bytes",
        );
    });
}

#[test]
fn hundred_thousand_small_header_fields_are_processed_in_linear_time() {
    within("100k header fields, 0.5 MB", || {
        let m = message_with_lines(100_000, |_| "X:1\r\n".to_owned());
        assert!(m.len() < MAX_HEADER_SIZE);
        let out = signer_only().protect(&m).unwrap();
        // Every field stays in the outer header, as it was.
        let n = out.message.windows(5).filter(|w| w == b"X:1\r\n").count();
        assert_eq!(n, 100_000);
    });
}

#[test]
fn forty_thousand_distinct_recipients_are_read_in_linear_time() {
    within("40k To fields", || {
        let m = message_with_lines(40_000, |i| {
            let to = format!("To:u{i}@x.y\r\n");
            if i % 2 == 0 {
                // Duplicates, in another case, are dropped.
                format!("{to}Cc:U{i}@X.Y\r\n")
            } else {
                to
            }
        });
        let e = Email::parse(&m).unwrap();
        assert_eq!(e.recipients().len(), 40_001);
        // Encrypting needs a certificate for each: the first missing one stops it at once.
        let err = protector(Options::sign_and_encrypt())
            .protect(&m)
            .unwrap_err()
            .to_string();
        assert!(err.contains("u0@x.y.crt not found"), "{err}");
    });
}

#[test]
fn hundred_thousand_folded_lines_in_one_field_are_refused_by_field_size() {
    within("100k continuation lines", || {
        // The field's first line, then 100,000 continuation lines.
        let m = message_with_lines(100_001, |i| {
            if i == 0 {
                "X-Folded: start\r\n"
            } else {
                " more\r\n"
            }
            .to_owned()
        });
        assert_eq!(
            parse_err(&m),
            ParseError::FieldTooLarge {
                header: "X-Folded".into(),
                limit: MAX_FIELD_SIZE,
            }
        );
    });
}

// 3. MIME nesting 10,000 deep.

/// A message whose multiparts nest `depth` deep, each with its own boundary (built in linear
/// time: the opening lines outside in, the innermost text, the closing lines inside out).
fn nested_multipart(depth: usize) -> Vec<u8> {
    let content_type = |i: usize| match i {
        0 => "Content-Type: text/plain\r\n".to_owned(),
        _ => format!("Content-Type: multipart/mixed; boundary=\"b{}\"\r\n", i - 1),
    };
    let mut body = Vec::new();
    for i in (0..depth).rev() {
        body.extend_from_slice(format!("--b{i}\r\n{}\r\n", content_type(i)).as_bytes());
    }
    body.extend_from_slice(b"innermost\r\n");
    for i in 0..depth {
        body.extend_from_slice(format!("\r\n--b{i}--\r\n").as_bytes());
    }
    message(content_type(depth).as_bytes(), &body)
}

#[test]
fn mime_nesting_10000_deep_is_refused_at_max_mime_depth() {
    within("10,000 nested multiparts", || {
        let m = nested_multipart(10_000);
        // The header is fine: parsing does not walk the MIME tree.
        Email::parse(&m).unwrap();
        let want = ParseError::TooDeep {
            limit: MAX_MIME_DEPTH,
        };
        assert_eq!(protect_parse_err(&signer_only(), &m), want);
        assert_eq!(want.to_string(), "MIME parts nested deeper than 64 levels");
    });
    within("10,000 nested message/rfc822", || {
        let mut body = b"From: x@y.z\r\nContent-Type: message/rfc822\r\n\r\n".repeat(10_000);
        body.extend_from_slice(b"From: x@y.z\r\n\r\ninnermost\r\n");
        let m = message(b"Content-Type: message/rfc822\r\n", &body);
        assert_eq!(
            protect_parse_err(&signer_only(), &m),
            ParseError::TooDeep {
                limit: MAX_MIME_DEPTH
            }
        );
    });
    within("nesting at the limit", || {
        let m = nested_multipart(MAX_MIME_DEPTH);
        let out = signer_only().protect(&m).unwrap();
        assert!(!out.message.is_empty());
        assert_eq!(
            protect_parse_err(&signer_only(), &nested_multipart(MAX_MIME_DEPTH + 1)),
            ParseError::TooDeep {
                limit: MAX_MIME_DEPTH
            }
        );
    });
}

// 4. A boundary that never closes.

#[test]
fn unclosed_boundary_keeps_the_last_part_and_closes_it() {
    within("unclosed boundary", || {
        let mut body = b"preamble\r\n--outer\r\nContent-Type: text/plain\r\n\r\nfirst\r\n\
--outer\r\nContent-Type: multipart/alternative; boundary=inner\r\n\r\n\
--inner\r\nContent-Type: text/plain\r\n\r\n"
            .to_vec();
        // 2 MB in the part that never ends: linear time, not a hang.
        for _ in 0..40_000 {
            body.extend_from_slice(b"never closed, neither inner nor outer, 50 bytes.\r\n");
        }
        let m = message(b"Content-Type: multipart/mixed; boundary=outer\r\n", &body);
        let e = Email::parse(&m).unwrap();
        let entity = e.prepared_entity().unwrap();
        assert!(entity.ends_with(b"\r\n--inner--\r\n\r\n--outer--\r\n"));
        assert_eq!(
            entity
                .windows(14)
                .filter(|w| w == b"never closed, ")
                .count(),
            40_000,
            "content kept"
        );
        signer_only().protect(&m).unwrap();
    });
    within("boundary that never appears", || {
        let m = message(
            b"Content-Type: multipart/mixed; boundary=nowhere\r\n",
            b"just text\r\n",
        );
        // No delimiter at all: the whole body would be a preamble, which readers ignore.
        // RFC 2046 §5.1.1 requires a body part, so this is refused (found by fuzzing).
        let err = Email::parse(&m).unwrap().prepared_entity().unwrap_err();
        assert!(
            matches!(err, smime_core::ParseError::BadPart { .. }),
            "{err:?}"
        );
    });
}

// 5. A header line of 10 MB.

#[test]
fn ten_megabyte_header_line_is_refused_by_field_size() {
    within("10 MB Subject", || {
        let mut extra = b"Subject: ".to_vec();
        extra.resize(10 * 1024 * 1024, b'a');
        extra.extend_from_slice(b"\r\n");
        let m = message(&extra, b"hi\r\n");
        assert_refused(
            &m,
            ParseError::FieldTooLarge {
                header: "Subject".into(),
                limit: MAX_FIELD_SIZE,
            },
            "the Subject header field is over the limit of 102400 bytes",
        );
    });
    within("10 MB first line, no colon, no newline", || {
        let m = vec![b'a'; 10 * 1024 * 1024];
        assert_eq!(parse_err(&m), ParseError::NotAnEmail { line: 1 });
    });
    within("10 MB To list", || {
        let mut extra = b"To: ".to_vec();
        while extra.len() < 10 * 1024 * 1024 {
            extra.extend_from_slice(b"someone@example.com, ");
        }
        extra.extend_from_slice(b"last@example.com\r\n");
        let m = message(&extra, b"hi\r\n");
        assert!(
            matches!(parse_err(&m), ParseError::FieldTooLarge { header, .. } if header == "To")
        );
    });
    within("a field just under the limit", || {
        let mut extra = b"X-Long: ".to_vec();
        extra.resize(MAX_FIELD_SIZE - 2, b'a');
        extra.extend_from_slice(b"\r\n");
        signer_only().protect(&message(&extra, b"hi\r\n")).unwrap();
    });
    within("2 MB body line", || {
        let mut body = vec![b'x'; 2 * 1024 * 1024];
        body.extend_from_slice(b"\r\n");
        let e = Email::parse(&message(b"", &body)).unwrap();
        let entity = e.prepared_entity().unwrap();
        assert!(entity.starts_with(b"Content-Type: text/plain; charset=us-ascii\r\nContent-Transfer-Encoding: quoted-printable\r\n"));
        assert!(entity.split(|&b| b == b'\n').all(|l| l.len() <= 78));
    });
}

// 6. NUL bytes.

#[test]
fn nul_bytes_in_headers_are_refused_and_in_bodies_encoded() {
    within("NUL bytes", || {
        let m = message(b"X-Nul: a\0b\r\n", b"hi\r\n");
        assert_refused(
            &m,
            ParseError::NulInHeader {
                header: "X-Nul".into(),
            },
            "the X-Nul header field contains a NUL byte",
        );
        // In a folded line of the From field.
        assert_eq!(
            parse_err(b"From: alice@example.com\r\n \0\r\nTo: bob@example.net\r\n\r\nhi\r\n"),
            ParseError::NulInHeader {
                header: "From".into()
            }
        );
        // In a field name: not a header field at all.
        assert_eq!(
            parse_err(b"From: alice@example.com\r\nX\0: 1\r\nTo: bob@example.net\r\n\r\n"),
            ParseError::NotAnEmail { line: 2 }
        );
        // In a text body: quoted-printable, NUL kept as =00.
        let e = Email::parse(&message(b"", b"a\0b\r\n")).unwrap();
        let entity = e.prepared_entity().unwrap();
        assert!(entity.ends_with(b"Content-Transfer-Encoding: quoted-printable\r\n\r\na=00b\r\n"));
        // In a binary attachment: base64.
        let e = Email::parse(&message(
            b"Content-Type: application/octet-stream\r\nContent-Transfer-Encoding: binary\r\n",
            b"\0\0\0\0",
        ))
        .unwrap();
        let entity = e.prepared_entity().unwrap();
        assert!(entity.ends_with(b"Content-Transfer-Encoding: base64\r\n\r\nAAAAAA==\r\n"));
        signer_only()
            .protect(&message(b"", &[0u8; 100_000]))
            .unwrap();
    });
}

// 7. Invalid UTF-8 in headers.

#[test]
fn invalid_utf8_in_headers_is_kept_as_bytes_or_refused_in_addresses() {
    within("invalid UTF-8", || {
        // In an unstructured field: kept byte for byte on the outside (no lossy rewrite).
        let m = message(b"X-Latin1: caf\xe9 \xff\xfe\xc3(\r\n", b"hi\r\n");
        let out = signer_only().protect(&m).unwrap();
        assert!(
            out.message
                .windows(21)
                .any(|w| w == b"X-Latin1: caf\xe9 \xff\xfe\xc3(\r\n")
        );
        // In a display name: read, lossily.
        let e = Email::parse(
            b"From: Al\xffce <alice@example.com>\r\nTo: bob@example.net\r\n\r\nhi\r\n",
        )
        .unwrap();
        assert_eq!(e.from().address, "alice@example.com");
        assert!(e.from().name.as_deref().unwrap().contains('\u{fffd}'));
        // In an address: no key file can be named after it.
        assert!(matches!(
            parse_err(b"From: alice@example.com\r\nTo: b\xffb@example.net\r\n\r\nhi\r\n"),
            ParseError::BadAddress { header, .. } if header == "To"
        ));
        // In a field name: not a header field.
        assert_eq!(
            parse_err(b"From: alice@example.com\r\nX-\xe9t\xe9: 1\r\n\r\n"),
            ParseError::NotAnEmail { line: 2 }
        );
    });
}

// 8. A PEM file with 10,000 certificates.

fn many_certs(n: usize, one: &str) -> String {
    one.repeat(n)
}

#[test]
fn pem_with_10000_certificates_is_refused_as_recipient_and_signer_chain_file() {
    within("10,000 certificates", || {
        let dir = tempfile::tempdir().unwrap();
        let real = pem_block(&keys_dir().join("bob@example.net.crt"), "CERTIFICATE");
        let tiny = "-----BEGIN CERTIFICATE-----\nMA==\n-----END CERTIFICATE-----\n";
        // 10,000 real certificates: 13 MB, refused by size before reading.
        let big = dir.path().join("big.crt");
        std::fs::write(&big, many_certs(10_000, &real)).unwrap();
        // 10,000 tiny (broken) ones: 590 KB, refused by count before any is parsed.
        let small = dir.path().join("small.crt");
        std::fs::write(&small, many_certs(10_000, tiny)).unwrap();
        // Just over the count with real certificates.
        let over = dir.path().join("over.crt");
        std::fs::write(&over, many_certs(MAX_CERTS_PER_FILE + 1, &real)).unwrap();

        let check = |path: &PathBuf, e: KeyError| {
            let text = e.to_string();
            assert!(text.contains(&path.display().to_string()), "{text}");
            if path == &big {
                assert!(
                    text.contains(&format!("over {MAX_KEY_FILE} bytes are refused")),
                    "{text}"
                );
            } else {
                assert!(
                    matches!(e, KeyError::TooManyCertificates { limit: 100, .. }),
                    "{e:?}"
                );
                assert!(text.contains("over the limit of 100 per file"), "{text}");
            }
        };
        for path in [&big, &small, &over] {
            let keys = KeyStore::open(keys_dir())
                .unwrap()
                .with_recipient_cert_file("bob@example.net", path);
            check(path, keys.recipient("bob@example.net", now()).unwrap_err());
            let keys = KeyStore::open(keys_dir())
                .unwrap()
                .with_signer_cert_file(path);
            check(path, keys.signer("alice@example.com", now()).unwrap_err());
        }
        // In the sender's key file, after the key.
        let keydir = tempfile::tempdir().unwrap();
        let key = pem_block(&keys_dir().join("alice@example.com.pem"), "PRIVATE KEY");
        let pem = keydir.path().join("alice@example.com.pem");
        std::fs::write(&pem, format!("{key}{}", many_certs(10_000, tiny))).unwrap();
        let keys = KeyStore::open(keydir.path()).unwrap();
        let e = keys.signer("alice@example.com", now()).unwrap_err();
        assert!(
            matches!(e, KeyError::TooManyCertificates { count: 10_000, .. }),
            "{e:?}"
        );
    });
}

// 9. A truncated DER key.

#[test]
fn truncated_keys_are_refused_with_what_is_wrong() {
    within("truncated keys", || {
        let pem = pem_block(&keys_dir().join("alice@example.com.pem"), "PRIVATE KEY");
        let (_, der) = der::pem::decode_vec(pem.as_bytes()).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let cert = keys_dir().join("alice@example.com.crt");
        std::fs::copy(&cert, dir.path().join("alice@example.com.crt")).unwrap();
        let key = dir.path().join("alice@example.com.pem");
        let cases: [(Vec<u8>, &str); 4] = [
            (
                der[..der.len() / 2].to_vec(),
                "holds no PEM private key and is not a DER RSA or EC private key",
            ),
            (der[..1].to_vec(), "is not a DER RSA or EC private key"),
            (
                pem.as_bytes()[..pem.len() / 2].to_vec(),
                "its -----BEGIN PRIVATE KEY----- PEM block has no END line: the file is truncated",
            ),
            (
                der::pem::encode_string(
                    "PRIVATE KEY",
                    der::pem::LineEnding::LF,
                    &der[..der.len() - 100],
                )
                .unwrap()
                .into_bytes(),
                "the PRIVATE KEY block is not a usable RSA PKCS#8 key",
            ),
        ];
        for backend in backends() {
            for (bytes, want) in &cases {
                std::fs::write(&key, bytes).unwrap();
                let keys = Arc::new(
                    KeyStore::open(dir.path())
                        .unwrap()
                        .with_key_backend(backend),
                );
                let e = keys.signer("alice@example.com", now()).unwrap_err();
                assert!(matches!(e, KeyError::Invalid { .. }), "{e:?}");
                let text = e.to_string();
                assert!(
                    text.contains("alice@example.com.pem") && text.contains(want),
                    "{text}"
                );
                let p = Protector::new(keys, Options::sign(SignMode::Opaque)).with_clock(clock());
                assert!(matches!(
                    p.protect(&message(b"", b"hi\r\n")),
                    Err(ProtectError::Key(KeyError::Invalid { .. }))
                ));
            }
        }
        // A truncated DER certificate.
        let crt = pem_block(&cert, "CERTIFICATE");
        let (_, cder) = der::pem::decode_vec(crt.as_bytes()).unwrap();
        std::fs::write(
            dir.path().join("bob@example.net.crt"),
            &cder[..cder.len() / 2],
        )
        .unwrap();
        let e = KeyStore::open(dir.path())
            .unwrap()
            .recipient("bob@example.net", now())
            .unwrap_err()
            .to_string();
        assert!(e.contains("is not a DER certificate"), "{e}");
    });
}

// 10. An RSA key of 16,384 bits (testdata/pki/bad/rsa16384@example.com, made by
//     testdata/pki/make-rsa16384.sh).

#[test]
fn rsa_16384_key_is_refused_at_load_before_any_private_key_operation() {
    let addr = "rsa16384@example.com";
    for backend in backends() {
        within("RSA-16384 signer", move || {
            let keys = KeyStore::open(bad_keys_dir())
                .unwrap()
                .with_key_backend(backend);
            let start = Instant::now();
            let e = keys.signer(addr, now()).unwrap_err();
            // Loading an RSA-16384 key (and checking it) takes far longer than reading a size.
            assert!(
                start.elapsed() < Duration::from_millis(500),
                "{:?}",
                start.elapsed()
            );
            assert!(
                matches!(
                    e,
                    KeyError::KeyTooLong {
                        bits: 16384,
                        max: MAX_RSA_BITS,
                        ..
                    }
                ),
                "{e:?}"
            );
            let text = e.to_string();
            assert!(
                text.contains("rsa16384@example.com.pem")
                    && text
                        .contains("RSA private key of 16384 bits; at most 8192 bits are accepted"),
                "{text}"
            );
            // Not a trust check: the dangerous switch does not lift it.
            let keys = KeyStore::open(bad_keys_dir())
                .unwrap()
                .with_key_backend(backend)
                .dangerous_skip_certificate_checks();
            assert!(matches!(
                keys.signer(addr, now()),
                Err(KeyError::KeyTooLong { .. })
            ));
        });
    }
    within("RSA-16384 recipient", move || {
        let keys = KeyStore::open(bad_keys_dir()).unwrap();
        let e = keys.recipient(addr, now()).unwrap_err();
        assert!(
            matches!(
                &e,
                KeyError::Rejected {
                    problem: CertProblem::KeyTooLong {
                        bits: 16384,
                        max: 8192
                    },
                    ..
                }
            ),
            "{e:?}"
        );
        assert!(
            e.to_string()
                .contains("has an RSA key of 16384 bits; at most 8192 are accepted")
        );
    });
}

// 11. An expired certificate; 12. a certificate for another address. KeyStore's own checks
//     are in tests/keys.rs (each_bad_certificate_is_refused_with_its_reason); these go
//     through Protector::protect, as the CLI does.

fn protect_with_bad(addr: &str, as_recipient: bool) -> KeyError {
    let (keys, from, to) = if as_recipient {
        let keys = KeyStore::open(keys_dir())
            .unwrap()
            .with_recipient_cert_file(addr, bad_keys_dir().join(format!("{addr}.crt")));
        (keys, "alice@example.com", addr)
    } else {
        (
            KeyStore::open(bad_keys_dir()).unwrap(),
            addr,
            "bob@example.net",
        )
    };
    let p = Protector::new(Arc::new(keys), Options::sign_and_encrypt()).with_clock(clock());
    let m = format!("From: {from}\r\nTo: {to}\r\n\r\nhi\r\n");
    match p.protect(m.as_bytes()) {
        Err(ProtectError::Key(e)) => e,
        other => panic!("expected a key error, got {:?}", other.map(|_| "a message")),
    }
}

/// `protect` refuses the certificate of `addr` from `bad/`, as the sender's and as a
/// recipient's, for the [`CertProblem`] that `problem` accepts, with a message containing each
/// of `says`.
fn refused_by_protect(
    what: &str,
    addr: &'static str,
    problem: fn(&CertProblem) -> bool,
    says: &'static [&'static str],
) {
    within(what, move || {
        for as_recipient in [true, false] {
            let e = protect_with_bad(addr, as_recipient);
            assert!(
                matches!(&e, KeyError::Rejected { problem: p, .. } if problem(p)),
                "{e:?}"
            );
            let text = e.to_string();
            for s in says {
                assert!(text.contains(s), "{text}");
            }
        }
    });
}

#[test]
fn expired_certificate_is_refused_by_protect() {
    refused_by_protect(
        "expired",
        "expired@example.com",
        |p| matches!(p, CertProblem::Expired { .. }),
        &["expired@example.com.", "expired on"],
    );
}

#[test]
fn certificate_for_another_address_is_refused_by_protect() {
    refused_by_protect(
        "wrong address",
        "wrongaddr@example.com",
        |p| matches!(p, CertProblem::AddressMismatch { .. }),
        &["is issued to someone-else@example.com instead"],
    );
}

//! What the fuzz targets in `fuzz/` found, replayed through the same entry points
//! (`smime_transport::__fuzz`, behind the `fuzzing` feature that this crate's
//! dev-dependency on itself turns on), and the committed seeds, so that the entry points
//! keep working between fuzzing runs.

use std::path::PathBuf;

use smime_transport::__fuzz::{self as fuzzing, FUZZ_SECRET};

fn seeds(target: &str) -> Vec<(String, Vec<u8>)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../fuzz/seeds")
        .join(target);
    let mut out: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
        .expect("fuzz/seeds")
        .map(|e| {
            let path = e.expect("dir entry").path();
            let data = std::fs::read(&path).expect("seed");
            (path.display().to_string(), data)
        })
        .collect();
    out.sort();
    assert!(!out.is_empty(), "no seeds in {}", dir.display());
    out
}

/// `api_response`, 2026-11-27: a 200 whose body is not the expected JSON made an error
/// whose text quoted the API key, because serde's message quotes the offending string
/// (`invalid type: string "..."`) and only the body was scrubbed.
#[test]
fn api_key_quoted_by_serde_is_scrubbed() {
    let body = format!("\"ts{FUZZ_SECRET}\":\t{{\"id\"");
    fuzzing::api_response(200, b"", body.as_bytes());
}

/// A 200 whose transmission id is the key. Found with the above: the id of an all-rejected
/// 200 went into the error unscrubbed; a receipt's id is scrubbed too.
#[test]
fn api_key_as_transmission_id_is_scrubbed() {
    for (rejected, accepted) in [(2, 0), (0, 2)] {
        let body = format!(
            r#"{{"results":{{"total_rejected_recipients":{rejected},"total_accepted_recipients":{accepted},"id":"{FUZZ_SECRET}"}}}}"#
        );
        fuzzing::api_response(200, b"", body.as_bytes());
    }
}

/// Found by the CI fuzz smoke: an error's `code` field was shown unscrubbed.
#[test]
fn api_key_as_error_code_is_scrubbed() {
    let body =
        format!(r#"{{"errors":[{{"message":"Too many requests","code":"{FUZZ_SECRET}"}}]}}"#);
    fuzzing::api_response(429, b"1", body.as_bytes());
    let body = format!(r#"{{"errors":[{{"message":"x","code":["{FUZZ_SECRET}"]}}]}}"#);
    fuzzing::api_response(400, b"", body.as_bytes());
}

/// `smtp_reply`, CI fuzz smoke 2026-12-04: the EHLO reply ran on into a `535` line that
/// quoted the password (and its base64), so the session failed at EHLO with an error
/// classified as authentication and showing the password: only AUTH's replies were
/// scrubbed. Every error and receipt of a session is scrubbed now.
#[test]
fn password_quoted_before_auth_is_scrubbed() {
    let mut data = b"\x42\x00220 fuzz.invalid ESMTP\r\n\xff".to_vec();
    data.extend_from_slice(b"250-fuzz.invalid\r\n250-AUTH PLAIN LOGIN\r\n\xff");
    data.extend_from_slice(format!("535 5.7.8 bad credentials {FUZZ_SECRET}\r\n").as_bytes());
    fuzzing::smtp_session(&data);
    // The bytes the fuzzer found, verbatim (also in fuzz/seeds/smtp_reply/).
    let found = std::fs::read(
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../../fuzz/seeds/smtp_reply/password-quoted-at-ehlo"),
    )
    .expect("the seed");
    fuzzing::smtp_session(&found);
}

#[test]
fn smtp_reply_seeds() {
    for (name, data) in seeds("smtp_reply") {
        eprintln!("{name}");
        fuzzing::smtp_session(&data);
    }
}

#[test]
fn api_response_seeds() {
    for (name, data) in seeds("api_response") {
        eprintln!("{name}");
        // The target's format: status line, Retry-After line, body.
        let mut lines = data.splitn(3, |&b| b == b'\n');
        let status = std::str::from_utf8(lines.next().unwrap_or_default())
            .expect("ASCII status")
            .trim()
            .parse::<u16>()
            .expect("a status");
        let retry_after = lines.next().unwrap_or_default();
        fuzzing::api_response(status, retry_after, lines.next().unwrap_or_default());
    }
}

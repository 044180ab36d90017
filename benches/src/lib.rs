//! Inputs shared by the benches, the profiling example and `benches/compare.sh`.
//!
//! The size ladder of the performance issue: 1 KB, 20 KB, 600 KB and 5 MB messages, each from
//! Alice to Bob alone (one recipient plus the sender: two key transports when encrypting). The
//! 20 KB message is the corpus' `html-inline-image.eml` (HTML, text and an inline image; the
//! headline figure) addressed to Bob only; the others are made here, deterministically: a
//! short text part and a base64 attachment of pseudo-random bytes, so the whole `.eml` is about
//! the named size.

#![forbid(unsafe_code)]

use std::path::PathBuf;

/// The sizes of the ladder, smallest first.
pub const SIZES: [&str; 4] = ["1KB", "20KB", "600KB", "5MB"];

/// The message of the ladder named `size` (`1KB`, `20KB`, `600KB` or `5MB`).
///
/// # Panics
///
/// On an unknown size, or when the corpus file cannot be read (benches only).
pub fn message(size: &str) -> Vec<u8> {
    match size {
        "1KB" => text_message(1024),
        "20KB" => headline_message(),
        "600KB" => attachment_message(600 * 1024),
        "5MB" => attachment_message(5 * 1024 * 1024),
        other => panic!("unknown size {other}; use one of {SIZES:?}"),
    }
}

/// The corpus' `html-inline-image.eml`, addressed to Bob alone (the corpus file adds Carol).
pub fn headline_message() -> Vec<u8> {
    let eml = smime_testkit::corpus_file("html-inline-image.eml");
    let to = b"To: Bob <bob@example.net>, Carol <carol@example.org>\r\n";
    let at = eml
        .windows(to.len())
        .position(|w| w == to)
        .expect("the corpus message's To line");
    [
        &eml[..at],
        &b"To: Bob <bob@example.net>\r\n"[..],
        &eml[at + to.len()..],
    ]
    .concat()
}

/// The key folder for RSA keys of `bits` (2048, 3072 or 4096): Alice signs, Bob receives.
///
/// # Panics
///
/// On another size.
pub fn keys_dir(bits: u32) -> PathBuf {
    match bits {
        2048 => smime_testkit::keys_dir(),
        3072 | 4096 => smime_testkit::pki_dir().join(format!("bench-rsa{bits}")),
        other => panic!("no bench keys for RSA-{other}"),
    }
}

const HEADER: &str = "From: Alice <alice@example.com>\r\n\
To: Bob <bob@example.net>\r\n\
Subject: Benchmark message\r\n\
Date: Fri, 27 Nov 2026 10:00:00 +0000\r\n\
Message-ID: <bench@example.com>\r\n\
MIME-Version: 1.0\r\n";

/// A plain-text message of about `total` bytes: 7-bit lines of 72 characters.
fn text_message(total: usize) -> Vec<u8> {
    let mut out = HEADER.as_bytes().to_vec();
    out.extend_from_slice(b"Content-Type: text/plain; charset=us-ascii\r\n\r\n");
    let line = "The quick brown fox jumps over the lazy dog, again and again and again.\r\n";
    while out.len() + line.len() <= total {
        out.extend_from_slice(line.as_bytes());
    }
    out
}

/// A multipart/mixed message of about `total` bytes, most of it a base64 attachment.
fn attachment_message(total: usize) -> Vec<u8> {
    let mut out = HEADER.as_bytes().to_vec();
    out.extend_from_slice(
        b"Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n\
--b1\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\nThe report is attached.\r\n\
--b1\r\nContent-Type: application/octet-stream; name=\"report.bin\"\r\n\
Content-Disposition: attachment; filename=\"report.bin\"\r\n\
Content-Transfer-Encoding: base64\r\n\r\n",
    );
    // Base64 grows 4/3 plus CRLF every 76: 57 raw bytes make one 78-byte line.
    let raw_len = total.saturating_sub(out.len() + 16) / 78 * 57;
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let raw: Vec<u8> = (0..raw_len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 24) as u8
        })
        .collect();
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for chunk in raw.chunks(57) {
        for triple in chunk.chunks(3) {
            let b = [
                triple[0],
                *triple.get(1).unwrap_or(&0),
                *triple.get(2).unwrap_or(&0),
            ];
            let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
            let chars = [18, 12, 6, 0].map(|s| ALPHABET[(n >> s & 63) as usize]);
            let keep = triple.len() + 1;
            out.extend_from_slice(&chars[..keep]);
            out.extend(std::iter::repeat_n(b'=', 4 - keep));
        }
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"--b1--\r\n");
    out
}

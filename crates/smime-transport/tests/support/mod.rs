//! Shared by the integration tests: fake servers, a test PKI, the Postfix helper. Each test
//! binary uses a part of it.
#![allow(dead_code, unreachable_pub)]

pub mod fake_api;
pub mod fake_smtp;
pub mod pki;
pub mod postfix;

use std::time::Duration;

/// A message of about `size` bytes with CRLF line ends, lines starting with dots included.
pub fn message(subject: &str, size: usize) -> Vec<u8> {
    let mut m = format!(
        "From: Alice <alice@example.com>\r\nTo: Bob <bob@example.net>\r\nSubject: {subject}\r\n\
         Message-ID: <{subject}@example.com>\r\nMIME-Version: 1.0\r\n\
         Content-Type: text/plain; charset=us-ascii\r\n\r\n.leading dot\r\n..two dots\r\n"
    )
    .into_bytes();
    let line = b"The quick brown fox jumps over the lazy dog 0123456789 abcdefghijklmnop\r\n";
    while m.len() + line.len() <= size {
        m.extend_from_slice(line);
    }
    m.extend_from_slice(b".\r\nlast line\r\n");
    m
}

/// Fails the test if `f` takes longer than `limit`.
pub async fn within<T>(limit: Duration, f: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(limit, f)
        .await
        .unwrap_or_else(|_| panic!("took longer than {limit:?}"))
}

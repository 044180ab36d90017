//! `cms`: the library's S/MIME reading code on any bytes.
//!
//! The first byte says what the rest is:
//! - `0`: a whole message, opened by a `Reader` holding Bob's and Carol's keys (decrypts
//!   what is addressed to them, verifies every signature);
//! - `1`: a CMS ContentInfo (DER or BER) for the key-less `parse_cms`;
//! - `2`: a whole message, opened by a `Reader` without keys;
//! - `3`, `4`: DER wrapped in an `application/pkcs7-mime` message (smime-type
//!   enveloped-data, signed-data) and opened by the keyed reader, so that mutations of the
//!   DER reach `Reader::open` without having to get through base64.
//!
//! Properties: `Reader::open` and `parse_cms` never panic (errors are fine). An opened
//! message has between 1 and `MAX_LAYERS` layers; `parse_cms`'s lengths fit in the input.
#![no_main]

use std::sync::OnceLock;

use base64ct::{Base64, Encoding};
use libfuzzer_sys::fuzz_target;
use smime_core::{CmsSummary, MAX_LAYERS, Reader};

const KEYS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../testdata/pki/keys");

fn keyed() -> &'static Reader {
    static R: OnceLock<Reader> = OnceLock::new();
    R.get_or_init(|| {
        let pem = |who: &str| std::fs::read(format!("{KEYS}/{who}.pem")).expect("a test key");
        Reader::new()
            .with_recipient_pem(&pem("bob@example.net"))
            .and_then(|r| r.with_recipient_pem(&pem("carol@example.org")))
            .expect("the test keys load")
    })
}

fn open(reader: &Reader, message: &[u8]) {
    if let Ok(opened) = reader.open(message) {
        assert!(
            (1..=MAX_LAYERS).contains(&opened.layers.len()),
            "{} layers",
            opened.layers.len()
        );
        assert!(opened.is_signed() || opened.is_encrypted());
    }
}

fn wrapped(der: &[u8], smime_type: &str) -> Vec<u8> {
    let mut m = format!(
        "From: Alice <alice@example.com>\r\nTo: Bob <bob@example.net>\r\nSubject: fuzz\r\n\
         MIME-Version: 1.0\r\nContent-Type: application/pkcs7-mime; smime-type={smime_type}; \
         name=\"smime.p7m\"\r\nContent-Transfer-Encoding: base64\r\n\
         Content-Disposition: attachment; filename=\"smime.p7m\"\r\n\r\n"
    )
    .into_bytes();
    for line in Base64::encode_string(der).as_bytes().chunks(76) {
        m.extend_from_slice(line);
        m.extend_from_slice(b"\r\n");
    }
    m
}

fuzz_target!(|data: &[u8]| {
    let [mode, rest @ ..] = data else {
        return;
    };
    match mode % 5 {
        0 => open(keyed(), rest),
        1 => match smime_core::parse_cms(rest) {
            Ok(CmsSummary::SignedData { content_len, .. }) => {
                assert!(content_len.unwrap_or(0) <= rest.len());
            }
            Ok(CmsSummary::EnvelopedData { encrypted_len, .. }) => {
                assert!(encrypted_len <= rest.len());
            }
            Ok(_) | Err(_) => {}
        },
        2 => open(&Reader::new(), rest),
        3 => open(keyed(), &wrapped(rest, "enveloped-data")),
        _ => open(keyed(), &wrapped(rest, "signed-data")),
    }
});

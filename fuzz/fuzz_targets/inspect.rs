//! `inspect`: the description of a message (`smime show`'s tree) on any bytes.
//!
//! The first byte says what the rest is:
//! - `0`: a whole message;
//! - `1`: DER (or BER) in a binary `application/pkcs7-mime` part, so that mutations of the DER
//!   reach the CMS decoders without having to get through base64;
//! - `2`: the same as the signature part of a `multipart/signed`.
//!
//! Properties: `inspect` never panics, and fails only on input that is not a message; the tree
//! is no deeper than `MAX_INSPECT_DEPTH` (parts and encapsulated entities alike), its size is
//! the input's, and every CMS length (encrypted content, encapsulated content) fits in it.
#![no_main]

use libfuzzer_sys::fuzz_target;
use smime_core::inspect::{CmsContent, Encapsulated, Node};
use smime_core::{InspectError, MAX_INSPECT_DEPTH};

fn wrapped(der: &[u8]) -> Vec<u8> {
    let mut m = b"From: Alice <alice@example.com>\r\nTo: Bob <bob@example.net>\r\n\
        MIME-Version: 1.0\r\nContent-Type: application/pkcs7-mime; smime-type=signed-data\r\n\
        Content-Transfer-Encoding: binary\r\n\r\n"
        .to_vec();
    m.extend_from_slice(der);
    m
}

fn detached(der: &[u8]) -> Vec<u8> {
    let mut m = b"From: Alice <alice@example.com>\r\nMIME-Version: 1.0\r\n\
        Content-Type: multipart/signed; protocol=\"application/pkcs7-signature\"; \
        micalg=sha-256; boundary=\"b\"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nhi\r\n\
        --b\r\nContent-Type: application/pkcs7-signature; name=smime.p7s\r\n\
        Content-Transfer-Encoding: binary\r\n\r\n"
        .to_vec();
    m.extend_from_slice(der);
    m.extend_from_slice(b"\r\n--b--\r\n");
    m
}

/// How deep `node` goes; checks the CMS lengths against `limit` on the way.
fn depth(node: &Node, limit: usize) -> usize {
    let Node::Part(part) = node else {
        return 1;
    };
    let mut below = part
        .children
        .iter()
        .map(|c| depth(c, limit))
        .max()
        .unwrap_or(0);
    match part.cms.as_ref().map(|c| &c.content) {
        Some(CmsContent::Enveloped(ed)) => {
            assert!(ed.encrypted_size.unwrap_or(0) <= limit);
        }
        Some(CmsContent::Signed(sd)) => {
            if let Encapsulated::Content { size, entity, .. } = &sd.content {
                assert!(*size <= limit, "{size} > {limit}");
                if let Some(entity) = entity {
                    below = below.max(depth(entity, limit));
                }
            }
        }
        _ => {}
    }
    1 + below
}

fuzz_target!(|data: &[u8]| {
    let [mode, rest @ ..] = data else {
        return;
    };
    let input = match mode % 3 {
        0 => rest.to_vec(),
        1 => wrapped(rest),
        _ => detached(rest),
    };
    match smime_core::inspect(&input) {
        Ok(tree) => {
            assert_eq!(tree.size, input.len());
            let d = depth(&tree.root, input.len());
            assert!(d <= MAX_INSPECT_DEPTH + 1, "{d} levels");
        }
        Err(InspectError::NotAMessage { .. }) => assert_eq!(*mode % 3, 0),
        Err(e) => panic!("{e}"),
    }
});

//! Decoding tests of the inspection: hostile and deep input never panics and stays bounded.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use ::cms::content_info::{CmsVersion, ContentInfo};
use ::cms::signed_data::{EncapsulatedContentInfo, SignedData, SignerInfos};
use const_oid::db::rfc5911::{ID_DATA, ID_SIGNED_DATA};
use der::asn1::{Any, SetOfVec};
use der::{Encode, Tag};
use mail_parser::MessageParser;

use super::*;
use crate::{FixedClock, KeyStore, Options, Protector, SignMode};
use smime_testkit::{binary_part, der_of, nested_messages, nested_multiparts, streaming_ber};

fn corpus(name: &str) -> Vec<u8> {
    std::fs::read(smime_testkit::corpus_dir().join(name)).unwrap()
}

/// `name` from the corpus protected with `options`.
fn protect(options: Options, name: &str) -> Vec<u8> {
    let keys = KeyStore::open(smime_testkit::keys_dir()).unwrap();
    Protector::new(Arc::new(keys), options)
        .with_clock(Arc::new(FixedClock::from_unix(1_780_315_200)))
        .protect(&corpus(name))
        .unwrap()
        .message
}

/// How deep the tree goes, counting parts and encapsulated entities.
fn depth(node: &Node) -> usize {
    match node {
        Node::Part(part) => {
            let below_children = part.children.iter().map(depth).max().unwrap_or(0);
            let below_cms = match part.cms.as_ref().map(|c| &c.content) {
                Some(CmsContent::Signed(SignedLayer {
                    content:
                        Encapsulated::Content {
                            entity: Some(entity),
                            ..
                        },
                    ..
                })) => depth(entity),
                _ => 0,
            };
            1 + below_children.max(below_cms)
        }
        _ => 1,
    }
}

/// Inspects anything: it must not panic, and only non-messages are errors.
fn inspect_any(input: &[u8]) -> Option<Inspection> {
    match inspect(input) {
        Ok(tree) => {
            assert_eq!(tree.size, input.len());
            assert!(depth(&tree.root) <= MAX_INSPECT_DEPTH + 1);
            Some(tree)
        }
        Err(InspectError::NotAMessage { .. }) => None,
        Err(e) => panic!("unexpected error: {e}"),
    }
}

#[test]
fn mutated_cms_never_panics() {
    let samples = [
        der_of(&protect(Options::sign(SignMode::Opaque), "plain.eml")),
        der_of(&protect(Options::encrypt(), "plain.eml")),
    ];
    for der in samples {
        for form in [der.clone(), streaming_ber(&der)] {
            for cut in (0..form.len()).step_by(7) {
                inspect_any(&binary_part("application/pkcs7-mime", &form[..cut]));
            }
            for i in (0..form.len()).step_by(5) {
                for x in [0xff, 0x80, 0x01] {
                    let mut m = form.clone();
                    m[i] ^= x;
                    let tree = inspect_any(&binary_part("application/pkcs7-mime", &m)).unwrap();
                    let Node::Part(part) = tree.root else {
                        panic!("{tree:?}")
                    };
                    // Either a layer or why there is none.
                    assert!(part.cms.is_some() == part.unreadable.is_empty(), "{part:?}");
                }
            }
        }
    }
}

#[test]
fn mutated_mime_never_panics() {
    let inputs = [
        corpus("html-inline-image.eml"),
        protect(
            Options::sign(SignMode::Detached),
            "qp-and-text-attachment.eml",
        ),
    ];
    for input in inputs {
        for cut in (0..input.len()).step_by(97) {
            inspect_any(&input[..cut]);
        }
        for i in (0..input.len()).step_by(89) {
            for x in [b'\n', b'-', b'"', b';', 0, 0xff] {
                let mut m = input.clone();
                m[i] = x;
                inspect_any(&m);
            }
        }
    }
}

#[test]
fn deep_multipart_nesting_is_cut() {
    let input = nested_multiparts(300);
    let tree = inspect(input.as_bytes()).unwrap();
    let mut node = &tree.root;
    for _ in 0..MAX_INSPECT_DEPTH {
        let Node::Part(part) = node else {
            panic!("{node:?}")
        };
        assert_eq!(part.part_count, Some(1));
        node = &part.children[0];
    }
    assert_eq!(
        node,
        &Node::TooDeep {
            limit: MAX_INSPECT_DEPTH
        }
    );
}

/// SignedData with no signer around `entity`, as a `binary` pkcs7-mime entity.
fn wrap_signed(entity: &[u8]) -> Vec<u8> {
    let sd = SignedData {
        version: CmsVersion::V1,
        digest_algorithms: SetOfVec::new(),
        encap_content_info: EncapsulatedContentInfo {
            econtent_type: ID_DATA,
            econtent: Some(Any::new(Tag::OctetString, entity).unwrap()),
        },
        certificates: None,
        crls: None,
        signer_infos: SignerInfos(SetOfVec::new()),
    };
    let ci = ContentInfo {
        content_type: ID_SIGNED_DATA,
        content: Any::encode_from(&sd).unwrap(),
    };
    let mut out = b"Content-Type: application/pkcs7-mime; smime-type=signed-data\r\n\
        Content-Transfer-Encoding: binary\r\n\r\n"
        .to_vec();
    out.extend(ci.to_der().unwrap());
    out
}

#[test]
fn deep_encapsulation_is_cut() {
    let mut entity = b"Content-Type: text/plain\r\n\r\nhi\r\n".to_vec();
    for _ in 0..60 {
        entity = wrap_signed(&entity);
    }
    let mut input = b"From: a@example.com\r\n".to_vec();
    input.extend(&entity);
    let tree = inspect(&input).unwrap();
    let mut node = &tree.root;
    let mut layers = 0;
    while let Node::Part(part) = node {
        let Some(CmsContent::Signed(sd)) = part.cms.as_ref().map(|c| &c.content) else {
            panic!("{part:?}")
        };
        assert!(sd.digest_algorithms.is_empty() && sd.signers.is_empty());
        let Encapsulated::Content {
            content_type,
            entity: Some(inner),
            ..
        } = &sd.content
        else {
            panic!("{sd:?}")
        };
        assert_eq!(content_type.name, "id-data");
        layers += 1;
        node = inner;
    }
    assert_eq!(layers, MAX_INSPECT_DEPTH);
    assert_eq!(
        node,
        &Node::TooDeep {
            limit: MAX_INSPECT_DEPTH
        }
    );
}

#[test]
fn deep_nested_messages_are_cut() {
    let input = nested_messages(100);
    inspect_any(input.as_bytes()).unwrap();
}

#[test]
fn not_a_message() {
    let mut noise = vec![0u8; 4096];
    let mut x = 0x2545_f491_u32;
    for b in &mut noise {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        *b = x.to_le_bytes()[0];
    }
    noise[0] = 0x89; // never a header field name
    for input in [
        &b""[..],
        b" \r\n\t\r\n",
        b"hello",
        b"just some words, no header\r\n",
        b"\r\n\r\nbody only",
        b"From nobody\r\n",
        &noise,
        &der_of(&protect(Options::encrypt(), "plain.eml")),
    ] {
        let err = inspect(input).unwrap_err();
        assert!(matches!(err, InspectError::NotAMessage { .. }), "{err}");
        assert!(err.to_string().starts_with("not an email message: "));
    }
}

#[test]
fn serial_numbers_and_key_ids() {
    assert_eq!(cms::serial(&[0x00, 0x10, 0x02]), "1002");
    assert_eq!(cms::serial(&[0x00]), "0");
    assert_eq!(cms::serial(&[]), "0");
    assert_eq!(crate::read::hex_bytes(&[0x00, 0xab]), "00ab");
}

#[test]
fn a_parser_panic_is_not_a_crash() {
    // mail-parser 0.11.9 panics on this one (fuzzing found it).
    let path = smime_testkit::repo_root().join("fuzz/seeds/prepare/mail-parser-panics.eml");
    let input = std::fs::read(path).unwrap();
    let caught = std::panic::catch_unwind(|| MessageParser::default().parse(&input[..]));
    assert!(
        caught.is_err(),
        "mail-parser no longer panics here: keep the test honest"
    );
    assert_eq!(
        inspect(&input).unwrap_err(),
        InspectError::NotAMessage {
            reason: "no header fields, or a MIME structure the parser cannot read"
        }
    );
    // From several threads at once: the guard is per thread.
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let input = input.clone();
            std::thread::spawn(move || inspect(&input).is_err())
        })
        .collect();
    for t in threads {
        assert!(t.join().unwrap());
    }
}

//! `smime_core::inspect` describes what the library writes (signed, detached, encrypted, both)
//! and what OpenSSL streams (BER), as data: identifiers, algorithms, addresses and sizes.
#![allow(clippy::unwrap_used)]

use crate::common::*;
use smime_core::inspect::{
    AsnEncoding, CertificateEntry, CertificateSummary, CmsContent, CmsKind, CmsLayer, Encapsulated,
    EnvelopedLayer, Identifier, Node, Part, Pkcs7Kind, Recipient, SignedLayer,
};
use smime_core::x509_cert::Certificate;
use smime_core::x509_cert::der::DecodePem;
use smime_core::{InspectError, Options, Reader, SignMode};
use smime_testkit::{RECIPIENTS, SENDER};

const SHA256: &str = "2.16.840.1.101.3.4.2.1";
const RSA: &str = "1.2.840.113549.1.1.1";
const INTERMEDIATE: &str = "CN=smime TEST-ONLY Intermediate CA,O=smime test PKI";

/// The corpus message `name`, protected with `options`.
fn protect(options: Options, name: &str) -> Vec<u8> {
    protector(options)
        .protect(&corpus_file(name))
        .unwrap()
        .message
}

fn part(node: &Node) -> &Part {
    match node {
        Node::Part(part) => part,
        other => panic!("not a part: {other:?}"),
    }
}

fn cms_of(part: &Part) -> &CmsLayer {
    part.cms
        .as_ref()
        .unwrap_or_else(|| panic!("no CMS layer: {part:?}"))
}

fn signed(layer: &CmsLayer) -> &SignedLayer {
    match &layer.content {
        CmsContent::Signed(sd) => sd,
        other => panic!("not SignedData: {other:?}"),
    }
}

fn enveloped(layer: &CmsLayer) -> &EnvelopedLayer {
    match &layer.content {
        CmsContent::Enveloped(ed) => ed,
        other => panic!("not EnvelopedData: {other:?}"),
    }
}

fn certificate(address: &str) -> Certificate {
    Certificate::from_pem(std::fs::read(smime_testkit::key_cert(address)).unwrap()).unwrap()
}

/// A certificate's serial as the inspection writes it.
fn serial_of(address: &str) -> String {
    let cert = certificate(address);
    let bytes = cert.tbs_certificate().serial_number().as_bytes();
    let start = bytes.iter().position(|&b| b != 0).unwrap();
    bytes[start..].iter().map(|b| format!("{b:02x}")).collect()
}

/// Alice's signature, as every mode of ours and OpenSSL's make it.
fn assert_alice_signed(sd: &SignedLayer) {
    assert_eq!(sd.digest_algorithms.len(), 1);
    assert_eq!(sd.digest_algorithms[0].oid, SHA256);
    assert_eq!(sd.digest_algorithms[0].name, "SHA-256");
    let certs: Vec<&CertificateSummary> = sd
        .certificates
        .iter()
        .map(|c| match c {
            CertificateEntry::X509(c) => c,
            other => panic!("{other:?}"),
        })
        .collect();
    let alice = certs
        .iter()
        .find(|c| c.email_addresses == [SENDER])
        .unwrap_or_else(|| panic!("no certificate for {SENDER}: {certs:?}"));
    assert_eq!(alice.issuer, INTERMEDIATE);
    assert_eq!(alice.serial, serial_of(SENDER));
    assert!(alice.subject.contains("CN=Alice Test"), "{}", alice.subject);
    // The chain, when there is one, names no address.
    for ca in certs.iter().filter(|c| c.subject == INTERMEDIATE) {
        assert!(ca.email_addresses.is_empty());
    }
    assert_eq!(sd.signers.len(), 1);
    let signer = &sd.signers[0];
    assert_eq!(signer.digest.oid, SHA256);
    assert_eq!(signer.signature.oid, RSA);
    assert_eq!(signer.signature.name, "rsaEncryption");
    assert_eq!(
        signer.id,
        Identifier::IssuerSerial {
            issuer: INTERMEDIATE.to_owned(),
            serial: serial_of(SENDER),
        }
    );
}

#[test]
fn opaque_signed() {
    let message = protect(Options::sign(SignMode::Opaque), "html-inline-image.eml");
    let tree = smime_core::inspect(&message).unwrap();
    assert_eq!(tree.size, message.len());
    let root = part(&tree.root);
    let ct = root.content_type.as_ref().unwrap();
    assert_eq!(
        (ct.mtype.as_str(), ct.subtype.as_deref()),
        ("application", Some("pkcs7-mime"))
    );
    assert_eq!(ct.smime_type.as_deref(), Some("signed-data"));
    assert_eq!(ct.name.as_deref(), Some("smime.p7m"));
    assert_eq!(root.transfer_encoding.as_deref(), Some("base64"));
    let disposition = root.disposition.as_ref().unwrap();
    assert_eq!(disposition.kind, "attachment");
    assert_eq!(disposition.file_name.as_deref(), Some("smime.p7m"));
    assert_eq!(root.pkcs7, Some(Pkcs7Kind::Mime));
    assert!(root.unreadable.is_empty());

    let layer = cms_of(root);
    assert_eq!(layer.kind, CmsKind::Signed);
    assert_eq!(layer.content_type.oid, "1.2.840.113549.1.7.2");
    assert_eq!(layer.encoding, AsnEncoding::Der);
    assert_eq!(layer.smime_type_mismatch, None);
    let sd = signed(layer);
    assert_alice_signed(sd);
    // Alice's certificate and its chain.
    assert_eq!(sd.certificates.len(), 2);
    assert_eq!(
        sd.signers[0].signing_time.as_deref(),
        Some("2026-06-01T12:00:00Z")
    );
    let Encapsulated::Content {
        content_type,
        size,
        entity: Some(entity),
        unreadable: None,
    } = &sd.content
    else {
        panic!("{:?}", sd.content)
    };
    assert_eq!(content_type.name, "id-data");
    // The size of what the signature covers, as the reader finds it.
    let opened = Reader::new().open(&message).unwrap();
    assert_eq!(*size, opened.content.len());
    let related = part(entity);
    assert_eq!(related.part_count, Some(2));
    assert_eq!(related.size, 20035);
    let image = part(&related.children[1]);
    assert_eq!(image.size, 13964);
    assert_eq!(
        image.disposition.as_ref().unwrap().file_name.as_deref(),
        Some("logo.png")
    );
}

#[test]
fn detached_signed() {
    let message = protect(Options::sign(SignMode::Detached), "plain.eml");
    let tree = smime_core::inspect(&message).unwrap();
    let root = part(&tree.root);
    assert_eq!(root.part_count, Some(2));
    let params = root.signed.as_ref().unwrap();
    assert_eq!(
        params.protocol.as_deref(),
        Some("application/pkcs7-signature")
    );
    assert_eq!(params.micalg.as_deref(), Some("sha-256"));
    assert!(root.cms.is_none());
    let content = part(&root.children[0]);
    assert_eq!(content.content_type.as_ref().unwrap().mtype, "text");
    assert!(content.cms.is_none());
    let signature = part(&root.children[1]);
    assert_eq!(signature.pkcs7, Some(Pkcs7Kind::Signature));
    let sd = signed(cms_of(signature));
    assert_alice_signed(sd);
    assert_eq!(sd.content, Encapsulated::Detached);
}

/// The recipients of a message of ours: each named by issuer and serial, RSA key transport.
fn assert_recipients(ed: &EnvelopedLayer, addresses: &[&str]) {
    let mut serials: Vec<String> = ed
        .recipients
        .iter()
        .map(|r| match r {
            Recipient::KeyTransport {
                id: Identifier::IssuerSerial { issuer, serial },
                algorithm,
            } => {
                assert_eq!(issuer, INTERMEDIATE);
                assert_eq!(algorithm.oid, RSA);
                serial.clone()
            }
            other => panic!("{other:?}"),
        })
        .collect();
    let mut want: Vec<String> = addresses.iter().map(|a| serial_of(a)).collect();
    serials.sort();
    want.sort();
    assert_eq!(serials, want);
}

#[test]
fn encrypted_and_signed_then_encrypted() {
    for (options, signed) in [
        (Options::encrypt(), false),
        (Options::sign_and_encrypt(), true),
    ] {
        let message = protect(options, "plain.eml");
        let tree = smime_core::inspect(&message).unwrap();
        let root = part(&tree.root);
        assert_eq!(
            root.content_type.as_ref().unwrap().smime_type.as_deref(),
            Some("enveloped-data")
        );
        let layer = cms_of(root);
        assert_eq!(layer.kind, CmsKind::Enveloped);
        let ed = enveloped(layer);
        assert_eq!(ed.content_encryption.name, "AES-256-CBC");
        assert_eq!(ed.content_encryption.oid, "2.16.840.1.101.3.4.1.42");
        // Bob (the To) and Alice (encrypt-to-self).
        assert_recipients(ed, &[RECIPIENTS[0], SENDER]);
        let encrypted = ed.encrypted_size.unwrap();
        assert_eq!(encrypted % 16, 0);
        // What is inside stays inside: no tree below an envelope.
        assert!(root.children.is_empty());
        // The plaintext is the size of the ciphertext, less the padding (1 to 16 bytes).
        if !signed {
            let opened = reader_for(RECIPIENTS[0]).open(&message).unwrap();
            let plain = opened.content.len();
            assert!(
                (encrypted - 16..encrypted).contains(&plain),
                "{plain} {encrypted}"
            );
        }
    }
}

#[test]
fn not_a_message_and_unreadable_parts() {
    for input in [&b""[..], b"hello", b"\x89PNG\r\n\x1a\n"] {
        assert!(matches!(
            smime_core::inspect(input),
            Err(InspectError::NotAMessage { .. })
        ));
    }
    let message = protect(Options::encrypt(), "plain.eml");
    let text = String::from_utf8(message).unwrap();
    let (head, _) = text.split_once("\r\n\r\n").unwrap();
    let broken = format!("{head}\r\n\r\n!!! not base64 ***\r\n");
    let tree = smime_core::inspect(broken.as_bytes()).unwrap();
    let root = part(&tree.root);
    assert_eq!(root.pkcs7, Some(Pkcs7Kind::Mime));
    assert_eq!(root.unreadable, ["the body is not valid base64"]);
    assert!(root.cms.is_none());
    // Truncated DER: the ContentInfo cannot be read.
    let (_, body) = text.split_once("\r\n\r\n").unwrap();
    let lines: Vec<&str> = body.lines().collect();
    let half = format!(
        "{head}\r\n\r\n{}\r\n",
        lines[..lines.len() / 2].join("\r\n")
    );
    let root = smime_core::inspect(half.as_bytes()).unwrap().root;
    let root = part(&root);
    assert_eq!(root.unreadable.len(), 1);
    assert!(
        root.unreadable[0].starts_with("not a CMS ContentInfo: "),
        "{:?}",
        root.unreadable
    );
}

#[test]
fn ber_as_openssl_streams_it() {
    if smime_testkit::tool("openssl").is_none() {
        return;
    }
    let alice = smime_testkit::key_pem(SENDER)
        .to_string_lossy()
        .into_owned();
    let bob = smime_testkit::key_cert(RECIPIENTS[0]);
    let input = corpus_file("plain.eml");

    let message = openssl(
        &["cms", "-sign", "-nodetach", "-stream", "-signer", &alice],
        &input,
        &[],
    );
    let tree = smime_core::inspect(&message).unwrap();
    let root = part(&tree.root);
    let layer = cms_of(root);
    assert_eq!(layer.encoding, AsnEncoding::Ber);
    assert_eq!(layer.kind, CmsKind::Signed);
    let sd = signed(layer);
    assert_alice_signed(sd);
    let Encapsulated::Content {
        size,
        entity: Some(entity),
        ..
    } = &sd.content
    else {
        panic!("{:?}", sd.content)
    };
    // The segments of the streamed content, joined: what the signature covers.
    let opened = Reader::new().open(&message).unwrap();
    assert_eq!(*size, opened.content.len());
    let text = part(entity);
    assert_eq!(text.content_type.as_ref().unwrap().mtype, "text");
    assert!(text.unreadable.is_empty());

    // Recipients by subject key identifier, AES-128.
    let message = openssl(
        &["cms", "-encrypt", "-stream", "-aes128", "-keyid"],
        &input,
        &[&bob],
    );
    let tree = smime_core::inspect(&message).unwrap();
    let layer = cms_of(part(&tree.root));
    assert_eq!(layer.encoding, AsnEncoding::Ber);
    let ed = enveloped(layer);
    assert_eq!(ed.content_encryption.name, "AES-128-CBC");
    assert_eq!(ed.recipients.len(), 1);
    let ski = certificate(RECIPIENTS[0])
        .tbs_certificate()
        .get_extension::<smime_core::x509_cert::ext::pkix::SubjectKeyIdentifier>()
        .unwrap()
        .unwrap()
        .1;
    let ski: String = ski
        .0
        .as_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let Recipient::KeyTransport { id, algorithm } = &ed.recipients[0] else {
        panic!("{:?}", ed.recipients)
    };
    assert_eq!(id, &Identifier::SubjectKeyId(ski));
    assert_eq!(algorithm.oid, RSA);
}

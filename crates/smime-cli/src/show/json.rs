//! `smime show --json`: the core's inspection as one JSON document.
//!
//! ```text
//! { "size": 31234, "root": NODE }
//!
//! NODE   { "node": "part", "content_type": {"type", "subtype", "charset", "smime_type",
//!          "name"} | null, "transfer_encoding": "base64" | null (absent: 7bit),
//!          "disposition": {"kind", "file_name"} | null, "part_count": N | null (multiparts),
//!          "size": N, "multipart_signed": {"protocol", "micalg"} | null,
//!          "pkcs7": "mime" | "signature" | null, "unreadable": [REASON ...],
//!          "cms": CMS | null, "children": [NODE ...] }
//!      | { "node": "empty" | "missing" | "unreadable", "reason": REASON }
//!      | { "node": "too_deep", "limit": 32 }
//! CMS    { "kind": "signed" | "enveloped" | "authEnveloped" | "compressed" | "other",
//!          "content_type": OID, "encoding": "DER" | "BER", "smime_type_mismatch": S | null,
//!          and one of "signed": SIGNED, "enveloped": ENVELOPED, "unreadable": REASON }
//! SIGNED { "digest_algorithms": [OID ...], "certificates": [{"subject", "issuer", "serial",
//!          "email_addresses": [...]} | {"other_format": OID} ...],
//!          "signers": [{"id": ID, "digest": OID, "signature": OID, "signing_time": S | null,
//!          "verified": false}] (`show` checks no signature),
//!          "content": {"detached": true} | {"unreadable": REASON}
//!                   | {"content_type": OID, "size": N, "entity": NODE | null,
//!                      "unreadable": REASON | null} }
//! ENVELOPED { "content_encryption": OID, "encrypted_size": N | null,
//!          "recipients": [{"type": "key_transport" | "key_agreement", "id": ID,
//!          "algorithm": OID} | {"type": "kek", "key_id": HEX, "algorithm": OID}
//!          | {"type": "password", "algorithm": OID} | {"type": "other", "kind": OID} ...] }
//! ID     {"issuer": DN, "serial": HEX} | {"subject_key_id": HEX}
//! OID    {"oid": "2.16.840.1.101.3.4.2.1", "name": "SHA-256"}
//! ```

use serde_json::{Map, Value, json};
use smime_core::Inspection;
use smime_core::inspect::{
    AsnEncoding, CertificateEntry, CmsContent, CmsKind, CmsLayer, Encapsulated, EnvelopedLayer,
    Identifier, NamedOid, Node, Part, Pkcs7Kind, Recipient, SignedLayer,
};

/// The whole document.
pub(crate) fn inspection(tree: &Inspection) -> Value {
    json!({ "size": tree.size, "root": node(&tree.root) })
}

fn node(node: &Node) -> Value {
    match node {
        Node::Part(part) => mime_part(part),
        Node::Empty { reason } => json!({ "node": "empty", "reason": reason }),
        Node::Missing { reason } => json!({ "node": "missing", "reason": reason }),
        Node::Unreadable { reason } => json!({ "node": "unreadable", "reason": reason }),
        Node::TooDeep { limit } => json!({ "node": "too_deep", "limit": limit }),
        _ => json!({ "node": "other" }),
    }
}

fn mime_part(part: &Part) -> Value {
    json!({
        "node": "part",
        "content_type": part.content_type.as_ref().map(|ct| json!({
            "type": ct.mtype,
            "subtype": ct.subtype,
            "charset": ct.charset,
            "smime_type": ct.smime_type,
            "name": ct.name,
        })),
        "transfer_encoding": part.transfer_encoding,
        "disposition": part.disposition.as_ref().map(|d| json!({
            "kind": d.kind,
            "file_name": d.file_name,
        })),
        "part_count": part.part_count,
        "size": part.size,
        "multipart_signed": part.signed.as_ref().map(|s| json!({
            "protocol": s.protocol,
            "micalg": s.micalg,
        })),
        "pkcs7": part.pkcs7.map(|k| match k {
            Pkcs7Kind::Signature => "signature",
            _ => "mime",
        }),
        "unreadable": part.unreadable,
        "cms": part.cms.as_ref().map(cms),
        "children": part.children.iter().map(node).collect::<Vec<_>>(),
    })
}

fn oid(named: &NamedOid) -> Value {
    json!({ "oid": named.oid, "name": named.name })
}

fn cms(layer: &CmsLayer) -> Value {
    let mut out = Map::new();
    let kind = match layer.kind {
        CmsKind::Signed => "signed",
        CmsKind::Enveloped => "enveloped",
        CmsKind::AuthEnveloped => "authEnveloped",
        CmsKind::Compressed => "compressed",
        _ => "other",
    };
    out.insert("kind".into(), kind.into());
    out.insert("content_type".into(), oid(&layer.content_type));
    let encoding = match layer.encoding {
        AsnEncoding::Der => "DER",
        _ => "BER",
    };
    out.insert("encoding".into(), encoding.into());
    out.insert(
        "smime_type_mismatch".into(),
        layer.smime_type_mismatch.clone().into(),
    );
    match &layer.content {
        CmsContent::Signed(sd) => {
            out.insert("signed".into(), signed(sd));
        }
        CmsContent::Enveloped(ed) => {
            out.insert("enveloped".into(), enveloped(ed));
        }
        CmsContent::Unreadable { reason } => {
            out.insert("unreadable".into(), reason.clone().into());
        }
        _ => {}
    }
    Value::Object(out)
}

fn identifier(id: &Identifier) -> Value {
    match id {
        Identifier::IssuerSerial { issuer, serial } => {
            json!({ "issuer": issuer, "serial": serial })
        }
        Identifier::SubjectKeyId(key) => json!({ "subject_key_id": key }),
        _ => json!({}),
    }
}

fn signed(sd: &SignedLayer) -> Value {
    let certificates: Vec<Value> = sd
        .certificates
        .iter()
        .map(|c| match c {
            CertificateEntry::X509(c) => json!({
                "subject": c.subject,
                "issuer": c.issuer,
                "serial": c.serial,
                "email_addresses": c.email_addresses,
            }),
            CertificateEntry::Other { format } => json!({ "other_format": oid(format) }),
            _ => json!({}),
        })
        .collect();
    let signers: Vec<Value> = sd
        .signers
        .iter()
        .map(|s| {
            json!({
                "id": identifier(&s.id),
                "digest": oid(&s.digest),
                "signature": oid(&s.signature),
                "signing_time": s.signing_time,
                "verified": false,
            })
        })
        .collect();
    let content = match &sd.content {
        Encapsulated::Detached => json!({ "detached": true }),
        Encapsulated::Unreadable { reason } => json!({ "unreadable": reason }),
        Encapsulated::Content {
            content_type,
            size,
            entity,
            unreadable,
        } => json!({
            "content_type": oid(content_type),
            "size": size,
            "entity": entity.as_deref().map(node),
            "unreadable": unreadable,
        }),
        _ => json!({}),
    };
    json!({
        "digest_algorithms": sd.digest_algorithms.iter().map(oid).collect::<Vec<_>>(),
        "certificates": certificates,
        "signers": signers,
        "content": content,
    })
}

fn enveloped(ed: &EnvelopedLayer) -> Value {
    let recipients: Vec<Value> = ed
        .recipients
        .iter()
        .map(|r| match r {
            Recipient::KeyTransport { id, algorithm } => json!({
                "type": "key_transport",
                "id": identifier(id),
                "algorithm": oid(algorithm),
            }),
            Recipient::KeyAgreement { id, algorithm } => json!({
                "type": "key_agreement",
                "id": identifier(id),
                "algorithm": oid(algorithm),
            }),
            Recipient::Kek { key_id, algorithm } => json!({
                "type": "kek",
                "key_id": key_id,
                "algorithm": oid(algorithm),
            }),
            Recipient::Password { algorithm } => json!({
                "type": "password",
                "algorithm": oid(algorithm),
            }),
            Recipient::Other { kind } => json!({ "type": "other", "kind": oid(kind) }),
            _ => json!({ "type": "other" }),
        })
        .collect();
    json!({
        "content_encryption": oid(&ed.content_encryption),
        "encrypted_size": ed.encrypted_size,
        "recipients": recipients,
    })
}

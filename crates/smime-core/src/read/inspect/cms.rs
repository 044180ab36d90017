//! The CMS side of an inspection: a part's ContentInfo, decoded without any key.

use cms::authenveloped_data::AuthEnvelopedData;
use cms::cert::{CertificateChoices, IssuerAndSerialNumber};
use cms::content_info::ContentInfo;
use cms::enveloped_data::{
    EncryptedContentInfo, EnvelopedData, KeyAgreeRecipientIdentifier, RecipientIdentifier,
    RecipientInfo, RecipientInfos,
};
use cms::signed_data::{SignedData, SignerIdentifier, SignerInfo};
use const_oid::ObjectIdentifier;
use const_oid::db::rfc5911::{
    ID_CT_AUTH_ENVELOPED_DATA, ID_DATA, ID_ENVELOPED_DATA, ID_SIGNED_DATA,
};
use const_oid::db::rfc6268::{ID_CT_COMPRESSED_DATA, ID_SIGNING_TIME};
use der::asn1::Any;
use der::{Decode, Encode, EncodingRules, Tag, Tagged};
use x509_cert::Certificate;
use x509_cert::ext::pkix::SubjectKeyIdentifier;
use x509_cert::time::Time;

use super::names::named;
use super::{
    AsnEncoding, CertificateEntry, CertificateSummary, CmsContent, CmsKind, CmsLayer, Encapsulated,
    EnvelopedLayer, Identifier, Node, Recipient, SignedLayer, Signer,
};
use crate::read::{decode_lenient_rules, hex, hex_bytes, tlv};

/// Reads the MIME entity that a SignedData encapsulates (`id-data`), at the depth given: the
/// MIME walk hands itself in, so that this module need not know it.
pub(super) type EntityReader = fn(&[u8], usize) -> Option<Node>;

/// The CMS structure `der` of a part whose `smime-type` parameter is `declared`, at `depth`:
/// the layer, or why its ContentInfo cannot be read. Encapsulated MIME is read by `entity`.
pub(super) fn layer(
    der: &[u8],
    declared: Option<&str>,
    depth: usize,
    entity: EntityReader,
) -> Result<CmsLayer, String> {
    if der.is_empty() {
        return Err("empty body".to_owned());
    }
    let (info, rules) = decode_lenient_rules::<ContentInfo>(der)
        .map_err(|e| format!("not a CMS ContentInfo: {e}"))?;
    let kind = kind_of(&info.content_type);
    let smime_type_mismatch = match (declared, kind.smime_type()) {
        (Some(declared), Some(found)) => {
            let certs_only = declared.eq_ignore_ascii_case("certs-only") && kind == CmsKind::Signed;
            (!declared.eq_ignore_ascii_case(found) && !certs_only).then(|| declared.to_owned())
        }
        _ => None,
    };
    let unreadable = |what: &str, e: der::Error| CmsContent::Unreadable {
        reason: format!("{what}: {e}"),
    };
    let content = match kind {
        CmsKind::Signed => match info.content.decode_as_encoding::<SignedData>(rules) {
            Ok(sd) => CmsContent::Signed(signed(&sd, rules, depth, entity)),
            Err(e) => unreadable("signed-data", e),
        },
        CmsKind::Enveloped => match info.content.decode_as_encoding::<EnvelopedData>(rules) {
            Ok(ed) => CmsContent::Enveloped(enveloped(&ed.encrypted_content, &ed.recip_infos)),
            Err(e) => unreadable("enveloped-data", e),
        },
        CmsKind::AuthEnveloped => {
            match info.content.decode_as_encoding::<AuthEnvelopedData>(rules) {
                Ok(ad) => CmsContent::Enveloped(enveloped(
                    &ad.auth_encrypted_content_info,
                    &ad.recip_infos,
                )),
                Err(e) => unreadable("authEnveloped-data", e),
            }
        }
        CmsKind::Compressed | CmsKind::Other => CmsContent::NotShown,
    };
    Ok(CmsLayer {
        kind,
        content_type: named(&info.content_type),
        encoding: match rules {
            EncodingRules::Der => AsnEncoding::Der,
            _ => AsnEncoding::Ber,
        },
        smime_type_mismatch,
        content,
    })
}

fn kind_of(oid: &ObjectIdentifier) -> CmsKind {
    match *oid {
        ID_SIGNED_DATA => CmsKind::Signed,
        ID_ENVELOPED_DATA => CmsKind::Enveloped,
        ID_CT_AUTH_ENVELOPED_DATA => CmsKind::AuthEnveloped,
        ID_CT_COMPRESSED_DATA => CmsKind::Compressed,
        _ => CmsKind::Other,
    }
}

fn enveloped(content: &EncryptedContentInfo, recipients: &RecipientInfos) -> EnvelopedLayer {
    EnvelopedLayer {
        content_encryption: named(&content.content_enc_alg.oid),
        recipients: recipient_list(recipients),
        encrypted_size: content
            .encrypted_content
            .as_ref()
            .map(|c| c.as_bytes().len()),
    }
}

/// Every recipient: who (issuer and serial, or key id) and how the key travels.
fn recipient_list(infos: &RecipientInfos) -> Vec<Recipient> {
    let mut out = Vec::new();
    for info in infos.0.iter() {
        match info {
            RecipientInfo::Ktri(k) => out.push(Recipient::KeyTransport {
                id: match &k.rid {
                    RecipientIdentifier::IssuerAndSerialNumber(ias) => issuer_serial(ias),
                    RecipientIdentifier::SubjectKeyIdentifier(ski) => key_id(ski),
                },
                algorithm: named(&k.key_enc_alg.oid),
            }),
            RecipientInfo::Kari(k) => {
                for key in k.recipient_enc_keys.iter() {
                    out.push(Recipient::KeyAgreement {
                        id: match &key.rid {
                            KeyAgreeRecipientIdentifier::IssuerAndSerialNumber(ias) => {
                                issuer_serial(ias)
                            }
                            KeyAgreeRecipientIdentifier::RKeyId(r) => {
                                key_id(&r.subject_key_identifier)
                            }
                        },
                        algorithm: named(&k.key_enc_alg.oid),
                    });
                }
            }
            RecipientInfo::Kekri(k) => out.push(Recipient::Kek {
                key_id: hex_bytes(k.kek_id.kek_identifier.as_bytes()),
                algorithm: named(&k.key_enc_alg.oid),
            }),
            RecipientInfo::Pwri(p) => out.push(Recipient::Password {
                algorithm: named(&p.key_enc_alg.oid),
            }),
            RecipientInfo::Ori(o) => out.push(Recipient::Other {
                kind: named(&o.ori_type),
            }),
        }
    }
    out
}

fn signed(
    sd: &SignedData,
    rules: EncodingRules,
    depth: usize,
    entity: EntityReader,
) -> SignedLayer {
    SignedLayer {
        digest_algorithms: sd.digest_algorithms.iter().map(|a| named(&a.oid)).collect(),
        certificates: sd
            .certificates
            .iter()
            .flat_map(|c| c.0.iter())
            .map(|choice| match choice {
                CertificateChoices::Certificate(c) => CertificateEntry::X509(certificate(c)),
                CertificateChoices::Other(o) => CertificateEntry::Other {
                    format: named(&o.other_cert_format),
                },
            })
            .collect(),
        signers: sd.signer_infos.0.iter().map(signer).collect(),
        content: encapsulated(sd, rules, depth, entity),
    }
}

fn certificate(cert: &Certificate) -> CertificateSummary {
    let tbs = cert.tbs_certificate();
    let mut email_addresses: Vec<String> = Vec::new();
    for address in crate::keys::certcheck::addresses(cert) {
        if !email_addresses
            .iter()
            .any(|a| a.eq_ignore_ascii_case(&address))
        {
            email_addresses.push(address);
        }
    }
    CertificateSummary {
        subject: tbs.subject().to_string(),
        issuer: tbs.issuer().to_string(),
        serial: serial(tbs.serial_number().as_bytes()),
        email_addresses,
    }
}

fn signer(info: &SignerInfo) -> Signer {
    Signer {
        id: match &info.sid {
            SignerIdentifier::IssuerAndSerialNumber(ias) => issuer_serial(ias),
            SignerIdentifier::SubjectKeyIdentifier(ski) => key_id(ski),
        },
        digest: named(&info.digest_alg.oid),
        signature: named(&info.signature_algorithm.oid),
        signing_time: signing_time(info),
    }
}

/// The signingTime signed attribute (RFC 5652 §11.3), when present and readable.
fn signing_time(signer: &SignerInfo) -> Option<String> {
    let attr = signer
        .signed_attrs
        .as_ref()?
        .iter()
        .find(|a| a.oid == ID_SIGNING_TIME)?;
    let value = attr.values.iter().next()?;
    let time = Time::from_der(&value.to_der().ok()?).ok()?;
    Some(time.to_string())
}

/// The encapsulated content and, for `id-data`, the tree of the MIME entity it holds.
fn encapsulated(
    sd: &SignedData,
    rules: EncodingRules,
    depth: usize,
    read_entity: EntityReader,
) -> Encapsulated {
    let encap = &sd.encap_content_info;
    let Some(econtent) = &encap.econtent else {
        return Encapsulated::Detached;
    };
    let bytes = match econtent_bytes(econtent, rules) {
        Ok(b) => b,
        Err(e) => {
            return Encapsulated::Unreadable {
                reason: format!("encapsulated content: {e}"),
            };
        }
    };
    let content_type = named(&encap.econtent_type);
    let (entity, unreadable) = if encap.econtent_type == ID_DATA {
        match read_entity(&bytes, depth + 1) {
            Some(node) => (Some(Box::new(node)), None),
            None => (
                None,
                Some("the encapsulated content is not a MIME entity".to_owned()),
            ),
        }
    } else {
        (None, None)
    };
    Encapsulated::Content {
        content_type,
        size: bytes.len(),
        entity,
        unreadable,
    }
}

/// The bytes of an eContent OCTET STRING. BER may split it into segments (a constructed
/// string); the decoder then keeps the segments' encoding as the value, which is joined here.
fn econtent_bytes(econtent: &Any, rules: EncodingRules) -> Result<Vec<u8>, der::Error> {
    if econtent.tag() != Tag::OctetString {
        return Err(econtent
            .tag()
            .unexpected_error(Some(Tag::OctetString))
            .into());
    }
    let value = econtent.value();
    if rules == EncodingRules::Ber
        && let Some(joined) = tlv::join_segments(value)
    {
        return Ok(joined);
    }
    Ok(value.to_vec())
}

fn issuer_serial(ias: &IssuerAndSerialNumber) -> Identifier {
    Identifier::IssuerSerial {
        issuer: ias.issuer.to_string(),
        serial: serial(ias.serial_number.as_bytes()),
    }
}

fn key_id(ski: &SubjectKeyIdentifier) -> Identifier {
    Identifier::SubjectKeyId(hex_bytes(ski.0.as_bytes()))
}

/// A serial number in hex, without the leading zero bytes of its encoding; `0` for zero.
pub(super) fn serial(bytes: &[u8]) -> String {
    if bytes.iter().all(|&b| b == 0) {
        "0".to_owned()
    } else {
        hex(bytes)
    }
}

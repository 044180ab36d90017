//! SignedData (RFC 5652 §5): taking it apart and checking each signature.
//!
//! What is checked: the messageDigest attribute against the SHA-256 or SHA-384 of the content
//! (as the digestAlgorithm says), the contentType attribute against the encapsulated content
//! type, and the signature over the signed attributes (the bytes as received, tag switched to
//! SET) with the certificate the SignerIdentifier names: RSA PKCS#1 v1.5 with SHA-256, or
//! ECDSA (`ecdsa-with-SHA256`, `ecdsa-with-SHA384`) on P-256 or P-384. What is not: whether
//! that certificate chains to a trusted root, is within its dates, or is allowed to sign mail.

use cms::cert::CertificateChoices;
use cms::signed_data::{SignerIdentifier, SignerInfo};
use const_oid::ObjectIdentifier;
use const_oid::db::rfc5911::{ID_CONTENT_TYPE, ID_DATA, ID_MESSAGE_DIGEST};
use const_oid::db::rfc5912::{
    ECDSA_WITH_SHA_256, ECDSA_WITH_SHA_384, ID_SHA_256, ID_SHA_384, RSA_ENCRYPTION,
    SHA_256_WITH_RSA_ENCRYPTION,
};
use const_oid::db::rfc6268::ID_SIGNING_TIME;
use der::asn1::{Any, OctetString};
use der::{Decode, Encode};
use sha2::{Digest, Sha256, Sha384};
use signature::hazmat::PrehashVerifier;
use x509_cert::Certificate;
use x509_cert::ext::pkix::SubjectKeyIdentifier;
use x509_cert::time::Time;

use super::tlv::Tlv;
use super::{ReadError, SignerSummary, decode_lenient, malformed};
use crate::keys::certcheck::EcVerifyingKey;

pub(super) use crate::limits::{MAX_CERTIFICATES, MAX_SIGNERS};

/// A SignedData, taken apart.
#[derive(Debug)]
pub(super) struct ParsedSigned {
    /// The encapsulated content type.
    pub(super) econtent_type: ObjectIdentifier,
    /// The encapsulated content (`None`: detached).
    pub(super) content: Option<Vec<u8>>,
    /// The certificates carried.
    pub(super) certificates: Vec<Certificate>,
    /// The signers, in the order they appear.
    pub(super) signers: Vec<ParsedSigner>,
}

/// One SignerInfo and the exact bytes its signature covers.
#[derive(Debug)]
pub(super) struct ParsedSigner {
    info: SignerInfo,
    /// The signed attributes as received, re-tagged as SET OF (`None` without attributes).
    signed_attrs: Option<Vec<u8>>,
}

impl ParsedSigner {
    /// Whom the signature names.
    pub(super) fn sid(&self) -> &SignerIdentifier {
        &self.info.sid
    }
}

/// Takes apart the SignedData `sd` (the SEQUENCE inside the ContentInfo).
pub(super) fn parse(sd: &Tlv<'_>, layer: usize) -> Result<ParsedSigned, ReadError> {
    let bad = |reason: &dyn std::fmt::Display| malformed(layer, "SignedData", reason);
    let fields = sd.children().map_err(|e| bad(&e))?;
    let mut it = fields.iter().peekable();
    // version, digestAlgorithms
    it.next()
        .filter(|t| t.tag == 0x02)
        .ok_or_else(|| bad(&"no version"))?;
    it.next()
        .filter(|t| t.tag == 0x31)
        .ok_or_else(|| bad(&"no digestAlgorithms"))?;
    let encap = it
        .next()
        .filter(|t| t.tag == 0x30)
        .ok_or_else(|| bad(&"no encapContentInfo"))?;
    let (econtent_type, content) = encapsulated(encap, layer)?;
    let mut certificates = Vec::new();
    if let Some(certs) = it.next_if(|t| t.tag == 0xa0) {
        for choice in certs.children().map_err(|e| bad(&e))? {
            // Only plain certificates; other CertificateChoices are skipped.
            if choice.tag != 0x30 {
                continue;
            }
            if certificates.len() >= MAX_CERTIFICATES {
                return Err(ReadError::Unsupported {
                    layer,
                    what: "SignedData",
                    detail: format!("more than {MAX_CERTIFICATES} certificates"),
                });
            }
            let cert = decode_lenient::<CertificateChoices>(choice.raw)
                .map_err(|e| malformed(layer, "certificate", &e))?;
            if let CertificateChoices::Certificate(c) = cert {
                certificates.push(c);
            }
        }
    }
    // crls
    let _ = it.next_if(|t| t.tag == 0xa1);
    let infos = it
        .next()
        .filter(|t| t.tag == 0x31)
        .ok_or_else(|| bad(&"no signerInfos"))?;
    if it.next().is_some() {
        return Err(bad(&"unexpected fields after signerInfos"));
    }
    let mut signers = Vec::new();
    for si in infos.children().map_err(|e| bad(&e))? {
        if signers.len() >= MAX_SIGNERS {
            return Err(ReadError::Unsupported {
                layer,
                what: "SignedData",
                detail: format!("more than {MAX_SIGNERS} signers"),
            });
        }
        signers.push(signer(&si, layer)?);
    }
    Ok(ParsedSigned {
        econtent_type,
        content,
        certificates,
        signers,
    })
}

/// EncapsulatedContentInfo: the content type and, unless detached, the content.
fn encapsulated(
    encap: &Tlv<'_>,
    layer: usize,
) -> Result<(ObjectIdentifier, Option<Vec<u8>>), ReadError> {
    let bad = |reason: &dyn std::fmt::Display| malformed(layer, "encapContentInfo", reason);
    let parts = encap.children().map_err(|e| bad(&e))?;
    let oid = parts
        .first()
        .filter(|t| t.tag == 0x06)
        .ok_or_else(|| bad(&"no content type"))?;
    let oid = ObjectIdentifier::from_der(oid.raw).map_err(|e| bad(&e))?;
    let content = match parts.get(1) {
        None => None,
        Some(explicit) if explicit.tag == 0xa0 => {
            let inner = explicit.children().map_err(|e| bad(&e))?;
            match inner.as_slice() {
                [octets] if octets.tag & !0x20 == 0x04 => {
                    Some(octets.octets().map_err(|e| bad(&e))?)
                }
                _ => return Err(bad(&"eContent is not one OCTET STRING")),
            }
        }
        Some(_) => return Err(bad(&"unexpected field")),
    };
    if parts.len() > 2 {
        return Err(bad(&"unexpected fields"));
    }
    Ok((oid, content))
}

fn signer(si: &Tlv<'_>, layer: usize) -> Result<ParsedSigner, ReadError> {
    let info =
        decode_lenient::<SignerInfo>(si.raw).map_err(|e| malformed(layer, "SignerInfo", &e))?;
    // The signed attributes as received: the fourth field when it is [0].
    let fields = si
        .children()
        .map_err(|e| malformed(layer, "SignerInfo", &e))?;
    let signed_attrs = match fields.get(3) {
        Some(attrs) if attrs.tag == 0xa0 && !attrs.indefinite => {
            let mut raw = attrs.raw.to_vec();
            if let Some(first) = raw.first_mut() {
                *first = 0x31;
            }
            Some(raw)
        }
        // BER (indefinite length): no DER bytes to go by; the DER re-encoding is what a DER
        // signer signed.
        Some(attrs) if attrs.tag == 0xa0 => match &info.signed_attrs {
            Some(a) => Some(
                a.to_der()
                    .map_err(|e| malformed(layer, "signed attributes", &e))?,
            ),
            None => None,
        },
        _ => None,
    };
    if signed_attrs.is_some() != info.signed_attrs.is_some() {
        return Err(malformed(layer, "SignerInfo", &"signed attributes"));
    }
    Ok(ParsedSigner { info, signed_attrs })
}

/// Which certificate a SignerIdentifier names, for messages.
pub(super) fn describe_sid(sid: &SignerIdentifier) -> String {
    match sid {
        SignerIdentifier::IssuerAndSerialNumber(ias) => format!(
            "issuer \"{}\" serial {}",
            ias.issuer,
            super::hex(ias.serial_number.as_bytes())
        ),
        SignerIdentifier::SubjectKeyIdentifier(ski) => {
            format!("subject key id {}", super::hex(ski.0.as_bytes()))
        }
    }
}

fn find_cert<'c>(certs: &'c [Certificate], sid: &SignerIdentifier) -> Option<&'c Certificate> {
    certs.iter().find(|c| match sid {
        SignerIdentifier::IssuerAndSerialNumber(ias) => {
            c.tbs_certificate().issuer() == &ias.issuer
                && c.tbs_certificate().serial_number() == &ias.serial_number
        }
        SignerIdentifier::SubjectKeyIdentifier(ski) => {
            matches!(c.tbs_certificate().get_extension::<SubjectKeyIdentifier>(),
                Ok(Some((_, own))) if own.0 == ski.0)
        }
    })
}

/// The single value of attribute `oid`, if present; an error when it occurs more than once
/// or has other than one value.
fn attribute(
    info: &SignerInfo,
    oid: ObjectIdentifier,
    layer: usize,
) -> Result<Option<&Any>, ReadError> {
    let mut found = info
        .signed_attrs
        .iter()
        .flat_map(|set| set.iter())
        .filter(|a| a.oid == oid);
    let Some(attr) = found.next() else {
        return Ok(None);
    };
    if found.next().is_some() || attr.values.len() != 1 {
        return Err(malformed(
            layer,
            "signed attributes",
            &format!("attribute {oid} must occur once with one value"),
        ));
    }
    Ok(attr.values.iter().next())
}

/// Verifies every signer over `content` (the encapsulated content, or the detached one).
pub(super) fn verify(
    parsed: &ParsedSigned,
    content: &[u8],
    layer: usize,
) -> Result<Vec<SignerSummary>, ReadError> {
    if parsed.signers.is_empty() {
        return Err(malformed(layer, "SignedData", &"no signers"));
    }
    if parsed.econtent_type != ID_DATA {
        return Err(ReadError::Unsupported {
            layer,
            what: "signed content type",
            detail: parsed.econtent_type.to_string(),
        });
    }
    // The content's digests, each computed once (signers usually share one).
    let mut sha256 = None;
    let mut sha384 = None;
    let mut out = Vec::with_capacity(parsed.signers.len());
    for s in &parsed.signers {
        let info = &s.info;
        let who = describe_sid(&info.sid);
        let digest: &[u8] = match info.digest_alg.oid {
            ID_SHA_256 => sha256.get_or_insert_with(|| Sha256::digest(content).to_vec()),
            ID_SHA_384 => sha384.get_or_insert_with(|| Sha384::digest(content).to_vec()),
            other => {
                return Err(ReadError::Unsupported {
                    layer,
                    what: "digest algorithm",
                    detail: super::oid_name(&other),
                });
            }
        };
        let sig_alg = info.signature_algorithm.oid;
        let ecdsa = match sig_alg {
            RSA_ENCRYPTION | SHA_256_WITH_RSA_ENCRYPTION => false,
            ECDSA_WITH_SHA_256 | ECDSA_WITH_SHA_384 => true,
            _ => {
                return Err(ReadError::Unsupported {
                    layer,
                    what: "signature algorithm",
                    detail: super::oid_name(&sig_alg),
                });
            }
        };
        let cert = find_cert(&parsed.certificates, &info.sid).ok_or_else(|| {
            ReadError::SignerNotFound {
                layer,
                signer: who.clone(),
            }
        })?;
        let public = signer_key(cert, ecdsa).ok_or_else(|| ReadError::Unsupported {
            layer,
            what: "signer key",
            detail: if ecdsa {
                format!("{who}: not a usable EC public key on P-256 or P-384")
            } else {
                format!("{who}: not a usable RSA public key")
            },
        })?;
        let mut signing_time = None;
        let signed: &[u8] = match &s.signed_attrs {
            Some(attrs) => {
                let ct = attribute(info, ID_CONTENT_TYPE, layer)?
                    .ok_or_else(|| malformed(layer, "signed attributes", &"no contentType"))?;
                let ct = ct
                    .decode_as::<ObjectIdentifier>()
                    .map_err(|e| malformed(layer, "contentType attribute", &e))?;
                if ct != parsed.econtent_type {
                    return Err(malformed(
                        layer,
                        "signed attributes",
                        &"contentType differs from the content's type",
                    ));
                }
                let md = attribute(info, ID_MESSAGE_DIGEST, layer)?
                    .ok_or_else(|| malformed(layer, "signed attributes", &"no messageDigest"))?;
                let md = md
                    .decode_as::<OctetString>()
                    .map_err(|e| malformed(layer, "messageDigest attribute", &e))?;
                if md.as_bytes() != digest {
                    return Err(ReadError::DigestMismatch { layer, signer: who });
                }
                if let Some(t) = attribute(info, ID_SIGNING_TIME, layer)? {
                    let t = t
                        .decode_as::<Time>()
                        .map_err(|e| malformed(layer, "signingTime attribute", &e))?;
                    signing_time = Some(t.to_system_time());
                }
                attrs
            }
            None => content,
        };
        if !public.verify(sig_alg, signed, info.signature.as_bytes()) {
            return Err(ReadError::BadSignature {
                layer,
                signer: who.clone(),
            });
        }
        out.push(SignerSummary::new(cert, signing_time));
    }
    Ok(out)
}

/// A signer certificate's public key, of the kind its signatureAlgorithm needs.
enum SignerKey {
    Rsa(rsa::PublicKey),
    P256(p256::ecdsa::VerifyingKey),
    P384(p384::ecdsa::VerifyingKey),
}

/// The public key of `cert`: RSA, or (`ecdsa`) EC on P-256 or P-384; `None` when it is not
/// such a key.
fn signer_key(cert: &Certificate, ecdsa: bool) -> Option<SignerKey> {
    if !ecdsa {
        return crate::keys::certcheck::rsa_public_key_unchecked(cert).map(SignerKey::Rsa);
    }
    match crate::keys::certcheck::ec_verifying_key(cert)? {
        EcVerifyingKey::P256(key) => Some(SignerKey::P256(key)),
        EcVerifyingKey::P384(key) => Some(SignerKey::P384(key)),
    }
}

impl SignerKey {
    /// True when `signature` (PKCS#1 v1.5, or DER `ECDSA-Sig-Value`) is good over `signed`
    /// with `sig_alg`'s hash.
    fn verify(&self, sig_alg: ObjectIdentifier, signed: &[u8], signature: &[u8]) -> bool {
        let prehash = || match sig_alg {
            ECDSA_WITH_SHA_384 => Sha384::digest(signed).to_vec(),
            _ => Sha256::digest(signed).to_vec(),
        };
        match self {
            SignerKey::Rsa(key) => key.pkcs1v15_verify::<Sha256>(signed, signature).is_ok(),
            SignerKey::P256(key) => p256::ecdsa::DerSignature::from_bytes(signature)
                .is_ok_and(|sig| key.verify_prehash(&prehash(), &sig).is_ok()),
            SignerKey::P384(key) => p384::ecdsa::DerSignature::from_bytes(signature)
                .is_ok_and(|sig| key.verify_prehash(&prehash(), &sig).is_ok()),
        }
    }
}

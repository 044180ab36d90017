//! EnvelopedData (RFC 5652 §6): taking it apart, finding our KeyTransRecipientInfo, unwrapping
//! the content-encryption key (RSA PKCS#1 v1.5, implicit rejection) and decrypting AES-CBC.

use aes::cipher::{BlockModeDecrypt, KeyIvInit, block_padding::Pkcs7};
use cms::enveloped_data::{RecipientIdentifier, RecipientInfo};
use const_oid::ObjectIdentifier;
use const_oid::db::rfc5911::{ID_AES_128_CBC, ID_AES_256_CBC, ID_DATA};
use const_oid::db::rfc5912::RSA_ENCRYPTION;
use der::Decode;
use der::asn1::OctetString;
use spki::AlgorithmIdentifierOwned;
use x509_cert::Certificate;
use x509_cert::ext::pkix::SubjectKeyIdentifier;
use zeroize::Zeroizing;

use super::tlv::Tlv;
use super::{ReadError, RecipientKeyPair, decode_lenient, malformed};
use crate::build::Cipher;

pub(super) use crate::limits::MAX_RECIPIENTS;

/// An EnvelopedData, taken apart.
#[derive(Debug)]
pub(super) struct ParsedEnveloped {
    /// Every RecipientInfo.
    pub(super) recipients: Vec<RecipientInfo>,
    /// The type of what is encrypted.
    pub(super) content_type: ObjectIdentifier,
    /// The content-encryption algorithm.
    pub(super) algorithm: AlgorithmIdentifierOwned,
    /// The ciphertext (`None` when absent: carried elsewhere, which S/MIME never does).
    pub(super) encrypted: Option<Vec<u8>>,
}

impl ParsedEnveloped {
    /// The cipher, when it is one we support.
    pub(super) fn cipher(&self) -> Option<Cipher> {
        match self.algorithm.oid {
            ID_AES_256_CBC => Some(Cipher::Aes256Cbc),
            ID_AES_128_CBC => Some(Cipher::Aes128Cbc),
            _ => None,
        }
    }
}

/// Takes apart the EnvelopedData `ed` (the SEQUENCE inside the ContentInfo).
pub(super) fn parse(ed: &Tlv<'_>, layer: usize) -> Result<ParsedEnveloped, ReadError> {
    let bad = |reason: &dyn std::fmt::Display| malformed(layer, "EnvelopedData", reason);
    let fields = ed.children().map_err(|e| bad(&e))?;
    let mut it = fields.iter().peekable();
    it.next()
        .filter(|t| t.tag == 0x02)
        .ok_or_else(|| bad(&"no version"))?;
    // originatorInfo
    let _ = it.next_if(|t| t.tag == 0xa0);
    let infos = it
        .next()
        .filter(|t| t.tag == 0x31)
        .ok_or_else(|| bad(&"no recipientInfos"))?;
    let eci = it
        .next()
        .filter(|t| t.tag == 0x30)
        .ok_or_else(|| bad(&"no encryptedContentInfo"))?;
    // unprotectedAttrs
    let _ = it.next_if(|t| t.tag == 0xa1);
    if it.next().is_some() {
        return Err(bad(&"unexpected fields"));
    }
    let mut recipients = Vec::new();
    for ri in infos.children().map_err(|e| bad(&e))? {
        if recipients.len() >= MAX_RECIPIENTS {
            return Err(ReadError::Unsupported {
                layer,
                what: "EnvelopedData",
                detail: format!("more than {MAX_RECIPIENTS} recipients"),
            });
        }
        recipients.push(
            decode_lenient::<RecipientInfo>(ri.raw)
                .map_err(|e| malformed(layer, "RecipientInfo", &e))?,
        );
    }

    let bad = |reason: &dyn std::fmt::Display| malformed(layer, "encryptedContentInfo", reason);
    let parts = eci.children().map_err(|e| bad(&e))?;
    let (oid, alg, rest) = match parts.as_slice() {
        [oid, alg, rest @ ..] if oid.tag == 0x06 && alg.tag == 0x30 => (oid, alg, rest),
        _ => return Err(bad(&"no content type and algorithm")),
    };
    let content_type = ObjectIdentifier::from_der(oid.raw).map_err(|e| bad(&e))?;
    let algorithm = decode_lenient::<AlgorithmIdentifierOwned>(alg.raw).map_err(|e| bad(&e))?;
    let encrypted = match rest {
        [] => None,
        // [0] IMPLICIT OCTET STRING, primitive or segmented.
        [c] if c.tag & !0x20 == 0x80 => Some(c.octets().map_err(|e| bad(&e))?),
        _ => return Err(bad(&"unexpected fields")),
    };
    Ok(ParsedEnveloped {
        recipients,
        content_type,
        algorithm,
        encrypted,
    })
}

fn names(rid: &RecipientIdentifier, cert: &Certificate) -> bool {
    match rid {
        RecipientIdentifier::IssuerAndSerialNumber(ias) => {
            cert.tbs_certificate().issuer() == &ias.issuer
                && cert.tbs_certificate().serial_number() == &ias.serial_number
        }
        RecipientIdentifier::SubjectKeyIdentifier(ski) => {
            matches!(cert.tbs_certificate().get_extension::<SubjectKeyIdentifier>(),
                Ok(Some((_, own))) if own.0 == ski.0)
        }
    }
}

/// Which certificate a RecipientInfo names, for messages.
pub(super) fn describe(ri: &RecipientInfo) -> String {
    match ri {
        RecipientInfo::Ktri(k) => match &k.rid {
            RecipientIdentifier::IssuerAndSerialNumber(ias) => format!(
                "issuer \"{}\" serial {}",
                ias.issuer,
                super::hex(ias.serial_number.as_bytes())
            ),
            RecipientIdentifier::SubjectKeyIdentifier(ski) => {
                format!("subject key id {}", super::hex(ski.0.as_bytes()))
            }
        },
        RecipientInfo::Kari(_) => "a key-agreement recipient".to_owned(),
        RecipientInfo::Kekri(_) => "a key-encryption-key recipient".to_owned(),
        RecipientInfo::Pwri(_) => "a password recipient".to_owned(),
        RecipientInfo::Ori(_) => "another kind of recipient".to_owned(),
    }
}

/// Decrypts with the first of `keys` that the message is encrypted to.
pub(super) fn decrypt(
    parsed: &ParsedEnveloped,
    keys: &[RecipientKeyPair],
    layer: usize,
) -> Result<(Vec<u8>, Cipher), ReadError> {
    let cipher = parsed.cipher().ok_or_else(|| ReadError::Unsupported {
        layer,
        what: "content-encryption algorithm",
        detail: super::oid_name(&parsed.algorithm.oid),
    })?;
    if parsed.content_type != ID_DATA {
        return Err(ReadError::Unsupported {
            layer,
            what: "encrypted content type",
            detail: parsed.content_type.to_string(),
        });
    }
    let iv = parsed
        .algorithm
        .parameters
        .as_ref()
        .and_then(|p| p.decode_as::<OctetString>().ok())
        .filter(|iv| iv.as_bytes().len() == 16)
        .ok_or_else(|| malformed(layer, "content-encryption algorithm", &"no 16-byte IV"))?;
    let ciphertext = parsed
        .encrypted
        .as_deref()
        .ok_or_else(|| malformed(layer, "encryptedContentInfo", &"no encrypted content"))?;
    if keys.is_empty() {
        return Err(ReadError::NoRecipientKey { layer });
    }
    let found = keys.iter().find_map(|k| {
        parsed.recipients.iter().find_map(|ri| match ri {
            RecipientInfo::Ktri(ktri) if names(&ktri.rid, &k.cert) => Some((k, ktri)),
            _ => None,
        })
    });
    let Some((key, ktri)) = found else {
        return Err(ReadError::NotARecipient {
            layer,
            given: keys
                .iter()
                .map(|k| super::describe_cert(&k.cert))
                .collect::<Vec<_>>()
                .join("; "),
            recipients: parsed
                .recipients
                .iter()
                .take(8)
                .map(describe)
                .collect::<Vec<_>>()
                .join("; "),
        });
    };
    if ktri.key_enc_alg.oid != RSA_ENCRYPTION {
        return Err(ReadError::Unsupported {
            layer,
            what: "key-encryption algorithm",
            detail: super::oid_name(&ktri.key_enc_alg.oid),
        });
    }
    // Implicit rejection: a bad padding yields a synthetic key rather than an error, so the
    // failure (if any) shows up below as a wrong length or a bad CBC padding.
    let cek = Zeroizing::new(
        key.key
            .pkcs1v15_decrypt_with_rng(&mut getrandom::SysRng, ktri.enc_key.as_bytes())
            .map_err(|_| ReadError::Decrypt {
                layer,
                reason: "the content-encryption key cannot be unwrapped",
            })?,
    );
    let fail = || ReadError::Decrypt {
        layer,
        reason: "the content cannot be decrypted",
    };
    let iv = iv.as_bytes();
    let plain = match cipher {
        Cipher::Aes256Cbc => cbc::Decryptor::<aes::Aes256>::new_from_slices(&cek, iv)
            .map_err(|_| fail())?
            .decrypt_padded_vec::<Pkcs7>(ciphertext),
        Cipher::Aes128Cbc => cbc::Decryptor::<aes::Aes128>::new_from_slices(&cek, iv)
            .map_err(|_| fail())?
            .decrypt_padded_vec::<Pkcs7>(ciphertext),
    }
    .map_err(|_| fail())?;
    Ok((plain, cipher))
}

//! Assembling the CMS structures ourselves from the `cms` crate's types: SignedData
//! (RFC 5652 §5) and EnvelopedData (§6). Writing them directly, rather than through the
//! crate's builders, keeps the signing key behind our [`SigningKey`] seam, keeps every error's
//! cause, and wipes the content-encryption key on every path.
//!
//! The large content (the message) is never part of a DER value: each function returns the DER
//! that goes before it (and after it), framed by hand with [`der_frame`](super::der_frame), and the caller
//! base64-encodes the pieces in order. The bytes are those a plain `to_der()` of the whole
//! ContentInfo would give (the golden tests pin them).
//!
//! [`SigningKey`]: crate::SigningKey

use std::time::SystemTime;

use aes::cipher::{BlockModeEncrypt, KeyIvInit, block_padding::Pkcs7};
use cms::cert::CertificateChoices;
use cms::content_info::CmsVersion;
use cms::enveloped_data::{
    KeyAgreeRecipientIdentifier, KeyAgreeRecipientInfo, KeyTransRecipientInfo,
    OriginatorIdentifierOrKey, OriginatorPublicKey, RecipientEncryptedKey, RecipientIdentifier,
    RecipientInfo,
};
use cms::signed_data::{CertificateSet, SignerIdentifier, SignerInfo, SignerInfos};
use const_oid::db::rfc5911::SMIME_CAPABILITIES as ID_AA_SMIME_CAPABILITIES;
use const_oid::db::rfc5911::{ID_DATA, ID_ENVELOPED_DATA, ID_SIGNED_DATA};
use const_oid::db::rfc5912::{ID_EC_PUBLIC_KEY, RSA_ENCRYPTION};
use const_oid::db::rfc6268::ID_SIGNING_TIME;
use der::Encode;
use der::asn1::{Any, BitString, Null, OctetString, SetOfVec};
use rand_core::CryptoRng;
use spki::AlgorithmIdentifierOwned;
use x509_cert::attr::Attribute;
use x509_cert::time::Time;
use zeroize::Zeroizing;

use super::der_frame::{
    CONTEXT_0, CONTEXT_0_PRIMITIVE, OCTET_STRING, SEQUENCE, SET, header, tlv_len,
};
use super::error::ProtectError;
use crate::keys::{RecipientKey, SignatureAlgorithm, Signer, WrappedKey};

/// The content-encryption algorithm of an EnvelopedData.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Cipher {
    /// AES-256-CBC, the default every client reads.
    #[default]
    Aes256Cbc,
    /// AES-128-CBC.
    Aes128Cbc,
}

impl Cipher {
    fn oid(self) -> der::oid::ObjectIdentifier {
        match self {
            Cipher::Aes256Cbc => const_oid::db::rfc5911::ID_AES_256_CBC,
            Cipher::Aes128Cbc => const_oid::db::rfc5911::ID_AES_128_CBC,
        }
    }
    fn key_len(self) -> usize {
        match self {
            Cipher::Aes256Cbc => 32,
            Cipher::Aes128Cbc => 16,
        }
    }
}

/// The digest algorithm of a SignerInfo (SHA-256, or SHA-384 for P-384 keys).
fn digest_id(algorithm: SignatureAlgorithm) -> AlgorithmIdentifierOwned {
    // RFC 5754 §2: the parameters SHOULD be absent.
    AlgorithmIdentifierOwned {
        oid: algorithm.digest_oid(),
        parameters: None,
    }
}

fn attribute(oid: der::oid::ObjectIdentifier, value: Any) -> Result<Attribute, der::Error> {
    Ok(Attribute {
        oid,
        values: SetOfVec::try_from(vec![value])?,
    })
}

/// SMIMECapabilities (RFC 8551 §2.5.2): what we can read, strongest first.
fn smime_capabilities() -> Result<Attribute, der::Error> {
    let caps: Vec<AlgorithmIdentifierOwned> = [Cipher::Aes256Cbc, Cipher::Aes128Cbc]
        .iter()
        .map(|c| AlgorithmIdentifierOwned {
            oid: c.oid(),
            parameters: None,
        })
        .collect();
    attribute(ID_AA_SMIME_CAPABILITIES, Any::encode_from(&caps)?)
}

/// The DER of a ContentInfo holding SignedData, in two pieces around the content.
pub(crate) struct SignedDer {
    /// Everything before the encapsulated content (all of it when detached).
    pub(crate) head: Vec<u8>,
    /// Everything after the encapsulated content (empty when detached).
    pub(crate) tail: Vec<u8>,
}

/// Signs `content` and returns the DER of a ContentInfo holding SignedData. With `detached`,
/// the content is left out (multipart/signed) and `head` is the whole structure; otherwise it
/// is encapsulated (opaque) and the structure is `head`, `content`, `tail`. The digest and the
/// signatureAlgorithm are the signing key's ([`SignatureAlgorithm`]): SHA-256 with RSA and
/// P-256, SHA-384 with P-384.
pub(crate) fn signed_data(
    content: &[u8],
    detached: bool,
    signer: &Signer,
    signing_time: SystemTime,
) -> Result<SignedDer, ProtectError> {
    let algorithm = signer.key().algorithm();
    let digest = algorithm.digest(content);
    let time = Time::try_from(signing_time)?;
    let attrs = vec![
        attribute(
            const_oid::db::rfc5911::ID_CONTENT_TYPE,
            Any::encode_from(&ID_DATA)?,
        )?,
        attribute(ID_SIGNING_TIME, Any::encode_from(&time)?)?,
        attribute(
            const_oid::db::rfc5911::ID_MESSAGE_DIGEST,
            Any::encode_from(&OctetString::new(digest.as_slice())?)?,
        )?,
        smime_capabilities()?,
    ];
    // SetOfVec sorts by DER encoding, as DER requires of a SET OF.
    let signed_attrs = SetOfVec::try_from(attrs)?;
    // The signature covers the attributes encoded as a SET (RFC 5652 §5.4).
    let to_sign = signed_attrs.to_der()?;
    let signature = signer
        .key()
        .sign(&to_sign)
        .map_err(|e| ProtectError::Sign {
            address: signer.address().to_owned(),
            reason: e.to_string(),
        })?;

    let signer_info = SignerInfo {
        version: CmsVersion::V1,
        sid: SignerIdentifier::IssuerAndSerialNumber(signer.issuer_and_serial()),
        digest_alg: digest_id(algorithm),
        signed_attrs: Some(signed_attrs),
        signature_algorithm: signer.key().signature_algorithm(),
        signature: OctetString::new(signature)?,
        unsigned_attrs: None,
    };
    // SignedData ::= SEQUENCE { version, digestAlgorithms, encapContentInfo,
    //   certificates [0] IMPLICIT CertificateSet, signerInfos }
    let version = CmsVersion::V1.to_der()?;
    let digest_algorithms = SetOfVec::try_from(vec![digest_id(algorithm)])?.to_der()?;
    let certificates = certificates_der(signer)?;
    let signer_infos = SignerInfos(SetOfVec::try_from(vec![signer_info])?).to_der()?;
    let id_data = ID_DATA.to_der()?;

    // EncapsulatedContentInfo ::= SEQUENCE { eContentType, eContent [0] EXPLICIT OCTET STRING }
    let (econtent_len, eci_len) = if detached {
        (0, id_data.len())
    } else {
        let octets = tlv_len(content.len());
        (content.len(), id_data.len() + tlv_len(octets))
    };
    let sd_len = version.len()
        + digest_algorithms.len()
        + tlv_len(eci_len)
        + certificates.len()
        + signer_infos.len();
    let mut head = Vec::with_capacity(sd_len - econtent_len + 64);
    content_info_header(ID_SIGNED_DATA, sd_len, &mut head)?;
    head.extend_from_slice(&version);
    head.extend_from_slice(&digest_algorithms);
    header(SEQUENCE, eci_len, &mut head);
    head.extend_from_slice(&id_data);
    let mut tail = Vec::with_capacity(certificates.len() + signer_infos.len());
    let after = if detached {
        &mut head
    } else {
        header(CONTEXT_0, tlv_len(content.len()), &mut head);
        header(OCTET_STRING, content.len(), &mut head);
        &mut tail
    };
    after.extend_from_slice(certificates);
    after.extend_from_slice(&signer_infos);
    Ok(SignedDer { head, tail })
}

/// A DER `SET OF` (X.690 §11.6): each element encoded once, the encodings in ascending order.
/// `SetOfVec` sorts by encoding too, but re-encodes both sides of every comparison.
fn set_of_der<T: Encode>(items: &[T]) -> Result<Vec<u8>, der::Error> {
    let mut encoded = items
        .iter()
        .map(Encode::to_der)
        .collect::<Result<Vec<_>, _>>()?;
    encoded.sort();
    let len = encoded.iter().map(Vec::len).sum();
    let mut out = Vec::with_capacity(tlv_len(len));
    header(SET, len, &mut out);
    for e in encoded {
        out.extend_from_slice(&e);
    }
    Ok(out)
}

/// `certificates [0] IMPLICIT CertificateSet`: the signer's certificate and chain, encoded
/// (and sorted, as a DER SET OF is) on the signer's first message and kept.
fn certificates_der(signer: &Signer) -> Result<&[u8], der::Error> {
    if let Some(der) = signer.certificates_der.get() {
        return Ok(der);
    }
    let mut certs = vec![CertificateChoices::Certificate(
        signer.certificate().clone(),
    )];
    certs.extend(
        signer
            .chain()
            .iter()
            .cloned()
            .map(CertificateChoices::Certificate),
    );
    let mut der = CertificateSet(SetOfVec::try_from(certs)?).to_der()?;
    // IMPLICIT [0] replaces the SET tag; the length stays.
    if let Some(tag) = der.first_mut() {
        *tag = CONTEXT_0;
    }
    Ok(signer.certificates_der.get_or_init(|| der))
}

/// `ContentInfo ::= SEQUENCE { contentType, content [0] EXPLICIT }` up to its content, for a
/// content of `len` bytes.
fn content_info_header(
    content_type: der::oid::ObjectIdentifier,
    len: usize,
    out: &mut Vec<u8>,
) -> Result<(), der::Error> {
    let oid = content_type.to_der()?;
    header(SEQUENCE, oid.len() + tlv_len(tlv_len(len)), out);
    out.extend_from_slice(&oid);
    header(CONTEXT_0, tlv_len(len), out);
    header(SEQUENCE, len, out);
    Ok(())
}

/// Encrypts `content` in place for every recipient and returns the DER of a ContentInfo
/// holding EnvelopedData up to the ciphertext, which follows it: the structure is the returned
/// head, then `content` as it is afterwards (RSA PKCS#1 v1.5 key transport or ECDH key
/// agreement per recipient, AES-CBC).
///
/// `content` grows by the padding (1 to 16 bytes): give it the spare capacity to avoid a copy.
pub(crate) fn enveloped_data<R: CryptoRng + ?Sized>(
    content: &mut Vec<u8>,
    recipients: &[std::sync::Arc<RecipientKey>],
    cipher: Cipher,
    rng: &mut R,
) -> Result<Vec<u8>, ProtectError> {
    // Key and IV from one draw: one getrandom call per message instead of two.
    let mut key_and_iv = Zeroizing::new(vec![0u8; cipher.key_len() + 16]);
    rng.fill_bytes(&mut key_and_iv);
    let (cek, iv_bytes) = key_and_iv.split_at(cipher.key_len());
    let mut iv = [0u8; 16];
    iv.copy_from_slice(iv_bytes);

    // Wrap the key for everyone before encrypting, so a refused key leaves `content` alone.
    let infos = recipients
        .iter()
        .map(|r| recipient_info(r, cek, rng))
        .collect::<Result<Vec<_>, _>>()?;

    let encrypted = encrypt_content(cipher, cek, &iv, content);
    drop(key_and_iv);
    let ciphertext_len = encrypted?;

    // EnvelopedData ::= SEQUENCE { version, recipientInfos, encryptedContentInfo }
    // RFC 5652 §6.1: version 0 with only ktri v0 recipients and no originatorInfo or attributes;
    // 2 as soon as one RecipientInfo is of another version (kari is version 3).
    let version = if infos.iter().all(|i| matches!(i, RecipientInfo::Ktri(_))) {
        CmsVersion::V0
    } else {
        CmsVersion::V2
    }
    .to_der()?;
    let recipient_infos = set_of_der(&infos)?;
    // EncryptedContentInfo ::= SEQUENCE { contentType, contentEncryptionAlgorithm,
    //   encryptedContent [0] IMPLICIT OCTET STRING }
    let id_data = ID_DATA.to_der()?;
    let algorithm = AlgorithmIdentifierOwned {
        oid: cipher.oid(),
        parameters: Some(Any::encode_from(&OctetString::new(iv.as_slice())?)?),
    }
    .to_der()?;
    let eci_len = id_data.len() + algorithm.len() + tlv_len(ciphertext_len);
    let ed_len = version.len() + recipient_infos.len() + tlv_len(eci_len);
    let mut head = Vec::with_capacity(ed_len - ciphertext_len + 64);
    content_info_header(ID_ENVELOPED_DATA, ed_len, &mut head)?;
    head.extend_from_slice(&version);
    head.extend_from_slice(&recipient_infos);
    header(SEQUENCE, eci_len, &mut head);
    head.extend_from_slice(&id_data);
    head.extend_from_slice(&algorithm);
    header(CONTEXT_0_PRIMITIVE, ciphertext_len, &mut head);
    Ok(head)
}

/// The RecipientInfo of one recipient, named by issuer and serial number: `cek` encrypted to
/// its RSA key (KeyTransRecipientInfo, PKCS#1 v1.5) or wrapped with a key agreed with its EC key
/// (KeyAgreeRecipientInfo, ECDH ephemeral-static, RFC 5753 §3.1.1: the originator is the
/// ephemeral public key, with id-ecPublicKey and absent parameters as OpenSSL writes it).
fn recipient_info<R: CryptoRng + ?Sized>(
    recipient: &RecipientKey,
    cek: &[u8],
    rng: &mut R,
) -> Result<RecipientInfo, ProtectError> {
    let wrapped = recipient
        .wrap_key(cek, rng)
        .map_err(|reason| ProtectError::Encrypt {
            address: recipient.address().to_owned(),
            reason,
        })?;
    Ok(match wrapped {
        WrappedKey::Transport(enc_key) => RecipientInfo::Ktri(KeyTransRecipientInfo {
            version: CmsVersion::V0,
            rid: RecipientIdentifier::IssuerAndSerialNumber(recipient.issuer_and_serial()),
            key_enc_alg: AlgorithmIdentifierOwned {
                oid: RSA_ENCRYPTION,
                parameters: Some(Null.into()),
            },
            enc_key: OctetString::new(enc_key)?,
        }),
        WrappedKey::Agreement(agreed) => RecipientInfo::Kari(KeyAgreeRecipientInfo {
            version: CmsVersion::V3,
            originator: OriginatorIdentifierOrKey::OriginatorKey(OriginatorPublicKey {
                algorithm: AlgorithmIdentifierOwned {
                    oid: ID_EC_PUBLIC_KEY,
                    parameters: None,
                },
                public_key: BitString::from_bytes(&agreed.ephemeral_point)?,
            }),
            ukm: None,
            key_enc_alg: agreed.key_encryption_algorithm,
            recipient_enc_keys: vec![RecipientEncryptedKey {
                rid: KeyAgreeRecipientIdentifier::IssuerAndSerialNumber(
                    recipient.issuer_and_serial(),
                ),
                enc_key: OctetString::new(agreed.encrypted_key)?,
            }],
        }),
    })
}

/// Encrypts `content` in place with `cipher` (CBC, PKCS#7 padding: it grows by 1 to 16 bytes)
/// and returns the ciphertext's length. On failure `content` is left as it was.
fn encrypt_content(
    cipher: Cipher,
    cek: &[u8],
    iv: &[u8; 16],
    content: &mut Vec<u8>,
) -> Result<usize, ProtectError> {
    let msg_len = content.len();
    // PKCS#7 padding always adds 1 to 16 bytes.
    content.resize(msg_len / 16 * 16 + 16, 0);
    let encrypted = match cipher {
        Cipher::Aes256Cbc => cbc::Encryptor::<aes::Aes256>::new_from_slices(cek, iv)
            .map(|c| c.encrypt_padded::<Pkcs7>(content, msg_len).map(<[u8]>::len)),
        Cipher::Aes128Cbc => cbc::Encryptor::<aes::Aes128>::new_from_slices(cek, iv)
            .map(|c| c.encrypt_padded::<Pkcs7>(content, msg_len).map(<[u8]>::len)),
    };
    match encrypted {
        Ok(Ok(len)) => {
            content.truncate(len);
            Ok(len)
        }
        _ => {
            content.truncate(msg_len);
            Err(ProtectError::EncryptContent {
                reason: "key or buffer of the wrong length".to_owned(),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use std::path::PathBuf;

    use super::*;
    use crate::KeyStore;
    use chacha20::rand_core::SeedableRng;

    fn bob() -> std::sync::Arc<RecipientKey> {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../testdata/pki/keys");
        KeyStore::open(dir)
            .unwrap()
            .dangerous_skip_certificate_checks()
            .recipient("bob@example.net", SystemTime::UNIX_EPOCH)
            .unwrap()
    }

    #[test]
    fn a_refused_key_transport_names_the_recipient() {
        // A 2048-bit key takes at most 245 bytes with PKCS#1 v1.5 padding.
        let too_long = [7u8; 300];
        let mut rng = chacha20::ChaCha20Rng::from_seed([1; 32]);
        let e = recipient_info(&bob(), &too_long, &mut rng).unwrap_err();
        assert!(
            matches!(&e, ProtectError::Encrypt { address, .. } if address == "bob@example.net"),
            "{e:?}"
        );
        let text = e.to_string();
        assert!(
            text.starts_with("encrypting the content key for bob@example.net failed: "),
            "{text}"
        );
        assert!(recipient_info(&bob(), &too_long[..32], &mut rng).is_ok());
    }

    #[test]
    fn a_failed_content_encryption_says_so_and_leaves_the_content() {
        let mut content = b"hello".to_vec();
        let e = encrypt_content(Cipher::Aes256Cbc, &[0; 16], &[0; 16], &mut content).unwrap_err();
        assert_eq!(
            e.to_string(),
            "encrypting the content failed: key or buffer of the wrong length"
        );
        assert_eq!(content, b"hello");
        let len = encrypt_content(Cipher::Aes128Cbc, &[0; 16], &[0; 16], &mut content).unwrap();
        assert_eq!((len, content.len()), (16, 16));
    }
}

//! Assembling the CMS structures ourselves from the `cms` crate's types: SignedData
//! (RFC 5652 §5) and EnvelopedData (§6). Writing them directly, rather than through the
//! crate's builders, keeps the signing key behind our [`SigningKey`] seam, keeps every error's
//! cause, and wipes the content-encryption key on every path.

use std::time::SystemTime;

use aes::cipher::{BlockModeEncrypt, KeyIvInit, block_padding::Pkcs7};
use cms::cert::CertificateChoices;
use cms::content_info::{CmsVersion, ContentInfo};
use cms::enveloped_data::{
    EncryptedContentInfo, EnvelopedData, KeyTransRecipientInfo, RecipientIdentifier, RecipientInfo,
    RecipientInfos,
};
use cms::signed_data::{
    CertificateSet, EncapsulatedContentInfo, SignedData, SignerIdentifier, SignerInfo, SignerInfos,
};
use const_oid::db::rfc5911::SMIME_CAPABILITIES as ID_AA_SMIME_CAPABILITIES;
use const_oid::db::rfc5911::{ID_DATA, ID_ENVELOPED_DATA, ID_SIGNED_DATA};
use const_oid::db::rfc5912::{ID_SHA_256, RSA_ENCRYPTION};
use const_oid::db::rfc6268::ID_SIGNING_TIME;
use der::asn1::{Any, Null, OctetString, SetOfVec};
use der::{Encode, Tag};
use rand_core::CryptoRng;
use sha2::{Digest, Sha256};
use spki::AlgorithmIdentifierOwned;
use x509_cert::attr::Attribute;
use x509_cert::time::Time;
use zeroize::Zeroizing;

use crate::error::ProtectError;
use crate::keys::{RecipientKey, Signer};

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

fn sha256_id() -> AlgorithmIdentifierOwned {
    // RFC 5754 §2: the parameters SHOULD be absent.
    AlgorithmIdentifierOwned {
        oid: ID_SHA_256,
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

/// Signs `content` and returns the DER of a ContentInfo holding SignedData. With `detached`,
/// the content is left out (multipart/signed); otherwise it is encapsulated (opaque).
pub(crate) fn signed_data(
    content: &[u8],
    detached: bool,
    signer: &Signer,
    signing_time: SystemTime,
) -> Result<Vec<u8>, ProtectError> {
    let digest = Sha256::digest(content);
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
        digest_alg: sha256_id(),
        signed_attrs: Some(signed_attrs),
        signature_algorithm: signer.key().signature_algorithm(),
        signature: OctetString::new(signature)?,
        unsigned_attrs: None,
    };
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
    let econtent = if detached {
        None
    } else {
        Some(Any::new(Tag::OctetString, content)?)
    };
    let sd = SignedData {
        version: CmsVersion::V1,
        digest_algorithms: SetOfVec::try_from(vec![sha256_id()])?,
        encap_content_info: EncapsulatedContentInfo {
            econtent_type: ID_DATA,
            econtent,
        },
        certificates: Some(CertificateSet(SetOfVec::try_from(certs)?)),
        crls: None,
        signer_infos: SignerInfos(SetOfVec::try_from(vec![signer_info])?),
    };
    content_info(ID_SIGNED_DATA, &sd)
}

/// Encrypts `content` for every recipient and returns the DER of a ContentInfo holding
/// EnvelopedData (RSA PKCS#1 v1.5 key transport, AES-CBC content encryption).
pub(crate) fn enveloped_data<R: CryptoRng + ?Sized>(
    content: &[u8],
    recipients: &[std::sync::Arc<RecipientKey>],
    cipher: Cipher,
    rng: &mut R,
) -> Result<Vec<u8>, ProtectError> {
    let mut cek = Zeroizing::new(vec![0u8; cipher.key_len()]);
    rng.fill_bytes(&mut cek);
    let mut iv = [0u8; 16];
    rng.fill_bytes(&mut iv);
    let ciphertext = match cipher {
        Cipher::Aes256Cbc => cbc::Encryptor::<aes::Aes256>::new_from_slices(&cek, &iv)
            .map(|c| c.encrypt_padded_vec::<Pkcs7>(content)),
        Cipher::Aes128Cbc => cbc::Encryptor::<aes::Aes128>::new_from_slices(&cek, &iv)
            .map(|c| c.encrypt_padded_vec::<Pkcs7>(content)),
    }
    .map_err(|_| ProtectError::Encrypt {
        address: String::new(),
        reason: "content-encryption key of the wrong length".to_owned(),
    })?;

    let mut infos = Vec::with_capacity(recipients.len());
    for r in recipients {
        let enc_key = r
            .public_key()
            .encrypt(rng, rsa::Pkcs1v15Encrypt, &cek)
            .map_err(|e| ProtectError::Encrypt {
                address: r.address().to_owned(),
                reason: e.to_string(),
            })?;
        infos.push(RecipientInfo::Ktri(KeyTransRecipientInfo {
            version: CmsVersion::V0,
            rid: RecipientIdentifier::IssuerAndSerialNumber(r.issuer_and_serial()),
            key_enc_alg: AlgorithmIdentifierOwned {
                oid: RSA_ENCRYPTION,
                parameters: Some(Null.into()),
            },
            enc_key: OctetString::new(enc_key)?,
        }));
    }
    drop(cek);

    let ed = EnvelopedData {
        // RFC 5652 §6.1: 0 with only ktri v0 recipients and no originatorInfo or attributes.
        version: CmsVersion::V0,
        originator_info: None,
        recip_infos: RecipientInfos(SetOfVec::try_from(infos)?),
        encrypted_content: EncryptedContentInfo {
            content_type: ID_DATA,
            content_enc_alg: AlgorithmIdentifierOwned {
                oid: cipher.oid(),
                parameters: Some(Any::encode_from(&OctetString::new(iv.as_slice())?)?),
            },
            encrypted_content: Some(OctetString::new(ciphertext)?),
        },
        unprotected_attrs: None,
    };
    content_info(ID_ENVELOPED_DATA, &ed)
}

fn content_info<T: der::EncodeValue + der::Tagged>(
    content_type: der::oid::ObjectIdentifier,
    inner: &T,
) -> Result<Vec<u8>, ProtectError> {
    let ci = ContentInfo {
        content_type,
        content: Any::encode_from(inner)?,
    };
    Ok(ci.to_der()?)
}

//! Reading S/MIME: the library's own opener for what it (or OpenSSL, gpgsm, Outlook ...)
//! writes. It peels the layers of a message — `application/pkcs7-mime` signed-data and
//! enveloped-data, `multipart/signed` — in whatever order they are nested, decrypting with the
//! recipient keys it was given and verifying every signature, and returns the innermost MIME
//! entity.
//!
//! # What a verified signature means here
//!
//! A [`Layer::Signed`] proves that the content is unchanged since it was signed, and which
//! certificate's key signed it. It does **not** say the certificate is trustworthy: no chain
//! is built to a trusted root, and validity dates, key usage and revocation are not checked.
//! Decide yourself whether [`VerifiedSigner::certificate`] is one you expect (for instance by
//! comparing it with the sender's known certificate), or verify the chain with another tool.
//!
//! # Limits
//!
//! Everything read is bounded: the input size ([`MAX_MESSAGE_SIZE`], adjustable), the number of
//! layers ([`MAX_LAYERS`]), ASN.1 nesting, signers, certificates and recipients. Malformed
//! input of any kind is an error, never a panic.

mod enveloped;
mod mime;
mod signed;
mod tlv;

use std::time::SystemTime;

use const_oid::ObjectIdentifier;
use const_oid::db::rfc5911::{ID_CT_AUTH_ENVELOPED_DATA, ID_ENVELOPED_DATA, ID_SIGNED_DATA};
use der::Decode;
use pkcs1::DecodeRsaPrivateKey;
use pkcs8::DecodePrivateKey;
use x509_cert::Certificate;

use crate::Cipher;
use mime::Entity;

/// The largest message [`Reader::open`] and [`parse_cms`] accept by default, in bytes.
pub const MAX_MESSAGE_SIZE: usize = 64 * 1024 * 1024;

/// How many S/MIME layers one message may have (signed inside encrypted counts two).
pub const MAX_LAYERS: usize = 8;

/// Why a message could not be opened. Layers are numbered from 1, outermost first.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReadError {
    /// The input is over the size limit.
    #[error("the message is {size} bytes, over the limit of {limit} bytes")]
    TooLarge {
        /// Size of the input.
        size: usize,
        /// The limit in force.
        limit: usize,
    },
    /// More S/MIME layers than [`MAX_LAYERS`].
    #[error("more than {limit} S/MIME layers")]
    TooManyLayers {
        /// The limit in force.
        limit: usize,
    },
    /// The message has no S/MIME layer at all.
    #[error("not an S/MIME message: neither signed nor encrypted")]
    NotSmime,
    /// The MIME framing of a layer cannot be read.
    #[error("layer {layer}: cannot read the MIME structure: {reason}")]
    Mime {
        /// The layer, from 1.
        layer: usize,
        /// What is wrong.
        reason: String,
    },
    /// A CMS structure is malformed.
    #[error("layer {layer}: malformed {what}: {reason}")]
    Malformed {
        /// The layer, from 1.
        layer: usize,
        /// Which structure.
        what: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// Well-formed, but something this reader does not handle.
    #[error("layer {layer}: unsupported {what}: {detail}")]
    Unsupported {
        /// The layer, from 1.
        layer: usize,
        /// What kind of thing.
        what: &'static str,
        /// Which one (an algorithm name, a content type ...).
        detail: String,
    },
    /// The message is encrypted and the reader has no key.
    #[error("layer {layer}: the message is encrypted but no recipient key was given")]
    NoRecipientKey {
        /// The layer, from 1.
        layer: usize,
    },
    /// None of the reader's certificates is among the message's recipients.
    #[error(
        "layer {layer}: not encrypted to the given certificate(s) ({given}); its recipients are: {recipients}"
    )]
    NotARecipient {
        /// The layer, from 1.
        layer: usize,
        /// The reader's certificates.
        given: String,
        /// The recipients the message names (the first eight).
        recipients: String,
    },
    /// Decryption failed although the message names our certificate: the key does not
    /// match, or the message was damaged.
    #[error("layer {layer}: decryption failed: {reason} (wrong key, or a damaged message)")]
    Decrypt {
        /// The layer, from 1.
        layer: usize,
        /// Which step failed.
        reason: &'static str,
    },
    /// The signer's certificate is not in the message.
    #[error("layer {layer}: the certificate of signer {signer} is not in the message")]
    SignerNotFound {
        /// The layer, from 1.
        layer: usize,
        /// Which certificate the signature names.
        signer: String,
    },
    /// The content's SHA-256 differs from the signed messageDigest: the content was changed.
    #[error("layer {layer}: the content was changed after {signer} signed it (digest mismatch)")]
    DigestMismatch {
        /// The layer, from 1.
        layer: usize,
        /// Which certificate the signature names.
        signer: String,
    },
    /// The signature does not verify with the signer's certificate.
    #[error("layer {layer}: the signature of {signer} is not valid")]
    BadSignature {
        /// The layer, from 1.
        layer: usize,
        /// Which certificate the signature names.
        signer: String,
    },
    /// A recipient key given to the reader cannot be used.
    #[error("unusable recipient key: {reason}")]
    Key {
        /// Why (never key material).
        reason: String,
    },
}

pub(super) fn malformed(
    layer: usize,
    what: &'static str,
    reason: &dyn std::fmt::Display,
) -> ReadError {
    ReadError::Malformed {
        layer,
        what,
        reason: reason.to_string(),
    }
}

/// A signer whose signature verified.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct VerifiedSigner {
    /// The certificate whose key made the signature (taken from the message; not checked
    /// against any trust anchor).
    pub certificate: Certificate,
    /// Its subject, RFC 4514 form.
    pub subject: String,
    /// Its issuer, RFC 4514 form.
    pub issuer: String,
    /// Its serial number, lower-case hex.
    pub serial: String,
    /// The signingTime attribute, if present (as claimed by the signer).
    pub signing_time: Option<SystemTime>,
}

/// Alias used inside the module.
pub(super) type SignerSummary = VerifiedSigner;

impl VerifiedSigner {
    pub(super) fn new(cert: &Certificate, signing_time: Option<SystemTime>) -> Self {
        let tbs = cert.tbs_certificate();
        VerifiedSigner {
            certificate: cert.clone(),
            subject: tbs.subject().to_string(),
            issuer: tbs.issuer().to_string(),
            serial: hex(tbs.serial_number().as_bytes()),
            signing_time,
        }
    }
}

/// One S/MIME layer that was removed, outermost first in [`Opened::layers`].
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Layer {
    /// A signature that verified (integrity and signer; not trust, see the module docs).
    Signed {
        /// `multipart/signed` (true) or opaque `application/pkcs7-mime` (false).
        detached: bool,
        /// Every signer; all of them verified.
        signers: Vec<VerifiedSigner>,
    },
    /// An EnvelopedData that was decrypted.
    Encrypted {
        /// The content encryption.
        cipher: Cipher,
        /// How many RecipientInfos the message has.
        recipients: usize,
    },
}

/// An opened message: the innermost MIME entity and the layers around it.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Opened {
    /// The innermost MIME entity (its `Content-*` header and body), exactly as it was signed
    /// or encrypted.
    pub content: Vec<u8>,
    /// The layers removed, outermost first.
    pub layers: Vec<Layer>,
}

impl Opened {
    /// True when at least one layer is a verified signature.
    pub fn is_signed(&self) -> bool {
        self.layers
            .iter()
            .any(|l| matches!(l, Layer::Signed { .. }))
    }
    /// True when at least one layer was encrypted.
    pub fn is_encrypted(&self) -> bool {
        self.layers
            .iter()
            .any(|l| matches!(l, Layer::Encrypted { .. }))
    }
}

/// What a CMS ContentInfo holds, read by [`parse_cms`] without any key.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CmsSummary {
    /// SignedData.
    SignedData {
        /// Length of the encapsulated content (`None`: detached).
        content_len: Option<usize>,
        /// How many certificates it carries.
        certificates: usize,
        /// Each signer's identifier (issuer and serial, or subject key id).
        signers: Vec<String>,
    },
    /// EnvelopedData.
    EnvelopedData {
        /// The content encryption, when supported (`None`: another algorithm).
        cipher: Option<Cipher>,
        /// Each recipient's identifier.
        recipients: Vec<String>,
        /// Length of the ciphertext.
        encrypted_len: usize,
    },
}

/// Parses a CMS ContentInfo (DER, or BER as streaming encoders write it) holding SignedData or
/// EnvelopedData, without verifying or decrypting anything. Never panics; bounded like
/// [`Reader::open`].
///
/// # Errors
/// [`ReadError`] (layer 1) when the input is not such a structure, or is over
/// [`MAX_MESSAGE_SIZE`].
pub fn parse_cms(der: &[u8]) -> Result<CmsSummary, ReadError> {
    if der.len() > MAX_MESSAGE_SIZE {
        return Err(ReadError::TooLarge {
            size: der.len(),
            limit: MAX_MESSAGE_SIZE,
        });
    }
    Ok(match content_info(der, 1)? {
        Cms::Signed(sd) => CmsSummary::SignedData {
            content_len: sd.content.as_ref().map(Vec::len),
            certificates: sd.certificates.len(),
            signers: sd.signer_ids(),
        },
        Cms::Enveloped(ed) => CmsSummary::EnvelopedData {
            cipher: ed.cipher(),
            recipients: ed.recipients.iter().map(enveloped::describe).collect(),
            encrypted_len: ed.encrypted.as_ref().map_or(0, Vec::len),
        },
    })
}

impl signed::ParsedSigned {
    fn signer_ids(&self) -> Vec<String> {
        self.signers
            .iter()
            .map(|s| signed::describe_sid(s.sid()))
            .collect()
    }
}

enum Cms {
    Signed(signed::ParsedSigned),
    Enveloped(enveloped::ParsedEnveloped),
}

/// ContentInfo ::= SEQUENCE { contentType OID, content [0] EXPLICIT ANY }.
fn content_info(der: &[u8], layer: usize) -> Result<Cms, ReadError> {
    let bad = |reason: &dyn std::fmt::Display| malformed(layer, "ContentInfo", reason);
    let ci = tlv::parse_whole(der).map_err(|e| bad(&e))?;
    if ci.tag != 0x30 {
        return Err(bad(&"not a SEQUENCE"));
    }
    let fields = ci.children().map_err(|e| bad(&e))?;
    let (oid, explicit) = match fields.as_slice() {
        [oid, explicit] if oid.tag == 0x06 && explicit.tag == 0xa0 => (oid, explicit),
        _ => return Err(bad(&"expected a content type and [0] content")),
    };
    let oid = ObjectIdentifier::from_der(oid.raw).map_err(|e| bad(&e))?;
    let inner = explicit.children().map_err(|e| bad(&e))?;
    let inner = match inner.as_slice() {
        [one] if one.tag == 0x30 => one,
        _ => return Err(bad(&"the content is not one SEQUENCE")),
    };
    match oid {
        ID_SIGNED_DATA => signed::parse(inner, layer).map(Cms::Signed),
        ID_ENVELOPED_DATA => enveloped::parse(inner, layer).map(Cms::Enveloped),
        ID_CT_AUTH_ENVELOPED_DATA => Err(ReadError::Unsupported {
            layer,
            what: "content type",
            detail: "authEnveloped-data (AES-GCM)".to_owned(),
        }),
        other => Err(ReadError::Unsupported {
            layer,
            what: "content type",
            detail: oid_name(&other),
        }),
    }
}

/// A private key and its certificate, for decryption. The key is wiped on drop (rsa's
/// `PrivateKey` zeroizes itself) and never printed.
pub(super) struct RecipientKeyPair {
    pub(super) key: rsa::PrivateKey,
    pub(super) cert: Certificate,
}

impl std::fmt::Debug for RecipientKeyPair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RecipientKeyPair")
            .field("certificate", &describe_cert(&self.cert))
            .finish_non_exhaustive()
    }
}

/// Opens S/MIME messages: decrypts with the recipient keys it holds and verifies every
/// signature. Share it between threads freely (`&self`).
///
/// ```no_run
/// use smime_core::{Layer, Reader};
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// // bob@example.net.pem holds Bob's private key and certificate.
/// let reader = Reader::new().with_recipient_pem(&std::fs::read("bob@example.net.pem")?)?;
/// let opened = reader.open(&std::fs::read("message.smime.eml")?)?;
/// for layer in &opened.layers {
///     if let Layer::Signed { signers, .. } = layer {
///         // Integrity and signer only: compare the certificate with the one you expect.
///         println!("signed by {}", signers[0].subject);
///     }
/// }
/// std::fs::write("content.eml", &opened.content)?;
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
pub struct Reader {
    keys: Vec<RecipientKeyPair>,
    max_size: usize,
}

impl Default for Reader {
    fn default() -> Self {
        Reader::new()
    }
}

impl Reader {
    /// A reader with no keys (it can verify signatures, not decrypt) and the default limits.
    pub fn new() -> Self {
        Reader {
            keys: Vec::new(),
            max_size: MAX_MESSAGE_SIZE,
        }
    }

    /// Adds a recipient: `key` is an RSA private key (PKCS#8 or PKCS#1, PEM with any text
    /// around the block, or DER) and `cert` its certificate, which the message's
    /// RecipientInfo must name (by issuer and serial number, or subject key identifier).
    ///
    /// # Errors
    /// [`ReadError::Key`] when the key cannot be read, is encrypted, is not RSA, or does not
    /// belong to `cert`.
    pub fn with_recipient_key(mut self, key: &[u8], cert: &Certificate) -> Result<Self, ReadError> {
        let key = parse_private_key(key)?;
        let public =
            crate::certcheck::rsa_public_key_unchecked(cert).ok_or_else(|| ReadError::Key {
                reason: format!("{}: not an RSA certificate", describe_cert(cert)),
            })?;
        if rsa::PublicKey::from(&key) != public {
            return Err(ReadError::Key {
                reason: format!(
                    "the private key does not belong to the certificate {}",
                    describe_cert(cert)
                ),
            });
        }
        self.keys.push(RecipientKeyPair {
            key,
            cert: cert.clone(),
        });
        Ok(self)
    }

    /// Adds a recipient from one PEM file holding the private key and its certificate (the
    /// layout of `<address>.pem` key files; other certificates in the file are ignored).
    ///
    /// # Errors
    /// [`ReadError::Key`] when there is no usable key or no certificate matching it.
    pub fn with_recipient_pem(self, pem: &[u8]) -> Result<Self, ReadError> {
        let key = parse_private_key(pem)?;
        let public = rsa::PublicKey::from(&key);
        let cert = crate::pem::blocks(pem)
            .iter()
            .filter(|b| b.label == "CERTIFICATE")
            .filter_map(|b| Certificate::from_der(&b.der).ok())
            .find(|c| crate::certcheck::rsa_public_key_unchecked(c).as_ref() == Some(&public))
            .ok_or_else(|| ReadError::Key {
                reason: "no certificate in the file matches the private key".to_owned(),
            })?;
        drop(key);
        self.with_recipient_key(pem, &cert)
    }

    /// Refuses messages larger than `bytes` (default [`MAX_MESSAGE_SIZE`]).
    #[must_use]
    pub fn with_max_size(mut self, bytes: usize) -> Self {
        self.max_size = bytes;
        self
    }

    /// Peels every S/MIME layer of `message` (an RFC 5322 message; CRLF, or bare LF
    /// throughout) and returns the innermost MIME entity with the layers seen.
    ///
    /// # Errors
    /// [`ReadError`] when the message is not S/MIME, a layer cannot be read, a signature does
    /// not verify, or an encrypted layer is not for one of the reader's keys.
    pub fn open(&self, message: &[u8]) -> Result<Opened, ReadError> {
        if message.len() > self.max_size {
            return Err(ReadError::TooLarge {
                size: message.len(),
                limit: self.max_size,
            });
        }
        let mut current = message.to_vec();
        let mut layers = Vec::new();
        loop {
            let layer = layers.len() + 1;
            let entity =
                mime::classify(&mime::normalise(&current)).map_err(|e| ReadError::Mime {
                    layer,
                    reason: e.to_string(),
                })?;
            if matches!(entity, Entity::Plain) {
                break;
            }
            if layers.len() >= MAX_LAYERS {
                return Err(ReadError::TooManyLayers { limit: MAX_LAYERS });
            }
            let (next, seen) = match entity {
                Entity::Plain => break,
                Entity::Pkcs7Mime { der } => match content_info(&der, layer)? {
                    Cms::Signed(sd) => {
                        let content = sd.content.as_deref().ok_or_else(|| {
                            malformed(
                                layer,
                                "SignedData",
                                &"no encapsulated content in application/pkcs7-mime",
                            )
                        })?;
                        let signers = signed::verify(&sd, content, layer)?;
                        (
                            content.to_vec(),
                            Layer::Signed {
                                detached: false,
                                signers,
                            },
                        )
                    }
                    Cms::Enveloped(ed) => {
                        let (plain, cipher) = enveloped::decrypt(&ed, &self.keys, layer)?;
                        let recipients = ed.recipients.len();
                        (plain, Layer::Encrypted { cipher, recipients })
                    }
                },
                Entity::Detached { content, der } => match content_info(&der, layer)? {
                    Cms::Signed(sd) => {
                        if sd.content.is_some() {
                            return Err(malformed(
                                layer,
                                "SignedData",
                                &"a multipart/signed signature must not encapsulate content",
                            ));
                        }
                        let signers = signed::verify(&sd, &content, layer)?;
                        (
                            content,
                            Layer::Signed {
                                detached: true,
                                signers,
                            },
                        )
                    }
                    Cms::Enveloped(_) => {
                        return Err(malformed(
                            layer,
                            "multipart/signed",
                            &"the signature part holds EnvelopedData",
                        ));
                    }
                },
            };
            layers.push(seen);
            current = next;
        }
        if layers.is_empty() {
            return Err(ReadError::NotSmime);
        }
        Ok(Opened {
            content: current,
            layers,
        })
    }
}

/// An RSA private key from PEM (PKCS#8 or PKCS#1, text around tolerated) or DER.
fn parse_private_key(data: &[u8]) -> Result<rsa::PrivateKey, ReadError> {
    let err = |reason: &str| ReadError::Key {
        reason: reason.to_owned(),
    };
    let blocks = crate::pem::blocks(data);
    if blocks.is_empty() {
        return rsa::PrivateKey::from_pkcs8_der(data)
            .or_else(|_| rsa::PrivateKey::from_pkcs1_der(data))
            .map_err(|_| err("neither a PEM private key nor a DER RSA private key"));
    }
    for block in &blocks {
        match block.label.as_str() {
            "PRIVATE KEY" => {
                return rsa::PrivateKey::from_pkcs8_der(&block.der)
                    .map_err(|_| err("the PRIVATE KEY block is not an RSA key"));
            }
            "RSA PRIVATE KEY" if block.legacy_encrypted => {
                return Err(err("the private key is encrypted; decrypt it first"));
            }
            "RSA PRIVATE KEY" => {
                return rsa::PrivateKey::from_pkcs1_der(&block.der)
                    .map_err(|_| err("the RSA PRIVATE KEY block cannot be read"));
            }
            "ENCRYPTED PRIVATE KEY" => {
                return Err(err("the private key is encrypted; decrypt it first"));
            }
            _ => {}
        }
    }
    // The decoded blocks are `Zeroizing`: wiped when `blocks` drops.
    Err(err("no private key block"))
}

/// Decodes as DER, or failing that as BER.
pub(super) fn decode_lenient<'a, T: Decode<'a, Error = der::Error>>(
    bytes: &'a [u8],
) -> Result<T, der::Error> {
    T::from_der(bytes).or_else(|_| T::from_ber(bytes))
}

/// Lower-case hex of a big-endian integer, without leading zero bytes.
pub(super) fn hex(bytes: &[u8]) -> String {
    let start = bytes
        .iter()
        .position(|&b| b != 0)
        .unwrap_or(bytes.len().saturating_sub(1));
    bytes
        .get(start..)
        .unwrap_or_default()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A registered name for an OID, else its dotted form.
pub(super) fn oid_name(oid: &ObjectIdentifier) -> String {
    match const_oid::db::DB.by_oid(oid) {
        Some(name) => format!("{name} ({oid})"),
        None => oid.to_string(),
    }
}

/// A certificate, for messages.
pub(super) fn describe_cert(cert: &Certificate) -> String {
    let tbs = cert.tbs_certificate();
    format!(
        "subject \"{}\" (issuer \"{}\" serial {})",
        tbs.subject(),
        tbs.issuer(),
        hex(tbs.serial_number().as_bytes())
    )
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use std::path::PathBuf;
    use std::sync::Arc;

    use super::*;
    use crate::{FixedClock, KeyStore, Options, Protector, SignMode};

    fn keys_dir() -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../testdata/pki/keys")
    }

    const EML: &[u8] =
        b"From: alice@example.com\r\nTo: bob@example.net\r\nSubject: t\r\n\r\nhello\r\n";

    fn protect(options: Options) -> Vec<u8> {
        let keys = Arc::new(KeyStore::open(keys_dir()).unwrap());
        Protector::new(keys, options)
            .with_clock(Arc::new(FixedClock::from_unix(1_780_315_200)))
            .protect(EML)
            .unwrap()
            .message
    }

    fn bob() -> Reader {
        let pem = std::fs::read(keys_dir().join("bob@example.net.pem")).unwrap();
        Reader::new().with_recipient_pem(&pem).unwrap()
    }

    /// A tiny deterministic generator, so the test needs no extra dependency.
    struct XorShift(u64);
    impl XorShift {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
        fn below(&mut self, n: usize) -> usize {
            usize::try_from(self.next() % n.max(1) as u64).unwrap()
        }
    }

    #[test]
    fn signed_and_encrypted_round_trip() {
        let msg = protect(Options::sign_and_encrypt());
        let opened = bob().open(&msg).unwrap();
        assert_eq!(opened.layers.len(), 2);
        assert!(matches!(
            opened.layers[0],
            Layer::Encrypted {
                cipher: Cipher::Aes256Cbc,
                recipients: 2
            }
        ));
        match &opened.layers[1] {
            Layer::Signed { detached, signers } => {
                assert!(!detached);
                assert_eq!(signers.len(), 1);
                assert!(
                    signers[0].subject.contains("alice@example.com"),
                    "{}",
                    signers[0].subject
                );
                assert_eq!(
                    signers[0].signing_time,
                    Some(std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_780_315_200))
                );
            }
            other => panic!("{other:?}"),
        }
        assert!(opened.content.ends_with(b"\r\n\r\nhello\r\n"));
        assert!(opened.is_signed() && opened.is_encrypted());
    }

    #[test]
    fn parse_cms_summarises_without_keys() {
        let msg = protect(Options::encrypt());
        let body = &msg[msg.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4..];
        let der = crate::encoding::base64_decode_lenient(body).unwrap();
        match parse_cms(&der).unwrap() {
            CmsSummary::EnvelopedData {
                cipher, recipients, ..
            } => {
                assert_eq!(cipher, Some(Cipher::Aes256Cbc));
                assert_eq!(recipients.len(), 2);
                assert!(recipients[0].starts_with("issuer \""), "{recipients:?}");
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            Reader::new().open(&msg),
            Err(ReadError::NoRecipientKey { layer: 1 })
        ));
    }

    #[test]
    fn errors_for_plain_and_oversized_input() {
        assert!(matches!(Reader::new().open(EML), Err(ReadError::NotSmime)));
        assert!(matches!(
            Reader::new().with_max_size(10).open(EML),
            Err(ReadError::TooLarge { limit: 10, .. })
        ));
        assert!(matches!(
            Reader::new().open(b"\x00\x01 not a header\r\n"),
            Err(ReadError::Mime { layer: 1, .. })
        ));
    }

    #[test]
    fn keys_that_do_not_fit_are_refused() {
        let alice = std::fs::read(keys_dir().join("alice@example.com.pem")).unwrap();
        let bob_cert =
            crate::pem::blocks(&std::fs::read(keys_dir().join("bob@example.net.crt")).unwrap())
                .iter()
                .find_map(|b| Certificate::from_der(&b.der).ok())
                .unwrap();
        let err = Reader::new()
            .with_recipient_key(&alice, &bob_cert)
            .unwrap_err();
        assert!(err.to_string().contains("does not belong"), "{err}");
        assert!(Reader::new().with_recipient_pem(b"junk").is_err());
        assert!(
            Reader::new()
                .with_recipient_key(b"\x30\x03\x02\x01\x00", &bob_cert)
                .is_err()
        );
        // The key never shows in Debug.
        let reader = bob();
        let dbg = format!("{reader:?}");
        assert!(
            dbg.contains("RecipientKeyPair") && !dbg.contains("PrivateKey"),
            "{dbg}"
        );
    }

    #[test]
    fn arbitrary_and_mutated_input_never_panics() {
        let mut rng = XorShift(0x5eed_1234_abcd_9876);
        let seeds = [
            protect(Options::sign(SignMode::Opaque)),
            protect(Options::sign(SignMode::Detached)),
            protect(Options::sign_and_encrypt()),
        ];
        let reader = bob();
        for _ in 0..300 {
            let len = rng.below(600);
            let junk: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
            let _ = parse_cms(&junk);
            let _ = Reader::new().open(&junk);
        }
        for seed in &seeds {
            for _ in 0..100 {
                let mut m = seed.clone();
                match rng.below(3) {
                    0 => m.truncate(rng.below(m.len())),
                    1 => {
                        for _ in 0..=rng.below(4) {
                            let i = rng.below(m.len());
                            m[i] ^= 1 << rng.below(8);
                        }
                    }
                    _ => {
                        let i = rng.below(m.len());
                        let j = rng.below(m.len());
                        m.drain(i.min(j)..i.max(j));
                    }
                }
                let _ = reader.open(&m);
                let _ = Reader::new().open(&m);
            }
            // Mutate the DER itself too, where base64 would hide most flips.
            let body_at = seed.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
            if let Some(der) = crate::encoding::base64_decode_lenient(&seed[body_at..]) {
                for _ in 0..200 {
                    let mut d = der.clone();
                    let i = rng.below(d.len());
                    d[i] = rng.next() as u8;
                    if rng.below(4) == 0 {
                        d.truncate(rng.below(d.len()));
                    }
                    let _ = parse_cms(&d);
                }
            }
        }
    }
}

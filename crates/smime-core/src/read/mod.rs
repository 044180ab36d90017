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
mod error;
pub mod inspect;
mod mime;
mod signed;
mod tlv;

use std::time::SystemTime;

use const_oid::ObjectIdentifier;
use const_oid::db::rfc5911::{ID_CT_AUTH_ENVELOPED_DATA, ID_ENVELOPED_DATA, ID_SIGNED_DATA};
use der::Decode;
use x509_cert::Certificate;

use crate::build::Cipher;
use crate::keys::private_key::{KeyAlgorithm, KeyFileProblem, KeyFormat, private_key};
pub use error::ReadError;
use error::malformed;
pub use inspect::inspect;
use mime::Entity;

pub use crate::limits::{MAX_LAYERS, MAX_MESSAGE_SIZE};

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
        let public = crate::keys::certcheck::rsa_public_key_unchecked(cert).ok_or_else(|| {
            ReadError::Key {
                reason: format!("{}: not an RSA certificate", describe_cert(cert)),
            }
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
        let cert = crate::keys::pem::blocks(pem)
            .iter()
            .filter(|b| b.label == "CERTIFICATE")
            .filter_map(|b| Certificate::from_der(&b.der).ok())
            .find(|c| crate::keys::certcheck::rsa_public_key_unchecked(c).as_ref() == Some(&public))
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
            let entity = match mime::classify(&mime::normalise(&current)) {
                Ok(entity) => entity,
                // What a layer held need not be MIME at all: it is the innermost content.
                Err(mime::MimeProblem::Header(_)) if !layers.is_empty() => Entity::Plain,
                Err(e) => {
                    return Err(ReadError::Mime {
                        layer,
                        reason: e.to_string(),
                    });
                }
            };
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
    let neither = "neither a PEM private key nor a DER RSA private key";
    let ec = "the private key is an EC key; decrypting with EC keys (ECDH) is not supported yet";
    let found = private_key(data).map_err(|problem| {
        err(match problem {
            KeyFileProblem::Truncated(_) | KeyFileProblem::NotPemNorDer => neither,
            KeyFileProblem::NeedsPassphrase(_)
            | KeyFileProblem::WrongPassphrase(_)
            | KeyFileProblem::Encryption(..) => "the private key is encrypted; decrypt it first",
            KeyFileProblem::UnsupportedCurve(_)
            | KeyFileProblem::UnnamedCurve
            | KeyFileProblem::BadEcKey(_) => ec,
            KeyFileProblem::UnsupportedAlgorithm(_) => "the private key is not an RSA key",
            KeyFileProblem::NoKey => "no private key block",
        })
    })?;
    if matches!(found.algorithm(), Ok(KeyAlgorithm::Ec(_))) {
        return Err(err(ec));
    }
    // The key's DER is `Zeroizing`: wiped when `found` drops.
    found.to_rsa().map_err(|_| {
        err(match (found.in_pem, found.format) {
            (false, _) => neither,
            (true, KeyFormat::Pkcs8) => "the PRIVATE KEY block is not an RSA key",
            (true, KeyFormat::Pkcs1) => "the RSA PRIVATE KEY block cannot be read",
            (true, KeyFormat::Sec1) => ec,
        })
    })
}

/// Decodes as DER, or failing that as BER.
pub(super) fn decode_lenient<'a, T: Decode<'a, Error = der::Error>>(
    bytes: &'a [u8],
) -> Result<T, der::Error> {
    decode_lenient_rules(bytes).map(|(value, _)| value)
}

/// Decodes as DER, or failing that as BER (indefinite lengths, segmented strings), and says
/// which rules worked (nested structures are then decoded with the same); the BER error when
/// both fail.
pub(super) fn decode_lenient_rules<'a, T: Decode<'a, Error = der::Error>>(
    bytes: &'a [u8],
) -> Result<(T, der::EncodingRules), der::Error> {
    match T::from_der(bytes) {
        Ok(value) => Ok((value, der::EncodingRules::Der)),
        Err(_) => T::from_ber(bytes).map(|value| (value, der::EncodingRules::Ber)),
    }
}

/// Lower-case hex of a big-endian integer, without leading zero bytes.
pub(super) fn hex(bytes: &[u8]) -> String {
    let start = bytes
        .iter()
        .position(|&b| b != 0)
        .unwrap_or(bytes.len().saturating_sub(1));
    hex_bytes(bytes.get(start..).unwrap_or_default())
}

/// Lower-case hex of every byte (key identifiers: leading zeros are part of them).
pub(super) fn hex_bytes(bytes: &[u8]) -> String {
    use std::fmt::Write;
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(out, "{b:02x}");
    }
    out
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
mod tests;

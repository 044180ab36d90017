//! Describing a message without opening it: its MIME tree, S/MIME layers included, as plain
//! data. This is what `smime show` prints; other programs can render it their own way.
//!
//! [`inspect`] reads any message (S/MIME or not) and never fails on what is inside it: a part
//! or a layer that cannot be read carries the reason (`unreadable`) and the walk goes on. Only
//! input that is not a message at all (it does not start with a header field) is an error.
//! Nothing is decrypted and no signature is verified: this describes structure, it does not
//! vouch for it (use [`Reader`](crate::Reader) for that).
//!
//! ```
//! use smime_core::inspect::{Node, Recipient};
//!
//! let message = b"From: a@example.com\r\nContent-Type: text/plain\r\n\r\nhello\r\n";
//! let tree = smime_core::inspect(message)?;
//! assert_eq!(tree.size, message.len());
//! let Node::Part(part) = &tree.root else { panic!("a part") };
//! assert_eq!(part.content_type.as_ref().map(|t| t.mtype.as_str()), Some("text"));
//! assert_eq!(part.size, 7);
//! assert!(part.cms.is_none());
//! # Ok::<(), smime_core::inspect::InspectError>(())
//! ```
//!
//! # What the tree holds
//!
//! - Texts taken from the message (parameter values, file names, certificate names) are as
//!   the message has them: escaping control characters before printing is the renderer's job.
//! - Media types, transfer encodings and dispositions are lower-cased.
//! - Serial numbers and key identifiers are complete lower-case hex.
//! - Every algorithm and content type is a [`NamedOid`]: the dotted OID and a name (the short
//!   name S/MIME users know, such as `AES-256-CBC` or `SHA-256`, else the registered name
//!   followed by the OID in parentheses, else the dotted OID).
//! - Every `unreadable` reason is a short sentence (`the body is not valid base64`,
//!   `not a CMS ContentInfo: ...`) that never holds message content beyond what a decoder
//!   error quotes (tag names, offsets).
//!
//! # Limits
//!
//! At most [`MAX_INSPECT_SIZE`] bytes of input; parts nest at most [`MAX_INSPECT_DEPTH`]
//! levels (MIME parts, nested messages and encapsulated content alike), deeper ones are
//! replaced by one [`Node::TooDeep`]. ASN.1 is read by decoders that bound their own nesting.

mod cms;
mod names;
mod walk;

pub use super::mime::Pkcs7Kind;

pub use crate::limits::{MAX_INSPECT_DEPTH, MAX_INSPECT_SIZE};

/// Why [`inspect`] could not describe its input. Whatever is wrong inside a message is part of
/// the description, not an error.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum InspectError {
    /// The input holds no header field: it is not an email.
    #[error("not an email message: {reason}")]
    NotAMessage {
        /// What is missing.
        reason: &'static str,
    },
    /// The input is over [`MAX_INSPECT_SIZE`].
    #[error("the message is {size} bytes, over the limit of {limit}")]
    TooLarge {
        /// The input's size.
        size: usize,
        /// [`MAX_INSPECT_SIZE`].
        limit: usize,
    },
}

/// The description of one message.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Inspection {
    /// The size of the whole input, in bytes.
    pub size: usize,
    /// The message's own entity: its root part (and everything below it).
    pub root: Node,
}

/// One place in the tree: a MIME part, or what stands where one could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Node {
    /// A MIME part.
    Part(Box<Part>),
    /// An entity (a message, a nested message) without any MIME part.
    Empty {
        /// Why (`no MIME entity`).
        reason: String,
    },
    /// A part the parser listed but did not return.
    Missing {
        /// Why (`the parser lost this part`).
        reason: String,
    },
    /// A child of a multipart that cannot be placed in the tree (it stands for a line about
    /// the parent, among its children).
    Unreadable {
        /// Why (`the parser returned a part out of order`).
        reason: String,
    },
    /// Parts nested deeper than the limit, left out.
    TooDeep {
        /// The limit, [`MAX_INSPECT_DEPTH`].
        limit: usize,
    },
}

/// A MIME part: its header's description, its size, and what it holds.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Part {
    /// The `Content-Type` (`None`: absent, so `text/plain` by default).
    pub content_type: Option<MediaType>,
    /// The `Content-Transfer-Encoding`, trimmed and lower-cased (`None`: absent, so `7bit`).
    pub transfer_encoding: Option<String>,
    /// The `Content-Disposition`, when present.
    pub disposition: Option<Disposition>,
    /// For a multipart: how many parts it has.
    pub part_count: Option<usize>,
    /// The body's size in bytes after transfer decoding (before any charset conversion); for
    /// a multipart or an unencoded `message/rfc822`, the raw body.
    pub size: usize,
    /// For `multipart/signed`: its `protocol` and `micalg` parameters.
    pub signed: Option<MultipartSigned>,
    /// When the part holds CMS (by its media type or file name): which kind of CMS part.
    pub pkcs7: Option<Pkcs7Kind>,
    /// Why (parts of) the part cannot be read, in order; usually empty.
    pub unreadable: Vec<String>,
    /// The CMS layer of a [`pkcs7`](Part::pkcs7) part, when its ContentInfo could be read.
    pub cms: Option<CmsLayer>,
    /// The parts of a multipart, or the entity of a nested message (`message/rfc822`).
    pub children: Vec<Node>,
}

/// A media type and the parameters worth showing.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct MediaType {
    /// The type, lower-cased (`text`, `multipart`, `application` ...).
    pub mtype: String,
    /// The subtype, lower-cased, when there is one.
    pub subtype: Option<String>,
    /// The `charset` parameter.
    pub charset: Option<String>,
    /// The `smime-type` parameter.
    pub smime_type: Option<String>,
    /// The `name` parameter.
    pub name: Option<String>,
}

/// A `Content-Disposition`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Disposition {
    /// `inline`, `attachment` ..., lower-cased.
    pub kind: String,
    /// The `filename` parameter.
    pub file_name: Option<String>,
}

/// The parameters of a `multipart/signed`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct MultipartSigned {
    /// `protocol` (`application/pkcs7-signature` for S/MIME).
    pub protocol: Option<String>,
    /// `micalg` (`sha-256` ...).
    pub micalg: Option<String>,
}

/// An OID and its name.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct NamedOid {
    /// The dotted form, `2.16.840.1.101.3.4.2.1`.
    pub oid: String,
    /// The short name (`SHA-256`), else the registered name and the OID in parentheses,
    /// else the dotted OID.
    pub name: String,
}

/// Which ASN.1 encoding rules a CMS structure follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum AsnEncoding {
    /// Distinguished Encoding Rules: what S/MIME agents normally write.
    Der,
    /// Basic Encoding Rules only: indefinite lengths, segmented strings (OpenSSL's streaming
    /// output, for one).
    Ber,
}

/// What a ContentInfo holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum CmsKind {
    /// SignedData.
    Signed,
    /// EnvelopedData.
    Enveloped,
    /// AuthEnvelopedData (AES-GCM and the like).
    AuthEnveloped,
    /// CompressedData.
    Compressed,
    /// Another content type.
    Other,
}

impl CmsKind {
    /// The `smime-type` parameter value that goes with it (`signed-data` ...), if any.
    pub fn smime_type(self) -> Option<&'static str> {
        match self {
            CmsKind::Signed => Some("signed-data"),
            CmsKind::Enveloped => Some("enveloped-data"),
            CmsKind::AuthEnveloped => Some("authEnveloped-data"),
            CmsKind::Compressed => Some("compressed-data"),
            CmsKind::Other => None,
        }
    }
}

/// The CMS structure in a part.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct CmsLayer {
    /// What it holds.
    pub kind: CmsKind,
    /// The ContentInfo's content type.
    pub content_type: NamedOid,
    /// DER, or BER only.
    pub encoding: AsnEncoding,
    /// The part's `smime-type` parameter, when it disagrees with [`kind`](CmsLayer::kind)
    /// (`certs-only` agrees with SignedData).
    pub smime_type_mismatch: Option<String>,
    /// Its contents.
    pub content: CmsContent,
}

/// The contents of a [`CmsLayer`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CmsContent {
    /// SignedData.
    Signed(SignedLayer),
    /// EnvelopedData or AuthEnvelopedData.
    Enveloped(EnvelopedLayer),
    /// A content type that is not described further (CompressedData, ...).
    NotShown,
    /// The structure the content type announces cannot be decoded.
    Unreadable {
        /// Why (`signed-data: <decoder error>`).
        reason: String,
    },
}

/// SignedData, without verifying anything.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SignedLayer {
    /// The digest algorithms it declares.
    pub digest_algorithms: Vec<NamedOid>,
    /// The certificates it carries, in order.
    pub certificates: Vec<CertificateEntry>,
    /// The signers, in order.
    pub signers: Vec<Signer>,
    /// The encapsulated content.
    pub content: Encapsulated,
}

/// One entry of a SignedData's certificates.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CertificateEntry {
    /// An X.509 certificate.
    X509(CertificateSummary),
    /// Another certificate format.
    Other {
        /// The format's OID.
        format: NamedOid,
    },
}

/// What a certificate says about itself.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct CertificateSummary {
    /// The subject, RFC 4514 form.
    pub subject: String,
    /// The issuer, RFC 4514 form.
    pub issuer: String,
    /// The serial number, lower-case hex without leading zeros (`0` for zero).
    pub serial: String,
    /// The email addresses it is issued to: subjectAltName rfc822Names, then the subject's
    /// emailAddress attributes, each once (ignoring ASCII case).
    pub email_addresses: Vec<String>,
}

/// Which certificate a signer or recipient names.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Identifier {
    /// By issuer and serial number.
    IssuerSerial {
        /// The issuer, RFC 4514 form.
        issuer: String,
        /// The serial number, lower-case hex without leading zeros (`0` for zero).
        serial: String,
    },
    /// By subject key identifier, lower-case hex.
    SubjectKeyId(String),
}

/// One SignerInfo.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Signer {
    /// Whose certificate.
    pub id: Identifier,
    /// The digest algorithm.
    pub digest: NamedOid,
    /// The signature algorithm.
    pub signature: NamedOid,
    /// The signingTime signed attribute, when present and readable, in UTC
    /// (`2026-06-01T12:00:00Z`). As claimed by the signer.
    pub signing_time: Option<String>,
}

/// A SignedData's encapsulated content.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Encapsulated {
    /// None: a detached signature (or, in a pkcs7-mime part, certificates only).
    Detached,
    /// Present, but not an OCTET STRING that can be read.
    Unreadable {
        /// Why (`encapsulated content: <decoder error>`).
        reason: String,
    },
    /// Present.
    Content {
        /// Its type (`id-data` for MIME).
        content_type: NamedOid,
        /// Its size in bytes.
        size: usize,
        /// For `id-data` holding a MIME entity: its tree.
        entity: Option<Box<Node>>,
        /// For `id-data` that is not a MIME entity: why.
        unreadable: Option<String>,
    },
}

/// EnvelopedData or AuthEnvelopedData, without decrypting anything.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct EnvelopedLayer {
    /// The content-encryption algorithm.
    pub content_encryption: NamedOid,
    /// The recipients, in order (a key-agreement RecipientInfo gives one per key).
    pub recipients: Vec<Recipient>,
    /// The size of the encrypted content (`None`: absent, carried elsewhere).
    pub encrypted_size: Option<usize>,
}

/// One recipient of an EnvelopedData.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Recipient {
    /// Key transport (RSA): the usual S/MIME recipient.
    KeyTransport {
        /// Whose certificate.
        id: Identifier,
        /// The key-encryption algorithm.
        algorithm: NamedOid,
    },
    /// Key agreement (ECDH).
    KeyAgreement {
        /// Whose certificate.
        id: Identifier,
        /// The key-encryption algorithm.
        algorithm: NamedOid,
    },
    /// A previously distributed key-encryption key.
    Kek {
        /// The key's identifier, lower-case hex.
        key_id: String,
        /// The key-encryption algorithm.
        algorithm: NamedOid,
    },
    /// A password.
    Password {
        /// The key-encryption algorithm.
        algorithm: NamedOid,
    },
    /// Another kind of RecipientInfo.
    Other {
        /// Its type.
        kind: NamedOid,
    },
}

/// Describes the message `message` (RFC 5322; CRLF or bare LF): its MIME tree, every CMS
/// layer that can be read without a key, and why any part cannot be read. Never panics.
///
/// # Errors
/// [`InspectError::NotAMessage`] when `message` does not start with a header field (an mbox
/// `From ` line may come first), [`InspectError::TooLarge`] over [`MAX_INSPECT_SIZE`].
pub fn inspect(message: &[u8]) -> Result<Inspection, InspectError> {
    walk::inspect(message)
}

#[cfg(test)]
mod tests;

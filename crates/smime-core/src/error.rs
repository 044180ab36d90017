//! Errors, one enum per operation. None of them carries key material or message content.

use std::path::PathBuf;

/// Why an `.eml` could not be read ([`Email::parse`](crate::Email::parse)).
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ParseError {
    /// The input has no bytes at all.
    #[error("the message is empty")]
    Empty,
    /// The input is larger than the configured limit.
    #[error("the message is {size} bytes, over the limit of {limit} bytes")]
    TooLarge {
        /// Size of the input.
        size: u64,
        /// The limit in force.
        limit: u64,
    },
    /// A header line is neither a field nor a continuation: not an email.
    #[error("not an email: header line {line} is not a header field")]
    NotAnEmail {
        /// 1-based line number.
        line: usize,
    },
    /// The header section has no empty line within
    /// [`MAX_HEADER_SIZE`](crate::MAX_HEADER_SIZE) bytes.
    #[error("the header section is over the limit of {limit} bytes")]
    HeaderTooLarge {
        /// The limit in force.
        limit: usize,
    },
    /// One header field, its folded lines together, is over
    /// [`MAX_FIELD_SIZE`](crate::MAX_FIELD_SIZE) bytes.
    #[error("the {header} header field is over the limit of {limit} bytes")]
    FieldTooLarge {
        /// The field's name (at most 64 characters of it).
        header: String,
        /// The limit in force.
        limit: usize,
    },
    /// A header field holds a NUL byte, which RFC 5322 forbids.
    #[error("the {header} header field contains a NUL byte")]
    NulInHeader {
        /// The field's name.
        header: String,
    },
    /// The header has no `From:` address.
    #[error("no From address")]
    NoFrom,
    /// The header has no To, Cc or Bcc address.
    #[error("no recipients: the message has no To, Cc or Bcc address")]
    NoRecipients,
    /// An address header could not be read.
    #[error("the {header} header holds an address that cannot be read: {value:?}")]
    BadAddress {
        /// Header field name.
        header: String,
        /// The offending text (an address, never a secret).
        value: String,
    },
    /// MIME nesting deeper than [`MAX_MIME_DEPTH`](crate::MAX_MIME_DEPTH).
    #[error("MIME parts nested deeper than {limit} levels")]
    TooDeep {
        /// The limit in force.
        limit: usize,
    },
    /// A MIME part's header cannot be read.
    #[error("MIME part {part} has a header that cannot be read")]
    BadPart {
        /// Part number, e.g. `1.2`.
        part: String,
    },
    /// A multipart whose boundary parameter is missing or cannot be read, over content that
    /// is not 7-bit: it cannot be split into its parts, and re-encoding it whole would write a
    /// multipart in base64, which RFC 2045 §6.4 forbids. (A 7-bit one is kept as it is.)
    #[error("{part} is a multipart without a boundary that can be read, and its content is 8-bit")]
    NoBoundary {
        /// `body` or `part N`.
        part: String,
    },
    /// A part has an encoding that cannot be made 7-bit.
    #[error("{part} has transfer encoding {encoding:?} with content that cannot be made 7-bit")]
    BadEncoding {
        /// Part number or `body`.
        part: String,
        /// The Content-Transfer-Encoding.
        encoding: String,
    },
}

/// Which kind of key file a lookup wanted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeyFileKind {
    /// The sender's private key (`<address>.pem`).
    SenderKey,
    /// The sender's certificate (`<address>.crt`, or inside the `.pem`).
    SenderCert,
    /// A recipient's certificate (`<address>.crt`).
    RecipientCert,
}

impl std::fmt::Display for KeyFileKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            KeyFileKind::SenderKey => "sender private key",
            KeyFileKind::SenderCert => "sender certificate",
            KeyFileKind::RecipientCert => "recipient certificate",
        })
    }
}

/// Why a key or certificate could not be loaded or used ([`KeyStore`](crate::KeyStore)).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// The keys directory cannot be read.
    #[error("cannot read keys directory {}: {source}", dir.display())]
    Dir {
        /// The directory.
        dir: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// No file for this address.
    #[error("{kind} file {file} not found in {}", dir.display())]
    NotFound {
        /// What was looked for.
        kind: KeyFileKind,
        /// The file name looked for, `<address>.pem` or `<address>.crt`.
        file: String,
        /// The directory searched.
        dir: PathBuf,
    },
    /// The file cannot be read.
    #[error("cannot read {}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file holds no usable key or certificate.
    #[error("{}: {reason}", path.display())]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong with it (never key bytes).
        reason: String,
    },
    /// A file holds more certificates than [`MAX_CERTS_PER_FILE`](crate::MAX_CERTS_PER_FILE).
    #[error("{}: holds {count} certificates, over the limit of {limit} per file", path.display())]
    TooManyCertificates {
        /// The file.
        path: PathBuf,
        /// How many PEM certificate blocks it holds.
        count: usize,
        /// The limit in force.
        limit: usize,
    },
    /// A private key larger than [`MAX_RSA_BITS`](crate::MAX_RSA_BITS), refused when read,
    /// before the key is loaded or used (whether or not certificate checks are on).
    #[error("{}: holds an RSA private key of {bits} bits; at most {max} bits are accepted", path.display())]
    KeyTooLong {
        /// The key file.
        path: PathBuf,
        /// The modulus size.
        bits: usize,
        /// [`MAX_RSA_BITS`](crate::MAX_RSA_BITS).
        max: usize,
    },
    /// A certificate failed a check before use.
    #[error("{}: certificate for {address} {problem}", path.display())]
    Rejected {
        /// The certificate's file.
        path: PathBuf,
        /// The address it was wanted for.
        address: String,
        /// What failed.
        problem: CertProblem,
    },
}

/// A failed certificate check (RFC 8550).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CertProblem {
    /// Before its notBefore date.
    #[error("is not valid before {not_before}")]
    NotYetValid {
        /// The date, as printed by the certificate.
        not_before: String,
    },
    /// After its notAfter date.
    #[error("expired on {not_after}")]
    Expired {
        /// The date, as printed by the certificate.
        not_after: String,
    },
    /// keyUsage does not allow the operation.
    #[error("has a key usage that does not allow {needed}")]
    KeyUsage {
        /// `digitalSignature` or `keyEncipherment`.
        needed: &'static str,
    },
    /// extendedKeyUsage lacks emailProtection.
    #[error("has an extended key usage without emailProtection")]
    ExtendedKeyUsage,
    /// The address is not in subjectAltName nor in the subject's emailAddress.
    #[error("is issued to {found} instead")]
    AddressMismatch {
        /// The addresses the certificate holds, comma-separated, or `no email address`.
        found: String,
    },
    /// The RSA key is too short.
    #[error("has an RSA key of {bits} bits; at least {min} are required")]
    KeyTooShort {
        /// The key size.
        bits: usize,
        /// The minimum.
        min: usize,
    },
    /// The RSA key is larger than we accept.
    #[error("has an RSA key of {bits} bits; at most {max} are accepted")]
    KeyTooLong {
        /// The key size.
        bits: usize,
        /// The maximum.
        max: usize,
    },
    /// Not an RSA key.
    #[error("has a public key of an unsupported type ({algorithm}); only RSA is supported")]
    UnsupportedKey {
        /// The algorithm OID.
        algorithm: String,
    },
    /// The private key does not belong to this certificate.
    #[error("does not match the private key")]
    KeyMismatch,
}

/// Why a message could not be signed or encrypted ([`Protector::protect`](crate::Protector::protect)).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProtectError {
    /// The message could not be read.
    #[error(transparent)]
    Parse(#[from] ParseError),
    /// A key or certificate was missing or unusable.
    #[error(transparent)]
    Key(#[from] KeyError),
    /// The options ask for nothing (neither signing nor encryption).
    #[error("nothing to do: neither signing nor encryption was requested")]
    NothingToDo,
    /// The signing key failed to sign.
    #[error("signing with the key of {address} failed: {reason}")]
    Sign {
        /// The signer's address.
        address: String,
        /// Why.
        reason: String,
    },
    /// Key transport to a recipient failed.
    #[error("encrypting the content key for {address} failed: {reason}")]
    Encrypt {
        /// The recipient's address.
        address: String,
        /// Why.
        reason: String,
    },
    /// DER encoding failed (a bug or an absurd size).
    #[error("encoding the CMS structure failed: {0}")]
    Encode(#[from] der::Error),
    /// A fixed MIME boundary occurs in the content.
    #[error("the configured MIME boundary {0:?} occurs in the message content")]
    BoundaryInContent(String),
}

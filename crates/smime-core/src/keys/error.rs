//! Errors of loading and checking keys and certificates. None of them carries key material.

use std::path::PathBuf;

use super::passphrase::EncryptedKeyKind;

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
    /// The key file is encrypted and no passphrase was available
    /// ([`KeyStore::with_passphrase_source`](crate::KeyStore::with_passphrase_source)).
    #[error("{}: needs a passphrase ({kind})", path.display())]
    PassphraseNeeded {
        /// The key file.
        path: PathBuf,
        /// What kind of encrypted file it is.
        kind: EncryptedKeyKind,
    },
    /// The passphrase given does not open the key file.
    #[error("{}: wrong passphrase for this {kind} (or the file is damaged)", path.display())]
    WrongPassphrase {
        /// The key file.
        path: PathBuf,
        /// What kind of encrypted file it is.
        kind: EncryptedKeyKind,
    },
    /// The signer's certificate file given
    /// ([`KeyStore::with_signer_cert_file`](crate::KeyStore::with_signer_cert_file)) does not
    /// belong to the signing key.
    #[error(
        "{}: this certificate does not belong to the signing key{}",
        cert.display(),
        key.as_ref().map(|k| format!(" in {}", k.display())).unwrap_or_default()
    )]
    SignerCertMismatch {
        /// The certificate file.
        cert: PathBuf,
        /// The key file, `None` for a key given in memory.
        key: Option<PathBuf>,
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
    /// Neither RSA nor EC on P-256 or P-384.
    #[error(
        "has a public key of an unsupported type ({algorithm}); RSA, and EC on P-256 or P-384, \
         are supported"
    )]
    UnsupportedKey {
        /// The algorithm (its name or OID), or for EC the curve (`EC on curve brainpoolP256r1`).
        algorithm: String,
    },
    /// The private key does not belong to this certificate.
    #[error("does not match the private key")]
    KeyMismatch,
    /// It does not chain to a trust anchor, and trust is required
    /// ([`KeyStore::require_trusted`](crate::KeyStore::require_trusted)).
    #[error("does not chain to a trust anchor: {reason}")]
    Untrusted {
        /// Why not.
        reason: String,
    },
}

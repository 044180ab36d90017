//! # smime-core
//!
//! Turns an ordinary email (`.eml` bytes) into an S/MIME message: signed (opaque or
//! detached), encrypted, or signed then encrypted, as OpenSSL, GnuPG (gpgsm), NSS
//! (Thunderbird) and Outlook read it. Pure Rust, synchronous, bytes in and bytes out.
//!
//! ## Which API should I use?
//!
//! - [`Protector`]: the whole job. Give it a [`KeyStore`] and [`Options`], then call
//!   [`Protector::protect`] for each message; it returns the finished message and its
//!   envelope (sender and every recipient, Bcc included). Share one `Protector` across
//!   threads: keys are loaded once.
//! - [`Email`]: just the parsing (addresses, with display names decoded).
//! - [`Reader`]: the other way round: open an S/MIME message (decrypt with a recipient key,
//!   verify every signature) and get the innermost MIME entity back, with its [`Layer`]s.
//!   It proves integrity and which certificate signed, not that the certificate is trusted.
//! - [`inspect()`]: describe any message without keys (what `smime show` prints): its MIME
//!   tree, and for each S/MIME layer the algorithms, signers, certificates and recipients, as
//!   plain data. It never fails on what is inside a message, and vouches for nothing.
//! - [`SigningKey`]: implement it to sign with a key held elsewhere (another crypto library,
//!   a token, a KMS) and pass it to [`KeyStore::with_signer`].
//!
//! ```no_run
//! use std::sync::Arc;
//! use smime_core::{KeyStore, Options, Protector};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! // `keys/` holds alice@example.com.pem (key + certificate) and bob@example.net.crt.
//! let keys = Arc::new(KeyStore::open("keys")?);
//! let protector = Protector::new(keys, Options::sign_and_encrypt());
//! let eml = std::fs::read("message.eml")?;
//! let out = protector.protect(&eml)?;
//! std::fs::write("message.smime.eml", &out.message)?;
//! println!("MAIL FROM:<{}>", out.mail_from);
//! for r in &out.recipients {
//!     println!("RCPT TO:<{}>", r.mailbox.address);
//! }
//! # Ok(())
//! # }
//! ```
//!
//! ## What it produces
//!
//! - The RFC 5322 header stays outside, in its original order and folding; `Bcc:` is removed
//!   (its addresses stay in the envelope) and `MIME-Version: 1.0` is added.
//! - The MIME entity (the `Content-*` fields and the body) is made canonical and 7-bit before
//!   signing: CRLF, 8-bit parts re-encoded (quoted-printable for text, base64 otherwise), lines
//!   of at most 76 characters in what is encoded, `From ` and trailing white space protected.
//!   Parts that are already safe are untouched, and so are the parts' own headers.
//! - Signing: RSA PKCS#1 v1.5 with SHA-256, the signer named by issuer and serial number,
//!   certificate and chain included; signed attributes contentType, messageDigest,
//!   signingTime and SMIMECapabilities.
//! - Encryption: EnvelopedData, AES-256-CBC (or AES-128-CBC), RSA PKCS#1 v1.5 key transport to
//!   every To, Cc and Bcc recipient and to the sender.
//!
//! ## Where things are
//!
//! The source is grouped by the direction data flows:
//!
//! - `build/`: an `.eml` in, S/MIME out ([`Protector`], [`Options`], the CMS structures).
//! - `read/`: S/MIME in, the content and its layers out ([`Reader`], [`parse_cms`]), or a
//!   description of the message ([`inspect()`]).
//! - `keys/`: keys and certificates, for both ([`KeyStore`], [`SigningKey`], PEM files,
//!   certificate checks).
//!
//! Beside them, `message/` is the RFC 5322 and MIME format both directions parse ([`Email`]),
//! `limits.rs` every size and count limit, and `file.rs` the size-limited
//! [`read_file_limited`].
//!
//! ## Determinism
//!
//! The clock ([`Protector::with_clock`]), the random number generator
//! ([`Protector::protect_with_rng`]) and the MIME boundary ([`Protector::with_boundary`]) can
//! be fixed, which makes the output byte-stable for golden tests.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod build;
mod file;
mod keys;
mod limits;
mod message;
mod read;

pub use build::{
    Cipher, Clock, FixedClock, Options, ProtectError, Protected, Protector, SignMode, SystemClock,
};
pub use file::{FileBuffer, ReadFileError, read_file_limited};
#[cfg(feature = "aws-lc")]
pub use keys::{AwsLcEcSigningKey, AwsLcSigningKey};
pub use keys::{CertProblem, KeyError, KeyFileKind};
pub use keys::{CertStatus, EXPIRING_WITHIN, ListedCertificate, PrivateKeyState};
pub use keys::{CertificateImport, ImportVerdict};
pub use keys::{EcSigningKey, RsaSigningKey, SignatureAlgorithm, SigningFailure, SigningKey};
pub use keys::{EncryptedKeyKind, Passphrase, PassphraseSource};
pub use keys::{KeyBackend, KeyStore, RecipientKey, Signer};
pub use keys::{PathProblem, TrustStore};
pub use limits::{
    MAX_CERTS_PER_FILE, MAX_FIELD_SIZE, MAX_HEADER_SIZE, MAX_KEY_FILE, MAX_MIME_DEPTH,
    MAX_RSA_BITS, MIN_RSA_BITS,
};
pub use message::{Email, Mailbox, ParseError, Recipient, RecipientKind};
pub use read::inspect;
pub use read::inspect::{InspectError, Inspection, MAX_INSPECT_DEPTH, MAX_INSPECT_SIZE};
pub use read::{
    CmsSummary, Layer, MAX_LAYERS, MAX_MESSAGE_SIZE, Opened, ReadError, Reader, VerifiedSigner,
    parse_cms,
};

/// Re-exported so that callers can name the types in our signatures.
pub use rand_core;
pub use x509_cert;
pub use zeroize;

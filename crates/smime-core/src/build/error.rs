//! The error of signing or encrypting a message. It carries no key material or message
//! content.

use crate::keys::KeyError;
use crate::message::ParseError;

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
    /// The content could not be encrypted (a bug: the key or buffer had the wrong length).
    #[error("encrypting the content failed: {reason}")]
    EncryptContent {
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

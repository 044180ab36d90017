//! The reader's error type.

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
    /// More S/MIME layers than [`MAX_LAYERS`](crate::MAX_LAYERS).
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

/// A [`ReadError::Malformed`] for `what` in `layer`.
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

//! Wrapping the content-encryption key for a recipient: RSA PKCS#1 v1.5 key transport
//! (RFC 8551 §2.4.2), with the implementation the key store's [`KeyBackend`] names.
//!
//! RustCrypto's `rsa` takes about 125 µs per 2048-bit public-key operation here; aws-lc-rs
//! about a tenth of that. With two recipients (the recipient and the sender's own copy) this is
//! a fifth of the cost of a signed and encrypted 20 KB message, so the fast backend does it too.
//! aws-lc draws the padding from its own generator, not from the one given to
//! [`Protector::protect_with_rng`](crate::Protector::protect_with_rng): byte-stable output needs
//! [`KeyBackend::RustCrypto`].

use rand_core::CryptoRng;
use x509_cert::Certificate;

use super::backend::KeyBackend;

/// The implementation that wraps keys for one recipient certificate.
pub(crate) enum KeyWrap {
    /// RustCrypto `rsa`, with the caller's random number generator.
    RustCrypto,
    /// aws-lc-rs, with its own generator; the key parsed once.
    #[cfg(feature = "aws-lc")]
    AwsLc(aws_lc_rs::rsa::Pkcs1PublicEncryptingKey),
}

impl std::fmt::Debug for KeyWrap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            KeyWrap::RustCrypto => "RustCrypto",
            #[cfg(feature = "aws-lc")]
            KeyWrap::AwsLc(_) => "AwsLc",
        })
    }
}

impl KeyWrap {
    /// The wrapper for `cert`'s RSA key with `backend`. A key aws-lc refuses falls back to
    /// RustCrypto, which already accepted it.
    pub(crate) fn new(cert: &Certificate, backend: KeyBackend) -> KeyWrap {
        match backend {
            KeyBackend::RustCrypto => {
                let _ = cert;
                KeyWrap::RustCrypto
            }
            #[cfg(feature = "aws-lc")]
            KeyBackend::AwsLc => {
                use der::Encode;
                cert.tbs_certificate()
                    .subject_public_key_info()
                    .to_der()
                    .ok()
                    .and_then(|spki| aws_lc_rs::rsa::PublicEncryptingKey::from_der(&spki).ok())
                    .and_then(|key| aws_lc_rs::rsa::Pkcs1PublicEncryptingKey::new(key).ok())
                    .map_or(KeyWrap::RustCrypto, KeyWrap::AwsLc)
            }
        }
    }

    /// Encrypts the content-encryption key `cek` to `public` (the key of the certificate this
    /// wrapper was made for). The error is a reason, for
    /// [`ProtectError::Encrypt`](crate::ProtectError::Encrypt).
    pub(crate) fn encrypt<R: CryptoRng + ?Sized>(
        &self,
        public: &rsa::PublicKey,
        cek: &[u8],
        rng: &mut R,
    ) -> Result<Vec<u8>, String> {
        match self {
            KeyWrap::RustCrypto => public
                .encrypt(rng, rsa::Pkcs1v15Encrypt, cek)
                .map_err(|e| e.to_string()),
            #[cfg(feature = "aws-lc")]
            KeyWrap::AwsLc(key) => {
                let mut out = vec![0u8; key.ciphertext_size()];
                let len = key
                    .encrypt(cek, &mut out)
                    .map_err(|_| "aws-lc-rs refused to encrypt the key".to_owned())?
                    .len();
                out.truncate(len);
                Ok(out)
            }
        }
    }
}

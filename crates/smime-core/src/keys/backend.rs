//! Which implementation holds the private keys loaded from files, and loading a key's DER into
//! it. [`KeyBackend`] is chosen on the [`KeyStore`](crate::KeyStore) and also decides how
//! key transport is done (`key_transport`).

use std::sync::Arc;

use super::private_key::{KeyFormat, PrivateKeyDer};
use super::signer::{RsaSigningKey, SigningKey};
#[cfg(feature = "aws-lc")]
use super::signer_aws::AwsLcSigningKey;

/// Which implementation holds private keys loaded from files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeyBackend {
    /// RustCrypto `rsa`: pure Rust, constant-time.
    RustCrypto,
    /// aws-lc-rs: native assembly RSA, about ten times faster (feature `aws-lc`).
    #[cfg(feature = "aws-lc")]
    AwsLc,
}

impl Default for KeyBackend {
    /// aws-lc-rs when the `aws-lc` feature is on, RustCrypto otherwise.
    fn default() -> Self {
        #[cfg(feature = "aws-lc")]
        return KeyBackend::AwsLc;
        #[cfg(not(feature = "aws-lc"))]
        return KeyBackend::RustCrypto;
    }
}

impl KeyBackend {
    /// Loads `key` into this implementation. The error is a reason, for
    /// [`KeyError::Invalid`](crate::KeyError::Invalid).
    pub(crate) fn signing_key(self, key: &PrivateKeyDer) -> Result<Arc<dyn SigningKey>, String> {
        let unusable = |e: &dyn std::fmt::Display| match key.format {
            KeyFormat::Pkcs8 => {
                format!("the PRIVATE KEY block is not a usable RSA PKCS#8 key ({e})")
            }
            KeyFormat::Pkcs1 => {
                format!("the RSA PRIVATE KEY block is not a usable PKCS#1 key ({e})")
            }
        };
        match self {
            KeyBackend::RustCrypto => {
                let key = key.to_rsa().map_err(|e| unusable(&e))?;
                Ok(Arc::new(RsaSigningKey::new(key)))
            }
            #[cfg(feature = "aws-lc")]
            KeyBackend::AwsLc => {
                let key = match key.format {
                    KeyFormat::Pkcs8 => AwsLcSigningKey::from_pkcs8_der(&key.der),
                    KeyFormat::Pkcs1 => AwsLcSigningKey::from_pkcs1_der(&key.der),
                }
                .map_err(|e| unusable(&e))?;
                Ok(Arc::new(key))
            }
        }
    }
}

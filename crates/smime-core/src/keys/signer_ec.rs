//! The pure-Rust ECDSA signing key: RustCrypto `p256` (with SHA-256) and `p384` (with
//! SHA-384), deterministic nonces (RFC 6979), DER signatures (`ECDSA-Sig-Value`, which CMS
//! carries, RFC 5753 §7.2). The secret scalar is wiped when the key drops and never printed.

use p256::pkcs8::DecodePrivateKey as _;
use signature::Signer as _;

use super::private_key::EcCurve;
use super::signer::{SignatureAlgorithm, SigningFailure, SigningKey, debug_key};

/// A P-256 or P-384 private key held by RustCrypto.
pub struct EcSigningKey {
    key: Curve,
}

/// The key on its curve.
enum Curve {
    P256(p256::ecdsa::SigningKey),
    P384(p384::ecdsa::SigningKey),
}

impl EcSigningKey {
    /// From the DER of a PKCS#8 `PrivateKeyInfo` holding an EC key on P-256 or P-384.
    ///
    /// # Errors
    /// When the bytes are not such a key.
    pub fn from_pkcs8_der(der: &[u8]) -> Result<Self, SigningFailure> {
        let key = match p256::ecdsa::SigningKey::from_pkcs8_der(der) {
            Ok(k) => Curve::P256(k),
            Err(_) => Curve::P384(p384::ecdsa::SigningKey::from_pkcs8_der(der)?),
        };
        Ok(EcSigningKey { key })
    }

    /// From the DER of a SEC1 `ECPrivateKey` (OpenSSL's `EC PRIVATE KEY`) on P-256 or P-384.
    ///
    /// # Errors
    /// When the bytes are not such a key.
    pub fn from_sec1_der(der: &[u8]) -> Result<Self, SigningFailure> {
        let key = match p256::SecretKey::from_sec1_der(der) {
            Ok(k) => Curve::P256(k.into()),
            Err(_) => Curve::P384(p384::SecretKey::from_sec1_der(der)?.into()),
        };
        Ok(EcSigningKey { key })
    }

    /// The key of a file whose curve was already read from its DER (`private_key`): the
    /// curve is checked again by the decoder.
    pub(crate) fn from_der(der: &[u8], sec1: bool, curve: EcCurve) -> Result<Self, SigningFailure> {
        let key = match (curve, sec1) {
            (EcCurve::P256, false) => Curve::P256(p256::ecdsa::SigningKey::from_pkcs8_der(der)?),
            (EcCurve::P384, false) => Curve::P384(p384::ecdsa::SigningKey::from_pkcs8_der(der)?),
            (EcCurve::P256, true) => Curve::P256(p256::SecretKey::from_sec1_der(der)?.into()),
            (EcCurve::P384, true) => Curve::P384(p384::SecretKey::from_sec1_der(der)?.into()),
        };
        Ok(EcSigningKey { key })
    }
}

impl std::fmt::Debug for EcSigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        debug_key(f, "EcSigningKey", self)
    }
}

impl SigningKey for EcSigningKey {
    fn algorithm(&self) -> SignatureAlgorithm {
        match self.key {
            Curve::P256(_) => SignatureAlgorithm::EcdsaP256Sha256,
            Curve::P384(_) => SignatureAlgorithm::EcdsaP384Sha384,
        }
    }

    fn public_key_der(&self) -> Result<Vec<u8>, SigningFailure> {
        // The uncompressed point, as certificates carry it.
        Ok(match &self.key {
            Curve::P256(k) => k.verifying_key().to_sec1_point(false).as_bytes().to_vec(),
            Curve::P384(k) => k.verifying_key().to_sec1_point(false).as_bytes().to_vec(),
        })
    }

    fn bits(&self) -> usize {
        match self.key {
            Curve::P256(_) => 256,
            Curve::P384(_) => 384,
        }
    }

    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, SigningFailure> {
        Ok(match &self.key {
            Curve::P256(k) => {
                let sig: p256::ecdsa::DerSignature = k.try_sign(message)?;
                sig.to_bytes().to_vec()
            }
            Curve::P384(k) => {
                let sig: p384::ecdsa::DerSignature = k.try_sign(message)?;
                sig.to_bytes().to_vec()
            }
        })
    }
}

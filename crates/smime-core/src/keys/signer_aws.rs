//! The native signing keys: aws-lc-rs (AWS-LC, BoringSSL-derived, assembly RSA and ECDSA),
//! enabled by the `aws-lc` cargo feature. About ten times faster than RustCrypto's `rsa` per
//! signature. Keys live in AWS-LC's memory, which AWS-LC wipes (`OPENSSL_cleanse`) when freed.

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::KeyPair;
use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_ASN1_SIGNING, ECDSA_P384_SHA384_ASN1_SIGNING, EcdsaKeyPair, KeyPair as _,
    RSA_PKCS1_SHA256,
};

use super::signer::{SignatureAlgorithm, SigningFailure, SigningKey, debug_key};

/// An RSA private key held by aws-lc-rs.
pub struct AwsLcSigningKey {
    pair: KeyPair,
    rng: SystemRandom,
}

impl AwsLcSigningKey {
    /// From the DER of a PKCS#8 `PrivateKeyInfo`.
    ///
    /// # Errors
    /// When the bytes are not an RSA key aws-lc-rs accepts (2048 to 8192 bits).
    pub fn from_pkcs8_der(der: &[u8]) -> Result<Self, SigningFailure> {
        Ok(Self::new(
            KeyPair::from_pkcs8(der).map_err(|e| e.to_string())?,
        ))
    }

    /// From the DER of a PKCS#1 `RSAPrivateKey`.
    ///
    /// # Errors
    /// When the bytes are not an RSA key aws-lc-rs accepts (2048 to 8192 bits).
    pub fn from_pkcs1_der(der: &[u8]) -> Result<Self, SigningFailure> {
        Ok(Self::new(
            KeyPair::from_der(der).map_err(|e| e.to_string())?,
        ))
    }

    fn new(pair: KeyPair) -> Self {
        AwsLcSigningKey {
            pair,
            rng: SystemRandom::new(),
        }
    }
}

impl std::fmt::Debug for AwsLcSigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        debug_key(f, "AwsLcSigningKey", self)
    }
}

impl SigningKey for AwsLcSigningKey {
    fn public_key_der(&self) -> Result<Vec<u8>, SigningFailure> {
        Ok(self.pair.public_key().as_ref().to_vec())
    }

    fn bits(&self) -> usize {
        self.pair.public_modulus_len() * 8
    }

    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, SigningFailure> {
        let mut sig = vec![0u8; self.pair.public_modulus_len()];
        self.pair
            .sign(&RSA_PKCS1_SHA256, &self.rng, message, &mut sig)
            .map_err(|_| "aws-lc-rs refused to sign")?;
        Ok(sig)
    }
}

/// A P-256 or P-384 private key held by aws-lc-rs (ECDSA with SHA-256 or SHA-384, signatures
/// in ASN.1 DER as CMS carries them).
pub struct AwsLcEcSigningKey {
    pair: EcdsaKeyPair,
    algorithm: SignatureAlgorithm,
    rng: SystemRandom,
}

impl AwsLcEcSigningKey {
    /// From the DER of a PKCS#8 `PrivateKeyInfo` or of a SEC1 `ECPrivateKey`, on P-256 or
    /// P-384.
    ///
    /// # Errors
    /// When the bytes are not such a key.
    pub fn from_der(der: &[u8]) -> Result<Self, SigningFailure> {
        let p256 = EcdsaKeyPair::from_private_key_der(&ECDSA_P256_SHA256_ASN1_SIGNING, der)
            .map(|pair| (pair, SignatureAlgorithm::EcdsaP256Sha256));
        let (pair, algorithm) = p256
            .or_else(|_| {
                EcdsaKeyPair::from_private_key_der(&ECDSA_P384_SHA384_ASN1_SIGNING, der)
                    .map(|pair| (pair, SignatureAlgorithm::EcdsaP384Sha384))
            })
            .map_err(|e| e.to_string())?;
        Ok(AwsLcEcSigningKey {
            pair,
            algorithm,
            rng: SystemRandom::new(),
        })
    }
}

impl std::fmt::Debug for AwsLcEcSigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        debug_key(f, "AwsLcEcSigningKey", self)
    }
}

impl SigningKey for AwsLcEcSigningKey {
    fn algorithm(&self) -> SignatureAlgorithm {
        self.algorithm
    }

    fn public_key_der(&self) -> Result<Vec<u8>, SigningFailure> {
        // The uncompressed point, as certificates carry it.
        Ok(self.pair.public_key().as_ref().to_vec())
    }

    fn bits(&self) -> usize {
        match self.algorithm {
            SignatureAlgorithm::EcdsaP384Sha384 => 384,
            _ => 256,
        }
    }

    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, SigningFailure> {
        let sig = self
            .pair
            .sign(&self.rng, message)
            .map_err(|_| "aws-lc-rs refused to sign")?;
        Ok(sig.as_ref().to_vec())
    }
}

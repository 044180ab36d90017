//! The signing-key seam: anything that can make an RSA PKCS#1 v1.5 / SHA-256 signature over the
//! signed attributes. The default is RustCrypto's `rsa` (pure Rust); other implementations
//! (a faster native library, a PKCS#11 token, a cloud KMS) implement [`SigningKey`] and are
//! handed to [`KeyStore::with_signer`](crate::KeyStore::with_signer).

use const_oid::db::rfc5912::RSA_ENCRYPTION;
use der::asn1::Null;
use pkcs1::EncodeRsaPublicKey;
use rsa::traits::PublicKeyParts;
use sha2::{Digest, Sha256};
use spki::AlgorithmIdentifierOwned;

/// Error from a signing key, as text: implementations must never put key material in it.
pub type SigningFailure = Box<dyn std::error::Error + Send + Sync>;

/// A private key that signs CMS SignerInfos.
///
/// `sign` receives the DER of the signed attributes (a few hundred bytes) and hashes it with
/// SHA-256 itself, so that a key held elsewhere can choose to send either the digest or the
/// data. Implementations must be usable from several threads at once.
pub trait SigningKey: Send + Sync + std::fmt::Debug {
    /// The `signatureAlgorithm` recorded in the SignerInfo (RSA: `rsaEncryption`, NULL
    /// parameters, which every verifier reads).
    fn signature_algorithm(&self) -> AlgorithmIdentifierOwned {
        rsa_encryption()
    }

    /// The public key as the DER of PKCS#1 `RSAPublicKey` (the contents of a certificate's
    /// subjectPublicKey BIT STRING), used to check that key and certificate belong together.
    fn public_key_der(&self) -> Result<Vec<u8>, SigningFailure>;

    /// Size of the modulus in bits.
    fn bits(&self) -> usize;

    /// Signs `message` with RSASSA-PKCS1-v1_5 over SHA-256 and returns the signature bytes.
    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, SigningFailure>;
}

/// `rsaEncryption` with NULL parameters.
pub(crate) fn rsa_encryption() -> AlgorithmIdentifierOwned {
    AlgorithmIdentifierOwned {
        oid: RSA_ENCRYPTION,
        parameters: Some(Null.into()),
    }
}

/// The pure-Rust default: RustCrypto `rsa`, constant-time since 0.10. The key is wiped when
/// dropped and never printed.
pub struct RsaSigningKey {
    key: rsa::PrivateKey,
}

impl RsaSigningKey {
    /// Wraps a RustCrypto RSA private key.
    pub fn new(key: rsa::PrivateKey) -> Self {
        RsaSigningKey { key }
    }
}

/// `Name { bits: N, .. }`: a key's `Debug`, which shows its size and never its material.
pub(crate) fn debug_key(
    f: &mut std::fmt::Formatter<'_>,
    name: &str,
    key: &dyn SigningKey,
) -> std::fmt::Result {
    f.debug_struct(name)
        .field("bits", &key.bits())
        .finish_non_exhaustive()
}

impl std::fmt::Debug for RsaSigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        debug_key(f, "RsaSigningKey", self)
    }
}

impl SigningKey for RsaSigningKey {
    fn public_key_der(&self) -> Result<Vec<u8>, SigningFailure> {
        Ok(self.key.to_public_key().to_pkcs1_der()?.into_vec())
    }

    fn bits(&self) -> usize {
        self.key.size() * 8
    }

    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, SigningFailure> {
        let digest = Sha256::digest(message);
        Ok(self.key.sign(rsa::Pkcs1v15Sign::new::<Sha256>(), &digest)?)
    }
}

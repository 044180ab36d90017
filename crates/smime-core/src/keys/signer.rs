//! The signing-key seam: anything that can make an RSA PKCS#1 v1.5 / SHA-256 or an ECDSA
//! (P-256 / SHA-256, P-384 / SHA-384) signature over the signed attributes. The key says which
//! ([`SignatureAlgorithm`]), and the SignedData is built to match (digest, signatureAlgorithm,
//! `micalg`). The defaults are RustCrypto's `rsa` (pure Rust) and `p256`/`p384`
//! (`signer_ec`); other implementations (a faster native library, a PKCS#11 token, a cloud
//! KMS) implement [`SigningKey`] and are handed to
//! [`KeyStore::with_signer`](crate::KeyStore::with_signer).

use const_oid::ObjectIdentifier;
use const_oid::db::rfc5912::{
    ECDSA_WITH_SHA_256, ECDSA_WITH_SHA_384, ID_SHA_256, ID_SHA_384, RSA_ENCRYPTION,
};
use der::asn1::Null;
use pkcs1::EncodeRsaPublicKey;
use rsa::traits::PublicKeyParts;
use sha2::{Digest, Sha256};
use spki::AlgorithmIdentifierOwned;

/// Error from a signing key, as text: implementations must never put key material in it.
pub type SigningFailure = Box<dyn std::error::Error + Send + Sync>;

/// What a [`SigningKey`] signs with. It fixes the whole SignerInfo: the digest of the content
/// (digestAlgorithms, the messageDigest attribute, the `micalg` of `multipart/signed`), the
/// signatureAlgorithm, and the hash the key applies to the signed attributes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SignatureAlgorithm {
    /// RSASSA-PKCS1-v1_5 with SHA-256 (recorded as `rsaEncryption`, NULL parameters).
    RsaPkcs1Sha256,
    /// ECDSA on P-256 with SHA-256 (`ecdsa-with-SHA256`, RFC 5754 / RFC 5758).
    EcdsaP256Sha256,
    /// ECDSA on P-384 with SHA-384 (`ecdsa-with-SHA384`).
    EcdsaP384Sha384,
}

impl SignatureAlgorithm {
    /// The SignerInfo's `signatureAlgorithm`: `rsaEncryption` with NULL parameters (which
    /// every verifier reads), or `ecdsa-with-SHA256`/`-SHA384` with the parameters absent
    /// (RFC 5758 §3.2).
    pub fn identifier(self) -> AlgorithmIdentifierOwned {
        match self {
            SignatureAlgorithm::RsaPkcs1Sha256 => rsa_encryption(),
            SignatureAlgorithm::EcdsaP256Sha256 => AlgorithmIdentifierOwned {
                oid: ECDSA_WITH_SHA_256,
                parameters: None,
            },
            SignatureAlgorithm::EcdsaP384Sha384 => AlgorithmIdentifierOwned {
                oid: ECDSA_WITH_SHA_384,
                parameters: None,
            },
        }
    }

    /// The OID of the digest: SHA-256, or SHA-384 with P-384.
    pub fn digest_oid(self) -> ObjectIdentifier {
        match self {
            SignatureAlgorithm::RsaPkcs1Sha256 | SignatureAlgorithm::EcdsaP256Sha256 => ID_SHA_256,
            SignatureAlgorithm::EcdsaP384Sha384 => ID_SHA_384,
        }
    }

    /// The digest's name in the `micalg` parameter of `multipart/signed` (RFC 8551 §3.5.3.2).
    pub fn micalg(self) -> &'static str {
        match self {
            SignatureAlgorithm::RsaPkcs1Sha256 | SignatureAlgorithm::EcdsaP256Sha256 => "sha-256",
            SignatureAlgorithm::EcdsaP384Sha384 => "sha-384",
        }
    }

    /// The digest of `data` with this algorithm's hash.
    pub(crate) fn digest(self, data: &[u8]) -> Vec<u8> {
        match self.digest_oid() {
            ID_SHA_384 => sha2::Sha384::digest(data).to_vec(),
            _ => Sha256::digest(data).to_vec(),
        }
    }
}

/// A private key that signs CMS SignerInfos.
///
/// `sign` receives the DER of the signed attributes (a few hundred bytes) and hashes it
/// itself, with the hash of its [`algorithm`](Self::algorithm), so that a key held elsewhere
/// can choose to send either the digest or the data. Implementations must be usable from
/// several threads at once.
pub trait SigningKey: Send + Sync + std::fmt::Debug {
    /// What this key signs with; the SignedData is built to match. The default, RSA PKCS#1
    /// v1.5 with SHA-256, is what every implementation did before EC keys.
    fn algorithm(&self) -> SignatureAlgorithm {
        SignatureAlgorithm::RsaPkcs1Sha256
    }

    /// The `signatureAlgorithm` recorded in the SignerInfo: by default that of
    /// [`algorithm`](Self::algorithm) ([`SignatureAlgorithm::identifier`]).
    fn signature_algorithm(&self) -> AlgorithmIdentifierOwned {
        self.algorithm().identifier()
    }

    /// The contents of the certificate's subjectPublicKey BIT STRING: the DER of PKCS#1
    /// `RSAPublicKey` for RSA, the uncompressed SEC1 point for EC. Used to check that key and
    /// certificate belong together.
    fn public_key_der(&self) -> Result<Vec<u8>, SigningFailure>;

    /// Size of the key in bits: the modulus for RSA, the curve's for EC (256, 384).
    fn bits(&self) -> usize;

    /// Signs `message` and returns the signature bytes: RSASSA-PKCS1-v1_5 over SHA-256, or a
    /// DER `ECDSA-Sig-Value` over SHA-256 (P-256) or SHA-384 (P-384), as
    /// [`algorithm`](Self::algorithm) says.
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

/// `Name { bits: N, .. }` (and the algorithm when not RSA): a key's `Debug`, which shows its
/// size and never its material.
pub(crate) fn debug_key(
    f: &mut std::fmt::Formatter<'_>,
    name: &str,
    key: &dyn SigningKey,
) -> std::fmt::Result {
    let mut d = f.debug_struct(name);
    if key.algorithm() != SignatureAlgorithm::RsaPkcs1Sha256 {
        d.field("algorithm", &key.algorithm());
    }
    d.field("bits", &key.bits()).finish_non_exhaustive()
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

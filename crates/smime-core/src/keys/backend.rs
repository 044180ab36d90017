//! Which implementation holds the private keys loaded from files, and loading a key's DER into
//! it. [`KeyBackend`] is chosen on the [`KeyStore`](crate::KeyStore) and also decides how
//! key transport is done (`key_transport`).

use std::sync::Arc;

use super::private_key::{KeyAlgorithm, KeyFormat, PrivateKeyDer};
use super::signer::{RsaSigningKey, SigningKey};
#[cfg(feature = "aws-lc")]
use super::signer_aws::{AwsLcEcSigningKey, AwsLcSigningKey};
use super::signer_ec::EcSigningKey;

/// Which implementation holds private keys loaded from files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeyBackend {
    /// RustCrypto `rsa`, `p256` and `p384`: pure Rust, constant-time.
    RustCrypto,
    /// aws-lc-rs: native assembly RSA and ECDSA, about ten times faster RSA (feature
    /// `aws-lc`).
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
        if let KeyAlgorithm::Ec(curve) = key.algorithm().map_err(|p| p.to_string())? {
            return self.ec_signing_key(key, curve);
        }
        let unusable = |e: &dyn std::fmt::Display| match key.format {
            KeyFormat::Pkcs8 => {
                format!("the PRIVATE KEY block is not a usable RSA PKCS#8 key ({e})")
            }
            KeyFormat::Pkcs1 | KeyFormat::Sec1 => {
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
                    KeyFormat::Pkcs1 | KeyFormat::Sec1 => AwsLcSigningKey::from_pkcs1_der(&key.der),
                }
                .map_err(|e| unusable(&e))?;
                Ok(Arc::new(key))
            }
        }
    }

    /// An EC key on `curve` (already read from its DER) loaded into this implementation.
    fn ec_signing_key(
        self,
        key: &PrivateKeyDer,
        curve: super::private_key::EcCurve,
    ) -> Result<Arc<dyn SigningKey>, String> {
        let sec1 = key.format == KeyFormat::Sec1;
        let unusable = |e: &dyn std::fmt::Display| {
            if sec1 {
                format!("the EC PRIVATE KEY block is not a usable SEC1 key ({e})")
            } else {
                format!("the PRIVATE KEY block is not a usable EC PKCS#8 key ({e})")
            }
        };
        match self {
            KeyBackend::RustCrypto => {
                let key =
                    EcSigningKey::from_der(&key.der, sec1, curve).map_err(|e| unusable(&e))?;
                Ok(Arc::new(key))
            }
            #[cfg(feature = "aws-lc")]
            KeyBackend::AwsLc => {
                let key = AwsLcEcSigningKey::from_der(&key.der).map_err(|e| unusable(&e))?;
                Ok(Arc::new(key))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use signature::hazmat::PrehashVerifier as _;
    use x509_cert::Certificate;
    use zeroize::Zeroizing;

    use super::*;
    use crate::keys::pem;
    use crate::keys::private_key::{self, EcCurve, KeyAlgorithm};
    use crate::keys::signer::SignatureAlgorithm;

    fn ec_file(name: &str) -> Vec<u8> {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/pki/ec");
        std::fs::read(dir.join(name)).unwrap()
    }

    fn backends() -> Vec<KeyBackend> {
        vec![
            KeyBackend::RustCrypto,
            #[cfg(feature = "aws-lc")]
            KeyBackend::AwsLc,
        ]
    }

    /// Signs with `address`'s key through `backend` and checks the signature with the
    /// certificate's public key (RustCrypto), over the hash the algorithm names.
    fn sign_and_verify(backend: KeyBackend, address: &str, algorithm: SignatureAlgorithm) {
        let data = ec_file(&format!("{address}.pem"));
        let key = private_key::private_key(&data).ok().unwrap();
        let signer = backend.signing_key(&key).unwrap();
        assert_eq!(signer.algorithm(), algorithm, "{backend:?} {address}");
        let blocks = pem::blocks(&data);
        let cert = blocks.iter().find(|b| b.label == "CERTIFICATE").unwrap();
        let cert = <Certificate as der::Decode>::from_der(&cert.der).unwrap();
        let point = cert
            .tbs_certificate()
            .subject_public_key_info()
            .subject_public_key
            .raw_bytes()
            .to_vec();
        assert_eq!(
            signer.public_key_der().unwrap(),
            point,
            "{backend:?} {address}"
        );
        let message = b"the signed attributes";
        let signature = signer.sign(message).unwrap();
        let digest = algorithm.digest(message);
        let good = match algorithm {
            SignatureAlgorithm::EcdsaP256Sha256 => {
                let key = p256::ecdsa::VerifyingKey::from_sec1_bytes(&point).unwrap();
                let sig = p256::ecdsa::DerSignature::from_bytes(&signature).unwrap();
                key.verify_prehash(&digest, &sig).is_ok()
            }
            _ => {
                let key = p384::ecdsa::VerifyingKey::from_sec1_bytes(&point).unwrap();
                let sig = p384::ecdsa::DerSignature::from_bytes(&signature).unwrap();
                key.verify_prehash(&digest, &sig).is_ok()
            }
        };
        assert!(good, "{backend:?} {address}: the signature does not verify");
        // And not over other bytes.
        let other = algorithm.digest(b"other bytes");
        let bad = match algorithm {
            SignatureAlgorithm::EcdsaP256Sha256 => {
                p256::ecdsa::VerifyingKey::from_sec1_bytes(&point)
                    .unwrap()
                    .verify_prehash(
                        &other,
                        &p256::ecdsa::DerSignature::from_bytes(&signature).unwrap(),
                    )
                    .is_ok()
            }
            _ => p384::ecdsa::VerifyingKey::from_sec1_bytes(&point)
                .unwrap()
                .verify_prehash(
                    &other,
                    &p384::ecdsa::DerSignature::from_bytes(&signature).unwrap(),
                )
                .is_ok(),
        };
        assert!(!bad, "{backend:?} {address}");
        // The key material is not in Debug.
        let debug = format!("{signer:?}");
        assert!(debug.contains("bits"), "{debug}");
    }

    #[test]
    fn both_backends_sign_with_p256_and_p384_and_the_signatures_verify() {
        for backend in backends() {
            sign_and_verify(
                backend,
                "frank@example.com",
                SignatureAlgorithm::EcdsaP256Sha256,
            );
            sign_and_verify(
                backend,
                "grace@example.org",
                SignatureAlgorithm::EcdsaP384Sha384,
            );
        }
    }

    #[test]
    fn ec_keys_from_pkcs12_der_load_in_both_backends() {
        // What keys/pkcs12.rs hands out: PKCS#8 DER.
        let data = ec_file("frank@example.com.pem");
        let blocks = pem::blocks(&data);
        let der = blocks.iter().find(|b| b.label == "PRIVATE KEY").unwrap();
        let key = private_key::PrivateKeyDer::pkcs8(Zeroizing::new(der.der.to_vec()));
        assert_eq!(key.algorithm(), Ok(KeyAlgorithm::Ec(EcCurve::P256)));
        for backend in backends() {
            let signer = backend.signing_key(&key).unwrap();
            assert_eq!(signer.bits(), 256);
        }
    }

    #[test]
    fn an_unsupported_curve_is_refused_by_name_by_every_backend() {
        let data = ec_file("henry@example.net.pem");
        let blocks = pem::blocks(&data);
        let der = blocks.iter().find(|b| b.label == "PRIVATE KEY").unwrap();
        let key = private_key::PrivateKeyDer::pkcs8(Zeroizing::new(der.der.to_vec()));
        for backend in backends() {
            let reason = backend.signing_key(&key).unwrap_err();
            assert_eq!(
                reason,
                "holds an EC key on curve brainpoolP256r1, which is not supported (P-256 and P-384 are)"
            );
        }
    }
}

//! Certificate checks before use (RFC 8550): dates, key usage, extended key usage, address,
//! key type and size. RSA keys (within the accepted sizes) and EC keys on P-256 and P-384 both
//! sign (RSA, ECDSA) and are encrypted to (RSA key transport, ECDH key agreement).

use std::time::SystemTime;

use const_oid::ObjectIdentifier;
use const_oid::db::rfc3280::EMAIL_ADDRESS as ID_EMAIL_ADDRESS;
use const_oid::db::rfc5912::{
    ID_EC_PUBLIC_KEY, ID_KP_EMAIL_PROTECTION, RSA_ENCRYPTION, SECP_256_R_1, SECP_384_R_1,
};
use der::Decode;
use der::asn1::Ia5StringRef;
use rsa::traits::PublicKeyParts;
use x509_cert::Certificate;
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::ext::pkix::{ExtendedKeyUsage, KeyUsage, KeyUsages, SubjectAltName};

use super::error::CertProblem;
use super::key_agreement::EcPublicKey;
use super::private_key::oid_name;
use crate::limits::{MAX_RSA_BITS, MIN_RSA_BITS};

/// `anyExtendedKeyUsage` (RFC 5280 §4.2.1.12).
const ANY_EKU: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.37.0");

/// What a certificate is about to be used for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Purpose {
    /// Signing (digitalSignature or nonRepudiation).
    Sign,
    /// Encryption: keyEncipherment for RSA key transport, keyAgreement for ECDH.
    Encrypt,
}

/// Runs every check; the first failure is returned.
pub(crate) fn check(
    cert: &Certificate,
    address: &str,
    purpose: Purpose,
    now: SystemTime,
) -> Result<(), CertProblem> {
    check_address(cert, address)?;
    check_dates(cert, now)?;
    check_key(cert)?;
    check_usage(cert, purpose)
}

/// The type of a certificate's public key, as far as we use it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CertKey {
    Rsa,
    /// EC on P-256 or P-384.
    Ec,
}

/// The key type of `cert`: RSA, or EC on a supported curve; anything else is
/// [`CertProblem::UnsupportedKey`] naming the algorithm (or the curve).
fn key_type(cert: &Certificate) -> Result<CertKey, CertProblem> {
    let algorithm = &cert.tbs_certificate().subject_public_key_info().algorithm;
    if algorithm.oid == RSA_ENCRYPTION {
        return Ok(CertKey::Rsa);
    }
    if algorithm.oid != ID_EC_PUBLIC_KEY {
        return Err(CertProblem::UnsupportedKey {
            algorithm: oid_name(&algorithm.oid),
        });
    }
    let curve = algorithm
        .parameters
        .as_ref()
        .and_then(|p| p.decode_as::<ObjectIdentifier>().ok());
    match curve {
        Some(SECP_256_R_1 | SECP_384_R_1) => Ok(CertKey::Ec),
        Some(curve) => Err(CertProblem::UnsupportedKey {
            algorithm: format!("EC on curve {}", oid_name(&curve)),
        }),
        None => Err(CertProblem::UnsupportedKey {
            algorithm: "EC without a named curve".to_owned(),
        }),
    }
}

/// The key type and size rules: RSA within the accepted sizes, EC on P-256 or P-384.
fn check_key(cert: &Certificate) -> Result<(), CertProblem> {
    match key_type(cert)? {
        CertKey::Rsa => rsa_public_key(cert).map(drop),
        CertKey::Ec => Ok(()),
    }
}

/// True when the certificate's key is an EC key (on any curve).
fn is_ec(cert: &Certificate) -> bool {
    cert.tbs_certificate()
        .subject_public_key_info()
        .algorithm
        .oid
        == ID_EC_PUBLIC_KEY
}

/// A recipient's public key: what the content-encryption key is wrapped for.
#[derive(Debug)]
pub(crate) enum EncryptionKey {
    /// RSA: key transport.
    Rsa(rsa::PublicKey),
    /// EC on P-256 or P-384: ECDH key agreement.
    Ec(EcPublicKey),
}

/// The key to encrypt to, after [`check`]: RSA within the accepted sizes, or EC on P-256 or
/// P-384.
pub(crate) fn encryption_key(cert: &Certificate) -> Result<EncryptionKey, CertProblem> {
    match key_type(cert)? {
        CertKey::Rsa => rsa_public_key(cert).map(EncryptionKey::Rsa),
        CertKey::Ec => ec_key(cert),
    }
}

/// The key to encrypt to when checks are off: no size rules.
pub(crate) fn encryption_key_unchecked(cert: &Certificate) -> Result<EncryptionKey, CertProblem> {
    if is_ec(cert) {
        key_type(cert)?;
        return ec_key(cert);
    }
    rsa_public_key_unchecked(cert)
        .map(EncryptionKey::Rsa)
        .ok_or(CertProblem::UnsupportedKey {
            algorithm: "not RSA".to_owned(),
        })
}

fn ec_key(cert: &Certificate) -> Result<EncryptionKey, CertProblem> {
    ec_public_key(cert)
        .map(EncryptionKey::Ec)
        .ok_or(CertProblem::UnsupportedKey {
            algorithm: "malformed EC key".to_owned(),
        })
}

/// The email addresses a certificate is issued to: subjectAltName rfc822Names, then the
/// subject's emailAddress attributes.
pub(crate) fn addresses(cert: &Certificate) -> Vec<String> {
    let mut out = Vec::new();
    if let Ok(Some((_, san))) = cert.tbs_certificate().get_extension::<SubjectAltName>() {
        for name in &san.0 {
            if let GeneralName::Rfc822Name(s) = name {
                out.push(s.as_str().to_owned());
            }
        }
    }
    for atv in cert.tbs_certificate().subject().iter() {
        if atv.oid == ID_EMAIL_ADDRESS
            && let Ok(s) = Ia5StringRef::try_from(&atv.value)
        {
            out.push(s.as_str().to_owned());
        }
    }
    out
}

/// Whether the certificate is a CA's (basicConstraints cA): not a person's.
pub(crate) fn is_ca(cert: &Certificate) -> bool {
    matches!(
        cert.tbs_certificate().get_extension::<x509_cert::ext::pkix::BasicConstraints>(),
        Ok(Some((_, bc))) if bc.ca
    )
}

/// True when the certificate names `address` (compared ignoring ASCII case).
pub(crate) fn names_address(cert: &Certificate, address: &str) -> bool {
    addresses(cert)
        .iter()
        .any(|a| a.eq_ignore_ascii_case(address))
}

fn check_address(cert: &Certificate, address: &str) -> Result<(), CertProblem> {
    if names_address(cert, address) {
        return Ok(());
    }
    // Each address once (subjectAltName and emailAddress often repeat it), and a few only: a
    // certificate may list thousands.
    const SHOWN: usize = 5;
    let mut found: Vec<String> = Vec::new();
    for a in addresses(cert) {
        if !found.iter().any(|f| f.eq_ignore_ascii_case(&a)) {
            found.push(a);
        }
    }
    let more = found.len().saturating_sub(SHOWN);
    found.truncate(SHOWN);
    let mut text = found.join(", ");
    if more > 0 {
        text.push_str(&format!(" and {more} more"));
    }
    Err(CertProblem::AddressMismatch {
        found: if found.is_empty() {
            "no email address".to_owned()
        } else {
            text
        },
    })
}

/// The validity dates alone (also re-checked on each use of a cached certificate).
pub(crate) fn check_dates(cert: &Certificate, now: SystemTime) -> Result<(), CertProblem> {
    let validity = cert.tbs_certificate().validity();
    if now < validity.not_before.to_system_time() {
        return Err(CertProblem::NotYetValid {
            not_before: validity.not_before.to_string(),
        });
    }
    if now > validity.not_after.to_system_time() {
        return Err(CertProblem::Expired {
            not_after: validity.not_after.to_string(),
        });
    }
    Ok(())
}

fn check_usage(cert: &Certificate, purpose: Purpose) -> Result<(), CertProblem> {
    let tbs = cert.tbs_certificate();
    let encipher = if is_ec(cert) {
        KeyUsages::KeyAgreement
    } else {
        KeyUsages::KeyEncipherment
    };
    // An extension that does not decode counts as not allowing the use.
    match tbs.get_extension::<KeyUsage>() {
        Ok(None) => {}
        Ok(Some((_, ku))) => {
            let ok = match purpose {
                Purpose::Sign => {
                    ku.0.contains(KeyUsages::DigitalSignature)
                        || ku.0.contains(KeyUsages::NonRepudiation)
                }
                Purpose::Encrypt => ku.0.contains(encipher),
            };
            if !ok {
                return Err(key_usage_problem(purpose, encipher));
            }
        }
        Err(_) => return Err(key_usage_problem(purpose, encipher)),
    }
    match tbs.get_extension::<ExtendedKeyUsage>() {
        Ok(None) => Ok(()),
        Ok(Some((_, eku)))
            if eku
                .0
                .iter()
                .any(|o| *o == ID_KP_EMAIL_PROTECTION || *o == ANY_EKU) =>
        {
            Ok(())
        }
        _ => Err(CertProblem::ExtendedKeyUsage),
    }
}

fn key_usage_problem(purpose: Purpose, encipher: KeyUsages) -> CertProblem {
    CertProblem::KeyUsage {
        needed: match (purpose, encipher) {
            (Purpose::Sign, _) => "digitalSignature",
            (Purpose::Encrypt, KeyUsages::KeyAgreement) => "keyAgreement",
            (Purpose::Encrypt, _) => "keyEncipherment",
        },
    }
}

/// The certificate's RSA public key, within the accepted sizes.
pub(crate) fn rsa_public_key(cert: &Certificate) -> Result<rsa::PublicKey, CertProblem> {
    let spki = cert.tbs_certificate().subject_public_key_info();
    if spki.algorithm.oid != RSA_ENCRYPTION {
        return Err(CertProblem::UnsupportedKey {
            algorithm: spki.algorithm.oid.to_string(),
        });
    }
    let raw = spki.subject_public_key.raw_bytes();
    let pkcs1 = pkcs1::RsaPublicKey::<der::asn1::UintRef<'_>>::from_der(raw).map_err(|_| {
        CertProblem::UnsupportedKey {
            algorithm: "malformed RSA key".to_owned(),
        }
    })?;
    let bits = pkcs1.modulus.as_bytes().len() * 8
        - pkcs1
            .modulus
            .as_bytes()
            .first()
            .map_or(0, |b| b.leading_zeros() as usize);
    if bits < MIN_RSA_BITS {
        return Err(CertProblem::KeyTooShort {
            bits,
            min: MIN_RSA_BITS,
        });
    }
    if bits > MAX_RSA_BITS {
        return Err(CertProblem::KeyTooLong {
            bits,
            max: MAX_RSA_BITS,
        });
    }
    rsa_public_key_unchecked(cert).ok_or(CertProblem::UnsupportedKey {
        algorithm: "malformed RSA key".to_owned(),
    })
}

/// The RSA public key without policy checks (used when checks are turned off).
pub(crate) fn rsa_public_key_unchecked(cert: &Certificate) -> Option<rsa::PublicKey> {
    let spki = cert.tbs_certificate().subject_public_key_info();
    let der = der::Encode::to_der(spki).ok()?;
    let spki_ref = spki::SubjectPublicKeyInfoRef::from_der(&der).ok()?;
    let key = rsa::PublicKey::try_from(spki_ref).ok()?;
    (key.size() > 0).then_some(key)
}

/// An EC public key that verifies signatures.
pub(crate) enum EcVerifyingKey {
    /// On P-256.
    P256(p256::ecdsa::VerifyingKey),
    /// On P-384.
    P384(p384::ecdsa::VerifyingKey),
}

/// The certificate's EC public key on P-256 or P-384; `None` for any other key.
pub(crate) fn ec_public_key(cert: &Certificate) -> Option<EcPublicKey> {
    let spki = cert.tbs_certificate().subject_public_key_info();
    if spki.algorithm.oid != ID_EC_PUBLIC_KEY {
        return None;
    }
    let point = spki.subject_public_key.as_bytes()?;
    let curve = spki.algorithm.parameters.as_ref()?;
    match curve.decode_as::<ObjectIdentifier>().ok()? {
        SECP_256_R_1 => p256::PublicKey::from_sec1_bytes(point)
            .ok()
            .map(EcPublicKey::P256),
        SECP_384_R_1 => p384::PublicKey::from_sec1_bytes(point)
            .ok()
            .map(EcPublicKey::P384),
        _ => None,
    }
}

/// The certificate's EC public key on P-256 or P-384, for ECDSA; `None` for any other key.
pub(crate) fn ec_verifying_key(cert: &Certificate) -> Option<EcVerifyingKey> {
    Some(match ec_public_key(cert)? {
        EcPublicKey::P256(k) => EcVerifyingKey::P256(k.into()),
        EcPublicKey::P384(k) => EcVerifyingKey::P384(k.into()),
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn ec_cert(address: &str) -> Certificate {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../testdata/pki/ec")
            .join(format!("{address}.crt"));
        let data = std::fs::read(path).unwrap();
        let blocks = super::super::pem::blocks(&data);
        Certificate::from_der(&blocks[0].der).unwrap()
    }

    /// 2026-06-01, inside the test certificates' validity.
    fn now() -> SystemTime {
        SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_780_315_200)
    }

    #[test]
    fn ec_certificates_sign_on_p256_and_p384_only() {
        for address in ["frank@example.com", "grace@example.org"] {
            assert_eq!(
                check(&ec_cert(address), address, Purpose::Sign, now()),
                Ok(())
            );
        }
        let problem = check(
            &ec_cert("henry@example.net"),
            "henry@example.net",
            Purpose::Sign,
            now(),
        )
        .unwrap_err();
        assert_eq!(
            problem,
            CertProblem::UnsupportedKey {
                algorithm: "EC on curve brainpoolP256r1".to_owned()
            }
        );
        assert_eq!(
            problem.to_string(),
            "has a public key of an unsupported type (EC on curve brainpoolP256r1); RSA, and EC \
             on P-256 or P-384, are supported"
        );
    }

    #[test]
    fn ec_certificates_are_encrypted_to_with_key_agreement_usage() {
        for address in ["frank@example.com", "grace@example.org"] {
            let cert = ec_cert(address);
            assert_eq!(check(&cert, address, Purpose::Encrypt, now()), Ok(()));
            assert!(matches!(encryption_key(&cert), Ok(EncryptionKey::Ec(_))));
            assert!(matches!(
                encryption_key_unchecked(&cert),
                Ok(EncryptionKey::Ec(_))
            ));
        }
        let henry = ec_cert("henry@example.net");
        assert!(matches!(
            encryption_key_unchecked(&henry),
            Err(CertProblem::UnsupportedKey { .. })
        ));
        assert_eq!(
            key_usage_problem(Purpose::Encrypt, KeyUsages::KeyAgreement).to_string(),
            CertProblem::KeyUsage {
                needed: "keyAgreement"
            }
            .to_string()
        );
    }
}

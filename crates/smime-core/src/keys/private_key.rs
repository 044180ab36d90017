//! The private key in a key file, found the same way for both directions: by the
//! [`KeyStore`](crate::KeyStore) for signing and by the [`Reader`](crate::Reader) for
//! decrypting. PEM (PKCS#8 `PRIVATE KEY`, PKCS#1 `RSA PRIVATE KEY` or SEC1 `EC PRIVATE KEY`,
//! text around the blocks tolerated) or the whole file as DER. RSA keys of any size and EC keys
//! on P-256 and P-384 ([`KeyAlgorithm`]); other curves are refused by name. Each caller words a
//! [`KeyFileProblem`] for its own error type.

use const_oid::ObjectIdentifier;
use const_oid::db::rfc5912::{ID_EC_PUBLIC_KEY, RSA_ENCRYPTION, SECP_256_R_1, SECP_384_R_1};
use der::Decode;
use pkcs1::DecodeRsaPrivateKey;
use pkcs8::DecodePrivateKey;
use zeroize::Zeroizing;

use super::encrypted_pem::{self, EncryptedPemProblem};
use super::passphrase::{EncryptedKeyKind, Passphrase};
use super::pbe::{self, PbeProblem};
use super::pem::{self, PemBlock};

/// How the private key was encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum KeyFormat {
    /// PKCS#8 `PrivateKeyInfo` (`PRIVATE KEY`): RSA or EC.
    Pkcs8,
    /// PKCS#1 `RSAPrivateKey` (`RSA PRIVATE KEY`).
    Pkcs1,
    /// SEC1 `ECPrivateKey` (`EC PRIVATE KEY`, RFC 5915): OpenSSL's traditional EC form.
    Sec1,
}

/// The elliptic curves an EC key may be on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum EcCurve {
    /// NIST P-256 (secp256r1, prime256v1).
    P256,
    /// NIST P-384 (secp384r1).
    P384,
}

/// What kind of key a [`PrivateKeyDer`] holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum KeyAlgorithm {
    /// RSA.
    Rsa,
    /// EC (ECDSA for signing) on a supported curve.
    Ec(EcCurve),
}

/// A private key's DER as found in a file, and how it is encoded. Wiped on drop; no `Debug`,
/// so that it cannot be printed.
pub(crate) struct PrivateKeyDer {
    /// The DER of the key.
    pub(crate) der: Zeroizing<Vec<u8>>,
    /// PKCS#8, PKCS#1 or SEC1.
    pub(crate) format: KeyFormat,
    /// True when it came from a PEM block, false when the whole file was DER.
    pub(crate) in_pem: bool,
}

/// Why a key file yields no private key. The `Display` text is the key store's wording
/// (it follows the file's path); the reader words it its own way.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum KeyFileProblem {
    /// A `-----BEGIN <label>-----` line without its END line (the BEGIN line, shortened).
    #[error("its {0} PEM block has no END line: the file is truncated")]
    Truncated(String),
    /// No PEM block, and not a DER private key either.
    #[error("holds no PEM private key and is not a DER RSA or EC private key")]
    NotPemNorDer,
    /// An encrypted key, and no passphrase to open it.
    #[error("needs a passphrase ({0})")]
    NeedsPassphrase(EncryptedKeyKind),
    /// The passphrase does not open the encrypted key.
    #[error("the passphrase given does not open it ({0}; or the file is damaged)")]
    WrongPassphrase(EncryptedKeyKind),
    /// An encrypted key whose encryption we cannot undo (the text says which and why).
    #[error("cannot be opened ({0}): {1}")]
    Encryption(EncryptedKeyKind, String),
    /// An EC key on a curve other than P-256 and P-384 (its name, or its OID when unnamed).
    #[error("holds an EC key on curve {0}, which is not supported (P-256 and P-384 are)")]
    UnsupportedCurve(String),
    /// An EC key that names no curve (explicit parameters, or none at all).
    #[error("holds an EC key without a named curve, which is not supported (P-256 and P-384 are)")]
    UnnamedCurve,
    /// An `EC PRIVATE KEY` whose DER does not decode (the decoder's reason).
    #[error("holds an EC PRIVATE KEY that cannot be read ({0})")]
    BadEcKey(String),
    /// A PKCS#8 key of another algorithm (Ed25519, DSA, ...): its name or OID.
    #[error("holds a private key of an unsupported type ({0}); RSA and EC keys are supported")]
    UnsupportedAlgorithm(String),
    /// PEM blocks, none of them a private key.
    #[error("holds no private key")]
    NoKey,
}

/// The private key in `data`, the contents of a key file: the first `PRIVATE KEY`,
/// `RSA PRIVATE KEY` or `EC PRIVATE KEY` PEM block, or, when there is no PEM block at all,
/// `data` itself as DER (PKCS#8, else RSA PKCS#1, else SEC1). Encrypted keys are refused
/// ([`KeyFileProblem::NeedsPassphrase`]): the key store opens them with [`private_key_in`].
/// An EC key on another curve than P-256 or P-384 is refused by name.
///
/// # Errors
/// [`KeyFileProblem`] when there is no such key.
pub(crate) fn private_key(data: &[u8]) -> Result<PrivateKeyDer, KeyFileProblem> {
    private_key_in(data, &pem::blocks(data), &mut |_| None)
}

/// [`private_key`] over the PEM blocks of `data`, already decoded by the caller (the key
/// store takes the certificates from them too). An encrypted block (`ENCRYPTED PRIVATE KEY`,
/// or `RSA PRIVATE KEY` / `EC PRIVATE KEY` with `Proc-Type: 4,ENCRYPTED`) is decrypted with
/// what `passphrase` returns for its kind; it is called once at most. The key's algorithm (and
/// curve) is checked once the DER is in the clear, so that an unsupported curve is refused
/// here, by name, for every caller.
pub(crate) fn private_key_in(
    data: &[u8],
    blocks: &[PemBlock],
    passphrase: &mut dyn FnMut(EncryptedKeyKind) -> Option<Passphrase>,
) -> Result<PrivateKeyDer, KeyFileProblem> {
    if blocks.is_empty() {
        if let Some(label) = pem::unterminated(data) {
            return Err(KeyFileProblem::Truncated(label));
        }
        // Perhaps DER: PKCS#8 first, then PKCS#1, then SEC1.
        let format = if pkcs8::PrivateKeyInfoRef::from_der(data).is_ok() {
            KeyFormat::Pkcs8
        } else if rsa::PrivateKey::from_pkcs1_der(data).is_ok() {
            KeyFormat::Pkcs1
        } else if sec1::EcPrivateKey::from_der(data).is_ok() {
            KeyFormat::Sec1
        } else {
            return Err(KeyFileProblem::NotPemNorDer);
        };
        let key = PrivateKeyDer {
            der: Zeroizing::new(data.to_vec()),
            format,
            in_pem: false,
        };
        key.algorithm()?;
        return Ok(key);
    }
    let block = blocks
        .iter()
        .find(|b| {
            matches!(
                b.label.as_str(),
                "PRIVATE KEY" | "RSA PRIVATE KEY" | "EC PRIVATE KEY" | "ENCRYPTED PRIVATE KEY"
            )
        })
        .ok_or(KeyFileProblem::NoKey)?;
    let traditional = |format| {
        let kind = block
            .legacy_encrypted
            .then_some(EncryptedKeyKind::TraditionalPem);
        (kind, format)
    };
    let (kind, format) = match block.label.as_str() {
        "PRIVATE KEY" => (None, KeyFormat::Pkcs8),
        "ENCRYPTED PRIVATE KEY" => (Some(EncryptedKeyKind::Pkcs8), KeyFormat::Pkcs8),
        "EC PRIVATE KEY" => traditional(KeyFormat::Sec1),
        _ => traditional(KeyFormat::Pkcs1),
    };
    let der = match kind {
        // A copy the size of the key, wiped like the block's own.
        None => block.der.clone(),
        Some(kind) => {
            let pass = passphrase(kind).ok_or(KeyFileProblem::NeedsPassphrase(kind))?;
            decrypt(block, kind, &pass)?
        }
    };
    let key = PrivateKeyDer {
        der,
        format,
        in_pem: true,
    };
    key.algorithm()?;
    Ok(key)
}

/// The DER inside an encrypted block of `kind`.
fn decrypt(
    block: &PemBlock,
    kind: EncryptedKeyKind,
    pass: &Passphrase,
) -> Result<Zeroizing<Vec<u8>>, KeyFileProblem> {
    match kind {
        EncryptedKeyKind::TraditionalPem => {
            encrypted_pem::decrypt(block, pass.as_bytes()).map_err(|e| match e {
                EncryptedPemProblem::WrongPassphrase => KeyFileProblem::WrongPassphrase(kind),
                other => KeyFileProblem::Encryption(kind, other.to_string()),
            })
        }
        _ => pbe::decrypt_pkcs8(&block.der, pass.as_bytes()).map_err(|e| match e {
            PbeProblem::WrongPassphrase => KeyFileProblem::WrongPassphrase(kind),
            other => KeyFileProblem::Encryption(kind, other.to_string()),
        }),
    }
}

impl PrivateKeyDer {
    /// A PKCS#8 `PrivateKeyInfo` found inside another container (a PKCS#12 file).
    pub(crate) fn pkcs8(der: Zeroizing<Vec<u8>>) -> PrivateKeyDer {
        PrivateKeyDer {
            der,
            format: KeyFormat::Pkcs8,
            in_pem: false,
        }
    }

    /// The key's algorithm, and for EC its curve, read from the DER without loading the key.
    /// A PKCS#8 key whose DER does not decode is taken for RSA (loading it then says why), as
    /// is every PKCS#1 key.
    ///
    /// # Errors
    /// [`KeyFileProblem::UnsupportedCurve`], [`KeyFileProblem::UnnamedCurve`],
    /// [`KeyFileProblem::BadEcKey`] and [`KeyFileProblem::UnsupportedAlgorithm`].
    pub(crate) fn algorithm(&self) -> Result<KeyAlgorithm, KeyFileProblem> {
        match self.format {
            KeyFormat::Pkcs1 => Ok(KeyAlgorithm::Rsa),
            KeyFormat::Sec1 => {
                let key = sec1::EcPrivateKey::from_der(&self.der)
                    .map_err(|e| KeyFileProblem::BadEcKey(e.to_string()))?;
                let curve = key.parameters.and_then(|p| p.named_curve());
                Ok(KeyAlgorithm::Ec(ec_curve(curve)?))
            }
            KeyFormat::Pkcs8 => {
                let Ok(info) = pkcs8::PrivateKeyInfoRef::from_der(&self.der) else {
                    return Ok(KeyAlgorithm::Rsa);
                };
                let oid = info.algorithm.oid;
                if oid == RSA_ENCRYPTION {
                    return Ok(KeyAlgorithm::Rsa);
                }
                if oid != ID_EC_PUBLIC_KEY {
                    return Err(KeyFileProblem::UnsupportedAlgorithm(oid_name(&oid)));
                }
                // The curve is in the algorithm's parameters (RFC 5915 §2); failing that, in
                // the ECPrivateKey's own.
                let curve = info.algorithm.parameters_oid().ok().or_else(|| {
                    sec1::EcPrivateKey::from_der(info.private_key.as_bytes())
                        .ok()
                        .and_then(|k| k.parameters)
                        .and_then(|p| p.named_curve())
                });
                Ok(KeyAlgorithm::Ec(ec_curve(curve)?))
            }
        }
    }

    /// The key loaded by RustCrypto `rsa`; the error is the decoder's, as text.
    pub(crate) fn to_rsa(&self) -> Result<rsa::PrivateKey, String> {
        match self.format {
            KeyFormat::Pkcs8 => {
                rsa::PrivateKey::from_pkcs8_der(&self.der).map_err(|e| e.to_string())
            }
            KeyFormat::Pkcs1 => {
                rsa::PrivateKey::from_pkcs1_der(&self.der).map_err(|e| e.to_string())
            }
            KeyFormat::Sec1 => Err("an EC PRIVATE KEY is not an RSA key".to_owned()),
        }
    }

    /// The modulus size of the RSA key, read from its DER without loading the key; `None`
    /// when the DER is not an RSA key (loading it then says why).
    pub(crate) fn rsa_bits(&self) -> Option<usize> {
        let pkcs1_der = match self.format {
            KeyFormat::Sec1 => return None,
            KeyFormat::Pkcs1 => &self.der[..],
            KeyFormat::Pkcs8 => pkcs8::PrivateKeyInfoRef::from_der(&self.der)
                .ok()?
                .private_key
                .as_bytes(),
        };
        let key = pkcs1::RsaPrivateKey::<der::asn1::UintRef<'_>>::from_der(pkcs1_der).ok()?;
        let modulus = key.modulus.as_bytes();
        Some(modulus.len() * 8 - modulus.first().map_or(0, |b| b.leading_zeros() as usize))
    }
}

/// The supported curve `oid` names, or why there is none.
fn ec_curve(oid: Option<ObjectIdentifier>) -> Result<EcCurve, KeyFileProblem> {
    match oid {
        Some(SECP_256_R_1) => Ok(EcCurve::P256),
        Some(SECP_384_R_1) => Ok(EcCurve::P384),
        Some(other) => Err(KeyFileProblem::UnsupportedCurve(oid_name(&other))),
        None => Err(KeyFileProblem::UnnamedCurve),
    }
}

/// An OID's usual name (`brainpoolP256r1`), else its dotted form.
pub(crate) fn oid_name(oid: &ObjectIdentifier) -> String {
    const_oid::db::DB
        .by_oid(oid)
        .map_or_else(|| oid.to_string(), str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problem(data: &[u8]) -> KeyFileProblem {
        match private_key(data) {
            Ok(_) => panic!("a key was found in {:?}", String::from_utf8_lossy(data)),
            Err(p) => p,
        }
    }

    #[test]
    fn each_problem_is_told_apart() {
        let block = |label: &str, body: &str| {
            format!("-----BEGIN {label}-----\n{body}\n-----END {label}-----\n").into_bytes()
        };
        for (data, expected) in [
            (
                b"junk\n-----BEGIN PRIVATE KEY-----\nMIIE".to_vec(),
                KeyFileProblem::Truncated("-----BEGIN PRIVATE KEY-----".into()),
            ),
            (
                b"\x30\x03\x02\x01\x00".to_vec(),
                KeyFileProblem::NotPemNorDer,
            ),
            (
                block("RSA PRIVATE KEY", "Proc-Type: 4,ENCRYPTED\n\nAAAA"),
                KeyFileProblem::NeedsPassphrase(EncryptedKeyKind::TraditionalPem),
            ),
            (
                block("ENCRYPTED PRIVATE KEY", "AAAA"),
                KeyFileProblem::NeedsPassphrase(EncryptedKeyKind::Pkcs8),
            ),
            (
                block("EC PRIVATE KEY", "AAAA"),
                KeyFileProblem::BadEcKey(
                    "unknown/unsupported ASN.1 DER tag: 0x00 at DER byte 1".into(),
                ),
            ),
            (block("CERTIFICATE", "AAAA"), KeyFileProblem::NoKey),
        ] {
            assert_eq!(
                problem(&data),
                expected,
                "{:?}",
                String::from_utf8_lossy(&data)
            );
        }
    }

    #[test]
    fn the_first_key_block_is_taken() {
        let data =
            b"Bag Attributes\n-----BEGIN CERTIFICATE-----\nAAEC\n-----END CERTIFICATE-----\n\
            -----BEGIN RSA PRIVATE KEY-----\nBAU=\n-----END RSA PRIVATE KEY-----\n\
            -----BEGIN PRIVATE KEY-----\nBgc=\n-----END PRIVATE KEY-----\n";
        let Ok(key) = private_key(data) else {
            panic!("no key found");
        };
        assert_eq!(key.format, KeyFormat::Pkcs1);
        assert!(key.in_pem);
        assert_eq!(&key.der[..], &[4, 5]);
        assert!(key.to_rsa().is_err());
        assert_eq!(key.rsa_bits(), None);
    }
}

#[cfg(test)]
mod ec_tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn ec_file(name: &str) -> Vec<u8> {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/pki/ec");
        std::fs::read(dir.join(name)).unwrap()
    }

    fn algorithm_of(data: &[u8]) -> (KeyFormat, bool, KeyAlgorithm) {
        let Ok(key) = private_key(data) else {
            panic!("no key in {:?}", String::from_utf8_lossy(data));
        };
        (key.format, key.in_pem, key.algorithm().unwrap())
    }

    /// The DER of the first block labelled `label`.
    fn block_der(data: &[u8], label: &str) -> Vec<u8> {
        let blocks = pem::blocks(data);
        let block = blocks.iter().find(|b| b.label == label).unwrap();
        block.der.to_vec()
    }

    #[test]
    fn ec_keys_load_from_pkcs8_and_sec1_pem_and_der() {
        let frank = ec_file("frank@example.com.pem");
        let grace = ec_file("grace@example.org.pem");
        let p256 = KeyAlgorithm::Ec(EcCurve::P256);
        let p384 = KeyAlgorithm::Ec(EcCurve::P384);
        assert_eq!(algorithm_of(&frank), (KeyFormat::Pkcs8, true, p256));
        assert_eq!(algorithm_of(&grace), (KeyFormat::Sec1, true, p384));
        // The whole file as DER, of either form.
        let der = block_der(&frank, "PRIVATE KEY");
        assert_eq!(algorithm_of(&der), (KeyFormat::Pkcs8, false, p256));
        let der = block_der(&grace, "EC PRIVATE KEY");
        assert_eq!(algorithm_of(&der), (KeyFormat::Sec1, false, p384));
        // Certificates before the key do not matter; the RSA keys still read as RSA.
        let rsa = std::fs::read(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../../testdata/pki/keys/alice@example.com.pem"),
        )
        .unwrap();
        assert_eq!(algorithm_of(&rsa).2, KeyAlgorithm::Rsa);
    }

    #[test]
    fn encrypted_ec_keys_open_with_the_passphrase() {
        for (name, kind, format) in [
            ("frank-pkcs8.pem", EncryptedKeyKind::Pkcs8, KeyFormat::Pkcs8),
            (
                "frank-sec1.pem",
                EncryptedKeyKind::TraditionalPem,
                KeyFormat::Sec1,
            ),
        ] {
            let data = ec_file(&format!("encrypted/{name}"));
            let blocks = pem::blocks(&data);
            assert_eq!(
                private_key(&data).err(),
                Some(KeyFileProblem::NeedsPassphrase(kind)),
                "{name}"
            );
            let wrong = private_key_in(&data, &blocks, &mut |_| {
                Some(Passphrase::new("nope".into()))
            });
            assert_eq!(
                wrong.err(),
                Some(KeyFileProblem::WrongPassphrase(kind)),
                "{name}"
            );
            let Ok(key) = private_key_in(&data, &blocks, &mut |k| {
                assert_eq!(k, kind);
                Some(Passphrase::new("test".into()))
            }) else {
                panic!("{name} does not open");
            };
            assert_eq!(key.format, format, "{name}");
            assert_eq!(
                key.algorithm(),
                Ok(KeyAlgorithm::Ec(EcCurve::P256)),
                "{name}"
            );
        }
        // The PKCS#8 one decrypts to the very key of frank@example.com.pem.
        let data = ec_file("encrypted/frank-pkcs8.pem");
        let key = private_key_in(&data, &pem::blocks(&data), &mut |_| {
            Some(Passphrase::new("test".into()))
        })
        .ok()
        .unwrap();
        let plain = block_der(&ec_file("frank@example.com.pem"), "PRIVATE KEY");
        assert_eq!(&key.der[..], &plain[..]);
    }

    #[test]
    fn another_curve_is_refused_by_name() {
        let henry = ec_file("henry@example.net.pem");
        let problem = private_key(&henry).err().unwrap();
        assert_eq!(
            problem,
            KeyFileProblem::UnsupportedCurve("brainpoolP256r1".into())
        );
        assert_eq!(
            problem.to_string(),
            "holds an EC key on curve brainpoolP256r1, which is not supported (P-256 and P-384 are)"
        );
        // As DER, and inside a container (PKCS#12 hands out PKCS#8 DER).
        let der = block_der(&henry, "PRIVATE KEY");
        assert_eq!(private_key(&der).err(), Some(problem.clone()));
        let key = PrivateKeyDer::pkcs8(Zeroizing::new(der));
        assert_eq!(key.algorithm(), Err(problem));
    }
}

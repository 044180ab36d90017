//! The RSA private key in a key file, found the same way for both directions: by the
//! [`KeyStore`](crate::KeyStore) for signing and by the [`Reader`](crate::Reader) for
//! decrypting. PEM (PKCS#8 `PRIVATE KEY` or PKCS#1 `RSA PRIVATE KEY`, text around the blocks
//! tolerated) or the whole file as DER. Each caller words a [`KeyFileProblem`] for its own
//! error type.

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
    /// PKCS#8 `PrivateKeyInfo` (`PRIVATE KEY`).
    Pkcs8,
    /// PKCS#1 `RSAPrivateKey` (`RSA PRIVATE KEY`).
    Pkcs1,
}

/// A private key's DER as found in a file, and how it is encoded. Wiped on drop; no `Debug`,
/// so that it cannot be printed.
pub(crate) struct PrivateKeyDer {
    /// The DER of the key.
    pub(crate) der: Zeroizing<Vec<u8>>,
    /// PKCS#8 or PKCS#1.
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
    #[error("holds no PEM private key and is not a DER RSA private key")]
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
    /// An `EC PRIVATE KEY` block.
    #[error("holds an EC key; only RSA keys are supported")]
    Ec,
    /// PEM blocks, none of them a private key.
    #[error("holds no private key")]
    NoKey,
}

/// The private key in `data`, the contents of a key file: the first `PRIVATE KEY` or
/// `RSA PRIVATE KEY` PEM block, or, when there is no PEM block at all, `data` itself as DER
/// (PKCS#8, else RSA PKCS#1). Encrypted keys are refused ([`KeyFileProblem::NeedsPassphrase`]):
/// the key store opens them with [`private_key_in`]. A file that also holds an EC private
/// key block is refused rather than guessed at.
///
/// # Errors
/// [`KeyFileProblem`] when there is no such key.
pub(crate) fn rsa_private_key(data: &[u8]) -> Result<PrivateKeyDer, KeyFileProblem> {
    private_key_in(data, &pem::blocks(data), &mut |_| None)
}

/// [`rsa_private_key`] over the PEM blocks of `data`, already decoded by the caller (the key
/// store takes the certificates from them too). An encrypted block (`ENCRYPTED PRIVATE KEY`,
/// or `RSA PRIVATE KEY` with `Proc-Type: 4,ENCRYPTED`) is decrypted with what `passphrase`
/// returns for its kind; it is called once at most.
pub(crate) fn private_key_in(
    data: &[u8],
    blocks: &[PemBlock],
    passphrase: &mut dyn FnMut(EncryptedKeyKind) -> Option<Passphrase>,
) -> Result<PrivateKeyDer, KeyFileProblem> {
    if blocks.is_empty() {
        if let Some(label) = pem::unterminated(data) {
            return Err(KeyFileProblem::Truncated(label));
        }
        // Perhaps DER: PKCS#8 first, then PKCS#1.
        let format = if pkcs8::PrivateKeyInfoRef::from_der(data).is_ok() {
            KeyFormat::Pkcs8
        } else if rsa::PrivateKey::from_pkcs1_der(data).is_ok() {
            KeyFormat::Pkcs1
        } else {
            return Err(KeyFileProblem::NotPemNorDer);
        };
        return Ok(PrivateKeyDer {
            der: Zeroizing::new(data.to_vec()),
            format,
            in_pem: false,
        });
    }
    if blocks.iter().any(|b| b.label == "EC PRIVATE KEY") {
        return Err(KeyFileProblem::Ec);
    }
    let block = blocks
        .iter()
        .find(|b| {
            matches!(
                b.label.as_str(),
                "PRIVATE KEY" | "RSA PRIVATE KEY" | "ENCRYPTED PRIVATE KEY"
            )
        })
        .ok_or(KeyFileProblem::NoKey)?;
    let (kind, format) = match block.label.as_str() {
        "PRIVATE KEY" => (None, KeyFormat::Pkcs8),
        "ENCRYPTED PRIVATE KEY" => (Some(EncryptedKeyKind::Pkcs8), KeyFormat::Pkcs8),
        _ if block.legacy_encrypted => (Some(EncryptedKeyKind::TraditionalPem), KeyFormat::Pkcs1),
        _ => (None, KeyFormat::Pkcs1),
    };
    let der = match kind {
        // A copy the size of the key, wiped like the block's own.
        None => block.der.clone(),
        Some(kind) => {
            let pass = passphrase(kind).ok_or(KeyFileProblem::NeedsPassphrase(kind))?;
            decrypt(block, kind, &pass)?
        }
    };
    Ok(PrivateKeyDer {
        der,
        format,
        in_pem: true,
    })
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

    /// The key loaded by RustCrypto `rsa`; the error is the decoder's, as text.
    pub(crate) fn to_rsa(&self) -> Result<rsa::PrivateKey, String> {
        match self.format {
            KeyFormat::Pkcs8 => {
                rsa::PrivateKey::from_pkcs8_der(&self.der).map_err(|e| e.to_string())
            }
            KeyFormat::Pkcs1 => {
                rsa::PrivateKey::from_pkcs1_der(&self.der).map_err(|e| e.to_string())
            }
        }
    }

    /// The modulus size of the RSA key, read from its DER without loading the key; `None`
    /// when the DER is not an RSA key (loading it then says why).
    pub(crate) fn rsa_bits(&self) -> Option<usize> {
        let pkcs1_der = match self.format {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn problem(data: &[u8]) -> KeyFileProblem {
        match rsa_private_key(data) {
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
            (block("EC PRIVATE KEY", "AAAA"), KeyFileProblem::Ec),
            (block("CERTIFICATE", "AAAA"), KeyFileProblem::NoKey),
        ] {
            assert_eq!(
                problem(&data),
                expected,
                "{:?}",
                String::from_utf8_lossy(&data)
            );
        }
        // A key first does not excuse an EC one later.
        let mut both = block("PRIVATE KEY", "AAAA");
        both.extend(block("EC PRIVATE KEY", "AAAA"));
        assert_eq!(problem(&both), KeyFileProblem::Ec);
    }

    #[test]
    fn the_first_key_block_is_taken() {
        let data =
            b"Bag Attributes\n-----BEGIN CERTIFICATE-----\nAAEC\n-----END CERTIFICATE-----\n\
            -----BEGIN RSA PRIVATE KEY-----\nBAU=\n-----END RSA PRIVATE KEY-----\n\
            -----BEGIN PRIVATE KEY-----\nBgc=\n-----END PRIVATE KEY-----\n";
        let Ok(key) = rsa_private_key(data) else {
            panic!("no key found");
        };
        assert_eq!(key.format, KeyFormat::Pkcs1);
        assert!(key.in_pem);
        assert_eq!(&key.der[..], &[4, 5]);
        assert!(key.to_rsa().is_err());
        assert_eq!(key.rsa_bits(), None);
    }
}

//! Passphrases of encrypted key files: the secret itself ([`Passphrase`]) and where the
//! [`KeyStore`](crate::KeyStore) gets one when a file needs it ([`PassphraseSource`]). The
//! library asks; the program decides how to answer (an environment variable, a file, a
//! terminal prompt, a secret store).

use std::fmt;
use std::path::Path;

use zeroize::Zeroizing;

/// A passphrase: wiped from memory when dropped, never printed (`Debug` is `********`).
///
/// ```
/// use smime_core::Passphrase;
///
/// let p = Passphrase::new(String::from("correct horse"));
/// assert_eq!(format!("{p:?}"), "********");
/// ```
#[derive(Clone)]
pub struct Passphrase(Zeroizing<String>);

impl Passphrase {
    /// Wraps a passphrase. Pass the `String` you read: it is moved, not copied. A final line
    /// break is part of it: trim what you read from a file before (the CLI does).
    pub fn new(value: String) -> Self {
        Self(Zeroizing::new(value))
    }

    /// The bytes of the passphrase as typed (UTF-8), as OpenSSL uses them.
    pub(crate) fn as_bytes(&self) -> &[u8] {
        self.0.as_bytes()
    }
}

impl fmt::Debug for Passphrase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("********")
    }
}

impl From<String> for Passphrase {
    fn from(value: String) -> Self {
        Self::new(value)
    }
}

/// What kind of encrypted key file needs a passphrase.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum EncryptedKeyKind {
    /// A PKCS#12 file (`.p12`, `.pfx`): the key, its certificate and chain.
    Pkcs12,
    /// An encrypted PKCS#8 key (`BEGIN ENCRYPTED PRIVATE KEY`).
    Pkcs8,
    /// OpenSSL's traditional encrypted PEM (`Proc-Type: 4,ENCRYPTED`).
    TraditionalPem,
}

impl fmt::Display for EncryptedKeyKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            EncryptedKeyKind::Pkcs12 => "PKCS#12 file",
            EncryptedKeyKind::Pkcs8 => "encrypted private key (ENCRYPTED PRIVATE KEY)",
            EncryptedKeyKind::TraditionalPem => "encrypted private key (Proc-Type: 4,ENCRYPTED)",
        })
    }
}

/// Where a [`KeyStore`](crate::KeyStore) gets the passphrase of an encrypted key file. It is
/// asked at most once per file and run while the answer opens the file: the store keeps what
/// it decrypted.
pub trait PassphraseSource: Send + Sync + fmt::Debug {
    /// The passphrase for `file`, an encrypted key file of `kind`; `None` when there is none
    /// (the store then fails with [`KeyError::PassphraseNeeded`](crate::KeyError)).
    fn passphrase(&self, file: &Path, kind: EncryptedKeyKind) -> Option<Passphrase>;
}

/// One passphrase for every encrypted file.
impl PassphraseSource for Passphrase {
    fn passphrase(&self, _file: &Path, _kind: EncryptedKeyKind) -> Option<Passphrase> {
        Some(self.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_shows_no_passphrase() {
        let p = Passphrase::new("hunter2".into());
        assert_eq!(format!("{p:?}"), "********");
        assert_eq!(
            format!(
                "{:?}",
                p.passphrase(Path::new("a.p12"), EncryptedKeyKind::Pkcs12)
            ),
            "Some(********)"
        );
    }
}

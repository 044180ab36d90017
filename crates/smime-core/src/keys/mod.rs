//! Keys and certificates: where they come from and what is checked before use.
//!
//! [`KeyStore`] (`store`) finds the files by address, reads them (`pem`, `private_key`),
//! checks the certificates (`certcheck`) and hands out a [`Signer`] (its [`SigningKey`]:
//! `signer` for RSA, `signer_ec` for ECDSA, `signer_aws` for both, loaded by the
//! [`KeyBackend`] in `backend`) and [`RecipientKey`]s
//! (key transport: `key_transport`). Building signs and encrypts with these; reading finds
//! its decryption keys with the same `private_key` and `pem`. Encrypted keys are decrypted by
//! `pbe` (PBES2 and the PKCS#12 schemes); `pkcs12` reads PKCS#12 files, after `ber` has turned
//! the BER of some exports into DER; `encrypted_pem` opens OpenSSL's traditional encrypted
//! PEM. `certfile` reads certificate files in every form, `directory` finds them by name
//! and by the addresses inside, and `passphrase` is where the store asks for passphrases.
//!
//! Imports run one way: `store` uses everything else here; `key_transport` and `backend`
//! use only what lies below them (`backend`, `private_key`, `signer`).
mod backend;
mod ber;
pub(crate) mod certcheck;
mod certfile;
mod directory;
mod encrypted_pem;
mod error;
mod import;
mod inventory;
mod key_agreement;
mod key_transport;
mod passphrase;
pub(crate) mod path;
pub(crate) mod pbe;
pub(crate) mod pem;
pub(crate) mod pkcs12;
pub(crate) mod private_key;
mod signer;
#[cfg(feature = "aws-lc")]
mod signer_aws;
mod signer_ec;
mod store;
mod trust;

pub use backend::KeyBackend;
pub use error::{CertProblem, KeyError, KeyFileKind};
pub use import::{CertificateImport, ImportVerdict};
pub use inventory::{CertStatus, EXPIRING_WITHIN, ListedCertificate, PrivateKeyState};
pub use passphrase::{EncryptedKeyKind, Passphrase, PassphraseSource};
pub use path::PathProblem;
pub use signer::{RsaSigningKey, SignatureAlgorithm, SigningFailure, SigningKey};
#[cfg(feature = "aws-lc")]
pub use signer_aws::{AwsLcEcSigningKey, AwsLcSigningKey};
pub use signer_ec::EcSigningKey;
pub(crate) use store::WrappedKey;
pub use store::{KeyStore, RecipientKey, Signer};
pub use trust::TrustStore;

//! Keys and certificates: where they come from and what is checked before use.
//!
//! [`KeyStore`] (in `store`) finds the files by address, reads them (`pem`), checks the
//! certificates (`certcheck`) and hands out a [`Signer`] (with a [`SigningKey`]: `signer`,
//! `signer_aws`) and [`RecipientKey`]s (key transport: `key_transport`). Both directions use
//! this: building signs and encrypts with these keys, reading decrypts with them.

mod backend;
pub(crate) mod certcheck;
mod error;
mod key_transport;
pub(crate) mod pem;
pub(crate) mod private_key;
mod signer;
#[cfg(feature = "aws-lc")]
mod signer_aws;
mod store;

pub use backend::KeyBackend;
pub use error::{CertProblem, KeyError, KeyFileKind};
pub use signer::{RsaSigningKey, SigningFailure, SigningKey};
#[cfg(feature = "aws-lc")]
pub use signer_aws::AwsLcSigningKey;
pub use store::{KeyStore, RecipientKey, Signer};

//! The CLI's errors: each library error with the file it concerns, a hint, and an exit code.

use std::path::PathBuf;

use smime_core::{CertProblem, KeyError, ParseError, ProtectError};

/// Exit codes (sysexits.h), one per class of failure.
pub(crate) mod exit {
    /// Bad input: not an email, no From or To, no usable key or certificate.
    pub(crate) const DATA_ERR: i32 = 65;
    /// The input file cannot be read.
    pub(crate) const NO_INPUT: i32 = 66;
    /// An internal failure (a bug, or a failing signing key).
    pub(crate) const SOFTWARE: i32 = 70;
    /// The output cannot be written.
    pub(crate) const CANT_CREATE: i32 = 73;
}

/// A failure, ready to print.
#[derive(Debug, thiserror::Error)]
pub(crate) enum CliError {
    #[error("{}: cannot read: {source}", file.display())]
    ReadInput {
        file: PathBuf,
        source: std::io::Error,
    },
    #[error("{}: {source}", file.display())]
    Protect { file: PathBuf, source: ProtectError },
    #[error("cannot open keys: {0}")]
    Keys(KeyError),
    #[error("{}: cannot write: {source}", file.display())]
    WriteOutput {
        file: PathBuf,
        source: std::io::Error,
    },
}

impl CliError {
    pub(crate) fn exit_code(&self) -> i32 {
        match self {
            CliError::ReadInput { .. } => exit::NO_INPUT,
            CliError::Protect { source, .. } => match source {
                ProtectError::Sign { .. } | ProtectError::Encode(_) => exit::SOFTWARE,
                _ => exit::DATA_ERR,
            },
            CliError::Keys(_) => exit::DATA_ERR,
            CliError::WriteOutput { .. } => exit::CANT_CREATE,
        }
    }

    /// A short suggestion for the operator, when there is one.
    pub(crate) fn hint(&self) -> Option<&'static str> {
        let key_hint = |e: &KeyError| match e {
            KeyError::NotFound { .. } => Some("check --keys (or SMIME_KEYS) and the file names"),
            KeyError::Dir { .. } => Some("check --keys (or SMIME_KEYS)"),
            KeyError::Rejected { problem, .. } => Some(match problem {
                CertProblem::KeyMismatch => {
                    "the .pem key and the certificate are from different pairs"
                }
                CertProblem::AddressMismatch { .. } => "the certificate is for another address",
                CertProblem::Expired { .. } | CertProblem::NotYetValid { .. } => {
                    "renew the certificate (or check the system clock)"
                }
                _ => "use a certificate issued for S/MIME (emailProtection, RSA 2048-8192 bits)",
            }),
            _ => None,
        };
        match self {
            CliError::Keys(e) => key_hint(e),
            CliError::Protect { source, .. } => match source {
                ProtectError::Key(e) => key_hint(e),
                ProtectError::Parse(ParseError::NotAnEmail { .. } | ParseError::Empty) => {
                    Some("give an RFC 5322 message (.eml), headers first")
                }
                _ => None,
            },
            _ => None,
        }
    }
}

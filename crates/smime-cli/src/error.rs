//! The CLI's errors: each library error with the file it concerns, a hint, and an exit code.

use std::path::PathBuf;
use std::time::Duration;

use smime_core::{CertProblem, InspectError, KeyError, ParseError, ProtectError};
use smime_transport::{SendError, Stage, TlsProblem};

/// Exit codes (sysexits.h), one per class of failure.
pub(crate) mod exit {
    /// Usage or configuration error (clap uses 2 as well).
    pub(crate) const USAGE: i32 = 2;
    /// Bad input: not an email, no From or To, no usable key or certificate.
    pub(crate) const DATA_ERR: i32 = 65;
    /// The input file cannot be read.
    pub(crate) const NO_INPUT: i32 = 66;
    /// A permanent send failure.
    pub(crate) const UNAVAILABLE: i32 = 69;
    /// An internal failure (a bug, or a failing signing key).
    pub(crate) const SOFTWARE: i32 = 70;
    /// The output cannot be written.
    pub(crate) const CANT_CREATE: i32 = 73;
    /// Only temporary failures: try again later.
    pub(crate) const TEMP_FAIL: i32 = 75;
}

/// Why `show` could not describe its input.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ShowError {
    /// Not a message, or too large.
    #[error(transparent)]
    Inspect(#[from] InspectError),
    /// Writing the description failed (a closed pipe, a full disk).
    #[error("cannot write the output: {0}")]
    Write(#[from] std::io::Error),
}

/// A failure, ready to print.
#[derive(Debug, thiserror::Error)]
pub(crate) enum CliError {
    #[error("{}: cannot read: {source}", file.display())]
    ReadInput {
        file: PathBuf,
        source: std::io::Error,
    },
    #[error("{}: is {size} bytes, over the --max-size limit of {limit}", file.display())]
    TooLarge {
        file: PathBuf,
        size: u64,
        limit: u64,
    },
    /// Over the limit while reading: a pipe or a device, whose size is not known before.
    #[error("{}: is over the --max-size limit of {limit} bytes", file.display())]
    TooLargeStream { file: PathBuf, limit: u64 },
    #[error("{}: {source}", file.display())]
    Protect { file: PathBuf, source: ProtectError },
    #[error("cannot open keys: {0}")]
    Keys(KeyError),
    #[error("{}: cannot write: {source}", file.display())]
    WriteOutput {
        file: PathBuf,
        source: std::io::Error,
    },
    #[error("{0}")]
    Config(String),
    #[error("{0}")]
    Setup(SendError),
    /// A send that failed; when it was retried, how often and over how long.
    #[error("{}: {source}{}", file.display(), tried(source, *elapsed))]
    Send {
        file: PathBuf,
        source: SendError,
        elapsed: Duration,
    },
    /// `smime show`: not a message, too large, or the output cannot be written.
    #[error("{}: {source}", file.display())]
    Show { file: PathBuf, source: ShowError },
    /// Something that should not fail did (starting the async runtime): a bug or an
    /// exhausted system, not the operator's configuration.
    #[error("{0}")]
    Internal(String),
}

impl CliError {
    pub(crate) fn exit_code(&self) -> i32 {
        // A key that needs a passphrase nobody gave is the run's configuration, not its data.
        if let CliError::Keys(KeyError::PassphraseNeeded { .. })
        | CliError::Protect {
            source: ProtectError::Key(KeyError::PassphraseNeeded { .. }),
            ..
        } = self
        {
            return exit::USAGE;
        }
        match self {
            CliError::ReadInput { .. } => exit::NO_INPUT,
            CliError::TooLarge { .. } | CliError::TooLargeStream { .. } => exit::DATA_ERR,
            CliError::Protect { source, .. } => match source {
                ProtectError::Sign { .. } | ProtectError::Encode(_) => exit::SOFTWARE,
                _ => exit::DATA_ERR,
            },
            CliError::Keys(_) => exit::DATA_ERR,
            CliError::WriteOutput { .. } => exit::CANT_CREATE,
            CliError::Config(_) | CliError::Setup(_) => exit::USAGE,
            CliError::Show { source, .. } => match source {
                ShowError::Write(_) => exit::CANT_CREATE,
                ShowError::Inspect(_) => exit::DATA_ERR,
            },
            CliError::Internal(_) => exit::SOFTWARE,
            CliError::Send { source, .. } => {
                if source.is_transient() {
                    exit::TEMP_FAIL
                } else {
                    exit::UNAVAILABLE
                }
            }
        }
    }

    /// A short suggestion for the operator, when there is one.
    pub(crate) fn hint(&self) -> Option<&'static str> {
        match self {
            CliError::Keys(e) => key_hint(e),
            CliError::Protect { source, .. } => match source {
                ProtectError::Key(e) => key_hint(e),
                ProtectError::Parse(ParseError::NotAnEmail { .. } | ParseError::Empty) => {
                    Some("give an RFC 5322 message (.eml), headers first")
                }
                ProtectError::Parse(
                    ParseError::HeaderTooLarge { .. } | ParseError::FieldTooLarge { .. },
                ) => Some(
                    "real mail stays far below the limits of 1 MiB per header and 100 KiB per \
                     field: check where this file comes from",
                ),
                ProtectError::Parse(ParseError::BadAddress { .. }) => {
                    Some("write each address as local@domain, in ASCII or valid UTF-8")
                }
                ProtectError::Parse(ParseError::NulInHeader { .. }) => {
                    Some("RFC 5322 forbids NUL bytes in a header: the file is damaged or not mail")
                }
                ProtectError::Parse(ParseError::NoBoundary { .. }) => Some(
                    "give the multipart's Content-Type a boundary=\"...\" parameter that its \
                     delimiter lines use",
                ),
                ProtectError::Parse(ParseError::TooDeep { .. }) => {
                    Some("no mail client nests parts that deep: check where this file comes from")
                }
                _ => None,
            },
            CliError::TooLarge { .. } | CliError::TooLargeStream { .. } => {
                Some("raise --max-size if the file is genuine")
            }
            CliError::Send { source, .. } | CliError::Setup(source) => send_hint(source),
            _ => None,
        }
    }
}

fn key_hint(e: &KeyError) -> Option<&'static str> {
    match e {
        KeyError::NotFound { .. } => Some("check --keys (or SMIME_KEYS) and the file names"),
        KeyError::Dir { .. } => Some("check --keys (or SMIME_KEYS)"),
        // The core words the format it met; the hint follows it.
        KeyError::Invalid { reason, .. } if reason.contains("PKCS#12") => Some(
            "a PKCS#12 file is a key file (--signer-key, or <address>.p12); check it with \
             `openssl pkcs12 -info -noout -in FILE`",
        ),
        KeyError::Invalid { reason, .. } if reason.contains("PKCS#7") => {
            Some("check the bundle with `openssl pkcs7 -print_certs -noout -in FILE`")
        }
        KeyError::Invalid { .. } => Some(
            "check the file: `openssl pkey -in FILE -noout` for a key, \
             `openssl x509 -in FILE -noout` for a certificate",
        ),
        KeyError::KeyTooLong { .. } => Some("use an RSA key of 2048 to 8192 bits"),
        KeyError::SignerCertMismatch { .. } => {
            Some("give --signer-cert the certificate of the --signer-key key (its first block)")
        }
        KeyError::PassphraseNeeded { .. } => Some(
            "give the passphrase in SMIME_KEY_PASSWORD or --key-password-file FILE (or run on a \
             terminal to be asked)",
        ),
        KeyError::WrongPassphrase { .. } => {
            Some("check SMIME_KEY_PASSWORD or the --key-password-file (its first line is used)")
        }
        KeyError::TooManyCertificates { .. } => Some(
            "keep the certificate and its chain in the file (a few certificates), not a CA bundle",
        ),
        KeyError::Rejected { problem, .. } => Some(match problem {
            CertProblem::KeyMismatch => "the .pem key and the certificate are from different pairs",
            CertProblem::Untrusted { .. } => {
                "trust its CA with --trust FILE (the root), put the intermediate in the keys \
                 directory, or leave out --require-trusted"
            }
            CertProblem::AddressMismatch { .. } => "the certificate is for another address",
            CertProblem::Expired { .. } | CertProblem::NotYetValid { .. } => {
                "renew the certificate (or check the system clock)"
            }
            _ => "use a certificate issued for S/MIME (emailProtection, RSA 2048-8192 bits)",
        }),
        _ => None,
    }
}

/// ` (3 attempts over 15 s)` after an error that was retried; nothing otherwise.
fn tried(e: &SendError, elapsed: Duration) -> String {
    match e.attempts() {
        0 | 1 => String::new(),
        n => format!(
            " ({n} attempts over {})",
            crate::human::duration_text(elapsed)
        ),
    }
}

/// Hints for the replies operators meet most (see the ancestor's notes), each for the error it
/// follows: what to check, and where.
pub(crate) fn send_hint(e: &SendError) -> Option<&'static str> {
    let code = e.reply().map(|r| r.code());
    let text = e.to_string().to_ascii_lowercase();
    if code == Some(530) || text.contains("authorization required") {
        return Some("the server wants AUTH: set SMTP_USER and SMTP_PASSWORD");
    }
    if code == Some(535) || (e.is_auth() && e.http_status().is_none()) {
        return Some(
            "check SMTP_USER and SMTP_PASSWORD (SparkPost: SMTP_Injection and an API key)",
        );
    }
    if text.contains("relaying denied") || text.contains("relay access denied") {
        return Some("check SMTP_PORT (SparkPost: 587 or 2525) and the credentials");
    }
    if matches!(e.http_status(), Some(401 | 403)) {
        return Some("check SPARKPOST_API_KEY and its Transmissions permission");
    }
    if e.http_status() == Some(420) {
        return Some("a SparkPost sending limit was reached; nothing was sent");
    }
    match e.tls_problem() {
        Some(TlsProblem::StartTlsUnavailable) => {
            return Some(
                "the server does not offer STARTTLS: for implicit TLS use port 465 or --tls \
                 implicit; to send unencrypted, --tls opportunistic (without credentials)",
            );
        }
        Some(TlsProblem::PlaintextAuth) => {
            return Some(
                "use --tls starttls or --tls implicit; on a trusted network only, \
                 --dangerous-allow-plaintext-auth",
            );
        }
        Some(TlsProblem::Certificate) => {
            return Some(
                "the server's certificate is not trusted for SMTP_HOST: give its CA with \
                 --ca-file (SMIME_CA_FILE), or connect by the name on the certificate",
            );
        }
        Some(_) => {
            return Some(
                "check SMTP_PORT and --tls: implicit TLS is port 465, STARTTLS 25, 587 or 2525",
            );
        }
        None => {}
    }
    if e.is_timeout() {
        return Some("the server is slow or unreachable: check SMTP_HOST / SPARKPOST_HOST");
    }
    if e.stage() == Some(Stage::Connect) {
        return Some("check SMTP_HOST and SMTP_PORT, and that the server is running");
    }
    None
}

#[cfg(test)]
mod tests {

    use super::*;

    #[test]
    fn show_and_internal_exit_codes() {
        let show = |source| CliError::Show {
            file: "m.eml".into(),
            source,
        };
        let not_a_message = show(ShowError::Inspect(InspectError::NotAMessage {
            reason: "no header fields",
        }));
        assert_eq!(not_a_message.exit_code(), exit::DATA_ERR);
        assert_eq!(
            not_a_message.to_string(),
            "m.eml: not an email message: no header fields"
        );
        let too_large = show(ShowError::Inspect(InspectError::TooLarge {
            size: 9,
            limit: 8,
        }));
        assert_eq!(too_large.exit_code(), exit::DATA_ERR);
        let full = show(ShowError::Write(std::io::ErrorKind::StorageFull.into()));
        assert_eq!(full.exit_code(), exit::CANT_CREATE);
        let runtime = CliError::Internal("cannot start the async runtime: no threads".into());
        assert_eq!(runtime.exit_code(), exit::SOFTWARE);
        assert_eq!(runtime.hint(), None);
    }
}

//! The command line, as a clap definition and nothing else (also read by the build of
//! completions and the man page).

use std::path::PathBuf;

use clap::{ArgGroup, Parser};

/// Sign and/or encrypt an email (.eml) with S/MIME.
///
/// Keys are found by address in the keys directory, as sparkpostSMIME.py did:
/// `<From address>.pem` holds the sender's private key (and may hold its certificate and
/// chain), `<address>.crt` holds each recipient's certificate. Lookup ignores case.
/// The result goes to standard output, or to the file given with -o.
#[derive(Debug, Parser)]
#[command(name = "smime", version, about, long_about = None)]
#[command(group(ArgGroup::new("signing").args(["sign", "sign_detached"])))]
pub(crate) struct Cli {
    /// The email to protect (.eml, CRLF or LF line endings).
    #[arg(value_name = "FILE")]
    pub(crate) file: PathBuf,

    /// Sign, opaque (application/pkcs7-mime): survives services that rewrite bodies.
    #[arg(long)]
    pub(crate) sign: bool,

    /// Sign, detached (multipart/signed): readable without S/MIME support.
    #[arg(long, visible_alias = "sign_detached")]
    pub(crate) sign_detached: bool,

    /// Encrypt to every To, Cc and Bcc recipient (and to the sender, see --no-encrypt-to-self).
    #[arg(long)]
    pub(crate) encrypt: bool,

    /// Directory holding <address>.pem and <address>.crt files.
    #[arg(long, value_name = "DIR", env = "SMIME_KEYS", default_value = ".")]
    pub(crate) keys: PathBuf,

    /// The sender's private key file, instead of <From address>.pem in the keys directory.
    #[arg(long, value_name = "PATH", env = "SMIME_SIGNER_KEY")]
    pub(crate) signer_key: Option<PathBuf>,

    /// The sender's certificate file (and chain), instead of <From address>.crt.
    #[arg(long, value_name = "PATH", env = "SMIME_SIGNER_CERT")]
    pub(crate) signer_cert: Option<PathBuf>,

    /// Encrypt with AES-128-CBC instead of AES-256-CBC.
    #[arg(long, requires = "encrypt")]
    pub(crate) aes128: bool,

    /// Do not add the sender as a recipient of encrypted mail.
    #[arg(long, requires = "encrypt")]
    pub(crate) no_encrypt_to_self: bool,

    /// Skip every certificate check (dates, usages, address, key size). For tests only.
    #[arg(long)]
    pub(crate) dangerous_skip_cert_checks: bool,

    /// Write the result to this file instead of standard output.
    #[arg(short, long, value_name = "PATH")]
    pub(crate) output: Option<PathBuf>,
}

//! `smime`: sign and encrypt emails with S/MIME. Parses the command line, runs, and maps
//! errors to exit codes; the work is in `smime-core`.

#![forbid(unsafe_code)]

mod cli;
mod error;

use std::io::Write;
use std::path::Path;
use std::sync::Arc;

use clap::Parser;
use smime_core::{Cipher, KeyStore, Options, Protector, SignMode};

use crate::cli::Cli;
use crate::error::CliError;

fn main() {
    let cli = Cli::parse();
    if !cli.sign && !cli.sign_detached && !cli.encrypt {
        let mut cmd = <Cli as clap::CommandFactory>::command();
        cmd.error(
            clap::error::ErrorKind::MissingRequiredArgument,
            "nothing to do: give --sign, --sign-detached and/or --encrypt",
        )
        .exit();
    }
    if let Err(e) = run(&cli) {
        let mut line = format!("smime: {e}");
        if let Some(hint) = e.hint() {
            line.push_str(&format!(" (hint: {hint})"));
        }
        eprintln!("{line}");
        std::process::exit(e.exit_code());
    }
}

fn run(cli: &Cli) -> Result<(), CliError> {
    let mut keys = KeyStore::open(&cli.keys).map_err(CliError::Keys)?;
    if let Some(p) = &cli.signer_key {
        keys = keys.with_signer_key_file(p);
    }
    if let Some(p) = &cli.signer_cert {
        keys = keys.with_signer_cert_file(p);
    }
    if cli.dangerous_skip_cert_checks {
        keys = keys.dangerous_skip_certificate_checks();
    }
    let mut options = Options::default();
    options.sign = if cli.sign {
        Some(SignMode::Opaque)
    } else if cli.sign_detached {
        Some(SignMode::Detached)
    } else {
        None
    };
    options.encrypt = cli.encrypt;
    options.encrypt_to_self = !cli.no_encrypt_to_self;
    if cli.aes128 {
        options.cipher = Cipher::Aes128Cbc;
    }
    let protector = Protector::new(Arc::new(keys), options);

    let input = std::fs::read(&cli.file).map_err(|source| CliError::ReadInput {
        file: cli.file.clone(),
        source,
    })?;
    let out = protector
        .protect(&input)
        .map_err(|source| CliError::Protect {
            file: cli.file.clone(),
            source,
        })?;
    match &cli.output {
        Some(path) => write_atomically(path, &out.message),
        None => write_stdout(&out.message),
    }
}

/// Writes to a temporary file beside `path`, then renames it: never a half-written result.
fn write_atomically(path: &Path, data: &[u8]) -> Result<(), CliError> {
    let err = |source| CliError::WriteOutput {
        file: path.to_owned(),
        source,
    };
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(err)?;
    tmp.write_all(data).map_err(err)?;
    tmp.persist(path).map_err(|e| err(e.error))?;
    Ok(())
}

fn write_stdout(data: &[u8]) -> Result<(), CliError> {
    let mut stdout = std::io::stdout().lock();
    match stdout.write_all(data).and_then(|()| stdout.flush()) {
        Ok(()) => Ok(()),
        // A closed pipe (`smime ... | head`) is not an error worth reporting.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(source) => Err(CliError::WriteOutput {
            file: "<stdout>".into(),
            source,
        }),
    }
}

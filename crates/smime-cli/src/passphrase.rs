//! Where the CLI gets the passphrase of an encrypted key file: `--key-password-file FILE`,
//! else the `SMIME_KEY_PASSWORD` environment variable, else a prompt on the terminal
//! without echo (only when one is attached). Never a command-line value: other users see
//! those in `ps`. The key store asks once per file and keeps what it opened.

use std::io::IsTerminal;
use std::path::Path;
use std::sync::Arc;

use smime_core::{EncryptedKeyKind, Passphrase, PassphraseSource};
use zeroize::Zeroizing;

use crate::error::CliError;

/// The environment variable holding the passphrase.
pub(crate) const ENV: &str = "SMIME_KEY_PASSWORD";

/// A passphrase file larger than this is not a passphrase file.
const MAX_FILE: u64 = 4096;

/// The source for this run: `file` (from `--key-password-file`) first, then [`ENV`], then
/// the terminal; `None` when there is none of them (an encrypted key then fails with a
/// message that names [`ENV`]).
pub(crate) fn source(file: Option<&Path>) -> Result<Option<Arc<dyn PassphraseSource>>, CliError> {
    if let Some(path) = file {
        return Ok(Some(Arc::new(from_file(path)?)));
    }
    if let Some(value) = std::env::var_os(ENV) {
        let value = value
            .into_string()
            .map_err(|_| CliError::Config(format!("{ENV} is not valid UTF-8")))?;
        return Ok(Some(Arc::new(Passphrase::new(value))));
    }
    if std::io::stdin().is_terminal() && std::io::stderr().is_terminal() {
        return Ok(Some(Arc::new(Terminal)));
    }
    Ok(None)
}

/// The first line of `path`, without its line break.
fn from_file(path: &Path) -> Result<Passphrase, CliError> {
    let unreadable =
        |why: String| CliError::Config(format!("--key-password-file {}: {why}", path.display()));
    let size = std::fs::metadata(path)
        .map_err(|e| unreadable(e.to_string()))?
        .len();
    if size > MAX_FILE {
        return Err(unreadable(format!(
            "is {size} bytes; a passphrase file holds one line"
        )));
    }
    let bytes = Zeroizing::new(std::fs::read(path).map_err(|e| unreadable(e.to_string()))?);
    let text = std::str::from_utf8(&bytes).map_err(|_| unreadable("is not UTF-8 text".into()))?;
    let line = text.split(['\n', '\r']).next().unwrap_or_default();
    Ok(Passphrase::new(line.to_owned()))
}

/// Asks on the terminal (`/dev/tty`), without echo.
#[derive(Debug)]
struct Terminal;

impl PassphraseSource for Terminal {
    fn passphrase(&self, file: &Path, kind: EncryptedKeyKind) -> Option<Passphrase> {
        let prompt = format!("Passphrase for {} ({kind}): ", file.display());
        rpassword::prompt_password(prompt).ok().map(Passphrase::new)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_missing_or_huge_file_is_a_configuration_error() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("nope");
        let err = from_file(&missing).unwrap_err();
        assert!(err.to_string().contains("--key-password-file"), "{err}");
        let huge = dir.path().join("huge");
        std::fs::write(&huge, vec![b'a'; 5000]).unwrap();
        let err = from_file(&huge).unwrap_err();
        assert!(err.to_string().contains("one line"), "{err}");
    }
}

//! Writing results: atomically to a file, or to standard output.

use std::io::Write;
use std::path::Path;

use crate::error::CliError;

/// Writes to a temporary file beside `path`, then renames it: never a half-written result.
pub(crate) fn write_atomically(path: &Path, data: &[u8]) -> Result<(), CliError> {
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

/// Writes to standard output; a closed pipe (`smime ... | head`) is not an error.
pub(crate) fn write_stdout(data: &[u8]) -> Result<(), CliError> {
    let mut stdout = std::io::stdout().lock();
    match stdout.write_all(data).and_then(|()| stdout.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(source) => Err(CliError::WriteOutput {
            file: "<stdout>".into(),
            source,
        }),
    }
}

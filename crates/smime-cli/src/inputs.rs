//! Which files to process: the FILE arguments expanded (directories to their `*.eml`, `-` to
//! the paths listed on standard input).

use std::io::BufRead;
use std::path::{Path, PathBuf};

use crate::error::CliError;

/// Expands the arguments, in order. Files that do not exist are kept: they fail one by one
/// with a clear error, like any other unreadable input.
pub(crate) fn expand(args: &[PathBuf]) -> Result<Vec<PathBuf>, CliError> {
    let mut out = Vec::new();
    for arg in args {
        if arg.as_os_str() == "-" {
            let stdin = std::io::stdin();
            for line in stdin.lock().lines() {
                let line = line.map_err(|source| CliError::ReadInput {
                    file: "<stdin>".into(),
                    source,
                })?;
                let line = line.trim();
                if !line.is_empty() {
                    out.push(PathBuf::from(line));
                }
            }
        } else if arg.is_dir() {
            out.extend(eml_files(arg)?);
        } else {
            out.push(arg.clone());
        }
    }
    Ok(out)
}

/// The `*.eml` files in a directory (not recursive), sorted by name.
fn eml_files(dir: &Path) -> Result<Vec<PathBuf>, CliError> {
    let read = std::fs::read_dir(dir).map_err(|source| CliError::ReadInput {
        file: dir.to_owned(),
        source,
    })?;
    let mut files: Vec<PathBuf> = read
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_file() && p.extension().is_some_and(|e| e.eq_ignore_ascii_case("eml")))
        .collect();
    files.sort();
    Ok(files)
}

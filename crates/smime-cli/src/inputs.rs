//! Which files to process: the FILE arguments expanded (directories to their `*.eml`, `-` to
//! the paths listed on standard input).

use std::io::BufRead;
use std::path::{Path, PathBuf};

use crate::error::CliError;

/// The files to process, and those passed over.
#[derive(Debug, Default)]
pub(crate) struct Inputs {
    /// In the order given; a directory's `*.eml` sorted by name.
    pub(crate) files: Vec<PathBuf>,
    /// Files in the directories given that are not `*.eml` (`b.msg`, `notes.txt`), sorted.
    pub(crate) passed_over: Vec<PathBuf>,
}

/// Expands the arguments, in order. Files that do not exist are kept: they fail one by one
/// with a clear error, like any other unreadable input.
pub(crate) fn expand(args: &[PathBuf]) -> Result<Inputs, CliError> {
    let mut inputs = Inputs::default();
    let out = &mut inputs.files;
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
            let (eml, other) = eml_files(arg)?;
            out.extend(eml);
            inputs.passed_over.extend(other);
        } else {
            out.push(arg.clone());
        }
    }
    Ok(inputs)
}

/// The `*.eml` files in a directory (not recursive), and its other files, each sorted by
/// name. Subdirectories are neither.
fn eml_files(dir: &Path) -> Result<(Vec<PathBuf>, Vec<PathBuf>), CliError> {
    let read = std::fs::read_dir(dir).map_err(|source| CliError::ReadInput {
        file: dir.to_owned(),
        source,
    })?;
    let (mut eml, mut other): (Vec<PathBuf>, Vec<PathBuf>) = read
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_file())
        .partition(|p| p.extension().is_some_and(|e| e.eq_ignore_ascii_case("eml")));
    eml.sort();
    other.sort();
    Ok((eml, other))
}

//! The journal: one JSON line per outcome, appended as it happens, so that a rerun skips what
//! was already accepted. A message is identified by its path and the SHA-256 of its bytes: an
//! edited file is a new message.

use std::collections::HashSet;
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use sha2::{Digest, Sha256};

/// The identity of one input in the journal.
pub(crate) fn key(path: &Path, content: &[u8]) -> String {
    let digest = Sha256::digest(content);
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("{}#{hex}", path.display())
}

/// An open journal.
pub(crate) struct Journal {
    path: PathBuf,
    file: Mutex<File>,
    done: HashSet<String>,
}

impl Journal {
    /// Opens (or creates) the journal and reads which messages were accepted before.
    pub(crate) fn open(path: &Path) -> std::io::Result<Journal> {
        let mut done = HashSet::new();
        if let Ok(f) = File::open(path) {
            for line in BufReader::new(f).lines() {
                let line = line?;
                // A line cut short by a crash is ignored.
                let Ok(v) = serde_json::from_str::<serde_json::Value>(&line) else {
                    continue;
                };
                let accepted = matches!(
                    v.get("status").and_then(|s| s.as_str()),
                    Some("sent" | "partial")
                );
                if let (true, Some(k)) = (accepted, v.get("key").and_then(|k| k.as_str())) {
                    done.insert(k.to_owned());
                }
            }
        }
        let mut file = OpenOptions::new().create(true).append(true).open(path)?;
        // Start on a fresh line if the last run was killed mid-line.
        if file.metadata()?.len() > 0 {
            let text = std::fs::read(path)?;
            if text.last() != Some(&b'\n') {
                file.write_all(b"\n")?;
            }
        }
        Ok(Journal {
            path: path.to_owned(),
            file: Mutex::new(file),
            done,
        })
    }

    /// True when this message was accepted in an earlier run.
    pub(crate) fn is_done(&self, key: &str) -> bool {
        self.done.contains(key)
    }

    /// Appends one outcome (a JSON object) as a single line, flushed to the OS at once.
    pub(crate) fn record(&self, entry: &serde_json::Value) -> std::io::Result<()> {
        let mut line = serde_json::to_vec(entry)?;
        line.push(b'\n');
        let mut f = self
            .file
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        f.write_all(&line)?;
        f.flush()
    }

    /// Where it is.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }
}

//! The keys directory: its files by name (`<address>.pem`, `.p12`, `.pfx`, `.crt`, ...) and,
//! read on first need, the addresses of every certificate in it, whatever the files are
//! called (a CA's `smith_j.cer`, a colleague's `bundle.p7b`).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use super::certcheck;
use super::certfile;
use zeroize::Zeroizing;

use crate::file::{ReadFileError, read_file_limited};
use crate::limits::MAX_KEY_FILE;

/// Extensions of files that may hold certificates (`.pem` too: a key file often carries its
/// certificate, and a chain may be called `.pem`).
const CERT_EXTENSIONS: [&str; 6] = ["crt", "cer", "der", "p7b", "p7c", "pem"];

/// Extensions of private key files, in the order a lookup by address tries them: a plain PEM
/// first (no passphrase needed), then PKCS#12.
pub(crate) const KEY_EXTENSIONS: [&str; 3] = ["pem", "p12", "pfx"];

/// The files of one directory, listed once when the store opens.
pub(crate) struct Directory {
    dir: PathBuf,
    /// Lowercased file name → path.
    by_name: HashMap<String, PathBuf>,
    /// Lowercased address → the files holding a certificate for it, in file name order.
    by_address: OnceLock<HashMap<String, Vec<PathBuf>>>,
    /// Files given from memory ([`KeyStore::with_file_bytes`](crate::KeyStore::with_file_bytes)),
    /// by their path in the directory; wiped on drop.
    memory: HashMap<PathBuf, Zeroizing<Vec<u8>>>,
}

impl std::fmt::Debug for Directory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Directory")
            .field("dir", &self.dir)
            .field("files", &self.by_name.len())
            .finish_non_exhaustive()
    }
}

impl Directory {
    /// Lists `dir` (files of the extensions above only).
    pub(crate) fn open(dir: PathBuf) -> std::io::Result<Directory> {
        let mut by_name = HashMap::new();
        for entry in std::fs::read_dir(&dir)?.flatten() {
            let name = entry.file_name().to_string_lossy().to_lowercase();
            if has_extension(&name, &CERT_EXTENSIONS) || has_extension(&name, &KEY_EXTENSIONS) {
                by_name.entry(name).or_insert_with(|| entry.path());
            }
        }
        Ok(Directory {
            dir,
            by_name,
            by_address: OnceLock::new(),
            memory: HashMap::new(),
        })
    }

    /// A directory that exists only in memory: files are added with [`Directory::add`].
    pub(crate) fn in_memory() -> Directory {
        Directory {
            dir: PathBuf::from("(memory)"),
            by_name: HashMap::new(),
            by_address: OnceLock::new(),
            memory: HashMap::new(),
        }
    }

    /// Adds a file from memory under `name`, as if it were in the directory (it shadows a
    /// file of that name on disk).
    pub(crate) fn add(&mut self, name: &str, data: Zeroizing<Vec<u8>>) -> PathBuf {
        let path = self.dir.join(name);
        self.by_name.insert(name.to_lowercase(), path.clone());
        self.memory.insert(path.clone(), data);
        self.by_address = OnceLock::new();
        path
    }

    /// The contents of `path`: from memory when it was added so, else read from disk (at
    /// most [`MAX_KEY_FILE`] bytes). Every reader of the store's files goes through here.
    pub(crate) fn read(&self, path: &Path) -> Result<Zeroizing<Vec<u8>>, ReadFileError> {
        match self.memory.get(path) {
            Some(data) => Ok(data.clone()),
            None => read_file_limited(path, MAX_KEY_FILE),
        }
    }

    /// The directory.
    pub(crate) fn path(&self) -> &Path {
        &self.dir
    }

    /// `<address>.<ext>`, ignoring case.
    pub(crate) fn find(&self, address: &str, ext: &str) -> Option<PathBuf> {
        self.by_name
            .get(&format!("{}.{ext}", address.to_ascii_lowercase()))
            .cloned()
    }

    /// The sender's key file: `<address>.pem`, else `.p12`, else `.pfx`.
    pub(crate) fn find_key(&self, address: &str) -> Option<PathBuf> {
        KEY_EXTENSIONS
            .iter()
            .find_map(|ext| self.find(address, ext))
    }

    /// The files that hold a certificate for `address`: `<address>.crt` first when it exists,
    /// then every other file whose certificates name the address, by file name.
    pub(crate) fn certificate_files(&self, address: &str) -> Vec<PathBuf> {
        let mut files: Vec<PathBuf> = self.find(address, "crt").into_iter().collect();
        if let Some(more) = self.by_address().get(&address.to_ascii_lowercase()) {
            for p in more {
                if !files.contains(p) {
                    files.push(p.clone());
                }
            }
        }
        files
    }

    /// Every file that may hold certificates, by file name.
    pub(crate) fn certificate_files_all(&self) -> Vec<PathBuf> {
        let mut names: Vec<(&String, &PathBuf)> = self
            .by_name
            .iter()
            .filter(|(name, _)| has_extension(name, &CERT_EXTENSIONS))
            .collect();
        names.sort();
        names.into_iter().map(|(_, p)| p.clone()).collect()
    }

    /// Every readable certificate in the directory (the pool chains are built from).
    pub(crate) fn all_certificates(&self) -> Vec<x509_cert::Certificate> {
        let mut out = Vec::new();
        for path in self.certificate_files_all() {
            let Ok(data) = self.read(&path) else {
                continue;
            };
            if let Ok(certs) = certfile::certificates(&data) {
                for c in certs {
                    if !out.contains(&c) {
                        out.push(c);
                    }
                }
            }
        }
        out
    }

    /// Every address of every readable certificate in the directory, read once. Files that
    /// cannot be read or hold no certificate are passed over here: a lookup that needs them
    /// by name reports why.
    fn by_address(&self) -> &HashMap<String, Vec<PathBuf>> {
        self.by_address.get_or_init(|| {
            let mut map: HashMap<String, Vec<PathBuf>> = HashMap::new();
            for path in &self.certificate_files_all() {
                let Ok(data) = self.read(path) else {
                    continue;
                };
                let Ok(certs) = certfile::certificates(&data) else {
                    continue;
                };
                for cert in &certs {
                    for address in certcheck::addresses(cert) {
                        let files = map.entry(address.to_ascii_lowercase()).or_default();
                        if !files.contains(path) {
                            files.push(path.clone());
                        }
                    }
                }
            }
            map
        })
    }
}

/// Whether the (lowercased) file name ends in one of `extensions`.
fn has_extension(name: &str, extensions: &[&str]) -> bool {
    Path::new(name)
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| extensions.contains(&e))
}

/// Whether `name` has the extension of a key or certificate file.
pub(crate) fn is_known_file(name: &str) -> bool {
    let name = name.to_lowercase();
    has_extension(&name, &CERT_EXTENSIONS) || has_extension(&name, &KEY_EXTENSIONS)
}

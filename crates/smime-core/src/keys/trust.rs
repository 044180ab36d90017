//! Trust anchors: the system's CA bundle and the operator's own (`--trust FILE`), and the
//! question every inbound and listing feature asks of them: does this certificate chain to
//! one of them ([`TrustStore::validate`], by `path`)?

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use x509_cert::Certificate;

use super::certfile::{self, CertFileProblem};
use super::error::KeyError;
use super::path::{self, PathProblem};
use crate::file::{ReadFileError, read_file_limited};
use crate::limits::{MAX_TRUST_ANCHORS, MAX_TRUST_FILE};

/// Where Linux distributions and macOS keep the system's CA bundle, the first found is used:
/// Debian and Ubuntu, Fedora and RHEL, openSUSE, Alpine and macOS.
const SYSTEM_BUNDLES: [&str; 5] = [
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/pki/tls/certs/ca-bundle.crt",
    "/etc/ssl/ca-bundle.pem",
    "/etc/ssl/cert.pem",
    "/usr/local/etc/openssl/cert.pem",
];

/// A set of trust anchors.
///
/// ```
/// use smime_core::TrustStore;
///
/// let trust = TrustStore::new();
/// assert!(trust.is_empty());
/// ```
#[derive(Debug, Clone, Default)]
pub struct TrustStore {
    anchors: Vec<Certificate>,
    sources: Vec<PathBuf>,
}

impl TrustStore {
    /// No anchors: nothing chains until some are added.
    pub fn new() -> TrustStore {
        TrustStore::default()
    }

    /// Adds the system's CA bundle, the first of the usual places that exists; returns its
    /// path, or `None` when this system has none of them.
    ///
    /// # Errors
    /// [`KeyError`] when the bundle exists but cannot be read.
    pub fn add_system(&mut self) -> Result<Option<PathBuf>, KeyError> {
        let Some(path) = SYSTEM_BUNDLES.iter().map(Path::new).find(|p| p.is_file()) else {
            return Ok(None);
        };
        self.add_file(path)?;
        Ok(Some(path.to_owned()))
    }

    /// Adds every certificate of a PEM bundle (or any form [`certfile`] reads) as an anchor;
    /// returns how many.
    ///
    /// # Errors
    /// [`KeyError`] when the file cannot be read or holds no certificate.
    pub fn add_file(&mut self, path: impl AsRef<Path>) -> Result<usize, KeyError> {
        let path = path.as_ref();
        let invalid = |reason: String| KeyError::Invalid {
            path: path.to_owned(),
            reason,
        };
        let data: zeroize::Zeroizing<Vec<u8>> =
            read_file_limited(path, MAX_TRUST_FILE).map_err(|e| match e {
                ReadFileError::Io { path, source } => KeyError::Io { path, source },
                other => invalid(format!(
                    "{other}; a trust bundle is at most {MAX_TRUST_FILE} bytes"
                )),
            })?;
        let room = MAX_TRUST_ANCHORS.saturating_sub(self.anchors.len());
        let certs = certfile::certificates_up_to(&data, room).map_err(|p| match p {
            CertFileProblem::TooMany(n) => invalid(format!(
                "holds {n} certificates: more than the {MAX_TRUST_ANCHORS} trust anchors accepted"
            )),
            other => invalid(other.to_string()),
        })?;
        let added = certs.len();
        for c in certs {
            if !self.anchors.contains(&c) {
                self.anchors.push(c);
            }
        }
        self.sources.push(path.to_owned());
        Ok(added)
    }

    /// Adds certificates as anchors (a service's own trust list, from memory).
    pub fn add_certificates(&mut self, certs: impl IntoIterator<Item = Certificate>) {
        for c in certs {
            if !self.anchors.contains(&c) && self.anchors.len() < MAX_TRUST_ANCHORS {
                self.anchors.push(c);
            }
        }
    }

    /// How many anchors there are.
    pub fn len(&self) -> usize {
        self.anchors.len()
    }

    /// True when there is none.
    pub fn is_empty(&self) -> bool {
        self.anchors.is_empty()
    }

    /// The files the anchors were read from, in order.
    pub fn sources(&self) -> &[PathBuf] {
        &self.sources
    }

    /// The chain from `leaf` to an anchor, through `pool` (any certificates at hand: the
    /// message's, the keys directory's), valid at `at`: leaf first, anchor last.
    ///
    /// # Errors
    /// [`PathProblem`] when no valid path exists.
    pub fn validate(
        &self,
        leaf: &Certificate,
        pool: &[Certificate],
        at: SystemTime,
    ) -> Result<Vec<Certificate>, PathProblem> {
        path::validate(leaf, pool, &self.anchors, at)
    }
}

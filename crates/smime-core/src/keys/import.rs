//! `smime certs import`: what to write into the keys directory for a certificate file
//! someone sent (PEM, DER, PKCS#7 bundle, PKCS#12 with its passphrase): one `<address>.crt`
//! per address of each usable end-entity certificate, holding it and the intermediates that
//! came with it (so chains can be sent and built). The library decides; the program writes.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use der::EncodePem;
use x509_cert::Certificate;

use super::certcheck::{self, Purpose};
use super::certfile;
use super::directory::Directory;
use super::error::KeyError;
use super::passphrase::{EncryptedKeyKind, PassphraseSource};
use super::pkcs12::{self, Pkcs12Problem};
use super::trust::TrustStore;
use crate::limits::MAX_KEY_FILE;

/// What importing one certificate for one address comes to.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ImportVerdict {
    /// No `<address>.crt` yet: write it.
    Added,
    /// `<address>.crt` holds another certificate, valid for a shorter time: overwrite it.
    Replaced,
    /// `<address>.crt` already holds this certificate, or one valid longer.
    Unchanged,
    /// Not imported (expired, no emailProtection, no address, ...): the reason.
    Refused(String),
}

impl ImportVerdict {
    /// `added`, `replaced`, `unchanged` or `refused`.
    pub fn as_str(&self) -> &'static str {
        match self {
            ImportVerdict::Added => "added",
            ImportVerdict::Replaced => "replaced",
            ImportVerdict::Unchanged => "unchanged",
            ImportVerdict::Refused(_) => "refused",
        }
    }
}

/// One line of an import: a certificate, for one address (empty when it has none).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct CertificateImport {
    /// The address (lower case); empty when the certificate names none.
    pub address: String,
    /// The certificate's subject.
    pub subject: String,
    /// What to do.
    pub verdict: ImportVerdict,
    /// Where to write (`<keys dir>/<address>.crt`) for `Added` and `Replaced`.
    pub path: Option<PathBuf>,
    /// The PEM to write there: the certificate, then the intermediates that came with it.
    pub pem: Option<String>,
    /// Against the trust anchors given: `None` when it chains to one (or none were given),
    /// else why not.
    pub untrusted: Option<String>,
}

/// The imports `data` (the contents of `file`) comes to, against the keys in `dir` at `at`.
///
/// # Errors
/// [`KeyError`] when the file holds no certificate at all or a PKCS#12 cannot be opened.
pub(crate) fn plan(
    dir: &Directory,
    file: &Path,
    data: &[u8],
    passphrases: Option<&dyn PassphraseSource>,
    trust: Option<&TrustStore>,
    at: SystemTime,
) -> Result<Vec<CertificateImport>, KeyError> {
    let invalid = |reason: String| KeyError::Invalid {
        path: file.to_owned(),
        reason,
    };
    if data.len() as u64 > MAX_KEY_FILE {
        return Err(invalid(format!("is over {MAX_KEY_FILE} bytes")));
    }
    let certs = if pkcs12::looks_like_pkcs12(data) {
        let kind = EncryptedKeyKind::Pkcs12;
        let pass = passphrases
            .and_then(|s| s.passphrase(file, kind))
            .ok_or_else(|| KeyError::PassphraseNeeded {
                path: file.to_owned(),
                kind,
            })?;
        pkcs12::parse(data, pass.as_bytes())
            .map_err(|p| match p {
                Pkcs12Problem::WrongPassphrase => KeyError::WrongPassphrase {
                    path: file.to_owned(),
                    kind,
                },
                other => invalid(format!("is a PKCS#12 file that cannot be read: {other}")),
            })?
            .certs
            .into_iter()
            .map(|c| c.cert)
            .collect()
    } else {
        certfile::certificates(data).map_err(|p| invalid(p.to_string()))?
    };
    let (cas, leaves): (Vec<&Certificate>, Vec<&Certificate>) =
        certs.iter().partition(|c| certcheck::is_ca(c));
    let mut out = Vec::new();
    for leaf in leaves {
        let subject = leaf.tbs_certificate().subject().to_string();
        let mut addresses: Vec<String> = Vec::new();
        for a in certcheck::addresses(leaf) {
            let a = a.to_ascii_lowercase();
            if !addresses.contains(&a) {
                addresses.push(a);
            }
        }
        if addresses.is_empty() {
            out.push(CertificateImport {
                address: String::new(),
                subject,
                verdict: ImportVerdict::Refused("names no e-mail address".to_owned()),
                path: None,
                pem: None,
                untrusted: None,
            });
            continue;
        }
        for address in addresses {
            let mut item = one(dir, leaf, &cas, &address, &subject, at);
            if let Some(trust) = trust {
                let mut pool: Vec<Certificate> = certs.clone();
                pool.extend(dir.all_certificates());
                item.untrusted = trust.validate(leaf, &pool, at).err().map(|p| p.to_string());
            }
            out.push(item);
        }
    }
    if out.is_empty() {
        return Err(invalid(
            "holds only CA certificates, no certificate of a person".to_owned(),
        ));
    }
    Ok(out)
}

/// The import of `leaf` for `address`.
fn one(
    dir: &Directory,
    leaf: &Certificate,
    cas: &[&Certificate],
    address: &str,
    subject: &str,
    at: SystemTime,
) -> CertificateImport {
    let refused = |why: String| CertificateImport {
        address: address.to_owned(),
        subject: subject.to_owned(),
        verdict: ImportVerdict::Refused(why),
        path: None,
        pem: None,
        untrusted: None,
    };
    // The checks a recipient's certificate gets before use; the signing ones for a key that
    // cannot encrypt (an EC certificate, until key agreement is supported).
    if let Err(p) = certcheck::check(leaf, address, Purpose::Encrypt, at)
        .or_else(|_| certcheck::check(leaf, address, Purpose::Sign, at))
    {
        return refused(p.to_string());
    }
    let path = dir.path().join(format!("{address}.crt"));
    let present = dir
        .find(address, "crt")
        .and_then(|p| std::fs::read(p).ok())
        .and_then(|d| certfile::certificates(&d).ok())
        .and_then(|c| c.into_iter().next());
    let verdict = match present {
        None => ImportVerdict::Added,
        Some(old) if &old == leaf => ImportVerdict::Unchanged,
        Some(old) if not_after(&old) > not_after(leaf) => ImportVerdict::Unchanged,
        Some(_) => ImportVerdict::Replaced,
    };
    let pem = if matches!(verdict, ImportVerdict::Unchanged) {
        None
    } else {
        let mut pem = String::new();
        for c in std::iter::once(leaf).chain(cas.iter().copied()) {
            match c.to_pem(der::pem::LineEnding::LF) {
                Ok(p) => pem.push_str(&p),
                Err(e) => return refused(format!("cannot be written as PEM ({e})")),
            }
        }
        Some(pem)
    };
    CertificateImport {
        address: address.to_owned(),
        subject: subject.to_owned(),
        path: pem.as_ref().map(|_| path),
        verdict,
        pem,
        untrusted: None,
    }
}

fn not_after(c: &Certificate) -> SystemTime {
    c.tbs_certificate().validity().not_after.to_system_time()
}

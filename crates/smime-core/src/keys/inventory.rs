//! What a keys directory holds, certificate by certificate, for `smime certs list`: who it is
//! for, until when, whether it chains to a trust anchor, and whether the private key is
//! there and behind a passphrase. Operators renew yearly; this is how they see what is about
//! to break.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use const_oid::ObjectIdentifier;
use const_oid::db::rfc5912::{ID_EC_PUBLIC_KEY, RSA_ENCRYPTION, SECP_256_R_1, SECP_384_R_1};
use der::Decode;
use rsa::traits::PublicKeyParts;
use x509_cert::Certificate;

use super::certcheck;
use super::certfile;
use super::directory::Directory;
use super::pem;
use super::pkcs12;
use super::trust::TrustStore;

/// A certificate is `expiring` this long before its notAfter.
pub const EXPIRING_WITHIN: Duration = Duration::from_secs(30 * 24 * 3600);

/// The state of a listed certificate: the first that applies, in this order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum CertStatus {
    /// After its notAfter.
    Expired,
    /// Before its notBefore.
    NotYetValid,
    /// It does not chain to a trust anchor (the reason is in `trust_problem`).
    Untrusted,
    /// Valid for less than [`EXPIRING_WITHIN`].
    Expiring,
    /// Valid, trusted, and not about to expire.
    Valid,
}

impl CertStatus {
    /// The word `--json` and the table use: `expired`, `not-yet-valid`, `untrusted`,
    /// `expiring`, `valid`.
    pub fn as_str(self) -> &'static str {
        match self {
            CertStatus::Expired => "expired",
            CertStatus::NotYetValid => "not-yet-valid",
            CertStatus::Untrusted => "untrusted",
            CertStatus::Expiring => "expiring",
            CertStatus::Valid => "valid",
        }
    }
}

/// Whether the private key for a certificate's address is in the directory, and how.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum PrivateKeyState {
    /// No key file for the address.
    None,
    /// An unencrypted key file.
    Plain,
    /// A key file behind a passphrase (PKCS#12, encrypted PEM).
    Passphrase,
}

impl PrivateKeyState {
    /// `none`, `plain` or `passphrase`.
    pub fn as_str(self) -> &'static str {
        match self {
            PrivateKeyState::None => "none",
            PrivateKeyState::Plain => "plain",
            PrivateKeyState::Passphrase => "passphrase",
        }
    }
}

/// One end-entity certificate of a keys directory.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ListedCertificate {
    /// The first address it is issued to (subjectAltName, else the subject's emailAddress).
    pub address: String,
    /// Every address it is issued to.
    pub addresses: Vec<String>,
    /// The file it was found in.
    pub file: PathBuf,
    /// Subject and issuer, as RFC 4514 strings.
    pub subject: String,
    /// The issuer.
    pub issuer: String,
    /// The serial number, in lower-case hex (as `smime show` prints it).
    pub serial: String,
    /// Validity.
    pub not_before: SystemTime,
    /// Validity.
    pub not_after: SystemTime,
    /// `rsa-2048`, `ec-p256`, `ec-p384`, or the algorithm's OID.
    pub key: String,
    /// Its state.
    pub status: CertStatus,
    /// Why it does not chain to an anchor, when it does not.
    pub trust_problem: Option<String>,
    /// The private key for its address.
    pub private_key: PrivateKeyState,
}

/// Every end-entity certificate with an address in `dir`, with its state at `at` against
/// `trust`; sorted by address, then by notAfter. Files that cannot be read are passed over
/// (they are listed in the second value, with why), and so is what lies behind a passphrase
/// (PKCS#12 files are listed by their key state only).
pub(crate) fn list(
    dir: &Directory,
    trust: &TrustStore,
    at: SystemTime,
) -> (Vec<ListedCertificate>, Vec<(PathBuf, String)>) {
    let mut found: Vec<(Certificate, PathBuf)> = Vec::new();
    let mut unreadable = Vec::new();
    for path in dir.certificate_files_all() {
        let data = match dir.read(&path) {
            Ok(d) => d,
            Err(e) => {
                unreadable.push((path, e.to_string()));
                continue;
            }
        };
        match certfile::certificates(&data) {
            Ok(certs) => found.extend(certs.into_iter().map(|c| (c, path.clone()))),
            // A key file without a certificate beside it is not a problem for the list.
            Err(certfile::CertFileProblem::NoCertificateBlock(_)) => {}
            Err(e) => unreadable.push((path, e.to_string())),
        }
    }
    let pool: Vec<Certificate> = found.iter().map(|(c, _)| c.clone()).collect();
    let mut out: Vec<ListedCertificate> = Vec::new();
    let mut seen: Vec<&Certificate> = Vec::new();
    for (cert, file) in &found {
        let mut addresses: Vec<String> = Vec::new();
        for a in certcheck::addresses(cert) {
            if !addresses.iter().any(|x| x.eq_ignore_ascii_case(&a)) {
                addresses.push(a);
            }
        }
        if certcheck::is_ca(cert) || addresses.is_empty() || seen.contains(&cert) {
            continue;
        }
        seen.push(cert);
        let validity = cert.tbs_certificate().validity();
        let (not_before, not_after) = (
            validity.not_before.to_system_time(),
            validity.not_after.to_system_time(),
        );
        let trust_problem = trust.validate(cert, &pool, at).err().map(|p| p.to_string());
        let status = if at > not_after {
            CertStatus::Expired
        } else if at < not_before {
            CertStatus::NotYetValid
        } else if trust_problem.is_some() {
            CertStatus::Untrusted
        } else if not_after.duration_since(at).unwrap_or_default() < EXPIRING_WITHIN {
            CertStatus::Expiring
        } else {
            CertStatus::Valid
        };
        let address = addresses[0].to_ascii_lowercase();
        out.push(ListedCertificate {
            private_key: key_state(dir, &address),
            address,
            addresses,
            file: file.clone(),
            subject: cert.tbs_certificate().subject().to_string(),
            issuer: cert.tbs_certificate().issuer().to_string(),
            serial: cert
                .tbs_certificate()
                .serial_number()
                .as_bytes()
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect(),
            not_before,
            not_after,
            key: key_name(cert),
            status,
            trust_problem,
        });
    }
    out.sort_by(|a, b| (&a.address, a.not_after).cmp(&(&b.address, b.not_after)));
    (out, unreadable)
}

/// `rsa-2048`, `ec-p256`, `ec-p384`, else the algorithm (and curve) OID.
fn key_name(cert: &Certificate) -> String {
    let spki = cert.tbs_certificate().subject_public_key_info();
    match spki.algorithm.oid {
        RSA_ENCRYPTION => certcheck::rsa_public_key_unchecked(cert)
            .map(|k| format!("rsa-{}", k.size() * 8))
            .unwrap_or_else(|| "rsa".to_owned()),
        ID_EC_PUBLIC_KEY => {
            let curve = spki
                .algorithm
                .parameters
                .as_ref()
                .and_then(|p| p.decode_as::<ObjectIdentifier>().ok());
            match curve {
                Some(SECP_256_R_1) => "ec-p256".to_owned(),
                Some(SECP_384_R_1) => "ec-p384".to_owned(),
                Some(other) => format!("ec-{other}"),
                None => "ec".to_owned(),
            }
        }
        other => other.to_string(),
    }
}

/// How the key file for `address` keeps its key, read without a passphrase.
fn key_state(dir: &Directory, address: &str) -> PrivateKeyState {
    let Some(path) = dir.find_key(address) else {
        return PrivateKeyState::None;
    };
    state_of(dir, &path)
}

fn state_of(dir: &Directory, path: &Path) -> PrivateKeyState {
    let Ok(data) = dir.read(path) else {
        return PrivateKeyState::None;
    };
    if pkcs12::looks_like_pkcs12(&data) {
        return PrivateKeyState::Passphrase;
    }
    let blocks = pem::blocks(&data);
    if blocks.iter().any(|b| {
        b.label == "ENCRYPTED PRIVATE KEY"
            || (b.label.ends_with("PRIVATE KEY") && b.legacy_encrypted)
    }) {
        return PrivateKeyState::Passphrase;
    }
    let plain_pem = blocks.iter().any(|b| b.label.ends_with("PRIVATE KEY"));
    let plain_der = blocks.is_empty() && pkcs8::PrivateKeyInfoRef::from_der(&data).is_ok();
    if plain_pem || plain_der {
        PrivateKeyState::Plain
    } else {
        PrivateKeyState::None
    }
}

impl ListedCertificate {
    /// notBefore in RFC 3339 (`2024-01-01T00:00:00Z`).
    pub fn not_before_rfc3339(&self) -> String {
        rfc3339(self.not_before)
    }

    /// notAfter in RFC 3339 (`2054-01-01T00:00:00Z`).
    pub fn not_after_rfc3339(&self) -> String {
        rfc3339(self.not_after)
    }
}

fn rfc3339(t: SystemTime) -> String {
    der::DateTime::from_system_time(t)
        .map(|d| d.to_string())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// 2026-06-01.
    fn at() -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(1_780_315_200)
    }

    #[test]
    fn each_state_and_key_is_reported() {
        let pki = smime_testkit::repo_root().join("testdata/pki");
        let dir = tempfile::tempdir().unwrap();
        for (from, to) in [
            ("keys/alice@example.com.pem", "alice@example.com.pem"),
            ("keys/bob@example.net.crt", "bob@example.net.crt"),
            ("keys/carol@example.org.p12", "carol@example.org.p12"),
            ("keys/carol@example.org.crt", "carol@example.org.crt"),
            ("bad/expired@example.com.crt", "expired@example.com.crt"),
            ("trust/stranger@example.com.crt", "stranger.crt"),
            ("intermediate.crt", "intermediate.crt"),
        ] {
            std::fs::copy(pki.join(from), dir.path().join(to)).unwrap();
        }
        let directory = Directory::open(dir.path().to_owned()).unwrap();
        let mut trust = TrustStore::new();
        trust.add_file(pki.join("ca.crt")).unwrap();
        let (list, unreadable) = list(&directory, &trust, at());
        assert!(unreadable.is_empty(), "{unreadable:?}");
        let by = |a: &str| list.iter().find(|c| c.address == a).unwrap();
        assert_eq!(list.len(), 5, "{list:#?}");
        let alice = by("alice@example.com");
        assert_eq!(
            (alice.status, alice.private_key, alice.key.as_str()),
            (CertStatus::Valid, PrivateKeyState::Plain, "rsa-2048")
        );
        assert_eq!(alice.not_after_rfc3339(), "2054-01-01T00:00:00Z");
        assert_eq!(by("bob@example.net").private_key, PrivateKeyState::None);
        assert_eq!(
            by("carol@example.org").private_key,
            PrivateKeyState::Passphrase
        );
        assert_eq!(by("expired@example.com").status, CertStatus::Expired);
        let stranger = by("stranger@example.com");
        assert_eq!(stranger.status, CertStatus::Untrusted);
        assert!(
            stranger
                .trust_problem
                .as_deref()
                .unwrap()
                .contains("Other Root")
        );
        // Thirty days before Bob's notAfter he is expiring.
        let late = by("bob@example.net").not_after - Duration::from_secs(86_400);
        let (list, _) = super::list(&directory, &trust, late);
        let bob = list
            .iter()
            .find(|c| c.address == "bob@example.net")
            .unwrap();
        assert_eq!(bob.status, CertStatus::Expiring);
    }
}

//! Keys and certificates, found by address in a directory like the ancestor did
//! (`<address>.pem` private key, `<address>.crt` certificate), loaded once and reused.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::SystemTime;

use cms::cert::IssuerAndSerialNumber;
use der::Decode;
use rand_core::CryptoRng;
use x509_cert::Certificate;
use zeroize::Zeroizing;

use super::backend::KeyBackend;
use super::certcheck::{self, EncryptionKey, Purpose};
use super::certfile::{self, CertFileProblem};
use super::directory::{self, Directory};
use super::error::{CertProblem, KeyError, KeyFileKind};
use super::import::{self, CertificateImport};
use super::inventory::{self, ListedCertificate};
use super::key_agreement::{self, Agreement, EcPublicKey};
use super::key_transport::KeyWrap;
use super::passphrase::{EncryptedKeyKind, Passphrase, PassphraseSource};
use super::pem::{self, PemBlock};
use super::pkcs12::{self, Pkcs12Problem};
use super::private_key::{self, KeyFileProblem, PrivateKeyDer};
use super::signer::{SignatureAlgorithm, SigningKey};
use super::trust::TrustStore;
use crate::file::ReadFileError;
use crate::limits::{MAX_CERTS_PER_FILE, MAX_KEY_FILE, MAX_RSA_BITS, MIN_RSA_BITS};

/// The sender's signing identity: key, certificate and the chain to send along.
pub struct Signer {
    address: String,
    key: Arc<dyn SigningKey>,
    cert: Certificate,
    chain: Vec<Certificate>,
    cert_path: PathBuf,
    /// The `certificates` field of SignedData, encoded once (see `cms_build`).
    pub(crate) certificates_der: std::sync::OnceLock<Vec<u8>>,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Signer")
            .field("address", &self.address)
            .field("key", &self.key)
            .field("cert_path", &self.cert_path)
            .field("chain_len", &self.chain.len())
            .finish()
    }
}

impl Signer {
    /// The address this identity signs for.
    pub fn address(&self) -> &str {
        &self.address
    }
    /// The signer's certificate.
    pub fn certificate(&self) -> &Certificate {
        &self.cert
    }
    /// Intermediate certificates sent with each signature (never a self-signed root).
    pub fn chain(&self) -> &[Certificate] {
        &self.chain
    }
    pub(crate) fn key(&self) -> &dyn SigningKey {
        self.key.as_ref()
    }
    pub(crate) fn issuer_and_serial(&self) -> IssuerAndSerialNumber {
        issuer_and_serial(&self.cert)
    }
}

/// A recipient's certificate, checked and ready: RSA for key transport, EC (P-256, P-384) for
/// ECDH key agreement.
#[derive(Debug)]
pub struct RecipientKey {
    address: String,
    cert: Certificate,
    public: RecipientPublicKey,
    path: PathBuf,
}

/// A recipient's public key, with the implementation that wraps for it.
#[derive(Debug)]
enum RecipientPublicKey {
    Rsa {
        public: rsa::PublicKey,
        wrap: KeyWrap,
    },
    Ec(EcPublicKey),
}

/// The content-encryption key wrapped for one recipient.
#[derive(Debug)]
pub(crate) enum WrappedKey {
    /// RSA key transport: the encrypted key.
    Transport(Vec<u8>),
    /// ECDH key agreement: the ephemeral key, the scheme and the wrapped key.
    Agreement(Agreement),
}

impl RecipientKey {
    /// The address.
    pub fn address(&self) -> &str {
        &self.address
    }
    /// The certificate chosen for this address.
    pub fn certificate(&self) -> &Certificate {
        &self.cert
    }
    /// The file it came from.
    pub fn path(&self) -> &Path {
        &self.path
    }
    /// True when the certificate's key is an EC key (encrypted to by key agreement).
    pub fn is_ec(&self) -> bool {
        matches!(self.public, RecipientPublicKey::Ec(_))
    }
    /// Wraps the content-encryption key `cek` for this recipient: RSA key transport with the
    /// implementation its [`KeyBackend`] chose, or ECDH key agreement. The error is a reason,
    /// for [`ProtectError::Encrypt`](crate::ProtectError::Encrypt).
    pub(crate) fn wrap_key<R: CryptoRng + ?Sized>(
        &self,
        cek: &[u8],
        rng: &mut R,
    ) -> Result<WrappedKey, String> {
        match &self.public {
            RecipientPublicKey::Rsa { public, wrap } => {
                wrap.encrypt(public, cek, rng).map(WrappedKey::Transport)
            }
            RecipientPublicKey::Ec(public) => {
                key_agreement::wrap_for(public, cek, rng).map(WrappedKey::Agreement)
            }
        }
    }
    pub(crate) fn issuer_and_serial(&self) -> IssuerAndSerialNumber {
        issuer_and_serial(&self.cert)
    }
}

fn issuer_and_serial(cert: &Certificate) -> IssuerAndSerialNumber {
    IssuerAndSerialNumber {
        issuer: cert.tbs_certificate().issuer().clone(),
        serial_number: cert.tbs_certificate().serial_number().clone(),
    }
}

/// Where keys and certificates come from, and the ones already loaded.
///
/// Lookups are by address, ignoring case: `Alice@Example.com` finds `alice@example.com.pem`.
/// Each file is read and checked once; later lookups for the same address are served from
/// memory, so one store serves any number of messages (and threads).
pub struct KeyStore {
    /// The keys directory's files, by name and by the addresses of their certificates.
    directory: Directory,
    signer_key_path: Option<PathBuf>,
    signer_cert_path: Option<PathBuf>,
    custom_signer: Option<Arc<dyn SigningKey>>,
    recipient_paths: HashMap<String, PathBuf>,
    check_certificates: bool,
    backend: KeyBackend,
    passphrases: Option<Arc<dyn PassphraseSource>>,
    /// When set, recipients' certificates must chain to one of these anchors.
    required_trust: Option<TrustStore>,
    /// Every certificate in the keys directory: the pool chains are built from (read once).
    pool: std::sync::OnceLock<Vec<Certificate>>,
    /// Key files read so far (decrypted once per run), by path.
    key_files: Mutex<HashMap<PathBuf, Arc<KeyFile>>>,
    signers: Mutex<HashMap<String, Arc<Signer>>>,
    recipients: Mutex<HashMap<String, Arc<RecipientKey>>>,
}

impl std::fmt::Debug for KeyStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyStore")
            .field("directory", &self.directory)
            .field("check_certificates", &self.check_certificates)
            .field("backend", &self.backend)
            .field("passphrase_source", &self.passphrases.is_some())
            .finish_non_exhaustive()
    }
}

impl KeyStore {
    /// A store that looks up `<address>.pem` and `<address>.crt` in `dir`.
    ///
    /// # Errors
    /// [`KeyError::Dir`] when the directory cannot be listed.
    pub fn open(dir: impl Into<PathBuf>) -> Result<KeyStore, KeyError> {
        let dir = dir.into();
        let directory = Directory::open(dir.clone()).map_err(|source| KeyError::Dir {
            dir: dir.clone(),
            source,
        })?;
        Ok(KeyStore::with_directory(directory))
    }

    fn with_directory(directory: Directory) -> KeyStore {
        KeyStore {
            directory,
            signer_key_path: None,
            signer_cert_path: None,
            custom_signer: None,
            recipient_paths: HashMap::new(),
            check_certificates: true,
            backend: KeyBackend::default(),
            passphrases: None,
            required_trust: None,
            pool: std::sync::OnceLock::new(),
            key_files: Mutex::new(HashMap::new()),
            signers: Mutex::new(HashMap::new()),
            recipients: Mutex::new(HashMap::new()),
        }
    }

    /// A store without a directory: its keys and certificates come from memory
    /// ([`with_file_bytes`](Self::with_file_bytes)), for a service that holds them in its
    /// secret store rather than on disk.
    ///
    /// ```
    /// use smime_core::{KeyStore, Passphrase};
    ///
    /// # fn load(name: &str) -> Vec<u8> {
    /// #     let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../testdata/pki/keys/");
    /// #     std::fs::read(format!("{dir}{name}")).unwrap()
    /// # }
    /// let keys = KeyStore::in_memory()
    ///     .with_file_bytes("alice@example.com.p12", load("alice@example.com.p12"))?
    ///     .with_file_bytes("bob.cer", load("bob@example.net.crt"))?
    ///     .with_passphrase(Passphrase::new("test".into()));
    /// let now = std::time::SystemTime::now();
    /// keys.signer("alice@example.com", now)?;
    /// keys.recipient("bob@example.net", now)?;
    /// # Ok::<(), smime_core::KeyError>(())
    /// ```
    pub fn in_memory() -> KeyStore {
        KeyStore::with_directory(Directory::in_memory())
    }

    /// Adds a key or certificate file's contents as if it were a file called `name` in the
    /// keys directory: lookups find it the same way (`<address>.pem`, `.p12`, `.pfx` for a
    /// sender's key; any certificate file by the addresses inside). `data` is moved and
    /// wiped when the store drops.
    ///
    /// # Errors
    /// [`KeyError::Invalid`] when `name` is not a plain file name with a known extension,
    /// or `data` is over [`MAX_KEY_FILE`] bytes.
    pub fn with_file_bytes(mut self, name: &str, data: Vec<u8>) -> Result<Self, KeyError> {
        let data = Zeroizing::new(data);
        let invalid = |reason: String| KeyError::Invalid {
            path: PathBuf::from(name),
            reason,
        };
        if name.is_empty() || name.contains(['/', '\\']) || !directory::is_known_file(name) {
            return Err(invalid(
                "is not a key or certificate file name (.pem, .p12, .pfx, .crt, .cer, .der, .p7b, .p7c)"
                    .to_owned(),
            ));
        }
        if data.len() as u64 > MAX_KEY_FILE {
            return Err(invalid(format!(
                "is {} bytes; key and certificate files over {MAX_KEY_FILE} bytes are refused",
                data.len()
            )));
        }
        self.directory.add(name, data);
        Ok(self)
    }

    /// Uses this file for the sender's private key instead of `<address>.pem`.
    #[must_use]
    pub fn with_signer_key_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.signer_key_path = Some(path.into());
        self
    }

    /// Uses this file for the sender's certificate (and chain) instead of `<address>.crt`.
    #[must_use]
    pub fn with_signer_cert_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.signer_cert_path = Some(path.into());
        self
    }

    /// Signs with this key (any [`SigningKey`] implementation) instead of the private key file;
    /// the certificate is still looked up by address or taken from
    /// [`with_signer_cert_file`](Self::with_signer_cert_file).
    #[must_use]
    pub fn with_signer(mut self, key: Arc<dyn SigningKey>) -> Self {
        self.custom_signer = Some(key);
        self
    }

    /// Uses this certificate file for `address` instead of `<address>.crt`.
    #[must_use]
    pub fn with_recipient_cert_file(mut self, address: &str, path: impl Into<PathBuf>) -> Self {
        self.recipient_paths
            .insert(address.to_ascii_lowercase(), path.into());
        self
    }

    /// Opens encrypted key files with this passphrase.
    #[must_use]
    pub fn with_passphrase(self, passphrase: Passphrase) -> Self {
        self.with_passphrase_source(Arc::new(passphrase))
    }

    /// Asks `source` for the passphrase of an encrypted key file, once per file: what it
    /// opens is kept for the rest of the run. Without a source, an encrypted key file fails
    /// with [`KeyError::PassphraseNeeded`].
    #[must_use]
    pub fn with_passphrase_source(mut self, source: Arc<dyn PassphraseSource>) -> Self {
        self.passphrases = Some(source);
        self
    }

    /// Refuses recipients whose certificate does not chain to one of `trust`'s anchors
    /// (through the certificates of the keys directory) with
    /// [`CertProblem::Untrusted`]. Without it, the keys directory is the operator's trust
    /// decision, as for sparkpostSMIME.py.
    #[must_use]
    pub fn require_trusted(mut self, trust: TrustStore) -> Self {
        self.required_trust = Some(trust);
        self
    }

    /// Loads private keys into this implementation (default: [`KeyBackend::default`]).
    #[must_use]
    pub fn with_key_backend(mut self, backend: KeyBackend) -> Self {
        self.backend = backend;
        self
    }

    /// Turns every certificate check off (dates, usages, address, key size). For tests only:
    /// mail signed or encrypted with unchecked certificates may be unreadable or unsafe.
    /// The resource limits stay: [`MAX_KEY_FILE`], [`MAX_CERTS_PER_FILE`], and private keys
    /// over [`MAX_RSA_BITS`] are still refused.
    #[must_use]
    pub fn dangerous_skip_certificate_checks(mut self) -> Self {
        self.check_certificates = false;
        self
    }

    /// Every end-entity certificate in the keys directory with its state at `at` against
    /// `trust` (what `smime certs list` prints), sorted by address; and the files passed
    /// over, with why.
    pub fn list_certificates(
        &self,
        trust: &TrustStore,
        at: SystemTime,
    ) -> (Vec<ListedCertificate>, Vec<(PathBuf, String)>) {
        inventory::list(&self.directory, trust, at)
    }

    /// What importing the certificate file `file` (its contents: `data`) into the keys
    /// directory comes to, certificate by certificate and address by address
    /// (`smime certs import`); a PKCS#12 file is opened with the store's passphrase source.
    /// With `trust`, each certificate says whether it chains to an anchor (through the
    /// file's and the directory's certificates). Nothing is written: the caller writes each
    /// `pem` to its `path`.
    ///
    /// # Errors
    /// [`KeyError`] when the file holds no certificate of a person, or cannot be opened.
    pub fn plan_import(
        &self,
        file: &Path,
        data: &[u8],
        trust: Option<&TrustStore>,
        at: SystemTime,
    ) -> Result<Vec<CertificateImport>, KeyError> {
        import::plan(
            &self.directory,
            file,
            data,
            self.passphrases.as_deref(),
            trust,
            at,
        )
    }

    /// The directory searched.
    pub fn dir(&self) -> &Path {
        self.directory.path()
    }

    fn not_found(&self, kind: KeyFileKind, address: &str, ext: &str) -> KeyError {
        KeyError::NotFound {
            kind,
            file: format!("{address}.{ext}"),
            dir: self.dir().to_owned(),
        }
    }

    /// The signing identity for `address`, loaded and checked on first use.
    ///
    /// # Errors
    /// [`KeyError`] when the key or certificate is missing, unreadable, fails a check, or
    /// the key does not match the certificate.
    pub fn signer(&self, address: &str, now: SystemTime) -> Result<Arc<Signer>, KeyError> {
        let lookup = address.to_ascii_lowercase();
        if let Some(s) = lock(&self.signers).get(&lookup) {
            if self.check_certificates {
                recheck_dates(&s.cert, &s.cert_path, address, now)?;
            }
            return Ok(Arc::clone(s));
        }
        let signer = Arc::new(self.load_signer(address, now)?);
        lock(&self.signers).insert(lookup, Arc::clone(&signer));
        Ok(signer)
    }

    fn load_signer(&self, address: &str, now: SystemTime) -> Result<Signer, KeyError> {
        // The private key, unless one was supplied.
        let mut certs: Vec<(Certificate, PathBuf)> = Vec::new();
        let (key, key_path): (Arc<dyn SigningKey>, Option<PathBuf>) = match &self.custom_signer {
            Some(k) => (Arc::clone(k), None),
            None => {
                let path = match &self.signer_key_path {
                    Some(p) => p.clone(),
                    None => self
                        .directory
                        .find_key(address)
                        .ok_or_else(|| self.not_found(KeyFileKind::SenderKey, address, "pem"))?,
                };
                let file = self.key_file(&path)?;
                certs.extend(file.certs.iter().map(|c| (c.clone(), path.clone())));
                let key = file.key_for(address);
                (key, Some(path))
            }
        };
        // Certificates: the explicit file, else every file with a certificate for the address
        // (`<address>.crt` first), plus any in the key file.
        let cert_files = match &self.signer_cert_path {
            Some(p) => vec![p.clone()],
            None => self.directory.certificate_files(address),
        };
        for path in &cert_files {
            if Some(path) == key_path.as_ref() {
                continue; // its certificates are in already
            }
            for c in self.load_certificates(path)? {
                certs.push((c, path.clone()));
            }
        }
        if certs.is_empty() {
            return Err(self.not_found(KeyFileKind::SenderCert, address, "crt"));
        }
        let public = key.public_key_der().map_err(|e| KeyError::Invalid {
            path: key_path.clone().unwrap_or_default(),
            reason: format!("cannot read the public half of the signing key: {e}"),
        })?;
        let belongs = |c: &Certificate| {
            c.tbs_certificate()
                .subject_public_key_info()
                .subject_public_key
                .raw_bytes()
                == public.as_slice()
        };
        // A certificate file named by the caller holds the certificate that signs (its first
        // one): it must belong to the key, even when the key file carries a certificate too.
        let matching = match &self.signer_cert_path {
            Some(named) => {
                let at = certs.iter().position(|(_, p)| p == named);
                match at {
                    Some(at) if belongs(&certs[at].0) => Some(at),
                    _ => {
                        return Err(KeyError::SignerCertMismatch {
                            cert: named.clone(),
                            key: key_path,
                        });
                    }
                }
            }
            None => certs.iter().position(|(c, _)| belongs(c)),
        };
        let Some(at) = matching else {
            let (_, path) = &certs[0];
            return Err(KeyError::Rejected {
                path: path.clone(),
                address: address.to_owned(),
                problem: CertProblem::KeyMismatch,
            });
        };
        let (cert, cert_path) = certs.remove(at);
        if self.check_certificates {
            // Size rules are RSA's; an EC key's curve was checked when it was read.
            let rsa = key.algorithm() == SignatureAlgorithm::RsaPkcs1Sha256;
            if rsa && (key.bits() < MIN_RSA_BITS || key.bits() > MAX_RSA_BITS) {
                return Err(KeyError::Rejected {
                    path: cert_path,
                    address: address.to_owned(),
                    problem: if key.bits() < MIN_RSA_BITS {
                        CertProblem::KeyTooShort {
                            bits: key.bits(),
                            min: MIN_RSA_BITS,
                        }
                    } else {
                        CertProblem::KeyTooLong {
                            bits: key.bits(),
                            max: MAX_RSA_BITS,
                        }
                    },
                });
            }
            certcheck::check(&cert, address, Purpose::Sign, now).map_err(|problem| {
                KeyError::Rejected {
                    path: cert_path.clone(),
                    address: address.to_owned(),
                    problem,
                }
            })?;
        }
        // The chain: every other certificate found, once, without self-signed roots.
        let mut chain: Vec<Certificate> = Vec::new();
        for (c, _) in certs {
            let self_signed = c.tbs_certificate().issuer() == c.tbs_certificate().subject();
            if !self_signed && c != cert && !chain.contains(&c) {
                chain.push(c);
            }
        }
        Ok(Signer {
            address: address.to_owned(),
            key,
            cert,
            chain,
            cert_path,
            certificates_der: std::sync::OnceLock::new(),
        })
    }

    /// The certificate to encrypt to for `address`: of the certificates in its file, the first
    /// that passes the checks for this address.
    ///
    /// # Errors
    /// [`KeyError`] when there is no file, or no certificate in it is usable.
    pub fn recipient(&self, address: &str, now: SystemTime) -> Result<Arc<RecipientKey>, KeyError> {
        self.recipient_inner(address, now, false)?
            .ok_or_else(|| self.not_found(KeyFileKind::RecipientCert, address, "crt"))
    }

    /// Like [`recipient`](Self::recipient) for the sender's own copy: `Ok(None)` when the
    /// sender has no certificate file at all.
    ///
    /// # Errors
    /// [`KeyError`] when a certificate is there but unusable.
    pub fn sender_as_recipient(
        &self,
        address: &str,
        now: SystemTime,
    ) -> Result<Option<Arc<RecipientKey>>, KeyError> {
        self.recipient_inner(address, now, true)
    }

    fn recipient_inner(
        &self,
        address: &str,
        now: SystemTime,
        is_sender: bool,
    ) -> Result<Option<Arc<RecipientKey>>, KeyError> {
        let lookup = address.to_ascii_lowercase();
        if let Some(r) = lock(&self.recipients).get(&lookup) {
            if self.check_certificates {
                recheck_dates(&r.cert, &r.path, address, now)?;
            }
            return Ok(Some(Arc::clone(r)));
        }
        let mut files: Vec<PathBuf> = Vec::new();
        let mut key_file: Option<PathBuf> = None;
        if let Some(p) = self.recipient_paths.get(&lookup) {
            files.push(p.clone());
        } else {
            files.extend(self.directory.certificate_files(address));
        }
        if is_sender {
            if let Some(p) = &self.signer_cert_path {
                files.push(p.clone());
            }
            // The sender's key file may carry its certificate.
            if let Some(p) = self
                .signer_key_path
                .clone()
                .or_else(|| self.directory.find_key(address))
            {
                // Last: a PKCS#12 key file is opened (passphrase) only when nothing else served.
                files.retain(|f| f != &p);
                key_file = Some(p.clone());
                files.push(p);
            }
        }
        if files.is_empty() {
            return Ok(None);
        }
        let mut first_problem: Option<KeyError> = None;
        let mut any_cert = false;
        let mut best: Option<(Certificate, _, PathBuf)> = None;
        let mut passed_over = 0usize;
        for path in &files {
            let certs = if key_file.as_ref() == Some(path) {
                if best.is_some() {
                    break; // it is last, and a certificate was found: no need to open it
                }
                let data = self.read_limited(path)?;
                if pkcs12::looks_like_pkcs12(&data) {
                    // Behind the passphrase: opened (once) like for signing.
                    self.key_file(path)?.certs.clone()
                } else {
                    certificates_in_pem(path, &data)?
                }
            } else if path
                .extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("pem"))
            {
                certificates_in_pem(path, &self.read_limited(path)?)?
            } else {
                self.load_certificates(path)?
            };
            for cert in certs {
                any_cert = true;
                let outcome = if self.check_certificates {
                    certcheck::check(&cert, address, Purpose::Encrypt, now)
                        .and_then(|()| self.check_trust(&cert, now))
                        .and_then(|()| certcheck::encryption_key(&cert))
                } else {
                    certcheck::encryption_key_unchecked(&cert)
                };
                match outcome {
                    Ok(public) => {
                        // Of several usable certificates, the one valid longest.
                        let until = not_after(&cert);
                        let better = best.as_ref().is_none_or(|(c, ..)| until > not_after(c));
                        if best.as_ref().is_some_and(|(c, ..)| *c != cert) {
                            passed_over += 1;
                        }
                        if better {
                            best = Some((cert, public, path.clone()));
                        }
                    }
                    Err(problem) => {
                        // Keep the most useful failure: one for this address beats a mismatch.
                        let replace = match &first_problem {
                            None => true,
                            Some(KeyError::Rejected {
                                problem: CertProblem::AddressMismatch { .. },
                                ..
                            }) => !matches!(problem, CertProblem::AddressMismatch { .. }),
                            Some(_) => false,
                        };
                        if replace {
                            first_problem = Some(KeyError::Rejected {
                                path: path.clone(),
                                address: address.to_owned(),
                                problem,
                            });
                        }
                    }
                }
            }
        }
        if let Some((cert, public, path)) = best {
            if passed_over > 0 {
                tracing::info!(
                    address,
                    file = %path.display(),
                    valid_until = %cert.tbs_certificate().validity().not_after,
                    others = passed_over,
                    "several usable certificates for the address: using the one valid longest"
                );
            }
            let public = match public {
                EncryptionKey::Rsa(public) => RecipientPublicKey::Rsa {
                    public,
                    wrap: KeyWrap::new(&cert, self.backend),
                },
                EncryptionKey::Ec(public) => RecipientPublicKey::Ec(public),
            };
            let key = Arc::new(RecipientKey {
                address: address.to_owned(),
                cert,
                public,
                path,
            });
            lock(&self.recipients).insert(lookup, Arc::clone(&key));
            return Ok(Some(key));
        }
        match first_problem {
            Some(e) => Err(e),
            None if !any_cert => Err(KeyError::Invalid {
                path: files[0].clone(),
                reason: "holds no certificate".to_owned(),
            }),
            None => Ok(None),
        }
    }
}

impl KeyStore {
    /// With [`require_trusted`](Self::require_trusted): `cert` chains to an anchor through
    /// the keys directory's certificates.
    fn check_trust(&self, cert: &Certificate, now: SystemTime) -> Result<(), CertProblem> {
        let Some(trust) = &self.required_trust else {
            return Ok(());
        };
        let pool = self.pool.get_or_init(|| self.directory.all_certificates());
        trust
            .validate(cert, pool, now)
            .map(|_| ())
            .map_err(|p| CertProblem::Untrusted {
                reason: p.to_string(),
            })
    }
}

/// When a certificate stops being valid.
fn not_after(cert: &Certificate) -> SystemTime {
    cert.tbs_certificate().validity().not_after.to_system_time()
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // The maps hold only finished values, so a panic elsewhere cannot leave them half-written.
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

fn recheck_dates(
    cert: &Certificate,
    path: &Path,
    address: &str,
    now: SystemTime,
) -> Result<(), KeyError> {
    certcheck::check_dates(cert, now).map_err(|problem| KeyError::Rejected {
        path: path.to_owned(),
        address: address.to_owned(),
        problem,
    })
}

/// Reads a key or certificate file, refusing absurd sizes: by its metadata before reading,
/// and by counting while reading (a pipe or a device such as `/dev/zero` has no size), so that
/// at most [`MAX_KEY_FILE`] + 1 bytes are ever held. The buffer is sized before reading (it
/// never moves) and wiped on drop.
impl KeyStore {
    fn read_limited(&self, path: &Path) -> Result<Zeroizing<Vec<u8>>, KeyError> {
        let too_large = |path, size: String| KeyError::Invalid {
            path,
            reason: format!(
                "is {size} bytes; key and certificate files over {MAX_KEY_FILE} bytes are refused"
            ),
        };
        self.directory.read(path).map_err(|e| match e {
            ReadFileError::Io { path, source } => KeyError::Io { path, source },
            ReadFileError::TooLarge { path, size, .. } => too_large(path, size.to_string()),
            ReadFileError::TooLargeStream { path, .. } => {
                too_large(path, format!("more than {MAX_KEY_FILE}"))
            }
        })
    }
}

/// A key file as read: its private key, loaded, and the certificates beside it.
struct KeyFile {
    /// At least one; several only from a PKCS#12 file.
    keys: Vec<Arc<dyn SigningKey>>,
    certs: Vec<Certificate>,
}

impl KeyFile {
    /// The key to sign for `address`: the only one, else the one whose certificate in the
    /// file carries the address, else the first.
    fn key_for(&self, address: &str) -> Arc<dyn SigningKey> {
        if self.keys.len() > 1 {
            for key in &self.keys {
                let Ok(public) = key.public_key_der() else {
                    continue;
                };
                let has_cert = self.certs.iter().any(|c| {
                    c.tbs_certificate()
                        .subject_public_key_info()
                        .subject_public_key
                        .raw_bytes()
                        == public.as_slice()
                        && certcheck::names_address(c, address)
                });
                if has_cert {
                    return Arc::clone(key);
                }
            }
        }
        Arc::clone(&self.keys[0])
    }
}

impl KeyStore {
    /// The key file at `path`, read (and decrypted) on first use and kept.
    fn key_file(&self, path: &Path) -> Result<Arc<KeyFile>, KeyError> {
        if let Some(file) = lock(&self.key_files).get(path) {
            return Ok(Arc::clone(file));
        }
        let file = Arc::new(self.load_key_file(path)?);
        lock(&self.key_files).insert(path.to_owned(), Arc::clone(&file));
        Ok(file)
    }

    /// Reads a private key file with the store's backend: PKCS#12, or PKCS#8 or PKCS#1 PEM
    /// (text around the block tolerated, encrypted or not), or DER.
    fn load_key_file(&self, path: &Path) -> Result<KeyFile, KeyError> {
        let invalid = |reason| KeyError::Invalid {
            path: path.to_owned(),
            reason,
        };
        let data = self.read_limited(path)?;
        let (found, certs) = if pkcs12::looks_like_pkcs12(&data) {
            self.parse_pkcs12(path, &data)?
        } else {
            let (key, certs) = self.parse_key_file(path, &data)?;
            (vec![key], certs)
        };
        let mut keys = Vec::with_capacity(found.len());
        for key in &found {
            // The size first: a huge key is slow to load and slower to use (no certificate
            // check turns this off: it bounds the work, it is not a trust decision).
            if let Some(bits) = key.rsa_bits()
                && bits > MAX_RSA_BITS
            {
                return Err(KeyError::KeyTooLong {
                    path: path.to_owned(),
                    bits,
                    max: MAX_RSA_BITS,
                });
            }
            keys.push(self.backend.signing_key(key).map_err(invalid)?);
        }
        Ok(KeyFile { keys, certs })
    }

    /// The passphrase for the encrypted key file `path`, from the source if there is one.
    fn ask(&self, path: &Path, kind: EncryptedKeyKind) -> Option<Passphrase> {
        self.passphrases
            .as_ref()
            .and_then(|s| s.passphrase(path, kind))
    }

    /// The keys and certificates of a PKCS#12 file, opened with the passphrase.
    fn parse_pkcs12(
        &self,
        path: &Path,
        data: &[u8],
    ) -> Result<(Vec<PrivateKeyDer>, Vec<Certificate>), KeyError> {
        let kind = EncryptedKeyKind::Pkcs12;
        let pass = self
            .ask(path, kind)
            .ok_or_else(|| KeyError::PassphraseNeeded {
                path: path.to_owned(),
                kind,
            })?;
        let p12 = pkcs12::parse(data, pass.as_bytes()).map_err(|problem| match problem {
            Pkcs12Problem::WrongPassphrase => KeyError::WrongPassphrase {
                path: path.to_owned(),
                kind,
            },
            other => KeyError::Invalid {
                path: path.to_owned(),
                reason: format!("is a PKCS#12 file that cannot be read: {other}"),
            },
        })?;
        check_cert_count(path, p12.certs.len())?;
        if p12.keys.is_empty() {
            return Err(KeyError::Invalid {
                path: path.to_owned(),
                reason: "is a PKCS#12 file without a private key (certificates only)".to_owned(),
            });
        }
        let keys = p12
            .keys
            .into_iter()
            .map(|k| PrivateKeyDer::pkcs8(k.pkcs8_der))
            .collect();
        let certs = p12.certs.into_iter().map(|c| c.cert).collect();
        Ok((keys, certs))
    }

    /// The private key of a key file (see [`private_key::private_key_in`]) and the
    /// certificates beside it.
    fn parse_key_file(
        &self,
        path: &Path,
        data: &[u8],
    ) -> Result<(PrivateKeyDer, Vec<Certificate>), KeyError> {
        let invalid = |reason: String| KeyError::Invalid {
            path: path.to_owned(),
            reason,
        };
        let blocks = pem::blocks(data);
        let is_cert = |b: &&PemBlock| b.label == "CERTIFICATE";
        check_cert_count(path, blocks.iter().filter(is_cert).count())?;
        let key = private_key::private_key_in(data, &blocks, &mut |kind| self.ask(path, kind))
            .map_err(|p| key_file_error(path, p))?;
        let certs = blocks
            .iter()
            .filter(is_cert)
            .map(|b| {
                Certificate::from_der(&b.der)
                    .map_err(|e| invalid(format!("a CERTIFICATE block cannot be read ({e})")))
            })
            .collect::<Result<_, _>>()?;
        Ok((key, certs))
    }
}

/// A key file's problem as the store's error.
fn key_file_error(path: &Path, problem: KeyFileProblem) -> KeyError {
    let path = path.to_owned();
    match problem {
        KeyFileProblem::NeedsPassphrase(kind) => KeyError::PassphraseNeeded { path, kind },
        KeyFileProblem::WrongPassphrase(kind) => KeyError::WrongPassphrase { path, kind },
        other => KeyError::Invalid {
            path,
            reason: other.to_string(),
        },
    }
}

/// Every certificate in a file, in any of the forms [`certfile`] reads.
impl KeyStore {
    fn load_certificates(&self, path: &Path) -> Result<Vec<Certificate>, KeyError> {
        let data = self.read_limited(path)?;
        certfile::certificates(&data).map_err(|problem| match problem {
            CertFileProblem::TooMany(count) => KeyError::TooManyCertificates {
                path: path.to_owned(),
                count,
                limit: MAX_CERTS_PER_FILE,
            },
            other => KeyError::Invalid {
                path: path.to_owned(),
                reason: other.to_string(),
            },
        })
    }
}

fn certificates_in_pem(path: &Path, data: &[u8]) -> Result<Vec<Certificate>, KeyError> {
    let blocks = pem::blocks(data);
    let blocks: Vec<_> = blocks.iter().filter(|b| b.label == "CERTIFICATE").collect();
    check_cert_count(path, blocks.len())?;
    Ok(blocks
        .iter()
        .filter_map(|b| Certificate::from_der(&b.der).ok())
        .collect())
}

/// Refuses a file with more than [`MAX_CERTS_PER_FILE`] certificates.
fn check_cert_count(path: &Path, count: usize) -> Result<(), KeyError> {
    if count > MAX_CERTS_PER_FILE {
        return Err(KeyError::TooManyCertificates {
            path: path.to_owned(),
            count,
            limit: MAX_CERTS_PER_FILE,
        });
    }
    Ok(())
}

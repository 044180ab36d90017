//! A throw-away CA and a server certificate for 127.0.0.1 / localhost, made with rcgen at
//! test time (ECDSA P-256, aws-lc-rs): what the fake servers present over TLS, and the CA
//! file a client under test is told to trust.
//!
//! ```no_run
//! use smime_testkit::fake_smtp::{FakeSmtp, Options, Tls};
//! use smime_testkit::tls::TestCa;
//!
//! # async fn demo() {
//! let ca = TestCa::new();
//! let server = FakeSmtp::start(Options {
//!     tls: Tls::StartTls(ca.acceptor()),
//!     ..Options::default()
//! })
//! .await;
//! // The client trusts `ca.ca_path()` (e.g. `smime --ca-file`).
//! # let _ = (server, ca.ca_path());
//! # }
//! ```

use std::{fmt, path::Path, sync::Arc};

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose};
use rustls_pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio_rustls::TlsAcceptor;

/// A CA (its certificate also in a PEM file) and a server certificate it signed.
pub struct TestCa {
    /// The CA certificate, PEM.
    pub ca_pem: String,
    ca_file: tempfile::NamedTempFile,
    server_chain: Vec<CertificateDer<'static>>,
    server_key: Vec<u8>,
}

impl fmt::Debug for TestCa {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TestCa")
            .field("ca_file", &self.ca_file.path())
            .finish_non_exhaustive()
    }
}

impl Default for TestCa {
    fn default() -> Self {
        Self::new()
    }
}

impl TestCa {
    /// A new CA and a server certificate for `localhost` and `127.0.0.1` signed by it.
    pub fn new() -> Self {
        let ca_key = KeyPair::generate().expect("CA key");
        let mut ca = CertificateParams::new(Vec::<String>::new()).expect("CA params");
        ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca.distinguished_name
            .push(DnType::CommonName, "smime-transport test CA");
        ca.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let ca_cert = ca.self_signed(&ca_key).expect("CA certificate");
        let issuer = Issuer::from_params(&ca, &ca_key);

        let server_key = KeyPair::generate().expect("server key");
        let mut server =
            CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])
                .expect("server params");
        server
            .distinguished_name
            .push(DnType::CommonName, "localhost");
        let server_cert = server
            .signed_by(&server_key, &issuer)
            .expect("server certificate");

        let ca_pem = ca_cert.pem();
        let mut ca_file = tempfile::NamedTempFile::new().expect("temp file");
        std::io::Write::write_all(&mut ca_file, ca_pem.as_bytes()).expect("write CA");
        Self {
            ca_pem,
            ca_file,
            server_chain: vec![server_cert.der().clone()],
            server_key: server_key.serialize_der(),
        }
    }

    /// A PEM file holding the CA certificate (removed when `self` is dropped).
    pub fn ca_path(&self) -> &Path {
        self.ca_file.path()
    }

    /// A TLS acceptor presenting the server certificate.
    pub fn acceptor(&self) -> TlsAcceptor {
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(self.server_key.clone()));
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("protocol versions")
            .with_no_client_auth()
            .with_single_cert(self.server_chain.clone(), key)
            .expect("server config");
        TlsAcceptor::from(Arc::new(config))
    }
}

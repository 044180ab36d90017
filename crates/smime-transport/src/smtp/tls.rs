//! TLS for SMTP: the client configuration (system roots plus an optional extra CA file,
//! aws-lc-rs only) and the stream that is either plain TCP or TLS.

use std::{
    io,
    path::Path,
    pin::Pin,
    sync::Arc,
    task::{Context, Poll},
};

use rustls::{
    ClientConfig, DigitallySignedStruct, SignatureScheme,
    client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier},
    crypto::CryptoProvider,
};
use rustls_pki_types::{CertificateDer, ServerName, UnixTime, pem::PemObject};
use tokio::{
    io::{AsyncRead, AsyncWrite, ReadBuf},
    net::TcpStream,
};
use tokio_rustls::{TlsConnector, client::TlsStream};

use crate::error::SendError;

/// The connection to the SMTP server, before or after TLS.
#[derive(Debug)]
pub(crate) enum Stream {
    Plain(TcpStream),
    Tls(Box<TlsStream<TcpStream>>),
}

impl Stream {
    pub(crate) fn is_tls(&self) -> bool {
        matches!(self, Stream::Tls(_))
    }
}

impl AsyncRead for Stream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_read(cx, buf),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Stream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_write(cx, buf),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_flush(cx),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_shutdown(cx),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_write_vectored(cx, bufs),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_write_vectored(cx, bufs),
        }
    }

    fn is_write_vectored(&self) -> bool {
        match self {
            Stream::Plain(s) => s.is_write_vectored(),
            Stream::Tls(s) => s.is_write_vectored(),
        }
    }
}

/// Reads every certificate in a PEM file (an extra trust anchor, e.g. a private CA).
pub(crate) fn load_ca_file(path: &Path) -> Result<Vec<CertificateDer<'static>>, SendError> {
    let certs = CertificateDer::pem_file_iter(path)
        .and_then(|iter| iter.collect::<Result<Vec<_>, _>>())
        .map_err(|e| {
            SendError::config(format!(
                "cannot read CA certificates from {}: {e}",
                path.display()
            ))
        })?;
    if certs.is_empty() {
        return Err(SendError::config(format!(
            "no PEM certificate in {}",
            path.display()
        )));
    }
    Ok(certs)
}

/// The one crypto provider of the workspace.
pub(crate) fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::aws_lc_rs::default_provider())
}

/// A client configuration that verifies the server against the system's roots plus
/// `extra_roots`, or (when `accept_invalid_certs`) verifies nothing but the handshake
/// signatures.
pub(crate) fn connector(
    extra_roots: Vec<CertificateDer<'static>>,
    accept_invalid_certs: bool,
) -> Result<TlsConnector, SendError> {
    let provider = provider();
    let verifier: Arc<dyn ServerCertVerifier> = if accept_invalid_certs {
        Arc::new(AcceptAnyCertificate(provider.clone()))
    } else {
        Arc::new(
            rustls_platform_verifier::Verifier::new_with_extra_roots(extra_roots, provider.clone())
                .map_err(|e| SendError::config(format!("cannot set up certificate checks: {e}")))?,
        )
    };
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| SendError::config(format!("TLS configuration: {e}")))?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth();
    Ok(TlsConnector::from(Arc::new(config)))
}

/// A [`connector`] made on first use: loading the system's root certificates costs a few
/// milliseconds, which a one-message run to a server without STARTTLS should not pay. The CA
/// file was read (and checked) when the sender was built.
pub(crate) struct LazyConnector {
    extra_roots: Vec<CertificateDer<'static>>,
    accept_invalid_certs: bool,
    made: std::sync::OnceLock<Result<TlsConnector, String>>,
}

impl LazyConnector {
    pub(crate) fn new(
        extra_roots: Vec<CertificateDer<'static>>,
        accept_invalid_certs: bool,
    ) -> Self {
        LazyConnector {
            extra_roots,
            accept_invalid_certs,
            made: std::sync::OnceLock::new(),
        }
    }

    /// The connector, made now if this is the first TLS connection.
    pub(crate) fn get(&self) -> Result<&TlsConnector, SendError> {
        self.made
            .get_or_init(|| {
                connector(self.extra_roots.clone(), self.accept_invalid_certs)
                    .map_err(|e| e.to_string())
            })
            .as_ref()
            .map_err(|e| SendError::config(e.clone()))
    }
}

/// The name to check the server's certificate against.
pub(crate) fn server_name(name: &str) -> Result<ServerName<'static>, SendError> {
    ServerName::try_from(name.to_owned())
        .map_err(|_| SendError::config(format!("{name:?} is not a valid TLS server name")))
}

/// `dangerous_accept_invalid_certs`: any certificate, any name. The handshake signature is
/// still checked, so the session is at least with the holder of the presented key.
#[derive(Debug)]
struct AcceptAnyCertificate(Arc<CryptoProvider>);

impl ServerCertVerifier for AcceptAnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

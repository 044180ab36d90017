//! SMTP injection on mail-send: TLS modes, AUTH, a pool of reused connections, PIPELINING,
//! per-command timeouts, the optional `X-MSYS-API` header.

mod auth;
pub(crate) mod data;
mod mail_send_error;
mod msys;
mod pool;
pub(crate) mod session;
mod tls;
mod wire;

use std::{
    fmt,
    path::{Path, PathBuf},
    time::{Duration, Instant},
};

use async_trait::async_trait;
use rustls_pki_types::ServerName;
use zeroize::Zeroizing;

pub use auth::Credentials;
pub use msys::MsysApi;

use self::{data::DataBlock, pool::Pool, session::After};
use crate::{
    envelope::Envelope,
    error::SendError,
    receipt::Receipt,
    secret::{Secret, wire_forms},
    sender::Sender,
};

/// How the connection is encrypted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum TlsMode {
    /// Plain connection upgraded with `STARTTLS`; fail if the server does not offer it
    /// (the default; port 587, 25, 2525).
    #[default]
    StartTlsRequired,
    /// TLS from the first byte (port 465).
    ImplicitTls,
    /// `STARTTLS` when the server offers it, else carry on unencrypted. An attacker on
    /// the path can remove the offer: prefer `StartTlsRequired`. A TLS handshake that
    /// fails after the offer is an error, not a reason to fall back.
    StartTlsOpportunistic,
    /// No encryption: for an MTA on a private network (PowerMTA, Momentum on a VLAN).
    /// Credentials are then refused unless `dangerous_allow_plaintext_auth` is set.
    None,
}

impl fmt::Display for TlsMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TlsMode::StartTlsRequired => "STARTTLS",
            TlsMode::ImplicitTls => "TLS",
            TlsMode::StartTlsOpportunistic => "STARTTLS if offered",
            TlsMode::None => "plain",
        })
    }
}

/// How long to wait at each step. The defaults are RFC 5321 §4.5.3.2's minimums (and
/// above SparkPost's 60 s floor); the long wait after the final dot avoids duplicates.
///
/// ```
/// use std::time::Duration;
/// use smime_transport::Timeouts;
///
/// let mut t = Timeouts::default();
/// assert_eq!(t.data_end, Duration::from_secs(600));
/// t.connect = Duration::from_secs(10);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Timeouts {
    /// TCP connection and TLS handshake (not in RFC 5321): 60 s.
    pub connect: Duration,
    /// The `220` greeting: 5 min.
    pub greeting: Duration,
    /// `EHLO`, `STARTTLS`, `AUTH`, `RSET`: 5 min.
    pub command: Duration,
    /// `MAIL FROM`: 5 min.
    pub mail: Duration,
    /// Each `RCPT TO`: 5 min.
    pub rcpt: Duration,
    /// `DATA` until `354`: 2 min.
    pub data: Duration,
    /// Writing the message content: 3 min.
    pub data_block: Duration,
    /// The reply after the final dot: 10 min.
    pub data_end: Duration,
    /// `QUIT` (politeness only): 10 s.
    pub quit: Duration,
}

impl Timeouts {
    /// RFC 5321's minimums.
    pub fn rfc5321() -> Self {
        let min = |m: u64| Duration::from_secs(60 * m);
        Self {
            connect: min(1),
            greeting: min(5),
            command: min(5),
            mail: min(5),
            rcpt: min(5),
            data: min(2),
            data_block: min(3),
            data_end: min(10),
            quit: Duration::from_secs(10),
        }
    }

    /// The same limit for every step (tests, local servers).
    pub fn uniform(limit: Duration) -> Self {
        Self {
            connect: limit,
            greeting: limit,
            command: limit,
            mail: limit,
            rcpt: limit,
            data: limit,
            data_block: limit,
            data_end: limit,
            quit: limit,
        }
    }
}

impl Default for Timeouts {
    fn default() -> Self {
        Self::rfc5321()
    }
}

/// Everything a session needs, fixed when the sender is built.
pub(crate) struct Config {
    host: String,
    port: u16,
    /// `host:port`, for messages.
    server: String,
    tls: TlsMode,
    tls_name: ServerName<'static>,
    connector: Option<tls::LazyConnector>,
    credentials: Option<Credentials>,
    /// The password as it could appear on the wire, to scrub from replies.
    secret_forms: Vec<Zeroizing<String>>,
    allow_plaintext_auth: bool,
    helo_name: Option<String>,
    pipelining: bool,
    timeouts: Timeouts,
    max_messages: u32,
    idle_timeout: Duration,
    header: Option<String>,
}

/// Builds an [`SmtpSender`]. Start from [`SmtpSender::builder`] (or one of the named
/// constructors); every default is the secure one.
#[derive(Clone)]
pub struct SmtpSenderBuilder {
    host: String,
    port: u16,
    tls: TlsMode,
    tls_server_name: Option<String>,
    extra_ca_file: Option<PathBuf>,
    accept_invalid_certs: bool,
    credentials: Option<Credentials>,
    allow_plaintext_auth: bool,
    helo_name: Option<String>,
    pool_size: usize,
    max_messages: u32,
    idle_timeout: Duration,
    pipelining: bool,
    timeouts: Timeouts,
    msys: Option<MsysApi>,
}

impl fmt::Debug for SmtpSenderBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmtpSenderBuilder")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("tls", &self.tls)
            .field("tls_server_name", &self.tls_server_name)
            .field("extra_ca_file", &self.extra_ca_file)
            .field("accept_invalid_certs", &self.accept_invalid_certs)
            .field("credentials", &self.credentials)
            .field("allow_plaintext_auth", &self.allow_plaintext_auth)
            .field("pool_size", &self.pool_size)
            .field("max_messages", &self.max_messages)
            .field("pipelining", &self.pipelining)
            .field("timeouts", &self.timeouts)
            .field("msys", &self.msys)
            .finish_non_exhaustive()
    }
}

/// SparkPost's relay host (US).
pub const SPARKPOST_SMTP_HOST: &str = "smtp.sparkpostmail.com";
/// SparkPost's relay host (EU).
pub const SPARKPOST_EU_SMTP_HOST: &str = "smtp.eu.sparkpostmail.com";

impl SmtpSenderBuilder {
    fn new(host: &str, port: u16, tls: TlsMode) -> Self {
        Self {
            host: host.to_owned(),
            port,
            tls,
            tls_server_name: None,
            extra_ca_file: None,
            accept_invalid_certs: false,
            credentials: None,
            allow_plaintext_auth: false,
            helo_name: None,
            pool_size: 10,
            max_messages: 100,
            idle_timeout: Duration::from_secs(50),
            pipelining: true,
            timeouts: Timeouts::default(),
            msys: None,
        }
    }

    /// The TLS mode (default [`TlsMode::StartTlsRequired`]).
    pub fn tls(mut self, mode: TlsMode) -> Self {
        self.tls = mode;
        self
    }

    /// The name the server's certificate must carry, when it differs from the host
    /// connected to (a VIP address, say). Defaults to the host.
    pub fn tls_server_name(mut self, name: impl Into<String>) -> Self {
        self.tls_server_name = Some(name.into());
        self
    }

    /// A PEM file of CA certificates trusted in addition to the system's roots.
    pub fn extra_ca_file(mut self, path: impl AsRef<Path>) -> Self {
        self.extra_ca_file = Some(path.as_ref().to_owned());
        self
    }

    /// Accepts any server certificate: anyone on the path can read and change the mail
    /// and, with AUTH, steal the password. For tests against a self-signed server only.
    pub fn dangerous_accept_invalid_certs(mut self, accept: bool) -> Self {
        self.accept_invalid_certs = accept;
        self
    }

    /// Authenticates (AUTH PLAIN, else LOGIN) after TLS.
    pub fn credentials(mut self, credentials: Credentials) -> Self {
        self.credentials = Some(credentials);
        self
    }

    /// Lets the credentials go over a connection that is not encrypted, where anyone on
    /// the path can read them. Off by default.
    pub fn dangerous_allow_plaintext_auth(mut self, allow: bool) -> Self {
        self.allow_plaintext_auth = allow;
        self
    }

    /// The name given in `EHLO`. Defaults to the address literal of the local end of the
    /// connection (`[192.0.2.1]`).
    pub fn helo_name(mut self, name: impl Into<String>) -> Self {
        self.helo_name = Some(name.into());
        self
    }

    /// How many connections may be open at once (default 10, SparkPost's limit).
    pub fn pool_size(mut self, size: usize) -> Self {
        self.pool_size = size;
        self
    }

    /// How many messages one connection carries before it is closed with `QUIT` and a
    /// new one opened (default 100, SparkPost's advice). `0` means no limit.
    pub fn max_messages_per_connection(mut self, max: u32) -> Self {
        self.max_messages = max;
        self
    }

    /// How long an idle connection is kept for reuse (default 50 s; SparkPost drops idle
    /// connections after a minute).
    pub fn idle_timeout(mut self, idle: Duration) -> Self {
        self.idle_timeout = idle;
        self
    }

    /// Whether to pipeline MAIL, RCPT and DATA when the server advertises PIPELINING
    /// (default true).
    pub fn pipelining(mut self, on: bool) -> Self {
        self.pipelining = on;
        self
    }

    /// The per-step timeouts (default [`Timeouts::rfc5321`]).
    pub fn timeouts(mut self, timeouts: Timeouts) -> Self {
        self.timeouts = timeouts;
        self
    }

    /// Prepends an `X-MSYS-API` header to every message (SparkPost relay, Momentum).
    pub fn msys_api(mut self, options: MsysApi) -> Self {
        self.msys = Some(options);
        self
    }

    /// Checks the configuration, reads the extra CA file and builds the sender. Nothing
    /// is connected until the first message.
    pub fn build(self) -> Result<SmtpSender, SendError> {
        if self.host.trim().is_empty() {
            return Err(SendError::config("the SMTP host is empty"));
        }
        if self.pool_size == 0 {
            return Err(SendError::config("the pool size must be at least 1"));
        }
        if let Some(name) = &self.helo_name
            && (name.is_empty() || name.chars().any(|c| c.is_control() || c == ' '))
        {
            return Err(SendError::config(format!("invalid EHLO name {name:?}")));
        }
        let server = if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        };
        if self.tls == TlsMode::None && self.credentials.is_some() && !self.allow_plaintext_auth {
            // Known before connecting: TlsMode::None would send the credentials in clear.
            return Err(crate::error::Repr::PlaintextAuth { server }.into());
        }
        let connector = if self.tls == TlsMode::None {
            None
        } else {
            let extra = match &self.extra_ca_file {
                Some(path) => tls::load_ca_file(path)?,
                None => Vec::new(),
            };
            Some(tls::LazyConnector::new(extra, self.accept_invalid_certs))
        };
        let name = self.tls_server_name.as_deref().unwrap_or(&self.host);
        let tls_name = tls::server_name(name.trim_start_matches('[').trim_end_matches(']'))?;
        let header = self.msys.as_ref().map(MsysApi::header_line).transpose()?;
        let secret_forms = self
            .credentials
            .as_ref()
            .map(|c| wire_forms(c.password(), Some(c.username())))
            .unwrap_or_default();
        Ok(SmtpSender {
            config: Config {
                host: self.host,
                port: self.port,
                server,
                tls: self.tls,
                tls_name,
                connector,
                credentials: self.credentials,
                secret_forms,
                allow_plaintext_auth: self.allow_plaintext_auth,
                helo_name: self.helo_name,
                pipelining: self.pipelining,
                timeouts: self.timeouts,
                max_messages: self.max_messages,
                idle_timeout: self.idle_timeout,
                header,
            },
            pool: Pool::new(self.pool_size),
            pool_size: self.pool_size,
        })
    }
}

/// Sends by SMTP through a pool of reused connections.
///
/// Each message takes a connection from the pool (opening one if none is idle and fewer
/// than `pool_size` are open, else waiting), runs one transaction and gives the connection
/// back; after `max_messages_per_connection` messages the connection is closed with
/// `QUIT`. A failed transaction is followed by `RSET`; a `421`, a lost connection or a
/// timeout closes the connection. An idle connection the server closed in the meantime is
/// replaced transparently (nothing of the message had reached the server).
///
/// ```no_run
/// use smime_transport::{Envelope, Secret, Sender, SmtpSender};
///
/// # async fn example(message: &[u8]) -> Result<(), Box<dyn std::error::Error>> {
/// let key = Secret::new(std::env::var("SPARKPOST_API_KEY")?);
/// let sender = SmtpSender::sparkpost(key).build()?;
/// let envelope = Envelope::new("alice@example.com", ["bob@example.net"])?;
/// let receipt = sender.send(&envelope, message).await?;
/// println!("{} in {:?}", receipt.response(), receipt.elapsed());
/// sender.shutdown().await?;
/// # Ok(()) }
/// ```
pub struct SmtpSender {
    config: Config,
    pool: Pool,
    pool_size: usize,
}

impl SmtpSender {
    /// A builder for `host:port` with `STARTTLS` required and certificates verified.
    pub fn builder(host: &str, port: u16) -> SmtpSenderBuilder {
        SmtpSenderBuilder::new(host, port, TlsMode::StartTlsRequired)
    }

    /// Submission on port 587 with `STARTTLS` required.
    pub fn starttls_relay(host: &str) -> SmtpSenderBuilder {
        SmtpSenderBuilder::new(host, 587, TlsMode::StartTlsRequired)
    }

    /// Submission on port 465 with implicit TLS.
    pub fn relay(host: &str) -> SmtpSenderBuilder {
        SmtpSenderBuilder::new(host, 465, TlsMode::ImplicitTls)
    }

    /// SparkPost's SMTP relay (`smtp.sparkpostmail.com:587`, `STARTTLS` required, user
    /// `SMTP_Injection`, 10 connections, 100 messages each) with an `X-MSYS-API` header
    /// that turns tracking off.
    pub fn sparkpost(api_key: Secret) -> SmtpSenderBuilder {
        Self::sparkpost_at(SPARKPOST_SMTP_HOST, api_key)
    }

    /// The same for SparkPost EU (`smtp.eu.sparkpostmail.com`).
    pub fn sparkpost_eu(api_key: Secret) -> SmtpSenderBuilder {
        Self::sparkpost_at(SPARKPOST_EU_SMTP_HOST, api_key)
    }

    fn sparkpost_at(host: &str, api_key: Secret) -> SmtpSenderBuilder {
        SmtpSenderBuilder::new(host, 587, TlsMode::StartTlsRequired)
            .credentials(Credentials::sparkpost(api_key))
            .pool_size(10)
            .max_messages_per_connection(100)
            .msys_api(MsysApi::new())
    }

    /// The server, as `host:port`.
    pub fn server(&self) -> &str {
        &self.config.server
    }

    /// The TLS mode.
    pub fn tls_mode(&self) -> TlsMode {
        self.config.tls
    }

    /// The configuration, for a session opened on another stream than the pool's
    /// (`session::Session::over`: the fuzz targets).
    #[cfg(feature = "fuzzing")]
    pub(crate) fn config(&self) -> &Config {
        &self.config
    }

    async fn send_message(
        &self,
        envelope: &Envelope,
        data: &DataBlock,
    ) -> Result<Receipt, SendError> {
        let config = &self.config;
        let _slot = self.pool.slot().await?;
        let started = Instant::now();
        let (idle, expired) = self.pool.take(config.idle_timeout);
        // The server has probably closed these already; waiting for a QUIT reply from a
        // peer that vanished would hold up this message. Closing the socket is enough.
        if !expired.is_empty() {
            tracing::debug!(
                server = %config.server,
                closed = expired.len(),
                "dropping connections idle for longer than {:?}",
                config.idle_timeout
            );
        }
        drop(expired);
        let (mut session, mut reused) = match idle {
            Some(session) => {
                session.span().in_scope(|| {
                    tracing::debug!(
                        transactions = session.transactions,
                        "reusing a pooled connection"
                    );
                });
                (session, true)
            }
            None => (session::connect(config).await?, false),
        };
        loop {
            match session.transact(config, envelope, data, reused).await {
                Ok(receipt) => {
                    self.release(session).await;
                    return Ok(receipt.with_elapsed(started.elapsed()));
                }
                Err(failure) if failure.stale => {
                    // The server closed the idle connection: nothing was delivered.
                    session.span().in_scope(|| {
                        tracing::debug!(
                            error = %failure.error,
                            "the pooled connection was closed by the server: reconnecting"
                        );
                    });
                    drop(session);
                    session = session::connect(config).await?;
                    reused = false;
                }
                Err(failure) => {
                    session.span().in_scope(|| {
                        tracing::debug!(
                            error = %failure.error,
                            transient = failure.error.is_transient(),
                            after = ?failure.after,
                            "transaction failed"
                        );
                    });
                    match failure.after {
                        After::Dead => drop(session),
                        After::Clean => self.release(session).await,
                        After::Reset => {
                            if session.reset(config).await {
                                self.release(session).await;
                            }
                        }
                    }
                    return Err(failure.error);
                }
            }
        }
    }

    /// Back to the pool, or `QUIT` when the connection has carried its share.
    async fn release(&self, session: session::Session) {
        let max = self.config.max_messages;
        if max != 0 && session.transactions >= max {
            session.quit(&self.config).await;
        } else {
            session
                .span()
                .in_scope(|| tracing::trace!("connection back in the pool"));
            self.pool.put(session);
        }
    }
}

#[async_trait]
impl Sender for SmtpSender {
    async fn send(&self, envelope: &Envelope, message: &[u8]) -> Result<Receipt, SendError> {
        let data = DataBlock::new(self.config.header.as_deref(), message);
        self.send_message(envelope, &data).await
    }

    async fn shutdown(&self) -> Result<(), SendError> {
        for session in self.pool.close() {
            session.quit(&self.config).await;
        }
        Ok(())
    }
}

impl fmt::Debug for SmtpSender {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let c = &self.config;
        f.debug_struct("SmtpSender")
            .field("server", &c.server)
            .field("tls", &c.tls)
            .field("credentials", &c.credentials)
            .field("allow_plaintext_auth", &c.allow_plaintext_auth)
            .field("pipelining", &c.pipelining)
            .field("pool_size", &self.pool_size)
            .field("max_messages", &c.max_messages)
            .field("timeouts", &c.timeouts)
            .field("msys_api_header", &c.header.is_some())
            .finish_non_exhaustive()
    }
}

/// `SMTP smtp.sparkpostmail.com:587 (STARTTLS), user "SMTP_Injection"`: what the CLI
/// prints when it opens the transport (never the password, nor its length).
impl fmt::Display for SmtpSender {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SMTP {} ({})", self.config.server, self.config.tls)?;
        if let Some(c) = &self.config.credentials {
            write!(f, ", user {:?}", c.username())?;
        }
        Ok(())
    }
}

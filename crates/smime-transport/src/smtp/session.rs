//! One SMTP session on mail-send's client: greeting, EHLO, AUTH, then transactions
//! (pipelined when the server advertises PIPELINING), RSET, QUIT, over any stream
//! (`Session<S>`, an in-memory one in the tests below); connecting, STARTTLS and the TLS
//! handshake for the real connection (`connect`, which makes a `Session<Stream>`).
//!
//! Every event of a session happens inside its connection's span (`wire::connection_span`),
//! and those of a transaction inside the transaction's span, which carry the server, the
//! connection's number and the transaction's: the events only add what is new.

use std::{
    fmt::Write as _,
    net::{IpAddr, SocketAddr},
    time::{Duration, Instant},
};

use mail_send::SmtpClient;
use smtp_proto::{
    EXT_8BIT_MIME, EXT_PIPELINING, EXT_SMTP_UTF8, EXT_START_TLS, EhloResponse, Response,
    response::parser::ResponseReceiver,
};
use tokio::{
    io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt},
    net::TcpStream,
    time::{timeout, timeout_at},
};
use tokio_rustls::client::TlsStream;
use tracing::{Instrument, Span};

use super::{
    Config, TlsMode, auth, data::DataBlock, mail_send_error::map_mail_send, tls::Stream, wire,
};
use crate::{
    envelope::Envelope,
    error::{Repr, SendError, Stage},
    receipt::{Receipt, Refusal},
    reply::Reply,
    secret::scrub,
};

/// What the server said it supports in its EHLO reply.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Capabilities {
    pipelining: bool,
    size: usize,
    eight_bit_mime: bool,
    smtputf8: bool,
    auth: u64,
    starttls: bool,
}

/// `PIPELINING SIZE=52428800 8BITMIME STARTTLS AUTH=PLAIN,LOGIN,+2`, for the logs.
impl std::fmt::Display for Capabilities {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut words = Vec::new();
        if self.pipelining {
            words.push("PIPELINING".to_owned());
        }
        if self.size > 0 {
            words.push(format!("SIZE={}", self.size));
        }
        if self.eight_bit_mime {
            words.push("8BITMIME".to_owned());
        }
        if self.smtputf8 {
            words.push("SMTPUTF8".to_owned());
        }
        if self.starttls {
            words.push("STARTTLS".to_owned());
        }
        if self.auth != 0 {
            let mut names: Vec<String> = [
                (smtp_proto::AUTH_PLAIN, "PLAIN"),
                (smtp_proto::AUTH_LOGIN, "LOGIN"),
                (smtp_proto::AUTH_CRAM_MD5, "CRAM-MD5"),
                (smtp_proto::AUTH_XOAUTH2, "XOAUTH2"),
            ]
            .iter()
            .filter(|(bit, _)| self.auth & bit != 0)
            .map(|(_, name)| (*name).to_owned())
            .collect();
            let known = smtp_proto::AUTH_PLAIN
                | smtp_proto::AUTH_LOGIN
                | smtp_proto::AUTH_CRAM_MD5
                | smtp_proto::AUTH_XOAUTH2;
            let others = (self.auth & !known).count_ones();
            if others > 0 {
                names.push(format!("+{others}"));
            }
            words.push(format!("AUTH={}", names.join(",")));
        }
        if words.is_empty() {
            f.write_str("no extensions")
        } else {
            f.write_str(&words.join(" "))
        }
    }
}

impl From<&EhloResponse<String>> for Capabilities {
    fn from(r: &EhloResponse<String>) -> Self {
        Self {
            pipelining: r.has_capability(EXT_PIPELINING),
            size: r.size,
            eight_bit_mime: r.has_capability(EXT_8BIT_MIME),
            smtputf8: r.has_capability(EXT_SMTP_UTF8),
            auth: r.auth_mechanisms,
            starttls: r.has_capability(EXT_START_TLS),
        }
    }
}

/// An open, greeted (and, as configured, encrypted and authenticated) SMTP session over
/// `S`: the TCP or TLS connection ([`Stream`]) in real use, an in-memory stream in tests.
pub(crate) struct Session<S: AsyncRead + AsyncWrite = Stream> {
    /// The connection's number in the logs.
    pub(crate) id: u64,
    client: SmtpClient<S>,
    caps: Capabilities,
    /// Whether the stream is encrypted.
    tls: bool,
    /// The connection's span: every event of the session happens in it.
    span: Span,
    /// Transactions attempted on this session.
    pub(crate) transactions: u32,
    /// When the session last finished a transaction.
    pub(crate) last_used: Instant,
}

impl<S: AsyncRead + AsyncWrite> std::fmt::Debug for Session<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("id", &self.id)
            .field("tls", &self.tls)
            .field("caps", &self.caps)
            .field("transactions", &self.transactions)
            .finish_non_exhaustive()
    }
}

/// What state a failed transaction left the session in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum After {
    /// The transaction is open: send RSET before reusing the session.
    Reset,
    /// The transaction is over (e.g. the final reply was negative): reusable as is.
    Clean,
    /// The session is unusable (421, lost, timed out): drop it.
    Dead,
}

/// A failed transaction.
#[derive(Debug)]
pub(crate) struct Failure {
    pub(crate) error: SendError,
    pub(crate) after: After,
    /// A reused session turned out to be closed before the server saw anything of this
    /// message: sending again on a new connection cannot duplicate it.
    pub(crate) stale: bool,
}

impl Failure {
    fn new(error: SendError, after: After) -> Self {
        Self {
            error,
            after,
            stale: false,
        }
    }
}

/// What to make of a command that got no usable reply: the session is dead. On a `reused`
/// session, a connection found closed or answering nonsense makes the failure stale.
fn dead(
    config: &Config,
    stage: Stage,
    limit: Duration,
    reused: bool,
) -> impl FnOnce(mail_send::Error) -> Failure + '_ {
    move |e| {
        let stale = reused
            && matches!(
                e,
                mail_send::Error::Io(_) | mail_send::Error::UnparseableReply
            );
        Failure {
            error: map_mail_send(e, &config.server, stage, limit),
            after: After::Dead,
            stale,
        }
    }
}

/// The envelope of one transaction as SMTP commands: what both ways of sending it take.
struct EnvelopeCommands<'a> {
    /// `MAIL FROM:<...>` with its parameters, CRLF included.
    mail: String,
    /// The `RCPT TO` addresses, in order.
    recipients: Vec<&'a str>,
    /// Whether the session already carried a transaction: a connection found closed by
    /// the first command is then stale.
    reused: bool,
}

impl<'a> EnvelopeCommands<'a> {
    /// `SIZE`, `BODY=8BITMIME` and `SMTPUTF8` as the server's `caps` and the message ask.
    fn new(
        envelope: &'a Envelope,
        data: &DataBlock,
        caps: &Capabilities,
        smtputf8: bool,
        reused: bool,
    ) -> Self {
        let mut mail = format!("MAIL FROM:<{}>", envelope.mail_from());
        if caps.size > 0 {
            let _ = write!(mail, " SIZE={}", data.size());
        }
        if data.eight_bit() && caps.eight_bit_mime {
            mail.push_str(" BODY=8BITMIME");
        }
        if smtputf8 {
            mail.push_str(" SMTPUTF8");
        }
        mail.push_str("\r\n");
        Self {
            mail,
            recipients: envelope.addresses().collect(),
            reused,
        }
    }
}

/// The RCPT replies of a transaction: the recipients accepted and those refused.
struct RcptReplies {
    accepted: Vec<String>,
    refusals: Vec<Refusal>,
}

impl RcptReplies {
    fn for_recipients(count: usize) -> Self {
        Self {
            accepted: Vec::with_capacity(count),
            refusals: Vec::new(),
        }
    }

    /// Records the reply to `RCPT TO:<rcpt>`.
    fn record(&mut self, rcpt: &str, reply: Response<String>) {
        if is_positive(&reply) {
            tracing::debug!(rcpt, code = reply.code, "RCPT TO accepted");
            self.accepted.push(rcpt.to_owned());
        } else {
            tracing::debug!(rcpt, code = reply.code, "RCPT TO refused");
            self.refusals
                .push(Refusal::new(rcpt, Reply::from_response(reply)));
        }
    }

    /// Itself when a recipient was accepted; else the failure, after which the session
    /// needs RSET.
    fn some_accepted(self, config: &Config) -> Result<Self, Failure> {
        if !self.accepted.is_empty() {
            return Ok(self);
        }
        Err(Failure::new(
            Repr::AllRecipientsRefused {
                server: config.server.clone(),
                refusals: self.refusals,
            }
            .into(),
            After::Reset,
        ))
    }
}

fn address_literal(local: std::io::Result<SocketAddr>) -> String {
    match local.map(|a| a.ip()) {
        Ok(IpAddr::V4(ip)) => format!("[{ip}]"),
        Ok(IpAddr::V6(ip)) => format!("[IPv6:{ip}]"),
        Err(_) => "[127.0.0.1]".to_owned(),
    }
}

async fn handshake(config: &Config, tcp: TcpStream) -> Result<TlsStream<TcpStream>, SendError> {
    let server = config.server.clone();
    tracing::debug!(name = ?config.tls_name, "TLS handshake");
    let Some(connector) = &config.connector else {
        return Err(SendError::config(
            "TLS requested without a TLS configuration",
        ));
    };
    let connector = connector.get()?;
    let limit = config.timeouts.connect;
    match timeout(limit, connector.connect(config.tls_name.clone(), tcp)).await {
        Err(_) => Err(Repr::Timeout {
            server,
            stage: Stage::Tls,
            after: limit,
        }
        .into()),
        Ok(Err(e)) => {
            tracing::debug!(error = %e, "TLS handshake failed");
            Err(Repr::Tls {
                server,
                detail: e.to_string(),
            }
            .into())
        }
        Ok(Ok(stream)) => {
            let (_, tls) = stream.get_ref();
            tracing::debug!(
                version = ?tls.protocol_version(),
                cipher = ?tls.negotiated_cipher_suite().map(|s| s.suite()),
                "TLS established, certificate verified as configured"
            );
            Ok(stream)
        }
    }
}

async fn greeting<T: AsyncRead + AsyncWrite + Unpin>(
    client: &mut SmtpClient<T>,
    config: &Config,
) -> Result<(), SendError> {
    let limit = config.timeouts.greeting;
    let reply = match timeout(limit, wire::read(client, config)).await {
        Err(_) => {
            wire::no_reply(&"timed out");
            return Err(Repr::Timeout {
                server: config.server.clone(),
                stage: Stage::Greeting,
                after: limit,
            }
            .into());
        }
        Ok(r) => r.map_err(|e| map_mail_send(e, &config.server, Stage::Greeting, limit))?,
    };
    if reply.code == 220 {
        Ok(())
    } else {
        tracing::debug!(code = reply.code, "greeting refused");
        Err(Repr::Rejected {
            server: config.server.clone(),
            stage: Stage::Greeting,
            reply: Reply::from_response(reply),
        }
        .into())
    }
}

async fn ehlo<T: AsyncRead + AsyncWrite + Unpin>(
    client: &mut SmtpClient<T>,
    config: &Config,
    helo: &str,
) -> Result<Capabilities, SendError> {
    let limit = config.timeouts.command;
    client.timeout = limit;
    wire::sent(format!("EHLO {helo}").as_bytes());
    match client.ehlo(helo).await {
        Ok(r) => {
            let caps = Capabilities::from(&r);
            tracing::trace!(
                target: wire::TARGET,
                "S: 250 {} [{caps}]",
                r.hostname.escape_debug()
            );
            tracing::debug!(%caps, "EHLO accepted");
            Ok(caps)
        }
        // A server that does not know EHLO: HELO, and no extensions.
        Err(mail_send::Error::UnexpectedReply(r)) if (500..=502).contains(&r.code) => {
            wire::received(config, &r);
            let reply = wire::cmd(client, config, format!("HELO {helo}\r\n").as_bytes())
                .await
                .map_err(|e| map_mail_send(e, &config.server, Stage::Ehlo, limit))?;
            if reply.code == 250 {
                tracing::debug!("EHLO refused, HELO accepted: no extensions");
                Ok(Capabilities::default())
            } else {
                Err(Repr::Rejected {
                    server: config.server.clone(),
                    stage: Stage::Ehlo,
                    reply: Reply::from_response(reply),
                }
                .into())
            }
        }
        Err(e) => {
            wire::failed(config, &e);
            Err(map_mail_send(e, &config.server, Stage::Ehlo, limit))
        }
    }
}

/// The greeting and EHLO on a new connection (or a new TLS layer: no greeting then).
async fn greet<T: AsyncRead + AsyncWrite + Unpin>(
    stream: T,
    config: &Config,
    helo: &str,
) -> Result<(SmtpClient<T>, Capabilities), SendError> {
    let mut client = SmtpClient {
        stream,
        timeout: config.timeouts.greeting,
    };
    greeting(&mut client, config).await?;
    let caps = ehlo(&mut client, config, helo).await?;
    Ok((client, caps))
}

/// Opens a session as the configuration says: TLS mode, certificate checks, AUTH.
pub(crate) async fn connect(config: &Config) -> Result<Session, SendError> {
    let conn = wire::next_connection_id();
    let span = wire::connection_span(config, conn);
    open(config, conn, span.clone())
        .instrument(span)
        .await
        .map_err(|e| e.scrubbed(&config.secret_forms))
}

/// [`connect`], inside the connection's span.
async fn open(config: &Config, conn: u64, span: Span) -> Result<Session, SendError> {
    let t = &config.timeouts;
    let started = Instant::now();
    tracing::debug!(tls = %config.tls, "connecting");
    let tcp = match timeout(
        t.connect,
        TcpStream::connect((config.host.as_str(), config.port)),
    )
    .await
    {
        Err(_) => {
            tracing::debug!("connection timed out");
            return Err(Repr::Timeout {
                server: config.server.clone(),
                stage: Stage::Connect,
                after: t.connect,
            }
            .into());
        }
        Ok(Err(source)) => {
            tracing::debug!(error = %source, "connection failed");
            return Err(Repr::Connect {
                server: config.server.clone(),
                source,
            }
            .into());
        }
        Ok(Ok(tcp)) => {
            tracing::debug!(
                local = ?tcp.local_addr().ok(),
                peer = ?tcp.peer_addr().ok(),
                elapsed = ?started.elapsed(),
                "connected"
            );
            tcp
        }
    };
    // Commands are written whole; waiting for more bytes only adds latency.
    let _ = tcp.set_nodelay(true);
    let helo = config
        .helo_name
        .clone()
        .unwrap_or_else(|| address_literal(tcp.local_addr()));

    let (client, caps) = match config.tls {
        TlsMode::ImplicitTls => {
            let stream = handshake(config, tcp).await?;
            greet(Stream::Tls(Box::new(stream)), config, &helo).await?
        }
        mode => {
            let (mut plain, caps) = greet(tcp, config, &helo).await?;
            let wants_tls = matches!(
                mode,
                TlsMode::StartTlsRequired | TlsMode::StartTlsOpportunistic
            );
            if wants_tls && caps.starttls {
                plain.timeout = t.command;
                let reply = wire::cmd(&mut plain, config, b"STARTTLS\r\n")
                    .await
                    .map_err(|e| map_mail_send(e, &config.server, Stage::Tls, t.command))?;
                if reply.code == 220 {
                    let stream = handshake(config, plain.stream).await?;
                    let mut client = SmtpClient {
                        stream: Stream::Tls(Box::new(stream)),
                        timeout: t.command,
                    };
                    let caps = ehlo(&mut client, config, &helo).await?;
                    (client, caps)
                } else if mode == TlsMode::StartTlsRequired {
                    return Err(Repr::Rejected {
                        server: config.server.clone(),
                        stage: Stage::Tls,
                        reply: Reply::from_response(reply),
                    }
                    .into());
                } else {
                    tracing::debug!(
                        code = reply.code,
                        "STARTTLS refused: continuing unencrypted (opportunistic)"
                    );
                    let client = SmtpClient {
                        stream: Stream::Plain(plain.stream),
                        timeout: t.command,
                    };
                    (client, caps)
                }
            } else if mode == TlsMode::StartTlsRequired {
                return Err(Repr::StartTlsUnavailable {
                    server: config.server.clone(),
                }
                .into());
            } else {
                if wants_tls {
                    tracing::debug!("STARTTLS not offered: continuing unencrypted (opportunistic)");
                }
                let client = SmtpClient {
                    stream: Stream::Plain(plain.stream),
                    timeout: t.command,
                };
                (client, caps)
            }
        }
    };
    let tls = client.stream.is_tls();
    Session::ready(client, caps, tls, config, conn, span, started).await
}

impl<S: AsyncRead + AsyncWrite + Unpin> Session<S> {
    /// A session over `stream`, a connection already open (and as encrypted as it will
    /// be, which is taken to be not at all): the greeting, EHLO, AUTH as configured. The
    /// protocol without the network, for the tests and the fuzz targets.
    #[cfg(any(test, feature = "fuzzing"))]
    pub(crate) async fn over(stream: S, config: &Config) -> Result<Self, SendError> {
        let conn = wire::next_connection_id();
        let span = wire::connection_span(config, conn);
        let started = Instant::now();
        let helo = config
            .helo_name
            .clone()
            .unwrap_or_else(|| address_literal(Err(std::io::ErrorKind::NotConnected.into())));
        let opened = async {
            let (client, caps) = greet(stream, config, &helo).await?;
            Self::ready(client, caps, false, config, conn, span.clone(), started).await
        };
        opened
            .instrument(span.clone())
            .await
            .map_err(|e| e.scrubbed(&config.secret_forms))
    }

    /// AUTH as configured on a greeted connection, then the session is ready.
    async fn ready(
        mut client: SmtpClient<S>,
        caps: Capabilities,
        tls: bool,
        config: &Config,
        conn: u64,
        span: Span,
        started: Instant,
    ) -> Result<Self, SendError> {
        if let Some(credentials) = &config.credentials {
            if !tls && !config.allow_plaintext_auth {
                tracing::debug!("not authenticating: the connection is not encrypted");
                return Err(Repr::PlaintextAuth {
                    server: config.server.clone(),
                }
                .into());
            }
            let limit = config.timeouts.command;
            auth::authenticate(&mut client, config, credentials, caps.auth, limit).await?;
        }
        tracing::debug!(
            tls,
            authenticated = config.credentials.is_some(),
            elapsed = ?started.elapsed(),
            "session ready"
        );
        Ok(Session {
            id: conn,
            client,
            caps,
            tls,
            span,
            transactions: 0,
            last_used: Instant::now(),
        })
    }
}

/// How reading a batch of pipelined replies ended early.
#[derive(Debug)]
pub(crate) enum ReadEnd {
    Timeout,
    Lost(String),
}

/// Reads `n` replies, keeping those that arrived before the connection closed or timed out
/// (mail-send's `read_many` drops them, and with them a `421` that explains the close).
pub(crate) async fn read_replies<T: AsyncRead + Unpin>(
    stream: &mut T,
    n: usize,
    limit: Duration,
) -> (Vec<Response<String>>, Option<ReadEnd>) {
    let deadline = tokio::time::Instant::now() + limit;
    let mut replies = Vec::with_capacity(n);
    let mut parser = ResponseReceiver::default();
    let mut buf = vec![0u8; 4096];
    while replies.len() < n {
        let read = match timeout_at(deadline, stream.read(&mut buf)).await {
            Err(_) => return (replies, Some(ReadEnd::Timeout)),
            Ok(Err(e)) => return (replies, Some(ReadEnd::Lost(e.to_string()))),
            Ok(Ok(0)) => {
                return (
                    replies,
                    Some(ReadEnd::Lost("connection closed by the server".to_owned())),
                );
            }
            Ok(Ok(read)) => read,
        };
        let mut bytes = buf[..read].iter();
        while replies.len() < n {
            match parser.parse(&mut bytes) {
                Ok(reply) => {
                    replies.push(reply);
                    parser.reset();
                }
                Err(smtp_proto::Error::NeedsMoreData { .. }) => break,
                Err(_) => {
                    return (
                        replies,
                        Some(ReadEnd::Lost("a reply that is not SMTP".to_owned())),
                    );
                }
            }
        }
    }
    (replies, None)
}

fn is_positive(r: &Response<String>) -> bool {
    (200..300).contains(&r.code)
}

impl<S: AsyncRead + AsyncWrite> Session<S> {
    /// Whether the session has sat unused for longer than `idle`.
    pub(crate) fn idle_for_longer_than(&self, idle: Duration) -> bool {
        self.last_used.elapsed() > idle
    }

    /// The connection's span, for events about the session outside its own methods.
    pub(crate) fn span(&self) -> &Span {
        &self.span
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> Session<S> {
    fn rejected(&self, config: &Config, stage: Stage, r: Response<String>) -> Failure {
        let reply = Reply::from_response(r);
        let after = if reply.closes_session() {
            After::Dead
        } else {
            After::Reset
        };
        tracing::debug!(
            %stage,
            reply = %scrub(&reply.to_string(), &config.secret_forms),
            ?after,
            "refused"
        );
        Failure::new(
            Repr::Rejected {
                server: config.server.clone(),
                stage,
                reply,
            }
            .into(),
            after,
        )
    }

    /// One transaction: MAIL, RCPT for every recipient, DATA, the content, the final reply.
    /// `reused` says whether the session already carried a transaction (a closed idle
    /// session is then reported as stale).
    pub(crate) async fn transact(
        &mut self,
        config: &Config,
        envelope: &Envelope,
        data: &DataBlock,
        reused: bool,
    ) -> Result<Receipt, Failure> {
        self.transactions += 1;
        let span = wire::transaction_span(&self.span, self.transactions);
        async {
            let smtputf8 = envelope.needs_smtputf8();
            if smtputf8 && !self.caps.smtputf8 {
                return Err(Failure::new(
                    SendError::message(format!(
                        "{}: an address is not ASCII and the server does not offer SMTPUTF8",
                        config.server
                    )),
                    After::Clean,
                ));
            }
            let commands = EnvelopeCommands::new(envelope, data, &self.caps, smtputf8, reused);
            tracing::debug!(
                reused,
                from = envelope.mail_from(),
                recipients = commands.recipients.len(),
                bytes = data.size(),
                pipelined = config.pipelining && self.caps.pipelining,
                "transaction"
            );

            let RcptReplies { accepted, refusals } = if config.pipelining && self.caps.pipelining {
                self.envelope_pipelined(config, &commands).await?
            } else {
                self.envelope_lockstep(config, &commands).await?
            };

            // The content, then the reply after the final dot.
            let t = &config.timeouts;
            wire::sent_message(data.bytes().len());
            self.write_within(config, data.bytes(), t.data_block, Stage::Content)
                .await
                .map_err(|e| Failure::new(e.into(), After::Dead))?;
            let reply = match timeout(t.data_end, wire::read(&mut self.client, config)).await {
                Err(_) => {
                    wire::no_reply(&"timed out");
                    return Err(Failure::new(
                        Repr::Timeout {
                            server: config.server.clone(),
                            stage: Stage::DataEnd,
                            after: t.data_end,
                        }
                        .into(),
                        After::Dead,
                    ));
                }
                Ok(Err(e)) => return Err(dead(config, Stage::DataEnd, t.data_end, false)(e)),
                Ok(Ok(r)) => r,
            };
            self.last_used = Instant::now();
            if !is_positive(&reply) {
                let mut failure = self.rejected(config, Stage::DataEnd, reply);
                if failure.after == After::Reset {
                    // The transaction ended with the final reply.
                    failure.after = After::Clean;
                }
                return Err(failure);
            }
            let reply = Reply::from_response(reply);
            tracing::debug!(
                accepted = accepted.len(),
                refused = refusals.len(),
                queue_id = ?reply.queue_id(),
                "message accepted"
            );
            Ok(Receipt::new(accepted)
                .with_encrypted(self.tls)
                .with_rejected(refusals)
                .with_id(reply.queue_id())
                .with_response(reply.to_string()))
        }
        .instrument(span)
        .await
        .map(|receipt| receipt.scrubbed(&config.secret_forms))
        .map_err(|mut failure| {
            failure.error = failure.error.scrubbed(&config.secret_forms);
            failure
        })
    }

    /// MAIL, RCPT..., DATA one at a time.
    async fn envelope_lockstep(
        &mut self,
        config: &Config,
        commands: &EnvelopeCommands<'_>,
    ) -> Result<RcptReplies, Failure> {
        let t = &config.timeouts;
        self.client.timeout = t.mail;
        let reply = wire::cmd(&mut self.client, config, commands.mail.as_bytes())
            .await
            .map_err(dead(config, Stage::MailFrom, t.mail, commands.reused))?;
        if !is_positive(&reply) {
            return Err(self.rejected(config, Stage::MailFrom, reply));
        }
        tracing::debug!(code = reply.code, "MAIL FROM accepted");
        let mut replies = RcptReplies::for_recipients(commands.recipients.len());
        self.client.timeout = t.rcpt;
        for rcpt in &commands.recipients {
            let line = format!("RCPT TO:<{rcpt}>\r\n");
            let reply = wire::cmd(&mut self.client, config, line.as_bytes())
                .await
                .map_err(dead(config, Stage::RcptTo, t.rcpt, false))?;
            if reply.code == 421 {
                return Err(self.rejected(config, Stage::RcptTo, reply));
            }
            replies.record(rcpt, reply);
        }
        let replies = replies.some_accepted(config)?;
        self.client.timeout = t.data;
        let reply = wire::cmd(&mut self.client, config, b"DATA\r\n")
            .await
            .map_err(dead(config, Stage::Data, t.data, false))?;
        if reply.code != 354 {
            return Err(self.rejected(config, Stage::Data, reply));
        }
        tracing::debug!(code = reply.code, "DATA accepted");
        Ok(replies)
    }

    /// Writes `bytes` and flushes them within `limit`; an error names `stage`.
    async fn write_within(
        &mut self,
        config: &Config,
        bytes: &[u8],
        limit: Duration,
        stage: Stage,
    ) -> Result<(), Repr> {
        let written = timeout(limit, async {
            self.client.stream.write_all(bytes).await?;
            self.client.stream.flush().await
        })
        .await;
        match written {
            Err(_) => Err(Repr::Timeout {
                server: config.server.clone(),
                stage,
                after: limit,
            }),
            Ok(Err(e)) => Err(Repr::ConnectionLost {
                server: config.server.clone(),
                stage,
                detail: e.to_string(),
            }),
            Ok(Ok(())) => Ok(()),
        }
    }

    /// MAIL, every RCPT and DATA in one write, then their replies (RFC 2920).
    async fn envelope_pipelined(
        &mut self,
        config: &Config,
        commands: &EnvelopeCommands<'_>,
    ) -> Result<RcptReplies, Failure> {
        let t = &config.timeouts;
        let mut batch =
            String::with_capacity(commands.mail.len() + commands.recipients.len() * 64 + 6);
        batch.push_str(&commands.mail);
        for rcpt in &commands.recipients {
            let _ = write!(batch, "RCPT TO:<{rcpt}>\r\n");
        }
        batch.push_str("DATA\r\n");
        for line in batch.split_inclusive("\r\n") {
            wire::sent(line.as_bytes());
        }
        self.write_within(config, batch.as_bytes(), t.mail, Stage::MailFrom)
            .await
            .map_err(|e| {
                // A reused connection the server had dropped: worth one retry on a new one.
                let lost = matches!(e, Repr::ConnectionLost { .. });
                Failure {
                    error: e.into(),
                    after: After::Dead,
                    stale: commands.reused && lost,
                }
            })?;

        let n = commands.recipients.len() + 2;
        let limit = t.mail.max(t.rcpt).max(t.data);
        let (mut replies, end) = read_replies(&mut self.client.stream, n, limit).await;
        for reply in &replies {
            wire::received(config, reply);
        }
        match &end {
            Some(ReadEnd::Timeout) => wire::no_reply(&"timed out"),
            Some(ReadEnd::Lost(why)) => wire::no_reply(why),
            None => {}
        }
        let stage_of = |i: usize| {
            if i == 0 {
                Stage::MailFrom
            } else if i <= commands.recipients.len() {
                Stage::RcptTo
            } else {
                Stage::Data
            }
        };
        if let Some(i) = replies.iter().position(|r| r.code == 421) {
            let reply = replies.swap_remove(i);
            return Err(self.rejected(config, stage_of(i), reply));
        }
        if let Some(end) = end {
            let stage = stage_of(replies.len());
            let stale = commands.reused && replies.is_empty() && matches!(end, ReadEnd::Lost(_));
            let error = match end {
                ReadEnd::Timeout => Repr::Timeout {
                    server: config.server.clone(),
                    stage,
                    after: limit,
                },
                ReadEnd::Lost(detail) => Repr::ConnectionLost {
                    server: config.server.clone(),
                    stage,
                    detail,
                },
            };
            return Err(Failure {
                error: error.into(),
                after: After::Dead,
                stale,
            });
        }

        let mut replies = replies.into_iter();
        let (Some(mail_reply), Some(data_reply)) = (replies.next(), replies.next_back()) else {
            return Err(Failure::new(
                SendError::permanent(format!("{}: missing pipelined replies", config.server)),
                After::Dead,
            ));
        };
        let data_open = data_reply.code == 354;
        if !is_positive(&mail_reply) {
            let failure = self.rejected(config, Stage::MailFrom, mail_reply);
            return Err(self.close_data(config, data_open, failure).await);
        }
        tracing::debug!(code = mail_reply.code, "MAIL FROM accepted");
        let mut rcpt_replies = RcptReplies::for_recipients(commands.recipients.len());
        for (rcpt, reply) in commands.recipients.iter().zip(replies) {
            rcpt_replies.record(rcpt, reply);
        }
        let rcpt_replies = match rcpt_replies.some_accepted(config) {
            Ok(r) => r,
            Err(failure) => return Err(self.close_data(config, data_open, failure).await),
        };
        if !data_open {
            return Err(self.rejected(config, Stage::Data, data_reply));
        }
        tracing::debug!(code = data_reply.code, "DATA accepted");
        Ok(rcpt_replies)
    }

    /// A pipelined DATA was accepted although the transaction failed: send an empty
    /// message's terminator so the server leaves data mode (RFC 2920 §3.1), then the
    /// session needs RSET like any failed transaction.
    async fn close_data(&mut self, config: &Config, data_open: bool, failure: Failure) -> Failure {
        if !data_open {
            return failure;
        }
        let t = config.timeouts.data;
        wire::sent(b".\r\n");
        let closed = timeout(t, async {
            self.client.stream.write_all(b".\r\n").await?;
            self.client.stream.flush().await?;
            wire::read(&mut self.client, config)
                .await
                .map_err(|e| std::io::Error::other(e.to_string()))
        })
        .await;
        match closed {
            Ok(Ok(_)) => failure,
            _ => Failure {
                after: After::Dead,
                ..failure
            },
        }
    }

    /// RSET after a failed transaction; `false` when the session should be dropped.
    pub(crate) async fn reset(&mut self, config: &Config) -> bool {
        let span = self.span.clone();
        let reset = async {
            self.client.timeout = config.timeouts.command;
            match wire::cmd(&mut self.client, config, b"RSET\r\n").await {
                Ok(r) if is_positive(&r) => {
                    self.last_used = Instant::now();
                    true
                }
                _ => {
                    tracing::debug!("RSET failed: closing the connection");
                    false
                }
            }
        };
        reset.instrument(span).await
    }

    /// QUIT, waiting at most the quit timeout for the `221`.
    pub(crate) async fn quit(mut self, config: &Config) {
        let span = self.span.clone();
        let quit = async move {
            self.client.timeout = config.timeouts.quit;
            tracing::debug!(
                transactions = self.transactions,
                "closing the connection (QUIT)"
            );
            let _ = wire::cmd(&mut self.client, config, b"QUIT\r\n").await;
            let _ = timeout(config.timeouts.quit, self.client.stream.shutdown()).await;
        };
        quit.instrument(span).await
    }
}

/// The protocol over `tokio::io::duplex`, a scripted server on the other end: each test
/// checks the exact bytes the client wrote and what the session made of the replies.
#[cfg(test)]
mod tests {
    use std::io::{Read, Seek};

    use base64ct::{Base64, Encoding};
    use tokio::{
        io::{DuplexStream, duplex},
        task::JoinHandle,
    };

    use super::*;
    use crate::{
        secret::Secret,
        smtp::{Credentials, SmtpSender, SmtpSenderBuilder, Timeouts},
    };

    /// One turn of the scripted server.
    enum Step {
        /// Writes these bytes.
        Say(&'static str),
        /// Reads as many bytes as these have (all pipelined commands before any reply, say)
        /// and stops the script if they differ.
        Hear(&'static str),
        /// Closes the connection.
        Hang,
    }
    use Step::{Hang, Hear, Say};

    const GREETING: &str = "220 mx.test ESMTP ready\r\n";
    const EHLO: &str = "EHLO client.test\r\n";
    /// An EHLO reply with PIPELINING and 8BITMIME.
    const PIPELINING: &str =
        "250-mx.test\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n250 8BITMIME\r\n";
    /// An EHLO reply without extensions: MAIL, RCPT and DATA one at a time.
    const LOCKSTEP: &str = "250 mx.test\r\n";
    const PASSWORD: &str = "s3cret-Passw0rd-for-the-log-test";

    /// Plain connection, EHLO name `client.test`, 5 s for every step.
    fn config(adjust: impl FnOnce(SmtpSenderBuilder) -> SmtpSenderBuilder) -> Config {
        let builder = SmtpSender::builder("mx.test", 25)
            .tls(TlsMode::None)
            .helo_name("client.test")
            .timeouts(Timeouts::uniform(Duration::from_secs(5)));
        adjust(builder)
            .build()
            .expect("a valid configuration")
            .config
    }

    /// Starts the server on one end of a duplex pipe; the task returns every byte the client
    /// wrote (after the script, whatever it writes until it closes its end).
    fn server(steps: Vec<Step>) -> (DuplexStream, JoinHandle<String>) {
        let (client, mut server) = duplex(64 * 1024);
        let task = tokio::spawn(async move {
            let mut heard = Vec::new();
            for step in steps {
                match step {
                    Say(text) => {
                        if server.write_all(text.as_bytes()).await.is_err() {
                            break;
                        }
                    }
                    Hear(text) => {
                        let mut buf = vec![0u8; text.len()];
                        let mut got = 0;
                        while got < buf.len() {
                            match server.read(&mut buf[got..]).await {
                                Ok(0) | Err(_) => break,
                                Ok(n) => got += n,
                            }
                        }
                        heard.extend_from_slice(&buf[..got]);
                        if buf[..got] != *text.as_bytes() {
                            return String::from_utf8_lossy(&heard).into_owned();
                        }
                    }
                    Hang => return String::from_utf8_lossy(&heard).into_owned(),
                }
            }
            let _ = server.read_to_end(&mut heard).await;
            String::from_utf8_lossy(&heard).into_owned()
        });
        (client, task)
    }

    /// What the client wrote, once it has closed its end.
    async fn heard(task: JoinHandle<String>) -> String {
        timeout(Duration::from_secs(5), task)
            .await
            .expect("the client closed the connection")
            .expect("the server task")
    }

    fn envelope(to: &[&str]) -> Envelope {
        Envelope::new("alice@example.com", to.iter().copied()).expect("a valid envelope")
    }

    const MESSAGE: &[u8] = b"Subject: hi\r\n\r\nhello\r\n";

    /// A session over `stream` with the plain configuration, and on it one transaction of
    /// `message` to `to` (`reused` as the pool would say).
    async fn one_transaction(
        stream: DuplexStream,
        to: &[&str],
        message: &[u8],
        reused: bool,
    ) -> (Session<DuplexStream>, Result<Receipt, Failure>) {
        let config = config(|b| b);
        let mut session = Session::over(stream, &config).await.expect("a session");
        let data = DataBlock::new(None, message);
        let result = session
            .transact(&config, &envelope(to), &data, reused)
            .await;
        (session, result)
    }

    #[tokio::test]
    async fn greeting_refused_is_permanent_and_nothing_is_sent() {
        let (stream, task) = server(vec![Say("554 5.3.2 mx.test no SMTP service here\r\n")]);
        let err = Session::over(stream, &config(|b| b))
            .await
            .expect_err("the greeting is a refusal");
        assert_eq!(err.stage(), Some(Stage::Greeting), "{err}");
        assert!(err.is_permanent(), "{err}");
        let reply = err.reply().expect("the server's reply");
        assert_eq!(reply.to_string(), "554 5.3.2 mx.test no SMTP service here");
        // No EHLO (nor anything else) after a refused greeting.
        assert_eq!(heard(task).await, "");
    }

    #[tokio::test]
    async fn ehlo_capabilities_are_parsed() {
        let (stream, task) = server(vec![
            Say(GREETING),
            Hear(EHLO),
            Say(concat!(
                "250-mx.test greets client.test\r\n",
                "250-PIPELINING\r\n",
                "250-SIZE 10240000\r\n",
                "250-8BITMIME\r\n",
                "250-SMTPUTF8\r\n",
                "250-STARTTLS\r\n",
                "250-AUTH PLAIN LOGIN\r\n",
                "250 ENHANCEDSTATUSCODES\r\n",
            )),
        ]);
        let session = Session::over(stream, &config(|b| b))
            .await
            .expect("a session");
        let caps = session.caps;
        assert!(caps.pipelining && caps.eight_bit_mime && caps.smtputf8 && caps.starttls);
        assert_eq!(caps.size, 10_240_000);
        assert_eq!(
            caps.auth,
            smtp_proto::AUTH_PLAIN | smtp_proto::AUTH_LOGIN,
            "{caps}"
        );
        assert_eq!(
            caps.to_string(),
            "PIPELINING SIZE=10240000 8BITMIME SMTPUTF8 STARTTLS AUTH=PLAIN,LOGIN"
        );
        assert!(!session.tls);
        drop(session);
        assert_eq!(heard(task).await, EHLO);
    }

    #[tokio::test]
    async fn ehlo_refused_falls_back_to_helo_without_extensions() {
        let (stream, task) = server(vec![
            Say(GREETING),
            Hear(EHLO),
            Say("502 5.5.2 Error: command not recognized\r\n"),
            Hear("HELO client.test\r\n"),
            Say("250 mx.test\r\n"),
        ]);
        let session = Session::over(stream, &config(|b| b))
            .await
            .expect("a session");
        assert_eq!(session.caps.to_string(), "no extensions");
        drop(session);
        assert_eq!(heard(task).await, format!("{EHLO}HELO client.test\r\n"));
    }

    #[tokio::test]
    async fn pipelined_envelope_records_a_partial_refusal() {
        // The server reads the whole batch before it answers anything: a client that waited
        // for each reply would never get one.
        let (stream, task) = server(vec![
            Say(GREETING),
            Hear(EHLO),
            Say(PIPELINING),
            Hear(concat!(
                "MAIL FROM:<alice@example.com> SIZE=22\r\n",
                "RCPT TO:<bob@example.net>\r\n",
                "RCPT TO:<nobody@example.net>\r\n",
                "DATA\r\n",
            )),
            Say(concat!(
                "250 2.1.0 Ok\r\n",
                "250 2.1.5 Ok\r\n",
                "550 5.1.1 <nobody@example.net>: Recipient address rejected\r\n",
                "354 End data with <CR><LF>.<CR><LF>\r\n",
            )),
            Hear("Subject: hi\r\n\r\nhello\r\n.\r\n"),
            Say("250 2.0.0 Ok: queued as 4F2A1\r\n"),
        ]);
        let to = ["bob@example.net", "nobody@example.net"];
        let (session, receipt) = one_transaction(stream, &to, MESSAGE, false).await;
        let receipt = receipt.expect("accepted for one recipient");
        assert_eq!(receipt.accepted(), ["bob@example.net"]);
        let [refusal] = receipt.rejected() else {
            panic!("one refusal: {:?}", receipt.rejected());
        };
        assert_eq!(refusal.recipient(), "nobody@example.net");
        assert_eq!(refusal.reply().code(), 550);
        assert!(!refusal.is_transient());
        assert_eq!(receipt.id(), Some("4F2A1"));
        assert_eq!(session.transactions, 1);
        drop(session);
        heard(task).await;
    }

    /// A pipelined transaction for one recipient whose final reply is `reply`, a refusal:
    /// the failure, at the end of DATA, which the final reply ends (no RSET needed).
    async fn final_reply(reply: &'static str) -> Failure {
        let (stream, task) = server(vec![
            Say(GREETING),
            Hear(EHLO),
            Say(PIPELINING),
            Hear("MAIL FROM:<alice@example.com> SIZE=22\r\nRCPT TO:<bob@example.net>\r\nDATA\r\n"),
            Say("250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n354 go ahead\r\n"),
            Hear("Subject: hi\r\n\r\nhello\r\n.\r\n"),
            Say(reply),
        ]);
        let (session, result) = one_transaction(stream, &["bob@example.net"], MESSAGE, false).await;
        let failure = result.expect_err("refused after the final dot");
        assert_eq!(failure.error.stage(), Some(Stage::DataEnd));
        assert_eq!(failure.after, After::Clean);
        drop(session);
        heard(task).await;
        failure
    }

    #[tokio::test]
    async fn a_4xx_after_data_is_transient_and_leaves_the_session_clean() {
        let failure = final_reply("451 4.3.0 Error: queue file write error\r\n").await;
        let err = &failure.error;
        assert!(err.is_transient() && !err.is_permanent(), "{err}");
        assert_eq!(err.reply().map(Reply::code), Some(451));
        assert!(!failure.stale);
    }

    #[tokio::test]
    async fn a_5xx_after_data_is_permanent() {
        let err = final_reply("554 5.7.1 Message rejected: spam\r\n")
            .await
            .error;
        assert!(err.is_permanent() && !err.is_transient(), "{err}");
        assert_eq!(
            err.reply().map(ToString::to_string).as_deref(),
            Some("554 5.7.1 Message rejected: spam")
        );
    }

    #[tokio::test]
    async fn lines_starting_with_a_dot_are_stuffed() {
        let (stream, task) = server(vec![
            Say(GREETING),
            Hear(EHLO),
            Say(LOCKSTEP),
            Hear("MAIL FROM:<alice@example.com>\r\n"),
            Say("250 2.1.0 Ok\r\n"),
            Hear("RCPT TO:<bob@example.net>\r\n"),
            Say("250 2.1.5 Ok\r\n"),
            Hear("DATA\r\n"),
            Say("354 go ahead\r\n"),
            Hear("Subject: dots\r\n\r\n..hidden\r\n...two\r\n..\r\nend\r\n.\r\n"),
            Say("250 2.0.0 Ok: queued as 9C1\r\n"),
        ]);
        let message = b"Subject: dots\r\n\r\n.hidden\r\n..two\r\n.\r\nend\r\n";
        let (session, receipt) =
            one_transaction(stream, &["bob@example.net"], message, false).await;
        let receipt = receipt.expect("accepted");
        assert_eq!(receipt.id(), Some("9C1"));
        drop(session);
        assert!(
            heard(task)
                .await
                .ends_with("\r\n..hidden\r\n...two\r\n..\r\nend\r\n.\r\n")
        );
    }

    #[tokio::test]
    async fn a_server_closing_mid_reply_kills_the_session() {
        let (stream, task) = server(vec![
            Say(GREETING),
            Hear(EHLO),
            Say(PIPELINING),
            Hear("MAIL FROM:<alice@example.com> SIZE=22\r\nRCPT TO:<bob@example.net>\r\nDATA\r\n"),
            // The RCPT reply stops after its first line.
            Say("250 2.1.0 Ok\r\n250-2.1.5 first line of two\r\n"),
            Hang,
        ]);
        let (session, result) = one_transaction(stream, &["bob@example.net"], MESSAGE, true).await;
        let failure = result.expect_err("the connection is gone");
        let err = &failure.error;
        assert_eq!(err.stage(), Some(Stage::RcptTo), "{err}");
        assert!(err.is_transient(), "{err}");
        assert!(err.to_string().contains("connection closed"), "{err}");
        assert_eq!(failure.after, After::Dead);
        // The server had answered MAIL: not a stale pooled connection, even though reused.
        assert!(!failure.stale);
        // Nothing was written after the batch: no content, no RSET.
        drop(session);
        heard(task).await;

        // In the greeting, the same.
        let (stream, _task) = server(vec![Say("220-mx.test first line\r\n"), Hang]);
        let err = Session::over(stream, &config(|b| b))
            .await
            .expect_err("no complete greeting");
        assert_eq!(err.stage(), Some(Stage::Greeting), "{err}");
        assert!(err.is_transient(), "{err}");
    }

    #[tokio::test]
    async fn rset_after_a_failed_transaction_then_the_session_is_reused() {
        let (stream, task) = server(vec![
            Say(GREETING),
            Hear(EHLO),
            Say(PIPELINING),
            Hear("MAIL FROM:<alice@example.com> SIZE=22\r\nRCPT TO:<bob@example.net>\r\nDATA\r\n"),
            // The sender refused, yet DATA opened: the client must close the data phase.
            Say(
                "553 5.7.1 <alice@example.com>: Sender address rejected\r\n554 5.5.1 Error: no valid recipients\r\n354 go ahead\r\n",
            ),
            Hear(".\r\n"),
            Say("554 5.5.1 Error: no valid recipients\r\n"),
            Hear("RSET\r\n"),
            Say("250 2.0.0 Ok\r\n"),
            Hear("MAIL FROM:<alice@example.com> SIZE=22\r\nRCPT TO:<bob@example.net>\r\nDATA\r\n"),
            Say("250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n354 go ahead\r\n"),
            Hear("Subject: hi\r\n\r\nhello\r\n.\r\n"),
            Say("250 2.0.0 Ok: queued as 77AB\r\n"),
            Hear("QUIT\r\n"),
            Say("221 2.0.0 Bye\r\n"),
        ]);
        let config = config(|b| b);
        let mut session = Session::over(stream, &config).await.expect("a session");
        let envelope = envelope(&["bob@example.net"]);
        let data = DataBlock::new(None, MESSAGE);
        let failure = session
            .transact(&config, &envelope, &data, false)
            .await
            .expect_err("the sender is refused");
        assert_eq!(failure.error.stage(), Some(Stage::MailFrom));
        assert!(failure.error.is_permanent());
        assert_eq!(failure.after, After::Reset);
        assert!(session.reset(&config).await, "RSET accepted");
        let receipt = session
            .transact(&config, &envelope, &data, true)
            .await
            .expect("the second transaction");
        assert_eq!(receipt.id(), Some("77AB"));
        assert_eq!(session.transactions, 2);
        session.quit(&config).await;
        let heard = heard(task).await;
        assert!(heard.ends_with("\r\n.\r\nQUIT\r\n"), "{heard}");

        // A refused RSET: the session is to be dropped.
        let (stream, _task) = server(vec![
            Say(GREETING),
            Hear(EHLO),
            Say(LOCKSTEP),
            Hear("RSET\r\n"),
            Say("421 4.4.2 mx.test timeout\r\n"),
        ]);
        let mut session = Session::over(stream, &config).await.expect("a session");
        assert!(!session.reset(&config).await, "RSET refused");
    }

    /// AUTH PLAIN refused by a server that quotes back what it received; the error, and
    /// what the client wrote.
    async fn refused_auth(blob: &str) -> (SendError, String) {
        let auth = format!("AUTH PLAIN {blob}\r\n").leak();
        let refusal = format!("535 5.7.8 bad credentials: {blob} / {PASSWORD}\r\n").leak();
        let (stream, task) = server(vec![
            Say(GREETING),
            Hear(EHLO),
            Say("250-mx.test\r\n250 AUTH PLAIN LOGIN\r\n"),
            Hear(auth),
            Say(refusal),
        ]);
        let config = config(|b| {
            b.credentials(Credentials::new("user", Secret::from(PASSWORD)))
                .dangerous_allow_plaintext_auth(true)
        });
        let err = Session::over(stream, &config)
            .await
            .expect_err("AUTH refused");
        (err, heard(task).await)
    }

    #[tokio::test]
    async fn auth_lines_never_log_the_password() {
        let blob = Base64::encode_string(format!("\0user\0{PASSWORD}").as_bytes());
        // Every event, formatted as the CLI's subscriber does, in a temporary file: the
        // subscriber writes through a second handle that shares the file's offset.
        let mut log = tempfile::tempfile().expect("a temporary file");
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_ansi(false)
            .with_writer(log.try_clone().expect("a second handle"))
            .finish();
        let _guard = tracing::subscriber::set_default(subscriber);
        let evidence = [
            "C: EHLO client.test",
            "C: AUTH PLAIN <redacted>",
            // The reply is scrubbed (the blob starts with `\0user\0`, whose base64 stays).
            "S: 535 5.7.8 bad credentials: AHVzZXIA******** / ********",
            "AUTH refused",
            // The connection's span names the server and the connection on every line.
            "smtp{server=mx.test:25 conn=",
        ];
        // A test on another thread that meets a call site for the first time while this
        // subscriber is being installed can leave it cached as wanted by nobody, and its
        // events missing here: then the cache is rebuilt and the exchange run again.
        let mut text = String::new();
        for _ in 0..5 {
            tracing::callsite::rebuild_interest_cache();
            log.set_len(0).expect("the log emptied");
            log.rewind().expect("the log emptied");
            let (err, heard) = refused_auth(&blob).await;
            assert!(err.is_auth(), "{err}");
            // The password did go to the server: the checks below mean something.
            assert_eq!(heard, format!("{EHLO}AUTH PLAIN {blob}\r\n"));
            let mut bytes = Vec::new();
            log.rewind().expect("the log read");
            log.read_to_end(&mut bytes).expect("the log read");
            text = String::from_utf8_lossy(&bytes).into_owned();
            for shown in [text.as_str(), &err.to_string(), &format!("{err:?}")] {
                assert!(!shown.contains(PASSWORD), "the password in:\n{shown}");
                assert!(!shown.contains(&blob), "the AUTH PLAIN blob in:\n{shown}");
            }
            if evidence.iter().all(|e| text.contains(e)) {
                break;
            }
        }
        for expected in evidence {
            assert!(text.contains(expected), "no {expected:?} in:\n{text}");
        }
    }
}

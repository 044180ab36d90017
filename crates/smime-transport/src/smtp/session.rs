//! One SMTP session on mail-send's client: connect, greeting, EHLO, STARTTLS, AUTH, then
//! transactions (pipelined when the server advertises PIPELINING), RSET, QUIT.

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

use super::{Config, TlsMode, auth, data::DataBlock, tls::Stream};
use crate::{
    envelope::Envelope,
    error::{Repr, SendError, Stage},
    receipt::{Receipt, Refusal},
    reply::Reply,
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

/// An open, greeted (and, as configured, encrypted and authenticated) SMTP session.
pub(crate) struct Session {
    client: SmtpClient<Stream>,
    caps: Capabilities,
    /// Transactions attempted on this session.
    pub(crate) transactions: u32,
    /// When the session last finished a transaction.
    pub(crate) last_used: Instant,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("tls", &self.client.stream.is_tls())
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

/// mail-send's error, in this crate's terms. mail-send's messages name the failure and
/// quote the server's reply; they never contain the command that was sent.
pub(crate) fn map_mail_send(
    e: mail_send::Error,
    server: &str,
    stage: Stage,
    waited: Duration,
) -> SendError {
    let server = server.to_owned();
    match e {
        mail_send::Error::Io(io) => Repr::ConnectionLost {
            server,
            stage,
            detail: io.to_string(),
        },
        mail_send::Error::UnparseableReply => Repr::ConnectionLost {
            server,
            stage,
            detail: "connection closed, or a reply that is not SMTP".to_owned(),
        },
        mail_send::Error::Timeout => Repr::Timeout {
            server,
            stage,
            after: waited,
        },
        mail_send::Error::Tls(e) => Repr::Tls {
            server,
            detail: e.to_string(),
        },
        mail_send::Error::UnexpectedReply(r) => Repr::Rejected {
            server,
            stage,
            reply: Reply::from_response(r),
        },
        mail_send::Error::AuthenticationFailed(r) => Repr::AuthFailed {
            server,
            reply: Reply::from_response(r),
        },
        mail_send::Error::MissingStartTls => Repr::StartTlsUnavailable { server },
        other => Repr::Custom {
            transient: false,
            message: format!("{server}: {stage}: {other}"),
        },
    }
    .into()
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
    let Some(connector) = &config.connector else {
        return Err(SendError::config(
            "TLS requested without a TLS configuration",
        ));
    };
    let limit = config.timeouts.connect;
    match timeout(limit, connector.connect(config.tls_name.clone(), tcp)).await {
        Err(_) => Err(Repr::Timeout {
            server,
            stage: Stage::Tls,
            after: limit,
        }
        .into()),
        Ok(Err(e)) => Err(Repr::Tls {
            server,
            detail: e.to_string(),
        }
        .into()),
        Ok(Ok(stream)) => Ok(stream),
    }
}

async fn greeting<T: AsyncRead + AsyncWrite + Unpin>(
    client: &mut SmtpClient<T>,
    config: &Config,
) -> Result<(), SendError> {
    let limit = config.timeouts.greeting;
    let reply = match timeout(limit, client.read()).await {
        Err(_) => {
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
    match client.ehlo(helo).await {
        Ok(r) => Ok(Capabilities::from(&r)),
        // A server that does not know EHLO: HELO, and no extensions.
        Err(mail_send::Error::UnexpectedReply(r)) if (500..=502).contains(&r.code) => {
            let reply = client
                .cmd(format!("HELO {helo}\r\n").as_bytes())
                .await
                .map_err(|e| map_mail_send(e, &config.server, Stage::Ehlo, limit))?;
            if reply.code == 250 {
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
        Err(e) => Err(map_mail_send(e, &config.server, Stage::Ehlo, limit)),
    }
}

/// Opens a session as the configuration says: TLS mode, certificate checks, AUTH.
pub(crate) async fn connect(config: &Config) -> Result<Session, SendError> {
    let t = &config.timeouts;
    let tcp = match timeout(
        t.connect,
        TcpStream::connect((config.host.as_str(), config.port)),
    )
    .await
    {
        Err(_) => {
            return Err(Repr::Timeout {
                server: config.server.clone(),
                stage: Stage::Connect,
                after: t.connect,
            }
            .into());
        }
        Ok(Err(source)) => {
            return Err(Repr::Connect {
                server: config.server.clone(),
                source,
            }
            .into());
        }
        Ok(Ok(tcp)) => tcp,
    };
    // Commands are written whole; waiting for more bytes only adds latency.
    let _ = tcp.set_nodelay(true);
    let helo = config
        .helo_name
        .clone()
        .unwrap_or_else(|| address_literal(tcp.local_addr()));

    let (mut client, caps) = match config.tls {
        TlsMode::ImplicitTls => {
            let stream = handshake(config, tcp).await?;
            let mut client = SmtpClient {
                stream: Stream::Tls(Box::new(stream)),
                timeout: t.greeting,
            };
            greeting(&mut client, config).await?;
            let caps = ehlo(&mut client, config, &helo).await?;
            (client, caps)
        }
        mode => {
            let mut plain = SmtpClient {
                stream: tcp,
                timeout: t.greeting,
            };
            greeting(&mut plain, config).await?;
            let caps = ehlo(&mut plain, config, &helo).await?;
            let wants_tls = matches!(
                mode,
                TlsMode::StartTlsRequired | TlsMode::StartTlsOpportunistic
            );
            if wants_tls && caps.starttls {
                plain.timeout = t.command;
                let reply = plain
                    .cmd(b"STARTTLS\r\n")
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
                let client = SmtpClient {
                    stream: Stream::Plain(plain.stream),
                    timeout: t.command,
                };
                (client, caps)
            }
        }
    };

    if let Some(credentials) = &config.credentials {
        if !client.stream.is_tls() && !config.allow_plaintext_auth {
            return Err(Repr::PlaintextAuth {
                server: config.server.clone(),
            }
            .into());
        }
        auth::authenticate(&mut client, config, credentials, caps.auth, t.command).await?;
    }

    Ok(Session {
        client,
        caps,
        transactions: 0,
        last_used: Instant::now(),
    })
}

/// How reading a batch of pipelined replies ended early.
enum ReadEnd {
    Timeout,
    Lost(String),
}

/// Reads `n` replies, keeping those that arrived before the connection closed or timed out
/// (mail-send's `read_many` drops them, and with them a `421` that explains the close).
async fn read_replies<T: AsyncRead + Unpin>(
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

impl Session {
    /// Whether the session has sat unused for longer than `idle`.
    pub(crate) fn idle_for_longer_than(&self, idle: Duration) -> bool {
        self.last_used.elapsed() > idle
    }

    fn rejected(&self, config: &Config, stage: Stage, r: Response<String>) -> Failure {
        let reply = Reply::from_response(r);
        let after = if reply.closes_session() {
            After::Dead
        } else {
            After::Reset
        };
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
        let mut mail = format!("MAIL FROM:<{}>", envelope.mail_from());
        if self.caps.size > 0 {
            let _ = write!(mail, " SIZE={}", data.size());
        }
        if data.eight_bit() && self.caps.eight_bit_mime {
            mail.push_str(" BODY=8BITMIME");
        }
        if smtputf8 {
            mail.push_str(" SMTPUTF8");
        }
        mail.push_str("\r\n");
        let recipients: Vec<&str> = envelope.addresses().collect();

        let (accepted, refusals) = if config.pipelining && self.caps.pipelining {
            self.envelope_pipelined(config, &mail, &recipients, reused)
                .await?
        } else {
            self.envelope_lockstep(config, &mail, &recipients, reused)
                .await?
        };

        // The content, then the reply after the final dot.
        let t = &config.timeouts;
        let written = timeout(t.data_block, async {
            self.client.stream.write_all(data.bytes()).await?;
            self.client.stream.flush().await
        })
        .await;
        match written {
            Err(_) => {
                return Err(Failure::new(
                    Repr::Timeout {
                        server: config.server.clone(),
                        stage: Stage::Content,
                        after: t.data_block,
                    }
                    .into(),
                    After::Dead,
                ));
            }
            Ok(Err(e)) => {
                return Err(Failure::new(
                    Repr::ConnectionLost {
                        server: config.server.clone(),
                        stage: Stage::Content,
                        detail: e.to_string(),
                    }
                    .into(),
                    After::Dead,
                ));
            }
            Ok(Ok(())) => {}
        }
        let reply = match timeout(t.data_end, self.client.read()).await {
            Err(_) => {
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
            Ok(Err(e)) => {
                return Err(Failure::new(
                    map_mail_send(e, &config.server, Stage::DataEnd, t.data_end),
                    After::Dead,
                ));
            }
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
        Ok(Receipt::new(accepted)
            .with_rejected(refusals)
            .with_id(reply.queue_id())
            .with_response(reply.to_string()))
    }

    /// MAIL, RCPT..., DATA one at a time.
    async fn envelope_lockstep(
        &mut self,
        config: &Config,
        mail: &str,
        recipients: &[&str],
        reused: bool,
    ) -> Result<(Vec<String>, Vec<Refusal>), Failure> {
        let t = &config.timeouts;
        self.client.timeout = t.mail;
        let reply = self.client.cmd(mail.as_bytes()).await.map_err(|e| {
            let stale = reused
                && matches!(
                    e,
                    mail_send::Error::Io(_) | mail_send::Error::UnparseableReply
                );
            Failure {
                error: map_mail_send(e, &config.server, Stage::MailFrom, t.mail),
                after: After::Dead,
                stale,
            }
        })?;
        if !is_positive(&reply) {
            return Err(self.rejected(config, Stage::MailFrom, reply));
        }
        let mut accepted = Vec::with_capacity(recipients.len());
        let mut refusals = Vec::new();
        self.client.timeout = t.rcpt;
        for rcpt in recipients {
            let reply = self
                .client
                .cmd(format!("RCPT TO:<{rcpt}>\r\n").as_bytes())
                .await
                .map_err(|e| {
                    Failure::new(
                        map_mail_send(e, &config.server, Stage::RcptTo, t.rcpt),
                        After::Dead,
                    )
                })?;
            if is_positive(&reply) {
                accepted.push((*rcpt).to_owned());
            } else if reply.code == 421 {
                return Err(self.rejected(config, Stage::RcptTo, reply));
            } else {
                refusals.push(Refusal::new(*rcpt, Reply::from_response(reply)));
            }
        }
        if accepted.is_empty() {
            return Err(Failure::new(
                Repr::AllRecipientsRefused {
                    server: config.server.clone(),
                    refusals,
                }
                .into(),
                After::Reset,
            ));
        }
        self.client.timeout = t.data;
        let reply = self.client.cmd(b"DATA\r\n").await.map_err(|e| {
            Failure::new(
                map_mail_send(e, &config.server, Stage::Data, t.data),
                After::Dead,
            )
        })?;
        if reply.code != 354 {
            return Err(self.rejected(config, Stage::Data, reply));
        }
        Ok((accepted, refusals))
    }

    /// MAIL, every RCPT and DATA in one write, then their replies (RFC 2920).
    async fn envelope_pipelined(
        &mut self,
        config: &Config,
        mail: &str,
        recipients: &[&str],
        reused: bool,
    ) -> Result<(Vec<String>, Vec<Refusal>), Failure> {
        let t = &config.timeouts;
        let mut batch = String::with_capacity(mail.len() + recipients.len() * 64 + 6);
        batch.push_str(mail);
        for rcpt in recipients {
            let _ = write!(batch, "RCPT TO:<{rcpt}>\r\n");
        }
        batch.push_str("DATA\r\n");
        let written = timeout(t.mail, async {
            self.client.stream.write_all(batch.as_bytes()).await?;
            self.client.stream.flush().await
        })
        .await;
        match written {
            Err(_) => {
                return Err(Failure::new(
                    Repr::Timeout {
                        server: config.server.clone(),
                        stage: Stage::MailFrom,
                        after: t.mail,
                    }
                    .into(),
                    After::Dead,
                ));
            }
            Ok(Err(e)) => {
                return Err(Failure {
                    error: Repr::ConnectionLost {
                        server: config.server.clone(),
                        stage: Stage::MailFrom,
                        detail: e.to_string(),
                    }
                    .into(),
                    after: After::Dead,
                    stale: reused,
                });
            }
            Ok(Ok(())) => {}
        }

        let n = recipients.len() + 2;
        let limit = t.mail.max(t.rcpt).max(t.data);
        let (mut replies, end) = read_replies(&mut self.client.stream, n, limit).await;
        let stage_of = |i: usize| {
            if i == 0 {
                Stage::MailFrom
            } else if i <= recipients.len() {
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
            let stale = reused && replies.is_empty() && matches!(end, ReadEnd::Lost(_));
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
        let mut accepted = Vec::with_capacity(recipients.len());
        let mut refusals = Vec::new();
        for (rcpt, reply) in recipients.iter().zip(replies) {
            if is_positive(&reply) {
                accepted.push((*rcpt).to_owned());
            } else {
                refusals.push(Refusal::new(*rcpt, Reply::from_response(reply)));
            }
        }
        if accepted.is_empty() {
            let failure = Failure::new(
                Repr::AllRecipientsRefused {
                    server: config.server.clone(),
                    refusals,
                }
                .into(),
                After::Reset,
            );
            return Err(self.close_data(config, data_open, failure).await);
        }
        if !data_open {
            return Err(self.rejected(config, Stage::Data, data_reply));
        }
        Ok((accepted, refusals))
    }

    /// A pipelined DATA was accepted although the transaction failed: send an empty
    /// message's terminator so the server leaves data mode (RFC 2920 §3.1), then the
    /// session needs RSET like any failed transaction.
    async fn close_data(&mut self, config: &Config, data_open: bool, failure: Failure) -> Failure {
        if !data_open {
            return failure;
        }
        let t = config.timeouts.data;
        let closed = timeout(t, async {
            self.client.stream.write_all(b".\r\n").await?;
            self.client.stream.flush().await?;
            self.client
                .read()
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
        self.client.timeout = config.timeouts.command;
        match self.client.cmd(b"RSET\r\n").await {
            Ok(r) if is_positive(&r) => {
                self.last_used = Instant::now();
                true
            }
            _ => false,
        }
    }

    /// QUIT, waiting at most the quit timeout for the `221`.
    pub(crate) async fn quit(mut self, config: &Config) {
        self.client.timeout = config.timeouts.quit;
        let _ = self.client.cmd(b"QUIT\r\n").await;
        let _ = timeout(config.timeouts.quit, self.client.stream.shutdown()).await;
    }
}

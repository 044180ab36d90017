//! An in-process SMTP server on 127.0.0.1, configurable per test: TLS (none, STARTTLS offered,
//! implicit) with the [`TestCa`](crate::tls::TestCa), AUTH PLAIN and LOGIN for given users,
//! replies and faults scripted per command verb ([`Options::reply`]) or through a hook
//! ([`Options::hook`]), and a [`Log`] of every command (with the read it arrived in, to see
//! pipelining), every message and its envelope, and counters of connections and messages.
//!
//! Commands are parsed with `smtp-proto`. Replies to pipelined commands go out in one write.
//! With [`Options::capture`] off the server keeps only its counters, and reads a message
//! without copying it: the benches use it as a sink.
//!
//! ```no_run
//! use smime_testkit::fake_smtp::{Action, Event, FakeSmtp, Options};
//!
//! # async fn demo() {
//! // Every RCPT refused for now; the second message's final dot answered, then closed.
//! let server = FakeSmtp::start(
//!     Options::default()
//!         .reply("RCPT", "451 4.3.0 try again later")
//!         .hook(|ctx, event| match event {
//!             Event::DataEnd(_) if ctx.total_messages == 1 => {
//!                 Some(Action::ReplyThenClose("421 4.4.2 bye".into()))
//!             }
//!             _ => None,
//!         }),
//! )
//! .await;
//! println!("SMTP on port {}", server.port());
//! # }
//! ```
//!
//! A synchronous test (one that runs the `smime` binary) starts it with
//! [`FakeSmtp::start_on_thread`]: the server then has a runtime thread of its own.

use std::{
    fmt, io,
    net::SocketAddr,
    sync::{Arc, Mutex},
    time::Duration,
};

use base64ct::{Base64, Encoding};
use smtp_proto::{AUTH_LOGIN, AUTH_PLAIN, Request};
use tokio::{
    io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt},
    net::{TcpListener, TcpStream},
    runtime::Runtime,
    task::JoinHandle,
};
use tokio_rustls::TlsAcceptor;

use crate::servers::{LOOPBACK, lock, server_runtime};

/// What the server is about to handle.
#[derive(Debug)]
pub enum Event<'a> {
    /// A client connected; the greeting is next.
    Connect,
    /// A command line (without CRLF).
    Command(&'a str),
    /// The message content was received (un-dot-stuffed); the final reply is next. Empty when
    /// [`Options::capture`] is off.
    DataEnd(&'a [u8]),
}

/// What a script or the hook wants done instead of the normal handling.
#[derive(Debug, Clone)]
pub enum Action {
    /// Send this reply (CRLF added) and carry on.
    Reply(String),
    /// Send this reply, then close the connection.
    ReplyThenClose(String),
    /// Close the connection without a word.
    Close,
    /// Wait, then handle normally.
    Delay(Duration),
    /// Never answer again: read and discard what the client sends until it gives up.
    Stall,
}

/// Where the session stands, for the hook.
#[derive(Debug, Clone, Default)]
pub struct Ctx {
    /// Connection number, from 1.
    pub conn: usize,
    /// Messages accepted on this connection so far.
    pub conn_messages: usize,
    /// Messages accepted by the server so far.
    pub total_messages: usize,
    /// The session is encrypted (implicit TLS, or after STARTTLS).
    pub tls: bool,
    /// AUTH succeeded on this connection.
    pub authenticated: bool,
    /// Commands seen on this connection before this one.
    pub conn_commands: usize,
}

/// The hook: `Some(action)` replaces the normal handling of the event.
pub type Hook = Arc<dyn Fn(&Ctx, &Event<'_>) -> Option<Action> + Send + Sync>;

/// How the server speaks TLS.
#[derive(Clone, Default)]
pub enum Tls {
    /// Plain text only; STARTTLS is not offered.
    #[default]
    None,
    /// STARTTLS offered, with this acceptor ([`TestCa::acceptor`](crate::tls::TestCa::acceptor)).
    StartTls(TlsAcceptor),
    /// TLS from the first byte (port 465 style).
    Implicit(TlsAcceptor),
}

impl fmt::Debug for Tls {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Tls::None => "None",
            Tls::StartTls(_) => "StartTls",
            Tls::Implicit(_) => "Implicit",
        })
    }
}

/// How the server behaves.
#[derive(Clone)]
pub struct Options {
    /// Advertise PIPELINING (default on).
    pub pipelining: bool,
    /// None, STARTTLS offered, or implicit TLS.
    pub tls: Tls,
    /// Offer AUTH (when not empty) and accept these `(user, password)` pairs.
    pub users: Vec<(String, String)>,
    /// The AUTH mechanisms advertised (default `PLAIN LOGIN`).
    pub auth_mechanisms: &'static str,
    /// Answer MAIL with `530 5.7.1 Authorization required` until authenticated.
    pub require_auth: bool,
    /// Scripted actions per command verb (upper case), consulted after the hook.
    pub replies: Vec<(String, Action)>,
    /// Consulted first for every event.
    pub hook: Option<Hook>,
    /// Keep the commands, the raw lines and the messages in the [`Log`] (default on). Off,
    /// only the counters are kept.
    pub capture: bool,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            pipelining: true,
            tls: Tls::None,
            users: Vec::new(),
            auth_mechanisms: "PLAIN LOGIN",
            require_auth: false,
            replies: Vec::new(),
            hook: None,
            capture: true,
        }
    }
}

impl fmt::Debug for Options {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Options")
            .field("pipelining", &self.pipelining)
            .field("tls", &self.tls)
            .field(
                "users",
                &self
                    .users
                    .iter()
                    .map(|(u, _)| u.as_str())
                    .collect::<Vec<_>>(),
            )
            .field("auth_mechanisms", &self.auth_mechanisms)
            .field("require_auth", &self.require_auth)
            .field("replies", &self.replies)
            .field("hook", &self.hook.is_some())
            .field("capture", &self.capture)
            .finish()
    }
}

impl Options {
    /// Sets the hook, consulted for every event before anything else.
    pub fn hook(
        mut self,
        f: impl Fn(&Ctx, &Event<'_>) -> Option<Action> + Send + Sync + 'static,
    ) -> Self {
        self.hook = Some(Arc::new(f));
        self
    }

    /// Offers AUTH and accepts `user` with `password` (call again for more users).
    pub fn user(mut self, user: &str, password: &str) -> Self {
        self.users.push((user.to_owned(), password.to_owned()));
        self
    }

    /// Answers every command `verb` (`"RCPT"`, `"AUTH"`, ...) with `reply` instead of handling
    /// it.
    pub fn reply(self, verb: &str, reply: &str) -> Self {
        self.on(verb, Action::Reply(reply.to_owned()))
    }

    /// Does `action` for every command `verb` instead of handling it.
    pub fn on(mut self, verb: &str, action: Action) -> Self {
        self.replies.push((verb.to_ascii_uppercase(), action));
        self
    }
}

/// One command line as received.
#[derive(Debug, Clone)]
pub struct CommandRecord {
    /// The connection, from 1.
    pub conn: usize,
    /// The line without CRLF.
    pub line: String,
    /// Number of the socket read (on that connection) the line arrived in.
    pub read: usize,
}

/// One message the server accepted.
#[derive(Debug, Clone)]
pub struct Delivered {
    /// The connection, from 1.
    pub conn: usize,
    /// MAIL FROM's address.
    pub mail_from: String,
    /// Every accepted RCPT TO address, in order.
    pub rcpt_to: Vec<String>,
    /// The content, dot-unstuffed, with its CRLFs.
    pub data: Vec<u8>,
    /// It came over TLS.
    pub tls: bool,
}

/// What the server saw.
#[derive(Debug, Default, Clone)]
pub struct Log {
    /// Every command line (not the AUTH exchange's continuation lines).
    pub commands: Vec<CommandRecord>,
    /// Every accepted message.
    pub delivered: Vec<Delivered>,
    /// Connections accepted.
    pub connections: usize,
    /// Connections open now.
    pub open: usize,
    /// The most connections open at once.
    pub max_open: usize,
    /// QUIT commands answered.
    pub quits: usize,
    /// Messages accepted (counted with or without capture).
    pub messages: usize,
    /// Every line received, AUTH lines included (to prove what went on the wire).
    pub raw_lines: Vec<String>,
}

impl Log {
    /// The command verbs of connection `conn`, upper case, in order.
    pub fn verbs(&self, conn: usize) -> Vec<String> {
        self.commands
            .iter()
            .filter(|c| c.conn == conn)
            .map(|c| c.line.split(' ').next().unwrap_or("").to_uppercase())
            .collect()
    }

    /// How many lines received start with `prefix` (`"RCPT TO"`, say).
    pub fn lines_starting(&self, prefix: &str) -> usize {
        self.raw_lines
            .iter()
            .filter(|l| l.starts_with(prefix))
            .count()
    }

    /// Whether a line received contains one of `needles` (a password in its encodings, say).
    pub fn saw_any(&self, needles: &[String]) -> bool {
        self.raw_lines
            .iter()
            .any(|l| needles.iter().any(|n| l.contains(n.as_str())))
    }

    /// Every line received, AUTH payloads included, joined with `\n`.
    pub fn transcript(&self) -> String {
        self.raw_lines.join("\n")
    }
}

/// A running server; it stops when dropped.
#[derive(Debug)]
pub struct FakeSmtp {
    /// Where it listens.
    pub addr: SocketAddr,
    log: Arc<Mutex<Log>>,
    task: JoinHandle<()>,
    runtime: Option<Runtime>,
}

impl Drop for FakeSmtp {
    fn drop(&mut self) {
        self.task.abort();
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

impl FakeSmtp {
    /// Starts the server on the current tokio runtime.
    pub async fn start(options: Options) -> Self {
        let listener = TcpListener::bind(LOOPBACK).await.expect("bind 127.0.0.1");
        Self::serve(listener, options, None)
    }

    /// Starts the server on a runtime thread of its own, for synchronous tests and benches.
    pub fn start_on_thread(options: Options) -> Self {
        let runtime = server_runtime();
        let listener = runtime
            .block_on(TcpListener::bind(LOOPBACK))
            .expect("bind 127.0.0.1");
        let _entered = runtime.enter();
        Self::serve(listener, options, Some(runtime))
    }

    fn serve(listener: TcpListener, options: Options, runtime: Option<Runtime>) -> Self {
        let addr = listener.local_addr().expect("addr");
        let log = Arc::new(Mutex::new(Log::default()));
        let options = Arc::new(options);
        let task_log = log.clone();
        let task = tokio::spawn(async move {
            let mut conn = 0;
            while let Ok((stream, _)) = listener.accept().await {
                let _ = stream.set_nodelay(true);
                conn += 1;
                let (log, options) = (task_log.clone(), options.clone());
                tokio::spawn(async move {
                    {
                        let mut l = lock(&log);
                        l.connections += 1;
                        l.open += 1;
                        l.max_open = l.max_open.max(l.open);
                    }
                    let _ = session(stream, conn, &options, &log).await;
                    lock(&log).open -= 1;
                });
            }
        });
        Self {
            addr,
            log,
            task,
            runtime,
        }
    }

    /// The port it listens on (127.0.0.1).
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// A copy of what it saw so far.
    pub fn log(&self) -> Log {
        lock(&self.log).clone()
    }

    /// Waits until no connection is open (the client has finished QUIT), up to 5 s.
    pub async fn wait_idle(&self) {
        for _ in 0..500 {
            if lock(&self.log).open == 0 {
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

/// The connection as the server sees it, before or after STARTTLS.
trait Conn: AsyncRead + AsyncWrite + Unpin + Send {}

impl<T: AsyncRead + AsyncWrite + Unpin + Send> Conn for T {}

/// Read space added before each socket read.
const READ_CHUNK: usize = 64 * 1024;

struct Io {
    stream: Box<dyn Conn>,
    /// Whether `stream` is TLS already.
    tls: bool,
    /// Bytes read; `buf[start..]` not yet consumed.
    buf: Vec<u8>,
    start: usize,
    reads: usize,
    /// Replies not yet written: pipelined commands get theirs in one write.
    out: Vec<u8>,
}

impl Io {
    /// Writes the pending replies.
    async fn flush(&mut self) -> io::Result<()> {
        if !self.out.is_empty() {
            self.stream.write_all(&self.out).await?;
            self.out.clear();
            self.stream.flush().await?;
        }
        Ok(())
    }

    /// Flushes the replies, then reads once more; false at the end of the stream.
    async fn fill(&mut self) -> io::Result<bool> {
        self.flush().await?;
        if self.start > 0 && (self.start == self.buf.len() || self.start >= READ_CHUNK) {
            self.buf.drain(..self.start);
            self.start = 0;
        }
        self.buf.reserve(READ_CHUNK);
        if self.stream.read_buf(&mut self.buf).await? == 0 {
            return Ok(false);
        }
        self.reads += 1;
        Ok(true)
    }

    /// One line without CRLF, and the number of the read it completed in.
    async fn line(&mut self) -> io::Result<Option<(Vec<u8>, usize)>> {
        loop {
            if let Some(pos) = memchr::memmem::find(&self.buf[self.start..], b"\r\n") {
                let line = self.buf[self.start..self.start + pos].to_vec();
                self.start += pos + 2;
                return Ok(Some((line, self.reads)));
            }
            if !self.fill().await? {
                return Ok(None);
            }
        }
    }

    /// The message content up to the final `CRLF.CRLF`, un-dot-stuffed when `keep`, else
    /// skipped without a copy. `None` when the client went away first.
    async fn data(&mut self, keep: bool) -> io::Result<Option<Vec<u8>>> {
        let finder = memchr::memmem::Finder::new(b"\r\n.\r\n");
        // Nothing of the content read yet: a terminator there has no CRLF of its own.
        let mut at_start = true;
        let mut scanned = 0;
        loop {
            let pending = &self.buf[self.start..];
            if at_start && pending.len() >= 3 {
                if pending.starts_with(b".\r\n") {
                    self.start += 3;
                    return Ok(Some(Vec::new()));
                }
                at_start = false;
            }
            if !at_start {
                if let Some(pos) = finder.find(&pending[scanned..]) {
                    let end = scanned + pos + 2;
                    let content = if keep {
                        unstuff(&pending[..end])
                    } else {
                        Vec::new()
                    };
                    self.start += end + 3;
                    return Ok(Some(content));
                }
                // The terminator may straddle reads: look again from its possible start.
                scanned = pending.len().saturating_sub(4);
                if !keep {
                    self.start += scanned;
                    scanned = 0;
                }
            }
            if !self.fill().await? {
                return Ok(None);
            }
        }
    }

    /// Queues a reply (CRLF added when missing).
    fn send(&mut self, reply: &str) {
        self.out.extend_from_slice(reply.as_bytes());
        if !reply.ends_with("\r\n") {
            self.out.extend_from_slice(b"\r\n");
        }
    }

    async fn upgrade(&mut self, acceptor: &TlsAcceptor) -> io::Result<()> {
        self.flush().await?;
        // Anything the client sent before the handshake is not part of the TLS session.
        self.buf.clear();
        self.start = 0;
        if self.tls {
            return Err(io::Error::other("already TLS"));
        }
        // A placeholder while the handshake owns the connection.
        let plain = std::mem::replace(&mut self.stream, Box::new(tokio::io::duplex(1).0));
        self.stream = Box::new(acceptor.accept(plain).await?);
        self.tls = true;
        Ok(())
    }

    /// Reads and discards until the client closes.
    async fn stall(&mut self) -> io::Result<()> {
        self.flush().await?;
        while self.fill().await? {
            self.start = self.buf.len();
        }
        Ok(())
    }
}

/// Removes the dot that dot-stuffing put before each line starting with one.
fn unstuff(content: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(content.len());
    let mut line_start = true;
    let mut previous = 0u8;
    for &b in content {
        if !(line_start && b == b'.') {
            out.push(b);
        }
        line_start = b == b'\n' && previous == b'\r';
        previous = b;
    }
    out
}

enum Flow {
    Continue,
    Stop,
}

/// Runs the hook, then the per-verb script; `Some(flow)` when one of them handled the event.
async fn scripted(
    options: &Options,
    ctx: &Ctx,
    event: &Event<'_>,
    io: &mut Io,
) -> io::Result<Option<Flow>> {
    let mut action = options.hook.as_ref().and_then(|hook| hook(ctx, event));
    if action.is_none()
        && let Event::Command(line) = event
    {
        let verb = line.split(' ').next().unwrap_or("");
        action = options
            .replies
            .iter()
            .find(|(v, _)| v.eq_ignore_ascii_case(verb))
            .map(|(_, a)| a.clone());
    }
    match action {
        None => Ok(None),
        Some(Action::Delay(d)) => {
            io.flush().await?;
            tokio::time::sleep(d).await;
            Ok(None)
        }
        Some(Action::Reply(r)) => {
            io.send(&r);
            Ok(Some(Flow::Continue))
        }
        Some(Action::ReplyThenClose(r)) => {
            io.send(&r);
            Ok(Some(Flow::Stop))
        }
        Some(Action::Close) => Ok(Some(Flow::Stop)),
        Some(Action::Stall) => {
            io.stall().await?;
            Ok(Some(Flow::Stop))
        }
    }
}

fn check_plain(blob: &str, users: &[(String, String)]) -> bool {
    let Ok(decoded) = Base64::decode_vec(blob.trim()) else {
        return false;
    };
    users
        .iter()
        .any(|(user, password)| decoded == format!("\0{user}\0{password}").as_bytes())
}

fn check_login(user: &str, password: &str, users: &[(String, String)]) -> bool {
    let (Ok(u), Ok(p)) = (Base64::decode_vec(user), Base64::decode_vec(password)) else {
        return false;
    };
    users
        .iter()
        .any(|(user, password)| u == user.as_bytes() && p == password.as_bytes())
}

/// The EHLO reply for this state of the session.
fn ehlo_reply(options: &Options, tls: bool) -> String {
    let mut reply = String::from("250-fake.test\r\n250-SIZE 52428800\r\n250-8BITMIME\r\n");
    if options.pipelining {
        reply.push_str("250-PIPELINING\r\n");
    }
    if matches!(options.tls, Tls::StartTls(_)) && !tls {
        reply.push_str("250-STARTTLS\r\n");
    }
    if !options.users.is_empty() {
        reply.push_str(&format!("250-AUTH {}\r\n", options.auth_mechanisms));
    }
    reply.push_str("250 ENHANCEDSTATUSCODES\r\n");
    reply
}

async fn session(
    tcp: TcpStream,
    conn: usize,
    options: &Options,
    log: &Mutex<Log>,
) -> io::Result<()> {
    let mut io = Io {
        stream: Box::new(tcp),
        tls: false,
        buf: Vec::new(),
        start: 0,
        reads: 0,
        out: Vec::new(),
    };
    let result = converse(&mut io, conn, options, log).await;
    let flushed = io.flush().await;
    result.and(flushed)
}

async fn converse(io: &mut Io, conn: usize, options: &Options, log: &Mutex<Log>) -> io::Result<()> {
    let mut ctx = Ctx {
        conn,
        ..Ctx::default()
    };
    if let Tls::Implicit(acceptor) = &options.tls {
        io.upgrade(acceptor).await?;
        ctx.tls = true;
    }
    match scripted(options, &ctx, &Event::Connect, io).await? {
        Some(Flow::Stop) => return Ok(()),
        Some(Flow::Continue) => {}
        None => io.send("220 fake.test ESMTP ready"),
    }
    let record = |lines: &[&[u8]]| {
        if options.capture {
            lock(log).raw_lines.extend(
                lines
                    .iter()
                    .map(|l| String::from_utf8_lossy(l).into_owned()),
            );
        }
    };
    let mut mail_from: Option<String> = None;
    let mut rcpt_to: Vec<String> = Vec::new();
    loop {
        let Some((raw, read)) = io.line().await? else {
            return Ok(());
        };
        let line = String::from_utf8_lossy(&raw).into_owned();
        {
            let mut l = lock(log);
            if options.capture {
                l.raw_lines.push(line.clone());
                l.commands.push(CommandRecord {
                    conn,
                    line: line.clone(),
                    read,
                });
            }
            ctx.total_messages = l.messages;
        }
        let result = scripted(options, &ctx, &Event::Command(&line), io).await?;
        ctx.conn_commands += 1;
        match result {
            Some(Flow::Stop) => return Ok(()),
            Some(Flow::Continue) => continue,
            None => {}
        }
        let mut wire = raw;
        wire.extend_from_slice(b"\r\n");
        let request = match Request::parse(&mut wire.iter()) {
            Ok(request) => request,
            Err(smtp_proto::Error::UnknownCommand) => {
                io.send("502 5.5.2 Error: command not recognized");
                continue;
            }
            Err(e) => {
                io.send(&format!("501 5.5.4 {e}"));
                continue;
            }
        };
        match request {
            Request::Ehlo { .. } => io.send(&ehlo_reply(options, ctx.tls)),
            Request::Helo { .. } => io.send("250 fake.test"),
            Request::StartTls => match &options.tls {
                Tls::StartTls(acceptor) if !ctx.tls => {
                    io.send("220 2.0.0 Ready to start TLS");
                    io.upgrade(acceptor).await?;
                    ctx.tls = true;
                }
                _ => io.send("502 5.5.1 STARTTLS not offered"),
            },
            Request::Auth {
                mechanism,
                initial_response,
            } => {
                if options.users.is_empty() {
                    io.send("502 5.5.1 AUTH not offered");
                    continue;
                }
                let initial = Some(initial_response).filter(|r| !r.is_empty());
                let ok = match mechanism {
                    AUTH_PLAIN => {
                        let blob = match initial {
                            Some(b) => b.into_owned(),
                            None => {
                                io.send("334 ");
                                let Some((b, _)) = io.line().await? else {
                                    return Ok(());
                                };
                                String::from_utf8_lossy(&b).into_owned()
                            }
                        };
                        record(&[blob.as_bytes()]);
                        check_plain(&blob, &options.users)
                    }
                    AUTH_LOGIN => {
                        let user = match initial {
                            Some(u) => u.into_owned().into_bytes(),
                            None => {
                                io.send("334 VXNlcm5hbWU6");
                                let Some((u, _)) = io.line().await? else {
                                    return Ok(());
                                };
                                u
                            }
                        };
                        io.send("334 UGFzc3dvcmQ6");
                        let Some((password, _)) = io.line().await? else {
                            return Ok(());
                        };
                        record(&[&user, &password]);
                        check_login(
                            &String::from_utf8_lossy(&user),
                            &String::from_utf8_lossy(&password),
                            &options.users,
                        )
                    }
                    _ => {
                        io.send("504 5.5.4 mechanism not supported");
                        continue;
                    }
                };
                if ok {
                    ctx.authenticated = true;
                    io.send("235 2.7.0 Authentication successful");
                } else {
                    io.send("535 5.7.8 Authentication credentials invalid");
                }
            }
            Request::Mail { from } => {
                if options.require_auth && !ctx.authenticated {
                    io.send("530 5.7.1 Authorization required");
                } else {
                    mail_from = Some(from.address.into_owned());
                    rcpt_to.clear();
                    io.send("250 2.1.0 Ok");
                }
            }
            Request::Rcpt { to } => {
                if mail_from.is_none() {
                    io.send("503 5.5.1 need MAIL first");
                } else {
                    rcpt_to.push(to.address.into_owned());
                    io.send("250 2.1.5 Ok");
                }
            }
            Request::Data => {
                if mail_from.is_none() || rcpt_to.is_empty() {
                    io.send("554 5.5.1 Error: no valid recipients");
                    continue;
                }
                io.send("354 End data with <CR><LF>.<CR><LF>");
                let Some(data) = io.data(options.capture).await? else {
                    return Ok(());
                };
                match scripted(options, &ctx, &Event::DataEnd(&data), io).await? {
                    Some(Flow::Stop) => return Ok(()),
                    Some(Flow::Continue) => {}
                    None => {
                        let n = {
                            let mut l = lock(log);
                            l.messages += 1;
                            if options.capture {
                                l.delivered.push(Delivered {
                                    conn,
                                    mail_from: mail_from.clone().unwrap_or_default(),
                                    rcpt_to: rcpt_to.clone(),
                                    data,
                                    tls: ctx.tls,
                                });
                            }
                            l.messages
                        };
                        ctx.conn_messages += 1;
                        io.send(&format!("250 2.0.0 Ok: queued as Q{n:05}"));
                    }
                }
                mail_from = None;
                rcpt_to.clear();
            }
            Request::Rset => {
                mail_from = None;
                rcpt_to.clear();
                io.send("250 2.0.0 Ok");
            }
            Request::Noop { .. } => io.send("250 2.0.0 Ok"),
            Request::Quit => {
                lock(log).quits += 1;
                io.send("221 2.0.0 Bye");
                return Ok(());
            }
            other => io.send(&format!("502 5.5.1 {} not implemented", other.name())),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use tokio::{
        io::{AsyncBufReadExt, AsyncWriteExt, BufReader},
        net::TcpStream,
    };

    use super::{Action, Event, FakeSmtp, Options, unstuff};

    #[test]
    fn unstuff_removes_one_dot_at_each_line_start_only() {
        assert_eq!(unstuff(b"..a\r\nb.\r\n.\r\n"), b".a\r\nb.\r\n\r\n");
        assert_eq!(
            unstuff(b"x\n.y\r\n"),
            b"x\n.y\r\n",
            "a lone LF starts no line"
        );
        assert_eq!(unstuff(b""), b"");
    }

    /// Reads one reply (every line up to the one with a space after the code).
    async fn reply(r: &mut BufReader<tokio::net::tcp::OwnedReadHalf>) -> String {
        let mut all = String::new();
        loop {
            let mut line = String::new();
            assert!(r.read_line(&mut line).await.expect("read") > 0, "closed");
            all.push_str(&line);
            if line.as_bytes().get(3) == Some(&b' ') {
                return all;
            }
        }
    }

    #[tokio::test]
    async fn pipelined_envelope_scripted_rcpt_and_dot_unstuffed_capture() {
        let server = FakeSmtp::start(Options::default().reply("RCPT", "451 4.3.0 not now")).await;
        let (read, mut write) = TcpStream::connect(server.addr)
            .await
            .expect("connect")
            .into_split();
        let mut read = BufReader::new(read);
        assert!(reply(&mut read).await.starts_with("220 "));
        write.write_all(b"EHLO me\r\n").await.expect("write");
        assert!(reply(&mut read).await.contains("250-PIPELINING\r\n"));
        write
            .write_all(b"MAIL FROM:<a@example.com>\r\nRCPT TO:<b@example.net>\r\nDATA\r\n")
            .await
            .expect("write");
        assert_eq!(reply(&mut read).await, "250 2.1.0 Ok\r\n");
        assert_eq!(reply(&mut read).await, "451 4.3.0 not now\r\n");
        assert!(
            reply(&mut read).await.starts_with("554 "),
            "no recipient, no DATA"
        );
        let log = server.log();
        let reads: Vec<usize> = log.commands.iter().map(|c| c.read).collect();
        assert_eq!(reads, [1, 2, 2, 2], "the envelope arrived in one read");
        assert!(log.delivered.is_empty());
    }

    #[tokio::test]
    async fn message_is_captured_unstuffed_or_only_counted() {
        for capture in [true, false] {
            let server = FakeSmtp::start(Options {
                capture,
                ..Options::default()
            })
            .await;
            let (read, mut write) = TcpStream::connect(server.addr)
                .await
                .expect("connect")
                .into_split();
            let mut read = BufReader::new(read);
            reply(&mut read).await;
            write
                .write_all(
                    b"HELO me\r\nMAIL FROM:<a@example.com>\r\nRCPT TO:<b@example.net>\r\nDATA\r\n",
                )
                .await
                .expect("write");
            for _ in 0..3 {
                reply(&mut read).await;
            }
            assert!(reply(&mut read).await.starts_with("354 "));
            write
                .write_all(b"Subject: x\r\n\r\n..one\r\n.\r\n")
                .await
                .expect("write");
            assert_eq!(reply(&mut read).await, "250 2.0.0 Ok: queued as Q00001\r\n");
            let log = server.log();
            assert_eq!(log.messages, 1);
            if capture {
                assert_eq!(log.delivered[0].data, b"Subject: x\r\n\r\n.one\r\n");
                assert_eq!(log.delivered[0].rcpt_to, ["b@example.net"]);
                assert_eq!(log.verbs(1), ["HELO", "MAIL", "RCPT", "DATA"]);
            } else {
                assert!(log.delivered.is_empty() && log.commands.is_empty());
            }
        }
    }

    #[tokio::test]
    async fn a_stalled_greeting_never_comes() {
        let server = FakeSmtp::start(Options::default().hook(|_, event| match event {
            Event::Connect => Some(Action::Stall),
            _ => None,
        }))
        .await;
        let stream = TcpStream::connect(server.addr).await.expect("connect");
        let mut read = BufReader::new(stream);
        let mut line = String::new();
        let waited =
            tokio::time::timeout(Duration::from_millis(300), read.read_line(&mut line)).await;
        assert!(waited.is_err(), "got {line:?}");
    }

    #[test]
    fn a_server_on_its_own_thread_serves_a_blocking_client() {
        use std::io::{BufRead, BufReader, Write};
        let server = FakeSmtp::start_on_thread(Options::default());
        let stream = std::net::TcpStream::connect(server.addr).expect("connect");
        let mut read = BufReader::new(stream.try_clone().expect("clone"));
        let mut line = String::new();
        read.read_line(&mut line).expect("greeting");
        assert!(line.starts_with("220 "), "{line}");
        (&stream).write_all(b"QUIT\r\n").expect("write");
        line.clear();
        read.read_line(&mut line).expect("bye");
        assert_eq!(line, "221 2.0.0 Bye\r\n");
        assert_eq!(server.log().quits, 1);
    }
}

//! An in-process SMTP server on 127.0.0.1, scriptable per test through a hook, that logs
//! every command (with the read it arrived in, to see pipelining) and every message.

use std::{
    io,
    net::SocketAddr,
    pin::Pin,
    sync::{Arc, Mutex, MutexGuard},
    task::{Context, Poll},
    time::Duration,
};

use base64ct::{Base64, Encoding};
use tokio::{
    io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf},
    net::{TcpListener, TcpStream},
    task::JoinHandle,
};
use tokio_rustls::{TlsAcceptor, server::TlsStream};

/// What the server is about to handle.
#[derive(Debug)]
pub enum Event<'a> {
    /// A client connected; the greeting is next.
    Connect,
    /// A command line (without CRLF).
    Command(&'a str),
    /// The message content was received (un-dot-stuffed); the final reply is next.
    DataEnd(&'a [u8]),
}

/// What the hook wants done instead of the normal handling.
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
    pub tls: bool,
    pub authenticated: bool,
    /// Commands seen on this connection before this one.
    pub conn_commands: usize,
}

pub type Hook = Arc<dyn Fn(&Ctx, &Event<'_>) -> Option<Action> + Send + Sync>;

#[derive(Clone)]
pub struct Options {
    pub pipelining: bool,
    /// Offer STARTTLS with this acceptor.
    pub starttls: Option<TlsAcceptor>,
    /// Speak TLS from the first byte.
    pub implicit_tls: Option<TlsAcceptor>,
    /// Offer AUTH and accept these credentials.
    pub auth: Option<(String, String)>,
    /// The AUTH mechanisms advertised.
    pub auth_mechanisms: &'static str,
    /// Answer MAIL with 530 until authenticated.
    pub require_auth: bool,
    pub hook: Option<Hook>,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            pipelining: true,
            starttls: None,
            implicit_tls: None,
            auth: None,
            auth_mechanisms: "PLAIN LOGIN",
            require_auth: false,
            hook: None,
        }
    }
}

impl Options {
    pub fn hook(
        mut self,
        f: impl Fn(&Ctx, &Event<'_>) -> Option<Action> + Send + Sync + 'static,
    ) -> Self {
        self.hook = Some(Arc::new(f));
        self
    }
}

#[derive(Debug, Clone)]
pub struct CommandRecord {
    pub conn: usize,
    pub line: String,
    /// Number of the socket read (on that connection) the line arrived in.
    pub read: usize,
}

#[derive(Debug, Clone)]
pub struct Delivered {
    pub conn: usize,
    pub mail_from: String,
    pub rcpt_to: Vec<String>,
    pub data: Vec<u8>,
    pub tls: bool,
}

#[derive(Debug, Default, Clone)]
pub struct Log {
    pub commands: Vec<CommandRecord>,
    pub delivered: Vec<Delivered>,
    pub connections: usize,
    pub open: usize,
    pub max_open: usize,
    pub quits: usize,
    /// Every line received, AUTH lines included (to prove what went on the wire).
    pub raw_lines: Vec<String>,
}

impl Log {
    pub fn verbs(&self, conn: usize) -> Vec<String> {
        self.commands
            .iter()
            .filter(|c| c.conn == conn)
            .map(|c| c.line.split(' ').next().unwrap_or("").to_uppercase())
            .collect()
    }
}

pub struct FakeSmtp {
    pub addr: SocketAddr,
    log: Arc<Mutex<Log>>,
    task: JoinHandle<()>,
}

impl Drop for FakeSmtp {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl FakeSmtp {
    pub async fn start(options: Options) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
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
        Self { addr, log, task }
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

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

fn lock(log: &Mutex<Log>) -> MutexGuard<'_, Log> {
    log.lock().unwrap_or_else(|e| e.into_inner())
}

enum ServerStream {
    Plain(TcpStream),
    Tls(Box<TlsStream<TcpStream>>),
    Gone,
}

impl AsyncRead for ServerStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            ServerStream::Plain(s) => Pin::new(s).poll_read(cx, buf),
            ServerStream::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
            ServerStream::Gone => Poll::Ready(Err(io::ErrorKind::NotConnected.into())),
        }
    }
}

impl AsyncWrite for ServerStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            ServerStream::Plain(s) => Pin::new(s).poll_write(cx, buf),
            ServerStream::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
            ServerStream::Gone => Poll::Ready(Err(io::ErrorKind::NotConnected.into())),
        }
    }
    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            ServerStream::Plain(s) => Pin::new(s).poll_flush(cx),
            ServerStream::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
            ServerStream::Gone => Poll::Ready(Ok(())),
        }
    }
    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            ServerStream::Plain(s) => Pin::new(s).poll_shutdown(cx),
            ServerStream::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
            ServerStream::Gone => Poll::Ready(Ok(())),
        }
    }
}

struct Io {
    stream: ServerStream,
    buf: Vec<u8>,
    reads: usize,
}

impl Io {
    /// One line without CRLF, and the number of the read it completed in.
    async fn line(&mut self) -> io::Result<Option<(Vec<u8>, usize)>> {
        loop {
            if let Some(pos) = self.buf.windows(2).position(|w| w == b"\r\n") {
                let line = self.buf[..pos].to_vec();
                self.buf.drain(..pos + 2);
                return Ok(Some((line, self.reads)));
            }
            let mut chunk = [0u8; 65536];
            let n = self.stream.read(&mut chunk).await?;
            if n == 0 {
                return Ok(None);
            }
            self.reads += 1;
            self.buf.extend_from_slice(&chunk[..n]);
        }
    }

    async fn send(&mut self, reply: &str) -> io::Result<()> {
        let mut bytes = reply.as_bytes().to_vec();
        if !reply.ends_with("\r\n") {
            bytes.extend_from_slice(b"\r\n");
        }
        self.stream.write_all(&bytes).await?;
        self.stream.flush().await
    }

    async fn upgrade(&mut self, acceptor: &TlsAcceptor) -> io::Result<()> {
        match std::mem::replace(&mut self.stream, ServerStream::Gone) {
            ServerStream::Plain(tcp) => {
                let tls = acceptor.accept(tcp).await?;
                self.stream = ServerStream::Tls(Box::new(tls));
                Ok(())
            }
            other => {
                self.stream = other;
                Err(io::Error::other("already TLS"))
            }
        }
    }
}

enum Flow {
    Continue,
    Stop,
}

/// Runs the hook; `Some(flow)` when it handled the event.
async fn run_hook(
    options: &Options,
    ctx: &Ctx,
    event: &Event<'_>,
    io: &mut Io,
) -> io::Result<Option<Flow>> {
    let Some(hook) = &options.hook else {
        return Ok(None);
    };
    match hook(ctx, event) {
        None => Ok(None),
        Some(Action::Delay(d)) => {
            tokio::time::sleep(d).await;
            Ok(None)
        }
        Some(Action::Reply(r)) => {
            io.send(&r).await?;
            Ok(Some(Flow::Continue))
        }
        Some(Action::ReplyThenClose(r)) => {
            io.send(&r).await?;
            Ok(Some(Flow::Stop))
        }
        Some(Action::Close) => Ok(Some(Flow::Stop)),
    }
}

fn check_plain(blob: &str, expected: &(String, String)) -> bool {
    let Ok(decoded) = Base64::decode_vec(blob.trim()) else {
        return false;
    };
    let want = format!("\0{}\0{}", expected.0, expected.1);
    decoded == want.as_bytes()
}

async fn session(
    tcp: TcpStream,
    conn: usize,
    options: &Options,
    log: &Mutex<Log>,
) -> io::Result<()> {
    let mut io = Io {
        stream: ServerStream::Plain(tcp),
        buf: Vec::new(),
        reads: 0,
    };
    let mut ctx = Ctx {
        conn,
        ..Ctx::default()
    };
    if let Some(acceptor) = &options.implicit_tls {
        io.upgrade(acceptor).await?;
        ctx.tls = true;
    }
    match run_hook(options, &ctx, &Event::Connect, &mut io).await? {
        Some(Flow::Stop) => return Ok(()),
        Some(Flow::Continue) => {}
        None => io.send("220 fake.test ESMTP ready").await?,
    }
    let mut mail_from: Option<String> = None;
    let mut rcpt_to: Vec<String> = Vec::new();
    loop {
        let Some((raw, read)) = io.line().await? else {
            return Ok(());
        };
        let line = String::from_utf8_lossy(&raw).into_owned();
        {
            let mut l = lock(log);
            l.raw_lines.push(line.clone());
            l.commands.push(CommandRecord {
                conn,
                line: line.clone(),
                read,
            });
            ctx.total_messages = l.delivered.len();
        }
        let result = run_hook(options, &ctx, &Event::Command(&line), &mut io).await?;
        ctx.conn_commands += 1;
        match result {
            Some(Flow::Stop) => return Ok(()),
            Some(Flow::Continue) => continue,
            None => {}
        }
        let upper = line.to_ascii_uppercase();
        let verb = upper.split(' ').next().unwrap_or("");
        match verb {
            "EHLO" => {
                let mut reply =
                    String::from("250-fake.test\r\n250-SIZE 52428800\r\n250-8BITMIME\r\n");
                if options.pipelining {
                    reply.push_str("250-PIPELINING\r\n");
                }
                if options.starttls.is_some() && !ctx.tls {
                    reply.push_str("250-STARTTLS\r\n");
                }
                if options.auth.is_some() {
                    reply.push_str(&format!("250-AUTH {}\r\n", options.auth_mechanisms));
                }
                reply.push_str("250 ENHANCEDSTATUSCODES\r\n");
                io.send(&reply).await?;
            }
            "HELO" => io.send("250 fake.test").await?,
            "STARTTLS" => match &options.starttls {
                Some(acceptor) if !ctx.tls => {
                    io.send("220 2.0.0 Ready to start TLS").await?;
                    io.upgrade(acceptor).await?;
                    ctx.tls = true;
                }
                _ => io.send("502 5.5.1 STARTTLS not offered").await?,
            },
            "AUTH" => {
                let Some(expected) = &options.auth else {
                    io.send("502 5.5.1 AUTH not offered").await?;
                    continue;
                };
                let mut parts = line.splitn(3, ' ').skip(1);
                let mechanism = parts.next().unwrap_or("").to_ascii_uppercase();
                let initial = parts.next().map(str::to_owned);
                let ok = match mechanism.as_str() {
                    "PLAIN" => {
                        let blob = match initial {
                            Some(b) => b,
                            None => {
                                io.send("334 ").await?;
                                let Some((b, _)) = io.line().await? else {
                                    return Ok(());
                                };
                                String::from_utf8_lossy(&b).into_owned()
                            }
                        };
                        lock(log).raw_lines.push(blob.clone());
                        check_plain(&blob, expected)
                    }
                    "LOGIN" => {
                        io.send("334 VXNlcm5hbWU6").await?;
                        let Some((u, _)) = io.line().await? else {
                            return Ok(());
                        };
                        io.send("334 UGFzc3dvcmQ6").await?;
                        let Some((p, _)) = io.line().await? else {
                            return Ok(());
                        };
                        let (u, p) = (
                            String::from_utf8_lossy(&u).into_owned(),
                            String::from_utf8_lossy(&p).into_owned(),
                        );
                        lock(log).raw_lines.extend([u.clone(), p.clone()]);
                        Base64::decode_vec(&u).ok().as_deref() == Some(expected.0.as_bytes())
                            && Base64::decode_vec(&p).ok().as_deref() == Some(expected.1.as_bytes())
                    }
                    _ => {
                        io.send("504 5.5.4 mechanism not supported").await?;
                        continue;
                    }
                };
                if ok {
                    ctx.authenticated = true;
                    io.send("235 2.7.0 Authentication successful").await?;
                } else {
                    io.send("535 5.7.8 Authentication credentials invalid")
                        .await?;
                }
            }
            "MAIL" => {
                if options.require_auth && !ctx.authenticated {
                    io.send("530 5.7.1 Authorization required").await?;
                } else {
                    let from = line
                        .split_once('<')
                        .and_then(|(_, r)| r.split_once('>'))
                        .map(|(a, _)| a.to_owned())
                        .unwrap_or_default();
                    mail_from = Some(from);
                    rcpt_to.clear();
                    io.send("250 2.1.0 Ok").await?;
                }
            }
            "RCPT" => {
                if mail_from.is_none() {
                    io.send("503 5.5.1 need MAIL first").await?;
                } else {
                    let to = line
                        .split_once('<')
                        .and_then(|(_, r)| r.split_once('>'))
                        .map(|(a, _)| a.to_owned())
                        .unwrap_or_default();
                    rcpt_to.push(to);
                    io.send("250 2.1.5 Ok").await?;
                }
            }
            "DATA" => {
                if mail_from.is_none() || rcpt_to.is_empty() {
                    io.send("554 5.5.1 Error: no valid recipients").await?;
                    continue;
                }
                io.send("354 End data with <CR><LF>.<CR><LF>").await?;
                let mut data = Vec::new();
                loop {
                    let Some((l, _)) = io.line().await? else {
                        return Ok(());
                    };
                    if l == b"." {
                        break;
                    }
                    let l = if l.first() == Some(&b'.') {
                        &l[1..]
                    } else {
                        &l[..]
                    };
                    data.extend_from_slice(l);
                    data.extend_from_slice(b"\r\n");
                }
                match run_hook(options, &ctx, &Event::DataEnd(&data), &mut io).await? {
                    Some(Flow::Stop) => return Ok(()),
                    Some(Flow::Continue) => {}
                    None => {
                        let n = {
                            let mut l = lock(log);
                            l.delivered.push(Delivered {
                                conn,
                                mail_from: mail_from.clone().unwrap_or_default(),
                                rcpt_to: rcpt_to.clone(),
                                data,
                                tls: ctx.tls,
                            });
                            l.delivered.len()
                        };
                        ctx.conn_messages += 1;
                        io.send(&format!("250 2.0.0 Ok: queued as Q{n:05}")).await?;
                    }
                }
                mail_from = None;
                rcpt_to.clear();
            }
            "RSET" => {
                mail_from = None;
                rcpt_to.clear();
                io.send("250 2.0.0 Ok").await?;
            }
            "NOOP" => io.send("250 2.0.0 Ok").await?,
            "QUIT" => {
                lock(log).quits += 1;
                io.send("221 2.0.0 Bye").await?;
                return Ok(());
            }
            _ => io.send("502 5.5.2 Error: command not recognized").await?,
        }
    }
}

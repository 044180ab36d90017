//! "Which is faster, SMTP or the API?" on loopback: the same S/MIME-like messages (20 KB and
//! 600 KB, base64 in an `application/pkcs7-mime` envelope) sent
//!
//! - by SMTP ([`SmtpSender`], no TLS) into a minimal SMTP sink written here (`smtp-inbench`),
//! - by SMTP into Postfix's `smtp-sink` when it is installed (`smtp-sink`),
//! - by the SparkPost Transmissions API ([`SparkPostSender`]) into a keep-alive HTTP/1.1
//!   stand-in written here (`api`),
//!
//! each in five ways: `fresh` (one message at a time, a new connection for each: the
//! ancestor's way), `reused` (one connection, sequential) and `pool-1`, `pool-4`, `pool-10`
//! (a shared sender with that many connections and as many tasks sending at once).
//!
//! One iteration sends a batch of [`BATCH`] messages; throughput is in messages per second.
//! Everything listens on 127.0.0.1 and is shut down at the end.
//!
//! ```text
//! cargo bench -p smime-benches --bench transport            # about two and a half minutes
//! cargo bench -p smime-benches --bench transport -- --test  # one batch each: a smoke check
//! ```

use std::net::{SocketAddr, TcpListener as StdListener};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, Criterion, Throughput, criterion_group, criterion_main};
use memchr::memmem;
use smime_transport::{Envelope, Secret, Sender, SmtpSender, SparkPostSender, Timeouts, TlsMode};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::runtime::Runtime;

/// Messages sent per criterion iteration.
const BATCH: usize = 50;

const SIZES: [(&str, usize); 2] = [("20KB", 20 * 1024), ("600KB", 600 * 1024)];

/// How a sender is driven.
#[derive(Clone, Copy, Debug)]
enum Mode {
    /// A new connection for every message, one at a time.
    Fresh,
    /// One connection carrying every message, one at a time.
    Reused,
    /// A shared sender with `n` connections and `n` tasks sending at once.
    Pool(usize),
}

const MODES: [Mode; 5] = [
    Mode::Fresh,
    Mode::Reused,
    Mode::Pool(1),
    Mode::Pool(4),
    Mode::Pool(10),
];

impl Mode {
    fn name(self) -> String {
        match self {
            Mode::Fresh => "fresh".to_owned(),
            Mode::Reused => "reused".to_owned(),
            Mode::Pool(n) => format!("pool-{n}"),
        }
    }

    fn connections(self) -> usize {
        match self {
            Mode::Fresh | Mode::Reused => 1,
            Mode::Pool(n) => n,
        }
    }
}

/// An S/MIME-like message of about `size` bytes: base64 lines under a pkcs7-mime header.
fn message(size: usize) -> Arc<[u8]> {
    let mut m = b"From: Alice <alice@example.com>\r\nTo: Bob <bob@example.net>\r\n\
Subject: transport bench\r\nDate: Fri, 27 Nov 2026 10:00:00 +0000\r\n\
Message-ID: <transport-bench@example.com>\r\nMIME-Version: 1.0\r\n\
Content-Type: application/pkcs7-mime; smime-type=enveloped-data; name=smime.p7m\r\n\
Content-Disposition: attachment; filename=smime.p7m\r\n\
Content-Transfer-Encoding: base64\r\n\r\n"
        .to_vec();
    let line = b"MIAGCSqGSIb3DQEHA6CAMIACAQAxggEwMIIBLAIBADCBlDCBjjELMAkGA1UEBhMCVVMxEzAR\r\n";
    while m.len() + line.len() <= size {
        m.extend_from_slice(line);
    }
    m.into()
}

fn envelope() -> Envelope {
    Envelope::new("alice@example.com", ["bob@example.net"]).expect("a valid envelope")
}

/// Sends [`BATCH`] messages per iteration, `iters` times, the way `mode` says.
fn run(
    rt: &Runtime,
    sender: &Arc<dyn Sender>,
    mode: Mode,
    body: &Arc<[u8]>,
    iters: u64,
) -> Duration {
    let envelope = Arc::new(envelope());
    rt.block_on(async {
        let started = Instant::now();
        for _ in 0..iters {
            match mode {
                Mode::Fresh | Mode::Reused => {
                    for _ in 0..BATCH {
                        sender.send(&envelope, body).await.expect("a sent message");
                    }
                }
                Mode::Pool(n) => {
                    let left = Arc::new(AtomicUsize::new(BATCH));
                    let tasks: Vec<_> = (0..n)
                        .map(|_| {
                            let (sender, envelope, body, left) =
                                (sender.clone(), envelope.clone(), body.clone(), left.clone());
                            tokio::spawn(async move {
                                while left
                                    .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |l| {
                                        l.checked_sub(1)
                                    })
                                    .is_ok()
                                {
                                    sender.send(&envelope, &body).await.expect("a sent message");
                                }
                            })
                        })
                        .collect();
                    for task in tasks {
                        task.await.expect("a sending task");
                    }
                }
            }
        }
        started.elapsed()
    })
}

/// Benchmarks every size and mode against one target; `make` builds a sender for a mode.
fn target(
    group: &mut BenchmarkGroup<'_, WallTime>,
    rt: &Runtime,
    make: &dyn Fn(Mode) -> Arc<dyn Sender>,
) {
    for (size_name, size) in SIZES {
        let body = message(size);
        group.throughput(Throughput::Elements(BATCH as u64));
        for mode in MODES {
            let sender = make(mode);
            group.bench_function(format!("{size_name}/{}", mode.name()), |b| {
                b.iter_custom(|iters| run(rt, &sender, mode, &body, iters));
            });
            rt.block_on(sender.shutdown()).expect("a clean shutdown");
        }
    }
}

fn configure<'a>(c: &'a mut Criterion, name: &str) -> (BenchmarkGroup<'a, WallTime>, Runtime) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("the client runtime");
    let mut group = c.benchmark_group(name);
    group
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(2));
    (group, rt)
}

fn smtp_sender(port: u16, mode: Mode) -> Arc<dyn Sender> {
    let sender = SmtpSender::builder("127.0.0.1", port)
        .tls(TlsMode::None)
        .helo_name("bench.example.com")
        .pool_size(mode.connections())
        // Fresh: QUIT after every message, so the next one opens a new connection.
        .max_messages_per_connection(if matches!(mode, Mode::Fresh) { 1 } else { 0 })
        .timeouts(Timeouts::uniform(Duration::from_secs(30)))
        .build()
        .expect("an SMTP sender");
    Arc::new(sender)
}

fn api_sender(addr: SocketAddr, mode: Mode) -> Arc<dyn Sender> {
    let sender = SparkPostSender::builder(Secret::from("bench-api-key"))
        .base_url(format!("http://{addr}"))
        // Fresh: no idle connection is kept, so every request opens one.
        .max_idle_connections(match mode {
            Mode::Fresh => 0,
            other => other.connections(),
        })
        .timeout(Duration::from_secs(30))
        .build()
        .expect("a SparkPost sender");
    Arc::new(sender)
}

/// Connections and requests (messages) a stand-in server has seen.
#[derive(Debug, Default)]
struct Counters {
    connections: AtomicU64,
    messages: AtomicU64,
}

impl Counters {
    fn report(&self, name: &str) {
        eprintln!(
            "{name}: {} connections, {} messages",
            self.connections.load(Ordering::Relaxed),
            self.messages.load(Ordering::Relaxed)
        );
    }
}

/// The servers' own runtime, one worker thread (like `smtp-sink`, one process, one thread).
fn server_runtime() -> Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("the server runtime")
}

/// Accepts connections on `listener` and runs `serve` on each.
async fn accept_loop<F, Fut>(listener: TcpListener, counters: Arc<Counters>, serve: F)
where
    F: Fn(TcpStream, Arc<Counters>) -> Fut,
    Fut: Future<Output = std::io::Result<()>> + Send + 'static,
{
    while let Ok((stream, _)) = listener.accept().await {
        let _ = stream.set_nodelay(true);
        counters.connections.fetch_add(1, Ordering::Relaxed);
        let serving = serve(stream, counters.clone());
        tokio::spawn(async move {
            let _ = serving.await;
        });
    }
}

/// Binds 127.0.0.1 on a free port and serves `serve` there on `rt`.
fn start<F, Fut>(rt: &Runtime, serve: F) -> (SocketAddr, Arc<Counters>)
where
    F: Fn(TcpStream, Arc<Counters>) -> Fut + Send + 'static,
    Fut: Future<Output = std::io::Result<()>> + Send + 'static,
{
    let listener = rt
        .block_on(TcpListener::bind("127.0.0.1:0"))
        .expect("a loopback port");
    let addr = listener.local_addr().expect("the local address");
    let counters = Arc::new(Counters::default());
    rt.spawn(accept_loop(listener, counters.clone(), serve));
    (addr, counters)
}

/// A minimal SMTP sink: ESMTP with PIPELINING, 8BITMIME and SIZE; MAIL, RCPT, DATA, RSET,
/// NOOP, QUIT; the message is read up to `CRLF.CRLF` and thrown away.
async fn smtp_session(mut stream: TcpStream, counters: Arc<Counters>) -> std::io::Result<()> {
    stream
        .write_all(b"220 bench.invalid ESMTP in-bench sink\r\n")
        .await?;
    let finder = memmem::Finder::new(b"\r\n.\r\n");
    let mut buf: Vec<u8> = Vec::with_capacity(128 * 1024);
    let mut replies: Vec<u8> = Vec::with_capacity(1024);
    let mut in_data = false;
    // Nothing of the message read yet: a terminator here has no CRLF of its own.
    let mut data_start = false;
    loop {
        // Everything complete in the buffer is answered before reading again, so that
        // pipelined commands get their replies in one write.
        let mut at = 0usize;
        loop {
            if in_data {
                if data_start && buf.len() - at < 3 {
                    break;
                }
                if data_start && buf[at..].starts_with(b".\r\n") {
                    at += 3;
                } else if let Some(p) = finder.find(&buf[at..]) {
                    at += p + 5;
                } else {
                    // Keep the last four bytes: the terminator may straddle reads.
                    at = buf.len() - (buf.len() - at).min(4);
                    data_start = false;
                    break;
                }
                in_data = false;
                data_start = false;
                let id = counters.messages.fetch_add(1, Ordering::Relaxed);
                replies.extend_from_slice(format!("250 2.0.0 Ok: queued as {id:X}\r\n").as_bytes());
                continue;
            }
            let Some(nl) = memchr::memchr(b'\n', &buf[at..]) else {
                break;
            };
            let line = &buf[at..at + nl + 1];
            at += nl + 1;
            let verb = line
                .get(..4)
                .map(|v| v.to_ascii_uppercase())
                .unwrap_or_default();
            match verb.as_slice() {
                b"EHLO" => replies.extend_from_slice(
                    b"250-bench.invalid\r\n250-PIPELINING\r\n250-8BITMIME\r\n250 SIZE 52428800\r\n",
                ),
                b"HELO" => replies.extend_from_slice(b"250 bench.invalid\r\n"),
                b"MAIL" | b"RCPT" | b"RSET" | b"NOOP" => {
                    replies.extend_from_slice(b"250 2.0.0 Ok\r\n");
                }
                b"DATA" => {
                    replies.extend_from_slice(b"354 End data with <CR><LF>.<CR><LF>\r\n");
                    in_data = true;
                    data_start = true;
                }
                b"QUIT" => {
                    replies.extend_from_slice(b"221 2.0.0 Bye\r\n");
                    stream.write_all(&replies).await?;
                    return stream.shutdown().await;
                }
                _ => replies.extend_from_slice(b"502 5.5.2 Error: command not recognized\r\n"),
            }
        }
        buf.drain(..at);
        if !replies.is_empty() {
            stream.write_all(&replies).await?;
            replies.clear();
        }
        if buf.capacity() - buf.len() < 16 * 1024 {
            buf.reserve(64 * 1024);
        }
        if stream.read_buf(&mut buf).await? == 0 {
            return Ok(());
        }
    }
}

/// A keep-alive HTTP/1.1 server answering every request like the Transmissions API, after
/// reading the whole body (`Content-Length`).
async fn api_session(mut stream: TcpStream, counters: Arc<Counters>) -> std::io::Result<()> {
    const BODY: &str =
        r#"{"results":{"total_rejected_recipients":0,"total_accepted_recipients":1,"id":"1"}}"#;
    let reply = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{BODY}",
        BODY.len()
    );
    let finder = memmem::Finder::new(b"\r\n\r\n");
    let mut buf: Vec<u8> = Vec::with_capacity(128 * 1024);
    loop {
        // The head.
        let end = loop {
            if let Some(p) = finder.find(&buf) {
                break p + 4;
            }
            buf.reserve(64 * 1024);
            if stream.read_buf(&mut buf).await? == 0 {
                return Ok(());
            }
        };
        let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
        let length = head
            .lines()
            .find_map(|l| l.strip_prefix("content-length:"))
            .and_then(|v| v.trim().parse::<usize>().ok())
            .unwrap_or(0);
        // The body, read and thrown away.
        let mut missing = (end + length).saturating_sub(buf.len());
        buf.drain(..(end + length).min(buf.len()));
        while missing > 0 {
            buf.clear();
            buf.reserve(64 * 1024);
            let n = stream.read_buf(&mut buf).await?;
            if n == 0 {
                return Ok(());
            }
            let used = n.min(missing);
            missing -= used;
            buf.drain(..used);
        }
        counters.messages.fetch_add(1, Ordering::Relaxed);
        stream.write_all(reply.as_bytes()).await?;
    }
}

fn find(tool: &str) -> Option<PathBuf> {
    std::env::var_os("PATH")
        .into_iter()
        .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .chain([
            PathBuf::from("/usr/sbin"),
            PathBuf::from("/usr/lib/postfix/sbin"),
        ])
        .map(|d| d.join(tool))
        .find(|p| p.is_file())
}

/// Postfix's `smtp-sink`, killed when dropped.
#[derive(Debug)]
struct Sink(Child);

impl Drop for Sink {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start_sink(path: &PathBuf) -> Option<(Sink, u16)> {
    let port = StdListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let mut command = Command::new(path);
    // As root, smtp-sink insists on dropping privileges.
    let uid = Command::new("id").arg("-u").output().ok()?.stdout;
    if uid.trim_ascii() == b"0" {
        command.args(["-u", "nobody"]);
    }
    let child = command
        .args(["-c", &format!("127.0.0.1:{port}"), "1000"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    let sink = Sink(child);
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Some((sink, port));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    None
}

fn smtp_inbench(c: &mut Criterion) {
    let servers = server_runtime();
    let (addr, counters) = start(&servers, smtp_session);
    let (mut group, rt) = configure(c, "smtp-inbench");
    target(&mut group, &rt, &|mode| smtp_sender(addr.port(), mode));
    group.finish();
    counters.report("in-bench SMTP sink");
}

fn smtp_sink(c: &mut Criterion) {
    let Some(path) = find("smtp-sink") else {
        eprintln!("smtp-sink: not found (install postfix); skipping the smtp-sink group");
        return;
    };
    let Some((sink, port)) = start_sink(&path) else {
        eprintln!("smtp-sink: {} did not start; skipping", path.display());
        return;
    };
    let (mut group, rt) = configure(c, "smtp-sink");
    target(&mut group, &rt, &|mode| smtp_sender(port, mode));
    group.finish();
    drop(sink);
}

fn api(c: &mut Criterion) {
    let servers = server_runtime();
    let (addr, counters) = start(&servers, api_session);
    let (mut group, rt) = configure(c, "api");
    target(&mut group, &rt, &|mode| api_sender(addr, mode));
    group.finish();
    counters.report("API stand-in");
}

criterion_group!(benches, smtp_inbench, smtp_sink, api);
criterion_main!(benches);

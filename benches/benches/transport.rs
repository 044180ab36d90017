//! "Which is faster, SMTP or the API?" on loopback: the same S/MIME-like messages (20 KB and
//! 600 KB, base64 in an `application/pkcs7-mime` envelope) sent
//!
//! - by SMTP ([`SmtpSender`], no TLS) into the testkit's fake SMTP server with capture off, a
//!   sink on a runtime thread of its own (`smtp-inbench`),
//! - by SMTP into Postfix's `smtp-sink` when it is installed (`smtp-sink`),
//! - by the SparkPost Transmissions API ([`SparkPostSender`]) into the testkit's keep-alive
//!   HTTP/1.1 stand-in, capture off (`api`),
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

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, Criterion, Throughput, criterion_group, criterion_main};
use smime_testkit::SmtpSink;
use smime_testkit::fake_api::{FakeApi, Response};
use smime_testkit::fake_smtp::{FakeSmtp, Options};
use smime_transport::{Envelope, Secret, Sender, SmtpSender, SparkPostSender, Timeouts, TlsMode};
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

fn smtp_inbench(c: &mut Criterion) {
    let server = FakeSmtp::start_on_thread(Options {
        capture: false,
        ..Options::default()
    });
    let (mut group, rt) = configure(c, "smtp-inbench");
    target(&mut group, &rt, &|mode| smtp_sender(server.port(), mode));
    group.finish();
    let log = server.log();
    eprintln!(
        "in-bench SMTP sink: {} connections, {} messages",
        log.connections, log.messages
    );
}

fn smtp_sink(c: &mut Criterion) {
    let sink = match SmtpSink::start() {
        Ok(sink) => sink,
        Err(why) => {
            eprintln!("{why}; skipping the smtp-sink group");
            return;
        }
    };
    let port = sink.port();
    let (mut group, rt) = configure(c, "smtp-sink");
    target(&mut group, &rt, &|mode| smtp_sender(port, mode));
    group.finish();
    drop(sink);
}

fn api(c: &mut Criterion) {
    let server = FakeApi::start_on_thread(|_, _| Response::accepted("1", 1, 0)).capture(false);
    let (mut group, rt) = configure(c, "api");
    target(&mut group, &rt, &|mode| api_sender(server.addr, mode));
    group.finish();
    eprintln!(
        "API stand-in: {} connections, {} messages",
        server.connections(),
        server.served()
    );
}

criterion_group!(benches, smtp_inbench, smtp_sink, api);
criterion_main!(benches);

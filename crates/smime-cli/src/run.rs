//! The bulk pipeline: building spreads over every core while sending overlaps it, with a
//! bounded number of messages in memory however many files there are.
//!
//! ```text
//!  paths ──► builder threads (one per core: read, check journal, protect) ──► bounded channel
//!        ──► sender tasks (the Dispatcher's slots: at most `concurrency` in flight, its retry
//!            policy) ──► reporter/journal
//! ```
//!
//! A message leaves the channel only once the [`Dispatcher`] has a free slot for it, so at
//! most `concurrency` messages are in flight, and at most the channel's capacity more wait
//! behind them, built.
//!
//! Ctrl-C or SIGTERM stops the builders taking new files; messages in flight finish and are
//! recorded; what was built but not sent is left for the next run.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use smime_core::{Protected, Protector, RecipientKind};
use smime_transport::{Dispatcher, Envelope, Recipient, RetryPolicy, Slot};
use tokio::sync::mpsc;

use crate::error::CliError;
use crate::journal;
use crate::report::{Outcome, Reporter, Status};
use crate::target::Target;

/// Where finished messages go.
pub(crate) enum Sink {
    /// Standard output (one input).
    Stdout,
    /// One file (one input).
    File(PathBuf),
    /// A directory, each result under its input's file name.
    Dir(PathBuf),
    /// A mail platform.
    Send(Target),
}

/// A message built by a builder thread.
struct Built {
    file: PathBuf,
    key: String,
    result: Result<Protected, CliError>,
}

/// Everything one run needs.
pub(crate) struct Run {
    pub(crate) protector: Arc<Protector>,
    pub(crate) files: Vec<PathBuf>,
    pub(crate) sink: Sink,
    pub(crate) max_size: u64,
    pub(crate) retry: RetryPolicy,
}

/// Reads an input with a size limit ([`smime_core::read_file_limited`]): checked on the
/// metadata before reading, and again while reading, since pipes and devices (`<(cmd)`,
/// `/dev/zero`) report no size and a file may grow. At most `limit` + 1 bytes are read (a
/// regular file's buffer is allocated once, at its size).
fn read_input(path: &Path, limit: u64) -> Result<Vec<u8>, CliError> {
    use smime_core::ReadFileError;
    smime_core::read_file_limited(path, limit).map_err(|e| match e {
        ReadFileError::Io { path, source } => CliError::ReadInput { file: path, source },
        ReadFileError::TooLarge { path, size, limit } => CliError::TooLarge {
            file: path,
            size,
            limit,
        },
        ReadFileError::TooLargeStream { path, limit } => {
            CliError::TooLargeStream { file: path, limit }
        }
        other => CliError::ReadInput {
            file: path.to_owned(),
            source: std::io::Error::other(other),
        },
    })
}

fn header_line(p: &Protected, kind: Option<RecipientKind>) -> String {
    p.recipients
        .iter()
        .filter(|r| kind.is_none_or(|k| r.kind == k))
        .map(|r| r.mailbox.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

impl Run {
    /// Runs to the end (or to an interruption) and returns the exit code.
    pub(crate) async fn execute(self, reporter: Arc<Reporter>) -> i32 {
        let stop = Arc::new(AtomicBool::new(false));
        spawn_signal_watch(Arc::clone(&stop));

        let concurrency = match &self.sink {
            Sink::Send(t) => t.concurrency,
            _ => 1,
        };
        let builders = std::thread::available_parallelism()
            .map_or(2, usize::from)
            .min(self.files.len().max(1));
        let (tx, mut rx) = mpsc::channel::<Built>(concurrency + builders);
        let queue = Arc::new(Mutex::new(self.files.clone().into_iter()));
        // Into a directory, each builder writes what it built itself: no hand-off to this
        // thread, which would otherwise compete with the builders for the cores.
        let out_dir = match &self.sink {
            Sink::Dir(dir) => Some(Arc::new(Sink::Dir(dir.clone()))),
            _ => None,
        };
        let mut threads = Vec::new();
        for _ in 0..builders {
            let queue = Arc::clone(&queue);
            let tx = tx.clone();
            let protector = Arc::clone(&self.protector);
            let stop = Arc::clone(&stop);
            let reporter = Arc::clone(&reporter);
            let limit = self.max_size;
            let out_dir = out_dir.clone();
            threads.push(std::thread::spawn(move || {
                let direct = out_dir.as_deref();
                build_loop(&queue, &tx, &protector, &stop, &reporter, limit, direct);
            }));
        }
        drop(tx);

        let mut tasks = tokio::task::JoinSet::new();
        let dispatcher = match &self.sink {
            Sink::Send(t) => Some({
                let reporter = Arc::clone(&reporter);
                Dispatcher::new(Arc::clone(&t.sender))
                    .concurrency(concurrency)
                    .retry_policy(self.retry.clone())
                    .on_retry(move |notice| reporter.retrying(notice))
            }),
            _ => None,
        };
        let mut unsent = 0usize;
        loop {
            // A free slot first, then the next message.
            let slot = match &dispatcher {
                Some(d) => Some(d.slot().await),
                None => None,
            };
            let Some(built) = rx.recv().await else { break };
            if stop.load(Ordering::SeqCst) {
                // Built, never sent: the next run takes it.
                if built.result.is_ok() {
                    unsent += 1;
                }
                continue;
            }
            let protected = match built.result {
                Ok(p) => p,
                Err(e) => {
                    let mut o = Outcome::new(&built.file, Status::Invalid);
                    o.key = Some(built.key);
                    o.error = Some(e);
                    reporter.report(o);
                    continue;
                }
            };
            match slot {
                Some(slot) => {
                    let reporter = Arc::clone(&reporter);
                    tasks.spawn(async move {
                        let o = send_one(&slot, built.file, built.key, protected).await;
                        reporter.report(o);
                        drop(slot);
                    });
                }
                None => {
                    let o = write_one(&self.sink, built.file, built.key, &protected);
                    reporter.report(o);
                }
            }
        }
        while tasks.join_next().await.is_some() {}
        for t in threads {
            let _ = t.join();
        }
        if let Sink::Send(t) = &self.sink {
            let _ = t.sender.shutdown().await;
        }
        reporter.unsent(unsent);
        reporter.finish(stop.load(Ordering::SeqCst))
    }
}

fn build_loop(
    queue: &Mutex<std::vec::IntoIter<PathBuf>>,
    tx: &mpsc::Sender<Built>,
    protector: &Protector,
    stop: &AtomicBool,
    reporter: &Reporter,
    limit: u64,
    direct: Option<&Sink>,
) {
    loop {
        if stop.load(Ordering::SeqCst) {
            return;
        }
        let next = queue
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .next();
        let Some(file) = next else { return };
        let (key, result) = match read_input(&file, limit) {
            Ok(bytes) => {
                let key = if reporter.wants_keys() {
                    journal::key(&file, &bytes)
                } else {
                    file.display().to_string()
                };
                if reporter.journal().is_some_and(|j| j.is_done(&key)) {
                    let mut o = Outcome::new(&file, Status::Skipped);
                    o.key = Some(key);
                    reporter.report(o);
                    continue;
                }
                let result = protector
                    .protect(&bytes)
                    .map_err(|source| CliError::Protect {
                        file: file.clone(),
                        source,
                    });
                (key, result)
            }
            Err(e) => (file.display().to_string(), Err(e)),
        };
        if let Some(sink) = direct {
            let o = match result {
                Ok(p) => write_one(sink, file, key, &p),
                Err(e) => {
                    let mut o = Outcome::new(&file, Status::Invalid);
                    o.key = Some(key);
                    o.error = Some(e);
                    o
                }
            };
            reporter.report(o);
            continue;
        }
        if tx.blocking_send(Built { file, key, result }).is_err() {
            return;
        }
    }
}

async fn send_one(slot: &Slot, file: PathBuf, key: String, p: Protected) -> Outcome {
    let mut o = Outcome::new(&file, Status::Sent);
    o.key = Some(key);
    o.from = Some(p.mail_from.clone());
    o.to = Some(header_line(&p, Some(RecipientKind::To)));
    o.recipients = p
        .recipients
        .iter()
        .map(|r| r.mailbox.address.clone())
        .collect();
    let recipients = p.recipients.iter().map(|r| {
        let rcpt = Recipient::new(r.mailbox.address.clone());
        match &r.mailbox.name {
            Some(n) => rcpt.with_name(n.clone()),
            None => rcpt,
        }
    });
    let envelope = match Envelope::new(p.mail_from.clone(), recipients) {
        Ok(e) => e,
        Err(e) => {
            o.status = Status::Invalid;
            o.error = Some(CliError::Config(format!("{}: {e}", file.display())));
            return o;
        }
    };
    let started = Instant::now();
    match slot.send(&envelope, &p.message).await {
        Ok(receipt) => {
            o.elapsed = receipt.elapsed().max(Duration::from_micros(1));
            o.encrypted = receipt.encrypted();
            o.id = receipt.id().map(str::to_owned);
            o.refused = receipt
                .rejected()
                .iter()
                .map(|r| format!("{} ({})", r.recipient(), r.reply()))
                .collect();
            if !o.refused.is_empty() {
                o.status = Status::Partial;
            }
        }
        Err(e) => {
            o.elapsed = started.elapsed();
            o.status = if e.is_transient() {
                Status::Deferred
            } else {
                Status::Failed
            };
            o.error = Some(CliError::Send {
                file,
                source: e,
                elapsed: o.elapsed,
            });
        }
    }
    o
}

fn write_one(sink: &Sink, file: PathBuf, key: String, p: &Protected) -> Outcome {
    let started = Instant::now();
    let result = match sink {
        Sink::Stdout => crate::output::write_stdout(&p.message),
        Sink::File(path) => crate::output::write_atomically(path, &p.message),
        Sink::Dir(dir) => {
            let name = file
                .file_name()
                .map_or_else(|| "message.eml".into(), |n| n.to_owned());
            crate::output::write_atomically(&dir.join(name), &p.message)
        }
        Sink::Send(_) => Ok(()),
    };
    let mut o = Outcome::new(&file, Status::Written);
    o.key = Some(key);
    o.from = Some(p.mail_from.clone());
    o.recipients = p
        .recipients
        .iter()
        .map(|r| r.mailbox.address.clone())
        .collect();
    o.elapsed = started.elapsed();
    if let Err(e) = result {
        o.status = Status::Failed;
        o.error = Some(e);
    }
    o
}

/// Ctrl-C and SIGTERM set `stop`; a second Ctrl-C exits at once.
fn spawn_signal_watch(stop: Arc<AtomicBool>) {
    tokio::spawn(async move {
        #[cfg(unix)]
        let mut term =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
        loop {
            #[cfg(unix)]
            let got = match term.as_mut() {
                Some(t) => tokio::select! {
                    r = tokio::signal::ctrl_c() => r.is_ok(),
                    r = t.recv() => r.is_some(),
                },
                None => tokio::signal::ctrl_c().await.is_ok(),
            };
            #[cfg(not(unix))]
            let got = tokio::signal::ctrl_c().await.is_ok();
            if !got {
                return;
            }
            if stop.swap(true, Ordering::SeqCst) {
                eprintln!("smime: interrupted twice: exiting now");
                std::process::exit(crate::error::exit::TEMP_FAIL);
            }
            eprintln!("smime: interrupted: finishing the messages in flight (again to quit now)");
        }
    });
}

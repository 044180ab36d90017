//! Loopback throughput for a ~20 KB message, measured in one run:
//!
//! - by SMTP into Postfix's `smtp-sink` (a discard server, started here on a free port):
//!   one connection, then pools of 4 and 10 connections with as many messages in flight;
//! - `smtp-source` (Postfix's load generator) into the same sink, as a reference;
//! - by the SparkPost API into the testkit's in-process HTTP/1.1 stand-in (keep-alive, fixed
//!   200, capture off), with 1, 4 and 10 requests in flight.
//!
//! ```text
//! cargo run --release -p smime-transport --example loopback_rate -- [MESSAGES] [--current-thread]
//! ```
//!
//! `smtp-sink` and `smtp-source` come with Postfix (`scripts/postfix-test-env.sh` installs
//! it); without them only the API figures are printed.

use std::{
    error::Error,
    process::{Command, Stdio},
    sync::Arc,
    time::{Duration, Instant},
};

use smime_testkit::{
    SmtpSink,
    fake_api::{FakeApi, Response},
    find_tool,
};
use smime_transport::{
    Dispatcher, Envelope, Job, RetryPolicy, Secret, Sender, SmtpSender, SparkPostSender, Timeouts,
    TlsMode,
};

const SIZE: usize = 20 * 1024;

fn message() -> Vec<u8> {
    let mut m = b"From: Alice <alice@example.com>\r\nTo: Bob <bob@example.net>\r\n\
Subject: loopback rate\r\nMIME-Version: 1.0\r\n\
Content-Type: application/pkcs7-mime; smime-type=enveloped-data; name=smime.p7m\r\n\
Content-Transfer-Encoding: base64\r\n\r\n"
        .to_vec();
    let line = b"MIAGCSqGSIb3DQEHA6CAMIACAQAxggEwMIIBLAIBADCBlDCBjjELMAkGA1UEBhMCVVMxEzAR\r\n";
    while m.len() + line.len() <= SIZE {
        m.extend_from_slice(line);
    }
    m
}

async fn measure(
    sender: Arc<dyn Sender>,
    concurrency: usize,
    messages: usize,
    body: &Arc<[u8]>,
) -> Result<f64, Box<dyn Error>> {
    let envelope = Envelope::new("alice@example.com", ["bob@example.net"])?;
    let dispatcher = Dispatcher::new(sender.clone())
        .concurrency(concurrency)
        .retry_policy(RetryPolicy::no_retry());
    // Warm up: open the connections.
    let warm = (0..concurrency).map(|_| Job::new(envelope.clone(), body.clone()));
    for r in dispatcher.send_all(warm).await {
        r?;
    }
    let jobs = (0..messages).map(|_| Job::new(envelope.clone(), body.clone()));
    let mut failed = 0usize;
    let started = Instant::now();
    let summary = dispatcher
        .send_each(jobs, |_, r| {
            if r.is_err() {
                failed += 1;
            }
        })
        .await;
    let elapsed = started.elapsed();
    sender.shutdown().await?;
    if failed > 0 {
        return Err(format!("{failed} of {messages} messages failed").into());
    }
    debug_assert_eq!(summary.sent, messages);
    Ok(messages as f64 / elapsed.as_secs_f64())
}

fn main() -> Result<(), Box<dyn Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let messages: usize = args.iter().find_map(|a| a.parse().ok()).unwrap_or(5000);
    let current_thread = args.iter().any(|a| a == "--current-thread");
    let runtime = if current_thread {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?
    } else {
        tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()?
    };
    println!(
        "tokio runtime: {}",
        if current_thread {
            "current_thread"
        } else {
            "multi_thread"
        }
    );
    runtime.block_on(run(messages))
}

async fn run(messages: usize) -> Result<(), Box<dyn Error>> {
    let body: Arc<[u8]> = message().into();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!(
        "{messages} messages of {} bytes, loopback, {cores} CPU(s), release build",
        body.len()
    );
    println!("{:<58} {:>10}", "path", "msg/s");

    match (SmtpSink::start(), find_tool("smtp-source")) {
        (Ok(sink), source) => {
            let port = sink.port();
            for (label, pool, cap) in [
                ("SMTP -> smtp-sink, 1 connection (reused throughout)", 1, 0),
                (
                    "SMTP -> smtp-sink, 1 connection, QUIT every 100 msgs",
                    1,
                    100,
                ),
                (
                    "SMTP -> smtp-sink, pool 4 (100 msgs per connection)",
                    4,
                    100,
                ),
                (
                    "SMTP -> smtp-sink, pool 10 (100 msgs per connection)",
                    10,
                    100,
                ),
            ] {
                let sender = SmtpSender::builder("127.0.0.1", port)
                    .tls(TlsMode::None)
                    .pool_size(pool)
                    .max_messages_per_connection(cap)
                    .timeouts(Timeouts::uniform(Duration::from_secs(30)))
                    .build()?;
                let rate = measure(Arc::new(sender), pool, messages, &body).await?;
                println!("{label:<58} {rate:>10.0}");
            }
            if let Some(source) = source {
                let file =
                    std::env::temp_dir().join(format!("loopback-rate-{}.eml", std::process::id()));
                std::fs::write(&file, &body)?;
                for sessions in [1, 4, 10] {
                    let started = Instant::now();
                    let status = Command::new(&source)
                        .args([
                            "-s",
                            &sessions.to_string(),
                            "-m",
                            &messages.to_string(),
                            "-d",
                        ])
                        .arg("-F")
                        .arg(&file)
                        .arg(format!("127.0.0.1:{port}"))
                        .stdout(Stdio::null())
                        .stderr(Stdio::null())
                        .status()?;
                    let rate = messages as f64 / started.elapsed().as_secs_f64();
                    if status.success() {
                        let label =
                            format!("smtp-source -s {sessions} -d -> smtp-sink (reference)");
                        println!("{label:<58} {rate:>10.0}");
                    }
                }
                let _ = std::fs::remove_file(&file);
            }
        }
        (Err(why), _) => println!("{why}: SMTP figures skipped"),
    }

    // On this runtime, as the client.
    let api = FakeApi::start(|_, _| Response::accepted("1234567", 1, 0))
        .await
        .capture(false);
    for concurrency in [1, 4, 10] {
        let sender = SparkPostSender::builder(Secret::from("loopback-test-key"))
            .base_url(api.base_url())
            .max_idle_connections(concurrency)
            .timeout(Duration::from_secs(30))
            .build()?;
        let rate = measure(Arc::new(sender), concurrency, messages, &body).await?;
        let label = format!("API -> in-process stand-in, {concurrency} in flight");
        println!("{label:<58} {rate:>10.0}");
    }
    Ok(())
}

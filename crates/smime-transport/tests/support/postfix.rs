//! The private Postfix started by `scripts/postfix-test-env.sh`, and
//! [`deliver_and_fetch`]: send through the transport, read back what each recipient got.
//!
//! ```text
//! eval "$(scripts/postfix-test-env.sh start)"
//! CARGO_TARGET_DIR=/work/target-transport cargo test -p smime-transport --test postfix
//! scripts/postfix-test-env.sh stop
//! ```
//!
//! Without the environment the tests say so on stderr and pass, unless
//! `SMIME_REQUIRE_INTEROP=1`, which turns the missing setup into a failure.

use std::{
    collections::HashSet,
    io::Write as _,
    path::{Path, PathBuf},
    time::{Duration, Instant},
};

use smime_transport::{Envelope, Receipt, Sender, SmtpSender, Timeouts, TlsMode};

pub const SKIP_MESSAGE: &str = "skipping: postfix not configured (run scripts/postfix-test-env.sh)";

/// Where the private Postfix listens and delivers.
#[derive(Debug, Clone)]
pub struct PostfixEnv {
    pub host: String,
    pub port: u16,
    pub maildir: PathBuf,
}

/// The instance from `SMIME_POSTFIX_PORT` and `SMIME_POSTFIX_MAILDIR` (and optionally
/// `SMIME_POSTFIX_HOST`). `None`, after saying so on stderr (uncaptured, so `cargo test`
/// shows it), when they are not set; a panic instead when `SMIME_REQUIRE_INTEROP=1`.
pub fn postfix_env() -> Option<PostfixEnv> {
    let port = std::env::var("SMIME_POSTFIX_PORT").ok();
    let maildir = std::env::var("SMIME_POSTFIX_MAILDIR").ok();
    match (port, maildir) {
        (Some(port), Some(maildir)) if !port.is_empty() && !maildir.is_empty() => {
            Some(PostfixEnv {
                host: std::env::var("SMIME_POSTFIX_HOST")
                    .ok()
                    .filter(|h| !h.is_empty())
                    .unwrap_or_else(|| "127.0.0.1".to_owned()),
                port: port
                    .parse()
                    .unwrap_or_else(|_| panic!("SMIME_POSTFIX_PORT={port:?} is not a port")),
                maildir: PathBuf::from(maildir),
            })
        }
        _ => {
            if std::env::var("SMIME_REQUIRE_INTEROP").as_deref() == Ok("1") {
                panic!("SMIME_REQUIRE_INTEROP=1 but {SKIP_MESSAGE}");
            }
            // Written to the real stderr: the test harness captures only print!/eprint!.
            let _ = writeln!(std::io::stderr(), "{SKIP_MESSAGE}");
            None
        }
    }
}

impl PostfixEnv {
    /// An SMTP sender for the instance: no TLS (it offers none), pipelining as advertised.
    pub fn sender(&self, pool_size: usize) -> SmtpSender {
        SmtpSender::builder(&self.host, self.port)
            .tls(TlsMode::None)
            .helo_name("smime-transport.test")
            .pool_size(pool_size)
            .timeouts(Timeouts::uniform(Duration::from_secs(30)))
            .build()
            .expect("postfix sender")
    }

    /// The Maildir `new/` folder of a recipient (`<domain>/<local part>/new`, lower case as
    /// the delivery script writes it).
    pub fn new_dir(&self, recipient: &str) -> PathBuf {
        let recipient = recipient.to_ascii_lowercase();
        let (local, domain) = recipient
            .rsplit_once('@')
            .unwrap_or_else(|| panic!("{recipient:?} has no domain"));
        self.maildir.join(domain).join(local).join("new")
    }
}

fn files_in(dir: &Path) -> HashSet<PathBuf> {
    std::fs::read_dir(dir)
        .map(|entries| entries.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default()
}

/// `bytes` with CRLF turned into LF, as Postfix stores mail.
pub fn lf(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\r' && bytes.get(i + 1) == Some(&b'\n') {
            i += 1;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    out
}

/// `bytes` with every LF turned into CRLF (the canonical form S/MIME signs).
pub fn crlf(bytes: &[u8]) -> Vec<u8> {
    let lf = lf(bytes);
    let mut out = Vec::with_capacity(lf.len() + lf.len() / 40);
    for &b in &lf {
        if b == b'\n' {
            out.push(b'\r');
        }
        out.push(b);
    }
    out
}

/// Sends `message` to the private Postfix with `envelope`, then waits (up to 20 s) until
/// every envelope recipient has it in its Maildir, and returns, per recipient in envelope
/// order, the delivered file as Postfix wrote it: `Return-Path`, `Delivered-To` and
/// `Received` prepended, LF line ends (use [`crlf`] for the canonical form).
///
/// Panics when Postfix is not configured (check [`postfix_env`] first) or the message does
/// not arrive. A delivered copy is recognised by ending with the message itself, so tests
/// may run at the same time.
pub async fn deliver_and_fetch(message: &[u8], envelope: &Envelope) -> Vec<(String, Vec<u8>)> {
    deliver_and_fetch_with_receipt(message, envelope).await.1
}

/// [`deliver_and_fetch`], also returning the transport's receipt.
pub async fn deliver_and_fetch_with_receipt(
    message: &[u8],
    envelope: &Envelope,
) -> (Receipt, Vec<(String, Vec<u8>)>) {
    let env = postfix_env().expect(SKIP_MESSAGE);
    let before: Vec<HashSet<PathBuf>> = envelope
        .addresses()
        .map(|r| files_in(&env.new_dir(r)))
        .collect();
    let sender = env.sender(1);
    let receipt = sender
        .send(envelope, message)
        .await
        .expect("postfix accepts the message");
    let _ = sender.shutdown().await;

    // Match on the body: an MTA may rewrite the outer header (Postfix drops Return-Path,
    // adds Received), never the body, which is what S/MIME protects.
    let whole = lf(message);
    let body_at = whole
        .windows(2)
        .position(|w| w == b"\n\n")
        .map_or(0, |i| i + 2);
    let mut wanted = whole[body_at..].to_vec();
    if !wanted.ends_with(b"\n") {
        wanted.push(b'\n');
    }
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut delivered = Vec::new();
    for (recipient, before) in envelope.addresses().zip(before) {
        let dir = env.new_dir(recipient);
        let copy = loop {
            let found = files_in(&dir)
                .difference(&before)
                .filter_map(|path| std::fs::read(path).ok())
                .find(|bytes| bytes.ends_with(&wanted));
            if let Some(bytes) = found {
                break bytes;
            }
            assert!(
                Instant::now() < deadline,
                "no copy for {recipient} in {} after 20 s (queue {:?}; see the Postfix log)",
                dir.display(),
                receipt.id()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        delivered.push((recipient.to_owned(), copy));
    }
    (receipt, delivered)
}

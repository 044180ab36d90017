//! The private Postfix started by `scripts/postfix-test-env.sh` (and by `scripts/test.sh`),
//! and [`deliver_and_fetch`]: send with the client under test, read back what each recipient
//! got.
//!
//! ```text
//! eval "$(scripts/postfix-test-env.sh start)"
//! cargo test -p smime-transport --test transport postfix
//! scripts/postfix-test-env.sh stop
//! ```
//!
//! Without the environment the tests say so on stderr and pass, unless
//! `SMIME_REQUIRE_INTEROP=1`, which turns the missing setup into a failure.

use std::{
    collections::HashSet,
    fmt::Debug,
    future::Future,
    io::Write as _,
    path::{Path, PathBuf},
    time::{Duration, Instant},
};

/// What a test prints when it skips for want of Postfix.
pub const SKIP_MESSAGE: &str = "skipping: postfix not configured (run scripts/postfix-test-env.sh)";

/// Where the private Postfix listens and delivers.
#[derive(Debug, Clone)]
pub struct PostfixEnv {
    /// `SMIME_POSTFIX_HOST`, default 127.0.0.1.
    pub host: String,
    /// `SMIME_POSTFIX_PORT`.
    pub port: u16,
    /// `SMIME_POSTFIX_MAILDIR`: `<domain>/<local part>/{new,cur}` below it.
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
            if crate::interop_required() {
                panic!("{}=1 but {SKIP_MESSAGE}", crate::REQUIRE_INTEROP_ENV);
            }
            // Written to the real stderr: the test harness captures only print!/eprint!.
            let _ = writeln!(std::io::stderr(), "{SKIP_MESSAGE}");
            None
        }
    }
}

impl PostfixEnv {
    /// The Maildir `new/` folder of a recipient (`<domain>/<local part>/new`, lower case as
    /// the delivery script writes it).
    pub fn new_dir(&self, recipient: &str) -> PathBuf {
        let recipient = recipient.to_ascii_lowercase();
        let (local, domain) = recipient
            .rsplit_once('@')
            .unwrap_or_else(|| panic!("{recipient:?} has no domain"));
        self.maildir.join(domain).join(local).join("new")
    }

    /// Every message file delivered so far, to anyone ([`maildir_files`] of the Maildir root).
    pub fn delivered(&self) -> Vec<PathBuf> {
        maildir_files(&self.maildir)
    }
}

/// Every file in a `new/` or `cur/` folder anywhere below `root`: the messages delivered
/// under a Maildir root.
pub fn maildir_files(root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_owned()];
    while let Some(d) = stack.pop() {
        if let Ok(rd) = std::fs::read_dir(&d) {
            for e in rd.flatten() {
                let p = e.path();
                if p.is_dir() {
                    stack.push(p);
                } else if p
                    .parent()
                    .is_some_and(|par| par.ends_with("new") || par.ends_with("cur"))
                {
                    out.push(p);
                }
            }
        }
    }
    out
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

/// Runs `send` (the client under test sending `message` to the private Postfix for
/// `recipients`), then waits (up to 20 s) until every recipient has it in its Maildir, and
/// returns what `send` returned and, per recipient in order, the delivered file as Postfix
/// wrote it: `Return-Path`, `Delivered-To` and `Received` prepended, LF line ends (use
/// [`crlf`] for the canonical form).
///
/// Panics when Postfix is not configured (check [`postfix_env`] first) or the message does
/// not arrive. A delivered copy is recognised by ending with the message's body, so tests
/// may run at the same time.
pub async fn deliver_and_fetch<R: Debug>(
    message: &[u8],
    recipients: &[&str],
    send: impl Future<Output = R>,
) -> (R, Vec<(String, Vec<u8>)>) {
    let env = postfix_env().expect(SKIP_MESSAGE);
    let before: Vec<HashSet<PathBuf>> = recipients
        .iter()
        .map(|r| files_in(&env.new_dir(r)))
        .collect();
    let sent = send.await;

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
    for (recipient, before) in recipients.iter().zip(before) {
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
                "no copy for {recipient} in {} after 20 s (sent: {sent:?}; see the Postfix log)",
                dir.display(),
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        delivered.push(((*recipient).to_owned(), copy));
    }
    (sent, delivered)
}

//! Entry points for the fuzz targets in `fuzz/` and for their regression tests
//! (`tests/transport/fuzz_regressions.rs`), compiled only with the `fuzzing` feature. Not part of the
//! API: hidden from the documentation, no stability promise.
//!
//! Each function feeds untrusted bytes (what a server or the API could send) to the code the
//! senders run (the SMTP session over an in-memory stream, the reply reader, the API
//! response handling) and checks what the crate promises about the result. They panic only
//! when a promise is broken; errors are ordinary outcomes.

use std::{
    io,
    pin::Pin,
    sync::OnceLock,
    task::{Context, Poll},
    time::Duration,
};

use reqwest::{
    StatusCode,
    header::{HeaderMap, HeaderValue, RETRY_AFTER},
};
use smtp_proto::Response;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use zeroize::Zeroizing;

use crate::{
    envelope::Envelope,
    error::SendError,
    receipt::Receipt,
    reply::Reply,
    secret::{Secret, scrub, wire_forms},
    smtp::{
        Credentials, SmtpSender, TlsMode,
        data::DataBlock,
        session::{After, ReadEnd, Session, read_replies},
    },
    sparkpost::{SparkPostSender, retry_after},
};

/// The password and API key the fuzz entries scrub; a seed can contain them.
pub const FUZZ_SECRET: &str = "fuzz-secret-9f8e7d6c5b4a";

/// A scripted server: every read returns (part of) the next chunk, then end of file;
/// writes are accepted and discarded. Never pending, so no timeout ever fires.
#[derive(Debug)]
struct Script<'a> {
    chunks: Vec<&'a [u8]>,
    next: usize,
    current: &'a [u8],
}

impl<'a> Script<'a> {
    /// The server's turns (separated by `0xFF`, which is never part of a reply), each
    /// delivered in reads of at most `chunk` bytes: a read never spans two turns, as a
    /// server's replies to separate commands never arrive in one read.
    fn new(stream: &'a [u8], chunk: usize) -> Self {
        let chunks = stream
            .split(|&b| b == TURN)
            .flat_map(|turn| turn.chunks(chunk.max(1)))
            .collect();
        Self {
            chunks,
            next: 0,
            current: &[],
        }
    }

    /// All the turns' bytes, without the separators.
    fn joined(stream: &[u8]) -> Vec<u8> {
        stream.iter().copied().filter(|&b| b != TURN).collect()
    }
}

/// Separates the server's turns in [`smtp_session`]'s input.
pub const TURN: u8 = 0xFF;

impl AsyncRead for Script<'_> {
    fn poll_read(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.current.is_empty() {
            match this.chunks.get(this.next) {
                Some(c) => {
                    this.current = c;
                    this.next += 1;
                }
                None => return Poll::Ready(Ok(())),
            }
        }
        let n = this.current.len().min(buf.remaining());
        let (now, later) = this.current.split_at(n);
        buf.put_slice(now);
        this.current = later;
        Poll::Ready(Ok(()))
    }
}

impl AsyncWrite for Script<'_> {
    fn poll_write(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

fn runtime() -> &'static tokio::runtime::Runtime {
    static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .expect("a current-thread runtime")
    })
}

fn smtp_secret_forms() -> &'static [Zeroizing<String>] {
    static FORMS: OnceLock<Vec<Zeroizing<String>>> = OnceLock::new();
    FORMS.get_or_init(|| wire_forms(&Secret::from(FUZZ_SECRET), Some(FUZZ_USER)))
}

const FUZZ_USER: &str = "fuzz-user";
const LIMIT: Duration = Duration::from_secs(60);

/// The senders whose configuration the sessions use: plain SMTP, pipelining on, without
/// and with credentials (user `fuzz-user`, password [`FUZZ_SECRET`]).
fn smtp_sender(authenticate: bool) -> &'static SmtpSender {
    static PLAIN: OnceLock<SmtpSender> = OnceLock::new();
    static AUTH: OnceLock<SmtpSender> = OnceLock::new();
    let make = || {
        let builder = SmtpSender::builder("fuzz.invalid", 25)
            .tls(TlsMode::None)
            .helo_name("fuzz.test");
        let builder = if authenticate {
            builder
                .credentials(Credentials::new(FUZZ_USER, Secret::from(FUZZ_SECRET)))
                .dangerous_allow_plaintext_auth(true)
        } else {
            builder
        };
        builder.build().expect("an SMTP sender")
    };
    if authenticate {
        AUTH.get_or_init(make)
    } else {
        PLAIN.get_or_init(make)
    }
}

/// What the crate promises about a reply it made from server bytes (`from_server`: the
/// lines of a multi-line reply are joined; `Reply::new` keeps the caller's text as given).
fn check_reply(reply: &Reply, from_server: bool) {
    let shown = reply.to_string();
    if from_server {
        assert!(
            !shown.contains('\n'),
            "a reply shows on one line: {shown:?}"
        );
    }
    assert!(
        shown.starts_with(&reply.code().to_string()),
        "a reply shows its code first: {shown:?}"
    );
    let classes = [
        reply.is_positive(),
        reply.is_transient(),
        reply.is_permanent(),
    ];
    assert_eq!(
        classes.iter().filter(|c| **c).count(),
        1,
        "exactly one class: {shown:?}"
    );
    if let Some(id) = reply.queue_id() {
        check_queue_id(&id, &shown);
    }
    let _ = reply.enhanced_code();
    let _ = reply.closes_session();
    let scrubbed = scrub(&shown, smtp_secret_forms());
    assert!(!scrubbed.contains(FUZZ_SECRET), "secret survived scrubbing");
}

fn check_queue_id(id: &str, from: &str) {
    assert!(
        !id.is_empty() && !id.contains(|c: char| c.is_whitespace() || c == ',' || c == ';'),
        "queue id {id:?} from {from:?}"
    );
}

fn check_response(r: Response<String>) {
    check_reply(&Reply::from_response(r), true);
}

/// What a session's error promises: every reply it carries checked as above and, when the
/// session holds the password (`authenticated`), neither its text nor its `Debug` holds it,
/// whatever the server quoted and when (a fuzzed server may say it before AUTH was sent, as
/// a real one that knows it could). A session without credentials cannot know the fuzzed
/// server's text is a password: it shows what it was told.
fn check_error(e: &SendError, authenticated: bool) {
    if let Some(reply) = e.reply() {
        check_reply(reply, true);
    }
    for refusal in e.refusals() {
        check_reply(refusal.reply(), true);
    }
    if !authenticated {
        return;
    }
    let shown = e.to_string();
    assert!(!shown.contains(FUZZ_SECRET), "the password in {shown:?}");
    assert!(
        !format!("{e:?}").contains(FUZZ_SECRET),
        "the password in {e:?}"
    );
}

/// A receipt: at least one recipient accepted, the final reply positive and on one line,
/// every refusal's reply checked, and the password nowhere in it when the session held one.
fn check_receipt(receipt: &Receipt, authenticated: bool) {
    assert!(receipt.accepted_count() >= 1, "a receipt for nobody");
    assert!(
        !authenticated || !format!("{receipt:?}").contains(FUZZ_SECRET),
        "the password in {receipt:?}"
    );
    let response = receipt.response();
    assert!(
        response.starts_with('2') && !response.contains('\n'),
        "the final reply {response:?}"
    );
    if let Some(id) = receipt.id() {
        check_queue_id(id, response);
    }
    for refusal in receipt.rejected() {
        check_reply(refusal.reply(), true);
    }
}

/// A byte stream from an SMTP server, read as a session reads it.
///
/// `data[0]`: bits 0-2 give how many pipelined replies are expected (1 to 8: MAIL FROM,
/// the RCPT TOs, DATA; at least one recipient); bit 6 authenticates (user `fuzz-user`,
/// password [`FUZZ_SECRET`]); bit 7 runs the pipelined reply reader alone. `data[1]`: the
/// size of each read (0 is 4096). The rest is what the server sends, in turns separated by
/// [`TURN`] (`0xFF`): the greeting, the EHLO reply, (AUTH's replies,) the pipelined
/// replies, the reply after the final dot, RSET's and QUIT's.
///
/// The session (`smtp::session::Session::over` on an in-memory connection: greeting, EHLO
/// or HELO, AUTH, one transaction, pipelined when offered, RSET if it failed, QUIT).
/// Checks: every reply in an error or a receipt shows on one line starting with its code,
/// is in exactly one class, has a well-formed queue id if any, and scrubbing removes the
/// secret; no error or receipt of an authenticating session shows the password; a receipt
/// has an accepted recipient and a positive final reply.
///
/// The reply reader alone (`session::read_replies`, what the pipelined transaction reads
/// with): at most the replies asked for, all of them unless it reports how reading ended,
/// and the same replies however the bytes are split into reads.
pub fn smtp_session(data: &[u8]) {
    let [mode, chunk, stream @ ..] = data else {
        return;
    };
    let n = usize::from(mode & 7) + 1;
    let chunk = if *chunk == 0 {
        4096
    } else {
        usize::from(*chunk)
    };
    runtime().block_on(async {
        if mode & 0x80 != 0 {
            reply_reader(stream, chunk, n).await;
        } else {
            session(stream, chunk, n, mode & 0x40 != 0).await;
        }
    });
}

async fn session(stream: &[u8], chunk: usize, n: usize, authenticate: bool) {
    let config = smtp_sender(authenticate).config();
    let mut session = match Session::over(Script::new(stream, chunk), config).await {
        Ok(session) => session,
        Err(e) => return check_error(&e, authenticate),
    };
    let recipients: Vec<String> = (1..=n.saturating_sub(2).max(1))
        .map(|i| format!("rcpt{i}@example.net"))
        .collect();
    let envelope = match Envelope::new("alice@example.com", recipients) {
        Ok(e) => e,
        Err(e) => panic!("the fixed envelope is valid: {e}"),
    };
    let data = DataBlock::new(None, b"Subject: fuzz\r\n\r\nbody\r\n");
    match session.transact(config, &envelope, &data, false).await {
        Ok(receipt) => check_receipt(&receipt, authenticate),
        Err(failure) => {
            check_error(&failure.error, authenticate);
            match failure.after {
                After::Dead => return,
                After::Reset => {
                    if !session.reset(config).await {
                        return;
                    }
                }
                After::Clean => {}
            }
        }
    }
    session.quit(config).await;
}

async fn reply_reader(stream: &[u8], chunk: usize, n: usize) {
    let (replies, end) = read_replies(&mut Script::new(stream, chunk), n, LIMIT).await;
    assert!(replies.len() <= n, "{} replies for {n}", replies.len());
    if end.is_none() {
        assert_eq!(replies.len(), n, "all replies unless reading ended early");
    }
    assert!(
        !matches!(end, Some(ReadEnd::Timeout)),
        "an in-memory stream never times out"
    );
    // The same bytes in reads of 4096, and a byte at a time: the same replies.
    let joined = Script::joined(stream);
    for other_chunk in [4096, 1] {
        let mut other = Script::new(&joined, other_chunk);
        let (again, again_end) = read_replies(&mut other, n, LIMIT).await;
        assert_eq!(
            replies, again,
            "replies depend on how the bytes are split (reads of {chunk} vs {other_chunk})"
        );
        assert_eq!(
            end.is_some(),
            again_end.is_some(),
            "{end:?} vs {again_end:?}"
        );
    }
    for r in replies {
        check_response(r);
    }
}

/// A reply built from a code and text, as [`Reply::new`] does for callers: the same checks
/// as the session's replies, except that the text may span lines.
pub fn reply_text(code: u16, text: &str) {
    check_reply(&Reply::new(code, text), false);
}

fn api_sender() -> &'static SparkPostSender {
    static SENDER: OnceLock<SparkPostSender> = OnceLock::new();
    SENDER.get_or_init(|| {
        SparkPostSender::builder(Secret::from(FUZZ_SECRET))
            .base_url("http://127.0.0.1:9")
            .build()
            .expect("a SparkPost sender")
    })
}

/// A SparkPost API response: `status` (100 to 999, others ignored), a `Retry-After` header
/// value and the body, turned into a receipt or an error by the code `SparkPostSender::send`
/// runs after the request.
///
/// Checks: success only for a 2xx status; an `Api` error keeps the status; 429 and 5xx are
/// transient, every other status permanent; a wait only comes with 429; the API key appears neither
/// in the receipt nor in any error text.
pub fn api_response(status: u16, retry_after_value: &[u8], body: &[u8]) {
    let Ok(status) = StatusCode::from_u16(status) else {
        return;
    };
    let mut headers = HeaderMap::new();
    if let Ok(v) = HeaderValue::from_bytes(retry_after_value) {
        headers.insert(RETRY_AFTER, v);
    }
    let wait = retry_after(&headers);
    let envelope = match Envelope::new(
        "alice@example.com",
        ["bob@example.net", "carol@example.org"],
    ) {
        Ok(e) => e,
        Err(e) => panic!("the fixed envelope is valid: {e}"),
    };
    let sender = api_sender();
    match sender.outcome(&envelope, status, wait, body, Duration::from_millis(5)) {
        Ok(receipt) => {
            assert!(status.is_success(), "a receipt for {status}");
            assert!(
                !receipt.response().contains(FUZZ_SECRET),
                "the API key in a receipt"
            );
            assert!(
                !receipt.id().unwrap_or_default().contains(FUZZ_SECRET),
                "the API key in a receipt's id"
            );
            let _ = receipt.accepted_count();
        }
        Err(e) => {
            let shown = e.to_string();
            let debug = format!("{e:?}");
            assert!(!shown.contains(FUZZ_SECRET), "the API key in an error");
            assert!(!debug.contains(FUZZ_SECRET), "the API key in an error");
            for detail in e.api_errors() {
                assert!(!detail.to_string().contains(FUZZ_SECRET));
            }
            if let Some(s) = e.http_status() {
                assert_eq!(s, status.as_u16(), "the error keeps the status");
            }
            if !status.is_success() {
                assert_eq!(e.http_status(), Some(status.as_u16()));
                let transient = status.as_u16() == 429 || status.as_u16() >= 500;
                assert_eq!(e.is_transient(), transient, "class of {status}: {shown}");
                assert_eq!(e.is_permanent(), !transient, "class of {status}: {shown}");
            }
            if e.retry_after().is_some() {
                assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
            }
        }
    }
}

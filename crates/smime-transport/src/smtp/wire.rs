//! The SMTP conversation at `trace` level, under the target `smime_transport::smtp::wire`:
//! every command as sent (`C: ...`) and every reply as received (`S: ...`).
//!
//! What never appears: AUTH payloads (`AUTH PLAIN <redacted>`, and each continuation line
//! of an AUTH exchange is `C: <redacted>`), and the message itself (`C: <message, N bytes>`).
//! Replies are scrubbed of the password's wire forms, like the replies kept in errors: a
//! hostile server quoting the credentials back does not put them in the log.
//!
//! The server and the connection's number are not repeated on each line: every event of a
//! connection happens inside its span, `smtp{server=… conn=…}` ([`connection_span`]), which
//! has this module's target so that filtering on the conversation alone keeps them.

use std::sync::atomic::{AtomicU64, Ordering};

use mail_send::SmtpClient;
use smtp_proto::Response;
use tokio::io::{AsyncRead, AsyncWrite};
use tracing::Span;

use super::Config;
use crate::secret::scrub;

/// The target of the conversation events (`SMIME_LOG=smime_transport::smtp::wire=trace`).
pub(crate) const TARGET: &str = "smime_transport::smtp::wire";

/// What a redacted command or line shows instead of its payload.
pub(crate) const REDACTED: &str = "<redacted>";

/// A process-wide number for each connection, so that the lines of concurrent sessions can
/// be told apart.
pub(crate) fn next_connection_id() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

/// The span every event of connection `conn` happens in: it carries the server and the
/// connection's number. At debug level (what `-vv` shows), under [`TARGET`] so that
/// `SMIME_LOG=smime_transport::smtp::wire=trace` keeps it as well.
pub(crate) fn connection_span(config: &Config, conn: u64) -> Span {
    tracing::debug_span!(target: TARGET, "smtp", server = %config.server, conn)
}

/// The span of transaction number `n` of a connection, inside the connection's span.
pub(crate) fn transaction_span(connection: &Span, n: u32) -> Span {
    tracing::debug_span!(target: TARGET, parent: connection, "transaction", n)
}

/// A command line as it may be shown: CRLF removed, AUTH arguments replaced (whatever the
/// caller passed: this is the last line of defence), control characters escaped.
pub(crate) fn shown(line: &[u8]) -> String {
    let text = String::from_utf8_lossy(line);
    let text = text.trim_end_matches(['\r', '\n']);
    let mut words = text.splitn(3, ' ');
    let verb = words.next().unwrap_or("");
    if verb.eq_ignore_ascii_case("AUTH") {
        let mechanism = words.next().unwrap_or("");
        return match words.next() {
            Some(_) => format!("AUTH {mechanism} {REDACTED}"),
            None => format!("AUTH {mechanism}"),
        };
    }
    text.escape_debug().to_string()
}

/// `C: <line>` for a command about to be sent.
pub(crate) fn sent(line: &[u8]) {
    if tracing::enabled!(target: TARGET, tracing::Level::TRACE) {
        let line = shown(line);
        tracing::trace!(target: TARGET, "C: {line}");
    }
}

/// `C: <redacted>`: a line of an AUTH exchange (user name, password, encoded response).
pub(crate) fn sent_secret() {
    tracing::trace!(target: TARGET, "C: {REDACTED}");
}

/// `C: <message, N bytes>`: the content after `354`, summarised.
pub(crate) fn sent_message(bytes: usize) {
    tracing::trace!(target: TARGET, "C: <message, {bytes} bytes, dot-terminated>");
}

/// `S: <code> <text>`, every line of a multi-line reply, scrubbed of the password.
pub(crate) fn received(config: &Config, reply: &Response<String>) {
    if tracing::enabled!(target: TARGET, tracing::Level::TRACE) {
        let text = scrub(&reply.message, &config.secret_forms);
        // smtp-proto keeps the enhanced code apart from the text: put it back in front.
        let esc = if reply.esc == [0, 0, 0] {
            String::new()
        } else {
            format!("{}.{}.{} ", reply.esc[0], reply.esc[1], reply.esc[2])
        };
        let mut lines = text.lines().peekable();
        if lines.peek().is_none() {
            tracing::trace!(target: TARGET, "S: {} {}", reply.code, esc.trim_end());
        }
        while let Some(line) = lines.next() {
            let sep = if lines.peek().is_some() { '-' } else { ' ' };
            let line = line.trim_end_matches('\r').escape_debug();
            tracing::trace!(target: TARGET, "S: {}{sep}{esc}{line}", reply.code);
        }
    }
}

/// `S: <nothing>`: reading a reply failed (closed, timed out, not SMTP).
pub(crate) fn no_reply(why: &dyn std::fmt::Display) {
    tracing::trace!(target: TARGET, "S: <no reply: {why}>");
}

/// Sends a command and reads its reply, both traced.
pub(crate) async fn cmd<T: AsyncRead + AsyncWrite + Unpin>(
    client: &mut SmtpClient<T>,
    config: &Config,
    line: &[u8],
) -> mail_send::Result<Response<String>> {
    sent(line);
    let result = client.cmd(line).await;
    traced(config, result)
}

/// Sends a line that carries credentials; the trace shows `C: <redacted>` (or the given
/// redacted form), then the reply.
pub(crate) async fn cmd_secret<T: AsyncRead + AsyncWrite + Unpin>(
    client: &mut SmtpClient<T>,
    config: &Config,
    line: &[u8],
    shown_as: Option<&str>,
) -> mail_send::Result<Response<String>> {
    match shown_as {
        Some(text) => tracing::trace!(target: TARGET, "C: {text}"),
        None => sent_secret(),
    }
    let result = client.cmd(line).await;
    traced(config, result)
}

/// Reads a reply (the greeting, the reply after the final dot), traced.
pub(crate) async fn read<T: AsyncRead + AsyncWrite + Unpin>(
    client: &mut SmtpClient<T>,
    config: &Config,
) -> mail_send::Result<Response<String>> {
    let result = client.read().await;
    traced(config, result)
}

/// Traces the outcome of a command: the reply, or why there was none.
pub(crate) fn traced(
    config: &Config,
    result: mail_send::Result<Response<String>>,
) -> mail_send::Result<Response<String>> {
    match &result {
        Ok(reply) => received(config, reply),
        Err(e) => failed(config, e),
    }
    result
}

/// Traces a failed command: the reply it got, or why there was none.
pub(crate) fn failed(config: &Config, e: &mail_send::Error) {
    match e {
        mail_send::Error::UnexpectedReply(reply)
        | mail_send::Error::AuthenticationFailed(reply) => received(config, reply),
        e => no_reply(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auth_arguments_never_shown() {
        assert_eq!(
            shown(b"AUTH PLAIN AHVzZXIAcGFzcw==\r\n"),
            "AUTH PLAIN <redacted>"
        );
        assert_eq!(shown(b"auth login dXNlcg==\r\n"), "AUTH login <redacted>");
        assert_eq!(shown(b"AUTH LOGIN\r\n"), "AUTH LOGIN");
        assert_eq!(
            shown(b"MAIL FROM:<a@example.com> SIZE=10\r\n"),
            "MAIL FROM:<a@example.com> SIZE=10"
        );
        assert_eq!(shown(b"RSET\r\n"), "RSET");
    }
}

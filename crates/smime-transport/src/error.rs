//! The error every [`Sender`](crate::Sender) returns, with predicates to act on.

use std::{fmt, io, path::PathBuf, time::Duration};

use zeroize::Zeroizing;

use crate::{envelope::EnvelopeError, receipt::Refusal, reply::Reply, secret::scrub};

/// Where in the exchange with the server an error happened.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Stage {
    /// Opening the TCP connection.
    Connect,
    /// Waiting for the server's `220` greeting.
    Greeting,
    /// `EHLO` (or `HELO`).
    Ehlo,
    /// `STARTTLS` and the TLS handshake (or the implicit-TLS handshake).
    Tls,
    /// `AUTH`.
    Auth,
    /// `MAIL FROM`.
    MailFrom,
    /// `RCPT TO`.
    RcptTo,
    /// The `DATA` command.
    Data,
    /// Sending the message content.
    Content,
    /// Waiting for the reply after the final dot.
    DataEnd,
    /// An HTTP request to the SparkPost API.
    Http,
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Stage::Connect => "connect",
            Stage::Greeting => "greeting",
            Stage::Ehlo => "EHLO",
            Stage::Tls => "TLS",
            Stage::Auth => "AUTH",
            Stage::MailFrom => "MAIL FROM",
            Stage::RcptTo => "RCPT TO",
            Stage::Data => "DATA",
            Stage::Content => "message content",
            Stage::DataEnd => "end of data",
            Stage::Http => "HTTP request",
        })
    }
}

/// One entry of the SparkPost API's `errors` array.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiErrorDetail {
    message: String,
    description: Option<String>,
    code: Option<String>,
}

impl ApiErrorDetail {
    pub(crate) fn new(message: String, description: Option<String>, code: Option<String>) -> Self {
        Self {
            message,
            description,
            code,
        }
    }

    /// The short message (`Unauthorized.`, `Exceed Sending Limit (daily)`).
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The longer description, when given.
    pub fn description(&self) -> Option<&str> {
        self.description.as_deref()
    }

    /// The API's error code (`1902`, `2101`), when given.
    pub fn code(&self) -> Option<&str> {
        self.code.as_deref()
    }
}

impl fmt::Display for ApiErrorDetail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)?;
        if let Some(d) = &self.description {
            write!(f, ": {d}")?;
        }
        if let Some(c) = &self.code {
            write!(f, " (code {c})")?;
        }
        Ok(())
    }
}

/// A failed send, or a sender that could not be built.
///
/// Opaque on purpose: ask it questions. [`is_transient`](Self::is_transient) and
/// [`is_permanent`](Self::is_permanent) are exact opposites and drive retries and exit
/// codes; [`is_auth`](Self::is_auth), [`is_tls`](Self::is_tls),
/// [`is_timeout`](Self::is_timeout) and [`is_config`](Self::is_config) say what went wrong.
/// [`reply`](Self::reply) holds the SMTP server's own words
/// (`530 5.7.1 Authorization required`), [`refusals`](Self::refusals) the per-recipient
/// replies, [`http_status`](Self::http_status) and [`api_errors`](Self::api_errors) what the
/// API said. No secret ever appears in its `Display` or `Debug`.
#[derive(Debug)]
pub struct SendError {
    repr: Box<Repr>,
    /// Attempts made before giving up (1 unless retried).
    attempts: u32,
}

impl fmt::Display for SendError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.repr, f)
    }
}

impl std::error::Error for SendError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        std::error::Error::source(&*self.repr)
    }
}

/// What went wrong with TLS, for a caller that words its own advice.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TlsProblem {
    /// The handshake failed for a reason other than the certificate.
    Handshake,
    /// The server's certificate was not accepted (unknown issuer, wrong name, expired).
    Certificate,
    /// TLS is required and the server does not offer STARTTLS.
    StartTlsUnavailable,
    /// Credentials would have gone over an unencrypted connection.
    PlaintextAuth,
}

#[derive(Debug, thiserror::Error)]
pub(crate) enum Repr {
    #[error("invalid configuration: {0}")]
    Config(String),

    #[error("invalid envelope: {0}")]
    Envelope(#[from] EnvelopeError),

    #[error("invalid message: {0}")]
    Message(String),

    #[error("cannot connect to {server}: {source}")]
    Connect {
        server: String,
        #[source]
        source: io::Error,
    },

    #[error("{server}: connection lost during {stage}: {detail}")]
    ConnectionLost {
        server: String,
        stage: Stage,
        detail: String,
    },

    #[error("{server}: no reply during {stage} within {after:?}")]
    Timeout {
        server: String,
        stage: Stage,
        after: Duration,
    },

    #[error("{server}: TLS failed: {detail}")]
    Tls { server: String, detail: String },

    #[error("{server} does not offer STARTTLS, and TLS is required")]
    StartTlsUnavailable { server: String },

    #[error(
        "refusing to send credentials to {server} over an unencrypted connection \
         (use TLS, or allow plain-text AUTH explicitly)"
    )]
    PlaintextAuth { server: String },

    #[error(
        "{server} offers no authentication mechanism this client supports (PLAIN, LOGIN){}",
        if *.offered { "" } else { "; it offers no AUTH at all" }
    )]
    AuthUnsupported { server: String, offered: bool },

    #[error("{server}: authentication failed: {reply}")]
    AuthFailed { server: String, reply: Reply },

    #[error("{server}: {stage} refused: {reply}")]
    Rejected {
        server: String,
        stage: Stage,
        reply: Reply,
    },

    #[error("{server}: every recipient was refused: {}", list_refusals(.refusals))]
    AllRecipientsRefused {
        server: String,
        refusals: Vec<Refusal>,
    },

    #[error("SparkPost API: HTTP {status}: {summary}")]
    Api {
        status: u16,
        summary: String,
        errors: Vec<ApiErrorDetail>,
        retry_after: Option<Duration>,
    },

    #[error("SparkPost API: {detail}")]
    Http {
        detail: String,
        timeout: bool,
        /// The request may have reached the API.
        uncertain: bool,
    },

    #[error(
        "SparkPost API: HTTP {status} with an unreadable body ({detail}); \
         the transmission may have been accepted"
    )]
    ApiReply { status: u16, detail: String },

    #[error("SparkPost API: every recipient ({rejected}) was rejected (transmission {id})")]
    ApiAllRejected { id: String, rejected: u64 },

    #[error("cannot {action} {}: {source}", .path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: io::Error,
    },

    #[error("the sender was shut down")]
    Closed,

    #[error("{message}")]
    Custom { transient: bool, message: String },
}

fn list_refusals(refusals: &[Refusal]) -> String {
    refusals
        .iter()
        .map(|r| format!("<{}> {}", r.recipient(), r.reply()))
        .collect::<Vec<_>>()
        .join("; ")
}

impl From<Repr> for SendError {
    fn from(repr: Repr) -> Self {
        Self {
            repr: Box::new(repr),
            attempts: 1,
        }
    }
}

impl From<EnvelopeError> for SendError {
    fn from(e: EnvelopeError) -> Self {
        Repr::Envelope(e).into()
    }
}

impl SendError {
    /// A temporary failure, for [`Sender`](crate::Sender) implementations outside this crate.
    pub fn transient(message: impl Into<String>) -> Self {
        Repr::Custom {
            transient: true,
            message: message.into(),
        }
        .into()
    }

    /// A permanent failure, for [`Sender`](crate::Sender) implementations outside this crate.
    pub fn permanent(message: impl Into<String>) -> Self {
        Repr::Custom {
            transient: false,
            message: message.into(),
        }
        .into()
    }

    pub(crate) fn config(message: impl Into<String>) -> Self {
        Repr::Config(message.into()).into()
    }

    pub(crate) fn message(message: impl Into<String>) -> Self {
        Repr::Message(message.into()).into()
    }

    pub(crate) fn repr(&self) -> &Repr {
        &self.repr
    }

    /// How many attempts were made before giving up: 1 unless a
    /// [`RetryPolicy`](crate::RetryPolicy) retried.
    pub fn attempts(&self) -> u32 {
        self.attempts
    }

    /// The same error with every appearance of a secret (in `forms`) in the server's words
    /// masked: a server may quote anything, even before AUTH was sent, and what reaches the
    /// caller never holds the password.
    pub(crate) fn scrubbed(mut self, forms: &[Zeroizing<String>]) -> Self {
        if forms.is_empty() {
            return self;
        }
        match &mut *self.repr {
            Repr::Rejected { reply, .. } | Repr::AuthFailed { reply, .. } => reply.scrub(forms),
            Repr::AllRecipientsRefused { refusals, .. } => {
                refusals.iter_mut().for_each(|r| r.scrub(forms));
            }
            Repr::ConnectionLost { detail, .. } | Repr::Tls { detail, .. } => {
                *detail = scrub(detail, forms);
            }
            Repr::Config(text) | Repr::Message(text) | Repr::Custom { message: text, .. } => {
                *text = scrub(text, forms);
            }
            _ => {}
        }
        self
    }

    pub(crate) fn with_attempts(mut self, attempts: u32) -> Self {
        self.attempts = attempts.max(1);
        self
    }

    /// Trying again later may succeed: a 4xx reply, a 429 or 5xx from the API, a lost
    /// connection, a timeout. Always `!is_permanent()`.
    pub fn is_transient(&self) -> bool {
        match self.repr() {
            Repr::Connect { .. } | Repr::ConnectionLost { .. } | Repr::Timeout { .. } => true,
            Repr::Rejected { reply, .. } | Repr::AuthFailed { reply, .. } => reply.is_transient(),
            Repr::AllRecipientsRefused { refusals, .. } => {
                refusals.iter().any(Refusal::is_transient)
            }
            Repr::Api { status, .. } => *status == 429 || *status >= 500,
            Repr::Http { .. } => true,
            Repr::Custom { transient, .. } => *transient,
            Repr::Config(_)
            | Repr::Envelope(_)
            | Repr::Message(_)
            | Repr::Tls { .. }
            | Repr::StartTlsUnavailable { .. }
            | Repr::PlaintextAuth { .. }
            | Repr::AuthUnsupported { .. }
            | Repr::ApiReply { .. }
            | Repr::ApiAllRejected { .. }
            | Repr::Io { .. }
            | Repr::Closed => false,
        }
    }

    /// Trying again will fail the same way: a 5xx reply, an authentication or TLS failure,
    /// a 4xx from the API other than 429, a bad configuration or message.
    pub fn is_permanent(&self) -> bool {
        !self.is_transient()
    }

    /// The credentials were refused (`535`), are required (`530`, HTTP 401/403), or cannot
    /// be used (no common mechanism).
    pub fn is_auth(&self) -> bool {
        match self.repr() {
            Repr::AuthFailed { .. } | Repr::AuthUnsupported { .. } => true,
            Repr::Rejected { reply, .. } => {
                reply.code() == 530 || matches!(reply.enhanced_code(), Some((5, 7, 0 | 8)))
            }
            Repr::Api { status, .. } => *status == 401 || *status == 403,
            _ => false,
        }
    }

    /// TLS failed (handshake, certificate) or was required and not available, or
    /// credentials would have gone over an unencrypted connection.
    pub fn is_tls(&self) -> bool {
        matches!(
            self.repr(),
            Repr::Tls { .. } | Repr::StartTlsUnavailable { .. } | Repr::PlaintextAuth { .. }
        )
    }

    /// Which TLS problem this is, when [`is_tls`](Self::is_tls).
    pub fn tls_problem(&self) -> Option<TlsProblem> {
        match self.repr() {
            Repr::Tls { detail, .. } => {
                Some(if detail.to_ascii_lowercase().contains("certificate") {
                    TlsProblem::Certificate
                } else {
                    TlsProblem::Handshake
                })
            }
            Repr::StartTlsUnavailable { .. } => Some(TlsProblem::StartTlsUnavailable),
            Repr::PlaintextAuth { .. } => Some(TlsProblem::PlaintextAuth),
            _ => None,
        }
    }

    /// The server or API did not answer in time.
    pub fn is_timeout(&self) -> bool {
        matches!(
            self.repr(),
            Repr::Timeout { .. } | Repr::Http { timeout: true, .. }
        )
    }

    /// The configuration, envelope or message is unusable; nothing was sent.
    pub fn is_config(&self) -> bool {
        matches!(
            self.repr(),
            Repr::Config(_) | Repr::Envelope(_) | Repr::Message(_) | Repr::PlaintextAuth { .. }
        )
    }

    /// The API asked us to slow down (HTTP 429).
    pub fn is_rate_limited(&self) -> bool {
        matches!(self.repr(), Repr::Api { status: 429, .. })
    }

    /// The message may have been accepted even though no success was seen: the connection
    /// was lost or timed out after the final dot, or the API's reply to the request could
    /// not be read. Retrying may deliver a duplicate.
    pub fn is_delivery_uncertain(&self) -> bool {
        match self.repr() {
            Repr::ConnectionLost { stage, .. } | Repr::Timeout { stage, .. } => {
                *stage == Stage::DataEnd
            }
            Repr::Http { uncertain, .. } => *uncertain,
            Repr::ApiReply { status, .. } => (200..300).contains(status),
            _ => false,
        }
    }

    /// The SMTP server's reply that caused the failure, verbatim.
    pub fn reply(&self) -> Option<&Reply> {
        match self.repr() {
            Repr::Rejected { reply, .. } | Repr::AuthFailed { reply, .. } => Some(reply),
            _ => None,
        }
    }

    /// The per-recipient refusals, when every recipient was refused.
    pub fn refusals(&self) -> &[Refusal] {
        match self.repr() {
            Repr::AllRecipientsRefused { refusals, .. } => refusals,
            _ => &[],
        }
    }

    /// Where in the SMTP exchange the failure happened, or [`Stage::Http`].
    pub fn stage(&self) -> Option<Stage> {
        match self.repr() {
            Repr::Connect { .. } => Some(Stage::Connect),
            Repr::ConnectionLost { stage, .. }
            | Repr::Timeout { stage, .. }
            | Repr::Rejected { stage, .. } => Some(*stage),
            Repr::Tls { .. } | Repr::StartTlsUnavailable { .. } => Some(Stage::Tls),
            Repr::PlaintextAuth { .. } | Repr::AuthUnsupported { .. } | Repr::AuthFailed { .. } => {
                Some(Stage::Auth)
            }
            Repr::AllRecipientsRefused { .. } => Some(Stage::RcptTo),
            Repr::Api { .. } | Repr::Http { .. } | Repr::ApiReply { .. } => Some(Stage::Http),
            _ => None,
        }
    }

    /// The API's HTTP status.
    pub fn http_status(&self) -> Option<u16> {
        match self.repr() {
            Repr::Api { status, .. } | Repr::ApiReply { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// The API's `errors` array.
    pub fn api_errors(&self) -> &[ApiErrorDetail] {
        match self.repr() {
            Repr::Api { errors, .. } => errors,
            _ => &[],
        }
    }

    /// How long the API asked us to wait (`Retry-After` on a 429).
    pub fn retry_after(&self) -> Option<Duration> {
        match self.repr() {
            Repr::Api { retry_after, .. } => *retry_after,
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classification() {
        let e: SendError = Repr::Rejected {
            server: "s:25".into(),
            stage: Stage::MailFrom,
            reply: Reply::new(530, "5.7.1 Authorization required"),
        }
        .into();
        assert!(e.is_auth() && e.is_permanent() && !e.is_transient());
        assert_eq!(
            e.to_string(),
            "s:25: MAIL FROM refused: 530 5.7.1 Authorization required"
        );

        let e: SendError = Repr::Rejected {
            server: "s:25".into(),
            stage: Stage::RcptTo,
            reply: Reply::new(550, "5.7.1 relaying denied"),
        }
        .into();
        assert!(!e.is_auth() && e.is_permanent());
        assert_eq!(
            e.reply().map(ToString::to_string).as_deref(),
            Some("550 5.7.1 relaying denied")
        );

        let e: SendError = Repr::Api {
            status: 429,
            summary: "Too many requests".into(),
            errors: vec![],
            retry_after: Some(Duration::from_secs(2)),
        }
        .into();
        assert!(e.is_transient() && e.is_rate_limited());
        assert_eq!(e.retry_after(), Some(Duration::from_secs(2)));

        let e: SendError = Repr::Timeout {
            server: "s:25".into(),
            stage: Stage::DataEnd,
            after: Duration::from_secs(600),
        }
        .into();
        assert!(e.is_timeout() && e.is_transient() && e.is_delivery_uncertain());
        assert!(SendError::transient("x").is_transient());
        assert!(SendError::permanent("x").is_permanent());
    }
}

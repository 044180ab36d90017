//! mail-send's errors in this crate's terms: the one mapping the session and AUTH share.

use std::time::Duration;

use crate::{
    error::{Repr, SendError, Stage},
    reply::Reply,
};

/// mail-send's error, in this crate's terms. mail-send's messages name the failure and
/// quote the server's reply; they never contain the command that was sent.
pub(crate) fn map_mail_send(
    e: mail_send::Error,
    server: &str,
    stage: Stage,
    waited: Duration,
) -> SendError {
    let server = server.to_owned();
    match e {
        mail_send::Error::Io(io) => Repr::ConnectionLost {
            server,
            stage,
            detail: io.to_string(),
        },
        mail_send::Error::UnparseableReply => Repr::ConnectionLost {
            server,
            stage,
            detail: "connection closed, or a reply that is not SMTP".to_owned(),
        },
        mail_send::Error::Timeout => Repr::Timeout {
            server,
            stage,
            after: waited,
        },
        mail_send::Error::Tls(e) => Repr::Tls {
            server,
            detail: e.to_string(),
        },
        mail_send::Error::UnexpectedReply(r) => Repr::Rejected {
            server,
            stage,
            reply: Reply::from_response(r),
        },
        mail_send::Error::AuthenticationFailed(r) => Repr::AuthFailed {
            server,
            reply: Reply::from_response(r),
        },
        mail_send::Error::MissingStartTls => Repr::StartTlsUnavailable { server },
        other => Repr::Custom {
            transient: false,
            message: format!("{server}: {stage}: {other}"),
        },
    }
    .into()
}

//! SMTP AUTH PLAIN and LOGIN, with the credentials kept out of every log and error.
//!
//! mail-send has its own `authenticate`, whose errors carry only the server's reply; this
//! one exists so that the encoded credentials live in zeroized buffers and the server's
//! reply is scrubbed of anything that looks like them.

use std::{fmt, time::Duration};

use base64ct::{Base64, Encoding};
use mail_send::SmtpClient;
use smtp_proto::{AUTH_LOGIN, AUTH_PLAIN};
use tokio::io::{AsyncRead, AsyncWrite};
use zeroize::Zeroizing;

use super::{Config, mail_send_error::map_mail_send, wire};
use crate::{
    error::{Repr, SendError, Stage},
    reply::Reply,
    secret::{Secret, scrub},
};

/// A user name and password for SMTP AUTH.
///
/// `Debug` shows the user name and `********` for the password.
#[derive(Clone)]
pub struct Credentials {
    username: String,
    password: Secret,
}

impl Credentials {
    /// Credentials for AUTH PLAIN or LOGIN.
    pub fn new(username: impl Into<String>, password: Secret) -> Self {
        Self {
            username: username.into(),
            password,
        }
    }

    /// SparkPost's SMTP relay: user `SMTP_Injection`, an API key as the password.
    pub fn sparkpost(api_key: Secret) -> Self {
        Self::new("SMTP_Injection", api_key)
    }

    /// The user name.
    pub fn username(&self) -> &str {
        &self.username
    }

    pub(crate) fn password(&self) -> &Secret {
        &self.password
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("username", &self.username)
            .field("password", &self.password)
            .finish()
    }
}

/// Authenticates with PLAIN when offered, else LOGIN.
///
/// At trace level the conversation shows `AUTH PLAIN <redacted>`, `AUTH LOGIN` and
/// `<redacted>` for every line that carries the user name or the password.
pub(crate) async fn authenticate<S: AsyncRead + AsyncWrite + Unpin>(
    client: &mut SmtpClient<S>,
    config: &Config,
    credentials: &Credentials,
    offered: u64,
    timeout: Duration,
) -> Result<(), SendError> {
    let server = config.server.as_str();
    client.timeout = timeout;
    let cmd_err = |e| map_mail_send(e, server, Stage::Auth, timeout);
    let user = credentials.username.as_bytes();
    let pass = credentials.password.expose().as_bytes();

    let mechanism = if offered & AUTH_PLAIN != 0 {
        "PLAIN"
    } else if offered & AUTH_LOGIN != 0 {
        "LOGIN"
    } else {
        "none"
    };
    tracing::debug!(
        mechanism,
        user = credentials.username.as_str(),
        "authenticating"
    );
    let reply = if offered & AUTH_PLAIN != 0 {
        let mut blob = Zeroizing::new(Vec::with_capacity(user.len() + pass.len() + 2));
        blob.push(0);
        blob.extend_from_slice(user);
        blob.push(0);
        blob.extend_from_slice(pass);
        let encoded = Zeroizing::new(Base64::encode_string(&blob));
        let mut line = Zeroizing::new(String::with_capacity(encoded.len() + 13));
        line.push_str("AUTH PLAIN ");
        line.push_str(&encoded);
        line.push_str("\r\n");
        let shown = format!("AUTH PLAIN {}", wire::REDACTED);
        let mut reply = wire::cmd_secret(client, config, line.as_bytes(), Some(&shown))
            .await
            .map_err(cmd_err)?;
        if reply.code == 334 {
            // A server that wants the initial response on its own line.
            let mut line = Zeroizing::new(String::with_capacity(encoded.len() + 2));
            line.push_str(&encoded);
            line.push_str("\r\n");
            reply = wire::cmd_secret(client, config, line.as_bytes(), None)
                .await
                .map_err(cmd_err)?;
        }
        reply
    } else if offered & AUTH_LOGIN != 0 {
        let mut reply = wire::cmd(client, config, b"AUTH LOGIN\r\n")
            .await
            .map_err(cmd_err)?;
        // The user name, then the password, each only after a 334 challenge.
        for answer in [user, pass] {
            if reply.code != 334 {
                break;
            }
            let mut line = Zeroizing::new(Base64::encode_string(answer));
            line.push_str("\r\n");
            reply = wire::cmd_secret(client, config, line.as_bytes(), None)
                .await
                .map_err(cmd_err)?;
        }
        reply
    } else {
        tracing::debug!(offered, "no AUTH mechanism we support is offered");
        return Err(Repr::AuthUnsupported {
            server: server.to_owned(),
            offered: offered != 0,
        }
        .into());
    };

    if reply.code == 235 {
        tracing::debug!(mechanism, "AUTH accepted");
        return Ok(());
    }
    let reply = Reply::from_response(reply).map_text(|t| scrub(t, &config.secret_forms));
    tracing::debug!(mechanism, %reply, "AUTH refused");
    Err(Repr::AuthFailed {
        server: server.to_owned(),
        reply,
    }
    .into())
}

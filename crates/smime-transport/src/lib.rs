//! Inject finished messages (S/MIME or not) into mail platforms: any SMTP server, SparkPost
//! by its SMTP relay or its Transmissions API, on-premises PowerMTA and Momentum.
//!
//! # Which API should I use?
//!
//! Everything goes through the [`Sender`] trait: raw message bytes plus an explicit
//! [`Envelope`] (`MAIL FROM` and every `RCPT TO`, Bcc included) in, a [`Receipt`] or a
//! [`SendError`] out. The bytes are sent as given: nothing that was signed is touched.
//!
//! - **An SMTP server** (PowerMTA, Momentum, Postfix, SparkPost's relay):
//!   [`SmtpSender`]. Start from [`SmtpSender::builder`] (`STARTTLS` required, certificates
//!   checked), [`SmtpSender::relay`] (implicit TLS, port 465) or [`SmtpSender::sparkpost`]
//!   (relay host, `SMTP_Injection`, tracking off through [`MsysApi`]). An MTA on a private
//!   network without TLS takes `.tls(TlsMode::None)`. Connections are pooled and reused,
//!   commands pipelined when the server allows it.
//! - **The SparkPost Transmissions API**: [`SparkPostSender`], base URL from
//!   `SPARKPOST_HOST` via [`sparkpost_base_url`].
//! - **A dry run**: [`FileSender`] writes each message and its envelope to a directory.
//! - **Tests**: [`MemorySender`] records messages and can be told to fail.
//!
//! Then send through a [`Dispatcher`]: bounded concurrency over one sender and the shared
//! [`RetryPolicy`] (transient failures retried with backoff, permanent ones not). A sender
//! on its own makes exactly one attempt per call; [`Retrying`] adds the policy to a single
//! sender.
//!
//! Errors are opaque and answer questions: [`SendError::is_transient`],
//! [`is_permanent`](SendError::is_permanent), [`is_auth`](SendError::is_auth),
//! [`is_tls`](SendError::is_tls), [`is_timeout`](SendError::is_timeout), with the
//! server's reply verbatim in [`SendError::reply`]. Passwords and API keys are held in a
//! [`Secret`] and appear in no error, `Debug` or `Display`.
//!
//! ```
//! use std::sync::Arc;
//! use smime_transport::{Dispatcher, Envelope, MemorySender, Recipient, RetryPolicy, Sender};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! // In real use: Arc::new(SmtpSender::builder("mta.example.com", 2525).build()?)
//! let sender: Arc<dyn Sender> = Arc::new(MemorySender::new());
//! let dispatcher = Dispatcher::new(sender.clone()).retry_policy(RetryPolicy::default());
//!
//! let envelope = Envelope::new(
//!     "alice@example.com",
//!     [Recipient::new("bob@example.net").with_name("Bob"), "hidden@example.org".into()],
//! )?;
//! let receipt = dispatcher.send(&envelope, b"Subject: hi\r\n\r\nhello\r\n").await?;
//! assert_eq!(receipt.accepted_count(), 2);
//! sender.shutdown().await?;
//! # Ok(()) }
//! ```

#![forbid(unsafe_code)]
#![warn(missing_docs)]

#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod __fuzz;
mod dispatch;
mod envelope;
mod error;
mod file;
mod memory;
mod receipt;
mod reply;
mod retry;
mod secret;
mod sender;
mod smtp;
mod sparkpost;

pub use dispatch::{Dispatcher, Job, Slot, Summary};
pub use envelope::{Envelope, EnvelopeError, Recipient};
pub use error::{ApiErrorDetail, SendError, Stage, TlsProblem};
pub use file::FileSender;
pub use memory::{MemorySender, SentMessage};
pub use receipt::{Receipt, Refusal};
pub use reply::Reply;
pub use retry::{RetryCause, RetryNotice, RetryPolicy, Retrying};
pub use secret::Secret;
pub use sender::Sender;
pub use smtp::{
    Credentials, MsysApi, SPARKPOST_EU_SMTP_HOST, SPARKPOST_SMTP_HOST, SmtpSender,
    SmtpSenderBuilder, Timeouts, TlsMode,
};
pub use sparkpost::{
    SPARKPOST_API, SPARKPOST_EU_API, SparkPostBuilder, SparkPostSender, sparkpost_base_url,
};

//! The [`Sender`] trait: raw bytes and an explicit envelope in, a receipt out.

use std::{fmt::Debug, sync::Arc};

use async_trait::async_trait;

use crate::{envelope::Envelope, error::SendError, receipt::Receipt};

/// Something that injects finished messages: an SMTP server, the SparkPost API, a
/// directory, memory.
///
/// The message is sent as given (the bytes S/MIME signed), to exactly the envelope's
/// recipients: `To`, `Cc` and `Bcc` alike, whatever the headers say. One call makes one
/// attempt; retries are the [`Dispatcher`](crate::Dispatcher)'s (or
/// [`Retrying`](crate::Retrying)'s) business, so that every caller gets the same policy.
///
/// The trait is object safe: the CLI holds an `Arc<dyn Sender>`.
#[async_trait]
pub trait Sender: Send + Sync + Debug {
    /// Sends `message` to the envelope's recipients. `Ok` means at least one recipient
    /// was accepted; check [`Receipt::rejected`] for the others.
    async fn send(&self, envelope: &Envelope, message: &[u8]) -> Result<Receipt, SendError>;

    /// Closes idle connections politely (`QUIT`). Sending after this fails.
    async fn shutdown(&self) -> Result<(), SendError> {
        Ok(())
    }
}

/// `Sender` for smart pointers to a sender: each call goes to the sender pointed to.
macro_rules! forward_sender {
    ($($pointer:ident),*) => {$(
        #[async_trait]
        impl<S: Sender + ?Sized> Sender for $pointer<S> {
            async fn send(&self, envelope: &Envelope, message: &[u8]) -> Result<Receipt, SendError> {
                (**self).send(envelope, message).await
            }

            async fn shutdown(&self) -> Result<(), SendError> {
                (**self).shutdown().await
            }
        }
    )*};
}

forward_sender!(Arc, Box);

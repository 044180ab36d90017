//! A [`Sender`] that records messages in memory, for tests.

use std::{
    collections::VecDeque,
    sync::{Mutex, MutexGuard},
};

use async_trait::async_trait;

use crate::{envelope::Envelope, error::SendError, receipt::Receipt, sender::Sender};

/// A message a [`MemorySender`] accepted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SentMessage {
    envelope: Envelope,
    message: Vec<u8>,
}

impl SentMessage {
    /// Its envelope.
    pub fn envelope(&self) -> &Envelope {
        &self.envelope
    }

    /// Its bytes, exactly as passed to [`Sender::send`].
    pub fn message(&self) -> &[u8] {
        &self.message
    }
}

#[derive(Debug, Default)]
struct State {
    sent: Vec<SentMessage>,
    failures: VecDeque<SendError>,
    attempts: usize,
}

/// Records every message in memory; can be told to fail the next sends.
///
/// ```
/// use smime_transport::{Envelope, MemorySender, SendError, Sender};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let sender = MemorySender::new();
/// let envelope = Envelope::new("a@example.com", ["b@example.net"]).expect("valid");
/// sender.fail_next(SendError::transient("451 4.3.0 try again"));
/// assert!(sender.send(&envelope, b"x").await.is_err());
/// assert!(sender.send(&envelope, b"x").await.is_ok());
/// assert_eq!(sender.messages().len(), 1);
/// assert_eq!(sender.attempts(), 2);
/// # }
/// ```
#[derive(Debug, Default)]
pub struct MemorySender {
    state: Mutex<State>,
}

impl MemorySender {
    /// An empty recorder.
    pub fn new() -> Self {
        Self::default()
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Makes a coming send fail with `error` (queued: one error per send).
    pub fn fail_next(&self, error: SendError) {
        self.state().failures.push_back(error);
    }

    /// The messages accepted so far, in order.
    pub fn messages(&self) -> Vec<SentMessage> {
        self.state().sent.clone()
    }

    /// How many times `send` was called, failures included.
    pub fn attempts(&self) -> usize {
        self.state().attempts
    }

    /// Forgets the messages, queued failures and attempt count.
    pub fn clear(&self) {
        *self.state() = State::default();
    }
}

#[async_trait]
impl Sender for MemorySender {
    async fn send(&self, envelope: &Envelope, message: &[u8]) -> Result<Receipt, SendError> {
        let mut state = self.state();
        state.attempts += 1;
        if let Some(error) = state.failures.pop_front() {
            return Err(error);
        }
        state.sent.push(SentMessage {
            envelope: envelope.clone(),
            message: message.to_vec(),
        });
        let id = format!("memory-{}", state.sent.len());
        Ok(
            Receipt::new(envelope.addresses().map(str::to_owned).collect())
                .with_id(Some(id))
                .with_response("250 2.0.0 recorded in memory"),
        )
    }
}

//! What a successful send returns: ids, the server's words, who was accepted and refused.

use std::time::Duration;

use zeroize::Zeroizing;

use crate::{reply::Reply, secret::scrub};

/// A recipient the server refused, with its reply (`550 5.1.1 user unknown`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
    recipient: String,
    reply: Reply,
}

impl Refusal {
    /// A refusal of `recipient` with `reply`.
    pub fn new(recipient: impl Into<String>, reply: Reply) -> Self {
        Self {
            recipient: recipient.into(),
            reply,
        }
    }

    /// Masks every appearance of a secret in the reply.
    pub(crate) fn scrub(&mut self, forms: &[Zeroizing<String>]) {
        self.reply.scrub(forms);
    }

    /// The refused address.
    pub fn recipient(&self) -> &str {
        &self.recipient
    }

    /// The server's reply to `RCPT TO`.
    pub fn reply(&self) -> &Reply {
        &self.reply
    }

    /// Whether the refusal is temporary (4xx): the recipient may be tried again.
    pub fn is_transient(&self) -> bool {
        self.reply.is_transient()
    }
}

/// The outcome of a message the platform accepted for at least one recipient.
///
/// SMTP says which recipients were accepted and refused, each refusal with its reply. The
/// SparkPost API only gives counts: when it accepts some recipients and rejects others,
/// [`accepted`](Self::accepted) and [`rejected`](Self::rejected) are empty and the counts
/// tell how many of each.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Receipt {
    id: Option<String>,
    response: String,
    accepted: Vec<String>,
    rejected: Vec<Refusal>,
    accepted_count: usize,
    rejected_count: usize,
    elapsed: Duration,
    attempts: u32,
    encrypted: Option<bool>,
}

impl Receipt {
    /// A receipt for a message accepted for `accepted`; add the rest with the `with_`
    /// methods. For use by [`Sender`](crate::Sender) implementations.
    pub fn new(accepted: Vec<String>) -> Self {
        Self {
            id: None,
            response: String::new(),
            accepted_count: accepted.len(),
            accepted,
            rejected: Vec::new(),
            rejected_count: 0,
            elapsed: Duration::ZERO,
            attempts: 1,
            encrypted: None,
        }
    }

    /// A receipt that knows only how many recipients were accepted and rejected.
    pub fn from_counts(accepted: usize, rejected: usize) -> Self {
        Self {
            accepted_count: accepted,
            rejected_count: rejected,
            ..Self::new(Vec::new())
        }
    }

    /// Sets the queue id (SMTP) or transmission id (API).
    pub fn with_id(mut self, id: Option<String>) -> Self {
        self.id = id;
        self
    }

    /// Sets the server's final reply, verbatim.
    pub fn with_response(mut self, response: impl Into<String>) -> Self {
        self.response = response.into();
        self
    }

    /// The same receipt with every appearance of a secret in the server's words masked.
    pub(crate) fn scrubbed(mut self, forms: &[Zeroizing<String>]) -> Self {
        if forms.is_empty() {
            return self;
        }
        self.response = scrub(&self.response, forms);
        if let Some(id) = &mut self.id {
            *id = scrub(id, forms);
        }
        self.rejected.iter_mut().for_each(|r| r.scrub(forms));
        self
    }

    /// Sets the refused recipients (and their count).
    pub fn with_rejected(mut self, rejected: Vec<Refusal>) -> Self {
        self.rejected_count = rejected.len();
        self.rejected = rejected;
        self
    }

    /// Records whether the message crossed the network encrypted (TLS).
    pub fn with_encrypted(mut self, encrypted: bool) -> Self {
        self.encrypted = Some(encrypted);
        self
    }

    /// Sets the time the send took.
    pub fn with_elapsed(mut self, elapsed: Duration) -> Self {
        self.elapsed = elapsed;
        self
    }

    /// The queue id from the SMTP server's final reply (`queued as ...`), the SparkPost
    /// transmission id, or the file written; `None` when the server gave none.
    pub fn id(&self) -> Option<&str> {
        self.id.as_deref()
    }

    /// The server's final reply as written (`250 2.0.0 Ok: queued as 4F2A1`), or the API's
    /// response body.
    pub fn response(&self) -> &str {
        &self.response
    }

    /// The recipients accepted, when the platform says which.
    pub fn accepted(&self) -> &[String] {
        &self.accepted
    }

    /// The recipients refused, each with the server's reply, when the platform says which.
    pub fn rejected(&self) -> &[Refusal] {
        &self.rejected
    }

    /// How many recipients were accepted.
    pub fn accepted_count(&self) -> usize {
        self.accepted_count
    }

    /// How many recipients were refused.
    pub fn rejected_count(&self) -> usize {
        self.rejected_count
    }

    /// Whether every recipient was accepted.
    pub fn is_complete(&self) -> bool {
        self.rejected_count == 0
    }

    /// Time from taking a connection (or starting the request) to the final reply, summed
    /// over attempts when the send was retried.
    pub fn elapsed(&self) -> Duration {
        self.elapsed
    }

    /// Whether the message crossed the network encrypted: `Some(false)` when an SMTP session
    /// went without TLS (`TlsMode::None`, or no STARTTLS offered to an opportunistic
    /// client) or the API URL is `http://`; `None` when the sender does not say.
    pub fn encrypted(&self) -> Option<bool> {
        self.encrypted
    }

    /// How many attempts the send took (1 unless retried).
    pub fn attempts(&self) -> u32 {
        self.attempts
    }

    pub(crate) fn set_attempts(&mut self, attempts: u32) {
        self.attempts = attempts;
    }

    /// Folds in the receipt of a retry to some of this message's refused recipients.
    pub(crate) fn absorb_retry(&mut self, retried: &[String], outcome: RetryOutcome) {
        self.rejected.retain(|r| {
            !retried
                .iter()
                .any(|a| a.eq_ignore_ascii_case(r.recipient()))
        });
        match outcome {
            RetryOutcome::Delivered(receipt) => {
                self.accepted.extend(receipt.accepted);
                self.rejected.extend(receipt.rejected);
                if self.id.is_none() {
                    self.id = receipt.id;
                }
                self.response = receipt.response;
                self.elapsed += receipt.elapsed;
            }
            RetryOutcome::Refused(refusals) => self.rejected.extend(refusals),
        }
        self.accepted_count = self.accepted.len();
        self.rejected_count = self.rejected.len();
    }
}

/// What a retry to refused recipients gave.
pub(crate) enum RetryOutcome {
    /// Accepted for some.
    Delivered(Receipt),
    /// Refused again, with these replies.
    Refused(Vec<Refusal>),
}

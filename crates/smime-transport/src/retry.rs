//! The retry policy shared by every caller: transient failures are retried with
//! exponential backoff (or the wait the API asked for), permanent ones are not.

use std::{
    collections::hash_map::RandomState,
    fmt,
    hash::{BuildHasher, Hasher},
    sync::Arc,
    time::Duration,
};

use async_trait::async_trait;

use crate::{
    envelope::Envelope,
    error::SendError,
    receipt::{Receipt, RetryOutcome},
    sender::Sender,
};

/// When and how often to try again.
///
/// A transient error ([`SendError::is_transient`]) is retried, up to `max_attempts`
/// attempts in all; the first wait is `first_backoff` (5 s by default, SparkPost's advice
/// for 5xx and timeouts), doubling each time up to `max_backoff`. A 429 waits what its
/// `Retry-After` says, or a random 1–5 s. Recipients a server refused temporarily (`451`
/// to one `RCPT` while others were accepted) are retried on their own, with the same
/// message bytes. Permanent errors are returned at once.
///
/// ```
/// use std::time::Duration;
/// use smime_transport::RetryPolicy;
///
/// let quick = RetryPolicy::default()
///     .max_attempts(4)
///     .first_backoff(Duration::from_millis(10));
/// assert_eq!(quick.get_max_attempts(), 4);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    max_attempts: u32,
    first_backoff: Duration,
    max_backoff: Duration,
    rate_limit_wait: (Duration, Duration),
    max_retry_after: Duration,
    retry_uncertain: bool,
    retry_refused_recipients: bool,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 3,
            first_backoff: Duration::from_secs(5),
            max_backoff: Duration::from_secs(300),
            rate_limit_wait: (Duration::from_secs(1), Duration::from_secs(5)),
            max_retry_after: Duration::from_secs(600),
            retry_uncertain: true,
            retry_refused_recipients: true,
        }
    }
}

impl RetryPolicy {
    /// One attempt, no retries.
    pub fn no_retry() -> Self {
        Self {
            max_attempts: 1,
            ..Self::default()
        }
    }

    /// Attempts in all, the first included (default 3; at least 1).
    pub fn max_attempts(mut self, n: u32) -> Self {
        self.max_attempts = n.max(1);
        self
    }

    /// The wait before the first retry (default 5 s); later waits double.
    pub fn first_backoff(mut self, wait: Duration) -> Self {
        self.first_backoff = wait;
        self
    }

    /// The longest wait between attempts (default 300 s).
    pub fn max_backoff(mut self, wait: Duration) -> Self {
        self.max_backoff = wait;
        self
    }

    /// The range of the random wait after a 429 without `Retry-After` (default 1–5 s).
    pub fn rate_limit_wait(mut self, min: Duration, max: Duration) -> Self {
        self.rate_limit_wait = (min, max.max(min));
        self
    }

    /// The longest `Retry-After` honoured (default 600 s); a longer one is cut to this.
    pub fn max_retry_after(mut self, wait: Duration) -> Self {
        self.max_retry_after = wait;
        self
    }

    /// Whether to retry when the message may have been accepted already (connection lost
    /// after the final dot: see [`SendError::is_delivery_uncertain`]). Default true, as
    /// RFC 5321 §6.1 asks; a retry may then deliver a duplicate.
    pub fn retry_uncertain(mut self, retry: bool) -> Self {
        self.retry_uncertain = retry;
        self
    }

    /// Whether to retry recipients refused with a 4xx when others were accepted
    /// (default true).
    pub fn retry_refused_recipients(mut self, retry: bool) -> Self {
        self.retry_refused_recipients = retry;
        self
    }

    /// Attempts in all.
    pub fn get_max_attempts(&self) -> u32 {
        self.max_attempts
    }

    /// Whether `error`, after attempt number `attempt` (1-based), is worth another try.
    pub fn should_retry(&self, error: &SendError, attempt: u32) -> bool {
        attempt < self.max_attempts
            && error.is_transient()
            && (self.retry_uncertain || !error.is_delivery_uncertain())
    }

    /// The wait after failed attempt number `attempt` (1-based).
    pub fn backoff(&self, error: &SendError, attempt: u32) -> Duration {
        if let Some(wait) = error.retry_after() {
            return wait.min(self.max_retry_after);
        }
        if error.is_rate_limited() {
            let (min, max) = self.rate_limit_wait;
            return min + (max - min).mul_f64(random_unit());
        }
        self.exponential(attempt)
    }

    fn exponential(&self, attempt: u32) -> Duration {
        let doublings = attempt.saturating_sub(1).min(20);
        self.first_backoff
            .saturating_mul(1 << doublings)
            .min(self.max_backoff)
    }
}

/// Why a message is about to be tried again.
#[derive(Clone, Copy, Debug)]
#[non_exhaustive]
pub enum RetryCause<'a> {
    /// The whole attempt failed, temporarily.
    Failed(&'a SendError),
    /// The message was accepted, but this many recipients were refused temporarily: they
    /// are tried again on their own.
    RecipientsRefused(usize),
}

/// A retry about to happen, as told to a [`Dispatcher::on_retry`](crate::Dispatcher::on_retry)
/// observer before the wait.
#[derive(Clone, Copy, Debug)]
pub struct RetryNotice<'a> {
    attempt: u32,
    max_attempts: u32,
    wait: Duration,
    cause: RetryCause<'a>,
}

impl RetryNotice<'_> {
    /// The attempt about to be made: 2 for the first retry.
    pub fn attempt(&self) -> u32 {
        self.attempt
    }

    /// Attempts in all, as the policy allows.
    pub fn max_attempts(&self) -> u32 {
        self.max_attempts
    }

    /// How long until that attempt.
    pub fn wait(&self) -> Duration {
        self.wait
    }

    /// What failed.
    pub fn cause(&self) -> RetryCause<'_> {
        self.cause
    }
}

/// Something told of every retry before it waits (the CLI prints a line).
pub(crate) type RetryObserver = Arc<dyn Fn(&RetryNotice<'_>) + Send + Sync>;

/// What [`send_with_retry`] tells, and whom.
#[derive(Clone, Default)]
pub(crate) struct Observer(pub(crate) Option<RetryObserver>);

impl fmt::Debug for Observer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.0.is_some() { "Some(..)" } else { "None" })
    }
}

impl Observer {
    fn tell(&self, attempt: u32, policy: &RetryPolicy, wait: Duration, cause: RetryCause<'_>) {
        if let Some(observer) = &self.0 {
            observer(&RetryNotice {
                attempt,
                max_attempts: policy.max_attempts,
                wait,
                cause,
            });
        }
    }
}

/// A number in [0, 1) from the standard library's per-process random keys: enough to
/// spread clients that were rate-limited together.
fn random_unit() -> f64 {
    let mut hasher = RandomState::new().build_hasher();
    hasher.write_u64(0x5eed);
    (hasher.finish() >> 11) as f64 / (1u64 << 53) as f64
}

/// Sends with retries: what [`Retrying`] and each of the [`Dispatcher`](crate::Dispatcher)'s
/// slots do for a message.
pub(crate) async fn send_with_retry(
    sender: &dyn Sender,
    envelope: &Envelope,
    message: &[u8],
    policy: &RetryPolicy,
    observer: &Observer,
) -> Result<Receipt, SendError> {
    let mut attempt = 1;
    let mut receipt = loop {
        match sender.send(envelope, message).await {
            Ok(receipt) => break receipt,
            Err(error) if policy.should_retry(&error, attempt) => {
                let wait = policy.backoff(&error, attempt);
                tracing::debug!(
                    attempt,
                    max_attempts = policy.max_attempts,
                    ?wait,
                    %error,
                    "temporary failure: retrying"
                );
                observer.tell(attempt + 1, policy, wait, RetryCause::Failed(&error));
                tokio::time::sleep(wait).await;
                attempt += 1;
            }
            Err(error) => {
                tracing::debug!(attempt, transient = error.is_transient(), %error, "giving up");
                return Err(error.with_attempts(attempt));
            }
        }
    };

    // Some recipients refused with a 4xx: try them again on their own.
    while policy.retry_refused_recipients && attempt < policy.max_attempts {
        let retry: Vec<String> = receipt
            .rejected()
            .iter()
            .filter(|r| r.is_transient())
            .map(|r| r.recipient().to_owned())
            .collect();
        let Some(subset) = envelope.restricted_to(&retry) else {
            break;
        };
        let wait = policy.exponential(attempt);
        tracing::debug!(
            attempt,
            recipients = retry.len(),
            ?wait,
            "recipients refused temporarily: retrying them"
        );
        observer.tell(
            attempt + 1,
            policy,
            wait,
            RetryCause::RecipientsRefused(retry.len()),
        );
        tokio::time::sleep(wait).await;
        attempt += 1;
        match sender.send(&subset, message).await {
            Ok(again) => receipt.absorb_retry(&retry, RetryOutcome::Delivered(again)),
            Err(error) if !error.refusals().is_empty() => {
                receipt.absorb_retry(&retry, RetryOutcome::Refused(error.refusals().to_vec()));
            }
            // Any other failure: the earlier refusals stand.
            Err(_) => {}
        }
    }
    receipt.set_attempts(attempt);
    Ok(receipt)
}

/// A [`Sender`] that applies a [`RetryPolicy`] to another.
#[derive(Debug)]
pub struct Retrying<S> {
    inner: S,
    policy: RetryPolicy,
}

impl<S: Sender> Retrying<S> {
    /// Wraps `inner`.
    pub fn new(inner: S, policy: RetryPolicy) -> Self {
        Self { inner, policy }
    }

    /// The wrapped sender.
    pub fn inner(&self) -> &S {
        &self.inner
    }
}

#[async_trait]
impl<S: Sender> Sender for Retrying<S> {
    async fn send(&self, envelope: &Envelope, message: &[u8]) -> Result<Receipt, SendError> {
        send_with_retry(
            &self.inner,
            envelope,
            message,
            &self.policy,
            &Observer::default(),
        )
        .await
    }

    async fn shutdown(&self) -> Result<(), SendError> {
        self.inner.shutdown().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_caps() {
        let p = RetryPolicy::default()
            .first_backoff(Duration::from_millis(100))
            .max_backoff(Duration::from_millis(350));
        let e = SendError::transient("x");
        assert_eq!(p.backoff(&e, 1), Duration::from_millis(100));
        assert_eq!(p.backoff(&e, 2), Duration::from_millis(200));
        assert_eq!(p.backoff(&e, 3), Duration::from_millis(350));
        assert_eq!(p.backoff(&e, 40), Duration::from_millis(350));
    }

    #[test]
    fn only_transient_errors_are_retried() {
        let p = RetryPolicy::default().max_attempts(3);
        assert!(p.should_retry(&SendError::transient("x"), 1));
        assert!(p.should_retry(&SendError::transient("x"), 2));
        assert!(!p.should_retry(&SendError::transient("x"), 3));
        assert!(!p.should_retry(&SendError::permanent("x"), 1));
        assert!(!RetryPolicy::no_retry().should_retry(&SendError::transient("x"), 1));
    }

    #[test]
    fn random_unit_in_range() {
        for _ in 0..100 {
            let u = random_unit();
            assert!((0.0..1.0).contains(&u));
        }
    }
}

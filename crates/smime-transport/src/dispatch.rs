//! Many messages over one [`Sender`] with bounded concurrency and the shared retry policy.

use std::{
    fmt,
    sync::Arc,
    time::{Duration, Instant},
};

use tokio::{
    sync::{OwnedSemaphorePermit, Semaphore},
    task::JoinSet,
};

use crate::{
    envelope::Envelope,
    error::SendError,
    receipt::Receipt,
    retry::{Observer, RetryNotice, RetryPolicy, send_with_retry},
    sender::Sender,
};

/// One message to send: its envelope and its finished bytes.
#[derive(Clone, Debug)]
pub struct Job {
    envelope: Envelope,
    message: Arc<[u8]>,
}

impl Job {
    /// A job. The bytes are shared, not copied, between retries.
    pub fn new(envelope: Envelope, message: impl Into<Arc<[u8]>>) -> Self {
        Self {
            envelope,
            message: message.into(),
        }
    }

    /// The envelope.
    pub fn envelope(&self) -> &Envelope {
        &self.envelope
    }

    /// The message.
    pub fn message(&self) -> &[u8] {
        &self.message
    }
}

/// Counts for a finished run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    /// Messages accepted for at least one recipient.
    pub sent: usize,
    /// Messages that failed.
    pub failed: usize,
    /// Wall-clock time of the run.
    pub elapsed: Duration,
}

/// Sends messages over one [`Sender`], at most `concurrency` at a time (default 10, the
/// SparkPost limit: match the SMTP pool size), each with the [`RetryPolicy`].
///
/// The limit holds for every way of sending ([`send`](Self::send), [`send_all`](Self::send_all),
/// [`send_each`](Self::send_each), a [`Slot`]) and is shared by the dispatcher's clones. A
/// caller that makes messages as it goes takes a [`slot`](Self::slot) before making the
/// next one, so that no more than `concurrency` wait in memory.
///
/// The CLI and library users go through it, so both retry the same way.
///
/// ```
/// use std::sync::Arc;
/// use smime_transport::{Dispatcher, Envelope, Job, MemorySender};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let sender = Arc::new(MemorySender::new());
/// let dispatcher = Dispatcher::new(sender.clone()).concurrency(4);
/// let jobs = (0..3).map(|i| {
///     let envelope = Envelope::new("a@example.com", [format!("r{i}@example.net")]).expect("valid");
///     Job::new(envelope, b"Subject: hi\r\n\r\nhello\r\n".to_vec())
/// });
/// let results = dispatcher.send_all(jobs).await;
/// assert!(results.iter().all(Result::is_ok));
/// assert_eq!(sender.messages().len(), 3);
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Dispatcher {
    sender: Arc<dyn Sender>,
    concurrency: usize,
    /// `concurrency` permits, one per message in flight, shared by the clones.
    slots: Arc<Semaphore>,
    policy: RetryPolicy,
    observer: Observer,
}

impl fmt::Debug for Dispatcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Dispatcher")
            .field("sender", &self.sender)
            .field("concurrency", &self.concurrency)
            .field("policy", &self.policy)
            .field("on_retry", &self.observer)
            .finish()
    }
}

impl Dispatcher {
    /// A dispatcher over `sender` with concurrency 10 and the default [`RetryPolicy`].
    pub fn new(sender: Arc<dyn Sender>) -> Self {
        Self {
            sender,
            concurrency: 10,
            slots: Arc::new(Semaphore::new(10)),
            policy: RetryPolicy::default(),
            observer: Observer::default(),
        }
    }

    /// How many messages may be in flight at once (at least 1).
    pub fn concurrency(mut self, n: usize) -> Self {
        self.concurrency = n.max(1);
        self.slots = Arc::new(Semaphore::new(self.concurrency));
        self
    }

    /// The retry policy.
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.policy = policy;
        self
    }

    /// Calls `observer` before each retry's wait, with the attempt, the wait and what failed:
    /// for a caller that shows retries as they happen (the CLI prints
    /// `retrying in 4 s: ... (attempt 2 of 3)`). It runs on the sending task: keep it short.
    ///
    /// ```
    /// use std::sync::{Arc, Mutex};
    /// use std::time::Duration;
    /// use smime_transport::{Dispatcher, Envelope, MemorySender, RetryPolicy, SendError};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let sender = Arc::new(MemorySender::new());
    /// sender.fail_next(SendError::transient("451 try later"));
    /// let seen = Arc::new(Mutex::new(Vec::new()));
    /// let log = seen.clone();
    /// let dispatcher = Dispatcher::new(sender)
    ///     .retry_policy(RetryPolicy::default().first_backoff(Duration::from_millis(1)))
    ///     .on_retry(move |n| log.lock().unwrap().push((n.attempt(), n.max_attempts())));
    /// let envelope = Envelope::new("a@example.com", ["b@example.net"]).expect("valid");
    /// dispatcher.send(&envelope, b"Subject: hi\r\n\r\nhello\r\n").await.expect("sent");
    /// assert_eq!(*seen.lock().unwrap(), [(2, 3)]);
    /// # }
    /// ```
    pub fn on_retry(mut self, observer: impl Fn(&RetryNotice<'_>) + Send + Sync + 'static) -> Self {
        self.observer = Observer(Some(Arc::new(observer)));
        self
    }

    /// The sender.
    pub fn sender(&self) -> &Arc<dyn Sender> {
        &self.sender
    }

    /// Waits until fewer than `concurrency` messages are in flight, then holds a place for
    /// one more until the returned [`Slot`] is dropped. Take it before making the message
    /// it will carry: a producer then never holds more than `concurrency` messages waiting.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use smime_transport::{Dispatcher, Envelope, MemorySender};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let dispatcher = Dispatcher::new(Arc::new(MemorySender::new())).concurrency(2);
    /// let mut sending = tokio::task::JoinSet::new();
    /// for i in 0..5 {
    ///     let slot = dispatcher.slot().await; // at most 2 messages made and not sent
    ///     let envelope = Envelope::new("a@example.com", [format!("r{i}@example.net")])?;
    ///     let message = format!("Subject: {i}\r\n\r\nhello\r\n").into_bytes();
    ///     sending.spawn(async move { slot.send(&envelope, &message).await });
    /// }
    /// while let Some(result) = sending.join_next().await {
    ///     assert!(result?.is_ok());
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn slot(&self) -> Slot {
        // The semaphore is never closed: acquiring can only succeed.
        let permit = Arc::clone(&self.slots).acquire_owned().await.ok();
        Slot {
            dispatcher: self.clone(),
            _permit: permit,
        }
    }

    /// Sends one message with the retry policy, in a [`slot`](Self::slot) of its own.
    pub async fn send(&self, envelope: &Envelope, message: &[u8]) -> Result<Receipt, SendError> {
        self.slot().await.send(envelope, message).await
    }

    /// Sends every job; the results come back in the jobs' order.
    pub async fn send_all(
        &self,
        jobs: impl IntoIterator<Item = Job>,
    ) -> Vec<Result<Receipt, SendError>> {
        let mut results: Vec<Option<Result<Receipt, SendError>>> = Vec::new();
        self.send_each(jobs, |index, result| {
            if results.len() <= index {
                results.resize_with(index + 1, || None);
            }
            results[index] = Some(result);
        })
        .await;
        results
            .into_iter()
            .map(|r| r.unwrap_or_else(|| Err(SendError::permanent("the message was not sent"))))
            .collect()
    }

    /// Sends every job and calls `on_done(index, result)` as each finishes (in completion
    /// order, on the caller's task: print progress from there). Jobs are taken from the
    /// iterator only as slots free up, so a long run does not hold every message at once.
    pub async fn send_each<F>(&self, jobs: impl IntoIterator<Item = Job>, mut on_done: F) -> Summary
    where
        F: FnMut(usize, Result<Receipt, SendError>),
    {
        let started = Instant::now();
        let mut summary = Summary::default();
        let mut count = |result: &Result<Receipt, SendError>| match result {
            Ok(_) => summary.sent += 1,
            Err(_) => summary.failed += 1,
        };
        let mut running: JoinSet<(usize, Result<Receipt, SendError>)> = JoinSet::new();
        let mut finish =
            |joined: Result<(usize, Result<Receipt, SendError>), tokio::task::JoinError>,
             on_done: &mut F| {
                match joined {
                    Ok((index, result)) => {
                        count(&result);
                        on_done(index, result);
                    }
                    // A task that panicked: its index is lost with it. Senders do not panic.
                    Err(e) => {
                        let result =
                            Err(SendError::permanent(format!("a sending task failed: {e}")));
                        count(&result);
                    }
                }
            };

        for (index, job) in jobs.into_iter().enumerate() {
            let slot = loop {
                // Report what finished while waiting for a slot.
                tokio::select! {
                    slot = self.slot() => break slot,
                    Some(joined) = running.join_next() => finish(joined, &mut on_done),
                }
            };
            running.spawn(async move {
                let result = slot.send(&job.envelope, &job.message).await;
                (index, result)
            });
        }
        while let Some(joined) = running.join_next().await {
            finish(joined, &mut on_done);
        }
        summary.elapsed = started.elapsed();
        summary
    }
}

/// A place among a [`Dispatcher`]'s `concurrency` messages in flight, from
/// [`Dispatcher::slot`]; the place is free again when the slot is dropped.
#[derive(Debug)]
pub struct Slot {
    dispatcher: Dispatcher,
    /// `None` only if the semaphore were closed, which it never is.
    _permit: Option<OwnedSemaphorePermit>,
}

impl Slot {
    /// Sends one message with the dispatcher's retry policy.
    pub async fn send(&self, envelope: &Envelope, message: &[u8]) -> Result<Receipt, SendError> {
        let d = &self.dispatcher;
        send_with_retry(&*d.sender, envelope, message, &d.policy, &d.observer).await
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use async_trait::async_trait;

    use super::*;
    use crate::memory::MemorySender;

    fn job(i: usize) -> Job {
        let envelope =
            Envelope::new("a@example.com", [format!("r{i}@example.net")]).expect("valid envelope");
        Job::new(
            envelope,
            format!("Subject: {i}\r\n\r\nbody\r\n").into_bytes(),
        )
    }

    /// `job(i)`, sent through `d`.
    async fn send_job(d: &Dispatcher, i: usize) -> Result<Receipt, SendError> {
        let job = job(i);
        d.send(job.envelope(), job.message()).await
    }

    fn quick() -> RetryPolicy {
        RetryPolicy::default()
            .max_attempts(3)
            .first_backoff(Duration::from_millis(1))
    }

    #[tokio::test]
    async fn transient_errors_are_retried_permanent_ones_not() {
        let sender = Arc::new(MemorySender::new());
        sender.fail_next(SendError::transient("451 try later"));
        sender.fail_next(SendError::transient("451 try later"));
        let d = Dispatcher::new(sender.clone())
            .retry_policy(quick())
            .concurrency(1);
        let receipt = send_job(&d, 0).await.expect("third try");
        assert_eq!(receipt.attempts(), 3);
        assert_eq!(sender.attempts(), 3);

        sender.fail_next(SendError::permanent("550 no"));
        let err = send_job(&d, 1).await.expect_err("permanent");
        assert!(err.is_permanent());
        assert_eq!(err.attempts(), 1);
        assert_eq!(sender.attempts(), 4);

        for _ in 0..3 {
            sender.fail_next(SendError::transient("451 try later"));
        }
        let err = send_job(&d, 2).await.expect_err("gives up");
        assert!(err.is_transient());
        assert_eq!(err.attempts(), 3, "the error says how often it was tried");
        assert_eq!(sender.attempts(), 7);
    }

    #[tokio::test]
    async fn each_retry_is_told_before_its_wait() {
        let sender = Arc::new(MemorySender::new());
        for _ in 0..3 {
            sender.fail_next(SendError::transient("451 4.3.0 try later"));
        }
        let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
        let log = Arc::clone(&seen);
        let d = Dispatcher::new(sender.clone())
            .retry_policy(quick().first_backoff(Duration::from_millis(2)))
            .on_retry(move |n| {
                let cause = match n.cause() {
                    crate::RetryCause::Failed(e) => e.to_string(),
                    other => format!("{other:?}"),
                };
                log.lock()
                    .expect("the log")
                    .push((n.attempt(), n.max_attempts(), n.wait(), cause));
            });
        send_job(&d, 0).await.expect_err("three failures");
        let seen = seen.lock().expect("the log").clone();
        let ms = Duration::from_millis;
        assert_eq!(
            seen,
            [
                (2, 3, ms(2), "451 4.3.0 try later".to_owned()),
                (3, 3, ms(4), "451 4.3.0 try later".to_owned()),
            ]
        );
    }

    #[derive(Debug, Default)]
    struct Slow {
        now: AtomicUsize,
        max: AtomicUsize,
    }

    #[async_trait]
    impl Sender for Slow {
        async fn send(&self, envelope: &Envelope, _: &[u8]) -> Result<Receipt, SendError> {
            let n = self.now.fetch_add(1, Ordering::SeqCst) + 1;
            self.max.fetch_max(n, Ordering::SeqCst);
            tokio::time::sleep(Duration::from_millis(5)).await;
            self.now.fetch_sub(1, Ordering::SeqCst);
            Ok(Receipt::new(
                envelope.addresses().map(str::to_owned).collect(),
            ))
        }
    }

    #[tokio::test]
    async fn concurrency_is_bounded_and_order_kept() {
        let sender = Arc::new(Slow::default());
        let d = Dispatcher::new(sender.clone()).concurrency(3);
        let results = d.send_all((0..20).map(job)).await;
        assert_eq!(results.len(), 20);
        for (i, r) in results.iter().enumerate() {
            let receipt = r.as_ref().expect("sent");
            assert_eq!(receipt.accepted(), [format!("r{i}@example.net")]);
        }
        assert_eq!(sender.max.load(Ordering::SeqCst), 3);

        let mut seen = Vec::new();
        let summary = d
            .send_each((0..5).map(job), |i, r| {
                assert!(r.is_ok());
                seen.push(i);
            })
            .await;
        seen.sort_unstable();
        assert_eq!(seen, [0, 1, 2, 3, 4]);
        assert_eq!((summary.sent, summary.failed), (5, 0));
    }

    #[tokio::test]
    async fn slots_bound_every_way_of_sending_across_clones() {
        use tokio::time::timeout;
        let wait = Duration::from_millis(50);
        let sender = Arc::new(Slow::default());
        let d = Dispatcher::new(sender.clone()).concurrency(2);
        let first = d.slot().await;
        let second = d.clone().slot().await;
        // Both places are taken: a third slot, or a send, waits.
        assert!(timeout(wait, d.slot()).await.is_err());
        assert!(timeout(wait, send_job(&d, 0)).await.is_err());
        drop(first);
        let third = timeout(Duration::from_secs(5), d.slot())
            .await
            .expect("the dropped slot's place");
        third
            .send(job(1).envelope(), job(1).message())
            .await
            .expect("sent in its slot");
        drop((second, third));

        // Sends through clones, all at once: never more than two at the sender.
        let mut sending = JoinSet::new();
        for i in 0..8 {
            let d = d.clone();
            sending.spawn(async move { send_job(&d, i).await });
        }
        while let Some(result) = sending.join_next().await {
            assert!(result.expect("the task").is_ok());
        }
        assert_eq!(sender.max.load(Ordering::SeqCst), 2);
    }
}

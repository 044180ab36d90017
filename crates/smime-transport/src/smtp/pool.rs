//! The pool: at most `size` sessions at once, idle ones kept for reuse.

use std::{
    sync::{Mutex, MutexGuard},
    time::Duration,
};

use tokio::sync::{Semaphore, SemaphorePermit};

use super::session::Session;
use crate::error::{Repr, SendError};

/// Sessions not in use, and permits that bound how many are open at once.
#[derive(Debug)]
pub(crate) struct Pool {
    idle: Mutex<Vec<Session>>,
    permits: Semaphore,
}

impl Pool {
    pub(crate) fn new(size: usize) -> Self {
        Self {
            idle: Mutex::new(Vec::with_capacity(size)),
            permits: Semaphore::new(size),
        }
    }

    fn idle(&self) -> MutexGuard<'_, Vec<Session>> {
        // A panic elsewhere cannot leave the list inconsistent: keep using it.
        self.idle.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Waits for a free slot (one open session per slot).
    pub(crate) async fn slot(&self) -> Result<SemaphorePermit<'_>, SendError> {
        self.permits
            .acquire()
            .await
            .map_err(|_| SendError::from(Repr::Closed))
    }

    /// The most recently used idle session that has not been idle longer than
    /// `max_idle`; older ones are returned separately to be closed.
    pub(crate) fn take(&self, max_idle: Duration) -> (Option<Session>, Vec<Session>) {
        let mut idle = self.idle();
        let (expired, fresh): (Vec<_>, Vec<_>) = idle
            .drain(..)
            .partition(|s| s.idle_for_longer_than(max_idle));
        *idle = fresh;
        (idle.pop(), expired)
    }

    /// Returns a session for reuse.
    pub(crate) fn put(&self, session: Session) {
        self.idle().push(session);
    }

    /// Stops handing out slots and returns every idle session.
    pub(crate) fn close(&self) -> Vec<Session> {
        self.permits.close();
        std::mem::take(&mut *self.idle())
    }
}

//! What the fake servers share, and the two smallest network doubles: a port where nothing
//! listens ([`closed_port`]) and a server that accepts and never answers ([`SilentServer`]).

use std::{
    io::ErrorKind,
    net::{SocketAddr, TcpListener, TcpStream},
    sync::{
        Arc, Mutex, MutexGuard,
        atomic::{AtomicBool, AtomicUsize, Ordering},
    },
    thread::JoinHandle,
    time::Duration,
};

use tokio::runtime::Runtime;

/// Where every double listens: 127.0.0.1, a free port.
pub(crate) const LOOPBACK: &str = "127.0.0.1:0";

/// Locks, carrying on after a panic elsewhere (a failed test must not hide behind another).
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// A server's own runtime: one worker thread (like `smtp-sink`, one process, one thread).
pub(crate) fn server_runtime() -> Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name("smime-testkit-server")
        .enable_all()
        .build()
        .expect("the server runtime")
}

/// A port on 127.0.0.1 where nothing listens (it was free a moment ago): a connection to it
/// is refused.
pub fn closed_port() -> u16 {
    let listener = TcpListener::bind(LOOPBACK).expect("bind 127.0.0.1");
    let port = listener.local_addr().expect("addr").port();
    drop(listener);
    port
}

/// Fails the test if `f` takes longer than `limit`.
pub async fn within<T>(limit: Duration, f: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(limit, f)
        .await
        .unwrap_or_else(|_| panic!("took longer than {limit:?}"))
}

/// A server on 127.0.0.1 that accepts every connection and never sends a byte (a greeting
/// or a response that never comes); it closes them when dropped.
#[derive(Debug)]
pub struct SilentServer {
    /// Where it listens.
    pub addr: SocketAddr,
    accepted: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl SilentServer {
    /// Starts it on a thread of its own.
    pub fn start() -> Self {
        let listener = TcpListener::bind(LOOPBACK).expect("bind 127.0.0.1");
        listener.set_nonblocking(true).expect("non-blocking");
        let addr = listener.local_addr().expect("addr");
        let accepted = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let (a, s) = (accepted.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            let mut held: Vec<TcpStream> = Vec::new();
            while !s.load(Ordering::SeqCst) {
                match listener.accept() {
                    Ok((stream, _)) => {
                        a.fetch_add(1, Ordering::SeqCst);
                        held.push(stream);
                    }
                    Err(e) if e.kind() == ErrorKind::WouldBlock => {
                        std::thread::sleep(Duration::from_millis(5));
                    }
                    Err(_) => break,
                }
            }
        });
        Self {
            addr,
            accepted,
            stop,
            thread: Some(thread),
        }
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// Connections accepted so far.
    pub fn accepted(&self) -> usize {
        self.accepted.load(Ordering::SeqCst)
    }
}

impl Drop for SilentServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use super::*;

    #[test]
    fn closed_port_refuses_connections() {
        let port = closed_port();
        let err = TcpStream::connect(("127.0.0.1", port)).expect_err("nothing listens");
        assert_eq!(err.kind(), ErrorKind::ConnectionRefused);
    }

    #[test]
    fn silent_server_accepts_and_says_nothing() {
        let server = SilentServer::start();
        let mut stream = TcpStream::connect(server.addr).expect("accepted");
        stream
            .set_read_timeout(Some(Duration::from_millis(200)))
            .expect("timeout");
        let mut byte = [0u8; 1];
        let err = stream.read(&mut byte).expect_err("no byte comes");
        assert!(
            matches!(err.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut),
            "{err}"
        );
        assert_eq!(server.accepted(), 1);
        drop(server);
        // Dropped: the connection is closed.
        stream.set_read_timeout(None).expect("timeout");
        assert_eq!(stream.read(&mut byte).expect("EOF"), 0);
    }
}

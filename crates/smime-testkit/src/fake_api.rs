//! A tiny HTTP/1.1 server on 127.0.0.1 standing in for the SparkPost Transmissions API:
//! keep-alive, Content-Length bodies, a responder chosen per test (status, body, headers such
//! as `Retry-After`, a delay), and every request kept with its headers (`Authorization`
//! included, for the secret checks).
//!
//! ```no_run
//! use smime_testkit::fake_api::{FakeApi, Response, script};
//!
//! // A synchronous test: 429 with Retry-After, then accepted (the last reply repeats).
//! let api = FakeApi::start_on_thread(script(vec![
//!     Response::error(429, "Too many requests", "1300").retry_after(1),
//!     Response::accepted("7000001", 1, 0),
//! ]));
//! println!("SPARKPOST_HOST={}", api.base_url());
//! ```

use std::{
    fmt,
    net::SocketAddr,
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, AtomicUsize, Ordering},
    },
    time::Duration,
};

use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{TcpListener, TcpStream},
    runtime::Runtime,
    task::JoinHandle,
};

use crate::servers::{LOOPBACK, lock, server_runtime};

/// One request as received.
#[derive(Debug, Clone)]
pub struct Request {
    /// The connection, from 1.
    pub conn: usize,
    /// `POST`, ...
    pub method: String,
    /// `/api/v1/transmissions`, ...
    pub path: String,
    /// Every header, in order, names as sent.
    pub headers: Vec<(String, String)>,
    /// The body (`Content-Length` bytes).
    pub body: Vec<u8>,
}

impl Request {
    /// The first header called `name` (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The body as JSON. Panics when it is not JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).expect("request body is JSON")
    }
}

/// One reply.
#[derive(Debug, Clone)]
pub struct Response {
    /// The HTTP status.
    pub status: u16,
    /// Headers besides `Content-Length`.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: String,
    /// How long to wait before answering.
    pub delay: Duration,
}

impl Response {
    /// `status` with a JSON content type and `body`.
    pub fn json(status: u16, body: impl Into<String>) -> Self {
        Self {
            status,
            headers: vec![("Content-Type".into(), "application/json".into())],
            body: body.into(),
            delay: Duration::ZERO,
        }
    }

    /// 200 with a transmission id and counts.
    pub fn accepted(id: &str, accepted: usize, rejected: usize) -> Self {
        Self::json(
            200,
            format!(
                r#"{{"results":{{"total_rejected_recipients":{rejected},"total_accepted_recipients":{accepted},"id":"{id}"}}}}"#
            ),
        )
    }

    /// An error status with the API's error shape.
    pub fn error(status: u16, message: &str, code: &str) -> Self {
        Self::json(
            status,
            format!(r#"{{"errors":[{{"message":"{message}","code":"{code}"}}]}}"#),
        )
    }

    /// Adds a header.
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Adds `Retry-After: seconds`.
    pub fn retry_after(self, seconds: u64) -> Self {
        self.header("Retry-After", &seconds.to_string())
    }

    /// Answers after `delay`.
    pub fn delayed(mut self, delay: Duration) -> Self {
        self.delay = delay;
        self
    }
}

/// Chooses the reply to the n-th request (from 0).
pub type Responder = Arc<dyn Fn(usize, &Request) -> Response + Send + Sync>;

/// A responder answering the n-th request with `replies[n]`, the last one repeating.
///
/// # Panics
///
/// When `replies` is empty.
pub fn script(replies: Vec<Response>) -> impl Fn(usize, &Request) -> Response + Send + Sync {
    assert!(!replies.is_empty(), "a script needs at least one reply");
    move |n, _| replies[n.min(replies.len() - 1)].clone()
}

/// A running stand-in; it stops when dropped.
pub struct FakeApi {
    /// Where it listens.
    pub addr: SocketAddr,
    requests: Arc<Mutex<Vec<Request>>>,
    connections: Arc<AtomicUsize>,
    served: Arc<AtomicUsize>,
    capture: Arc<AtomicBool>,
    task: JoinHandle<()>,
    runtime: Option<Runtime>,
}

impl fmt::Debug for FakeApi {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FakeApi")
            .field("addr", &self.addr)
            .field("connections", &self.connections())
            .field("served", &self.served())
            .finish_non_exhaustive()
    }
}

impl Drop for FakeApi {
    fn drop(&mut self) {
        self.task.abort();
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

impl FakeApi {
    /// Starts the stand-in on the current tokio runtime; `respond(n, request)` answers the
    /// n-th request (from 0).
    pub async fn start(
        respond: impl Fn(usize, &Request) -> Response + Send + Sync + 'static,
    ) -> Self {
        let listener = TcpListener::bind(LOOPBACK).await.expect("bind 127.0.0.1");
        Self::serve(listener, Arc::new(respond), None)
    }

    /// Starts the stand-in on a runtime thread of its own, for synchronous tests and benches.
    pub fn start_on_thread(
        respond: impl Fn(usize, &Request) -> Response + Send + Sync + 'static,
    ) -> Self {
        let runtime = server_runtime();
        let listener = runtime
            .block_on(TcpListener::bind(LOOPBACK))
            .expect("bind 127.0.0.1");
        let _entered = runtime.enter();
        Self::serve(listener, Arc::new(respond), Some(runtime))
    }

    fn serve(listener: TcpListener, respond: Responder, runtime: Option<Runtime>) -> Self {
        let addr = listener.local_addr().expect("addr");
        let requests = Arc::new(Mutex::new(Vec::new()));
        let connections = Arc::new(AtomicUsize::new(0));
        let served = Arc::new(AtomicUsize::new(0));
        let capture = Arc::new(AtomicBool::new(true));
        let shared = Shared {
            requests: requests.clone(),
            served: served.clone(),
            capture: capture.clone(),
            respond,
        };
        let c = connections.clone();
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let _ = stream.set_nodelay(true);
                let conn = c.fetch_add(1, Ordering::SeqCst) + 1;
                let shared = shared.clone();
                tokio::spawn(async move {
                    let _ = serve(stream, conn, &shared).await;
                });
            }
        });
        Self {
            addr,
            requests,
            connections,
            served,
            capture,
            task,
            runtime,
        }
    }

    /// Keeps the requests (the default), or only counts them: a bench's stand-in holds no
    /// bodies.
    pub fn capture(self, on: bool) -> Self {
        self.capture.store(on, Ordering::SeqCst);
        self
    }

    /// `http://127.0.0.1:PORT`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The requests so far (none kept with capture off).
    pub fn requests(&self) -> Vec<Request> {
        lock(&self.requests).clone()
    }

    /// Connections accepted.
    pub fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }

    /// Requests answered or being answered (counted with capture off too).
    pub fn served(&self) -> usize {
        self.served.load(Ordering::SeqCst)
    }
}

#[derive(Clone)]
struct Shared {
    requests: Arc<Mutex<Vec<Request>>>,
    served: Arc<AtomicUsize>,
    capture: Arc<AtomicBool>,
    respond: Responder,
}

async fn serve(mut stream: TcpStream, conn: usize, shared: &Shared) -> std::io::Result<()> {
    let finder = memchr::memmem::Finder::new(b"\r\n\r\n");
    let mut buf = Vec::with_capacity(64 * 1024);
    loop {
        // Headers.
        let head_end = loop {
            if let Some(pos) = finder.find(&buf) {
                break pos;
            }
            buf.reserve(64 * 1024);
            if stream.read_buf(&mut buf).await? == 0 {
                return Ok(());
            }
        };
        let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
        buf.drain(..head_end + 4);
        let mut lines = head.split("\r\n");
        let mut first = lines.next().unwrap_or("").split(' ');
        let method = first.next().unwrap_or("").to_owned();
        let path = first.next().unwrap_or("").to_owned();
        let headers: Vec<(String, String)> = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(n, v)| (n.trim().to_owned(), v.trim().to_owned()))
            .collect();
        let length = headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
            .and_then(|(_, v)| v.parse::<usize>().ok())
            .unwrap_or(0);
        let capture = shared.capture.load(Ordering::Relaxed);
        let body = if capture {
            while buf.len() < length {
                buf.reserve(64 * 1024);
                if stream.read_buf(&mut buf).await? == 0 {
                    return Ok(());
                }
            }
            buf.drain(..length).collect()
        } else {
            // Read and thrown away as it comes.
            let mut missing = length;
            loop {
                let used = missing.min(buf.len());
                buf.drain(..used);
                missing -= used;
                if missing == 0 {
                    break;
                }
                buf.reserve(64 * 1024);
                if stream.read_buf(&mut buf).await? == 0 {
                    return Ok(());
                }
            }
            Vec::new()
        };
        let request = Request {
            conn,
            method,
            path,
            headers,
            body,
        };
        let index = shared.served.fetch_add(1, Ordering::SeqCst);
        if capture {
            lock(&shared.requests).push(request.clone());
        }
        let response = (shared.respond)(index, &request);
        if !response.delay.is_zero() {
            tokio::time::sleep(response.delay).await;
        }
        let mut out = format!(
            "HTTP/1.1 {} {}\r\nContent-Length: {}\r\n",
            response.status,
            reason(response.status),
            response.body.len()
        );
        for (n, v) in &response.headers {
            out.push_str(&format!("{n}: {v}\r\n"));
        }
        out.push_str("\r\n");
        out.push_str(&response.body);
        stream.write_all(out.as_bytes()).await?;
        stream.flush().await?;
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        420 => "Policy Not Fulfilled",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Status",
    }
}

#[cfg(test)]
mod tests {
    use std::io::{BufRead, BufReader, Read, Write};

    use super::{FakeApi, Response, script};

    /// POSTs `body` on `stream` and returns (status line, body) of the reply.
    fn post(stream: &mut std::net::TcpStream, body: &str) -> (String, String) {
        write!(
            stream,
            "POST /api/v1/transmissions HTTP/1.1\r\nAuthorization: k3y\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )
        .expect("write");
        let mut reader = BufReader::new(stream.try_clone().expect("clone"));
        let mut status = String::new();
        reader.read_line(&mut status).expect("status");
        let mut length = 0;
        loop {
            let mut line = String::new();
            reader.read_line(&mut line).expect("header");
            if line == "\r\n" {
                break;
            }
            if let Some(v) = line.strip_prefix("Content-Length: ") {
                length = v.trim().parse().expect("length");
            }
        }
        let mut reply = vec![0; length];
        reader.read_exact(&mut reply).expect("body");
        (status, String::from_utf8(reply).expect("UTF-8"))
    }

    #[test]
    fn a_script_answers_in_order_and_repeats_its_last_reply() {
        let api = FakeApi::start_on_thread(script(vec![
            Response::error(429, "slow down", "1300").retry_after(2),
            Response::accepted("7", 1, 0),
        ]));
        let mut stream = std::net::TcpStream::connect(api.addr).expect("connect");
        let statuses: Vec<String> = (0..3)
            .map(|i| post(&mut stream, &format!("{{\"n\":{i}}}")).0)
            .collect();
        assert_eq!(
            statuses,
            [
                "HTTP/1.1 429 Too Many Requests\r\n",
                "HTTP/1.1 200 OK\r\n",
                "HTTP/1.1 200 OK\r\n"
            ]
        );
        let requests = api.requests();
        assert_eq!(requests.len(), 3);
        assert_eq!(requests[2].header("authorization"), Some("k3y"));
        assert_eq!(requests[2].json()["n"], 2);
        assert_eq!((api.connections(), api.served()), (1, 3));
    }

    #[test]
    fn without_capture_requests_are_only_counted() {
        let api = FakeApi::start_on_thread(|_, _| Response::accepted("1", 1, 0)).capture(false);
        let mut stream = std::net::TcpStream::connect(api.addr).expect("connect");
        let (status, body) = post(&mut stream, &"x".repeat(200_000));
        assert_eq!(status, "HTTP/1.1 200 OK\r\n");
        assert!(body.contains("\"id\":\"1\""), "{body}");
        assert!(api.requests().is_empty());
        assert_eq!(api.served(), 1);
    }
}

//! Shared by the CLI tests: running the binary, and two small stand-ins listening on
//! 127.0.0.1: an SMTP server scripted per test and a SparkPost Transmissions API.
#![allow(dead_code, clippy::unwrap_used, unreachable_pub)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

pub fn keys() -> String {
    repo().join("testdata/pki/keys").display().to_string()
}

pub fn corpus(name: &str) -> String {
    repo()
        .join("testdata/corpus")
        .join(name)
        .display()
        .to_string()
}

/// The binary with a clean environment for the variables it reads.
pub fn smime() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_smime"));
    for v in [
        "SMIME_KEYS",
        "SMTP_HOST",
        "SMTP_PORT",
        "SMTP_USER",
        "SMTP_PASSWORD",
        "SPARKPOST_API_KEY",
        "SPARKPOST_HOST",
        "SMIME_CA_FILE",
        "SMIME_LOG",
    ] {
        c.env_remove(v);
    }
    c
}

pub fn run(c: &mut Command) -> Output {
    c.output().unwrap()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Everything a run printed, for secret checks.
pub fn all_output(o: &Output) -> String {
    format!("{}{}", stdout(o), stderr(o))
}

/// What the fake SMTP server does at each step.
#[derive(Clone, Debug)]
pub struct SmtpScript {
    /// Reply to AUTH (after the credentials), e.g. "235 ok" or "535 5.7.8 bad".
    pub auth: String,
    /// Reply to MAIL FROM when no AUTH happened (e.g. "530 5.7.1 Authorization required").
    pub mail_without_auth: String,
    /// Reply to each RCPT TO.
    pub rcpt: String,
    /// Reply after the final dot.
    pub data_end: String,
}

impl Default for SmtpScript {
    fn default() -> Self {
        SmtpScript {
            auth: "235 2.7.0 Authentication successful".into(),
            mail_without_auth: "250 2.1.0 Ok".into(),
            rcpt: "250 2.1.5 Ok".into(),
            data_end: "250 2.0.0 Ok: queued as ABC123".into(),
        }
    }
}

/// A fake SMTP server: plain text (no STARTTLS offered), AUTH PLAIN and LOGIN.
pub struct FakeSmtp {
    pub port: u16,
    /// Every line the client sent (AUTH payloads included, so tests can see what crossed).
    pub transcript: Arc<Mutex<Vec<String>>>,
    /// Messages received (DATA contents).
    pub messages: Arc<Mutex<Vec<Vec<u8>>>>,
}

impl FakeSmtp {
    pub fn start(script: SmtpScript) -> FakeSmtp {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let transcript = Arc::new(Mutex::new(Vec::new()));
        let messages = Arc::new(Mutex::new(Vec::new()));
        let (t, m) = (Arc::clone(&transcript), Arc::clone(&messages));
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let (script, t, m) = (script.clone(), Arc::clone(&t), Arc::clone(&m));
                std::thread::spawn(move || {
                    let _ = serve_smtp(stream, &script, &t, &m);
                });
            }
        });
        FakeSmtp {
            port,
            transcript,
            messages,
        }
    }
}

fn serve_smtp(
    stream: TcpStream,
    script: &SmtpScript,
    transcript: &Mutex<Vec<String>>,
    messages: &Mutex<Vec<Vec<u8>>>,
) -> std::io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(20)))?;
    let mut out = stream.try_clone()?;
    let mut rd = BufReader::new(stream);
    let mut say = |line: &str| out.write_all(format!("{line}\r\n").as_bytes());
    say("220 fake.test ESMTP")?;
    let mut authed = false;
    let mut line = String::new();
    loop {
        line.clear();
        if rd.read_line(&mut line)? == 0 {
            return Ok(());
        }
        let cmd = line.trim_end().to_owned();
        transcript.lock().unwrap().push(cmd.clone());
        let upper = cmd.to_ascii_uppercase();
        if upper.starts_with("EHLO") {
            say("250-fake.test")?;
            say("250-AUTH PLAIN LOGIN")?;
            say("250-PIPELINING")?;
            say("250 8BITMIME")?;
        } else if upper.starts_with("AUTH PLAIN") {
            if upper.trim() == "AUTH PLAIN" {
                say("334 ")?;
                line.clear();
                rd.read_line(&mut line)?;
                transcript.lock().unwrap().push(line.trim_end().to_owned());
            }
            authed = script.auth.starts_with('2');
            say(&script.auth)?;
        } else if upper.starts_with("AUTH LOGIN") {
            let rest = cmd.get(10..).unwrap_or("").trim().to_owned();
            if rest.is_empty() {
                say("334 VXNlcm5hbWU6")?;
                line.clear();
                rd.read_line(&mut line)?;
                transcript.lock().unwrap().push(line.trim_end().to_owned());
            }
            say("334 UGFzc3dvcmQ6")?;
            line.clear();
            rd.read_line(&mut line)?;
            transcript.lock().unwrap().push(line.trim_end().to_owned());
            authed = script.auth.starts_with('2');
            say(&script.auth)?;
        } else if upper.starts_with("MAIL FROM") {
            if authed {
                say("250 2.1.0 Ok")?;
            } else {
                say(&script.mail_without_auth)?;
            }
        } else if upper.starts_with("RCPT TO") {
            say(&script.rcpt)?;
        } else if upper == "DATA" {
            say("354 End data with <CR><LF>.<CR><LF>")?;
            let mut data = Vec::new();
            loop {
                let mut l = Vec::new();
                if rd.read_until(b'\n', &mut l)? == 0 {
                    return Ok(());
                }
                if l == b".\r\n" {
                    break;
                }
                data.extend_from_slice(&l);
            }
            messages.lock().unwrap().push(data);
            say(&script.data_end)?;
        } else if upper == "RSET" || upper == "NOOP" {
            say("250 2.0.0 Ok")?;
        } else if upper == "QUIT" {
            say("221 2.0.0 Bye")?;
            return Ok(());
        } else {
            say("502 5.5.2 Error: command not recognized")?;
        }
    }
}

/// One scripted reply of the fake API: status, extra headers, body.
#[derive(Clone, Debug)]
pub struct ApiReply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl ApiReply {
    pub fn ok(id: &str, accepted: usize) -> Self {
        ApiReply {
            status: 200,
            headers: Vec::new(),
            body: format!(
                r#"{{"results":{{"total_rejected_recipients":0,"total_accepted_recipients":{accepted},"id":"{id}"}}}}"#
            ),
        }
    }
    pub fn error(status: u16, message: &str, code: &str) -> Self {
        ApiReply {
            status,
            headers: Vec::new(),
            body: format!(r#"{{"errors":[{{"message":"{message}","code":"{code}"}}]}}"#),
        }
    }
}

/// A stand-in for the Transmissions API: replies from a script (the last one repeats).
pub struct FakeApi {
    pub port: u16,
    /// (request line and headers, body) of every request.
    pub requests: Arc<Mutex<Vec<(String, String)>>>,
}

impl FakeApi {
    pub fn start(replies: Vec<ApiReply>) -> FakeApi {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let reqs = Arc::clone(&requests);
        let replies = Arc::new(Mutex::new(replies));
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let (reqs, replies) = (Arc::clone(&reqs), Arc::clone(&replies));
                std::thread::spawn(move || {
                    let _ = serve_api(stream, &reqs, &replies);
                });
            }
        });
        FakeApi { port, requests }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

fn serve_api(
    stream: TcpStream,
    requests: &Mutex<Vec<(String, String)>>,
    replies: &Mutex<Vec<ApiReply>>,
) -> std::io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(20)))?;
    let mut out = stream.try_clone()?;
    let mut rd = BufReader::new(stream);
    loop {
        let mut head = String::new();
        let mut len = 0usize;
        loop {
            let mut l = String::new();
            if rd.read_line(&mut l)? == 0 {
                return Ok(());
            }
            if l == "\r\n" {
                break;
            }
            if let Some(v) = l.to_ascii_lowercase().strip_prefix("content-length:") {
                len = v.trim().parse().unwrap_or(0);
            }
            head.push_str(&l);
        }
        let mut body = vec![0u8; len];
        rd.read_exact(&mut body)?;
        requests
            .lock()
            .unwrap()
            .push((head, String::from_utf8_lossy(&body).into_owned()));
        let reply = {
            let mut r = replies.lock().unwrap();
            if r.len() > 1 {
                r.remove(0)
            } else {
                r[0].clone()
            }
        };
        let mut resp = format!(
            "HTTP/1.1 {} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\n",
            reply.status,
            reply.body.len()
        );
        for (k, v) in &reply.headers {
            resp.push_str(&format!("{k}: {v}\r\n"));
        }
        resp.push_str("\r\n");
        resp.push_str(&reply.body);
        out.write_all(resp.as_bytes())?;
    }
}

/// Postfix from scripts/test.sh, or a printed reason to skip (a failure when
/// SMIME_REQUIRE_INTEROP=1).
pub fn postfix() -> Option<(u16, PathBuf)> {
    let port = std::env::var("SMIME_POSTFIX_PORT")
        .ok()
        .and_then(|p| p.parse().ok());
    let dir = std::env::var_os("SMIME_POSTFIX_MAILDIR").map(PathBuf::from);
    match (port, dir) {
        (Some(p), Some(d)) => Some((p, d)),
        _ => {
            let why =
                "postfix not configured (run scripts/postfix-test-env.sh, or scripts/test.sh)";
            if std::env::var("SMIME_REQUIRE_INTEROP").is_ok_and(|v| v == "1") {
                panic!("{why}");
            }
            let _ = writeln!(std::io::stderr(), "skipping: {why}");
            None
        }
    }
}

/// Every file delivered under a Maildir root.
pub fn delivered(root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_owned()];
    while let Some(d) = stack.pop() {
        if let Ok(rd) = std::fs::read_dir(&d) {
            for e in rd.flatten() {
                let p = e.path();
                if p.is_dir() {
                    stack.push(p);
                } else if p
                    .parent()
                    .is_some_and(|par| par.ends_with("new") || par.ends_with("cur"))
                {
                    out.push(p);
                }
            }
        }
    }
    out
}

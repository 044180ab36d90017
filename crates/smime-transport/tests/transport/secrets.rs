//! Every output of a failed AUTH and a failed API call, searched for the password and the
//! API key (and their base64 forms): neither may appear. The servers here are hostile and
//! echo the credentials back in their error replies.
//!
//! Errors, receipts, `Debug`, `Display` and the `tracing` events are everything the crate
//! outputs: the events are captured at trace level (the SMTP conversation, API response
//! bodies) and searched too.

use std::{
    error::Error as _,
    sync::{Arc, Mutex},
    time::Duration,
};

use base64ct::{Base64, Encoding};
use smime_testkit::{
    fake_api::{FakeApi, Response},
    fake_smtp::{Action, Event, FakeSmtp, Options, Tls},
    tls::TestCa,
    within,
};
use smime_transport::{
    Credentials, Dispatcher, Envelope, RetryPolicy, Secret, SendError, Sender, SmtpSender,
    SparkPostSender, Timeouts, TlsMode,
};

const PASSWORD: &str = "pA55-w0rd/secret+SMTP";
const USER: &str = "SMTP_Injection";
const API_KEY: &str = "f00dfeedc0ffee0123456789abcdef0123456789";

/// The needles: the secret, its base64, and base64("\0user\0secret") for AUTH PLAIN.
fn needles(secret: &str, user: Option<&str>) -> Vec<String> {
    let mut n = vec![secret.to_owned(), Base64::encode_string(secret.as_bytes())];
    if let Some(user) = user {
        n.push(Base64::encode_string(
            format!("\0{user}\0{secret}").as_bytes(),
        ));
    }
    n
}

/// Every `tracing` event of the current thread, formatted at trace level, in memory.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Captured {
    /// Starts capturing on this thread (tokio's test runtime runs everything on it).
    fn start() -> (Self, tracing::subscriber::DefaultGuard) {
        let captured = Captured::default();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_ansi(false)
            .with_writer(captured.clone())
            .finish();
        (
            captured.clone(),
            tracing::subscriber::set_default(subscriber),
        )
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap_or_else(|e| e.into_inner())).into_owned()
    }
}

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Captured {
    type Writer = Captured;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

/// Display, Debug (plain and pretty) and every source in the chain.
fn outputs_of(err: &SendError) -> Vec<String> {
    let mut out = vec![err.to_string(), format!("{err:?}"), format!("{err:#?}")];
    let mut source = err.source();
    while let Some(s) = source {
        out.push(s.to_string());
        out.push(format!("{s:?}"));
        source = s.source();
    }
    if let Some(reply) = err.reply() {
        out.push(reply.to_string());
        out.push(reply.text().to_owned());
    }
    for d in err.api_errors() {
        out.push(d.to_string());
    }
    out
}

fn assert_clean(outputs: &[String], needles: &[String]) {
    for output in outputs {
        for needle in needles {
            assert!(
                !output.contains(needle.as_str()),
                "secret form {needle:?} leaked in: {output}"
            );
        }
    }
}

#[tokio::test]
async fn failed_smtp_auth_reveals_no_password() {
    within(Duration::from_secs(20), async {
        let pki = TestCa::new();
        for mechanisms in ["PLAIN", "LOGIN"] {
            // A test on another thread that meets a call site for the first time while this
            // thread's subscriber is installed can leave it cached as wanted by nobody, and its
            // events missing here (seen once under a loaded `cargo test --workspace`): then the
            // cache is rebuilt and the exchange run again. Every run is checked for secrets.
            for attempt in 1..=5 {
                tracing::callsite::rebuild_interest_cache();
                let (events, _guard) = Captured::start();
                // The server refuses, quoting back whatever it received.
                let server = FakeSmtp::start(
                    Options {
                        tls: Tls::StartTls(pki.acceptor()),
                        users: vec![(USER.into(), "the-right-one".into())],
                        auth_mechanisms: mechanisms,
                        ..Options::default()
                    }
                    .hook(|_, event| match event {
                        Event::Command(line) if line.starts_with("AUTH PLAIN ") => Some(
                            Action::Reply(format!("535 5.7.8 bad credentials in [{line}]")),
                        ),
                        _ => None,
                    }),
                )
                .await;
                let builder = SmtpSender::builder("127.0.0.1", server.port())
                    .tls(TlsMode::StartTlsRequired)
                    .extra_ca_file(pki.ca_path())
                    .timeouts(Timeouts::uniform(Duration::from_secs(5)))
                    .credentials(Credentials::new(USER, Secret::from(PASSWORD)));
                let sender = builder.clone().build().expect("sender");
                let envelope = Envelope::new("a@example.com", ["b@example.net"]).expect("valid");
                let err = Dispatcher::new(Arc::new(sender))
                    .retry_policy(RetryPolicy::no_retry())
                    .send(&envelope, b"Subject: x\r\n\r\ny\r\n")
                    .await
                    .expect_err("refused");
                assert!(err.is_auth(), "{mechanisms}: {err}");

                // The test means something: the password did go to the server.
                let log = server.log();
                let sent = needles(PASSWORD, Some(USER));
                assert!(
                    log.saw_any(&sent),
                    "{mechanisms}: the server never saw the credentials"
                );

                let sender = builder.clone().build().expect("sender");
                let mut outputs = outputs_of(&err);
                outputs.push(format!("{builder:?}"));
                outputs.push(format!("{sender:?}"));
                outputs.push(format!("{sender:#?}"));
                outputs.push(sender.to_string());
                outputs.push(format!(
                    "{:?}",
                    Credentials::new(USER, Secret::from(PASSWORD))
                ));
                outputs.push(format!("{:?}", Secret::from(PASSWORD)));
                // The trace shows the exchange (so the search below means something), with the
                // payloads redacted and the echoed credentials scrubbed.
                let trace = events.text();
                let expected: &[&str] = if mechanisms == "PLAIN" {
                    &[
                        "C: AUTH PLAIN <redacted>",
                        "S: 535 5.7.8 bad credentials in [AUTH PLAIN ********]",
                    ]
                } else {
                    &[
                        "C: AUTH LOGIN",
                        "S: 334 VXNlcm5hbWU6",
                        "C: <redacted>",
                        "S: 535 5.7.8 Authentication credentials invalid",
                    ]
                };
                let complete = expected.iter().all(|e| trace.contains(e));
                outputs.push(trace.clone());
                assert_clean(&outputs, &sent);
                assert!(outputs.iter().any(|o| o.contains("********")));
                if complete {
                    break;
                }
                assert!(
                    attempt < 5,
                    "{mechanisms}: not all of {expected:?} in the trace:\n{trace}"
                );
            }
        }
    })
    .await;
}

#[tokio::test]
async fn failed_api_call_reveals_no_key() {
    within(Duration::from_secs(20), async {
        let (events, _guard) = Captured::start();
        // The API refuses, quoting the Authorization header in its error.
        let api = FakeApi::start(|_, request| {
            let key = request.header("authorization").unwrap_or_default().to_owned();
            Response::json(
                401,
                format!(
                    r#"{{"errors":[{{"message":"Unauthorized.","description":"key {key} unknown","code":"1000"}}]}}"#
                ),
            )
        })
        .await;
        let builder = SparkPostSender::builder(Secret::from(API_KEY)).base_url(api.base_url());
        let sender = builder.clone().build().expect("sender");
        let envelope = Envelope::new("a@example.com", ["b@example.net"]).expect("valid");
        let err = sender
            .send(&envelope, b"Subject: x\r\n\r\ny\r\n")
            .await
            .expect_err("401");
        assert!(err.is_auth());
        assert_eq!(api.requests()[0].header("authorization"), Some(API_KEY));

        // A 200 whose body echoes the key (an unreadable reply) and a 500 doing the same.
        let echo = FakeApi::start(|n, request| {
            let key = request.header("authorization").unwrap_or_default().to_owned();
            Response::json(if n == 0 { 200 } else { 500 }, format!("oops {key}"))
        })
        .await;
        let echo_sender = SparkPostSender::builder(Secret::from(API_KEY))
            .base_url(echo.base_url())
            .build()
            .expect("sender");
        let unreadable = echo_sender.send(&envelope, b"x").await.expect_err("bad JSON");
        let server_error = echo_sender.send(&envelope, b"x").await.expect_err("500");

        let mut outputs = outputs_of(&err);
        outputs.extend(outputs_of(&unreadable));
        outputs.extend(outputs_of(&server_error));
        outputs.push(format!("{builder:?}"));
        outputs.push(format!("{sender:?}"));
        outputs.push(format!("{sender:#?}"));
        outputs.push(sender.to_string());
        let dispatcher = Dispatcher::new(Arc::new(sender));
        outputs.push(format!("{dispatcher:?}"));
        let trace = events.text();
        for e in ["status=401", "status=500", "API response body", "key ******** unknown"] {
            assert!(trace.contains(e), "no {e:?} in the trace:\n{trace}");
        }
        outputs.push(trace);
        assert_clean(&outputs, &needles(API_KEY, None));
        assert!(err.to_string().contains("key ******** unknown"), "{err}");
    })
    .await;
}

#[test]
fn debug_of_every_type_holding_a_secret_shows_none() {
    let mut forms = needles(PASSWORD, Some(USER));
    forms.extend(needles(API_KEY, None));
    for s in [PASSWORD, API_KEY] {
        forms.push(s.bytes().map(|b| format!("{b:02x}")).collect());
        forms.push(
            format!("{:?}", &s.as_bytes()[..8])
                .trim_matches(['[', ']'])
                .to_owned(),
        );
    }
    let secret = Secret::from(PASSWORD);
    let credentials = Credentials::new(USER, secret.clone());
    let smtp = SmtpSender::builder("127.0.0.1", 2525)
        .tls(TlsMode::None)
        .dangerous_allow_plaintext_auth(true)
        .credentials(credentials.clone());
    let relay = SmtpSender::sparkpost(Secret::from(API_KEY));
    let api = SparkPostSender::builder(Secret::from(API_KEY)).base_url("http://127.0.0.1:1");
    let smtp_sender = smtp.clone().build().expect("builds");
    let relay_sender = relay.clone().build().expect("builds");
    let api_sender = Arc::new(api.clone().build().expect("builds"));
    let dispatcher = Dispatcher::new(api_sender.clone());
    let retrying = smime_transport::Retrying::new(
        api.clone().build().expect("builds"),
        RetryPolicy::default(),
    );
    let values: Vec<(&str, &dyn std::fmt::Debug)> = vec![
        ("Secret", &secret),
        ("Credentials", &credentials),
        ("SmtpSenderBuilder", &smtp),
        ("SmtpSenderBuilder (SparkPost)", &relay),
        ("SmtpSender", &smtp_sender),
        ("SmtpSender (SparkPost)", &relay_sender),
        ("SparkPostBuilder", &api),
        ("SparkPostSender", &api_sender),
        ("Dispatcher", &dispatcher),
        ("Retrying", &retrying),
    ];
    let mut outputs = Vec::new();
    for (name, value) in values {
        let plain = format!("{value:?}");
        let pretty = format!("{value:#?}");
        assert!(plain.contains("********"), "{name}: no mask in {plain}");
        outputs.extend([format!("{name}: {plain}"), format!("{name}: {pretty}")]);
    }
    outputs.extend([
        smtp_sender.to_string(),
        relay_sender.to_string(),
        api_sender.to_string(),
    ]);
    assert_clean(&outputs, &forms);
}

//! SmtpSender against the in-process fake SMTP server: what Postfix cannot show on demand.

use std::{
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use crate::SendSmall;
use smime_testkit::{
    closed_port,
    fake_smtp::{Action, Event, FakeSmtp, Options, Tls},
    sample_message,
    tls::TestCa,
    within,
};
use smime_transport::{
    Credentials, Dispatcher, Envelope, Job, MsysApi, RetryPolicy, Secret, Sender, SmtpSender,
    SmtpSenderBuilder, Stage, Timeouts, TlsMode, TlsProblem,
};

const LIMIT: Duration = Duration::from_secs(20);

fn builder(server: &FakeSmtp) -> SmtpSenderBuilder {
    SmtpSender::builder("127.0.0.1", server.port())
        .tls(TlsMode::None)
        .helo_name("client.test")
        .timeouts(Timeouts::uniform(Duration::from_secs(5)))
}

fn envelope(rcpts: &[&str]) -> Envelope {
    Envelope::new("alice@example.com", rcpts.iter().copied()).expect("valid envelope")
}

fn quick_retries() -> RetryPolicy {
    RetryPolicy::default()
        .max_attempts(3)
        .first_backoff(Duration::from_millis(10))
}

/// A server offering STARTTLS with a certificate from `pki`.
async fn starttls_server(pki: &TestCa) -> FakeSmtp {
    FakeSmtp::start(Options {
        tls: Tls::StartTls(pki.acceptor()),
        ..Options::default()
    })
    .await
}

fn is_verb(line: &str, verb: &str) -> bool {
    line.to_ascii_uppercase().starts_with(verb)
}

#[tokio::test]
async fn starttls_with_test_ca_delivers_exact_bytes() {
    within(LIMIT, async {
        let pki = TestCa::new();
        let server = starttls_server(&pki).await;
        let sender = builder(&server)
            .tls(TlsMode::StartTlsRequired)
            .extra_ca_file(pki.ca_path())
            .build()
            .expect("sender");
        let msg = sample_message("starttls", 3000);
        let receipt = sender
            .send(&envelope(&["bob@example.net"]), &msg)
            .await
            .expect("sent over STARTTLS");
        assert_eq!(receipt.id(), Some("Q00001"));
        assert_eq!(receipt.response(), "250 2.0.0 Ok: queued as Q00001");
        assert_eq!(receipt.accepted(), ["bob@example.net"]);
        assert_eq!(receipt.attempts(), 1);
        assert_eq!(receipt.encrypted(), Some(true));
        let log = server.log();
        assert!(log.delivered[0].tls, "message went over TLS");
        assert_eq!(log.delivered[0].data, msg, "bytes intact, dots unstuffed");
        assert_eq!(log.verbs(1)[..3], ["EHLO", "STARTTLS", "EHLO"]);
        assert_eq!(
            sender.to_string(),
            format!("SMTP 127.0.0.1:{} (STARTTLS)", server.port())
        );
    })
    .await;
}

#[tokio::test]
async fn unknown_ca_is_a_tls_error_and_nothing_is_sent() {
    within(LIMIT, async {
        let pki = TestCa::new();
        let server = starttls_server(&pki).await;
        let sender = builder(&server)
            .tls(TlsMode::StartTlsRequired)
            .build()
            .expect("sender");
        let err = sender.send_small().await.expect_err("test CA not trusted");
        assert!(err.is_tls() && err.is_permanent(), "{err}");
        assert_eq!(err.stage(), Some(Stage::Tls));
        assert!(err.to_string().contains("certificate"), "{err}");
        assert!(!server.log().verbs(1).contains(&"MAIL".to_owned()));

        // The loudly named escape hatch.
        let sender = builder(&server)
            .tls(TlsMode::StartTlsRequired)
            .dangerous_accept_invalid_certs(true)
            .build()
            .expect("sender");
        sender
            .send_small()
            .await
            .expect("accepted without verification");
    })
    .await;
}

#[tokio::test]
async fn starttls_required_refuses_a_server_without_it_opportunistic_does_not() {
    within(LIMIT, async {
        let server = FakeSmtp::start(Options::default()).await;
        let err = builder(&server)
            .tls(TlsMode::StartTlsRequired)
            .build()
            .expect("sender")
            .send_small()
            .await
            .expect_err("no STARTTLS offered");
        assert!(err.is_tls() && err.is_permanent(), "{err}");
        assert!(err.to_string().contains("does not offer STARTTLS"), "{err}");

        let receipt = builder(&server)
            .tls(TlsMode::StartTlsOpportunistic)
            .build()
            .expect("sender")
            .send_small()
            .await
            .expect("opportunistic carries on unencrypted");
        assert_eq!(receipt.encrypted(), Some(false), "the receipt says so");
        let log = server.log();
        assert_eq!(log.delivered.len(), 1);
        assert!(!log.delivered[0].tls);
    })
    .await;
}

#[tokio::test]
async fn implicit_tls_with_server_name_override() {
    within(LIMIT, async {
        let pki = TestCa::new();
        let server = FakeSmtp::start(Options {
            tls: Tls::Implicit(pki.acceptor()),
            ..Options::default()
        })
        .await;
        let sender = builder(&server)
            .tls(TlsMode::ImplicitTls)
            .tls_server_name("localhost")
            .extra_ca_file(pki.ca_path())
            .build()
            .expect("sender");
        sender.send_small().await.expect("sent over implicit TLS");
        assert!(server.log().delivered[0].tls);
        assert_eq!(server.log().verbs(1)[0], "EHLO");
    })
    .await;
}

async fn auth_server(pki: &TestCa, mechanisms: &'static str) -> FakeSmtp {
    FakeSmtp::start(Options {
        tls: Tls::StartTls(pki.acceptor()),
        users: vec![("SMTP_Injection".into(), "right-key".into())],
        auth_mechanisms: mechanisms,
        require_auth: true,
        ..Options::default()
    })
    .await
}

#[tokio::test]
async fn auth_plain_and_login_succeed_after_starttls() {
    within(LIMIT, async {
        let pki = TestCa::new();
        for (mechanisms, expected) in [("PLAIN LOGIN", "AUTH PLAIN "), ("LOGIN", "AUTH LOGIN")] {
            let server = auth_server(&pki, mechanisms).await;
            let sender = builder(&server)
                .tls(TlsMode::StartTlsRequired)
                .extra_ca_file(pki.ca_path())
                .credentials(Credentials::sparkpost(Secret::from("right-key")))
                .build()
                .expect("sender");
            sender.send_small().await.expect("authenticated");
            let log = server.log();
            assert_eq!(log.delivered.len(), 1);
            assert!(
                log.commands.iter().any(|c| c.line.starts_with(expected)),
                "{mechanisms}: {:?}",
                log.commands
            );
        }
    })
    .await;
}

#[tokio::test]
async fn auth_failure_535_is_permanent_auth_error_with_verbatim_reply() {
    within(LIMIT, async {
        let pki = TestCa::new();
        let server = auth_server(&pki, "PLAIN LOGIN").await;
        let sender = builder(&server)
            .tls(TlsMode::StartTlsRequired)
            .extra_ca_file(pki.ca_path())
            .credentials(Credentials::sparkpost(Secret::from("wrong-key")))
            .build()
            .expect("sender");
        let err = sender.send_small().await.expect_err("bad key");
        assert!(
            err.is_auth() && err.is_permanent() && !err.is_transient(),
            "{err}"
        );
        let reply = err.reply().expect("server reply");
        assert_eq!(reply.code(), 535);
        assert_eq!(
            reply.to_string(),
            "535 5.7.8 Authentication credentials invalid"
        );
        assert!(
            err.to_string()
                .ends_with("535 5.7.8 Authentication credentials invalid")
        );
        assert!(!server.log().verbs(1).contains(&"MAIL".to_owned()));
    })
    .await;
}

#[tokio::test]
async fn missing_auth_530_is_an_auth_error_with_verbatim_reply() {
    within(LIMIT, async {
        let server = FakeSmtp::start(Options {
            require_auth: true,
            ..Options::default()
        })
        .await;
        let err = builder(&server)
            .build()
            .expect("sender")
            .send_small()
            .await
            .expect_err("authentication required");
        assert!(err.is_auth() && err.is_permanent(), "{err}");
        assert_eq!(err.stage(), Some(Stage::MailFrom));
        assert_eq!(
            err.reply().map(ToString::to_string).as_deref(),
            Some("530 5.7.1 Authorization required")
        );
    })
    .await;
}

#[tokio::test]
async fn credentials_never_go_over_plaintext_unless_allowed() {
    within(LIMIT, async {
        let server = FakeSmtp::start(Options {
            users: vec![("user".into(), "pw".into())],
            require_auth: true,
            ..Options::default()
        })
        .await;
        let creds = || Credentials::new("user", Secret::from("pw"));

        let err = builder(&server)
            .credentials(creds())
            .build()
            .expect_err("TlsMode::None with credentials");
        assert_eq!(err.tls_problem(), Some(TlsProblem::PlaintextAuth), "{err}");

        let err = builder(&server)
            .tls(TlsMode::StartTlsOpportunistic)
            .credentials(creds())
            .build()
            .expect("sender")
            .send_small()
            .await
            .expect_err("no TLS, no AUTH");
        assert!(err.is_tls() && err.is_permanent(), "{err}");
        assert!(
            !server.log().raw_lines.iter().any(|l| is_verb(l, "AUTH")),
            "AUTH went out unencrypted"
        );

        builder(&server)
            .credentials(creds())
            .dangerous_allow_plaintext_auth(true)
            .build()
            .expect("sender")
            .send_small()
            .await
            .expect("explicitly allowed");
    })
    .await;
}

async fn reply_421_mid_session(pipelining: bool) {
    let server = FakeSmtp::start(
        Options {
            pipelining,
            ..Options::default()
        }
        .hook(|ctx, event| match event {
            Event::Command(line)
                if is_verb(line, "MAIL") && ctx.conn == 1 && ctx.conn_messages == 1 =>
            {
                Some(Action::ReplyThenClose(
                    "421 4.4.2 fake.test Error: timeout exceeded".into(),
                ))
            }
            _ => None,
        }),
    )
    .await;
    let sender = builder(&server).build().expect("sender");
    let env = envelope(&["bob@example.net"]);
    sender
        .send(&env, b"Subject: 1\r\n\r\n1\r\n")
        .await
        .expect("first");
    let err = sender
        .send(&env, b"Subject: 2\r\n\r\n2\r\n")
        .await
        .expect_err("421");
    assert!(err.is_transient() && !err.is_permanent(), "{err}");
    assert_eq!(
        err.reply().map(ToString::to_string).as_deref(),
        Some("421 4.4.2 fake.test Error: timeout exceeded"),
        "pipelining {pipelining}"
    );
    sender
        .send(&env, b"Subject: 3\r\n\r\n3\r\n")
        .await
        .expect("third on a new connection");
    let log = server.log();
    assert_eq!(log.connections, 2);
    assert_eq!(log.delivered.len(), 2);
    assert_eq!(log.delivered[1].conn, 2);
}

#[tokio::test]
async fn reply_421_mid_session_closes_the_connection() {
    within(LIMIT, async {
        reply_421_mid_session(true).await;
        reply_421_mid_session(false).await;
    })
    .await;
}

#[tokio::test]
async fn rcpt_451_is_transient_and_succeeds_on_retry() {
    within(LIMIT, async {
        // Bob is refused twice, Dave once.
        let (bob, dave) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        let (b, d) = (bob.clone(), dave.clone());
        let server = FakeSmtp::start(Options::default().hook(move |_, event| match event {
            Event::Command(line)
                if is_verb(line, "RCPT")
                    && ((line.contains("bob@") && b.fetch_add(1, Ordering::SeqCst) < 2)
                        || (line.contains("dave@") && d.fetch_add(1, Ordering::SeqCst) < 1)) =>
            {
                Some(Action::Reply("451 4.3.0 Temporary lookup failure".into()))
            }
            _ => None,
        }))
        .await;
        let sender = Arc::new(builder(&server).build().expect("sender"));

        // One attempt: every recipient refused, temporarily.
        let err = sender.send_small().await.expect_err("451");
        assert!(err.is_transient(), "{err}");
        assert_eq!(err.refusals().len(), 1);
        assert_eq!(err.refusals()[0].recipient(), "bob@example.net");
        assert_eq!(
            err.refusals()[0].reply().to_string(),
            "451 4.3.0 Temporary lookup failure"
        );
        assert!(
            server.log().verbs(1).contains(&"RSET".to_owned()),
            "RSET after the failure"
        );

        // Through the dispatcher: refused once more, then accepted.
        let dispatcher = Dispatcher::new(sender.clone()).retry_policy(quick_retries());
        let receipt = dispatcher.send_small().await.expect("accepted on retry");
        assert_eq!(receipt.attempts(), 2);

        // Dave refused temporarily while Carol is accepted: Dave alone is tried again.
        let receipt = dispatcher
            .send(
                &envelope(&["carol@example.org", "dave@example.net"]),
                b"Subject: y\r\n\r\ny\r\n",
            )
            .await
            .expect("delivered to both in the end");
        assert_eq!(receipt.attempts(), 2);
        assert!(receipt.is_complete(), "{receipt:?}");
        assert_eq!(
            receipt.accepted(),
            ["carol@example.org", "dave@example.net"]
        );
        let log = server.log();
        let last_two: Vec<_> = log
            .delivered
            .iter()
            .rev()
            .take(2)
            .map(|d| d.rcpt_to.clone())
            .collect();
        assert_eq!(
            last_two,
            [
                vec!["dave@example.net".to_owned()],
                vec!["carol@example.org".to_owned()]
            ]
        );
        // One connection throughout: failed transactions were reset, not dropped.
        assert_eq!(log.connections, 1);
    })
    .await;
}

#[tokio::test]
async fn permanent_rcpt_refusal_is_reported_per_recipient_and_not_retried() {
    within(LIMIT, async {
        let server = FakeSmtp::start(Options::default().hook(|_, event| match event {
            Event::Command(line) if is_verb(line, "RCPT") && line.contains("nobody@") => Some(
                Action::Reply("550 5.1.1 <nobody@example.net>: Recipient address rejected".into()),
            ),
            _ => None,
        }))
        .await;
        let sender = Arc::new(builder(&server).build().expect("sender"));
        let dispatcher = Dispatcher::new(sender.clone()).retry_policy(quick_retries());
        let receipt = dispatcher
            .send(
                &envelope(&["bob@example.net", "nobody@example.net"]),
                b"Subject: x\r\n\r\ny\r\n",
            )
            .await
            .expect("bob accepted");
        assert_eq!(receipt.attempts(), 1);
        assert_eq!(receipt.accepted(), ["bob@example.net"]);
        assert_eq!(receipt.rejected_count(), 1);
        assert_eq!(receipt.rejected()[0].recipient(), "nobody@example.net");
        assert_eq!(
            receipt.rejected()[0].reply().to_string(),
            "550 5.1.1 <nobody@example.net>: Recipient address rejected"
        );
        assert_eq!(server.log().delivered.len(), 1);
    })
    .await;
}

#[tokio::test]
async fn failed_mail_from_is_followed_by_rset_and_the_connection_reused() {
    within(LIMIT, async {
        let first = Arc::new(AtomicUsize::new(0));
        let counter = first.clone();
        let server = FakeSmtp::start(
            Options {
                pipelining: false,
                ..Options::default()
            }
            .hook(move |_, event| match event {
                Event::Command(line)
                    if is_verb(line, "MAIL") && counter.fetch_add(1, Ordering::SeqCst) == 0 =>
                {
                    Some(Action::Reply("550 5.7.1 relaying denied".into()))
                }
                _ => None,
            }),
        )
        .await;
        let sender = builder(&server).build().expect("sender");
        let err = sender.send_small().await.expect_err("550");
        assert!(err.is_permanent() && !err.is_auth(), "{err}");
        assert_eq!(
            err.reply().map(ToString::to_string).as_deref(),
            Some("550 5.7.1 relaying denied")
        );
        sender
            .send_small()
            .await
            .expect("second on the same connection");
        let log = server.log();
        assert_eq!(log.connections, 1);
        assert_eq!(
            log.verbs(1),
            ["EHLO", "MAIL", "RSET", "MAIL", "RCPT", "DATA"]
        );
    })
    .await;
}

#[tokio::test]
async fn connection_dropped_after_data_is_transient_uncertain_and_retried() {
    within(LIMIT, async {
        let drops = Arc::new(AtomicUsize::new(0));
        let counter = drops.clone();
        let server = FakeSmtp::start(Options::default().hook(move |_, event| match event {
            Event::DataEnd(_) if counter.fetch_add(1, Ordering::SeqCst) < 2 => Some(Action::Close),
            _ => None,
        }))
        .await;
        let sender = Arc::new(builder(&server).build().expect("sender"));
        let err = sender.send_small().await.expect_err("dropped");
        assert!(err.is_transient() && err.is_delivery_uncertain(), "{err}");
        assert_eq!(err.stage(), Some(Stage::DataEnd));

        let receipt = Dispatcher::new(sender.clone())
            .retry_policy(quick_retries())
            .send_small()
            .await
            .expect("delivered on retry");
        assert_eq!(receipt.attempts(), 2);
        assert_eq!(server.log().connections, 3);

        // A caller that prefers a lost message to a duplicate can say so.
        drops.store(0, Ordering::SeqCst);
        let err = Dispatcher::new(sender)
            .retry_policy(quick_retries().retry_uncertain(false))
            .send_small()
            .await
            .expect_err("not retried");
        assert!(err.is_delivery_uncertain());
    })
    .await;
}

#[tokio::test]
async fn a_server_slower_than_the_timeout() {
    within(LIMIT, async {
        // Slow greeting.
        let server = FakeSmtp::start(Options::default().hook(|_, event| match event {
            Event::Connect => Some(Action::Delay(Duration::from_secs(3))),
            _ => None,
        }))
        .await;
        let started = Instant::now();
        let err = builder(&server)
            .timeouts(Timeouts::uniform(Duration::from_millis(200)))
            .build()
            .expect("sender")
            .send_small()
            .await
            .expect_err("timeout");
        assert!(err.is_timeout() && err.is_transient(), "{err}");
        assert_eq!(err.stage(), Some(Stage::Greeting));
        assert!(started.elapsed() < Duration::from_secs(2));

        // Slow reply after the final dot: its own timeout, and the message may be in.
        let server = FakeSmtp::start(Options::default().hook(|_, event| match event {
            Event::DataEnd(_) => Some(Action::Delay(Duration::from_secs(3))),
            _ => None,
        }))
        .await;
        let mut timeouts = Timeouts::uniform(Duration::from_secs(5));
        timeouts.data_end = Duration::from_millis(200);
        let started = Instant::now();
        let err = builder(&server)
            .timeouts(timeouts)
            .build()
            .expect("sender")
            .send_small()
            .await
            .expect_err("timeout");
        assert!(err.is_timeout() && err.is_delivery_uncertain(), "{err}");
        assert_eq!(err.stage(), Some(Stage::DataEnd));
        assert!(started.elapsed() < Duration::from_secs(2));
    })
    .await;
}

#[tokio::test]
async fn pipelining_batches_commands_only_when_advertised() {
    within(LIMIT, async {
        let rcpts = ["bob@example.net", "carol@example.org", "bcc@example.com"];
        for (advertised, enabled, batched) in [
            (true, true, true),
            (false, true, false),
            (true, false, false),
        ] {
            let server = FakeSmtp::start(Options {
                pipelining: advertised,
                ..Options::default()
            })
            .await;
            builder(&server)
                .pipelining(enabled)
                .build()
                .expect("sender")
                .send(&envelope(&rcpts), b"Subject: x\r\n\r\ny\r\n")
                .await
                .expect("sent");
            let log = server.log();
            let envelope_reads: Vec<usize> = log
                .commands
                .iter()
                .filter(|c| ["MAIL", "RCPT", "DATA"].iter().any(|v| is_verb(&c.line, v)))
                .map(|c| c.read)
                .collect();
            assert_eq!(envelope_reads.len(), 5);
            let distinct = envelope_reads.windows(2).filter(|w| w[0] != w[1]).count() + 1;
            if batched {
                assert_eq!(
                    distinct, 1,
                    "one round trip for MAIL, 3 RCPT, DATA: {envelope_reads:?}"
                );
            } else {
                assert_eq!(
                    distinct, 5,
                    "one command per round trip: {envelope_reads:?}"
                );
            }
            // Every envelope recipient got a RCPT TO, Bcc included.
            assert_eq!(log.delivered[0].rcpt_to, rcpts);
        }
    })
    .await;
}

#[tokio::test]
async fn a_connection_carries_100_messages_then_quits() {
    within(LIMIT, async {
        let server = FakeSmtp::start(Options::default()).await;
        let sender = builder(&server).pool_size(1).build().expect("sender");
        let env = envelope(&["bob@example.net"]);
        let msg = sample_message("reuse", 1000);
        for _ in 0..250 {
            sender.send(&env, &msg).await.expect("sent");
        }
        sender.shutdown().await.expect("shutdown");
        server.wait_idle().await;
        let log = server.log();
        assert_eq!(log.connections, 3);
        let per_conn: Vec<usize> = (1..=3)
            .map(|c| log.delivered.iter().filter(|d| d.conn == c).count())
            .collect();
        assert_eq!(per_conn, [100, 100, 50]);
        assert_eq!(log.quits, 3, "QUIT after 100 messages, and at shutdown");
        assert_eq!(log.verbs(1).iter().filter(|v| *v == "EHLO").count(), 1);
        assert!(sender.send(&env, &msg).await.is_err(), "shut down");
    })
    .await;
}

#[tokio::test]
async fn the_pool_bounds_open_connections() {
    within(LIMIT, async {
        let server = FakeSmtp::start(Options::default().hook(|_, event| match event {
            Event::DataEnd(_) => Some(Action::Delay(Duration::from_millis(20))),
            _ => None,
        }))
        .await;
        let sender = Arc::new(builder(&server).pool_size(3).build().expect("sender"));
        let jobs = (0..30).map(|i| {
            Job::new(
                envelope(&["bob@example.net"]),
                sample_message(&format!("p{i}"), 500),
            )
        });
        let results = Dispatcher::new(sender.clone())
            .concurrency(10)
            .send_all(jobs)
            .await;
        assert!(results.iter().all(Result::is_ok));
        let log = server.log();
        assert_eq!(log.delivered.len(), 30);
        assert_eq!(log.max_open, 3);
        assert_eq!(log.connections, 3);
    })
    .await;
}

#[tokio::test]
async fn an_idle_connection_the_server_closed_is_replaced_transparently() {
    within(LIMIT, async {
        for pipelining in [true, false] {
            let server = FakeSmtp::start(
                Options {
                    pipelining,
                    ..Options::default()
                }
                .hook(|ctx, event| match event {
                    Event::DataEnd(_) if ctx.conn == 1 => Some(Action::ReplyThenClose(
                        "250 2.0.0 Ok: queued as FIRST".into(),
                    )),
                    _ => None,
                }),
            )
            .await;
            let sender = builder(&server).build().expect("sender");
            let env = envelope(&["bob@example.net"]);
            let first = sender
                .send(&env, b"Subject: 1\r\n\r\n1\r\n")
                .await
                .expect("first");
            assert_eq!(first.id(), Some("FIRST"));
            server.wait_idle().await;
            let second = sender
                .send(&env, b"Subject: 2\r\n\r\n2\r\n")
                .await
                .expect("second");
            assert_eq!(second.attempts(), 1);
            assert_eq!(server.log().connections, 2, "pipelining {pipelining}");
        }
    })
    .await;
}

#[tokio::test]
async fn x_msys_api_header_is_prepended_to_the_message() {
    within(LIMIT, async {
        let server = FakeSmtp::start(Options::default()).await;
        let msg = sample_message("msys", 800);
        builder(&server)
            .msys_api(MsysApi::new().campaign_id("smime-test"))
            .build()
            .expect("sender")
            .send(&envelope(&["bob@example.net"]), &msg)
            .await
            .expect("sent");
        let data = server.log().delivered[0].data.clone();
        let header = b"X-MSYS-API: {\"campaign_id\":\"smime-test\",\"options\":{\"open_tracking\":false,\"click_tracking\":false,\"transactional\":true}}\r\n";
        assert!(data.starts_with(header));
        assert_eq!(&data[header.len()..], &msg[..], "the rest untouched");
    })
    .await;
}

#[tokio::test]
async fn helo_when_ehlo_is_not_understood() {
    within(LIMIT, async {
        let server = FakeSmtp::start(Options::default().hook(|_, event| match event {
            Event::Command(line) if is_verb(line, "EHLO") => Some(Action::Reply(
                "502 5.5.2 Error: command not recognized".into(),
            )),
            _ => None,
        }))
        .await;
        builder(&server)
            .build()
            .expect("sender")
            .send_small()
            .await
            .expect("sent after HELO");
        assert_eq!(server.log().verbs(1)[..2], ["EHLO", "HELO"]);
    })
    .await;
}

#[tokio::test]
async fn unreachable_server_is_a_transient_connect_error() {
    let port = closed_port();
    let err = SmtpSender::builder("127.0.0.1", port)
        .tls(TlsMode::None)
        .build()
        .expect("sender")
        .send_small()
        .await
        .expect_err("nothing listens");
    assert!(err.is_transient(), "{err}");
    assert_eq!(err.stage(), Some(Stage::Connect));
}

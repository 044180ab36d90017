//! Against a real Postfix on loopback (`scripts/postfix-test-env.sh`): what the transport
//! sends is what each recipient's Maildir receives.
//!
//! Without `SMIME_POSTFIX_PORT`/`SMIME_POSTFIX_MAILDIR` each test says
//! `skipping: postfix not configured (run scripts/postfix-test-env.sh)` on stderr and passes,
//! unless `SMIME_REQUIRE_INTEROP=1`, which makes it fail.

use std::{
    sync::Arc,
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use smime_testkit::{
    postfix::{lf, postfix_env},
    within,
};
use smime_transport::{Dispatcher, Envelope, Job, RetryPolicy, Sender};

use crate::{deliver_and_fetch, deliver_and_fetch_with_receipt, postfix_sender, with_postfix};

fn nonce() -> String {
    let t = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    format!("{t:x}.{}", std::process::id())
}

fn header_value<'a>(delivered: &'a [u8], name: &str) -> Option<&'a str> {
    let text = std::str::from_utf8(delivered).ok()?;
    let head = text.split("\n\n").next()?;
    head.lines().find_map(|l| {
        let (n, v) = l.split_once(':')?;
        n.eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

#[tokio::test]
async fn every_envelope_recipient_gets_the_message_intact() {
    with_postfix(async {
        let id = nonce();
        // To, Cc, and a Bcc that is only in the envelope. Dot lines, a long base64-ish
        // body, CRLF throughout.
        let mut message = format!(
            "From: Alice <alice@example.com>\r\nTo: Bob <bob@example.net>\r\n\
             Cc: carol@example.org\r\nSubject: interop {id}\r\nMessage-ID: <{id}@example.com>\r\n\
             MIME-Version: 1.0\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n\
             .a line starting with a dot\r\n..two dots\r\n.\r\n"
        )
        .into_bytes();
        for i in 0..300 {
            message.extend_from_slice(
                format!(
                    "{i:04} MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAu1SU1LfVLPHCozMxH2Mo\r\n"
                )
                .as_bytes(),
            );
        }
        message.extend_from_slice(b"end\r\n");
        let envelope = Envelope::new(
            "alice@example.com",
            ["bob@example.net", "carol@example.org", "dave@example.com"],
        )
        .expect("valid");

        let (receipt, delivered) = deliver_and_fetch_with_receipt(&message, &envelope).await;
        assert!(
            receipt.response().starts_with("250 2.0.0 Ok: queued as "),
            "{receipt:?}"
        );
        assert!(receipt.id().is_some());
        assert_eq!(receipt.accepted().len(), 3);
        assert_eq!(delivered.len(), 3);
        for (recipient, bytes) in &delivered {
            assert_eq!(
                header_value(bytes, "Delivered-To"),
                Some(recipient.as_str())
            );
            assert_eq!(
                header_value(bytes, "Return-Path"),
                Some("<alice@example.com>")
            );
            assert!(bytes.ends_with(&lf(&message)), "{recipient}: body changed");
            assert_eq!(header_value(bytes, "Bcc"), None);
        }
    })
    .await;
}

#[tokio::test]
async fn the_pool_delivers_many_messages_pipelined() {
    let Some(env) = postfix_env() else {
        return;
    };
    within(Duration::from_secs(60), async {
        let id = nonce();
        let sender = Arc::new(postfix_sender(&env, 4));
        let jobs: Vec<Job> = (0..20)
            .map(|i| {
                let message = format!(
                    "From: a@example.com\r\nTo: pool@example.org\r\nSubject: pool {id} {i}\r\n\r\nmessage {i}\r\n"
                );
                Job::new(
                    Envelope::new("a@example.com", ["pool@example.org"]).expect("valid"),
                    message.into_bytes(),
                )
            })
            .collect();
        let results = Dispatcher::new(sender.clone())
            .concurrency(4)
            .retry_policy(RetryPolicy::no_retry())
            .send_all(jobs)
            .await;
        sender.shutdown().await.expect("shutdown");
        let mut ids: Vec<String> = results
            .into_iter()
            .map(|r| r.expect("accepted").id().expect("queue id").to_owned())
            .collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), 20, "20 distinct queue ids");

        // All twenty arrive.
        let dir = env.new_dir("pool@example.org");
        let marker = format!("Subject: pool {id} ");
        for _ in 0..400 {
            let arrived = std::fs::read_dir(&dir)
                .map(|entries| {
                    entries
                        .filter_map(|e| std::fs::read(e.ok()?.path()).ok())
                        .filter(|b| String::from_utf8_lossy(b).contains(&marker))
                        .count()
                })
                .unwrap_or(0);
            if arrived == 20 {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("not all 20 messages reached {}", dir.display());
    })
    .await;
}

#[tokio::test]
async fn deliver_and_fetch_returns_one_copy_per_recipient() {
    with_postfix(async {
        let id = nonce();
        let message = format!("Subject: helper {id}\r\n\r\nhello\r\n").into_bytes();
        let envelope = Envelope::new("", ["x@example.net", "Y@Example.ORG"]).expect("valid");
        let delivered = deliver_and_fetch(&message, &envelope).await;
        let recipients: Vec<&str> = delivered.iter().map(|(r, _)| r.as_str()).collect();
        assert_eq!(recipients, ["x@example.net", "Y@Example.ORG"]);
        for (_, bytes) in &delivered {
            // Postfix writes the null sender as MAILER-DAEMON.
            assert_eq!(header_value(bytes, "Return-Path"), Some("<MAILER-DAEMON>"));
            assert!(bytes.ends_with(b"\nhello\n"));
        }
    })
    .await;
}

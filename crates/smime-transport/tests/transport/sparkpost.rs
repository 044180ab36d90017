//! SparkPostSender against an in-process stand-in for the Transmissions API.

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use crate::SendSmall;
use smime_testkit::{
    closed_port,
    fake_api::{FakeApi, Response},
    sample_message, within,
};
use smime_transport::{
    Dispatcher, Envelope, Recipient, RetryPolicy, Secret, Sender, SparkPostSender, Stage,
};

const LIMIT: Duration = Duration::from_secs(20);
const KEY: &str = "0123456789abcdef0123456789abcdef01234567";

fn sender(api: &FakeApi) -> SparkPostSender {
    SparkPostSender::builder(Secret::from(KEY))
        .base_url(api.base_url())
        .timeout(Duration::from_secs(5))
        .build()
        .expect("sender")
}

fn envelope() -> Envelope {
    Envelope::new("alice@example.com", ["bob@example.net"]).expect("valid")
}

fn quick() -> RetryPolicy {
    RetryPolicy::default()
        .max_attempts(3)
        .first_backoff(Duration::from_millis(10))
        .rate_limit_wait(Duration::from_millis(10), Duration::from_millis(20))
}

#[tokio::test]
async fn accepted_200_and_the_request_as_sparkpost_wants_it() {
    within(LIMIT, async {
        let api = FakeApi::start(|_, _| Response::accepted("11668787484950529", 3, 0)).await;
        let sender = SparkPostSender::builder(Secret::from(KEY))
            .base_url(format!("{}/", api.base_url()))
            .campaign_id("sparkpost-SMIME")
            .build()
            .expect("sender");
        assert_eq!(sender.base_url(), api.base_url(), "trailing / stripped");
        let msg = sample_message("api", 20_000);
        // Carol is a Cc, Dave a Bcc: the API hears of every recipient, names included.
        let env = Envelope::new(
            "alice@example.com",
            [
                Recipient::new("bob@example.net").with_name("Bob"),
                Recipient::new("carol@example.org"),
                Recipient::new("dave@example.com"),
            ],
        )
        .expect("valid");
        let receipt = sender.send(&env, &msg).await.expect("accepted");
        assert_eq!(receipt.id(), Some("11668787484950529"));
        assert_eq!(receipt.accepted_count(), 3);
        assert!(receipt.is_complete());
        assert_eq!(receipt.accepted().len(), 3);

        let requests = api.requests();
        assert_eq!(requests.len(), 1);
        let r = &requests[0];
        assert_eq!(r.method, "POST");
        assert_eq!(r.path, "/api/v1/transmissions");
        assert_eq!(r.header("authorization"), Some(KEY), "the raw key, no scheme");
        assert_eq!(r.header("content-type"), Some("application/json"));
        let body = r.json();
        assert_eq!(
            body["recipients"],
            serde_json::json!([
                {"address": {"email": "bob@example.net", "name": "Bob"}},
                {"address": {"email": "carol@example.org"}},
                {"address": {"email": "dave@example.com"}}
            ])
        );
        assert_eq!(body["campaign_id"], "sparkpost-SMIME");
        assert_eq!(
            body["options"],
            serde_json::json!({"open_tracking": false, "click_tracking": false, "transactional": true})
        );
        assert_eq!(
            body["content"]["email_rfc822"].as_str().map(str::as_bytes),
            Some(&msg[..]),
            "the message unchanged"
        );
    })
    .await;
}

#[tokio::test]
async fn connections_are_kept_alive() {
    within(LIMIT, async {
        let api = FakeApi::start(|n, _| Response::accepted(&format!("t{n}"), 1, 0)).await;
        let sender = sender(&api);
        for _ in 0..5 {
            sender.send_small().await.expect("sent");
        }
        assert_eq!(api.requests().len(), 5);
        assert_eq!(api.connections(), 1);
    })
    .await;
}

#[tokio::test]
async fn unauthorized_401_is_an_auth_error() {
    within(LIMIT, async {
        let api = FakeApi::start(|_, _| Response::error(401, "Unauthorized.", "1000")).await;
        let err = sender(&api).send_small().await.expect_err("401");
        assert!(err.is_auth() && err.is_permanent(), "{err}");
        assert_eq!(err.http_status(), Some(401));
        assert_eq!(err.api_errors()[0].message(), "Unauthorized.");
        assert_eq!(err.api_errors()[0].code(), Some("1000"));
        assert_eq!(
            err.to_string(),
            "SparkPost API: HTTP 401: Unauthorized. (code 1000)"
        );
        assert_eq!(err.stage(), Some(Stage::Http));
    })
    .await;
}

#[tokio::test]
async fn sending_limit_420_is_permanent_and_not_retried() {
    within(LIMIT, async {
        let api =
            FakeApi::start(|_, _| Response::error(420, "Exceed Sending Limit (daily)", "2101"))
                .await;
        let err = Dispatcher::new(Arc::new(sender(&api)))
            .retry_policy(quick())
            .send_small()
            .await
            .expect_err("420");
        assert!(err.is_permanent() && !err.is_auth(), "{err}");
        assert_eq!(err.http_status(), Some(420));
        assert_eq!(err.api_errors()[0].code(), Some("2101"));
        assert_eq!(api.requests().len(), 1, "not retried");
    })
    .await;
}

#[tokio::test]
async fn rate_limited_429_waits_and_retries() {
    within(LIMIT, async {
        // No Retry-After: a short random wait from the policy.
        let api = FakeApi::start(|n, _| match n {
            0 => Response::error(429, "Too many requests", "1300"),
            _ => Response::accepted("after-429", 1, 0),
        })
        .await;
        let sender = Arc::new(sender(&api));
        let receipt = Dispatcher::new(sender)
            .retry_policy(quick())
            .send_small()
            .await
            .expect("second try");
        assert_eq!(receipt.id(), Some("after-429"));
        assert_eq!(receipt.attempts(), 2);
    })
    .await;
}

#[tokio::test]
async fn retry_after_delays_the_retry() {
    within(LIMIT, async {
        let api = FakeApi::start(|n, _| match n {
            0 | 1 => Response::error(429, "Too many requests", "1300").header("Retry-After", "1"),
            _ => Response::accepted("later", 1, 0),
        })
        .await;
        let sender = Arc::new(sender(&api));
        let direct = sender.send_small().await.expect_err("429");
        assert!(
            direct.is_transient() && direct.is_rate_limited(),
            "{direct}"
        );
        assert_eq!(direct.retry_after(), Some(Duration::from_secs(1)));
        accepted_on_the_second_attempt(
            Dispatcher::new(sender).retry_policy(quick()),
            Duration::from_secs(1),
        )
        .await;
    })
    .await;
}

/// Sends through `dispatcher`: accepted on the second attempt, at least `wait` later.
async fn accepted_on_the_second_attempt(dispatcher: Dispatcher, wait: Duration) {
    let started = Instant::now();
    let receipt = dispatcher.send_small().await.expect("accepted on retry");
    assert_eq!(receipt.attempts(), 2);
    assert!(started.elapsed() >= wait, "waited {:?}", started.elapsed());
}

#[tokio::test]
async fn service_unavailable_503_is_retried_with_backoff() {
    within(LIMIT, async {
        let api = FakeApi::start(|n, _| match n {
            0 | 1 => Response::json(503, "<html>Service Unavailable</html>"),
            _ => Response::accepted("after-503", 1, 0),
        })
        .await;
        let err = sender(&api).send_small().await.expect_err("503");
        assert!(err.is_transient() && !err.is_rate_limited(), "{err}");
        assert!(
            err.to_string().contains("<html>Service Unavailable</html>"),
            "{err}"
        );

        accepted_on_the_second_attempt(
            Dispatcher::new(Arc::new(sender(&api))).retry_policy(
                RetryPolicy::default()
                    .max_attempts(3)
                    .first_backoff(Duration::from_millis(50)),
            ),
            Duration::from_millis(50),
        )
        .await;
        assert_eq!(api.requests().len(), 3);
    })
    .await;
}

#[tokio::test]
async fn partial_acceptance_is_reported() {
    within(LIMIT, async {
        let api = FakeApi::start(|_, _| Response::accepted("partial", 1, 1)).await;
        let env = Envelope::new(
            "alice@example.com",
            ["bob@example.net", "suppressed@example.org"],
        )
        .expect("valid");
        let receipt = sender(&api)
            .send(&env, b"Subject: x\r\n\r\ny\r\n")
            .await
            .expect("partial");
        assert_eq!(receipt.id(), Some("partial"));
        assert_eq!(receipt.accepted_count(), 1);
        assert_eq!(receipt.rejected_count(), 1);
        assert!(!receipt.is_complete());

        let api = FakeApi::start(|_, _| Response::accepted("none", 0, 2)).await;
        let err = sender(&api)
            .send(&env, b"Subject: x\r\n\r\ny\r\n")
            .await
            .expect_err("none accepted");
        assert!(err.is_permanent(), "{err}");
        assert!(
            err.to_string().contains("every recipient (2) was rejected"),
            "{err}"
        );
    })
    .await;
}

#[tokio::test]
async fn malformed_json_is_permanent_and_uncertain() {
    within(LIMIT, async {
        let api = FakeApi::start(|_, _| Response::json(200, "{\"results\": {\"id\": ")).await;
        let err = Dispatcher::new(Arc::new(sender(&api)))
            .retry_policy(quick())
            .send_small()
            .await
            .expect_err("unreadable");
        assert!(err.is_permanent() && err.is_delivery_uncertain(), "{err}");
        assert_eq!(err.http_status(), Some(200));
        assert_eq!(
            api.requests().len(),
            1,
            "a 200 is not retried: it may have been sent"
        );
    })
    .await;
}

#[tokio::test]
async fn slow_reply_past_the_timeout() {
    within(LIMIT, async {
        let api =
            FakeApi::start(|_, _| Response::accepted("late", 1, 0).delayed(Duration::from_secs(3)))
                .await;
        let sender = SparkPostSender::builder(Secret::from(KEY))
            .base_url(api.base_url())
            .timeout(Duration::from_millis(300))
            .build()
            .expect("sender");
        let started = Instant::now();
        let err = sender.send_small().await.expect_err("timeout");
        assert!(err.is_timeout() && err.is_transient(), "{err}");
        assert!(started.elapsed() < Duration::from_secs(2));
    })
    .await;
}

#[tokio::test]
async fn messages_the_api_cannot_carry_are_refused_before_sending() {
    within(LIMIT, async {
        let api = FakeApi::start(|_, _| Response::accepted("x", 1, 0)).await;
        let err = sender(&api)
            .send(&envelope(), b"Subject: x\r\n\r\n\xff\xfe\r\n")
            .await
            .expect_err("not UTF-8");
        assert!(err.is_config() && err.is_permanent(), "{err}");
        assert!(api.requests().is_empty());
    })
    .await;
}

#[tokio::test]
async fn api_unreachable_is_transient() {
    let port = closed_port();
    let err = SparkPostSender::builder(Secret::from(KEY))
        .base_url(format!("http://127.0.0.1:{port}"))
        .build()
        .expect("sender")
        .send_small()
        .await
        .expect_err("nothing listens");
    assert!(err.is_transient() && !err.is_delivery_uncertain(), "{err}");
}

//! The ancestor's command lines, status lines, masking, hints and exit codes when sending, by
//! SMTP into a fake server and a real Postfix, and by the API into a stand-in.
#![allow(clippy::unwrap_used)]

use std::process::Output;

use base64ct::{Base64, Encoding};
use smime_testkit::{
    fake_api::{FakeApi, Response, script},
    fake_smtp::{FakeSmtp, Options},
    postfix::{PostfixEnv, maildir_files, postfix_env},
};

use crate::support::*;

const PASSWORD: &str = "s3cret-Pa55word-do-not-print";
const API_KEY: &str = "0123456789abcdef-api-key-do-not-print";

fn base64(s: &str) -> String {
    Base64::encode_string(s.as_bytes())
}

/// `plain.eml`, signed, by SMTP to 127.0.0.1:`port` without TLS, logging in as
/// `SMTP_Injection` with [`PASSWORD`] (`--dangerous-allow-plaintext-auth`).
fn send_with_plaintext_login(port: u16) -> Output {
    run(smime()
        .args([
            &corpus("plain.eml"),
            "--sign",
            "--send-smtp",
            "--tls",
            "none",
            "--dangerous-allow-plaintext-auth",
        ])
        .test_keys()
        .smtp_server(port)
        .smtp_login("SMTP_Injection", PASSWORD))
}

/// `smime ARGS` with the test keys, sending to the API stand-in `api` with [`API_KEY`].
fn send_api(api: &FakeApi, args: &[&str]) -> Output {
    run(smime()
        .args(args)
        .test_keys()
        .api_server(api.base_url())
        .sparkpost_key(API_KEY))
}

fn assert_no_secret(text: &str) {
    for s in [PASSWORD, API_KEY] {
        assert!(!text.contains(s), "secret printed: {text}");
        assert!(
            !text.contains(&base64(s)),
            "base64 of a secret printed: {text}"
        );
        assert!(
            !text.contains(&base64(&format!("\0SMTP_Injection\0{s}"))),
            "{text}"
        );
    }
}

#[test]
fn ancestor_smtp_command_lines_with_both_spellings() {
    let server = FakeSmtp::start_on_thread(Options::default());
    for flag in ["--send-smtp", "--send_smtp"] {
        let out = run(smime()
            .args([
                &corpus("html-inline-image.eml"),
                "--sign",
                "--encrypt",
                flag,
            ])
            .test_keys()
            .smtp_server(server.port()));
        let err = exit_with(&out, 0);
        assert!(
            err.contains(&format!(
                "Opened SMTP connection (STARTTLS if offered) to 127.0.0.1, port {}",
                server.port()
            )),
            "{err}"
        );
        assert!(
            err.contains("html-inline-image.eml\tFrom: alice@example.com\tTo: "),
            "{err}"
        );
        assert!(
            err.lines()
                .any(|l| l.starts_with("OK - in ") && l.ends_with(" seconds")),
            "{err}"
        );
        assert!(stdout(&out).is_empty());
    }
    let msgs = server.log().delivered;
    assert_eq!(msgs.len(), 2);
    assert!(String::from_utf8_lossy(&msgs[0].data).contains("smime-type=enveloped-data"));
    let rcpts = server.log().lines_starting("RCPT TO");
    assert_eq!(rcpts, 4, "two recipients per message");
}

#[test]
fn credentials_are_masked_and_never_printed() {
    let server = FakeSmtp::start_on_thread(Options::default().user("SMTP_Injection", PASSWORD));
    let out = send_with_plaintext_login(server.port());
    let err = exit_with(&out, 0);
    assert!(
        err.contains("user=\"SMTP_Injection\", password=\"********\""),
        "{err}"
    );
    assert_no_secret(&all_output(&out));
    // The help does not show the environment's value either.
    let help = run(smime()
        .arg("--help")
        .env("SMTP_PASSWORD", PASSWORD)
        .env("SPARKPOST_API_KEY", API_KEY));
    assert_no_secret(&all_output(&help));
}

#[test]
fn credentials_never_cross_an_unencrypted_connection_by_default() {
    let server = FakeSmtp::start_on_thread(Options::default().user("SMTP_Injection", PASSWORD));
    let out = run(smime()
        .args([&corpus("plain.eml"), "--sign", "--send-smtp"])
        .test_keys()
        .smtp_server(server.port())
        .smtp_login("SMTP_Injection", PASSWORD));
    assert_ne!(out.status.code(), Some(0));
    assert_no_secret(&all_output(&out));
    let sent = server.log().transcript();
    assert!(
        !sent.contains("AUTH") && !sent.contains(&base64(PASSWORD)),
        "{sent}"
    );
}

#[test]
fn failed_auth_gets_the_server_text_a_hint_and_exit_69() {
    // Another password: 535 5.7.8 Authentication credentials invalid.
    let server =
        FakeSmtp::start_on_thread(Options::default().user("SMTP_Injection", "another-password"));
    let out = send_with_plaintext_login(server.port());
    let err = exit_with(&out, 69);
    assert!(
        err.contains("535 5.7.8 Authentication credentials invalid"),
        "{err}"
    );
    assert!(
        err.contains("hint: check SMTP_USER and SMTP_PASSWORD"),
        "{err}"
    );
    assert!(!err.contains("Opened SMTP"), "{err}");
    assert_no_secret(&all_output(&out));
}

#[test]
fn authorization_required_and_relaying_denied_get_hints() {
    for (options, shown, hint) in [
        (
            Options {
                require_auth: true,
                ..Options::default()
            },
            "530 5.7.1 Authorization required",
            "set SMTP_USER and SMTP_PASSWORD",
        ),
        (
            Options::default().reply("RCPT", "550 5.7.1 relaying denied"),
            "550 5.7.1 relaying denied",
            "check SMTP_PORT",
        ),
    ] {
        let server = FakeSmtp::start_on_thread(options);
        let out = run(smime()
            .args([&corpus("plain.eml"), "--sign", "--send-smtp"])
            .test_keys()
            .smtp_server(server.port()));
        let err = exit_with(&out, 69);
        assert!(err.contains(shown) && err.contains(hint), "{err}");
    }
}

#[test]
fn temporary_failures_exit_75() {
    let server =
        FakeSmtp::start_on_thread(Options::default().reply("RCPT", "451 4.3.0 try again later"));
    let out = run(smime()
        .args([
            &corpus("plain.eml"),
            "--sign",
            "--send-smtp",
            "--attempts",
            "2",
            "--retry-wait",
            "0",
        ])
        .test_keys()
        .smtp_server(server.port()));
    let err = exit_with(&out, 75);
    assert!(err.contains("451 4.3.0 try again later"), "{err}");
    let tries = server.log().lines_starting("RCPT");
    assert_eq!(tries, 2, "retried once");
}

#[test]
fn ancestor_api_command_line_and_request() {
    let api = FakeApi::start_on_thread(script(vec![Response::accepted("7000001", 2, 0)]));
    let out = send_api(
        &api,
        &[
            &corpus("html-inline-image.eml"),
            "--sign_detached",
            "--send_api",
        ],
    );
    let err = exit_with(&out, 0);
    assert!(
        err.contains(&format!("Opened connection to {}/api/v1", api.base_url())),
        "{err}"
    );
    assert!(err.contains("\tTracking: False"), "{err}");
    assert!(err.contains("OK - in "), "{err}");
    assert_no_secret(&all_output(&out));
    let reqs = api.requests();
    let request = &reqs[0];
    assert!(
        request.method == "POST" && request.path.starts_with("/api/v1/transmissions"),
        "{request:?}"
    );
    assert_eq!(request.header("authorization"), Some(API_KEY));
    let v: serde_json::Value = request.json();
    assert_eq!(v["campaign_id"], "sparkpost-SMIME");
    assert_eq!(v["options"]["open_tracking"], false);
    assert_eq!(v["options"]["click_tracking"], false);
    assert_eq!(v["options"]["transactional"], true);
    assert_eq!(v["recipients"].as_array().unwrap().len(), 2);
    assert!(
        v["content"]["email_rfc822"]
            .as_str()
            .unwrap()
            .contains("multipart/signed")
    );
}

#[test]
fn api_failures_fail_loudly_with_their_class() {
    // The ancestor exited 0 on API errors.
    for (reply, code, shown) in [
        (
            Response::error(401, "Unauthorized.", "1"),
            69,
            "check SPARKPOST_API_KEY",
        ),
        (
            Response::error(420, "Exceed Sending Limit (daily)", "2101"),
            69,
            "sending limit",
        ),
        (Response::error(503, "Service Unavailable", "1"), 75, "503"),
    ] {
        let api = FakeApi::start_on_thread(script(vec![reply]));
        let out = send_api(
            &api,
            &[
                &corpus("plain.eml"),
                "--encrypt",
                "--send-api",
                "--attempts",
                "2",
                "--retry-wait",
                "0",
            ],
        );
        let err = exit_with(&out, code);
        assert!(err.contains(shown), "{err}");
        assert_no_secret(&all_output(&out));
    }
}

#[test]
fn tracking_is_refused_with_signing_and_needs_the_api() {
    let f = corpus("plain.eml");
    let out = run(smime().args([&f, "--sign", "--send-api", "--track"]));
    assert_eq!(out.status.code(), Some(2));
    let out = run(smime().args([&f, "--encrypt", "--send-smtp", "--track"]));
    assert_eq!(out.status.code(), Some(2));
    let api = FakeApi::start_on_thread(script(vec![Response::accepted("1", 1, 0)]));
    let out = send_api(&api, &[&f, "--encrypt", "--send-api", "--track"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stderr(&out).contains("Tracking: True"));
    let body: serde_json::Value = api.requests()[0].json();
    assert_eq!(body["options"]["open_tracking"], true);
}

#[test]
fn missing_settings_are_usage_errors() {
    let f = corpus("plain.eml");
    let out = run(smime().args([&f, "--sign", "--send-smtp"]).test_keys());
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("SMTP_HOST is not set"));
    let out = run(smime().args([&f, "--sign", "--send-api"]).test_keys());
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("SPARKPOST_API_KEY is not set"));
    // The API key never crosses plain http to another machine.
    let out = run(smime()
        .args([&f, "--sign", "--send-api"])
        .test_keys()
        .api_server("http://api.example.com")
        .sparkpost_key(API_KEY));
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("not https"));
}

#[test]
fn bulk_json_and_journal_resume() {
    let dir = tempfile::tempdir().unwrap();
    for i in 0..6 {
        let eml = format!(
            "From: alice@example.com\r\nTo: bob@example.net\r\nSubject: n{i}\r\nMessage-ID: <bulk{i}@example.com>\r\n\r\nmessage {i}\r\n"
        );
        std::fs::write(dir.path().join(format!("m{i}.eml")), eml).unwrap();
    }
    std::fs::write(dir.path().join("bad.eml"), "not an email\r\n").unwrap();
    let journal = dir.path().join("journal.jsonl");
    let server = FakeSmtp::start_on_thread(Options::default());
    let go = || {
        run(smime()
            .arg(dir.path())
            .args(["--sign", "--encrypt", "--send-smtp", "--json", "--journal"])
            .arg(&journal)
            .test_keys()
            .smtp_server(server.port()))
    };
    let first = go();
    assert_eq!(first.status.code(), Some(65), "{}", stderr(&first));
    let lines: Vec<serde_json::Value> = stdout(&first)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 7);
    assert_eq!(lines.iter().filter(|v| v["status"] == "sent").count(), 6);
    assert_eq!(lines.iter().filter(|v| v["status"] == "invalid").count(), 1);
    assert!(
        stderr(&first).contains("Done: 6 sent, 1 failed, 0 skipped"),
        "{}",
        stderr(&first)
    );
    assert_eq!(server.log().delivered.len(), 6);

    let second = go();
    let skipped = stdout(&second)
        .lines()
        .filter(|l| l.contains("\"skipped\""))
        .count();
    assert_eq!(skipped, 6, "{}", stdout(&second));
    assert_eq!(server.log().delivered.len(), 6, "nothing sent twice");
}

#[test]
fn delivered_through_postfix_and_still_readable() {
    let Some(PostfixEnv { port, maildir, .. }) = postfix_env() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let tag = format!("cli-{}", std::process::id());
    let eml = format!(
        "From: Alice <alice@example.com>\r\nTo: bob@example.net\r\nBcc: dave@example.net\r\nSubject: {tag}\r\nMessage-ID: <{tag}@example.com>\r\n\r\nthrough postfix\r\n"
    );
    let f = dir.path().join("m.eml");
    std::fs::write(&f, &eml).unwrap();
    let out = run(smime()
        .arg(&f)
        .args(["--sign", "--encrypt", "--send-smtp"])
        .test_keys()
        .smtp_server(port));
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    // Delivery is asynchronous: wait for both copies.
    let mut found = Vec::new();
    for _ in 0..100 {
        found = maildir_files(&maildir)
            .into_iter()
            .filter(|p| std::fs::read_to_string(p).is_ok_and(|t| t.contains(&tag)))
            .collect();
        if found.len() >= 2 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert_eq!(found.len(), 2, "bob and dave (Bcc) each get one copy");
    for p in found {
        let who = if p.to_string_lossy().contains("/bob/") {
            "bob@example.net"
        } else {
            "dave@example.net"
        };
        let msg = std::fs::read(&p).unwrap();
        for tool in smime_testkit::Tool::available() {
            let (entity, _) = tool
                .open(&msg, who)
                .unwrap_or_else(|e| panic!("{tool}: {e}"));
            smime_testkit::assert_same_leaves(eml.as_bytes(), &entity);
        }
    }
}

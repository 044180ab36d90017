//! The real `smime` binary, logging at its most verbose (`-vvv`, and `SMIME_LOG=trace`),
//! fails to authenticate: a wrong SMTP password (plain text by explicit permission, and over
//! STARTTLS with a test CA; AUTH PLAIN and AUTH LOGIN) and a wrong SparkPost API key (401,
//! 403, and a hostile 401 that quotes the key back). Everything it printed (standard output,
//! standard error with the logs, `--json` lines) and everything it wrote (the journal) is
//! searched for the secret in every encoding it could take: as is, hex, and base64 (standard
//! and URL-safe, at all three byte alignments, so it cannot hide inside a longer base64
//! blob such as AUTH PLAIN's `\0user\0password`).
//!
//! The checks are not vacuous: each run must show, in its trace, that the exchange happened
//! (`AUTH PLAIN <redacted>` and the 535 reply; the 401 status and response body), and the
//! fake servers must have received the secret.
#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::process::{Command, Output};

use base64ct::{Base64, Base64Unpadded, Base64Url, Base64UrlUnpadded, Encoding};
use smime_testkit::{
    fake_api::{FakeApi, Response, script},
    fake_smtp::{FakeSmtp, Options, Tls},
    tls::TestCa,
};

use crate::support::*;

const USER: &str = "SMTP_Injection";
const PASSWORD: &str = "Wr0ng-pA55w0rd/for+the-hygiene-test";
const API_KEY: &str = "deadbeef0123456789abcdef-wrong-api-key-0042";

/// The two ways of asking for everything.
const VERBOSE: [(&str, Option<&str>); 2] = [("-vvv", None), ("-v", Some("trace"))];

/// Every form in which `secret` could appear in text: itself, hex (both cases), and base64
/// (standard and URL-safe, padded or not) of the secret and of `\0user\0secret`; and, for
/// the secret sitting at offset 1 or 2 (mod 3) inside a longer blob, the part of its base64
/// that does not depend on the neighbouring bytes.
fn forms(secret: &str, user: Option<&str>) -> Vec<String> {
    let s = secret.as_bytes();
    let mut out = vec![
        secret.to_owned(),
        hex(s, false),
        hex(s, true),
        Base64::encode_string(s),
        Base64Url::encode_string(s),
    ];
    if let Some(user) = user {
        let plain = format!("\0{user}\0{secret}");
        out.push(Base64::encode_string(plain.as_bytes()));
        out.push(Base64Url::encode_string(plain.as_bytes()));
    }
    for shift in 0..3usize {
        let mut shifted = vec![0u8; shift];
        shifted.extend_from_slice(s);
        for encoded in [
            Base64Unpadded::encode_string(&shifted),
            Base64UrlUnpadded::encode_string(&shifted),
        ] {
            // Characters mixing the leading filler with the secret, and a final character
            // holding bits of whatever follows, depend on the neighbours: drop them.
            let skip = [0, 2, 3][shift];
            let end = if shifted.len() % 3 == 0 {
                encoded.len()
            } else {
                encoded.len() - 1
            };
            out.push(encoded[skip..end].to_owned());
        }
    }
    out.sort();
    out.dedup();
    out
}

fn hex(bytes: &[u8], upper: bool) -> String {
    bytes
        .iter()
        .map(|b| {
            if upper {
                format!("{b:02X}")
            } else {
                format!("{b:02x}")
            }
        })
        .collect()
}

#[test]
fn forms_find_the_secret_inside_longer_base64() {
    let needles = forms(PASSWORD, Some(USER));
    for prefix in ["", "x", "xy", "xyz", "\0SMTP_Injection\0"] {
        for suffix in ["", "!", "!?", "!?#"] {
            let blob = format!("{prefix}{PASSWORD}{suffix}");
            for encoded in [
                Base64::encode_string(blob.as_bytes()),
                Base64Url::encode_string(blob.as_bytes()),
            ] {
                assert!(
                    needles.iter().any(|n| encoded.contains(n.as_str())),
                    "{prefix:?}+secret+{suffix:?} escapes: {encoded}"
                );
            }
        }
    }
    assert!(needles.iter().all(|n| n.len() >= 16), "{needles:?}");
}

fn assert_clean(what: &str, text: &str, secret: &str, user: Option<&str>) {
    for needle in forms(secret, user) {
        assert!(
            !text.contains(&needle),
            "{what}: the secret appears (as {needle:?}) in:\n{text}"
        );
    }
}

/// Runs the binary and returns its output with every written file's content.
fn run_logged(mut c: Command, env_log: Option<&str>) -> Output {
    if let Some(spec) = env_log {
        c.env("SMIME_LOG", spec);
    }
    run(&mut c)
}

/// The command up to the send flags: a signed and encrypted message, JSON lines, a
/// journal, one attempt.
fn base(journal: &Path, flag: &str) -> Command {
    let mut c = smime();
    c.args([&corpus("plain.eml"), "--sign", "--encrypt", "--json"])
        .args(["--attempts", "1", "--journal"])
        .arg(journal)
        .arg(flag)
        .test_keys();
    c
}

/// Where the secret comes from on the command line.
#[derive(Clone, Copy, Debug)]
enum Source {
    Env,
    File,
    Flag,
}

fn secret_file(dir: &Path, secret: &str) -> std::path::PathBuf {
    let path = dir.join("secret.txt");
    std::fs::write(&path, format!("{secret}\n")).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    path
}

fn smtp_password(c: &mut Command, source: Source, dir: &Path) {
    match source {
        Source::Env => {
            c.env("SMTP_PASSWORD", PASSWORD);
        }
        Source::File => {
            c.arg("--smtp-password-file")
                .arg(secret_file(dir, PASSWORD));
        }
        Source::Flag => {
            c.args(["--smtp-password", PASSWORD]);
        }
    }
}

fn api_key(c: &mut Command, source: Source, dir: &Path) {
    match source {
        Source::Env => {
            c.env("SPARKPOST_API_KEY", API_KEY);
        }
        Source::File => {
            c.arg("--api-key-file").arg(secret_file(dir, API_KEY));
        }
        Source::Flag => {
            c.args(["--api-key", API_KEY]);
        }
    }
}

/// Checks one failed run: exit code, the evidence that the exchange was traced, and no
/// secret anywhere (output, JSON, journal).
fn check_run(
    what: &str,
    out: &Output,
    journal: &Path,
    secret: &str,
    user: Option<&str>,
    evidence: &[&str],
) {
    let err = stderr(out);
    let json = stdout(out);
    assert_eq!(out.status.code(), Some(69), "{what}: {err}");
    for e in evidence {
        assert!(err.contains(e), "{what}: no {e:?} in the log:\n{err}");
    }
    // A trace level log, with the dependencies' events: the run was verbose.
    assert!(err.contains("TRACE"), "{what}: not at trace level:\n{err}");
    // --json reports the failure on standard output.
    let line: serde_json::Value = serde_json::from_str(json.trim()).unwrap_or_else(|e| {
        panic!("{what}: stdout is not one JSON line ({e}):\n{json}");
    });
    assert_eq!(line["status"], "failed", "{what}: {json}");
    let journal_text = std::fs::read_to_string(journal).unwrap_or_default();
    assert!(!journal_text.is_empty(), "{what}: empty journal");
    assert_clean(what, &all_output(out), secret, user);
    assert_clean(&format!("{what} (journal)"), &journal_text, secret, user);
}

#[test]
fn wrong_smtp_password_over_plain_text_is_never_printed_or_logged() {
    // Another password: 535 5.7.8 Authentication credentials invalid.
    let server = FakeSmtp::start_on_thread(Options::default().user(USER, "the-right-password"));
    for source in [Source::Env, Source::File, Source::Flag] {
        for (flag, env_log) in VERBOSE {
            let dir = tempfile::tempdir().unwrap();
            let journal = dir.path().join("journal");
            let mut c = base(&journal, "--send-smtp");
            c.args(["--tls", "none", "--dangerous-allow-plaintext-auth", flag])
                .smtp_server(server.port())
                .env("SMTP_USER", USER);
            smtp_password(&mut c, source, dir.path());
            let out = run_logged(c, env_log);
            check_run(
                &format!("plain SMTP, {source:?}, {flag} {env_log:?}"),
                &out,
                &journal,
                PASSWORD,
                Some(USER),
                &[
                    "C: AUTH PLAIN <redacted>",
                    "S: 535 5.7.8 Authentication credentials invalid",
                    "AUTH refused",
                    "C: EHLO",
                ],
            );
        }
    }
    // The password did cross (in AUTH PLAIN's blob): the checks above mean something.
    let plain = Base64::encode_string(format!("\0{USER}\0{PASSWORD}").as_bytes());
    let transcript = server.log().transcript();
    assert!(transcript.contains(&plain), "{transcript}");
}

#[test]
fn wrong_smtp_password_over_starttls_is_never_printed_or_logged() {
    let pki = TestCa::new();
    for (mechanisms, evidence) in [
        ("PLAIN LOGIN", "C: AUTH PLAIN <redacted>"),
        ("LOGIN", "C: <redacted>"),
    ] {
        let server = FakeSmtp::start_on_thread(Options {
            tls: Tls::StartTls(pki.acceptor()),
            users: vec![(USER.into(), "the-right-password".into())],
            auth_mechanisms: mechanisms,
            ..Options::default()
        });
        for source in [Source::Env, Source::File] {
            for (flag, env_log) in VERBOSE {
                let dir = tempfile::tempdir().unwrap();
                let journal = dir.path().join("journal");
                let mut c = base(&journal, "--send-smtp");
                c.args(["--tls", "starttls", flag])
                    .arg("--ca-file")
                    .arg(pki.ca_path())
                    .smtp_server(server.port())
                    .env("SMTP_USER", USER);
                smtp_password(&mut c, source, dir.path());
                let out = run_logged(c, env_log);
                let what = format!("STARTTLS {mechanisms}, {source:?}, {flag} {env_log:?}");
                check_run(
                    &what,
                    &out,
                    &journal,
                    PASSWORD,
                    Some(USER),
                    &[
                        evidence,
                        "C: STARTTLS",
                        "TLS established",
                        "S: 535 5.7.8 Authentication credentials invalid",
                    ],
                );
                if mechanisms == "LOGIN" {
                    let err = stderr(&out);
                    assert!(err.contains("C: AUTH LOGIN"), "{what}: {err}");
                    assert!(err.contains("S: 334 UGFzc3dvcmQ6"), "{what}: {err}");
                }
            }
        }
        let log = server.log();
        let sent = forms(PASSWORD, Some(USER));
        assert!(
            log.saw_any(&sent),
            "{mechanisms}: the server never saw the password"
        );
    }
}

#[test]
fn wrong_api_key_is_never_printed_or_logged() {
    for status in [401u16, 403] {
        let api = FakeApi::start_on_thread(script(vec![Response::error(
            status,
            "Unauthorized.",
            if status == 401 { "1000" } else { "1100" },
        )]));
        for source in [Source::Env, Source::File, Source::Flag] {
            for (flag, env_log) in VERBOSE {
                let dir = tempfile::tempdir().unwrap();
                let journal = dir.path().join("journal");
                let mut c = base(&journal, "--send-api");
                c.arg(flag).api_server(api.base_url());
                api_key(&mut c, source, dir.path());
                let out = run_logged(c, env_log);
                check_run(
                    &format!("API {status}, {source:?}, {flag} {env_log:?}"),
                    &out,
                    &journal,
                    API_KEY,
                    None,
                    &[
                        &format!("status={status}"),
                        "API response body",
                        "Unauthorized.",
                        // reqwest's own `log` records, bridged into the trace.
                        "reqwest",
                    ],
                );
            }
        }
        let requests = api.requests();
        assert!(
            requests
                .iter()
                .all(|r| r.header("authorization") == Some(API_KEY)),
            "the key did not reach the API"
        );
    }
}

#[test]
fn api_quoting_the_key_back_is_scrubbed_from_logs_and_errors() {
    let api = FakeApi::start_on_thread(|_, request| {
        let key = request
            .header("authorization")
            .unwrap_or_default()
            .to_owned();
        Response::json(
            401,
            format!(
                r#"{{"errors":[{{"message":"Unauthorized.","description":"key {key} unknown","code":"1000"}}]}}"#
            ),
        )
    });
    for (flag, env_log) in VERBOSE {
        let dir = tempfile::tempdir().unwrap();
        let journal = dir.path().join("journal");
        let mut c = base(&journal, "--send-api");
        c.arg(flag)
            .api_server(api.base_url())
            .sparkpost_key(API_KEY);
        let out = run_logged(c, env_log);
        check_run(
            &format!("hostile API, {flag} {env_log:?}"),
            &out,
            &journal,
            API_KEY,
            None,
            &["status=401", "API response body", "key ******** unknown"],
        );
    }
    assert!(
        api.requests()
            .iter()
            .all(|r| r.header("authorization") == Some(API_KEY))
    );
}

#[test]
fn logging_is_off_by_default_and_an_invalid_filter_is_reported() {
    let api = FakeApi::start_on_thread(script(vec![Response::error(401, "Unauthorized.", "1000")]));
    let dir = tempfile::tempdir().unwrap();
    let journal = dir.path().join("journal");
    let mut c = base(&journal, "--send-api");
    c.api_server(api.base_url()).sparkpost_key(API_KEY);
    let out = run(&mut c);
    let err = exit_with(&out, 69);
    assert!(!err.contains("TRACE") && !err.contains("DEBUG"), "{err}");
    assert_clean("no logging", &all_output(&out), API_KEY, None);

    let mut c = base(&journal, "--send-api");
    c.arg("-vv")
        .api_server(api.base_url())
        .sparkpost_key(API_KEY)
        .env("SMIME_LOG", "smime_transport=[");
    let out = run(&mut c);
    let err = stderr(&out);
    assert!(err.contains("ignoring SMIME_LOG"), "{err}");
    // Falls back to -vv: debug, not trace.
    assert!(err.contains("DEBUG") && err.contains("status=401"), "{err}");
    assert!(!err.contains("API response body"), "{err}");
    assert_clean("bad filter", &all_output(&out), API_KEY, None);
}

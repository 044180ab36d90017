//! What an operator sees in the first hour (issue 14): retries announced as they happen and
//! once per cause, a note when a message goes out without TLS that was only optional, hints
//! that fit the error they follow, and no input passed over or skipped without a word.
#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::process::Output;

use smime_testkit::{
    closed_port,
    fake_smtp::{FakeSmtp, Options, Tls},
    tls::TestCa,
};

use crate::support::*;

/// `count` copies of `plain.eml` as `m0.eml`, `m1.eml`, ... in a new directory.
fn messages(count: usize) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let plain = std::fs::read(corpus("plain.eml")).unwrap();
    for i in 0..count {
        std::fs::write(dir.path().join(format!("m{i}.eml")), &plain).unwrap();
    }
    dir
}

/// `smime -v? DIR --sign --send-smtp ARGS` to 127.0.0.1:`port`.
fn send(dir: &Path, port: u16, args: &[&str]) -> Output {
    run(smime()
        .arg(dir)
        .args(["--sign", "--send-smtp"])
        .args(args)
        .test_keys()
        .smtp_server(port))
}

fn lines_with<'a>(text: &'a str, needle: &str) -> Vec<&'a str> {
    text.lines().filter(|l| l.contains(needle)).collect()
}

/// The `(hint: ...)` of the error line that contains `error`.
fn hint_after<'a>(err: &'a str, error: &str) -> &'a str {
    let line = err
        .lines()
        .find(|l| l.contains(error))
        .unwrap_or_else(|| panic!("no line with {error:?} in:\n{err}"));
    let at = line
        .find("(hint: ")
        .unwrap_or_else(|| panic!("no hint in {line:?}"));
    &line[at..]
}

#[test]
fn retries_are_announced_once_per_cause_and_the_last_line_says_how_often() {
    let port = closed_port();
    let dir = messages(3);
    let out = send(
        dir.path(),
        port,
        &[
            "--attempts",
            "3",
            "--retry-wait",
            "0.2",
            "--concurrency",
            "3",
        ],
    );
    let err = stderr(&out);
    // Connection refused stays a temporary failure: the MTA may be starting.
    assert_eq!(out.status.code(), Some(75), "{err}");
    let refused = format!("cannot connect to 127.0.0.1:{port}");
    for (wait, attempt) in [("200 ms", 2), ("400 ms", 3)] {
        let announced = lines_with(&err, &format!("(attempt {attempt} of 3)"));
        assert_eq!(announced.len(), 1, "three messages, one line:\n{err}");
        let line = announced[0];
        assert!(
            line.starts_with(&format!("smime: retrying in {wait}: {refused}")),
            "{line}"
        );
    }
    let failed = lines_with(&err, "(3 attempts over ");
    assert_eq!(failed.len(), 3, "each message's last line:\n{err}");
    for line in failed {
        assert!(line.contains(&refused), "{line}");
        assert!(
            line.ends_with("(hint: check SMTP_HOST and SMTP_PORT, and that the server is running)"),
            "{line}"
        );
    }
}

#[test]
fn one_note_when_mail_went_out_without_tls_that_was_only_optional() {
    let server = FakeSmtp::start_on_thread(Options::default());
    let dir = messages(2);
    let note = format!(
        "note: 127.0.0.1:{} offers no STARTTLS; sent without TLS",
        server.port()
    );
    // `--tls auto` (the default) without credentials, and `opportunistic`: one note a run.
    for args in [&[][..], &["--tls", "opportunistic"]] {
        let out = send(dir.path(), server.port(), args);
        let err = exit_with(&out, 0);
        assert_eq!(lines_with(&err, &note).len(), 1, "{args:?}:\n{err}");
    }
    // Asked for in so many words: no note.
    let out = send(dir.path(), server.port(), &["--tls", "none"]);
    let err = exit_with(&out, 0);
    assert!(!err.contains("note:"), "{err}");
    assert_eq!(server.log().delivered.len(), 6);
}

#[test]
fn help_and_behaviour_agree_on_tls_auto() {
    let help = String::from_utf8(run(smime().arg("--help")).stdout).unwrap();
    let auto = help
        .lines()
        .skip_while(|l| !l.contains("--tls <TLS>"))
        .take_while(|l| !l.trim_start().starts_with("- starttls"))
        .flat_map(str::split_whitespace)
        .collect::<Vec<_>>()
        .join(" ");
    assert!(
        auto.contains("required when credentials are given") && auto.contains("used when offered"),
        "{auto}"
    );
}

#[test]
fn tls_hints_fit_the_error_they_follow() {
    let plain = FakeSmtp::start_on_thread(Options::default());
    let dir = messages(1);

    // STARTTLS required and not offered: nothing to do with a CA file.
    let err = stderr(&send(dir.path(), plain.port(), &["--tls", "starttls"]));
    let hint = hint_after(&err, "does not offer STARTTLS");
    assert!(!hint.contains("--ca-file"), "{hint}");
    assert!(hint.contains("465") && hint.contains("--tls"), "{hint}");

    // Credentials over plain text refused, before connecting (`none`) or after (no STARTTLS
    // offered to `opportunistic`): the way to TLS, or the explicit escape hatch.
    for tls in ["none", "opportunistic"] {
        let out = run(smime()
            .arg(dir.path())
            .args(["--sign", "--send-smtp", "--tls", tls])
            .test_keys()
            .smtp_server(plain.port())
            .smtp_login("SMTP_Injection", "not-sent"));
        let err = stderr(&out);
        assert_ne!(out.status.code(), Some(0), "{err}");
        let hint = hint_after(&err, "over an unencrypted connection");
        assert!(!hint.contains("--ca-file"), "{hint}");
        assert!(hint.contains("--dangerous-allow-plaintext-auth"), "{hint}");
    }

    // A certificate from an unknown CA: now the CA file is the answer.
    let pki = TestCa::new();
    let tls = FakeSmtp::start_on_thread(Options {
        tls: Tls::StartTls(pki.acceptor()),
        ..Options::default()
    });
    let err = stderr(&send(dir.path(), tls.port(), &["--tls", "starttls"]));
    let hint = hint_after(&err, "TLS failed");
    assert!(hint.contains("--ca-file"), "{hint}");
    assert!(tls.log().delivered.is_empty() && plain.log().delivered.is_empty());
}

#[test]
fn files_without_eml_are_counted_and_listed_at_v() {
    let dir = messages(1);
    for other in ["b.msg", "notes.txt"] {
        std::fs::write(dir.path().join(other), "not mail").unwrap();
    }
    std::fs::create_dir(dir.path().join("sub")).unwrap();
    let out_dir = tempfile::tempdir().unwrap();
    let protect = |verbose: bool| {
        let mut c = smime();
        if verbose {
            c.arg("-v");
        }
        run(c
            .arg(dir.path())
            .args(["--sign", "--output-dir"])
            .arg(out_dir.path())
            .test_keys())
    };
    let out = protect(false);
    let err = exit_with(&out, 0);
    assert_eq!(
        lines_with(&err, "2 files without .eml skipped (-v lists them)").len(),
        1,
        "{err}"
    );
    assert!(!err.contains("b.msg"), "{err}");

    let err = stderr(&protect(true));
    for other in ["b.msg", "notes.txt"] {
        let path = dir.path().join(other);
        let line = format!("Skipping {}: not an .eml file", path.display());
        assert_eq!(lines_with(&err, &line).len(), 1, "{err}");
    }
    assert!(!err.contains("sub:"), "a directory is not a file:\n{err}");
}

#[test]
fn a_resumed_run_says_in_one_line_what_the_journal_skipped() {
    let server = FakeSmtp::start_on_thread(Options::default());
    let dir = messages(5);
    let state = tempfile::tempdir().unwrap();
    let journal = state.path().join("journal.jsonl");
    let journal_arg = journal.display().to_string();
    let resume = |verbose: &[&str]| {
        let mut args = vec!["--journal", &journal_arg];
        args.extend_from_slice(verbose);
        send(dir.path(), server.port(), &args)
    };
    let first = resume(&[]);
    assert_eq!(first.status.code(), Some(0), "{}", stderr(&first));

    let again = resume(&[]);
    let err = exit_with(&again, 0);
    assert_eq!(
        lines_with(
            &err,
            "5 already accepted in an earlier run (journal), skipped (-v lists them)"
        )
        .len(),
        1,
        "{err}"
    );
    assert!(!err.contains("Skipping"), "no line per message:\n{err}");

    let err = stderr(&resume(&["-v"]));
    assert_eq!(
        lines_with(&err, ": accepted in an earlier run").len(),
        5,
        "{err}"
    );
    assert_eq!(server.log().delivered.len(), 5, "sent once");
}

//! End to end: 500 messages signed, encrypted and sent to a real Postfix with a journal; the
//! run is interrupted part way (SIGTERM, as a service manager or Ctrl-C would) and resumed;
//! every message arrives exactly once and still verifies.
#![allow(clippy::unwrap_used)]

use std::collections::HashSet;
use std::process::Stdio;
use std::time::{Duration, Instant};

use smime_testkit::postfix::{PostfixEnv, maildir_files, postfix_env};

use crate::support::*;

const COUNT: usize = 500;

#[test]
fn interrupted_bulk_run_resumes_without_loss_or_duplicates() {
    let Some(PostfixEnv { port, maildir, .. }) = postfix_env() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let tag = format!(
        "resume-{}-{}",
        std::process::id(),
        Instant::now().elapsed().as_nanos()
    );
    let inputs = dir.path().join("in");
    std::fs::create_dir(&inputs).unwrap();
    let body = "A line of text for the bulk test.\r\n".repeat(40);
    for i in 0..COUNT {
        let eml = format!(
            "From: Alice <alice@example.com>\r\nTo: Bob <bob@example.net>\r\nSubject: {tag} {i}\r\n\
             Message-ID: <{tag}.{i}@example.com>\r\nContent-Type: text/plain; charset=utf-8\r\n\
             Content-Transfer-Encoding: 8bit\r\n\r\nNr. {i} \u{2014} {body}"
        );
        std::fs::write(inputs.join(format!("{i:04}.eml")), eml).unwrap();
    }
    let journal = dir.path().join("journal.jsonl");
    let command = || {
        let mut c = smime();
        c.arg(&inputs)
            .args([
                "--sign",
                "--encrypt",
                "--send-smtp",
                "--concurrency",
                "4",
                "--journal",
            ])
            .arg(&journal)
            .test_keys()
            .smtp_server(port);
        c
    };

    // First run: interrupt it once a fifth of the messages are recorded.
    let child = command()
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let recorded = std::fs::read_to_string(&journal).map_or(0, |j| j.lines().count());
        if recorded >= COUNT / 5 || Instant::now() > deadline {
            break;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let first = child.wait_with_output().unwrap();
    let first_err = String::from_utf8_lossy(&first.stderr);
    let recorded = std::fs::read_to_string(&journal).unwrap().lines().count();
    assert!(
        recorded < COUNT,
        "the run finished before it could be interrupted"
    );
    assert_eq!(
        first.status.code(),
        Some(75),
        "interrupted: retry later\n{first_err}"
    );
    assert!(first_err.contains("Interrupted: "), "{first_err}");

    // Second run: the rest.
    let second = command().output().unwrap();
    let second_err = String::from_utf8_lossy(&second.stderr);
    assert_eq!(second.status.code(), Some(0), "{second_err}");
    assert!(
        second_err.contains(&format!("{} skipped", recorded)) || recorded == 0,
        "{second_err}"
    );

    // Every message delivered exactly once (delivery is asynchronous: wait for it to settle).
    let ours = || -> Vec<std::path::PathBuf> {
        maildir_files(&maildir)
            .into_iter()
            .filter(|p| std::fs::read_to_string(p).is_ok_and(|t| t.contains(&tag)))
            .collect()
    };
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut files = ours();
    while files.len() < COUNT && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(200));
        files = ours();
    }
    std::thread::sleep(Duration::from_millis(500));
    files = ours();
    let mut ids = HashSet::new();
    for f in &files {
        let text = std::fs::read_to_string(f).unwrap();
        let id = text
            .lines()
            .find(|l| l.to_ascii_lowercase().starts_with("message-id:"))
            .unwrap()
            .to_owned();
        assert!(ids.insert(id.clone()), "delivered twice: {id}");
    }
    assert_eq!(files.len(), COUNT, "every message delivered once");

    // A sample still verifies and decrypts after the trip.
    let tools = smime_testkit::Tool::available();
    for f in files.iter().step_by(COUNT / 5) {
        let msg = std::fs::read(f).unwrap();
        for tool in &tools {
            let (entity, layers) = tool.open(&msg, "bob@example.net").unwrap();
            assert_eq!(layers, ["enveloped", "opaque-signed"]);
            assert!(String::from_utf8_lossy(&entity).contains("A line of text"));
        }
    }
}

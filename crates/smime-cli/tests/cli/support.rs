//! Shared by the CLI tests: running the binary. The fake servers, the test CA and the Postfix
//! driver come from `smime_testkit` (feature `servers`), the test data's paths too.
#![allow(dead_code, clippy::unwrap_used, unreachable_pub)]

use std::process::{Command, Output};

/// `testdata/corpus/<name>` as a command-line argument.
pub fn corpus(name: &str) -> String {
    smime_testkit::corpus_path(name).display().to_string()
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

//! Shared by the CLI tests: running the binary, and the environment a send needs. The fake
//! servers, the test CA and the Postfix driver come from `smime_testkit` (feature `servers`), the
//! test data's paths too.
#![allow(dead_code, clippy::unwrap_used, unreachable_pub)]

use std::ffi::OsStr;
use std::path::Path;
use std::process::{Command, Output};

use smime_testkit::keys_dir;

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
        "SMIME_KEY_PASSWORD",
    ] {
        c.env_remove(v);
    }
    c
}

pub fn run(c: &mut Command) -> Output {
    c.output().unwrap()
}

/// `smime ARGS`, with a clean environment ([`smime`]).
pub fn smime_args(args: &[&str]) -> Output {
    run(smime().args(args))
}

/// `corpus/name` protected by the command itself with `mode` (e.g. `--sign --encrypt`).
pub fn protect(mode: &[&str], name: &str) -> Vec<u8> {
    let keys = keys_dir().display().to_string();
    let file = corpus(name);
    let mut args = vec!["--keys", &keys];
    args.extend_from_slice(mode);
    args.push(&file);
    let out = smime_args(&args);
    assert!(
        out.status.success(),
        "{mode:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// Writes `data` to `dir/name`; returns the path as a command-line argument.
pub fn write(dir: &Path, name: &str, data: &[u8]) -> String {
    let p = dir.join(name);
    std::fs::write(&p, data).unwrap();
    p.display().to_string()
}

/// The environment variables of a send, on a [`Command`].
pub trait SendEnv {
    /// `SMIME_KEYS`: the test keys.
    fn test_keys(&mut self) -> &mut Self;
    /// `SMTP_HOST` and `SMTP_PORT`: the server on 127.0.0.1:`port`.
    fn smtp_server(&mut self, port: u16) -> &mut Self;
    /// `SMTP_USER` and `SMTP_PASSWORD`.
    fn smtp_login(&mut self, user: &str, password: &str) -> &mut Self;
    /// `SPARKPOST_HOST`: the API at `base_url`.
    fn api_server(&mut self, base_url: impl AsRef<OsStr>) -> &mut Self;
    /// `SPARKPOST_API_KEY`.
    fn sparkpost_key(&mut self, key: &str) -> &mut Self;
}

impl SendEnv for Command {
    fn test_keys(&mut self) -> &mut Self {
        self.env("SMIME_KEYS", keys_dir())
    }

    fn smtp_server(&mut self, port: u16) -> &mut Self {
        self.env("SMTP_HOST", "127.0.0.1")
            .env("SMTP_PORT", port.to_string())
    }

    fn smtp_login(&mut self, user: &str, password: &str) -> &mut Self {
        self.env("SMTP_USER", user).env("SMTP_PASSWORD", password)
    }

    fn api_server(&mut self, base_url: impl AsRef<OsStr>) -> &mut Self {
        self.env("SPARKPOST_HOST", base_url)
    }

    fn sparkpost_key(&mut self, key: &str) -> &mut Self {
        self.env("SPARKPOST_API_KEY", key)
    }
}

/// Standard error, once the exit code is checked to be `code` (the message shows it).
pub fn exit_with(o: &Output, code: i32) -> String {
    let err = stderr(o);
    assert_eq!(o.status.code(), Some(code), "{err}");
    err
}

/// The one line of standard error (warnings about readable test keys aside), once the exit
/// code is checked to be `code`; fails when there are more.
pub fn one_error_line(o: &Output, code: i32) -> String {
    let err = exit_with(o, code);
    let lines: Vec<&str> = err
        .lines()
        .filter(|l| !l.contains("can be read by group"))
        .collect();
    assert_eq!(lines.len(), 1, "{err}");
    lines[0].to_owned()
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

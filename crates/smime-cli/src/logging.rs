//! Diagnostics on standard error: `-v` (info), `-vv` (debug), `-vvv` (trace), or `SMIME_LOG`
//! in `tracing`'s EnvFilter syntax, which overrides `-v`. Standard output keeps the
//! results (a message, `--json` lines); the status lines stay as they are.
//!
//! `log` records of dependencies (rustls, hyper, reqwest) are turned into events too, so
//! they are filtered and printed the same way.
//!
//! What the levels show, from `smime-transport`: `debug` has connections, TLS, EHLO
//! capabilities, the AUTH mechanism and its outcome, MAIL/RCPT/DATA results, pool reuse,
//! retries, and each API request's method, URL, status and latency; `trace` adds the SMTP
//! conversation (AUTH payloads redacted, message content as a byte count) and API response
//! bodies. Passwords and API keys are never logged.

use std::io::IsTerminal;

use tracing_subscriber::{EnvFilter, util::SubscriberInitExt};

/// The variable holding a filter (`SMIME_LOG=debug`, `SMIME_LOG=smime_transport=trace`).
pub(crate) const ENV: &str = "SMIME_LOG";

/// The filter for a count of `-v`; `None` when nothing should be logged.
fn level_filter(verbose: u8) -> Option<&'static str> {
    match verbose {
        0 => None,
        1 => Some("info"),
        2 => Some("debug"),
        _ => Some("trace"),
    }
}

/// Installs the subscriber writing to standard error, when `-v` or `SMIME_LOG` asks for
/// one. An invalid `SMIME_LOG` is reported and the `-v` level used instead.
pub(crate) fn init(verbose: u8) {
    let from_env = std::env::var(ENV)
        .ok()
        .filter(|v| !v.trim().is_empty())
        .and_then(|spec| match EnvFilter::try_new(&spec) {
            Ok(filter) => Some(filter),
            Err(e) => {
                eprintln!("smime: warning: ignoring {ENV}={spec:?}: {e}");
                None
            }
        });
    let filter = match from_env {
        Some(filter) => filter,
        None => match level_filter(verbose) {
            Some(level) => EnvFilter::new(level),
            None => return,
        },
    };
    let installed = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .finish()
        .try_init();
    if let Err(e) = installed {
        eprintln!("smime: warning: cannot set up logging: {e}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verbosity_levels() {
        assert_eq!(level_filter(0), None);
        assert_eq!(level_filter(1), Some("info"));
        assert_eq!(level_filter(2), Some("debug"));
        assert_eq!(level_filter(3), Some("trace"));
        assert_eq!(level_filter(9), Some("trace"));
    }
}

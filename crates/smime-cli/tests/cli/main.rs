//! The integration tests of the `smime` binary, in one test binary (link time is most of the
//! test time): one module per subject, sharing `support` (running the binary). The fake SMTP
//! server, the SparkPost API stand-in, the test CA and the Postfix driver come from
//! `smime_testkit`.
//!
//! ```text
//! cargo test -p smime-cli --test cli              # all of them
//! cargo test -p smime-cli --test cli secrets::    # one module
//! ```

mod certs;
mod cli;
mod ecdsa;
mod hostile;
mod operator;
mod passphrase;
mod resume;
mod secrets;
mod send;
mod show;
mod support;

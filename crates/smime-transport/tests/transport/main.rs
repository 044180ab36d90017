//! The integration tests of smime-transport, in one binary (link time is most of the test
//! time): the senders against the testkit's fake SMTP server and SparkPost API stand-in
//! (`smtp`, `sparkpost`, `secrets`), through a real Postfix on loopback (`postfix`,
//! `postfix_smime`; `scripts/test.sh` starts one), and the fuzz targets' findings replayed
//! (`fuzz_regressions`).
//!
//! ```text
//! cargo test -p smime-transport --test transport            # all of them
//! cargo test -p smime-transport --test transport postfix    # the Postfix ones
//! ```

mod fuzz_regressions;
mod postfix;
mod postfix_smime;
mod secrets;
mod smtp;
mod sparkpost;

use std::time::Duration;

use smime_testkit::postfix::{PostfixEnv, SKIP_MESSAGE, postfix_env};
use smime_transport::{
    Dispatcher, Envelope, Receipt, SendError, Sender, SmtpSender, SparkPostSender, Timeouts,
    TlsMode,
};

/// The message most tests send: small, from alice@example.com to bob@example.net.
const SMALL: &[u8] = b"Subject: x\r\n\r\ny\r\n";

/// [`SMALL`] sent through a sender or a dispatcher.
trait SendSmall {
    async fn send_small(&self) -> Result<Receipt, SendError>;
}

fn small_envelope() -> Envelope {
    Envelope::new("alice@example.com", ["bob@example.net"]).expect("valid envelope")
}

impl SendSmall for SmtpSender {
    async fn send_small(&self) -> Result<Receipt, SendError> {
        self.send(&small_envelope(), SMALL).await
    }
}

impl SendSmall for SparkPostSender {
    async fn send_small(&self) -> Result<Receipt, SendError> {
        self.send(&small_envelope(), SMALL).await
    }
}

impl SendSmall for Dispatcher {
    async fn send_small(&self) -> Result<Receipt, SendError> {
        self.send(&small_envelope(), SMALL).await
    }
}

/// Runs `test` (within 60 s) when the private Postfix is there; else `postfix_env` has said
/// why it skips, or failed under `SMIME_REQUIRE_INTEROP=1`.
async fn with_postfix(test: impl Future<Output = ()>) {
    if postfix_env().is_some() {
        smime_testkit::within(Duration::from_secs(60), test).await;
    }
}

/// An SMTP sender for the private Postfix: no TLS (it offers none), pipelining as advertised.
fn postfix_sender(env: &PostfixEnv, pool_size: usize) -> SmtpSender {
    SmtpSender::builder(&env.host, env.port)
        .tls(TlsMode::None)
        .helo_name("smime-transport.test")
        .pool_size(pool_size)
        .timeouts(Timeouts::uniform(Duration::from_secs(30)))
        .build()
        .expect("postfix sender")
}

/// Sends `message` to the private Postfix with `envelope`, and returns, per recipient in
/// envelope order, the delivered file as Postfix wrote it
/// ([`smime_testkit::postfix::deliver_and_fetch`]).
async fn deliver_and_fetch(message: &[u8], envelope: &Envelope) -> Vec<(String, Vec<u8>)> {
    deliver_and_fetch_with_receipt(message, envelope).await.1
}

/// [`deliver_and_fetch`], also returning the transport's receipt.
async fn deliver_and_fetch_with_receipt(
    message: &[u8],
    envelope: &Envelope,
) -> (Receipt, Vec<(String, Vec<u8>)>) {
    let env = postfix_env().expect(SKIP_MESSAGE);
    let sender = postfix_sender(&env, 1);
    let recipients: Vec<&str> = envelope.addresses().collect();
    smime_testkit::postfix::deliver_and_fetch(message, &recipients, async {
        let receipt = sender
            .send(envelope, message)
            .await
            .expect("postfix accepts the message");
        let _ = sender.shutdown().await;
        receipt
    })
    .await
}

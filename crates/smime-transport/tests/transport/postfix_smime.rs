//! The core's corpus, signed and encrypted by `smime-core`, sent through a real Postfix on
//! loopback: every recipient (To, Cc, Bcc) receives a copy that OpenSSL (and gpgsm and NSS,
//! when present) still verifies and decrypts, with every decoded part unchanged.

use std::sync::Arc;

use smime_core::{KeyStore, Options, Protector};
use smime_testkit::postfix::postfix_env;
use smime_testkit::{Tool, compare_leaves};
use smime_transport::{Envelope, Recipient};

use crate::deliver_and_fetch;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn corpus_survives_postfix_and_still_verifies_and_decrypts() {
    if postfix_env().is_none() {
        return;
    }
    let keys = KeyStore::open(smime_testkit::keys_dir()).expect("test keys");
    let protector = Protector::new(Arc::new(keys), Options::sign_and_encrypt());
    let tools = Tool::available();
    let mut checked = 0;
    for (name, eml) in smime_testkit::corpus() {
        let p = protector.protect(&eml).expect("protect");
        let envelope = Envelope::new(
            p.mail_from.clone(),
            p.recipients
                .iter()
                .map(|r| Recipient::new(r.mailbox.address.clone())),
        )
        .expect("envelope");
        let copies = deliver_and_fetch(&p.message, &envelope).await;
        assert_eq!(
            copies.len(),
            p.recipients.len(),
            "{name}: one copy per recipient"
        );
        for (rcpt, copy) in copies {
            for tool in &tools {
                let (entity, layers) = tool
                    .open(&copy, &rcpt.to_ascii_lowercase())
                    .unwrap_or_else(|e| panic!("{name} as delivered to {rcpt}, {tool}: {e}"));
                assert_eq!(layers, ["enveloped", "opaque-signed"], "{name}");
                compare_leaves(&eml, &entity)
                    .unwrap_or_else(|d| panic!("{name} to {rcpt}, {tool}: {d}"));
                checked += 1;
            }
        }
    }
    assert!(checked > 0);
}

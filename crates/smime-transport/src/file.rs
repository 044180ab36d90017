//! A [`Sender`] that writes each message to a directory (dry run).

use std::{
    path::{Path, PathBuf},
    sync::atomic::{AtomicU64, Ordering},
    time::{Instant, SystemTime, UNIX_EPOCH},
};

use async_trait::async_trait;
use serde::Serialize;
use tokio::io::AsyncWriteExt;

use crate::{
    envelope::Envelope,
    error::{Repr, SendError},
    receipt::Receipt,
    sender::Sender,
};

/// Writes every message to `DIR/<id>.eml`, byte for byte, and its envelope to
/// `DIR/<id>.json` (`{"mail_from": ..., "rcpt_to": [{"address": ..., "name": ...}]}`).
/// Nothing is sent; existing files are never overwritten.
///
/// ```no_run
/// use smime_transport::{Envelope, FileSender, Sender};
///
/// # async fn example(message: &[u8]) -> Result<(), Box<dyn std::error::Error>> {
/// let sender = FileSender::new("out");
/// let receipt = sender.send(&Envelope::new("a@example.com", ["b@example.net"])?, message).await?;
/// println!("wrote {}", receipt.id().unwrap_or_default());
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct FileSender {
    dir: PathBuf,
    counter: AtomicU64,
    run: String,
}

#[derive(Serialize)]
struct EnvelopeFile<'a> {
    mail_from: &'a str,
    rcpt_to: Vec<RecipientFile<'a>>,
}

#[derive(Serialize)]
struct RecipientFile<'a> {
    address: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<&'a str>,
}

impl FileSender {
    /// Writes into `dir`, which must exist.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        let secs = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or_default();
        Self {
            dir: dir.into(),
            counter: AtomicU64::new(0),
            run: format!("{secs}-{}", std::process::id()),
        }
    }

    /// The directory written to.
    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

async fn write_new(path: &Path, bytes: &[u8]) -> Result<(), SendError> {
    let io = |source| {
        SendError::from(Repr::Io {
            action: "write",
            path: path.to_owned(),
            source,
        })
    };
    let mut file = tokio::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .await
        .map_err(io)?;
    file.write_all(bytes).await.map_err(io)?;
    file.flush().await.map_err(io)
}

#[async_trait]
impl Sender for FileSender {
    async fn send(&self, envelope: &Envelope, message: &[u8]) -> Result<Receipt, SendError> {
        let started = Instant::now();
        let n = self.counter.fetch_add(1, Ordering::Relaxed) + 1;
        let id = format!("{}-{n:06}", self.run);
        let eml = self.dir.join(format!("{id}.eml"));
        let json = self.dir.join(format!("{id}.json"));
        let description = serde_json::to_vec_pretty(&EnvelopeFile {
            mail_from: envelope.mail_from(),
            rcpt_to: envelope
                .rcpt_to()
                .iter()
                .map(|r| RecipientFile {
                    address: r.address(),
                    name: r.name(),
                })
                .collect(),
        })
        .map_err(|e| SendError::message(format!("cannot describe the envelope: {e}")))?;
        write_new(&eml, message).await?;
        write_new(&json, &description).await?;
        Ok(
            Receipt::new(envelope.addresses().map(str::to_owned).collect())
                .with_id(Some(eml.display().to_string()))
                .with_response(format!("written to {}", eml.display()))
                .with_elapsed(started.elapsed()),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Recipient;

    #[tokio::test]
    async fn writes_message_and_envelope() {
        let dir = tempfile::tempdir().expect("temp dir");
        let sender = FileSender::new(dir.path());
        let envelope = Envelope::new(
            "a@example.com",
            [
                Recipient::new("b@example.net").with_name("B"),
                "c@example.org".into(),
            ],
        )
        .expect("valid");
        let msg = b"Subject: x\r\n\r\n.body\r\n";
        let r1 = sender.send(&envelope, msg).await.expect("written");
        let r2 = sender.send(&envelope, msg).await.expect("written");
        assert_ne!(r1.id(), r2.id());
        let path = PathBuf::from(r1.id().expect("id"));
        assert_eq!(std::fs::read(&path).expect("eml"), msg);
        let json: serde_json::Value =
            serde_json::from_slice(&std::fs::read(path.with_extension("json")).expect("json"))
                .expect("valid json");
        assert_eq!(
            json,
            serde_json::json!({"mail_from": "a@example.com", "rcpt_to": [
                {"address": "b@example.net", "name": "B"}, {"address": "c@example.org"}]})
        );

        let missing = FileSender::new(dir.path().join("missing"));
        let err = missing.send(&envelope, msg).await.expect_err("no dir");
        assert!(err.is_permanent());
    }
}

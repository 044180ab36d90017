//! OpenSSL (`openssl cms`) as an independent verifier and decrypter.
//!
//! The S/MIME framing is taken apart by [`crate::classify`] and OpenSSL is given the raw CMS
//! (`-inform DER`) and, for detached signatures, the exact content bytes with `-binary`, so that
//! OpenSSL does no MIME parsing and no line-ending conversion of its own: what is checked is
//! exactly what a receiving client hashes. [`verify_smime`] is the other way round: it lets
//! OpenSSL parse the whole message itself.
//!
//! Trust: `-CAfile ca.crt` (the root only, so the intermediate must come from the message) and
//! `-purpose smimesign` (keyUsage / extendedKeyUsage checked).

use std::path::PathBuf;
use std::process::Command;

use crate::mime::{Layer, classify};
use crate::run::run;
use crate::{ca_cert, key_cert, key_pem, locate};

fn openssl() -> Result<PathBuf, String> {
    locate("openssl")
}

/// Verifies the signed top layer of `message` (opaque or detached) against the test root CA and
/// returns the signed MIME entity: the eContent for opaque signing, the first body part for
/// `multipart/signed`.
pub fn verify(message: &[u8]) -> Result<Vec<u8>, String> {
    let bin = openssl()?;
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let out = dir.path().join("content.out");
    let mut cmd = Command::new(bin);
    cmd.args([
        "cms",
        "-verify",
        "-binary",
        "-inform",
        "DER",
        "-purpose",
        "smimesign",
    ])
    .arg("-CAfile")
    .arg(ca_cert())
    .arg("-out")
    .arg(&out);
    let detached_content = match classify(message)? {
        Layer::OpaqueSigned { der } => {
            let p = dir.path().join("signed.p7m");
            std::fs::write(&p, der).map_err(|e| e.to_string())?;
            cmd.arg("-in").arg(p);
            None
        }
        Layer::Detached {
            content, signature, ..
        } => {
            let p = dir.path().join("smime.p7s");
            let c = dir.path().join("content");
            std::fs::write(&p, signature).map_err(|e| e.to_string())?;
            std::fs::write(&c, &content).map_err(|e| e.to_string())?;
            cmd.arg("-in").arg(p).arg("-content").arg(c);
            Some(content)
        }
        other => return Err(format!("openssl verify: not signed ({})", other.kind())),
    };
    let o = run(cmd)?;
    if !o.status.success() {
        return Err(format!(
            "openssl cms -verify failed ({}): {}",
            o.status,
            o.text()
        ));
    }
    if !String::from_utf8_lossy(&o.stderr).contains("Verification successful") {
        return Err(format!(
            "openssl cms -verify: no success line: {}",
            o.text()
        ));
    }
    match detached_content {
        Some(content) => Ok(content),
        None => std::fs::read(&out).map_err(|e| format!("openssl output: {e}")),
    }
}

/// Like [`verify`], but OpenSSL parses the S/MIME message itself (`-inform SMIME`), the way
/// `openssl smime -verify` users and OpenSSL-based clients do. Use it to check that OpenSSL's own
/// MIME reader accepts the framing. Returns OpenSSL's output (the signed entity).
///
/// This runs in OpenSSL's default text mode, which canonicalises the content to CRLF before
/// hashing, so it cannot catch line-ending mistakes: [`verify`] (exact bytes) does. Text mode is
/// forced on us: with `-binary -inform SMIME`, OpenSSL 3.0 keeps the CR of the CRLF that precedes
/// the closing delimiter as part of the content, so every CRLF `multipart/signed` (its own
/// `-crlfeol` output included) fails with "content verify error".
pub fn verify_smime(message: &[u8]) -> Result<Vec<u8>, String> {
    let bin = openssl()?;
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let input = dir.path().join("message.eml");
    let out = dir.path().join("content.out");
    std::fs::write(&input, message).map_err(|e| e.to_string())?;
    let mut cmd = Command::new(bin);
    cmd.args([
        "cms",
        "-verify",
        "-inform",
        "SMIME",
        "-purpose",
        "smimesign",
    ])
    .arg("-CAfile")
    .arg(ca_cert())
    .arg("-in")
    .arg(&input)
    .arg("-out")
    .arg(&out);
    let o = run(cmd)?;
    if !o.status.success() {
        return Err(format!(
            "openssl cms -verify failed ({}): {}",
            o.status,
            o.text()
        ));
    }
    std::fs::read(&out).map_err(|e| format!("openssl output: {e}"))
}

/// Decrypts the enveloped (or auth-enveloped) top layer of `message` with the key of `address`
/// from the test PKI (`-recip <address>.crt -inkey <address>.pem`, so the RecipientInfo for
/// exactly that certificate must be present) and returns the decrypted MIME entity.
pub fn decrypt(message: &[u8], address: &str) -> Result<Vec<u8>, String> {
    let bin = openssl()?;
    let der = match classify(message)? {
        Layer::Enveloped { der } | Layer::AuthEnveloped { der } => der,
        other => {
            return Err(format!("openssl decrypt: not enveloped ({})", other.kind()));
        }
    };
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let input = dir.path().join("enveloped.p7m");
    let out = dir.path().join("decrypted.out");
    std::fs::write(&input, der).map_err(|e| e.to_string())?;
    let mut cmd = Command::new(bin);
    cmd.args(["cms", "-decrypt", "-binary", "-inform", "DER"])
        .arg("-in")
        .arg(&input)
        .arg("-recip")
        .arg(key_cert(address))
        .arg("-inkey")
        .arg(key_pem(address))
        .arg("-out")
        .arg(&out);
    let o = run(cmd)?;
    if !o.status.success() {
        return Err(format!(
            "openssl cms -decrypt as {address} failed ({}): {}",
            o.status,
            o.text()
        ));
    }
    std::fs::read(&out).map_err(|e| format!("openssl output: {e}"))
}

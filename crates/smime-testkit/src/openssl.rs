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

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::run::{Files, Signed, run, write_enveloped};
use crate::{ca_cert, key_cert, key_pem, locate};

fn openssl() -> Result<PathBuf, String> {
    locate("openssl")
}

/// Verifies the signed top layer of `message` (opaque or detached) against the test root CA and
/// returns the signed MIME entity: the eContent for opaque signing, the first body part for
/// `multipart/signed`.
pub fn verify(message: &[u8]) -> Result<Vec<u8>, String> {
    let bin = openssl()?;
    let files = Files::new()?;
    let signed = Signed::write(message, &files, "openssl")?;
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
    .arg(files.path("content.out"));
    let detached_content = match signed {
        Signed::Opaque { cms } => {
            cmd.arg("-in").arg(cms);
            None
        }
        Signed::Detached {
            signature,
            content_file,
            content,
        } => {
            cmd.arg("-in")
                .arg(signature)
                .arg("-content")
                .arg(content_file);
            Some(content)
        }
    };
    let o = run(cmd)?.success("openssl cms -verify")?;
    if !String::from_utf8_lossy(&o.stderr).contains("Verification successful") {
        return Err(format!(
            "openssl cms -verify: no success line: {}",
            o.text()
        ));
    }
    match detached_content {
        Some(content) => Ok(content),
        None => files.read("content.out", "openssl"),
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
    let files = Files::new()?;
    let input = files.write("message.eml", message)?;
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
    .arg(files.path("content.out"));
    run(cmd)?.success("openssl cms -verify")?;
    files.read("content.out", "openssl")
}

/// Decrypts the enveloped (or auth-enveloped) top layer of `message` with the key of `address`
/// from the test PKI (`-recip <address>.crt -inkey <address>.pem`, so the RecipientInfo for
/// exactly that certificate must be present) and returns the decrypted MIME entity.
pub fn decrypt(message: &[u8], address: &str) -> Result<Vec<u8>, String> {
    let bin = openssl()?;
    let files = Files::new()?;
    let input = write_enveloped(message, &files, "openssl")?;
    let mut cmd = Command::new(bin);
    cmd.args(["cms", "-decrypt", "-binary", "-inform", "DER"])
        .arg("-in")
        .arg(&input)
        .arg("-recip")
        .arg(key_cert(address))
        .arg("-inkey")
        .arg(key_pem(address))
        .arg("-out")
        .arg(files.path("decrypted.out"));
    run(cmd)?.success(&format!("openssl cms -decrypt as {address}"))?;
    files.read("decrypted.out", "openssl")
}

/// Runs the openssl command line as `openssl ARGS -in INPUT CERTS...`, with `input` written to a
/// file and the recipient certificates (if any) last, where `openssl cms -encrypt` wants them:
/// for tests that make S/MIME with OpenSSL rather than with the library. Returns its standard
/// output, or its exit status and messages when it fails.
pub fn run_cli(args: &[&str], input: &[u8], certs: &[&Path]) -> Result<Vec<u8>, String> {
    let bin = openssl()?;
    let files = Files::new()?;
    let input = files.write("in", input)?;
    let mut cmd = Command::new(bin);
    cmd.args(args).arg("-in").arg(&input).args(certs);
    Ok(run(cmd)?
        .success(&format!("openssl {}", args.join(" ")))?
        .stdout)
}

//! NSS (the S/MIME engine of Thunderbird) through `cmsutil`, as an independent verifier and
//! decrypter.
//!
//! Each process keeps one throw-away `sql:` database per purpose, created on first use: one for
//! verifying (the root CA only, trusted `C,C,C`: the intermediate must come from the message)
//! and one per decrypting address (root + that address's PKCS#12, imported with `pk12util`), so
//! that a decryption proves the RecipientInfo for that address works. Databases have an empty
//! password. Calls on one database are serialised; each command has a 60-second deadline.
//!
//! Trap: `cmsutil -D` exits 0 even when the digest does not match (with `-h`), so a
//! verification passes only if `cmsutil -D -u 4 -h 2` exits 0 **and** reports
//! `signerN.status=GoodSignature` for every one of its `nsigners` signers (other values seen:
//! `DigestMismatch`, `SigningCertNotTrusted`, `BadSignature`).

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::run::{Files, Output, ScratchDir, ScratchDirs, Signed, lock, run, write_enveloped};
use crate::{P12_PASSWORD, ca_cert, key_p12, locate};

/// The databases: `None` for verifying, one per decrypting address.
static DBS: ScratchDirs = ScratchDirs::new(create_db);

fn sql(dir: &Path) -> String {
    format!("sql:{}", dir.display())
}

fn create_db(address: Option<&str>) -> Result<ScratchDir, String> {
    let dir = ScratchDir::new("smime-testkit-nss-", None)?;
    let d = sql(dir.path());
    let mut cmd = Command::new(locate("certutil")?);
    cmd.args(["-N", "--empty-password", "-d", &d]);
    run(cmd)?.success("certutil -N")?;
    let mut cmd = Command::new(locate("certutil")?);
    cmd.args(["-A", "-n", "smime-test-root", "-t", "C,C,C", "-d", &d, "-i"])
        .arg(ca_cert());
    run(cmd)?.success("certutil -A ca.crt")?;
    if let Some(addr) = address {
        let mut cmd = Command::new(locate("pk12util")?);
        cmd.args(["-W", P12_PASSWORD, "-K", "", "-d", &d, "-i"])
            .arg(key_p12(addr));
        run(cmd)?.success(&format!("pk12util -i {addr}.p12"))?;
        let mut cmd = Command::new(locate("certutil")?);
        cmd.args(["-K", "-d", &d]);
        let o = run(cmd)?.success("certutil -K")?;
        if !String::from_utf8_lossy(&o.stdout).contains(addr) {
            return Err(format!(
                "NSS did not import the key of {addr}: {}",
                o.text()
            ));
        }
    }
    Ok(dir)
}

/// Parses the `-h` header lines of `cmsutil -D`: `Ok(())` when every signer is GoodSignature.
fn judge_signers(o: &Output) -> Result<(), String> {
    let text = String::from_utf8_lossy(&o.stdout);
    let fields: Vec<(&str, &str)> = text
        .split([';', '\n'])
        .filter_map(|f| f.trim().split_once('='))
        .collect();
    let nsigners: usize = fields
        .iter()
        .find(|(k, _)| k.ends_with("nsigners"))
        .and_then(|(_, v)| v.trim().parse().ok())
        .unwrap_or(0);
    let good = (0..nsigners).all(|i| {
        let key = format!("signer{i}.status");
        fields
            .iter()
            .any(|(k, v)| *k == key && v.trim() == "GoodSignature")
    });
    if !o.status.success() || nsigners == 0 || !good {
        return Err(o.failure("cmsutil -D (verify)"));
    }
    Ok(())
}

/// Verifies the signed top layer of `message` (opaque or detached) with NSS as an e-mail signer
/// (`-u 4`, certUsageEmailSigner) and returns the signed MIME entity.
pub fn verify(message: &[u8]) -> Result<Vec<u8>, String> {
    let files = Files::new()?;
    let signed = Signed::write(message, &files, "cmsutil")?;
    let cmsutil = locate("cmsutil")?;
    let db = DBS.get(None)?;
    let db = lock(&db);
    let d = sql(db.path());
    let mut cmd = Command::new(&cmsutil);
    cmd.args(["-D", "-u", "4", "-h", "2", "-n", "-d", &d, "-i"]);
    match signed {
        Signed::Opaque { cms } => {
            // Status first (with -h the headers would be mixed into -o output), then content.
            cmd.arg(&cms);
            judge_signers(&run(cmd)?)?;
            let mut cmd = Command::new(&cmsutil);
            cmd.args(["-D", "-u", "4", "-d", &d, "-i"])
                .arg(&cms)
                .arg("-o")
                .arg(files.path("content.out"));
            run(cmd)?.success("cmsutil -D (content)")?;
            files.read("content.out", "cmsutil")
        }
        Signed::Detached {
            signature,
            content_file,
            content,
        } => {
            cmd.arg(signature).arg("-c").arg(content_file);
            judge_signers(&run(cmd)?)?;
            Ok(content)
        }
    }
}

/// Decrypts the enveloped top layer of `message` with NSS, in a database that holds only the
/// private key of `address`, and returns the decrypted MIME entity. (NSS 3.87 cannot read
/// AuthEnvelopedData or RSA-OAEP.)
pub fn decrypt(message: &[u8], address: &str) -> Result<Vec<u8>, String> {
    let files = Files::new()?;
    let input = write_enveloped(message, &files, "cmsutil")?;
    let cmsutil = locate("cmsutil")?;
    let db = DBS.get(Some(address))?;
    let db = lock(&db);
    let mut cmd = Command::new(cmsutil);
    cmd.args(["-D", "-d", &sql(db.path()), "-p", "", "-i"])
        .arg(&input)
        .arg("-o")
        .arg(files.path("decrypted.out"));
    run(cmd)?.success(&format!("cmsutil -D (decrypt as {address})"))?;
    files.read("decrypted.out", "cmsutil")
}

/// The NSS database directory used for `address` (`None`: the verification database), creating
/// it if needed. For debugging by hand: `certutil -L -d sql:<path>`.
pub fn db_dir(address: Option<&str>) -> Result<PathBuf, String> {
    DBS.path(address)
}

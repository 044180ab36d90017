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

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex, OnceLock};

use crate::mime::{Layer, classify};
use crate::run::{Output, ScratchDir, run};
use crate::{P12_PASSWORD, ca_cert, key_p12, locate};

type Db = Arc<Mutex<ScratchDir>>;

static DBS: OnceLock<Mutex<HashMap<String, Db>>> = OnceLock::new();

fn db(address: Option<&str>) -> Result<Db, String> {
    let dbs = DBS.get_or_init(|| Mutex::new(HashMap::new()));
    let mut dbs = dbs.lock().unwrap_or_else(|e| e.into_inner());
    let key = address.unwrap_or("").to_owned();
    if let Some(d) = dbs.get(&key) {
        return Ok(Arc::clone(d));
    }
    let d = Arc::new(Mutex::new(create_db(address)?));
    dbs.insert(key, Arc::clone(&d));
    Ok(d)
}

fn sql(dir: &Path) -> String {
    format!("sql:{}", dir.display())
}

fn check(o: Output, what: &str) -> Result<Output, String> {
    if o.status.success() {
        Ok(o)
    } else {
        Err(format!("{what} failed ({}): {}", o.status, o.text()))
    }
}

fn create_db(address: Option<&str>) -> Result<ScratchDir, String> {
    let dir = ScratchDir::new("smime-testkit-nss-", None)?;
    let d = sql(dir.path());
    let mut cmd = Command::new(locate("certutil")?);
    cmd.args(["-N", "--empty-password", "-d", &d]);
    check(run(cmd)?, "certutil -N")?;
    let mut cmd = Command::new(locate("certutil")?);
    cmd.args(["-A", "-n", "smime-test-root", "-t", "C,C,C", "-d", &d, "-i"])
        .arg(ca_cert());
    check(run(cmd)?, "certutil -A ca.crt")?;
    if let Some(addr) = address {
        let mut cmd = Command::new(locate("pk12util")?);
        cmd.args(["-W", P12_PASSWORD, "-K", "", "-d", &d, "-i"])
            .arg(key_p12(addr));
        check(run(cmd)?, &format!("pk12util -i {addr}.p12"))?;
        let mut cmd = Command::new(locate("certutil")?);
        cmd.args(["-K", "-d", &d]);
        let o = check(run(cmd)?, "certutil -K")?;
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
        return Err(format!(
            "cmsutil -D (verify) failed ({}): {}",
            o.status,
            o.text()
        ));
    }
    Ok(())
}

/// Verifies the signed top layer of `message` (opaque or detached) with NSS as an e-mail signer
/// (`-u 4`, certUsageEmailSigner) and returns the signed MIME entity.
pub fn verify(message: &[u8]) -> Result<Vec<u8>, String> {
    let layer = classify(message)?;
    let cmsutil = locate("cmsutil")?;
    let db = db(None)?;
    let db = db.lock().unwrap_or_else(|e| e.into_inner());
    let d = sql(db.path());
    let tmp = tempfile::tempdir().map_err(|e| e.to_string())?;
    match layer {
        Layer::OpaqueSigned { der } => {
            let p = tmp.path().join("signed.p7m");
            let out = tmp.path().join("content.out");
            std::fs::write(&p, der).map_err(|e| e.to_string())?;
            // Status first (with -h the headers would be mixed into -o output), then content.
            let mut cmd = Command::new(&cmsutil);
            cmd.args(["-D", "-u", "4", "-h", "2", "-n", "-d", &d, "-i"])
                .arg(&p);
            judge_signers(&run(cmd)?)?;
            let mut cmd = Command::new(&cmsutil);
            cmd.args(["-D", "-u", "4", "-d", &d, "-i"])
                .arg(&p)
                .arg("-o")
                .arg(&out);
            check(run(cmd)?, "cmsutil -D (content)")?;
            std::fs::read(&out).map_err(|e| format!("cmsutil output: {e}"))
        }
        Layer::Detached {
            content, signature, ..
        } => {
            let p = tmp.path().join("smime.p7s");
            let c = tmp.path().join("content");
            std::fs::write(&p, signature).map_err(|e| e.to_string())?;
            std::fs::write(&c, &content).map_err(|e| e.to_string())?;
            let mut cmd = Command::new(&cmsutil);
            cmd.args(["-D", "-u", "4", "-h", "2", "-n", "-d", &d, "-i"])
                .arg(&p)
                .arg("-c")
                .arg(&c);
            judge_signers(&run(cmd)?)?;
            Ok(content)
        }
        other => Err(format!("cmsutil verify: not signed ({})", other.kind())),
    }
}

/// Decrypts the enveloped top layer of `message` with NSS, in a database that holds only the
/// private key of `address`, and returns the decrypted MIME entity. (NSS 3.87 cannot read
/// AuthEnvelopedData or RSA-OAEP.)
pub fn decrypt(message: &[u8], address: &str) -> Result<Vec<u8>, String> {
    let der = match classify(message)? {
        Layer::Enveloped { der } | Layer::AuthEnveloped { der } => der,
        other => return Err(format!("cmsutil decrypt: not enveloped ({})", other.kind())),
    };
    let cmsutil = locate("cmsutil")?;
    let db = db(Some(address))?;
    let db = db.lock().unwrap_or_else(|e| e.into_inner());
    let tmp = tempfile::tempdir().map_err(|e| e.to_string())?;
    let input = tmp.path().join("enveloped.p7m");
    let out = tmp.path().join("decrypted.out");
    std::fs::write(&input, der).map_err(|e| e.to_string())?;
    let mut cmd = Command::new(cmsutil);
    cmd.args(["-D", "-d", &sql(db.path()), "-p", "", "-i"])
        .arg(&input)
        .arg("-o")
        .arg(&out);
    check(run(cmd)?, &format!("cmsutil -D (decrypt as {address})"))?;
    std::fs::read(&out).map_err(|e| format!("cmsutil output: {e}"))
}

/// The NSS database directory used for `address` (`None`: the verification database), creating
/// it if needed. For debugging by hand: `certutil -L -d sql:<path>`.
pub fn db_dir(address: Option<&str>) -> Result<PathBuf, String> {
    let d = db(address)?;
    let d = d.lock().unwrap_or_else(|e| e.into_inner());
    Ok(d.path().to_path_buf())
}

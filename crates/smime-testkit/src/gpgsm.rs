//! GnuPG's `gpgsm` (2.2) as an independent verifier and decrypter.
//!
//! Each process keeps one throw-away GNUPGHOME per purpose, created on first use and reused:
//! one for verifying (root + intermediate certificates only) and one per decrypting address
//! (root + intermediate + that address's PKCS#12), so that a decryption proves the RecipientInfo
//! for *that* address works, not just any of the test keys. Every home has:
//!
//! * `trustlist.txt`: the root's SHA-1 fingerprint followed by ` S relax`;
//! * `gpgsm.conf`: `disable-crl-checks`, `disable-dirmngr` (no network, no CRLs for a test CA);
//! * `gpg-agent.conf`: a `pinentry-program` script answering the PKCS#12 password (`test`) to
//!   every `GETPIN` (batch mode has no other way to pass it in 2.2), `s2k-count 65536` (the
//!   agent otherwise calibrates key protection to ~100 ms per import) and `disable-scdaemon`.
//!
//! Homes live until the process exits; the gpg-agent of each is then killed with
//! `gpgconf --kill all` and the directory removed (see the reaper in `run.rs`). Calls on one
//! home are serialised. Every gpgsm call has a 60-second deadline.
//!
//! A verification passes only if gpgsm exits 0, reports `GOODSIG` + `VALIDSIG` and a
//! `TRUST_FULLY`/`TRUST_ULTIMATE` for every `NEWSIG`, and no `BADSIG`, `ERRSIG`, `EXPSIG`,
//! `EXPKEYSIG`, `REVKEYSIG`, `TRUST_UNDEFINED`, `TRUST_NEVER` or `ERROR`. The exit code alone is
//! not enough: gpgsm 2.2 exits 0 with `EXPKEYSIG` for an expired signer certificate and with
//! `ERROR verify.keyusage` + `GOODSIG` for a certificate without digitalSignature. It does not
//! check extendedKeyUsage at all (a serverAuth-only signer verifies).

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::run::{Files, Output, ScratchDir, ScratchDirs, Signed, lock, run, write_enveloped};
use crate::{P12_PASSWORD, ca_cert, intermediate_cert, key_p12, locate};

/// The homes: `None` for verifying, one per decrypting address.
static HOMES: ScratchDirs = ScratchDirs::new(create_home);

fn gpgsm_cmd(home: &Path) -> Result<Command, String> {
    let mut cmd = Command::new(locate("gpgsm")?);
    cmd.env("GNUPGHOME", home)
        .env_remove("GPG_AGENT_INFO")
        .env_remove("DISPLAY")
        .args(["--batch", "--no-tty", "--status-fd", "1"]);
    Ok(cmd)
}

fn gpgconf_cmd(home: &Path) -> Result<Command, String> {
    let mut cmd = Command::new(locate("gpgconf")?);
    cmd.env("GNUPGHOME", home);
    Ok(cmd)
}

const PINENTRY: &str = r#"#!/bin/sh
# Answers every PIN request with the PKCS#12 password of the smime test PKI.
echo "OK smime-testkit pinentry"
while IFS= read -r line; do
  case "$line" in
    GETPIN*) echo "D @PASS@"; echo "OK" ;;
    BYE*) echo "OK closing connection"; exit 0 ;;
    *) echo "OK" ;;
  esac
done
"#;

fn create_home(address: Option<&str>) -> Result<ScratchDir, String> {
    let gpgconf = locate("gpgconf")?;
    let dir = ScratchDir::new("smime-testkit-gpgsm-", Some(&gpgconf))?;
    let h = dir.path();
    let write = |name: &str, text: &str| {
        std::fs::write(h.join(name), text).map_err(|e| format!("gpgsm home {name}: {e}"))
    };
    write("pinentry.sh", &PINENTRY.replace("@PASS@", P12_PASSWORD))?;
    std::fs::set_permissions(
        h.join("pinentry.sh"),
        std::fs::Permissions::from_mode(0o700),
    )
    .map_err(|e| format!("pinentry.sh: {e}"))?;
    write(
        "gpg-agent.conf",
        &format!(
            "pinentry-program {}\ns2k-count 65536\ndisable-scdaemon\nmin-passphrase-len 1\nmin-passphrase-nonalpha 0\n",
            h.join("pinentry.sh").display()
        ),
    )?;
    write("gpgsm.conf", "disable-crl-checks\ndisable-dirmngr\n")?;

    // The root first, alone, to read its fingerprint for trustlist.txt.
    let mut cmd = gpgsm_cmd(h)?;
    cmd.arg("--import").arg(ca_cert());
    run(cmd)?.success("gpgsm --import ca.crt")?;
    let mut cmd = gpgsm_cmd(h)?;
    cmd.args(["--with-colons", "--list-keys"]);
    let o = run(cmd)?.success("gpgsm --list-keys")?;
    let listing = String::from_utf8_lossy(&o.stdout);
    let fprs: Vec<&str> = listing
        .lines()
        .filter(|l| l.starts_with("fpr:"))
        .filter_map(|l| l.split(':').nth(9))
        .collect();
    let [fpr] = fprs.as_slice() else {
        return Err(format!(
            "expected one certificate after importing ca.crt: {listing}"
        ));
    };
    write("trustlist.txt", &format!("{fpr} S relax\n"))?;
    // Make sure no agent started so far runs with a stale (empty) trust list.
    let mut cmd = gpgconf_cmd(h)?;
    cmd.args(["--kill", "gpg-agent"]);
    run(cmd)?.success("gpgconf --kill gpg-agent")?;

    let mut cmd = gpgsm_cmd(h)?;
    cmd.arg("--import").arg(intermediate_cert());
    run(cmd)?.success("gpgsm --import intermediate.crt")?;

    if let Some(addr) = address {
        let mut cmd = gpgsm_cmd(h)?;
        cmd.arg("--import").arg(key_p12(addr));
        let o = run(cmd)?.success(&format!("gpgsm --import {addr}.p12"))?;
        // gpgsm can exit 0 having imported the certificates but not the key (for instance when
        // it cannot decrypt the PKCS#12): check that the secret key is really there.
        let mut cmd = gpgsm_cmd(h)?;
        cmd.args(["--with-colons", "--list-secret-keys"]);
        let l = run(cmd)?.success("gpgsm --list-secret-keys")?;
        if !String::from_utf8_lossy(&l.stdout).contains(&format!("<{addr}>")) {
            return Err(format!(
                "gpgsm did not import the secret key of {addr}: {}",
                o.text()
            ));
        }
    }
    Ok(dir)
}

/// Status keywords (`[GNUPG:] KEYWORD ...`) in order.
fn status_words(stdout: &[u8]) -> Vec<String> {
    String::from_utf8_lossy(stdout)
        .lines()
        .filter_map(|l| l.strip_prefix("[GNUPG:] "))
        .filter_map(|l| l.split_whitespace().next())
        .map(str::to_owned)
        .collect()
}

/// Judges a `gpgsm --verify` run; see the module documentation.
fn judge_verify(o: &Output) -> Result<(), String> {
    let words = status_words(&o.stdout);
    let count = |w: &str| words.iter().filter(|x| *x == w).count();
    let bad = [
        "BADSIG",
        "ERRSIG",
        "EXPSIG",
        "EXPKEYSIG",
        "REVKEYSIG",
        "TRUST_UNDEFINED",
        "TRUST_NEVER",
        // e.g. `ERROR verify.keyusage 125` for a signer without digitalSignature, which gpgsm
        // 2.2 reports next to GOODSIG and exit code 0.
        "ERROR",
    ];
    let sigs = count("NEWSIG");
    let trusted = count("TRUST_FULLY") + count("TRUST_ULTIMATE");
    if !o.status.success()
        || sigs == 0
        || count("GOODSIG") != sigs
        || count("VALIDSIG") != sigs
        || trusted != sigs
        || bad.iter().any(|b| count(b) > 0)
    {
        return Err(o.failure("gpgsm --verify"));
    }
    Ok(())
}

/// Verifies the signed top layer of `message` (opaque or detached) with gpgsm and returns the
/// signed MIME entity.
pub fn verify(message: &[u8]) -> Result<Vec<u8>, String> {
    let files = Files::new()?;
    let signed = Signed::write(message, &files, "gpgsm")?;
    let home = HOMES.get(None)?;
    let home = lock(&home);
    let mut cmd = gpgsm_cmd(home.path())?;
    match signed {
        Signed::Opaque { cms } => {
            cmd.arg("--output")
                .arg(files.path("content.out"))
                .arg("--verify")
                .arg(cms);
            judge_verify(&run(cmd)?)?;
            files.read("content.out", "gpgsm")
        }
        Signed::Detached {
            signature,
            content_file,
            content,
        } => {
            cmd.arg("--verify").arg(signature).arg(content_file);
            judge_verify(&run(cmd)?)?;
            Ok(content)
        }
    }
}

/// Decrypts the enveloped top layer of `message` with gpgsm, in a home that holds only the
/// private key of `address`, and returns the decrypted MIME entity. (gpgsm 2.2 cannot read
/// AuthEnvelopedData.)
pub fn decrypt(message: &[u8], address: &str) -> Result<Vec<u8>, String> {
    let files = Files::new()?;
    let input = write_enveloped(message, &files, "gpgsm")?;
    let home = HOMES.get(Some(address))?;
    let home = lock(&home);
    let mut cmd = gpgsm_cmd(home.path())?;
    cmd.arg("--output")
        .arg(files.path("decrypted.out"))
        .arg("--decrypt")
        .arg(&input);
    let o = run(cmd)?;
    let words = status_words(&o.stdout);
    // gpgsm 2.2 exits 2 after a *successful* decryption when a RecipientInfo before ours names
    // a certificate it does not have ("failed to find the certificate") or a key it does not
    // hold (NO_SECKEY): every error it logs bumps the exit code. Accept a non-zero exit only
    // when DECRYPTION_OKAY was reported and every log line is one of those.
    let exit_ok = o.status.success()
        || String::from_utf8_lossy(&o.stderr).lines().all(|l| {
            let l = l.trim_start_matches("gpgsm: ");
            l.starts_with("encrypted to ")
                || l.starts_with("failed to find the certificate")
                || l == "error decrypting session key: No secret key"
                || l == "decrypting session key failed: No secret key"
        });
    if !exit_ok
        || !words.iter().any(|w| w == "DECRYPTION_OKAY")
        || words
            .iter()
            .any(|w| w == "DECRYPTION_FAILED" || w == "ERROR" || w == "FAILURE")
    {
        return Err(o.failure(&format!("gpgsm --decrypt as {address}")));
    }
    files.read("decrypted.out", "gpgsm")
}

/// The GNUPGHOME used for `address` (`None`: the verification home), creating it if needed.
/// For debugging a failing test by hand: `GNUPGHOME=<path> gpgsm --list-keys`.
pub fn home_dir(address: Option<&str>) -> Result<PathBuf, String> {
    HOMES.path(address)
}

//! `smime certs list` (the keys directory's certificates and their state, from
//! `KeyStore::list_certificates`) and `smime certs import` (`KeyStore::plan_import`, then
//! the files written here). The core decides and formats; the CLI renders and writes.

use std::io::Write;
use std::path::Path;
use std::time::SystemTime;

use smime_core::{CertStatus, ImportVerdict, KeyStore, ListedCertificate, TrustStore};

use crate::cli::{ImportArgs, TrustArgs};
use crate::error::{CliError, exit};

/// The trust anchors the options ask for: the system bundle unless `--no-system-trust`,
/// then every `--trust FILE`.
pub(crate) fn trust_store(args: &TrustArgs) -> Result<TrustStore, CliError> {
    let mut trust = TrustStore::new();
    if !args.no_system_trust {
        match trust.add_system() {
            Ok(Some(_)) => {}
            Ok(None) => eprintln!(
                "smime: warning: no system CA bundle found; only --trust files are trusted"
            ),
            Err(e) => return Err(CliError::Keys(e)),
        }
    }
    for file in &args.trust {
        trust.add_file(file).map_err(CliError::Keys)?;
    }
    Ok(trust)
}

/// `smime certs list`.
pub(crate) fn list(keys: &Path, trust: &TrustArgs, json: bool) -> Result<(), CliError> {
    let trust = trust_store(trust)?;
    let store = KeyStore::open(keys).map_err(CliError::Keys)?;
    let (certs, unreadable) = store.list_certificates(&trust, SystemTime::now());
    for (file, why) in &unreadable {
        eprintln!("smime: {}: passed over: {why}", file.display());
    }
    let out = std::io::stdout();
    let mut out = out.lock();
    let written = if json {
        certs
            .iter()
            .try_for_each(|c| writeln!(out, "{}", json_line(c)))
    } else {
        text(&mut out, &certs)
    };
    match written {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(CliError::WriteOutput {
            file: "<stdout>".into(),
            source: e,
        }),
        _ => Ok(()),
    }
}

fn text(out: &mut impl Write, certs: &[ListedCertificate]) -> std::io::Result<()> {
    if certs.is_empty() {
        return writeln!(out, "no certificates");
    }
    let width = certs.iter().map(|c| c.address.len()).max().unwrap_or(0);
    for c in certs {
        let date = c.not_after_rfc3339();
        writeln!(
            out,
            "{:width$}  {:8}  {}  {:13}  key {:10}  {}",
            c.address,
            c.key,
            date.get(..10).unwrap_or(&date),
            c.status.as_str(),
            c.private_key.as_str(),
            c.issuer,
        )?;
        if let (CertStatus::Untrusted, Some(why)) = (c.status, &c.trust_problem) {
            writeln!(out, "{:width$}  not trusted: {why}", "")?;
        }
    }
    Ok(())
}

fn json_line(c: &ListedCertificate) -> serde_json::Value {
    serde_json::json!({
        "address": c.address,
        "addresses": c.addresses,
        "subject": c.subject,
        "issuer": c.issuer,
        "serial": c.serial,
        "not_before": c.not_before_rfc3339(),
        "not_after": c.not_after_rfc3339(),
        "key": c.key,
        "status": c.status.as_str(),
        "trust_problem": c.trust_problem,
        "private_key": c.private_key.as_str(),
        "file": c.file.display().to_string(),
    })
}

/// `smime certs import`: the exit code (0, or 65 when anything was refused).
pub(crate) fn import(args: &ImportArgs) -> Result<i32, CliError> {
    let mut store = KeyStore::open(&args.keys).map_err(CliError::Keys)?;
    if let Some(source) = crate::passphrase::source(args.key_password_file.as_deref())? {
        store = store.with_passphrase_source(source);
    }
    let trust = trust_store(&args.trust)?;
    let mut refused = false;
    for file in &args.files {
        let data = std::fs::read(file).map_err(|source| CliError::ReadInput {
            file: file.clone(),
            source,
        })?;
        let plan = match store.plan_import(file, &data, Some(&trust), SystemTime::now()) {
            Ok(plan) => plan,
            Err(e @ smime_core::KeyError::PassphraseNeeded { .. }) => {
                return Err(CliError::Keys(e));
            }
            Err(e) => {
                refused = true;
                eprintln!("smime: refused: {e}");
                continue;
            }
        };
        for item in plan {
            let who = if item.address.is_empty() {
                item.subject.as_str()
            } else {
                item.address.as_str()
            };
            if let (Some(path), Some(pem)) = (&item.path, &item.pem) {
                write_atomically(path, pem.as_bytes()).map_err(|source| CliError::WriteOutput {
                    file: path.clone(),
                    source,
                })?;
            }
            match &item.verdict {
                ImportVerdict::Refused(why) => {
                    refused = true;
                    println!("refused    {who} ({}): {why}", file.display());
                }
                verdict => {
                    let trusted = match &item.untrusted {
                        None => "trusted".to_owned(),
                        Some(why) => format!("not trusted: {why}"),
                    };
                    println!(
                        "{:10} {who} ({}): {trusted}",
                        verdict.as_str(),
                        file.display()
                    );
                }
            }
        }
    }
    Ok(if refused { exit::DATA_ERR } else { 0 })
}

/// Writes `data` to `path` through a temporary file in the same directory, so that a
/// reader never sees half a certificate.
fn write_atomically(path: &Path, data: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    tmp.write_all(data)?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

//! Building S/MIME messages in-process, next to the OpenSSL command line doing the same job
//! (`openssl cms -sign | openssl cms -encrypt`), measured in the same run.
//!
//! `cargo bench -p smime-benches --bench build`

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::Arc;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use smime_core::{KeyBackend, KeyStore, Options, Protector, SignMode};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn inputs() -> Vec<(&'static str, Vec<u8>)> {
    let corpus = repo().join("testdata/corpus");
    let read = |n: &str| std::fs::read(corpus.join(n)).expect("corpus file");
    vec![
        ("20KB", read("html-inline-image.eml")),
        ("600KB", read("big-attachment.eml")),
    ]
}

fn protector(options: Options, backend: KeyBackend) -> Protector {
    let keys = KeyStore::open(repo().join("testdata/pki/keys"))
        .expect("test keys")
        .with_key_backend(backend);
    Protector::new(Arc::new(keys), options)
}

const BACKENDS: [(&str, KeyBackend); 2] = [
    ("rustcrypto", KeyBackend::RustCrypto),
    ("aws-lc", KeyBackend::AwsLc),
];

/// One `openssl cms -sign | openssl cms -encrypt` pipeline, as an operator would script it.
fn openssl_sign_encrypt(eml: &[u8], keys: &std::path::Path, recips: &[&str]) -> Vec<u8> {
    let key = keys.join("alice@example.com.pem");
    let mut sign = Command::new("openssl")
        .args(["cms", "-sign", "-nodetach", "-md", "sha256", "-signer"])
        .arg(&key)
        .arg("-inkey")
        .arg(&key)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("openssl");
    let mut encrypt = Command::new("openssl");
    encrypt.args(["cms", "-encrypt", "-aes256"]);
    for r in recips {
        encrypt.arg(keys.join(format!("{r}.crt")));
    }
    let signed_out = sign.stdout.take().expect("pipe");
    let encrypt = encrypt
        .stdin(signed_out)
        .stdout(Stdio::piped())
        .spawn()
        .expect("openssl");
    sign.stdin
        .take()
        .expect("pipe")
        .write_all(eml)
        .expect("write");
    let out = encrypt.wait_with_output().expect("openssl encrypt");
    assert!(sign.wait().expect("openssl sign").success());
    assert!(out.status.success());
    out.stdout
}

fn bench_sign_encrypt(c: &mut Criterion) {
    let mut group = c.benchmark_group("sign_encrypt");
    group.sample_size(30);
    let keys = repo().join("testdata/pki/keys");
    let have_openssl = Command::new("openssl").arg("version").output().is_ok();
    for (label, eml) in inputs() {
        group.throughput(Throughput::Bytes(eml.len() as u64));
        for (name, backend) in BACKENDS {
            let p = protector(Options::sign_and_encrypt(), backend);
            // Load the keys once before timing, as a bulk run does.
            p.protect(&eml).expect("protect");
            let id = BenchmarkId::new(format!("smime-core/{name}"), label);
            group.bench_with_input(id, &eml, |b, eml| {
                b.iter(|| p.protect(eml).expect("protect"))
            });
        }
        if have_openssl {
            // The same recipients as ours: the To addresses plus the sender.
            let recips: &[&str] = if label == "20KB" {
                &["bob@example.net", "carol@example.org", "alice@example.com"]
            } else {
                &["bob@example.net", "alice@example.com"]
            };
            group.bench_with_input(BenchmarkId::new("openssl-cli", label), &eml, |b, eml| {
                b.iter(|| openssl_sign_encrypt(eml, &keys, recips))
            });
        } else {
            eprintln!("skipping openssl-cli: openssl not found");
        }
    }
    group.finish();
}

fn bench_modes(c: &mut Criterion) {
    let mut group = c.benchmark_group("modes_20KB");
    let eml = std::fs::read(repo().join("testdata/corpus/html-inline-image.eml")).expect("corpus");
    group.throughput(Throughput::Bytes(eml.len() as u64));
    for (name, options) in [
        ("sign", Options::sign(SignMode::Opaque)),
        ("sign-detached", Options::sign(SignMode::Detached)),
        ("encrypt", Options::encrypt()),
    ] {
        for (backend_name, backend) in BACKENDS {
            let p = protector(options.clone(), backend);
            p.protect(&eml).expect("protect");
            group.bench_function(format!("{name}/{backend_name}"), |b| {
                b.iter(|| p.protect(&eml).expect("protect"))
            });
        }
    }
    group.finish();
}

criterion_group!(benches, bench_sign_encrypt, bench_modes);
criterion_main!(benches);

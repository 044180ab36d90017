//! Building S/MIME messages in-process, over the size ladder of the performance issue, next to
//! the OpenSSL command line doing the same job (`openssl cms -sign | openssl cms -encrypt`),
//! measured in the same run. Reports are in bytes/s and messages/s (criterion's throughput).
//!
//! ```text
//! cargo bench -p smime-benches --bench build                 # everything (about 6 minutes)
//! cargo bench -p smime-benches --bench build -- ladder/      # one group
//! cargo bench -p smime-benches --bench build -- --test       # smoke: each benchmark once
//! ```
//!
//! Groups:
//! - `ladder/<mode>/<size>/<backend>`: sign (opaque), sign-detached, encrypt and sign+encrypt
//!   for 1 KB, 20 KB, 600 KB and 5 MB, RSA-2048, both key implementations;
//! - `rsa/<bits>/<backend>`: sign+encrypt of the 20 KB message with RSA-2048/3072/4096 keys
//!   (signer and recipient);
//! - `openssl-cli/<size>`: the same sign+encrypt with two `openssl cms` processes.
//!
//! Every message goes from Alice to Bob alone: one recipient plus the sender's own copy.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use criterion::{BenchmarkGroup, BenchmarkId, Criterion, Throughput, measurement::WallTime};
use criterion::{criterion_group, criterion_main};
use smime_benches::{SIZES, keys_dir, message};
use smime_core::{KeyBackend, KeyStore, Options, Protector, SignMode};

const BACKENDS: [(&str, KeyBackend); 2] = [
    ("rustcrypto", KeyBackend::RustCrypto),
    ("aws-lc", KeyBackend::AwsLc),
];

fn modes() -> [(&'static str, Options); 4] {
    [
        ("sign", Options::sign(SignMode::Opaque)),
        ("sign-detached", Options::sign(SignMode::Detached)),
        ("encrypt", Options::encrypt()),
        ("sign-encrypt", Options::sign_and_encrypt()),
    ]
}

fn protector(keys: &Path, options: Options, backend: KeyBackend) -> Protector {
    let keys = KeyStore::open(keys)
        .expect("bench keys")
        .with_key_backend(backend);
    Protector::new(Arc::new(keys), options)
}

/// Short, stable settings: large messages take tens of milliseconds each.
fn tune(group: &mut BenchmarkGroup<'_, WallTime>, size: usize) {
    group.warm_up_time(Duration::from_millis(500));
    if size > 1024 * 1024 {
        group.sample_size(10);
        group.measurement_time(Duration::from_secs(3));
    } else {
        group.sample_size(20);
        group.measurement_time(Duration::from_secs(2));
    }
}

fn bench_ladder(c: &mut Criterion) {
    for size in SIZES {
        let eml = message(size);
        for (mode, options) in modes() {
            let mut group = c.benchmark_group(format!("ladder/{mode}"));
            tune(&mut group, eml.len());
            group.throughput(Throughput::Bytes(eml.len() as u64));
            for (name, backend) in BACKENDS {
                let p = protector(&keys_dir(2048), options.clone(), backend);
                // Load the keys once before timing, as a bulk run does.
                p.protect(&eml).expect("protect");
                group.bench_with_input(BenchmarkId::new(size, name), &eml, |b, eml| {
                    b.iter(|| p.protect(eml).expect("protect"))
                });
            }
            group.finish();
        }
    }
}

fn bench_rsa_sizes(c: &mut Criterion) {
    let eml = message("20KB");
    let mut group = c.benchmark_group("rsa");
    tune(&mut group, eml.len());
    group.throughput(Throughput::Elements(1));
    for bits in [2048, 3072, 4096] {
        for (name, backend) in BACKENDS {
            let p = protector(&keys_dir(bits), Options::sign_and_encrypt(), backend);
            p.protect(&eml).expect("protect");
            group.bench_with_input(BenchmarkId::new(bits.to_string(), name), &eml, |b, eml| {
                b.iter(|| p.protect(eml).expect("protect"))
            });
        }
    }
    group.finish();
}

/// One `openssl cms -sign | openssl cms -encrypt` pipeline, as an operator would script it.
fn openssl_sign_encrypt(eml: &[u8], keys: &Path) -> Vec<u8> {
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
    let signed_out = sign.stdout.take().expect("pipe");
    let encrypt = Command::new("openssl")
        .args(["cms", "-encrypt", "-aes256"])
        .arg(keys.join("bob@example.net.crt"))
        .arg(keys.join("alice@example.com.crt"))
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

fn bench_openssl_cli(c: &mut Criterion) {
    if Command::new("openssl").arg("version").output().is_err() {
        eprintln!("skipping openssl-cli: openssl not found");
        return;
    }
    let keys = keys_dir(2048);
    let mut group = c.benchmark_group("openssl-cli");
    for size in ["20KB", "600KB"] {
        let eml = message(size);
        tune(&mut group, eml.len());
        group.throughput(Throughput::Bytes(eml.len() as u64));
        group.bench_with_input(BenchmarkId::new("sign-encrypt", size), &eml, |b, eml| {
            b.iter(|| openssl_sign_encrypt(eml, &keys))
        });
    }
    group.finish();
}

criterion_group!(benches, bench_ladder, bench_rsa_sizes, bench_openssl_cli);
criterion_main!(benches);

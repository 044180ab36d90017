//! Golden tests: with the clock, the RNG and the boundary fixed, the output is byte-stable.
//! Regenerate after an intended change with
//! `SMIME_UPDATE_GOLDEN=1 cargo test -p smime-core --test core golden::`
//! (and after re-running testdata/pki/make.sh, which makes new keys), then review the diff.
#![allow(clippy::unwrap_used)]

use crate::common::*;
use smime_core::{Options, SignMode};

#[test]
fn outputs_match_the_golden_files() {
    let dir = repo_root().join("crates/smime-core/tests/golden");
    let update = std::env::var_os("SMIME_UPDATE_GOLDEN").is_some();
    let mut mismatches = Vec::new();
    for input in ["plain.eml", "many-recipients.eml"] {
        let eml = corpus_file(input);
        for (mode, options) in modes() {
            let p = protector(options).with_boundary("----=_smime_golden");
            let first = p.protect_with_rng(&eml, &mut rng()).unwrap().message;
            let again = p.protect_with_rng(&eml, &mut rng()).unwrap().message;
            assert_eq!(first, again, "{input} {mode}: same inputs, different bytes");
            let path = dir.join(format!("{}.{mode}.eml", input.trim_end_matches(".eml")));
            if update {
                std::fs::create_dir_all(&dir).unwrap();
                std::fs::write(&path, &first).unwrap();
            } else {
                let want = std::fs::read(&path).unwrap_or_else(|e| {
                    panic!("{}: {e} (run with SMIME_UPDATE_GOLDEN=1)", path.display())
                });
                if want != first {
                    mismatches.push(path.display().to_string());
                }
            }
        }
    }
    assert!(
        mismatches.is_empty(),
        "output differs from: {mismatches:#?}"
    );
}

#[test]
fn a_different_seed_changes_only_what_is_random() {
    let eml = corpus_file("plain.eml");
    let p = protector(Options::sign(SignMode::Opaque));
    // Opaque signing uses no randomness: PKCS#1 v1.5 signatures are deterministic.
    let a = p.protect_with_rng(&eml, &mut rng()).unwrap().message;
    let mut other = chacha20::ChaCha20Rng::from_seed([9; 32]);
    let b = p.protect_with_rng(&eml, &mut other).unwrap().message;
    assert_eq!(a, b);
    // Encryption does: a new key and IV each time.
    let p = protector(Options::encrypt());
    let a = p.protect_with_rng(&eml, &mut rng()).unwrap().message;
    let b = p.protect(&eml).unwrap().message;
    assert_ne!(a, b);
}

use chacha20::rand_core::SeedableRng;

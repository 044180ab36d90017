//! The integration tests of smime-core, in one binary (link time is most of the test time):
//! one module per subject, sharing `common` (the test data, a fixed clock and RNG).
//!
//! ```text
//! cargo test -p smime-core --test core                  # all of them
//! cargo test -p smime-core --test core golden::         # one module
//! SMIME_UPDATE_GOLDEN=1 cargo test -p smime-core --test core golden::   # regenerate the golden files
//! ```

mod common;
mod debug_secrets;
mod ecdsa;
mod fuzz_regressions;
mod golden;
mod hostile;
mod inspect;
mod interop;
mod keys;
mod proptest_roundtrip;
mod read;

//! A per-process scratch directory for targets that must hand files to the API (key files):
//! in /dev/shm when it exists (no disk writes at fuzzing speed), else the system temp dir.

use std::path::{Path, PathBuf};

/// `<base>/smime-fuzz-<name>-<pid>`, created with an `empty` subdirectory (for
/// `KeyStore::open` when every file is named explicitly).
pub fn scratch_dir(name: &str) -> PathBuf {
    let base = if Path::new("/dev/shm").is_dir() {
        PathBuf::from("/dev/shm")
    } else {
        std::env::temp_dir()
    };
    let dir = base.join(format!("smime-fuzz-{name}-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("empty")).expect("fuzz scratch dir");
    dir
}

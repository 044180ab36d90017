//! Running external commands with a deadline, the files a command reads and writes, and
//! process-lifetime scratch directories.

use std::collections::HashMap;
use std::ffi::OsStr;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

use crate::mime::{Layer, classify};

/// How long any single external command may run before it is killed.
pub(crate) const TIMEOUT: Duration = Duration::from_secs(60);

/// What a finished command left behind.
#[derive(Debug)]
pub(crate) struct Output {
    pub(crate) status: ExitStatus,
    pub(crate) stdout: Vec<u8>,
    pub(crate) stderr: Vec<u8>,
}

impl Output {
    /// stdout and stderr as (lossy) text, for error messages.
    pub(crate) fn text(&self) -> String {
        let mut s = String::from_utf8_lossy(&self.stdout).into_owned();
        if !self.stderr.is_empty() {
            if !s.is_empty() && !s.ends_with('\n') {
                s.push('\n');
            }
            s.push_str(&String::from_utf8_lossy(&self.stderr));
        }
        s.trim_end().to_owned()
    }

    /// The error for a failed `what`: the exit status and the output.
    pub(crate) fn failure(&self, what: &str) -> String {
        format!("{what} failed ({}): {}", self.status, self.text())
    }

    /// `Ok(self)` when the command exited 0, otherwise [`Output::failure`].
    pub(crate) fn success(self, what: &str) -> Result<Self, String> {
        if self.status.success() {
            Ok(self)
        } else {
            Err(self.failure(what))
        }
    }
}

/// Renders a command line for error messages.
pub(crate) fn describe(cmd: &Command) -> String {
    let mut s = cmd.get_program().to_string_lossy().into_owned();
    for a in cmd.get_args() {
        s.push(' ');
        s.push_str(&a.to_string_lossy());
    }
    s
}

/// Runs `cmd` with stdin from /dev/null and stdout/stderr captured in anonymous temporary files
/// (not pipes: a daemon the command starts, such as gpg-agent, may inherit them and would keep
/// a pipe open forever). Kills the command and fails after [`TIMEOUT`].
pub(crate) fn run(mut cmd: Command) -> Result<Output, String> {
    let what = describe(&cmd);
    let mut out = tempfile::tempfile().map_err(|e| format!("{what}: temporary file: {e}"))?;
    let mut err = tempfile::tempfile().map_err(|e| format!("{what}: temporary file: {e}"))?;
    let out_w = out.try_clone().map_err(|e| format!("{what}: {e}"))?;
    let err_w = err.try_clone().map_err(|e| format!("{what}: {e}"))?;
    cmd.stdin(Stdio::null())
        .stdout(Stdio::from(out_w))
        .stderr(Stdio::from(err_w))
        // Stable, untranslated messages.
        .env("LC_ALL", "C")
        .env("LANG", "C");
    let mut child = cmd.spawn().map_err(|e| format!("cannot run {what}: {e}"))?;
    let status = wait_deadline(&mut child, TIMEOUT)
        .map_err(|e| format!("{what}: {e}"))?
        .ok_or_else(|| format!("{what}: timed out after {} s, killed", TIMEOUT.as_secs()))?;
    Ok(Output {
        status,
        stdout: read_back(&mut out).map_err(|e| format!("{what}: {e}"))?,
        stderr: read_back(&mut err).map_err(|e| format!("{what}: {e}"))?,
    })
}

/// Waits for `child` until `limit`; on timeout kills it and returns `Ok(None)`.
fn wait_deadline(child: &mut Child, limit: Duration) -> std::io::Result<Option<ExitStatus>> {
    let deadline = Instant::now() + limit;
    let mut pause = Duration::from_millis(1);
    loop {
        if let Some(status) = child.try_wait()? {
            return Ok(Some(status));
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            return Ok(None);
        }
        std::thread::sleep(pause);
        pause = (pause * 2).min(Duration::from_millis(20));
    }
}

fn read_back(f: &mut File) -> std::io::Result<Vec<u8>> {
    f.seek(SeekFrom::Start(0))?;
    let mut v = Vec::new();
    f.read_to_end(&mut v)?;
    Ok(v)
}

/// A temporary directory for one tool call: its input files are written into it and its output
/// files read back from it. Removed when dropped.
pub(crate) struct Files(tempfile::TempDir);

impl Files {
    pub(crate) fn new() -> Result<Self, String> {
        tempfile::tempdir().map(Self).map_err(|e| e.to_string())
    }

    /// Where `name` is (or will be).
    pub(crate) fn path(&self, name: &str) -> PathBuf {
        self.0.path().join(name)
    }

    /// Writes `bytes` as `name`; returns its path.
    pub(crate) fn write(&self, name: &str, bytes: &[u8]) -> Result<PathBuf, String> {
        let path = self.path(name);
        std::fs::write(&path, bytes).map_err(|e| e.to_string())?;
        Ok(path)
    }

    /// Reads back `name`, written by `tool`.
    pub(crate) fn read(&self, name: &str, tool: &str) -> Result<Vec<u8>, String> {
        std::fs::read(self.path(name)).map_err(|e| format!("{tool} output: {e}"))
    }
}

/// The signed top layer of a message written out for a verifier.
pub(crate) enum Signed {
    /// `signed.p7m`: the CMS, the signed entity inside it.
    Opaque {
        /// The CMS file.
        cms: PathBuf,
    },
    /// `smime.p7s` and `content`: the signature and the exact bytes it covers.
    Detached {
        /// The signature file.
        signature: PathBuf,
        /// The content file.
        content_file: PathBuf,
        /// The content, which is what verifying returns.
        content: Vec<u8>,
    },
}

impl Signed {
    /// Classifies `message` and writes its signed top layer into `files`; an error naming `tool`
    /// when the top layer is not signed.
    pub(crate) fn write(message: &[u8], files: &Files, tool: &str) -> Result<Self, String> {
        match classify(message)? {
            Layer::OpaqueSigned { der } => Ok(Signed::Opaque {
                cms: files.write("signed.p7m", &der)?,
            }),
            Layer::Detached {
                content, signature, ..
            } => Ok(Signed::Detached {
                signature: files.write("smime.p7s", &signature)?,
                content_file: files.write("content", &content)?,
                content,
            }),
            other => Err(format!("{tool} verify: not signed ({})", other.kind())),
        }
    }
}

/// Classifies `message` and writes its (auth-)enveloped top layer into `files` as
/// `enveloped.p7m`; returns that path, or an error naming `tool` when the top layer is not
/// enveloped.
pub(crate) fn write_enveloped(
    message: &[u8],
    files: &Files,
    tool: &str,
) -> Result<PathBuf, String> {
    match classify(message)? {
        Layer::Enveloped { der } | Layer::AuthEnveloped { der } => {
            files.write("enveloped.p7m", &der)
        }
        other => Err(format!("{tool} decrypt: not enveloped ({})", other.kind())),
    }
}

/// One [`ScratchDir`] per address (and one for `None`), created on first use, kept for the
/// process's lifetime, and used by one call at a time: the gpgsm homes, the NSS databases.
pub(crate) struct ScratchDirs {
    dirs: OnceLock<Mutex<HashMap<String, Arc<Mutex<ScratchDir>>>>>,
    create: fn(Option<&str>) -> Result<ScratchDir, String>,
}

impl ScratchDirs {
    /// Dirs made by `create(address)`.
    pub(crate) const fn new(create: fn(Option<&str>) -> Result<ScratchDir, String>) -> Self {
        Self {
            dirs: OnceLock::new(),
            create,
        }
    }

    /// The directory for `address`, created if needed.
    pub(crate) fn get(&self, address: Option<&str>) -> Result<Arc<Mutex<ScratchDir>>, String> {
        let dirs = self.dirs.get_or_init(|| Mutex::new(HashMap::new()));
        // A panic in another test while holding the lock does not corrupt the map.
        let mut dirs = dirs.lock().unwrap_or_else(|e| e.into_inner());
        let key = address.unwrap_or("").to_owned();
        if let Some(d) = dirs.get(&key) {
            return Ok(Arc::clone(d));
        }
        let d = Arc::new(Mutex::new((self.create)(address)?));
        dirs.insert(key, Arc::clone(&d));
        Ok(d)
    }

    /// The path of the directory for `address`, created if needed (for debugging by hand).
    pub(crate) fn path(&self, address: Option<&str>) -> Result<PathBuf, String> {
        let dir = self.get(address)?;
        Ok(lock(&dir).path().to_path_buf())
    }
}

/// Locks one directory of [`ScratchDirs`] (a panic in another test does not poison it).
pub(crate) fn lock(dir: &Mutex<ScratchDir>) -> MutexGuard<'_, ScratchDir> {
    dir.lock().unwrap_or_else(|e| e.into_inner())
}

/// A temporary directory that lives exactly as long as it is needed, even when it is kept in a
/// `static` (whose destructor never runs).
///
/// Creation spawns a tiny "reaper" shell that blocks reading a pipe from this process. When the
/// `ScratchDir` is dropped, or when the process ends in any way (normal exit, panic, kill -9), the
/// pipe closes and the reaper runs `gpgconf --kill all` for the directory (when asked to: it is a
/// GnuPG home) and removes it. The reaper ignores SIGINT/SIGTERM/SIGHUP so that Ctrl-C on
/// `cargo test` still cleans up.
#[derive(Debug)]
pub(crate) struct ScratchDir {
    path: PathBuf,
    reaper: Option<(Child, ChildStdin)>,
}

impl ScratchDir {
    /// Creates `$TMPDIR/<prefix>XXXXXX` (mode 0700). `gpgconf`: when set, the directory is treated
    /// as a GNUPGHOME whose daemons are killed before removal.
    pub(crate) fn new(prefix: &str, gpgconf: Option<&Path>) -> Result<Self, String> {
        let dir = tempfile::Builder::new()
            .prefix(prefix)
            .tempdir()
            .map_err(|e| format!("cannot create a temporary directory: {e}"))?;
        let path = dir.keep();
        const SCRIPT: &str = r#"trap '' INT TERM HUP
cat >/dev/null 2>&1
if [ -n "$2" ]; then
  GNUPGHOME="$1" "$2" --kill all >/dev/null 2>&1
  GNUPGHOME="$1" "$2" --remove-socketdir >/dev/null 2>&1
fi
rm -rf -- "$1""#;
        let spawned = Command::new("sh")
            .arg("-c")
            .arg(SCRIPT)
            .arg("smime-testkit-reaper")
            .arg(&path)
            .arg(gpgconf.map(Path::as_os_str).unwrap_or(OsStr::new("")))
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn();
        match spawned {
            Ok(mut child) => match child.stdin.take() {
                Some(stdin) => Ok(Self {
                    path,
                    reaper: Some((child, stdin)),
                }),
                None => {
                    let _ = child.kill();
                    let _ = std::fs::remove_dir_all(&path);
                    Err("reaper has no stdin".to_owned())
                }
            },
            Err(e) => {
                let _ = std::fs::remove_dir_all(&path);
                Err(format!("cannot start the clean-up shell (sh): {e}"))
            }
        }
    }

    pub(crate) fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for ScratchDir {
    fn drop(&mut self) {
        if let Some((mut child, stdin)) = self.reaper.take() {
            drop(stdin); // EOF: the reaper cleans up now.
            let _ = wait_deadline(&mut child, Duration::from_secs(10));
        }
    }
}

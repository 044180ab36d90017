//! Test support for the smime workspace: the test PKI and message corpus, a small independent
//! S/MIME framing reader, and three independent implementations — OpenSSL, GnuPG's gpgsm and
//! NSS's cmsutil — driven as verifiers and decrypters of what the library writes.
//!
//! Not published; Unix only (it runs `sh`, `openssl`, `gpgsm`, `cmsutil`).
//!
//! # Which function do I want?
//!
//! * Inputs: [`corpus()`] (every `testdata/corpus/*.eml`), [`corpus_file`], [`corpus_path`],
//!   [`key_pem`], [`key_cert`], [`ca_cert`], [`keys_dir`] ... and [`SENDER`] / [`RECIPIENTS`];
//!   [`sample_message`] for a plain message of a given size.
//! * Is the tool there? [`tool`] (prints `skipping: ...` or, under `SMIME_REQUIRE_INTEROP=1`,
//!   panics), or [`Tool::available`] for all three at once.
//! * What did the library emit? [`classify`] → [`Layer`] (opaque, detached with the exact signed
//!   bytes, enveloped).
//! * Does an independent implementation accept it? [`Tool::verify`], [`Tool::decrypt`],
//!   [`Tool::open`] (peels every layer), or the per-tool modules [`openssl`], [`gpgsm`], [`nss`].
//! * Did the content survive? [`assert_same_leaves`] (decoded parts compared with mail-parser).
//! * Can the check fail? [`tamper_signed_content`] changes one signed byte.
//! * Network doubles (cargo feature `servers`, off by default): `fake_smtp` (one configurable
//!   SMTP server: TLS modes, AUTH, scripted replies and faults, capture), `fake_api` (the
//!   SparkPost Transmissions API), `tls` (a throw-away CA for them), `postfix` (the private
//!   Postfix of `scripts/test.sh`), `closed_port`, `SilentServer`, `within`, and Postfix's `smtp-sink` as a child process
//!   ([`SmtpSink`]). Each starts on
//!   the current tokio runtime (`start`) or on a runtime thread of its own (`start_on_thread`,
//!   for synchronous tests). No test, bench or example outside this crate binds a listener.
//!
//! ```no_run
//! use smime_testkit::{Tool, assert_same_leaves, corpus};
//!
//! # fn library_sign(_: &[u8]) -> Vec<u8> { unimplemented!() }
//! for tool in Tool::available() {
//!     for (name, eml) in corpus() {
//!         let signed = library_sign(&eml);
//!         let entity = tool
//!             .verify(&signed)
//!             .unwrap_or_else(|e| panic!("{tool} rejects {name}: {e}"));
//!         assert_same_leaves(&eml, &entity);
//!     }
//! }
//! ```
//!
//! # Environment
//!
//! `SMIME_REQUIRE_INTEROP=1` (set in CI) turns every "tool missing, skipping" into a panic, so a
//! CI image without gpgsm or cmsutil cannot pass silently.

#![forbid(unsafe_code)]
#![allow(clippy::unwrap_used)]

use std::collections::HashSet;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

pub mod craft;
pub mod gpgsm;
mod leaves;
mod mime;
pub mod nss;
pub mod openssl;
mod run;

#[cfg(feature = "servers")]
pub mod fake_api;
#[cfg(feature = "servers")]
pub mod fake_smtp;
#[cfg(feature = "servers")]
pub mod postfix;
#[cfg(feature = "servers")]
mod servers;
#[cfg(feature = "servers")]
mod smtp_sink;
#[cfg(feature = "servers")]
pub mod tls;

#[cfg(feature = "servers")]
pub use servers::{SilentServer, closed_port, within};
#[cfg(feature = "servers")]
pub use smtp_sink::{SmtpSink, find_tool};

pub use craft::{
    assert_line, assert_line_starts, assert_lines, binary_part, der_of, nested_messages,
    nested_multiparts, streaming_ber,
};
pub use leaves::{Leaf, assert_same_leaves, compare_leaves, decoded_leaves};
pub use mime::{Layer, base64_decode, base64_encode_lines, classify, tamper_signed_content};

/// The sender of every corpus message; its key is `keys/alice@example.com.pem`.
pub const SENDER: &str = "alice@example.com";

/// The other good addresses of the test PKI (every one has `.pem`, `.crt` and `.p12`).
/// `erin@example.com.pem` is PKCS#1 with `Bag Attributes`, the others PKCS#8.
pub const RECIPIENTS: [&str; 4] = [
    "bob@example.net",
    "carol@example.org",
    "dave@example.net",
    "erin@example.com",
];

/// The password of every `keys/*.p12`.
pub const P12_PASSWORD: &str = "test";

/// Environment variable that makes a missing tool a test failure instead of a skip.
pub const REQUIRE_INTEROP_ENV: &str = "SMIME_REQUIRE_INTEROP";

/// The workspace root (the directory holding `testdata/`).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")))
}

/// `testdata/pki`: `ca.crt`, `intermediate.crt`, `keys/`, `bad/`.
pub fn pki_dir() -> PathBuf {
    repo_root().join("testdata").join("pki")
}

/// `testdata/pki/keys`: `<address>.pem` (key + cert + intermediate), `.crt`, `.p12`.
pub fn keys_dir() -> PathBuf {
    pki_dir().join("keys")
}

/// `testdata/pki/bad`: certificates a sending agent must refuse (`expired@`, `wrongaddr@`,
/// `weak@`, `noeku@`, `mismatch@`, `nosign@example.com`).
pub fn bad_keys_dir() -> PathBuf {
    pki_dir().join("bad")
}

/// `testdata/corpus`.
pub fn corpus_dir() -> PathBuf {
    repo_root().join("testdata").join("corpus")
}

/// The test root CA certificate (PEM).
pub fn ca_cert() -> PathBuf {
    pki_dir().join("ca.crt")
}

/// The intermediate CA certificate (PEM) that issued every end-entity certificate.
pub fn intermediate_cert() -> PathBuf {
    pki_dir().join("intermediate.crt")
}

/// `keys/<address>.pem`: the private key followed by its certificate and the intermediate.
pub fn key_pem(address: &str) -> PathBuf {
    keys_dir().join(format!("{address}.pem"))
}

/// `keys/<address>.crt`: the end-entity certificate.
pub fn key_cert(address: &str) -> PathBuf {
    keys_dir().join(format!("{address}.crt"))
}

/// `keys/<address>.p12`: PKCS#12 (password [`P12_PASSWORD`]) in the legacy form gpgsm reads.
pub fn key_p12(address: &str) -> PathBuf {
    keys_dir().join(format!("{address}.p12"))
}

/// Every `testdata/corpus/*.eml` as `(file name, bytes)`, sorted by name.
///
/// Panics if the corpus cannot be read (a broken checkout is a test failure).
pub fn corpus() -> Vec<(String, Vec<u8>)> {
    let dir = corpus_dir();
    let entries =
        std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()));
    let mut out: Vec<(String, Vec<u8>)> = entries
        .map(|e| {
            e.unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
                .path()
        })
        .filter(|p| p.extension().is_some_and(|x| x == "eml"))
        .map(|p| {
            let name = p
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let bytes =
                std::fs::read(&p).unwrap_or_else(|e| panic!("cannot read {}: {e}", p.display()));
            (name, bytes)
        })
        .collect();
    out.sort();
    assert!(!out.is_empty(), "no .eml files in {}", dir.display());
    out
}

/// One corpus message by file name (`"plain.eml"`). Panics if it does not exist.
pub fn corpus_file(name: &str) -> Vec<u8> {
    let p = corpus_path(name);
    std::fs::read(&p).unwrap_or_else(|e| panic!("cannot read {}: {e}", p.display()))
}

/// The path of one corpus message (`testdata/corpus/<name>`), e.g. for a command line.
pub fn corpus_path(name: &str) -> PathBuf {
    corpus_dir().join(name)
}

/// A plain-text message of about `size` bytes from Alice to Bob with `subject` (also its
/// Message-ID), CRLF line ends, and lines starting with dots (one, two, and a lone dot) to
/// exercise dot-stuffing.
pub fn sample_message(subject: &str, size: usize) -> Vec<u8> {
    let mut m = format!(
        "From: Alice <alice@example.com>\r\nTo: Bob <bob@example.net>\r\nSubject: {subject}\r\n\
         Message-ID: <{subject}@example.com>\r\nMIME-Version: 1.0\r\n\
         Content-Type: text/plain; charset=us-ascii\r\n\r\n.leading dot\r\n..two dots\r\n"
    )
    .into_bytes();
    let line = b"The quick brown fox jumps over the lazy dog 0123456789 abcdefghijklmnop\r\n";
    while m.len() + line.len() <= size {
        m.extend_from_slice(line);
    }
    m.extend_from_slice(b".\r\nlast line\r\n");
    m
}

/// Finds an executable on `PATH`, without printing anything.
fn which(name: &str) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| {
            std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
}

/// Finds a program the helpers need, or says why it is unusable.
pub(crate) fn locate(name: &str) -> Result<PathBuf, String> {
    which(name).ok_or_else(|| format!("{name} is not on PATH"))
}

/// What else a tool needs, and which Debian package brings it.
fn requirements(name: &str) -> (&'static [&'static str], &'static str) {
    match name {
        "openssl" => (&["openssl"], "apt-get install openssl"),
        "gpgsm" => (
            &["gpgsm", "gpgconf", "gpg-agent"],
            "apt-get install gpgsm gpg-agent",
        ),
        "cmsutil" | "nss" => (
            &["cmsutil", "certutil", "pk12util"],
            "apt-get install libnss3-tools",
        ),
        _ => (&[], "install it"),
    }
}

/// True when `SMIME_REQUIRE_INTEROP` is `1` (or `true`/`yes`).
pub fn interop_required() -> bool {
    std::env::var(REQUIRE_INTEROP_ENV).is_ok_and(|v| {
        let v = v.trim().to_ascii_lowercase();
        v == "1" || v == "true" || v == "yes"
    })
}

/// The tool gate: the path of `name` (`openssl`, `gpgsm`, `cmsutil`, or any program), or `None`
/// after printing `skipping: <name> not found (<why>)` to stderr when it, or a program it needs
/// (gpgconf and gpg-agent for gpgsm; certutil and pk12util for cmsutil), is missing. The notice
/// goes to the process's stderr directly (not through the test harness's capture), once per
/// tool and process.
///
/// # Panics
///
/// Instead of returning `None`, when `SMIME_REQUIRE_INTEROP=1` is set: CI must not skip.
pub fn tool(name: &str) -> Option<PathBuf> {
    let (needs, install) = requirements(name);
    let needs: Vec<&str> = if needs.is_empty() {
        vec![name]
    } else {
        needs.to_vec()
    };
    let missing: Vec<&str> = needs
        .iter()
        .copied()
        .filter(|n| which(n).is_none())
        .collect();
    if missing.is_empty() {
        let main = if name == "nss" { "cmsutil" } else { name };
        return which(main);
    }
    let why = format!("{} not on PATH; {install}", missing.join(", "));
    if interop_required() {
        panic!("{name} not found ({why}) and {REQUIRE_INTEROP_ENV}=1 is set");
    }
    report_skip(name, &format!("skipping: {name} not found ({why})"));
    None
}

/// Prints a skip notice once per tool and process, straight to the stderr stream: `eprintln!`
/// would be captured (hidden) by the test harness for a passing test, and a skip must be seen.
fn report_skip(name: &str, line: &str) {
    use std::io::Write as _;
    static REPORTED: OnceLock<Mutex<HashSet<String>>> = OnceLock::new();
    let mut seen = REPORTED
        .get_or_init(|| Mutex::new(HashSet::new()))
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    if seen.insert(name.to_owned()) {
        let _ = writeln!(std::io::stderr(), "{line}");
    }
}

/// One of the three independent S/MIME implementations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Tool {
    /// OpenSSL 3 `openssl cms`.
    OpenSsl,
    /// GnuPG `gpgsm` 2.2 with gpg-agent.
    Gpgsm,
    /// NSS `cmsutil` (libnss3-tools).
    Nss,
}

impl Tool {
    /// All three, in a fixed order.
    pub const ALL: [Tool; 3] = [Tool::OpenSsl, Tool::Gpgsm, Tool::Nss];

    /// The program name the gate looks for: `openssl`, `gpgsm`, `cmsutil`.
    pub fn program(self) -> &'static str {
        match self {
            Tool::OpenSsl => "openssl",
            Tool::Gpgsm => "gpgsm",
            Tool::Nss => "cmsutil",
        }
    }

    /// The tools that are installed, going through [`tool`] for each (so a missing one prints
    /// `skipping: ...`, or panics under `SMIME_REQUIRE_INTEROP=1`).
    pub fn available() -> Vec<Tool> {
        Tool::ALL
            .into_iter()
            .filter(|t| tool(t.program()).is_some())
            .collect()
    }

    /// Verifies the signed top layer of `message`; returns the signed MIME entity.
    pub fn verify(self, message: &[u8]) -> Result<Vec<u8>, String> {
        match self {
            Tool::OpenSsl => openssl::verify(message),
            Tool::Gpgsm => gpgsm::verify(message),
            Tool::Nss => nss::verify(message),
        }
    }

    /// Decrypts the enveloped top layer of `message` with `address`'s key from the test PKI;
    /// returns the decrypted MIME entity.
    pub fn decrypt(self, message: &[u8], address: &str) -> Result<Vec<u8>, String> {
        match self {
            Tool::OpenSsl => openssl::decrypt(message, address),
            Tool::Gpgsm => gpgsm::decrypt(message, address),
            Tool::Nss => nss::decrypt(message, address),
        }
    }

    /// Peels every S/MIME layer (decrypting as `address`, verifying every signature) until a
    /// non-S/MIME entity is left, and returns it together with the layers seen, outermost
    /// first (e.g. `["enveloped", "opaque-signed"]`). At most 8 layers.
    pub fn open(
        self,
        message: &[u8],
        address: &str,
    ) -> Result<(Vec<u8>, Vec<&'static str>), String> {
        let mut current = message.to_vec();
        let mut seen = Vec::new();
        for _ in 0..8 {
            let layer = classify(&current)?;
            let kind = layer.kind();
            current = match layer {
                Layer::Other { .. } => return Ok((current, seen)),
                Layer::OpaqueSigned { .. } | Layer::Detached { .. } => self.verify(&current)?,
                Layer::Enveloped { .. } | Layer::AuthEnveloped { .. } => {
                    self.decrypt(&current, address)?
                }
            };
            seen.push(kind);
        }
        Err(format!("more than 8 S/MIME layers: {seen:?}"))
    }
}

impl fmt::Display for Tool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Tool::OpenSsl => "OpenSSL",
            Tool::Gpgsm => "gpgsm",
            Tool::Nss => "NSS cmsutil",
        })
    }
}

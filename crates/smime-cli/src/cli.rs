//! The command line, as a clap definition and nothing else.

use std::path::PathBuf;

use clap::{ArgGroup, Args, Parser, Subcommand, ValueEnum};

/// Sign and/or encrypt emails (.eml) with S/MIME, and inject them by SMTP or the SparkPost API.
///
/// Keys are found by address in the keys directory, as sparkpostSMIME.py did:
/// `<From address>.pem` (or `.p12`/`.pfx`, as CAs deliver them) holds the sender's private key
/// and may hold its certificate and chain; recipients' certificates are found by the addresses
/// inside any certificate file there (`<address>.crt`, `.cer`, `.der`, `.p7b`, `.p7c`, `.pem`).
/// Lookup ignores case. Encrypted keys take their passphrase from --key-password-file,
/// SMIME_KEY_PASSWORD or a prompt.
///
/// Without --send-smtp or --send-api the result goes to standard output (one input), to -o
/// FILE, or into --output-dir (several inputs). Status lines and errors go to standard error.
///
/// Exit codes: 0 all done; 2 usage (also: an encrypted key and no passphrase); 65 bad input
/// (also: a wrong passphrase); 66 input unreadable; 69 a permanent send
/// failure; 70 internal error; 73 output not writable; 75 only temporary failures (retry later).
///
/// Diagnostics: -v, -vv, -vvv or SMIME_LOG (e.g. SMIME_LOG=smime_transport=trace) log to
/// standard error; passwords and API keys are never logged.
#[derive(Debug, Parser)]
#[command(name = "smime", version, about, long_about, max_term_width = 100)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub(crate) command: Option<Command>,

    #[command(flatten)]
    pub(crate) run: RunArgs,

    /// Log diagnostics to standard error: -v info, -vv debug (connections, TLS, AUTH
    /// mechanism, MAIL/RCPT/DATA results, API status and latency, retries), -vvv trace (the
    /// SMTP conversation with AUTH payloads redacted and message content as a size, API
    /// response bodies, and the dependencies' logs). Passwords and API keys are never
    /// logged. SMIME_LOG, in tracing's EnvFilter syntax (`debug`,
    /// `smime_transport::smtp::wire=trace`), overrides it.
    #[arg(
        short,
        long,
        action = clap::ArgAction::Count,
        global = true,
        help_heading = "Output"
    )]
    pub(crate) verbose: u8,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Print the MIME tree of a message: types, encodings, sizes, S/MIME layers.
    Show {
        /// The message; standard input when absent or `-`.
        file: Option<PathBuf>,
        /// The tree as one JSON document (every value complete, nothing shortened).
        #[arg(long)]
        json: bool,
    },
    /// The certificates in the keys directory (`smime certs list`).
    Certs {
        #[command(subcommand)]
        command: CertsCommand,
    },
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff) on standard output.
    Man,
}

#[derive(Debug, Subcommand)]
pub(crate) enum CertsCommand {
    /// Write `<address>.crt` into the keys directory for each person's certificate in FILEs
    /// (with the intermediates that came with it), one line per certificate and address:
    /// added, replaced (the new one is valid longer), unchanged, or refused (expired, no
    /// emailProtection, no address, ...), and whether it chains to a trust anchor (the
    /// system's CA bundle and --trust files; imported either way). Exit 0 when nothing was
    /// refused, 65 otherwise (the others are still written).
    Import(ImportArgs),
    /// One line per certificate in the keys directory: address, key, notAfter, status and
    /// the private key (none, plain, passphrase), then the issuer. Status is the first of:
    /// expired, not-yet-valid, untrusted (does not chain to a trust anchor; the next line
    /// says why), expiring (within 30 days), valid. Files that cannot be read are named on
    /// standard error.
    List {
        /// The keys directory.
        #[arg(long, value_name = "DIR", env = "SMIME_KEYS", default_value = ".")]
        keys: PathBuf,
        #[command(flatten)]
        trust: TrustArgs,
        /// One JSON object per certificate per line (address, addresses, subject, issuer,
        /// serial, not_before, not_after, key, status, trust_problem, private_key, file).
        #[arg(long)]
        json: bool,
    },
}

/// `smime certs import`'s arguments.
#[derive(Debug, Args)]
pub(crate) struct ImportArgs {
    /// The keys directory to write `<address>.crt` files into.
    #[arg(long, value_name = "DIR", env = "SMIME_KEYS", default_value = ".")]
    pub(crate) keys: PathBuf,
    /// The passphrase of PKCS#12 inputs: the first line of this file (else
    /// SMIME_KEY_PASSWORD, else a prompt on a terminal).
    #[arg(long, value_name = "FILE")]
    pub(crate) key_password_file: Option<PathBuf>,
    #[command(flatten)]
    pub(crate) trust: TrustArgs,
    /// Certificate files: PEM (one or a chain), DER (.cer, .der), PKCS#7 (.p7b, .p7c),
    /// PKCS#12 (.p12, .pfx: its certificates only).
    #[arg(required = true, value_name = "FILE")]
    pub(crate) files: Vec<PathBuf>,
}

/// Trust anchors: the system's CA bundle and the operator's own.
#[derive(Debug, Args)]
pub(crate) struct TrustArgs {
    /// Trust the CA certificates in this PEM bundle too (repeatable): a private PKI's root.
    #[arg(long = "trust", value_name = "FILE")]
    pub(crate) trust: Vec<PathBuf>,
    /// Do not trust the system's CA bundle: only the --trust files.
    #[arg(long)]
    pub(crate) no_system_trust: bool,
}

/// Transport security for SMTP.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum TlsArg {
    /// Implicit TLS on port 465; elsewhere STARTTLS, required when credentials are given,
    /// otherwise used when offered (a note says when a message went out unencrypted).
    Auto,
    /// STARTTLS required; fail if the server does not offer it.
    Starttls,
    /// TLS from the first byte (port 465).
    Implicit,
    /// STARTTLS if the server offers it, else unencrypted (no credentials are then sent).
    Opportunistic,
    /// No encryption: for an MTA on a private network (PowerMTA, Momentum).
    None,
}

/// Which implementation makes RSA and ECDSA signatures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum BackendArg {
    /// aws-lc-rs: native assembly, the fast default.
    AwsLc,
    /// RustCrypto `rsa`, `p256`, `p384`: pure Rust.
    Rustcrypto,
}

/// Whether to add SparkPost's `X-MSYS-API` header (campaign, tracking off) on SMTP.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum MsysArg {
    /// When the SMTP host is SparkPost's relay.
    Auto,
    /// Always (Momentum also reads it).
    Always,
    /// Never.
    Never,
}

#[derive(Debug, Args)]
#[command(group(ArgGroup::new("signing").args(["sign", "sign_detached"])))]
#[command(group(ArgGroup::new("send").args(["send_smtp", "send_api"])))]
pub(crate) struct RunArgs {
    /// Emails to process: files, directories (their *.eml), or `-` to read a list of paths,
    /// one per line, from standard input.
    #[arg(value_name = "FILE", required = true)]
    pub(crate) files: Vec<PathBuf>,

    /// Sign, opaque (application/pkcs7-mime): survives services that rewrite bodies.
    #[arg(long, help_heading = "S/MIME")]
    pub(crate) sign: bool,

    /// Sign, detached (multipart/signed): readable without S/MIME support.
    #[arg(long, visible_alias = "sign_detached", help_heading = "S/MIME")]
    pub(crate) sign_detached: bool,

    /// Encrypt to every To, Cc and Bcc recipient, and to the sender.
    #[arg(long, help_heading = "S/MIME")]
    pub(crate) encrypt: bool,

    /// Encrypt with AES-128-CBC instead of AES-256-CBC.
    #[arg(long, requires = "encrypt", help_heading = "S/MIME")]
    pub(crate) aes128: bool,

    /// Do not add the sender as a recipient of encrypted mail.
    #[arg(long, requires = "encrypt", help_heading = "S/MIME")]
    pub(crate) no_encrypt_to_self: bool,

    /// Directory holding the keys (<address>.pem, .p12, .pfx) and certificates (any name).
    #[arg(
        long,
        value_name = "DIR",
        env = "SMIME_KEYS",
        default_value = ".",
        help_heading = "Keys"
    )]
    pub(crate) keys: PathBuf,

    /// The sender's private key file (PEM, encrypted or not, or PKCS#12), instead of
    /// <From address>.pem/.p12/.pfx in the keys directory.
    #[arg(
        long,
        value_name = "PATH",
        env = "SMIME_SIGNER_KEY",
        help_heading = "Keys"
    )]
    pub(crate) signer_key: Option<PathBuf>,

    /// The sender's certificate file (and chain): this certificate signs, and it must belong
    /// to the key. Default: the certificates for the From address in the keys directory.
    #[arg(
        long,
        value_name = "PATH",
        env = "SMIME_SIGNER_CERT",
        help_heading = "Keys"
    )]
    pub(crate) signer_cert: Option<PathBuf>,

    /// Read the passphrase of encrypted key files (PKCS#12, ENCRYPTED PRIVATE KEY,
    /// Proc-Type: 4,ENCRYPTED) from the first line of this file. Without it: the
    /// SMIME_KEY_PASSWORD environment variable, else a prompt when a terminal is attached.
    /// There is no option that takes the passphrase itself: others could read it in `ps`.
    #[arg(long, value_name = "FILE", help_heading = "Keys")]
    pub(crate) key_password_file: Option<PathBuf>,

    /// Which implementation makes RSA and ECDSA signatures.
    #[arg(long, value_enum, default_value = "aws-lc", help_heading = "Keys")]
    pub(crate) key_backend: BackendArg,

    /// Refuse recipients whose certificate does not chain to a trust anchor (the system's
    /// CA bundle and --trust files), through the certificates in the keys directory.
    /// Without it the keys directory is your trust decision, as for sparkpostSMIME.py.
    #[arg(long, help_heading = "Keys")]
    pub(crate) require_trusted: bool,

    #[command(flatten, next_help_heading = "Keys")]
    pub(crate) trust: TrustArgs,

    /// Skip every certificate check (dates, usages, address, key size). For tests only.
    #[arg(long, help_heading = "Keys")]
    pub(crate) dangerous_skip_cert_checks: bool,

    /// Inject by SMTP into SMTP_HOST (SparkPost's relay, PowerMTA, Momentum, any MTA).
    #[arg(long, visible_alias = "send_smtp", help_heading = "Sending")]
    pub(crate) send_smtp: bool,

    /// Inject by the SparkPost Transmissions API (SPARKPOST_HOST, SPARKPOST_API_KEY).
    #[arg(long, visible_alias = "send_api", help_heading = "Sending")]
    pub(crate) send_api: bool,

    /// Turn SparkPost open and click tracking on (API only; refused with signing, since
    /// tracking rewrites the body and breaks the signature).
    #[arg(
        long,
        requires = "send_api",
        conflicts_with = "signing",
        help_heading = "Sending"
    )]
    pub(crate) track: bool,

    /// SparkPost campaign id (API, and the X-MSYS-API header on SMTP).
    #[arg(
        long,
        value_name = "ID",
        default_value = "sparkpost-SMIME",
        help_heading = "Sending"
    )]
    pub(crate) campaign: String,

    /// Messages in flight at once: SMTP connections or API requests (default: 10 for
    /// SparkPost, which allows 10; 4 for other SMTP servers).
    #[arg(long, value_name = "N", help_heading = "Sending")]
    pub(crate) concurrency: Option<usize>,

    /// Attempts per message for temporary failures (connection refused, 4xx, timeouts, 429
    /// and 5xx from the API); each retry prints one line.
    #[arg(long, value_name = "N", default_value_t = 3, help_heading = "Sending")]
    pub(crate) attempts: u32,

    /// Seconds to wait before the first retry (then doubling).
    #[arg(
        long,
        value_name = "SECS",
        default_value_t = 5.0,
        help_heading = "Sending"
    )]
    pub(crate) retry_wait: f64,

    /// SMTP server.
    #[arg(long, value_name = "HOST", env = "SMTP_HOST", help_heading = "SMTP")]
    pub(crate) smtp_host: Option<String>,

    /// SMTP port [default: 25].
    #[arg(long, value_name = "PORT", env = "SMTP_PORT", help_heading = "SMTP")]
    pub(crate) smtp_port: Option<String>,

    /// SMTP AUTH user (AUTH only when user and password are both set; SparkPost:
    /// SMTP_Injection).
    #[arg(long, value_name = "USER", env = "SMTP_USER", help_heading = "SMTP")]
    pub(crate) smtp_user: Option<String>,

    /// SMTP AUTH password (SparkPost: an API key). Prefer the variable or a file to the flag,
    /// which other users can see in the process list.
    #[arg(
        long,
        value_name = "PASSWORD",
        env = "SMTP_PASSWORD",
        hide_env_values = true,
        help_heading = "SMTP"
    )]
    pub(crate) smtp_password: Option<String>,

    /// Read the SMTP password from this file (first line).
    #[arg(
        long,
        value_name = "PATH",
        conflicts_with = "smtp_password",
        help_heading = "SMTP"
    )]
    pub(crate) smtp_password_file: Option<PathBuf>,

    /// Transport security.
    #[arg(long, value_enum, default_value = "auto", help_heading = "SMTP")]
    pub(crate) tls: TlsArg,

    /// Extra CA certificates (PEM) to trust for TLS, besides the system's.
    #[arg(
        long,
        value_name = "PATH",
        env = "SMIME_CA_FILE",
        help_heading = "SMTP"
    )]
    pub(crate) ca_file: Option<PathBuf>,

    /// Accept any TLS certificate. Dangerous: anyone on the path can read the mail and the
    /// password.
    #[arg(long, help_heading = "SMTP")]
    pub(crate) dangerous_accept_invalid_certs: bool,

    /// Allow AUTH over an unencrypted connection. Dangerous: the password crosses in clear.
    #[arg(long, help_heading = "SMTP")]
    pub(crate) dangerous_allow_plaintext_auth: bool,

    /// Messages per SMTP connection before it is closed and replaced.
    #[arg(long, value_name = "N", default_value_t = 100, help_heading = "SMTP")]
    pub(crate) max_per_connection: u32,

    /// Add SparkPost's X-MSYS-API header (campaign, tracking off, transactional).
    #[arg(long, value_enum, default_value = "auto", help_heading = "SMTP")]
    pub(crate) msys_header: MsysArg,

    /// SparkPost API key.
    #[arg(
        long,
        value_name = "KEY",
        env = "SPARKPOST_API_KEY",
        hide_env_values = true,
        help_heading = "SparkPost API"
    )]
    pub(crate) api_key: Option<String>,

    /// Read the SparkPost API key from this file (first line).
    #[arg(
        long,
        value_name = "PATH",
        conflicts_with = "api_key",
        help_heading = "SparkPost API"
    )]
    pub(crate) api_key_file: Option<PathBuf>,

    /// SparkPost API host or URL (EU: api.eu.sparkpost.com).
    #[arg(
        long,
        value_name = "HOST",
        env = "SPARKPOST_HOST",
        help_heading = "SparkPost API"
    )]
    pub(crate) api_host: Option<String>,

    /// Write the result here instead of standard output (one input, no sending).
    #[arg(short, long, value_name = "PATH", conflicts_with_all = ["send", "output_dir"], help_heading = "Output")]
    pub(crate) output: Option<PathBuf>,

    /// Write each result into this directory, under its input's name (no sending).
    #[arg(
        long,
        value_name = "DIR",
        conflicts_with = "send",
        help_heading = "Output"
    )]
    pub(crate) output_dir: Option<PathBuf>,

    /// One JSON object per message on standard output (file, status, recipients, id or
    /// error, elapsed).
    #[arg(long, help_heading = "Output")]
    pub(crate) json: bool,

    /// Append every outcome to this file; a rerun with the same journal skips what was
    /// already accepted.
    #[arg(long, value_name = "FILE", help_heading = "Output")]
    pub(crate) journal: Option<PathBuf>,

    /// No status lines, no progress bar: errors and the summary only.
    #[arg(short, long, help_heading = "Output")]
    pub(crate) quiet: bool,

    /// Refuse input files larger than this many bytes.
    #[arg(long, value_name = "BYTES", default_value_t = 50 * 1024 * 1024, help_heading = "Output")]
    pub(crate) max_size: u64,
}

//! Where messages go: the SMTP or SparkPost API sender built from flags and environment, and
//! the status line that announces it (credentials masked with a fixed-length mask).

use std::path::Path;
use std::sync::Arc;

use smime_transport::{
    Credentials, MsysApi, Secret, Sender, SmtpSender, SparkPostSender, TlsMode, sparkpost_base_url,
};

use crate::cli::{MsysArg, RunArgs, TlsArg};
use crate::error::CliError;

/// The mask shown for any password or key, whatever its length.
pub(crate) const MASK: &str = "********";

/// A configured destination.
pub(crate) struct Target {
    pub(crate) sender: Arc<dyn Sender>,
    /// The ancestor's "Opened ..." line.
    pub(crate) opened: String,
    pub(crate) concurrency: usize,
    /// True for the Transmissions API (its status lines say `Tracking:`).
    pub(crate) api: bool,
    pub(crate) tracking: bool,
    /// Printed once when a message went over the network unencrypted although TLS was only
    /// optional (`--tls auto` without credentials, `--tls opportunistic`): the operator did
    /// not ask for plain text in so many words.
    pub(crate) plaintext_note: Option<String>,
}

/// Largest password or API key file read, in bytes.
const MAX_SECRET_FILE: u64 = 64 * 1024;

/// Reads a secret from a file (its first line), warning when others can read the file.
/// The buffer is sized up front (a growing one would leave unwiped copies behind), bounded
/// (a device or a huge file is not a password file) and wiped.
fn secret_from_file(path: &Path) -> Result<Secret, CliError> {
    use std::io::Read;
    warn_if_exposed(path);
    let io = |source| CliError::ReadInput {
        file: path.to_owned(),
        source,
    };
    let file = std::fs::File::open(path).map_err(io)?;
    let mut bytes = zeroize::Zeroizing::new(Vec::with_capacity(
        usize::try_from(MAX_SECRET_FILE + 1).unwrap_or(usize::MAX),
    ));
    file.take(MAX_SECRET_FILE + 1)
        .read_to_end(&mut bytes)
        .map_err(io)?;
    if bytes.len() as u64 > MAX_SECRET_FILE {
        return Err(io(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("over {MAX_SECRET_FILE} bytes: not a password or key file"),
        )));
    }
    let text = std::str::from_utf8(&bytes).map_err(|_| {
        io(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            "not UTF-8 text",
        ))
    })?;
    let first = text.lines().next().unwrap_or("").trim().to_owned();
    Ok(Secret::new(first))
}

/// Warns on standard error when a key or credentials file is readable by group or others.
pub(crate) fn warn_if_exposed(path: &Path) {
    if is_exposed(path) && !is_published_test_key(path) {
        eprintln!(
            "smime: warning: {} can be read by group or others (chmod 600 {})",
            path.display(),
            path.display()
        );
    }
}

/// The first line of a key file that is published on purpose (the demo's TEST-ONLY keys): a
/// copy that others can read is no leak, and a fresh clone (git does not keep `0600`) should
/// not start with a warning.
const PUBLISHED_TEST_KEY: &[u8] = b"TEST-ONLY";

/// True when the file starts with [`PUBLISHED_TEST_KEY`].
pub(crate) fn is_published_test_key(path: &Path) -> bool {
    use std::io::Read;
    let mut start = [0u8; PUBLISHED_TEST_KEY.len()];
    std::fs::File::open(path)
        .and_then(|mut f| f.read_exact(&mut start))
        .is_ok_and(|()| start == PUBLISHED_TEST_KEY)
}

/// True when group or others may read the file.
pub(crate) fn is_exposed(path: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::metadata(path).is_ok_and(|m| m.permissions().mode() & 0o077 != 0)
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        false
    }
}

pub(crate) fn build(args: &RunArgs) -> Result<Option<Target>, CliError> {
    if args.send_smtp {
        smtp(args).map(Some)
    } else if args.send_api {
        api(args).map(Some)
    } else {
        Ok(None)
    }
}

fn smtp(args: &RunArgs) -> Result<Target, CliError> {
    let host = args
        .smtp_host
        .as_deref()
        .filter(|h| !h.trim().is_empty())
        .ok_or_else(|| CliError::Config("SMTP_HOST is not set (or give --smtp-host)".into()))?;
    let password = match (&args.smtp_password, &args.smtp_password_file) {
        (_, Some(file)) => Some(secret_from_file(file)?),
        (Some(p), None) if !p.is_empty() => Some(Secret::new(p.clone())),
        _ => None,
    };
    // An empty SMTP_PORT counts as unset, as it did for the ancestor.
    let port = match args.smtp_port.as_deref().map(str::trim) {
        None | Some("") => 25,
        Some(p) => p
            .parse::<u16>()
            .map_err(|_| CliError::Config(format!("SMTP_PORT {p:?} is not a port number")))?,
    };
    let user = args.smtp_user.as_deref().filter(|u| !u.is_empty());
    // AUTH only when both are set, as before.
    let credentials = match (user, password) {
        (Some(u), Some(p)) => Some(Credentials::new(u, p)),
        _ => None,
    };
    let tls = match args.tls {
        TlsArg::Auto if port == 465 => TlsMode::ImplicitTls,
        // With credentials, never fall back to plain text.
        TlsArg::Auto if credentials.is_some() => TlsMode::StartTlsRequired,
        TlsArg::Auto => TlsMode::StartTlsOpportunistic,
        TlsArg::Starttls => TlsMode::StartTlsRequired,
        TlsArg::Implicit => TlsMode::ImplicitTls,
        TlsArg::Opportunistic => TlsMode::StartTlsOpportunistic,
        TlsArg::None => TlsMode::None,
    };
    let is_sparkpost = host.to_ascii_lowercase().ends_with("sparkpostmail.com");
    let concurrency = args
        .concurrency
        .unwrap_or(if is_sparkpost { 10 } else { 4 })
        .max(1);
    let mut b = SmtpSender::builder(host, port)
        .tls(tls)
        .pool_size(concurrency)
        .max_messages_per_connection(args.max_per_connection.max(1))
        .dangerous_accept_invalid_certs(args.dangerous_accept_invalid_certs)
        .dangerous_allow_plaintext_auth(args.dangerous_allow_plaintext_auth);
    if let Some(ca) = &args.ca_file {
        b = b.extra_ca_file(ca);
    }
    let user_part = match &credentials {
        Some(c) => format!(", user=\"{}\", password=\"{MASK}\"", c.username()),
        None => String::new(),
    };
    if let Some(c) = credentials {
        b = b.credentials(c);
    }
    let msys = match args.msys_header {
        MsysArg::Auto => is_sparkpost,
        MsysArg::Always => true,
        MsysArg::Never => false,
    };
    if msys {
        b = b.msys_api(
            MsysApi::new()
                .campaign_id(args.campaign.clone())
                .tracking(false)
                .transactional(true),
        );
    }
    let sender = b.build().map_err(CliError::Setup)?;
    let mode = match tls {
        TlsMode::ImplicitTls => "TLS",
        TlsMode::StartTlsRequired => "STARTTLS",
        TlsMode::StartTlsOpportunistic => "STARTTLS if offered",
        _ => "plain",
    };
    Ok(Target {
        sender: Arc::new(sender),
        opened: format!("Opened SMTP connection ({mode}) to {host}, port {port}{user_part}"),
        concurrency,
        api: false,
        tracking: false,
        plaintext_note: (tls == TlsMode::StartTlsOpportunistic)
            .then(|| format!("note: {host}:{port} offers no STARTTLS; sent without TLS")),
    })
}

fn api(args: &RunArgs) -> Result<Target, CliError> {
    let key = match (&args.api_key, &args.api_key_file) {
        (_, Some(file)) => secret_from_file(file)?,
        (Some(k), None) if !k.is_empty() => Secret::new(k.clone()),
        _ => {
            return Err(CliError::Config(
                "SPARKPOST_API_KEY is not set (or give --api-key-file)".into(),
            ));
        }
    };
    let base = sparkpost_base_url(args.api_host.as_deref()).map_err(CliError::Setup)?;
    if base.starts_with("http://")
        && !is_loopback_url(&base)
        && !args.dangerous_allow_plaintext_auth
    {
        return Err(CliError::Config(format!(
            "{base} is not https: the API key would cross the network in clear \
             (--dangerous-allow-plaintext-auth to allow it)"
        )));
    }
    let mut b = SparkPostSender::builder(key)
        .base_url(base.clone())
        .campaign_id(args.campaign.clone())
        .tracking(args.track);
    if let Some(ca) = &args.ca_file {
        b = b.extra_ca_file(ca);
    }
    let sender = b.build().map_err(CliError::Setup)?;
    Ok(Target {
        sender: Arc::new(sender),
        opened: format!("Opened connection to {base}/api/v1"),
        concurrency: args.concurrency.unwrap_or(10).max(1),
        api: true,
        tracking: args.track,
        plaintext_note: None,
    })
}

fn is_loopback_url(url: &str) -> bool {
    let rest = url.trim_start_matches("http://");
    let host = rest.split(['/', ':']).next().unwrap_or("");
    host == "localhost" || rest.starts_with("[::1]") || host.starts_with("127.")
}

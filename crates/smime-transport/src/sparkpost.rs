//! The SparkPost Transmissions API on reqwest: `POST /api/v1/transmissions` with the whole
//! message in `content.email_rfc822`.

use std::{
    fmt,
    path::{Path, PathBuf},
    time::{Duration, Instant},
};

use async_trait::async_trait;
use reqwest::{
    StatusCode,
    header::{ACCEPT, AUTHORIZATION, HeaderMap, HeaderValue, RETRY_AFTER},
};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::{
    envelope::Envelope,
    error::{ApiErrorDetail, Repr, SendError},
    receipt::Receipt,
    secret::{Secret, scrub, wire_forms},
    sender::Sender,
};

/// The API's default base (US).
pub const SPARKPOST_API: &str = "https://api.sparkpost.com";
/// The API's base for EU accounts.
pub const SPARKPOST_EU_API: &str = "https://api.eu.sparkpost.com";

/// The API refuses content over 20 MB.
const MAX_CONTENT: usize = 20 * 1024 * 1024;
/// How much of an error body is kept in the error.
const MAX_BODY_IN_ERROR: usize = 2000;

/// The API base from a `SPARKPOST_HOST`-style value: a bare host gets `https://`; a URL
/// (`http://127.0.0.1:8080`) is kept as given; trailing `/` are removed; empty or absent
/// gives [`SPARKPOST_API`].
///
/// ```
/// use smime_transport::sparkpost_base_url;
///
/// assert_eq!(sparkpost_base_url(None)?, "https://api.sparkpost.com");
/// assert_eq!(sparkpost_base_url(Some("api.eu.sparkpost.com"))?, "https://api.eu.sparkpost.com");
/// assert_eq!(sparkpost_base_url(Some("http://127.0.0.1:8080/"))?, "http://127.0.0.1:8080");
/// # Ok::<(), smime_transport::SendError>(())
/// ```
pub fn sparkpost_base_url(host: Option<&str>) -> Result<String, SendError> {
    let host = host.map(str::trim).unwrap_or_default();
    if host.is_empty() {
        return Ok(SPARKPOST_API.to_owned());
    }
    let url = if let Some((scheme, _)) = host.split_once("://") {
        if !scheme.eq_ignore_ascii_case("https") && !scheme.eq_ignore_ascii_case("http") {
            return Err(SendError::config(format!(
                "SparkPost API base {host:?}: only http:// and https:// are supported"
            )));
        }
        host.to_owned()
    } else {
        format!("https://{host}")
    };
    let url = url.trim_end_matches('/').to_owned();
    let parsed = reqwest::Url::parse(&url)
        .map_err(|e| SendError::config(format!("SparkPost API base {url:?}: {e}")))?;
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(SendError::config(
            "the SparkPost API base must not carry credentials; the key goes in SPARKPOST_API_KEY",
        ));
    }
    if parsed.query().is_some() || parsed.fragment().is_some() {
        return Err(SendError::config(format!(
            "SparkPost API base {url:?} must not have a query or fragment"
        )));
    }
    Ok(url)
}

/// Builds a [`SparkPostSender`].
#[derive(Clone)]
pub struct SparkPostBuilder {
    api_key: Secret,
    base: Option<String>,
    campaign_id: Option<String>,
    tracking: bool,
    transactional: bool,
    timeout: Duration,
    connect_timeout: Duration,
    max_idle: usize,
    extra_ca_file: Option<PathBuf>,
}

impl fmt::Debug for SparkPostBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SparkPostBuilder")
            .field("api_key", &self.api_key)
            .field("base", &self.base)
            .field("campaign_id", &self.campaign_id)
            .field("tracking", &self.tracking)
            .field("transactional", &self.transactional)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl SparkPostBuilder {
    /// The API base, as `SPARKPOST_HOST` gives it (see [`sparkpost_base_url`]).
    pub fn base_url(mut self, host: impl Into<String>) -> Self {
        self.base = Some(host.into());
        self
    }

    /// The campaign id sent with every transmission.
    pub fn campaign_id(mut self, id: impl Into<String>) -> Self {
        self.campaign_id = Some(id.into());
        self
    }

    /// Turns open and click tracking on (default off). Tracking rewrites the body, which
    /// breaks a signature that covers it.
    pub fn tracking(mut self, on: bool) -> Self {
        self.tracking = on;
        self
    }

    /// Marks transmissions transactional (default true).
    pub fn transactional(mut self, on: bool) -> Self {
        self.transactional = on;
        self
    }

    /// The whole-request timeout (default 300 s, SparkPost's advice).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The connection timeout (default 30 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// How many idle keep-alive connections to keep (default 10, SparkPost's limit on
    /// concurrent connections).
    pub fn max_idle_connections(mut self, max: usize) -> Self {
        self.max_idle = max;
        self
    }

    /// A PEM file of CA certificates trusted in addition to the system's roots (an
    /// enterprise host behind a private CA).
    pub fn extra_ca_file(mut self, path: impl AsRef<Path>) -> Self {
        self.extra_ca_file = Some(path.as_ref().to_owned());
        self
    }

    /// Checks the configuration and builds the HTTP client.
    pub fn build(self) -> Result<SparkPostSender, SendError> {
        let base = sparkpost_base_url(self.base.as_deref())?;
        if self.api_key.is_empty() {
            return Err(SendError::config("the SparkPost API key is empty"));
        }
        let mut auth = HeaderValue::from_str(self.api_key.expose()).map_err(|_| {
            SendError::config("the SparkPost API key contains characters not allowed in a header")
        })?;
        auth.set_sensitive(true);
        let mut headers = HeaderMap::new();
        headers.insert(ACCEPT, HeaderValue::from_static("application/json"));
        let mut client = reqwest::Client::builder()
            .user_agent(concat!("smime-transport/", env!("CARGO_PKG_VERSION")))
            .default_headers(headers)
            .timeout(self.timeout)
            .connect_timeout(self.connect_timeout)
            .pool_max_idle_per_host(self.max_idle)
            .pool_idle_timeout(Duration::from_secs(90))
            .tcp_nodelay(true)
            // A redirect would carry the key elsewhere or turn the POST into a GET.
            .redirect(reqwest::redirect::Policy::none());
        if let Some(path) = &self.extra_ca_file {
            let pem = std::fs::read(path)
                .map_err(|e| SendError::config(format!("cannot read {}: {e}", path.display())))?;
            let certs = reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| {
                SendError::config(format!("no usable certificate in {}: {e}", path.display()))
            })?;
            client = client.tls_certs_merge(certs);
        }
        let client = client
            .build()
            .map_err(|e| SendError::config(format!("cannot build the HTTP client: {e}")))?;
        Ok(SparkPostSender {
            endpoint: format!("{base}/api/v1/transmissions"),
            base,
            client,
            secret_forms: wire_forms(&self.api_key, None),
            auth,
            campaign_id: self.campaign_id,
            tracking: self.tracking,
            transactional: self.transactional,
        })
    }
}

/// Sends through the SparkPost Transmissions API, one transmission per message.
///
/// Every envelope recipient, Bcc included, is listed in `recipients` (with its display name
/// when the envelope has one); the message goes unchanged in `content.email_rfc822`. Open
/// and click tracking are off and the mail is transactional unless asked otherwise.
/// HTTP keep-alive reuses connections between messages.
///
/// Errors: 401/403 are [authentication](SendError::is_auth) errors, 420 (sending limit) and
/// other 4xx are permanent, 429 and 5xx and timeouts are transient (429 with the
/// `Retry-After` the API sent). Retrying is the [`Dispatcher`](crate::Dispatcher)'s job.
///
/// ```no_run
/// use smime_transport::{Envelope, Secret, Sender, SparkPostSender};
///
/// # async fn example(message: &[u8]) -> Result<(), Box<dyn std::error::Error>> {
/// let sender = SparkPostSender::builder(Secret::new(std::env::var("SPARKPOST_API_KEY")?))
///     .base_url(std::env::var("SPARKPOST_HOST").unwrap_or_default())
///     .campaign_id("sparkpost-SMIME")
///     .build()?;
/// let receipt = sender.send(&Envelope::new("alice@example.com", ["bob@example.net"])?, message).await?;
/// println!("transmission {:?}", receipt.id());
/// # Ok(()) }
/// ```
pub struct SparkPostSender {
    client: reqwest::Client,
    base: String,
    endpoint: String,
    auth: HeaderValue,
    secret_forms: Vec<Zeroizing<String>>,
    campaign_id: Option<String>,
    tracking: bool,
    transactional: bool,
}

impl fmt::Debug for SparkPostSender {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SparkPostSender")
            .field("endpoint", &self.endpoint)
            .field("api_key", &"********")
            .field("campaign_id", &self.campaign_id)
            .field("tracking", &self.tracking)
            .field("transactional", &self.transactional)
            .finish_non_exhaustive()
    }
}

/// `SparkPost API https://api.sparkpost.com/api/v1`.
impl fmt::Display for SparkPostSender {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SparkPost API {}/api/v1", self.base)
    }
}

#[derive(Serialize)]
struct Transmission<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    campaign_id: Option<&'a str>,
    options: TransmissionOptions,
    recipients: Vec<ApiRecipient<'a>>,
    content: Content<'a>,
}

#[derive(Serialize)]
struct TransmissionOptions {
    open_tracking: bool,
    click_tracking: bool,
    transactional: bool,
}

#[derive(Serialize)]
struct ApiRecipient<'a> {
    address: ApiAddress<'a>,
}

#[derive(Serialize)]
struct ApiAddress<'a> {
    email: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<&'a str>,
}

#[derive(Serialize)]
struct Content<'a> {
    email_rfc822: &'a str,
}

#[derive(Deserialize)]
struct Success {
    results: Results,
}

#[derive(Deserialize)]
struct Results {
    #[serde(default)]
    total_rejected_recipients: u64,
    #[serde(default)]
    total_accepted_recipients: u64,
    id: String,
}

#[derive(Deserialize)]
struct Failure {
    #[serde(default)]
    errors: Vec<FailureEntry>,
}

#[derive(Deserialize)]
struct FailureEntry {
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    code: Option<serde_json::Value>,
}

impl SparkPostSender {
    /// A builder with the API key; see [`SparkPostBuilder`] for the options.
    pub fn builder(api_key: Secret) -> SparkPostBuilder {
        SparkPostBuilder {
            api_key,
            base: None,
            campaign_id: None,
            tracking: false,
            transactional: true,
            timeout: Duration::from_secs(300),
            connect_timeout: Duration::from_secs(30),
            max_idle: 10,
            extra_ca_file: None,
        }
    }

    /// The API base (`https://api.sparkpost.com`).
    pub fn base_url(&self) -> &str {
        &self.base
    }

    fn body(&self, envelope: &Envelope, message: &str) -> Result<Vec<u8>, SendError> {
        let transmission = Transmission {
            campaign_id: self.campaign_id.as_deref(),
            options: TransmissionOptions {
                open_tracking: self.tracking,
                click_tracking: self.tracking,
                transactional: self.transactional,
            },
            recipients: envelope
                .rcpt_to()
                .iter()
                .map(|r| ApiRecipient {
                    address: ApiAddress {
                        email: r.address(),
                        name: r.name(),
                    },
                })
                .collect(),
            content: Content {
                email_rfc822: message,
            },
        };
        serde_json::to_vec(&transmission)
            .map_err(|e| SendError::message(format!("cannot encode the transmission: {e}")))
    }

    fn clean(&self, text: &str) -> String {
        let mut text = scrub(text, &self.secret_forms);
        if text.len() > MAX_BODY_IN_ERROR {
            let mut end = MAX_BODY_IN_ERROR;
            while !text.is_char_boundary(end) {
                end -= 1;
            }
            text.truncate(end);
            text.push_str("...");
        }
        text
    }

    /// A request that got no (complete) response, logged at debug level.
    fn failed_request(&self, e: &reqwest::Error, started: Instant) -> SendError {
        let error = self.request_error(e, true);
        tracing::debug!(
            method = "POST",
            url = %self.endpoint,
            elapsed = ?started.elapsed(),
            %error,
            "API request failed"
        );
        error
    }

    fn request_error(&self, e: &reqwest::Error, sent: bool) -> SendError {
        let mut detail = e.to_string();
        let mut source = std::error::Error::source(e);
        while let Some(s) = source {
            detail.push_str(": ");
            detail.push_str(&s.to_string());
            source = s.source();
        }
        Repr::Http {
            detail: self.clean(&detail),
            timeout: e.is_timeout(),
            uncertain: sent && !e.is_connect(),
        }
        .into()
    }

    /// What an API response means: the status, `Retry-After` and body turned into a
    /// [`Receipt`] or a [`SendError`] (a synchronous step, so that it can be fuzzed).
    pub(crate) fn outcome(
        &self,
        envelope: &Envelope,
        status: StatusCode,
        wait: Option<Duration>,
        bytes: &[u8],
        elapsed: Duration,
    ) -> Result<Receipt, SendError> {
        let body = String::from_utf8_lossy(bytes);

        if status.is_success() {
            let parsed: Success = serde_json::from_slice(bytes).map_err(|e| {
                SendError::from(Repr::ApiReply {
                    status: status.as_u16(),
                    // serde quotes the offending value: scrub its message too.
                    detail: self.clean(&format!("{e}; body: {body}")),
                })
            })?;
            let r = parsed.results;
            if r.total_accepted_recipients == 0 && r.total_rejected_recipients > 0 {
                return Err(Repr::ApiAllRejected {
                    id: self.clean(&r.id),
                    rejected: r.total_rejected_recipients,
                }
                .into());
            }
            let receipt = if r.total_rejected_recipients == 0 {
                Receipt::new(envelope.addresses().map(str::to_owned).collect())
            } else {
                Receipt::from_counts(
                    usize::try_from(r.total_accepted_recipients).unwrap_or(usize::MAX),
                    usize::try_from(r.total_rejected_recipients).unwrap_or(usize::MAX),
                )
            };
            return Ok(receipt
                .with_id(Some(self.clean(&r.id)))
                .with_response(self.clean(&body))
                .with_encrypted(self.endpoint.starts_with("https://"))
                .with_elapsed(elapsed));
        }

        let errors: Vec<ApiErrorDetail> = serde_json::from_slice::<Failure>(bytes)
            .map(|f| {
                f.errors
                    .into_iter()
                    .map(|e| {
                        ApiErrorDetail::new(
                            self.clean(e.message.as_deref().unwrap_or("")),
                            e.description.map(|d| self.clean(&d)),
                            e.code.map(|c| match c {
                                serde_json::Value::String(s) => self.clean(&s),
                                other => self.clean(&other.to_string()),
                            }),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        let summary = if errors.is_empty() {
            let body = self.clean(body.trim());
            if body.is_empty() {
                status.canonical_reason().unwrap_or("no body").to_owned()
            } else {
                body
            }
        } else {
            errors
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("; ")
        };
        Err(Repr::Api {
            status: status.as_u16(),
            summary,
            errors,
            retry_after: if status == StatusCode::TOO_MANY_REQUESTS {
                wait
            } else {
                None
            },
        }
        .into())
    }
}

/// `Retry-After` in seconds (the HTTP-date form is not used by the API).
pub(crate) fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    headers
        .get(RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse::<u64>()
        .ok()
        .map(Duration::from_secs)
}

#[async_trait]
impl Sender for SparkPostSender {
    async fn send(&self, envelope: &Envelope, message: &[u8]) -> Result<Receipt, SendError> {
        let text = std::str::from_utf8(message).map_err(|_| {
            SendError::message(
                "the message is not UTF-8 and cannot travel in the API's JSON \
                 (S/MIME output is 7-bit: was it damaged?)",
            )
        })?;
        if message.len() > MAX_CONTENT {
            return Err(SendError::message(format!(
                "the message is {} bytes; the API accepts at most 20 MB",
                message.len()
            )));
        }
        let body = self.body(envelope, text)?;
        // Logged: method, URL, sizes, status, latency, the response body. Never the request
        // headers (the Authorization header is the key; it is also marked sensitive) nor the
        // request body (the message). reqwest's `connection_verbose` would log raw bytes,
        // headers included, at trace level: it stays off.
        tracing::debug!(
            method = "POST",
            url = %self.endpoint,
            recipients = envelope.rcpt_to().len(),
            message_bytes = message.len(),
            request_bytes = body.len(),
            "API request"
        );
        let started = Instant::now();
        let response = self
            .client
            .post(&self.endpoint)
            .header(AUTHORIZATION, self.auth.clone())
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body)
            .send()
            .await
            .map_err(|e| self.failed_request(&e, started))?;
        let status = response.status();
        let wait = retry_after(response.headers());
        let bytes = response
            .bytes()
            .await
            .map_err(|e| self.failed_request(&e, started))?;
        let elapsed = started.elapsed();
        tracing::debug!(
            method = "POST",
            url = %self.endpoint,
            status = status.as_u16(),
            ?elapsed,
            response_bytes = bytes.len(),
            "API response"
        );
        if tracing::enabled!(tracing::Level::TRACE) {
            let body = scrub(&String::from_utf8_lossy(&bytes), &self.secret_forms);
            tracing::trace!(status = status.as_u16(), "API response body: {body}");
        }
        self.outcome(envelope, status, wait, &bytes, elapsed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_url_rules() {
        assert_eq!(
            sparkpost_base_url(Some("")).ok().as_deref(),
            Some(SPARKPOST_API)
        );
        assert_eq!(
            sparkpost_base_url(Some("  ")).ok().as_deref(),
            Some(SPARKPOST_API)
        );
        assert_eq!(
            sparkpost_base_url(Some("api.eu.sparkpost.com/"))
                .ok()
                .as_deref(),
            Some(SPARKPOST_EU_API)
        );
        assert_eq!(
            sparkpost_base_url(Some("https://mail.example.com/sp//"))
                .ok()
                .as_deref(),
            Some("https://mail.example.com/sp")
        );
        assert_eq!(
            sparkpost_base_url(Some("HTTP://127.0.0.1:8025"))
                .ok()
                .as_deref(),
            Some("HTTP://127.0.0.1:8025")
        );
        assert!(sparkpost_base_url(Some("ftp://example.com")).is_err());
        assert!(sparkpost_base_url(Some("https://user:pw@example.com")).is_err());
        assert!(sparkpost_base_url(Some("https://example.com/?q")).is_err());
    }

    #[test]
    fn body_lists_every_recipient_with_names() {
        let sender = SparkPostSender::builder(Secret::from("k"))
            .campaign_id("c")
            .build()
            .expect("builds");
        let envelope = Envelope::new(
            "a@example.com",
            [
                crate::Recipient::new("b@example.net").with_name("Bob"),
                crate::Recipient::new("bcc@example.org"),
            ],
        )
        .expect("valid");
        let body = sender
            .body(&envelope, "Subject: x\r\n\r\ny\r\n")
            .expect("json");
        let v: serde_json::Value = serde_json::from_slice(&body).expect("json");
        assert_eq!(
            v,
            serde_json::json!({
                "campaign_id": "c",
                "options": {"open_tracking": false, "click_tracking": false, "transactional": true},
                "recipients": [
                    {"address": {"email": "b@example.net", "name": "Bob"}},
                    {"address": {"email": "bcc@example.org"}}
                ],
                "content": {"email_rfc822": "Subject: x\r\n\r\ny\r\n"}
            })
        );
    }
}

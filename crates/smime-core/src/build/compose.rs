//! Putting it together: the S/MIME layers (RFC 8551 §3) around the prepared entity, and the
//! outer header around them.

use std::sync::Arc;

use rand_core::CryptoRng;

use super::clock::{Clock, SystemClock};
use super::cms_build::{Cipher, enveloped_data, signed_data};
use super::error::ProtectError;
use crate::keys::{KeyStore, RecipientKey};
use crate::message::encoding::{Base64Lines, base64_lines, base64_lines_len};
use crate::message::{Email, Recipient};

/// How to sign.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SignMode {
    /// `application/pkcs7-mime; smime-type=signed-data`: the content travels inside the
    /// signature, so services that rewrite bodies (tracking, substitutions) cannot break it.
    Opaque,
    /// `multipart/signed` with an `smime.p7s` part: readable by clients without S/MIME.
    Detached,
}

/// What to do to a message.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Options {
    /// Sign, and how (`None`: do not sign).
    pub sign: Option<SignMode>,
    /// Encrypt to every To, Cc and Bcc recipient.
    pub encrypt: bool,
    /// Content encryption.
    pub cipher: Cipher,
    /// Also encrypt to the sender when its certificate is at hand (RFC 8551 §3.3), so that
    /// the sender can read its own copy. On by default.
    pub encrypt_to_self: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            sign: None,
            encrypt: false,
            cipher: Cipher::default(),
            encrypt_to_self: true,
        }
    }
}

impl Options {
    /// Sign (opaque) and encrypt: the ancestor's `--sign --encrypt`.
    pub fn sign_and_encrypt() -> Self {
        Options {
            sign: Some(SignMode::Opaque),
            encrypt: true,
            ..Options::default()
        }
    }
    /// Sign only, in the given form.
    pub fn sign(mode: SignMode) -> Self {
        Options {
            sign: Some(mode),
            ..Options::default()
        }
    }
    /// Encrypt only.
    pub fn encrypt() -> Self {
        Options {
            encrypt: true,
            ..Options::default()
        }
    }
}

/// A finished message and the envelope it should travel in.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Protected {
    /// The whole S/MIME message, CRLF line endings.
    pub message: Vec<u8>,
    /// The envelope sender (the From address).
    pub mail_from: String,
    /// Every recipient (To, Cc and Bcc), each once: the envelope's `RCPT TO` list.
    pub recipients: Vec<Recipient>,
}

/// Turns `.eml` messages into S/MIME messages with one set of keys and options.
///
/// Cheap to share between threads (`&self` everywhere); keys are loaded on first use and kept.
#[derive(Debug, Clone)]
pub struct Protector {
    keys: Arc<KeyStore>,
    options: Options,
    clock: Arc<dyn Clock>,
    boundary: Option<String>,
}

const SIGNED_PREAMBLE: &[u8] = b"This is an S/MIME signed message\r\n";
const MIME_VERSION: &[u8] = b"MIME-Version: 1.0\r\n";

impl Protector {
    /// A protector using `keys` and `options`, the system clock and random MIME boundaries.
    pub fn new(keys: Arc<KeyStore>, options: Options) -> Self {
        Protector {
            keys,
            options,
            clock: Arc::new(SystemClock),
            boundary: None,
        }
    }

    /// Uses this clock for signing times and certificate checks.
    #[must_use]
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Uses this MIME boundary for `multipart/signed` instead of a random one.
    #[must_use]
    pub fn with_boundary(mut self, boundary: impl Into<String>) -> Self {
        self.boundary = Some(boundary.into());
        self
    }

    /// The options in force.
    pub fn options(&self) -> &Options {
        &self.options
    }

    /// The key store.
    pub fn keys(&self) -> &KeyStore {
        &self.keys
    }

    /// Parses `eml` and protects it, with the operating system's random number generator.
    ///
    /// # Errors
    /// [`ProtectError`] for unreadable input, a missing or unusable key or certificate, or a
    /// failed cryptographic operation.
    pub fn protect(&self, eml: &[u8]) -> Result<Protected, ProtectError> {
        let mut rng = rand_core::UnwrapErr(getrandom::SysRng);
        self.protect_with_rng(eml, &mut rng)
    }

    /// Like [`protect`](Self::protect) with the given random number generator (which makes
    /// the content-encryption key, the IV, the padding of key transport and the boundary).
    ///
    /// # Errors
    /// As for [`protect`](Self::protect).
    pub fn protect_with_rng<R: CryptoRng + ?Sized>(
        &self,
        eml: &[u8],
        rng: &mut R,
    ) -> Result<Protected, ProtectError> {
        let email = Email::parse(eml)?;
        self.protect_email(&email, rng)
    }

    /// Protects an already parsed message.
    ///
    /// # Errors
    /// As for [`protect`](Self::protect).
    pub fn protect_email<R: CryptoRng + ?Sized>(
        &self,
        email: &Email,
        rng: &mut R,
    ) -> Result<Protected, ProtectError> {
        let opts = &self.options;
        if opts.sign.is_none() && !opts.encrypt {
            return Err(ProtectError::NothingToDo);
        }
        let now = self.clock.now();
        let from = &email.from().address;

        // Find every key before doing any work, so that a missing one fails fast.
        let signer = match opts.sign {
            Some(_) => Some(self.keys.signer(from, now)?),
            None => None,
        };
        let recipients = if opts.encrypt {
            self.recipient_keys(email, now)?
        } else {
            Vec::new()
        };

        let entity = email.prepared_entity()?;
        // What is encrypted gets spare room for the cipher's padding, so it is encrypted in
        // place; what is only signed is written straight into the message.
        let room = if opts.encrypt { 16 } else { 0 };
        let mut message = Vec::new();
        let mut inner = Vec::new();
        let out = if opts.encrypt {
            &mut inner
        } else {
            self.start_message(email, &mut message, entity.len());
            &mut message
        };
        match (opts.sign, &signer) {
            (Some(SignMode::Opaque), Some(s)) => {
                let der = signed_data(&entity, false, s, now)?;
                let pieces = [&der.head[..], &entity, &der.tail];
                out.reserve(pkcs7_mime_len(&pieces) + room);
                write_pkcs7_mime(out, "signed-data", &pieces);
            }
            (Some(SignMode::Detached), Some(s)) => {
                let der = signed_data(&entity, true, s, now)?;
                let boundary = self.pick_boundary(&entity, rng)?;
                out.reserve(entity.len() + base64_lines_len(der.head.len()) + 1024 + room);
                let micalg = s.key().algorithm().micalg();
                write_multipart_signed(out, &entity, &der.head, &boundary, micalg);
            }
            _ if opts.encrypt => {
                // Nothing else needs the prepared entity: encrypt it where it is.
                *out = entity;
                out.reserve_exact(room);
            }
            _ => out.extend_from_slice(&entity),
        }
        if opts.encrypt {
            let ec = recipients.iter().filter(|r| r.is_ec()).count();
            if ec > 0 && ec < recipients.len() {
                // A reader's limit, not ours: worth knowing when NSS users complain.
                tracing::info!(
                    ec_recipients = ec,
                    rsa_recipients = recipients.len() - ec,
                    "RSA and EC recipients in one message: NSS (Thunderbird) cannot read a \
                     message with any EC recipient, not even its RSA recipients"
                );
            }
            let head = enveloped_data(&mut inner, &recipients, opts.cipher, rng)?;
            let pieces = [&head[..], &inner];
            self.start_message(email, &mut message, pkcs7_mime_len(&pieces));
            write_pkcs7_mime(&mut message, "enveloped-data", &pieces);
        }
        Ok(Protected {
            message,
            mail_from: from.clone(),
            recipients: email.recipients().to_vec(),
        })
    }

    /// Writes the outer header (and `MIME-Version`) to an empty `message`, with room for a body
    /// of `body_len` bytes after it.
    fn start_message(&self, email: &Email, message: &mut Vec<u8>, body_len: usize) {
        let fields: Vec<&[u8]> = email.outer_header().map(|f| &f.raw[..]).collect();
        let header_len: usize = fields.iter().map(|f| f.len()).sum();
        message.reserve_exact(header_len + MIME_VERSION.len() + body_len);
        for field in fields {
            message.extend_from_slice(field);
        }
        message.extend_from_slice(MIME_VERSION);
    }

    /// Certificates for every recipient, then for the sender (unless it is a recipient
    /// already, or encrypt-to-self is off, or it has no certificate).
    fn recipient_keys(
        &self,
        email: &Email,
        now: std::time::SystemTime,
    ) -> Result<Vec<Arc<RecipientKey>>, ProtectError> {
        let mut keys = Vec::with_capacity(email.recipients().len() + 1);
        for r in email.recipients() {
            keys.push(self.keys.recipient(&r.mailbox.address, now)?);
        }
        let from = email.from();
        if self.options.encrypt_to_self
            && !email
                .recipients()
                .iter()
                .any(|r| r.mailbox.key() == from.key())
            && let Some(own) = self.keys.sender_as_recipient(&from.address, now)?
        {
            keys.push(own);
        }
        Ok(keys)
    }

    fn pick_boundary<R: CryptoRng + ?Sized>(
        &self,
        entity: &[u8],
        rng: &mut R,
    ) -> Result<String, ProtectError> {
        if let Some(b) = &self.boundary {
            if contains(entity, b.as_bytes()) {
                return Err(ProtectError::BoundaryInContent(b.clone()));
            }
            return Ok(b.clone());
        }
        loop {
            let b = random_boundary(rng);
            if !contains(entity, b.as_bytes()) {
                return Ok(b);
            }
        }
    }
}

fn random_boundary<R: CryptoRng + ?Sized>(rng: &mut R) -> String {
    const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut raw = [0u8; 20];
    rng.fill_bytes(&mut raw);
    let tail: String = raw
        .iter()
        .map(|b| char::from(ALPHABET[usize::from(b & 31)]))
        .collect();
    format!("----=_smime_{tail}")
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && memchr::memmem::find(hay, needle).is_some()
}

/// The header of an `application/pkcs7-mime` entity (RFC 8551 §3.2).
fn pkcs7_mime_header(smime_type: &str) -> String {
    format!(
        "Content-Type: application/pkcs7-mime; smime-type={smime_type};\r\n \
         name=\"smime.p7m\"\r\n\
         Content-Transfer-Encoding: base64\r\n\
         Content-Disposition: attachment; filename=\"smime.p7m\"\r\n\r\n"
    )
}

/// Length of the entity [`write_pkcs7_mime`] writes for these pieces.
fn pkcs7_mime_len(der_pieces: &[&[u8]]) -> usize {
    let der_len = der_pieces.iter().map(|p| p.len()).sum();
    pkcs7_mime_header("enveloped-data").len() + base64_lines_len(der_len)
}

/// Appends an `application/pkcs7-mime` entity holding, in base64, the DER made of
/// `der_pieces` in order.
fn write_pkcs7_mime(out: &mut Vec<u8>, smime_type: &str, der_pieces: &[&[u8]]) {
    out.extend_from_slice(pkcs7_mime_header(smime_type).as_bytes());
    let der_len = der_pieces.iter().map(|p| p.len()).sum();
    let mut base64 = Base64Lines::new(out, der_len);
    for piece in der_pieces {
        base64.write(piece);
    }
    base64.finish();
}

/// Appends a `multipart/signed` entity (RFC 8551 §3.5.3): the signed entity exactly as signed,
/// then the detached signature. `micalg` names the signature's digest (`sha-256`, `sha-384`).
fn write_multipart_signed(
    out: &mut Vec<u8>,
    entity: &[u8],
    der: &[u8],
    boundary: &str,
    micalg: &str,
) {
    out.extend_from_slice(
        format!(
            "Content-Type: multipart/signed; protocol=\"application/pkcs7-signature\";\r\n \
             micalg={micalg}; boundary=\"{boundary}\"\r\n\r\n"
        )
        .as_bytes(),
    );
    out.extend_from_slice(SIGNED_PREAMBLE);
    out.extend_from_slice(format!("\r\n--{boundary}\r\n").as_bytes());
    out.extend_from_slice(entity);
    out.extend_from_slice(format!("\r\n--{boundary}\r\n").as_bytes());
    out.extend_from_slice(
        b"Content-Type: application/pkcs7-signature; name=\"smime.p7s\"\r\n\
          Content-Transfer-Encoding: base64\r\n\
          Content-Disposition: attachment; filename=\"smime.p7s\"\r\n\r\n",
    );
    base64_lines(der, out);
    out.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
}

//! `smime show`: the MIME tree of a message, S/MIME layers included, as the ancestor's
//! `mimeshow.py` printed it. The tree is [`smime_core::inspect`]'s; this module only renders it,
//! as text or (`--json`) as one JSON document, and runs the command (reading the input, exit
//! codes).
//!
//! Reads any message (S/MIME or not) and never fails on what is inside it: a part that cannot be
//! read is shown with `(unreadable: <reason>)` and the walk goes on. Only input that is not a
//! message at all (it does not start with a header field) is an error. Nothing is decrypted and
//! no signature is verified: this describes structure, it does not vouch for it.
//!
//! # Output format
//!
//! Stable and meant for `grep`; plain ASCII apart from what the message itself holds. Text taken
//! from the message (parameter values, file names, certificate names) has its control
//! characters escaped (`\u{1b}`) and is cut at 200 characters.
//!
//! ```text
//! message: 44431 bytes
//! +- application/pkcs7-mime; smime-type=enveloped-data; name=smime.p7m  base64  attachment smime.p7m  32175 bytes
//!    S/MIME enveloped-data: AES-256-CBC, 3 recipients, 31024 bytes encrypted
//!    recipient 1: issuer "CN=smime TEST-ONLY Intermediate CA,O=smime test PKI" serial 1002, rsaEncryption
//!    recipient 2: subject key id 6eb7cbfaf90a4bfe1ef3f1df56d2ed37b2b116b4, RSAES-OAEP
//! ```
//! ```text
//! message: 31234 bytes
//! +- application/pkcs7-mime; smime-type=signed-data; name=smime.p7m  base64  attachment smime.p7m  22531 bytes
//!    S/MIME signed-data: digest SHA-256, 2 certificates, 1 signer
//!    certificate 1: subject "CN=smime TEST-ONLY Intermediate CA,O=smime test PKI" issuer "CN=smime TEST-ONLY Root CA,O=smime test PKI" serial 1001
//!    certificate 2: subject "EMAIL=alice@example.com,CN=Alice Test,O=smime test PKI" issuer "CN=smime TEST-ONLY Intermediate CA,O=smime test PKI" serial 1002, email alice@example.com
//!    signer 1: issuer "CN=smime TEST-ONLY Intermediate CA,O=smime test PKI" serial 1002, SHA-256, rsaEncryption, signing time 2026-06-01T12:00:00Z, not verified
//!    content: id-data, 20130 bytes
//!    +- multipart/related  7bit  2 parts  20035 bytes
//!       +- multipart/alternative  7bit  2 parts  586 bytes
//!          +- text/plain; charset=us-ascii  7bit  92 bytes
//!          +- text/html; charset=us-ascii  7bit  274 bytes
//!       +- image/png; name=logo.png  base64  inline logo.png  13964 bytes
//! ```
//!
//! - The first line gives the size of the whole input.
//! - Each MIME part is one line starting with `+- `, indented three spaces per level of nesting:
//!   `TYPE/SUBTYPE[; charset=..][; smime-type=..][; name=..]`, two spaces, the transfer encoding
//!   (`7bit` when the header is absent), then for a part with a `Content-Disposition` two spaces,
//!   the disposition and the file name if any, then for a multipart two spaces and `N parts`, and
//!   last two spaces and the size: `N bytes`, the body after transfer decoding (before any
//!   charset conversion); for a multipart or an unencoded `message/rfc822` the raw body. A part
//!   without `Content-Type` shows as `text/plain (default)`. Values holding white space, control
//!   characters or specials are in double quotes.
//! - Lines about a part (not starting with `+- `) are indented one level deeper than the part,
//!   at the same column as its children:
//!   - `multipart/signed` parts: `protocol P, micalg M`.
//!   - CMS parts (`application/pkcs7-mime`, `application/pkcs7-signature`, their `x-` forms, and
//!     `application/octet-stream` named `*.p7m`/`*.p7s`), whatever their `smime-type` says:
//!     - `S/MIME enveloped-data: CIPHER, N recipients, N bytes encrypted` then one
//!       `recipient N: ...` line each: who (`issuer "DN" serial HEX`, or `subject key id HEX`),
//!       then the key-encryption algorithm. `authEnveloped-data` is shown the same way.
//!     - `S/MIME signed-data: digest ALG[, ALG], N certificates, N signers` then
//!       `certificate N: subject "DN" issuer "DN" serial HEX[, email ADDRESS[, ADDRESS]]`
//!       (the addresses the certificate is for: subject emailAddress and rfc822Name
//!       alternative names), `signer N: WHO, DIGEST, SIGNATURE-ALG[, signing time T], not
//!       verified` and
//!       `content: TYPE, N bytes` followed, for `id-data`, by the tree of the encapsulated entity
//!       one level down; or `content: none (detached)` (`none (detached, or certificates only)`
//!       in a pkcs7-mime part).
//!     - Other content types: `S/MIME compressed-data: contents not shown`.
//!     - `, BER` ends the summary line when the structure is not DER (OpenSSL's streaming
//!       output, for one); `(note: smime-type says X)` comes first when the parameter and the
//!       content disagree.
//!   - `(unreadable: REASON)` where a part or a layer cannot be read.
//! - Serial numbers and key identifiers are lower-case hex. Algorithms have short names
//!   (`AES-256-CBC`, `SHA-256`, `rsaEncryption`, `RSAES-OAEP`), otherwise the registered name
//!   and the OID in parentheses, otherwise the dotted OID.
//!
//! Nesting is limited to [`MAX_INSPECT_DEPTH`](smime_core::MAX_INSPECT_DEPTH) levels, counting
//! MIME parts and encapsulated content alike; deeper parts are replaced by one
//! `+- ... (nested deeper than 32 levels: not shown)`.
//!
//! # JSON
//!
//! `--json` prints the same tree as one JSON document (pretty-printed), with every value
//! complete (nothing escaped beyond JSON's own rules, nothing shortened) and what the text
//! leaves out: the OID of every algorithm and content type. See [`json`] for its shape.
//!
//! # Not a check
//!
//! `show` describes a message; it checks nothing. A signature whose content was changed after
//! signing, or made with a certificate nobody trusts, looks exactly like a good one: every
//! signer line says `not verified`, and `"verified": false` in JSON.

mod json;

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use smime_core::inspect::{
    AsnEncoding, CertificateEntry, CmsContent, CmsKind, CmsLayer, Encapsulated, EnvelopedLayer,
    Identifier, Node, Part, Pkcs7Kind, Recipient, SignedLayer,
};
use smime_core::{InspectError, Inspection, MAX_INSPECT_SIZE};

use crate::error::{CliError, ShowError};

/// How many characters of a value taken from the message are printed.
const MAX_TEXT: usize = 200;

/// How many hex digits of a serial number or key identifier are printed (64 bytes).
const MAX_HEX: usize = 128;

/// How the tree is printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Format {
    /// The text of the module documentation.
    Text,
    /// One JSON document.
    Json,
}

/// `smime show [--json] [FILE]`: the tree of one message, from FILE or standard input (absent
/// or `-`), on standard output. A closed standard output (`smime show m.eml | head -3`) is not
/// a failure.
///
/// # Errors
/// [`CliError::ReadInput`] when the input cannot be read, [`CliError::Show`] when it is not a
/// message, is too large, or the output cannot be written.
pub(crate) fn command(file: Option<&Path>, format: Format) -> Result<(), CliError> {
    let (name, input) = match file {
        Some(p) if p != Path::new("-") => (p.to_owned(), read_file(p)?),
        _ => {
            let name = PathBuf::from("<stdin>");
            let input =
                read_limited(std::io::stdin().lock(), 0).map_err(|source| CliError::ReadInput {
                    file: name.clone(),
                    source,
                })?;
            (name, input)
        }
    };
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    match show(&input, &mut out, format) {
        Ok(()) => Ok(()),
        Err(ShowError::Write(e)) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(source) => {
            let _ = out.flush();
            Err(CliError::Show { file: name, source })
        }
    }
}

/// A file, refused from its size before reading (and holding) any of it when it is over
/// [`MAX_INSPECT_SIZE`]; then read with the same limit, since a file may grow.
fn read_file(path: &Path) -> Result<Vec<u8>, CliError> {
    use smime_core::ReadFileError;
    let too_large = |size: u64| CliError::Show {
        file: path.to_owned(),
        source: ShowError::Inspect(InspectError::TooLarge {
            size: usize::try_from(size).unwrap_or(usize::MAX),
            limit: MAX_INSPECT_SIZE,
        }),
    };
    smime_core::read_file_limited(path, MAX_INSPECT_SIZE as u64).map_err(|e| match e {
        ReadFileError::Io { path, source } => CliError::ReadInput { file: path, source },
        ReadFileError::TooLarge { size, .. } => too_large(size),
        // A pipe or device named on the command line: one byte over is all that was read.
        ReadFileError::TooLargeStream { .. } => too_large(MAX_INSPECT_SIZE as u64 + 1),
        other => CliError::ReadInput {
            file: path.to_owned(),
            source: std::io::Error::other(other),
        },
    })
}

/// At most [`MAX_INSPECT_SIZE`] + 1 bytes of `reader` (`size`: the expected size, for the
/// buffer): one byte over is enough for [`smime_core::inspect`] to say it is too large.
fn read_limited(reader: impl Read, size: u64) -> std::io::Result<Vec<u8>> {
    let limit = MAX_INSPECT_SIZE as u64 + 1;
    let mut buf = Vec::with_capacity(usize::try_from(size.min(limit)).unwrap_or(0));
    reader.take(limit).read_to_end(&mut buf)?;
    Ok(buf)
}

/// Prints the tree of the message `input` to `out` as `format` says.
///
/// # Errors
/// [`ShowError::Inspect`] when `input` is not a message or is too large, [`ShowError::Write`]
/// when `out` fails. Whatever is wrong inside a message is printed, not returned.
pub(crate) fn show(input: &[u8], out: &mut dyn Write, format: Format) -> Result<(), ShowError> {
    let tree = smime_core::inspect(input)?;
    match format {
        Format::Text => Text { out }.inspection(&tree)?,
        Format::Json => {
            serde_json::to_writer_pretty(&mut *out, &json::inspection(&tree))
                .map_err(std::io::Error::from)?;
            out.write_all(b"\n")?;
        }
    }
    out.flush()?;
    Ok(())
}

/// The text output, with the indentation rules of the format.
struct Text<'w> {
    out: &'w mut dyn Write,
}

impl Text<'_> {
    /// One line, written at once.
    fn raw(&mut self, line: &str) -> std::io::Result<()> {
        let mut buf = String::with_capacity(line.len() + 1);
        buf.push_str(line);
        buf.push('\n');
        self.out.write_all(buf.as_bytes())
    }

    /// A part's line at `depth`.
    fn part(&mut self, depth: usize, text: &str) -> std::io::Result<()> {
        self.raw(&format!("{}+- {text}", "   ".repeat(depth)))
    }

    /// A line about the part at `depth`.
    fn detail(&mut self, depth: usize, text: &str) -> std::io::Result<()> {
        self.raw(&format!("{}{text}", "   ".repeat(depth + 1)))
    }

    fn unreadable(&mut self, depth: usize, reason: &str) -> std::io::Result<()> {
        self.detail(depth, &format!("(unreadable: {})", clean(reason)))
    }

    fn inspection(&mut self, tree: &Inspection) -> std::io::Result<()> {
        self.raw(&format!("message: {} bytes", tree.size))?;
        self.node(&tree.root, 0)
    }

    /// `node` at `depth`, and everything below it.
    fn node(&mut self, node: &Node, depth: usize) -> std::io::Result<()> {
        match node {
            Node::Part(part) => self.mime_part(part, depth),
            Node::Empty { reason } => {
                self.part(depth, "(empty)")?;
                self.unreadable(depth, reason)
            }
            Node::Missing { reason } => {
                self.part(depth, "(missing)")?;
                self.unreadable(depth, reason)
            }
            // A line about the parent, among its children.
            Node::Unreadable { reason } => self.unreadable(depth.saturating_sub(1), reason),
            Node::TooDeep { limit } => self.part(
                depth,
                &format!("... (nested deeper than {limit} levels: not shown)"),
            ),
            _ => self.part(depth, "(not shown)"),
        }
    }

    fn mime_part(&mut self, part: &Part, depth: usize) -> std::io::Result<()> {
        self.part(depth, &describe(part))?;
        if let Some(signed) = &part.signed {
            let protocol = signed.protocol.as_deref().unwrap_or("(none)");
            let micalg = signed.micalg.as_deref().unwrap_or("(none)");
            self.detail(
                depth,
                &format!("protocol {}, micalg {}", clean(protocol), clean(micalg)),
            )?;
        }
        for reason in &part.unreadable {
            self.unreadable(depth, reason)?;
        }
        if let Some(layer) = &part.cms {
            self.cms(layer, part.pkcs7, depth)?;
        }
        for child in &part.children {
            self.node(child, depth + 1)?;
        }
        Ok(())
    }

    /// The CMS layer of a part at `depth`; `pkcs7` is what the part's type says it holds.
    fn cms(
        &mut self,
        layer: &CmsLayer,
        pkcs7: Option<Pkcs7Kind>,
        depth: usize,
    ) -> std::io::Result<()> {
        let ber = if layer.encoding == AsnEncoding::Ber {
            ", BER"
        } else {
            ""
        };
        if let Some(declared) = &layer.smime_type_mismatch {
            self.detail(
                depth,
                &format!("(note: smime-type says {})", clean(declared)),
            )?;
        }
        match &layer.content {
            CmsContent::Signed(sd) => self.signed_data(sd, pkcs7, ber, depth),
            CmsContent::Enveloped(ed) => {
                let what = if layer.kind == CmsKind::AuthEnveloped {
                    "authEnveloped-data"
                } else {
                    "enveloped-data"
                };
                self.enveloped(what, ed, ber, depth)
            }
            CmsContent::Unreadable { reason } => self.unreadable(depth, reason),
            _ => {
                let name = layer
                    .kind
                    .smime_type()
                    .unwrap_or(layer.content_type.name.as_str());
                self.detail(depth, &format!("S/MIME {name}: contents not shown{ber}"))
            }
        }
    }

    fn enveloped(
        &mut self,
        what: &str,
        ed: &EnvelopedLayer,
        ber: &str,
        depth: usize,
    ) -> std::io::Result<()> {
        let encrypted = ed.encrypted_size.map_or_else(
            || "no content".to_owned(),
            |n| format!("{n} bytes encrypted"),
        );
        self.detail(
            depth,
            &format!(
                "S/MIME {what}: {}, {}, {encrypted}{ber}",
                ed.content_encryption.name,
                count(ed.recipients.len(), "recipient"),
            ),
        )?;
        for (i, recipient) in ed.recipients.iter().enumerate() {
            self.detail(
                depth,
                &format!("recipient {}: {}", i + 1, recipient_line(recipient)),
            )?;
        }
        Ok(())
    }

    fn signed_data(
        &mut self,
        sd: &SignedLayer,
        pkcs7: Option<Pkcs7Kind>,
        ber: &str,
        depth: usize,
    ) -> std::io::Result<()> {
        let digests = if sd.digest_algorithms.is_empty() {
            "none".to_owned()
        } else {
            let names: Vec<&str> = sd
                .digest_algorithms
                .iter()
                .map(|a| a.name.as_str())
                .collect();
            names.join(", ")
        };
        self.detail(
            depth,
            &format!(
                "S/MIME signed-data: digest {digests}, {}, {}{ber}",
                count(sd.certificates.len(), "certificate"),
                count(sd.signers.len(), "signer"),
            ),
        )?;
        for (i, cert) in sd.certificates.iter().enumerate() {
            let text = match cert {
                CertificateEntry::X509(c) => {
                    let mut text = format!(
                        "subject \"{}\" issuer \"{}\" serial {}",
                        clean(&c.subject),
                        clean(&c.issuer),
                        hex_cut(&c.serial),
                    );
                    if !c.email_addresses.is_empty() {
                        let addresses: Vec<String> =
                            c.email_addresses.iter().map(|a| clean(a)).collect();
                        text.push_str(&format!(", email {}", addresses.join(", ")));
                    }
                    text
                }
                CertificateEntry::Other { format } => format!("other format {}", format.name),
                _ => "other format".to_owned(),
            };
            self.detail(depth, &format!("certificate {}: {text}", i + 1))?;
        }
        for (i, signer) in sd.signers.iter().enumerate() {
            let mut line = format!(
                "signer {}: {}, {}, {}",
                i + 1,
                who(&signer.id),
                signer.digest.name,
                signer.signature.name
            );
            if let Some(time) = &signer.signing_time {
                line.push_str(&format!(", signing time {time}"));
            }
            // `show` describes; it does not check. A tampered message looks the same here.
            line.push_str(", not verified");
            self.detail(depth, &line)?;
        }
        match &sd.content {
            Encapsulated::Detached => {
                let why = match pkcs7 {
                    Some(Pkcs7Kind::Signature) => "none (detached)",
                    _ => "none (detached, or certificates only)",
                };
                self.detail(depth, &format!("content: {why}"))
            }
            Encapsulated::Unreadable { reason } => self.unreadable(depth, reason),
            Encapsulated::Content {
                content_type,
                size,
                entity,
                unreadable,
            } => {
                self.detail(
                    depth,
                    &format!("content: {}, {size} bytes", content_type.name),
                )?;
                if let Some(entity) = entity {
                    self.node(entity, depth + 1)?;
                }
                match unreadable {
                    Some(reason) => self.unreadable(depth, reason),
                    None => Ok(()),
                }
            }
            _ => Ok(()),
        }
    }
}

/// One recipient: who (issuer and serial, or key id) and how the key travels.
fn recipient_line(recipient: &Recipient) -> String {
    match recipient {
        Recipient::KeyTransport { id, algorithm } => format!("{}, {}", who(id), algorithm.name),
        Recipient::KeyAgreement { id, algorithm } => {
            format!("{}, key agreement {}", who(id), algorithm.name)
        }
        Recipient::Kek { key_id, algorithm } => format!(
            "key-encryption key id {}, {}",
            hex_cut(key_id),
            algorithm.name
        ),
        Recipient::Password { algorithm } => format!("password, {}", algorithm.name),
        Recipient::Other { kind } => format!("other type {}", kind.name),
        _ => "other type".to_owned(),
    }
}

/// Which certificate a signer or recipient names.
fn who(id: &Identifier) -> String {
    match id {
        Identifier::IssuerSerial { issuer, serial } => {
            format!("issuer \"{}\" serial {}", clean(issuer), hex_cut(serial))
        }
        Identifier::SubjectKeyId(key) => format!("subject key id {}", hex_cut(key)),
        _ => "another identifier".to_owned(),
    }
}

/// Hex as printed: at most [`MAX_HEX`] digits, then `...`.
fn hex_cut(hex: &str) -> String {
    match hex.get(..MAX_HEX) {
        Some(head) if hex.len() > MAX_HEX => format!("{head}..."),
        _ => hex.to_owned(),
    }
}

fn count(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

/// The line of a part, without its indentation and marker.
fn describe(part: &Part) -> String {
    let mut line = match &part.content_type {
        Some(ct) => {
            let mut s = clean(&ct.mtype);
            if let Some(sub) = &ct.subtype {
                s.push('/');
                s.push_str(&clean(sub));
            }
            for (name, value) in [
                ("charset", &ct.charset),
                ("smime-type", &ct.smime_type),
                ("name", &ct.name),
            ] {
                if let Some(v) = value {
                    s.push_str(&format!("; {name}={}", quote(v)));
                }
            }
            s
        }
        None => "text/plain (default)".to_owned(),
    };
    line.push_str("  ");
    line.push_str(&quote(part.transfer_encoding.as_deref().unwrap_or("7bit")));
    if let Some(disposition) = &part.disposition {
        line.push_str("  ");
        line.push_str(&quote(&disposition.kind));
        if let Some(file) = &disposition.file_name {
            line.push(' ');
            line.push_str(&quote(file));
        }
    }
    if let Some(n) = part.part_count {
        line.push_str(&format!("  {}", count(n, "part")));
    }
    line.push_str(&format!("  {} bytes", part.size));
    line
}

/// `value` as printed: control characters escaped, cut at [`MAX_TEXT`] characters.
fn clean(value: &str) -> String {
    let mut out = String::with_capacity(value.len().min(MAX_TEXT + 3));
    for (i, c) in value.chars().enumerate() {
        if i == MAX_TEXT {
            out.push_str("...");
            break;
        }
        // Bidi overrides and isolates too: they reorder what a terminal shows.
        if c.is_control() || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}') {
            out.extend(c.escape_unicode());
        } else {
            out.push(c);
        }
    }
    out
}

/// `value` cleaned, and in double quotes when it holds white space, control characters,
/// quotes or MIME specials.
fn quote(value: &str) -> String {
    let plain = !value.is_empty()
        && !value.chars().any(|c| {
            c.is_whitespace()
                || c.is_control()
                || matches!(c, '"' | '\\' | ';' | '(' | ')' | '<' | '>' | '@' | ',')
        });
    if plain {
        clean(value)
    } else {
        format!(
            "\"{}\"",
            clean(&value.replace('\\', "\\\\").replace('"', "\\\""))
        )
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::path::PathBuf;
    use std::sync::Arc;

    use smime_core::{
        Cipher, FixedClock, KeyStore, MAX_INSPECT_DEPTH, Options, Protector, SignMode,
    };

    use smime_testkit::{
        assert_line, assert_line_starts, assert_lines, binary_part, der_of, nested_messages,
        nested_multiparts, streaming_ber,
    };

    use super::*;

    fn testdata() -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../testdata")
    }

    fn corpus(name: &str) -> Vec<u8> {
        std::fs::read(testdata().join("corpus").join(name)).unwrap()
    }

    /// `name` from the corpus protected with `options`, signed at 2026-06-01T12:00:00Z.
    fn protect(options: Options, name: &str) -> Vec<u8> {
        let keys = KeyStore::open(testdata().join("pki/keys")).unwrap();
        Protector::new(Arc::new(keys), options)
            .with_clock(Arc::new(FixedClock::from_unix(1_780_315_200)))
            .protect(&corpus(name))
            .unwrap()
            .message
    }

    fn run(input: &[u8]) -> String {
        let mut out = Vec::new();
        show(input, &mut out, Format::Text).unwrap();
        String::from_utf8(out).unwrap()
    }

    fn run_json(input: &[u8]) -> serde_json::Value {
        let mut out = Vec::new();
        show(input, &mut out, Format::Json).unwrap();
        assert!(out.ends_with(b"}\n"));
        serde_json::from_slice(&out).unwrap()
    }

    /// A DER element: `tag`, the length, then `parts` one after the other.
    fn tlv(tag: u8, parts: &[&[u8]]) -> Vec<u8> {
        let content = parts.concat();
        let len = content.len();
        let mut out = vec![tag];
        if len < 0x80 {
            out.push(u8::try_from(len).unwrap());
        } else if len < 0x100 {
            out.extend_from_slice(&[0x81, u8::try_from(len).unwrap()]);
        } else {
            let bytes = u16::try_from(len).unwrap().to_be_bytes();
            out.extend_from_slice(&[0x82, bytes[0], bytes[1]]);
        }
        out.extend(content);
        out
    }

    /// A DER SET OF: its elements sorted, as DER wants them.
    fn set(items: &[&[u8]]) -> Vec<u8> {
        let mut sorted = items.to_vec();
        sorted.sort();
        tlv(0x31, &sorted)
    }

    /// A DER OBJECT IDENTIFIER.
    fn oid(dotted: &str) -> Vec<u8> {
        let arcs: Vec<u64> = dotted.split('.').map(|a| a.parse().unwrap()).collect();
        let mut body = Vec::new();
        for (i, &arc) in std::iter::once(&(arcs[0] * 40 + arcs[1]))
            .chain(&arcs[2..])
            .enumerate()
        {
            let _ = i;
            let mut digits = vec![u8::try_from(arc & 0x7f).unwrap()];
            let mut rest = arc >> 7;
            while rest > 0 {
                digits.push(u8::try_from(rest & 0x7f).unwrap() | 0x80);
                rest >>= 7;
            }
            digits.reverse();
            body.extend(digits);
        }
        tlv(0x06, &[&body])
    }

    fn algorithm(dotted: &str) -> Vec<u8> {
        tlv(0x30, &[&oid(dotted)])
    }

    fn content_info(content_type: &str, content: &[u8]) -> Vec<u8> {
        tlv(0x30, &[&oid(content_type), &tlv(0xa0, &[content])])
    }

    const ID_DATA: &str = "1.2.840.113549.1.7.1";
    const ID_SIGNED_DATA: &str = "1.2.840.113549.1.7.2";
    const ID_ENVELOPED_DATA: &str = "1.2.840.113549.1.7.3";
    const ID_AUTH_ENVELOPED_DATA: &str = "1.2.840.113549.1.9.16.1.23";
    const ID_COMPRESSED_DATA: &str = "1.2.840.113549.1.9.16.1.9";
    const SHA256: &str = "2.16.840.1.101.3.4.2.1";
    const RSA: &str = "1.2.840.113549.1.1.1";

    /// SignedData with `certificates` (the [0] field's elements), `signers` and
    /// `econtent` (the [0] EXPLICIT field's element, if any).
    fn signed_data(
        digests: &[&str],
        certificates: &[&[u8]],
        signers: &[&[u8]],
        econtent: Option<&[u8]>,
    ) -> Vec<u8> {
        let digests: Vec<Vec<u8>> = digests.iter().map(|d| algorithm(d)).collect();
        let digests: Vec<&[u8]> = digests.iter().map(Vec::as_slice).collect();
        let encap = match econtent {
            Some(e) => tlv(0x30, &[&oid(ID_DATA), &tlv(0xa0, &[e])]),
            None => tlv(0x30, &[&oid(ID_DATA)]),
        };
        let mut fields = vec![tlv(0x02, &[&[1]]), set(&digests), encap];
        if !certificates.is_empty() {
            fields.push(tlv(0xa0, certificates));
        }
        fields.push(set(signers));
        let fields: Vec<&[u8]> = fields.iter().map(Vec::as_slice).collect();
        content_info(ID_SIGNED_DATA, &tlv(0x30, &fields))
    }

    const TEST_CA: &str = "issuer \"CN=smime TEST-ONLY Intermediate CA,O=smime test PKI\"";

    #[test]
    fn corpus_messages_show_their_tree() {
        let mut names: Vec<_> = std::fs::read_dir(testdata().join("corpus"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "eml"))
            .collect();
        names.sort();
        assert!(names.len() >= 10);
        for path in names {
            let input = std::fs::read(&path).unwrap();
            let text = run(&input);
            let mut lines = text.lines();
            assert_eq!(
                lines.next(),
                Some(format!("message: {} bytes", input.len()).as_str())
            );
            assert!(
                lines.next().unwrap().starts_with("+- "),
                "{}",
                path.display()
            );
            assert!(!text.contains("unreadable"), "{}:\n{text}", path.display());
        }
        let text = run(&corpus("html-inline-image.eml"));
        assert_lines(
            &text,
            &[
                "+- multipart/related  7bit  2 parts  20035 bytes",
                "   +- multipart/alternative  7bit  2 parts  586 bytes",
                "      +- text/plain; charset=us-ascii  7bit  92 bytes",
                "      +- text/html; charset=us-ascii  7bit  274 bytes",
                "   +- image/png; name=logo.png  base64  inline logo.png  13964 bytes",
            ],
        );
        let text = run(&corpus("no-mime-headers.eml"));
        assert_line(&text, "+- text/plain (default)  7bit  142 bytes");
        let text = run(&corpus("qp-and-text-attachment.eml"));
        assert_line(
            &text,
            "   +- text/plain; charset=utf-8  quoted-printable  285 bytes",
        );
        assert_line(
            &text,
            "   +- text/plain; charset=us-ascii; name=notes.txt  7bit  \
             attachment notes.txt  229 bytes",
        );
    }

    #[test]
    fn sizes_are_after_transfer_decoding_before_charset_conversion() {
        let input = b"From: a@example.com\r\nMIME-Version: 1.0\r\n\
            Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n\
            --b1\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\nHello\r\n\
            --b1\r\nContent-Type: text/plain; charset=iso-8859-1\r\n\
            Content-Transfer-Encoding: base64\r\n\r\n6ek=\r\n\
            --b1\r\nContent-Type: text/plain; charset=utf-8\r\n\
            Content-Transfer-Encoding: Quoted-Printable\r\n\r\ncaf=C3=A9=\r\n\r\n\
            --b1\r\nContent-Type: application/octet-stream; name=\"a b.bin\"\r\n\
            Content-Transfer-Encoding: base64\r\n\
            Content-Disposition: attachment; filename=\"a b.bin\"\r\n\r\nAAECAw==\r\n\
            --b1--\r\n";
        let text = run(input);
        assert_lines(
            &text,
            &[
                "+- multipart/mixed  7bit  4 parts  432 bytes",
                "   +- text/plain; charset=us-ascii  7bit  5 bytes",
                "   +- text/plain; charset=iso-8859-1  base64  2 bytes",
                "   +- text/plain; charset=utf-8  quoted-printable  5 bytes",
            ],
        );
        assert_line(
            &text,
            "   +- application/octet-stream; name=\"a b.bin\"  base64  \
             attachment \"a b.bin\"  4 bytes",
        );
    }

    #[test]
    fn sign_and_encrypt_shows_the_envelope() {
        let message = protect(Options::sign_and_encrypt(), "html-inline-image.eml");
        let text = run(&message);
        assert_line(&text, &format!("message: {} bytes", message.len()));
        assert_line_starts(
            &text,
            "+- application/pkcs7-mime; smime-type=enveloped-data; name=smime.p7m  base64  \
             attachment smime.p7m  ",
        );
        assert_line_starts(
            &text,
            "   S/MIME enveloped-data: AES-256-CBC, 3 recipients, ",
        );
        // Bob, Carol, and Alice herself (encrypt-to-self), in DER order.
        for serial in ["1002", "1003", "1004"] {
            assert_line_starts(&text, "   recipient ");
            assert!(
                text.contains(&format!("{TEST_CA} serial {serial}, rsaEncryption\n")),
                "{serial}: {text}"
            );
        }
        assert_eq!(text.lines().count(), 6, "{text}");
    }

    #[test]
    fn aes128_and_many_recipients() {
        let mut options = Options::encrypt();
        options.cipher = Cipher::Aes128Cbc;
        let text = run(&protect(options, "many-recipients.eml"));
        assert_line_starts(
            &text,
            "   S/MIME enveloped-data: AES-128-CBC, 5 recipients, ",
        );
        assert_eq!(text.matches("   recipient ").count(), 5, "{text}");
    }

    #[test]
    fn opaque_signed_shows_signature_and_content() {
        let text = run(&protect(
            Options::sign(SignMode::Opaque),
            "html-inline-image.eml",
        ));
        assert_line_starts(
            &text,
            "+- application/pkcs7-mime; smime-type=signed-data; name=smime.p7m  base64  \
             attachment smime.p7m  ",
        );
        assert_line(
            &text,
            "   S/MIME signed-data: digest SHA-256, 2 certificates, 1 signer",
        );
        assert_line(
            &text,
            "   certificate 2: subject \"EMAIL=alice@example.com,CN=Alice Test,O=smime test PKI\" \
             issuer \"CN=smime TEST-ONLY Intermediate CA,O=smime test PKI\" serial 1002, \
             email alice@example.com",
        );
        assert_line(
            &text,
            &format!(
                "   signer 1: {TEST_CA} serial 1002, SHA-256, rsaEncryption, \
                 signing time 2026-06-01T12:00:00Z, not verified"
            ),
        );
        assert_line_starts(&text, "   content: id-data, ");
        assert_lines(
            &text,
            &[
                "   +- multipart/related  7bit  2 parts  20035 bytes",
                "         +- text/plain; charset=us-ascii  7bit  92 bytes",
                "      +- image/png; name=logo.png  base64  inline logo.png  13964 bytes",
            ],
        );
    }

    #[test]
    fn signers_are_marked_not_verified_and_certificates_name_their_addresses() {
        // A tampered message describes exactly like the intact one: the label must say so.
        for mode in [SignMode::Opaque, SignMode::Detached] {
            let intact = protect(Options::sign(mode), "plain.eml");
            let tampered = smime_testkit::tamper_signed_content(&intact).unwrap();
            for message in [&intact, &tampered] {
                let text = run(message);
                let signers: Vec<&str> =
                    text.lines().filter(|l| l.contains("signer 1: ")).collect();
                assert_eq!(signers.len(), 1, "{text}");
                assert!(signers[0].ends_with(", not verified"), "{text}");
                let alice = text
                    .lines()
                    .find(|l| l.contains("certificate 2: "))
                    .unwrap_or_else(|| panic!("no certificate 2 in:\n{text}"));
                assert!(
                    alice.ends_with(" serial 1002, email alice@example.com"),
                    "{alice}"
                );
                let intermediate = text
                    .lines()
                    .find(|l| l.contains("certificate 1: "))
                    .unwrap_or_else(|| panic!("no certificate 1 in:\n{text}"));
                assert!(!intermediate.contains(", email "), "{intermediate}");
            }
        }
    }

    #[test]
    fn detached_shows_both_parts() {
        let text = run(&protect(
            Options::sign(SignMode::Detached),
            "html-inline-image.eml",
        ));
        assert_line_starts(&text, "+- multipart/signed  7bit  2 parts  ");
        assert_lines(
            &text,
            &[
                "   protocol application/pkcs7-signature, micalg sha-256",
                "   +- multipart/related  7bit  2 parts  20035 bytes",
                "         +- text/html; charset=us-ascii  7bit  274 bytes",
            ],
        );
        assert_line_starts(
            &text,
            "   +- application/pkcs7-signature; name=smime.p7s  base64  attachment smime.p7s  ",
        );
        assert_line(
            &text,
            "      S/MIME signed-data: digest SHA-256, 2 certificates, 1 signer",
        );
        assert_line_starts(
            &text,
            &format!("      signer 1: {TEST_CA} serial 1002, SHA-256"),
        );
        assert_line(&text, "      content: none (detached)");
    }

    #[test]
    fn multipart_signed_without_parameters() {
        let input = b"From: a@example.com\r\n\
            Content-Type: multipart/signed; boundary=b\r\n\r\n\
            --b\r\nContent-Type: text/plain\r\n\r\nhi\r\n--b--\r\n";
        assert_line(&run(input), "   protocol (none), micalg (none)");
    }

    #[test]
    fn detached_then_encrypted_shows_only_the_envelope() {
        let mut options = Options::sign(SignMode::Detached);
        options.encrypt = true;
        let text = run(&protect(options, "qp-and-text-attachment.eml"));
        assert_line_starts(
            &text,
            "   S/MIME enveloped-data: AES-256-CBC, 3 recipients, ",
        );
        assert!(!text.contains("signed"), "{text}");
    }

    #[test]
    fn type_by_file_name_and_x_types() {
        let message = protect(Options::encrypt(), "plain.eml");
        let text = String::from_utf8(message).unwrap();
        let want = "   S/MIME enveloped-data: AES-256-CBC, 2 recipients, ";
        for replacement in [
            "application/octet-stream;",
            "application/x-pkcs7-mime; smime-type=enveloped-data;",
            "application/pkcs7-mime;",
        ] {
            let changed = text.replace(
                "application/pkcs7-mime; smime-type=enveloped-data;",
                replacement,
            );
            assert_line_starts(&run(changed.as_bytes()), want);
        }
        let changed = text.replace("smime-type=enveloped-data", "smime-type=signed-data");
        let out = run(changed.as_bytes());
        assert_line(&out, "   (note: smime-type says signed-data)");
        assert_line_starts(&out, want);
    }

    #[test]
    fn ber_as_openssl_streams_it() {
        let signed = der_of(&protect(Options::sign(SignMode::Opaque), "plain.eml"));
        let ber = streaming_ber(&signed);
        assert_ne!(ber, signed);
        let text = run(&binary_part(
            "application/pkcs7-mime; smime-type=signed-data",
            &ber,
        ));
        assert_lines(
            &text,
            &[
                "   S/MIME signed-data: digest SHA-256, 2 certificates, 1 signer, BER",
                "   content: id-data, 211 bytes",
                "   +- text/plain; charset=us-ascii  7bit  132 bytes",
            ],
        );

        let enveloped = der_of(&protect(Options::encrypt(), "plain.eml"));
        let text = run(&binary_part(
            "application/pkcs7-mime; smime-type=enveloped-data",
            &streaming_ber(&enveloped),
        ));
        assert_line_starts(
            &text,
            "   S/MIME enveloped-data: AES-256-CBC, 2 recipients, ",
        );
        assert!(text.lines().nth(2).unwrap().ends_with(", BER"), "{text}");
    }

    #[test]
    fn damaged_cms_is_unreadable_not_fatal() {
        let message = protect(Options::sign(SignMode::Opaque), "plain.eml");
        let text = String::from_utf8(message.clone()).unwrap();
        let (head, body) = text.split_once("\r\n\r\n").unwrap();

        // Not base64 at all.
        let out = run(format!("{head}\r\n\r\n!!! not base64 ***\r\n").as_bytes());
        assert_line(&out, "   (unreadable: the body is not valid base64)");
        // Truncated base64: a dangling character.
        let out = run(format!("{head}\r\n\r\n{}\r\n", &body[..body.len() / 2 + 1]).as_bytes());
        assert_line_starts(&out, "   (unreadable: ");
        // Valid base64 of truncated DER.
        let lines: Vec<&str> = body.lines().collect();
        let half = lines[..lines.len() / 2].join("\r\n");
        let out = run(format!("{head}\r\n\r\n{half}\r\n").as_bytes());
        assert_line_starts(&out, "   (unreadable: not a CMS ContentInfo: ");
        // An empty body.
        let out = run(format!("{head}\r\n\r\n").as_bytes());
        assert_line(&out, "   (unreadable: empty body)");
        // DER of something else.
        let out = run(&binary_part(
            "application/pkcs7-mime",
            &[0x30, 0x03, 0x02, 0x01, 0x05],
        ));
        assert_line_starts(&out, "   (unreadable: not a CMS ContentInfo: ");
        // A ContentInfo whose SignedData is not one.
        let out = run(&binary_part(
            "application/pkcs7-mime",
            &content_info(ID_SIGNED_DATA, &tlv(0x30, &[&[0x02, 0x01, 0x01]])),
        ));
        assert_line_starts(&out, "   (unreadable: signed-data: ");
        let out = run(&binary_part(
            "application/pkcs7-mime",
            &content_info(ID_ENVELOPED_DATA, &tlv(0x30, &[])),
        ));
        assert_line_starts(&out, "   (unreadable: enveloped-data: ");
    }

    #[test]
    fn certificates_only_and_other_content_types() {
        // No digest, certificate, signer or content: a certs-only message without the certs.
        let der = signed_data(&[], &[], &[], None);
        let text = run(&binary_part(
            "application/pkcs7-mime; smime-type=certs-only",
            &der,
        ));
        assert_lines(
            &text,
            &[
                "   S/MIME signed-data: digest none, 0 certificates, 0 signers",
                "   content: none (detached, or certificates only)",
            ],
        );
        assert!(!text.contains("note"), "{text}");
        // The same in a signature part.
        let text = run(&binary_part("application/pkcs7-signature", &der));
        assert_line(&text, "   content: none (detached)");

        let compressed = content_info(ID_COMPRESSED_DATA, &tlv(0x30, &[&[0x02, 0x01, 0x00]]));
        let text = run(&binary_part(
            "application/pkcs7-mime; smime-type=compressed-data",
            &compressed,
        ));
        assert_line(&text, "   S/MIME compressed-data: contents not shown");
        let text = run(&binary_part(
            "application/pkcs7-mime; smime-type=enveloped-data",
            &compressed,
        ));
        assert_line(&text, "   (note: smime-type says enveloped-data)");

        let data = content_info(ID_DATA, &tlv(0x04, &[b"hello"]));
        let text = run(&binary_part(
            "application/pkcs7-mime; smime-type=enveloped-data",
            &data,
        ));
        assert_line(&text, "   S/MIME id-data: contents not shown");
        assert!(!text.contains("note"), "{text}");
        let private = content_info("1.3.6.1.4.1.99999.1", &tlv(0x05, &[]));
        let text = run(&binary_part("application/x-pkcs7-mime", &private));
        assert_line(&text, "   S/MIME 1.3.6.1.4.1.99999.1: contents not shown");
    }

    #[test]
    fn signed_data_line_kinds() {
        let other_cert = tlv(0xa3, &[&oid("1.3.6.1.4.1.99999.2"), &tlv(0x05, &[])]);
        let ski_signer = tlv(
            0x30,
            &[
                &tlv(0x02, &[&[3]]),
                &tlv(0x80, &[&[0x00, 0xab, 0xcd]]),
                &algorithm(SHA256),
                &algorithm(RSA),
                &tlv(0x04, &[&[1, 2, 3]]),
            ],
        );
        let der = signed_data(
            &[SHA256, "2.16.840.1.101.3.4.2.3"],
            &[&other_cert],
            &[&ski_signer],
            Some(&tlv(0x04, &[b"not a MIME entity"])),
        );
        let text = run(&binary_part("application/pkcs7-mime", &der));
        assert_lines(
            &text,
            &[
                "   S/MIME signed-data: digest SHA-256, SHA-512, 1 certificate, 1 signer",
                "   certificate 1: other format 1.3.6.1.4.1.99999.2",
                "   signer 1: subject key id 00abcd, SHA-256, rsaEncryption, not verified",
                "   content: id-data, 17 bytes",
                "   (unreadable: the encapsulated content is not a MIME entity)",
            ],
        );

        let der = signed_data(&[SHA256], &[], &[], Some(&tlv(0x02, &[&[7]])));
        let text = run(&binary_part("application/pkcs7-mime", &der));
        assert_line_starts(&text, "   (unreadable: encapsulated content: ");
    }

    #[test]
    fn enveloped_recipient_kinds() {
        let ktri_ski = tlv(
            0x30,
            &[
                &tlv(0x02, &[&[2]]),
                &tlv(0x80, &[&[0x6e, 0xb7]]),
                &algorithm("1.2.840.113549.1.1.7"),
                &tlv(0x04, &[&[9; 4]]),
            ],
        );
        let kekri = tlv(
            0xa2,
            &[
                &tlv(0x02, &[&[4]]),
                &tlv(0x30, &[&tlv(0x04, &[&[0x01, 0x02]])]),
                &algorithm("2.16.840.1.101.3.4.1.45"),
                &tlv(0x04, &[&[9; 4]]),
            ],
        );
        let pwri = tlv(
            0xa3,
            &[
                &tlv(0x02, &[&[0]]),
                &algorithm("1.2.840.113549.1.9.16.3.9"),
                &tlv(0x04, &[&[9; 4]]),
            ],
        );
        let ori = tlv(0xa4, &[&oid("1.3.6.1.4.1.99999.3"), &tlv(0x05, &[])]);
        let recipients = set(&[&ktri_ski, &kekri, &pwri, &ori]);
        let eci = |with_content: bool, alg: &str| {
            let mut fields = vec![oid(ID_DATA), algorithm(alg)];
            if with_content {
                fields.push(tlv(0x80, &[&[0u8; 32]]));
            }
            let fields: Vec<&[u8]> = fields.iter().map(Vec::as_slice).collect();
            tlv(0x30, &fields)
        };
        let enveloped = content_info(
            ID_ENVELOPED_DATA,
            &tlv(
                0x30,
                &[
                    &tlv(0x02, &[&[3]]),
                    &recipients,
                    &eci(false, "2.16.840.1.101.3.4.1.42"),
                ],
            ),
        );
        let text = run(&binary_part("application/pkcs7-mime", &enveloped));
        assert_line(
            &text,
            "   S/MIME enveloped-data: AES-256-CBC, 4 recipients, no content",
        );
        assert_line_starts(&text, "   recipient ");
        for line in [
            "subject key id 6eb7, RSAES-OAEP",
            "key-encryption key id 0102, id-aes256-wrap (2.16.840.1.101.3.4.1.45)",
            "password, 1.2.840.113549.1.9.16.3.9",
            "other type 1.3.6.1.4.1.99999.3",
        ] {
            assert!(
                text.lines()
                    .any(|l| l.starts_with("   recipient ") && l.ends_with(line)),
                "{line}: {text}"
            );
        }

        let auth = content_info(
            ID_AUTH_ENVELOPED_DATA,
            &tlv(
                0x30,
                &[
                    &tlv(0x02, &[&[0]]),
                    &set(&[&ktri_ski]),
                    &eci(true, "2.16.840.1.101.3.4.1.46"),
                    &tlv(0x04, &[&[7; 16]]),
                ],
            ),
        );
        let text = run(&binary_part(
            "application/pkcs7-mime; smime-type=authEnveloped-data",
            &auth,
        ));
        assert_lines(
            &text,
            &[
                "   S/MIME authEnveloped-data: AES-256-GCM, 1 recipient, 32 bytes encrypted",
                "   recipient 1: subject key id 6eb7, RSAES-OAEP",
            ],
        );
    }

    #[test]
    fn long_hex_is_cut() {
        assert_eq!(hex_cut("0"), "0");
        assert_eq!(hex_cut(&"ab".repeat(64)), "ab".repeat(64));
        assert_eq!(hex_cut(&"ab".repeat(65)), format!("{}...", "ab".repeat(64)));
    }

    #[test]
    fn deep_multipart_nesting_is_cut() {
        let input = nested_multiparts(300);
        let text = run(input.as_bytes());
        let marker = format!("... (nested deeper than {MAX_INSPECT_DEPTH} levels: not shown)");
        assert_line(
            &text,
            &format!("{}+- {marker}", "   ".repeat(MAX_INSPECT_DEPTH)),
        );
        assert_eq!(text.lines().count(), MAX_INSPECT_DEPTH + 2, "{text}");
    }

    #[test]
    fn deep_nested_messages_are_cut() {
        let input = nested_messages(100);
        let text = run(input.as_bytes());
        assert!(text.lines().count() <= MAX_INSPECT_DEPTH + 2, "{text}");
    }

    #[test]
    fn nested_message_shows_inner_tree() {
        let input = b"From: a@example.com\r\nMIME-Version: 1.0\r\n\
            Content-Type: multipart/mixed; boundary=\"o\"\r\n\r\n\
            --o\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n\
            --o\r\nContent-Type: message/rfc822\r\n\
            Content-Disposition: attachment; filename=fwd.eml\r\n\r\n\
            From: b@example.com\r\nContent-Type: multipart/alternative; boundary=\"i\"\r\n\r\n\
            --i\r\nContent-Type: text/plain\r\n\r\nplain\r\n\
            --i\r\nContent-Type: text/html\r\n\r\n<p>html</p>\r\n\
            --i--\r\n\r\n--o--\r\n";
        let text = run(input);
        assert_line_starts(&text, "   +- message/rfc822  7bit  attachment fwd.eml  ");
        assert_line_starts(&text, "      +- multipart/alternative  7bit  2 parts  ");
        assert_lines(
            &text,
            &[
                "         +- text/plain  7bit  5 bytes",
                "         +- text/html  7bit  11 bytes",
            ],
        );
    }

    #[test]
    fn unreadable_parts() {
        let input = b"From: a@example.com\r\nContent-Type: multipart/mixed\r\n\r\nno boundary\r\n";
        assert_line(
            &run(input),
            "   (unreadable: multipart without its boundary)",
        );
        let input = b"From: a@example.com\r\nContent-Type: text/plain\r\n\
            Content-Transfer-Encoding: base64\r\n\r\n!!!\r\n";
        assert_line(&run(input), "   (unreadable: the body is not valid base64)");
        // An mbox From line before the header is fine; so is a header without a body.
        assert!(
            run(b"From alice@example.com Tue Sep  2 09:00:00 2025\r\nSubject: x\r\n\r\nhi\r\n")
                .contains("+- text/plain (default)  7bit  4 bytes")
        );
        assert_line(&run(b"Subject: x\r\n"), "   (unreadable: no body)");
    }

    #[test]
    fn not_a_message() {
        for input in [&b""[..], b"hello", b"\r\n\r\nbody only"] {
            for format in [Format::Text, Format::Json] {
                let mut out = Vec::new();
                let err = show(input, &mut out, format).unwrap_err();
                assert!(
                    matches!(err, ShowError::Inspect(InspectError::NotAMessage { .. })),
                    "{err}"
                );
                assert!(err.to_string().starts_with("not an email message"));
                assert!(out.is_empty());
            }
        }
    }

    #[test]
    fn control_characters_are_escaped() {
        let input = b"From: a@example.com\r\n\
            Content-Type: application/octet-stream; name=\"\x1b[2Jx\xe2\x80\xaey.txt\"\r\n\
            Content-Disposition: attachment; filename=\"\x1b]0;evil\x07.bin\"\r\n\r\nxx\r\n";
        let text = run(input);
        assert!(!text.contains('\x1b') && !text.contains('\x07') && !text.contains('\u{202e}'));
        assert!(text.contains("\\u{1b}[2Jx\\u{202e}y.txt"), "{text}");
        // JSON has them as JSON escapes them.
        let json = run_json(input);
        assert_eq!(
            json["root"]["disposition"]["file_name"],
            "\x1b]0;evil\x07.bin"
        );
    }

    #[test]
    fn long_values_are_cut_in_text_only() {
        let name = "n".repeat(300);
        let input = format!(
            "From: a@example.com\r\nContent-Type: application/octet-stream; name={name}\r\n\r\nxx\r\n"
        );
        let text = run(input.as_bytes());
        assert!(
            text.contains(&format!("name={}...  ", "n".repeat(200))),
            "{text}"
        );
        let json = run_json(input.as_bytes());
        assert_eq!(json["root"]["content_type"]["name"], name.as_str());
    }

    #[test]
    fn json_has_the_whole_tree() {
        let json = run_json(&protect(Options::sign_and_encrypt(), "plain.eml"));
        let root = &json["root"];
        assert_eq!(root["node"], "part");
        assert_eq!(root["content_type"]["type"], "application");
        assert_eq!(root["content_type"]["subtype"], "pkcs7-mime");
        assert_eq!(root["content_type"]["smime_type"], "enveloped-data");
        assert_eq!(root["transfer_encoding"], "base64");
        assert_eq!(root["disposition"]["kind"], "attachment");
        assert_eq!(root["pkcs7"], "mime");
        let cms = &root["cms"];
        assert_eq!(cms["kind"], "enveloped");
        assert_eq!(cms["encoding"], "DER");
        assert_eq!(cms["content_type"]["oid"], "1.2.840.113549.1.7.3");
        let env = &cms["enveloped"];
        assert_eq!(env["content_encryption"]["name"], "AES-256-CBC");
        assert_eq!(env["content_encryption"]["oid"], "2.16.840.1.101.3.4.1.42");
        let recipients = env["recipients"].as_array().unwrap();
        assert_eq!(recipients.len(), 2);
        assert_eq!(recipients[0]["type"], "key_transport");
        assert_eq!(
            recipients[0]["id"]["issuer"],
            "CN=smime TEST-ONLY Intermediate CA,O=smime test PKI"
        );
        assert_eq!(recipients[0]["algorithm"]["oid"], "1.2.840.113549.1.1.1");
        assert!(env["encrypted_size"].as_u64().unwrap() > 0);

        let json = run_json(&protect(Options::sign(SignMode::Opaque), "plain.eml"));
        let signed = &json["root"]["cms"]["signed"];
        assert_eq!(signed["digest_algorithms"][0]["name"], "SHA-256");
        let alice = &signed["certificates"][1];
        assert_eq!(alice["serial"], "1002");
        assert_eq!(alice["email_addresses"][0], "alice@example.com");
        let signer = &signed["signers"][0];
        assert_eq!(signer["id"]["serial"], "1002");
        assert_eq!(signer["signing_time"], "2026-06-01T12:00:00Z");
        assert_eq!(signer["verified"], false);
        let content = &signed["content"];
        assert_eq!(content["content_type"]["name"], "id-data");
        assert_eq!(content["entity"]["content_type"]["type"], "text");
        assert_eq!(content["entity"]["size"], 132);

        let json = run_json(&protect(Options::sign(SignMode::Detached), "plain.eml"));
        let root = &json["root"];
        assert_eq!(root["multipart_signed"]["micalg"], "sha-256");
        assert_eq!(root["part_count"], 2);
        assert_eq!(root["children"][1]["pkcs7"], "signature");
        assert_eq!(
            root["children"][1]["cms"]["signed"]["content"]["detached"],
            true
        );
    }

    #[test]
    fn write_errors_are_returned() {
        struct Broken;
        impl Write for Broken {
            fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
                Err(std::io::ErrorKind::BrokenPipe.into())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        for format in [Format::Text, Format::Json] {
            let err = show(&corpus("plain.eml"), &mut Broken, format).unwrap_err();
            assert!(matches!(err, ShowError::Write(_)), "{err}");
        }
    }
}

//! `smime show`: the MIME tree of a message, S/MIME layers included, as the ancestor's
//! `mimeshow.py` printed it.
//!
//! Reads any message (S/MIME or not) and never fails on what is inside it: a part that cannot be
//! read is shown with `(unreadable: <reason>)` and the walk goes on. Only input that is not a
//! message at all (no header field) is an error. Nothing is decrypted and no signature is
//! verified: this describes structure, it does not vouch for it.
//!
//! # Output format
//!
//! Stable and meant for `grep`; plain ASCII apart from what the message itself holds. Text taken
//! from the message (parameter values, file names, certificate names) has its control
//! characters escaped (`\u{1b}`) and is cut at 200 characters.
//!
//! ```text
//! message: 44431 bytes
//! +- application/pkcs7-mime; smime-type=enveloped-data; name=smime.p7m  base64  attachment smime.p7m  32345 bytes
//!    S/MIME enveloped-data: AES-256-CBC, 3 recipients, 31920 bytes encrypted
//!    recipient 1: issuer "CN=smime TEST-ONLY Intermediate CA,O=smime test PKI" serial 1003, rsaEncryption
//!    recipient 2: subject key id 5f0c...9a1e, RSAES-OAEP
//! ```
//!
//! - The first line gives the size of the whole input.
//! - Each MIME part is one line starting with `+- `, indented three spaces per level of nesting:
//!   `TYPE/SUBTYPE[; charset=..][; smime-type=..][; name=..]`, two spaces, the transfer encoding
//!   (`7bit` when the header is absent), then for a part with a `Content-Disposition` two spaces,
//!   the disposition and the file name if any, then for a multipart two spaces and `N parts`, and
//!   last two spaces and the size: `N bytes`, the body after transfer decoding (before any
//!   charset conversion); for a multipart or an unencoded `message/rfc822` the raw body. A part
//!   without `Content-Type` shows as `text/plain (default)`. Values holding spaces or specials are
//!   quoted.
//! - Lines about a part (not starting with `+- `) are indented one level deeper than the part,
//!   at the same column as its children:
//!   - `multipart/signed` parts: `protocol P, micalg M`.
//!   - CMS parts (`application/pkcs7-mime`, `application/pkcs7-signature`, their `x-` forms, and
//!     `application/octet-stream` named `*.p7m`/`*.p7s`):
//!     - `S/MIME enveloped-data: CIPHER, N recipients, N bytes encrypted` then one
//!       `recipient N: ...` line each (issuer DN and serial number in hex, or `subject key id`
//!       in hex; then the key-encryption algorithm). `authEnveloped-data` is shown the same way.
//!     - `S/MIME signed-data: digest ALG[, ALG], N certificates, N signers` then
//!       `certificate N: subject "..." issuer "..." serial HEX`,
//!       `signer N: issuer "..." serial HEX, DIGEST, SIGNATURE-ALG[, signing time T]` and
//!       `content: id-data, N bytes` followed by the tree of the encapsulated entity one level
//!       down, or `content: none (detached)`.
//!     - `, BER` ends the summary line when the structure is not DER (OpenSSL's streaming
//!       output, for one); `(note: smime-type says X)` when the parameter and the content
//!       disagree.
//!   - `(unreadable: REASON)` where a part or a layer cannot be read.
//! - Algorithms have short names (`AES-256-CBC`, `SHA-256`, `rsaEncryption`, `RSAES-OAEP`),
//!   otherwise the registered name and the OID in parentheses, otherwise the dotted OID.
//!
//! Nesting is limited to [`MAX_DEPTH`] levels, counting MIME parts and encapsulated content
//! alike; deeper parts are replaced by one `+- ... (nested deeper than 32 levels: not shown)`.

use std::io::Write;

use cms::authenveloped_data::AuthEnvelopedData;
use cms::cert::{CertificateChoices, IssuerAndSerialNumber};
use cms::content_info::ContentInfo;
use cms::enveloped_data::{
    EncryptedContentInfo, EnvelopedData, KeyAgreeRecipientIdentifier, RecipientIdentifier,
    RecipientInfo, RecipientInfos,
};
use cms::signed_data::{SignedData, SignerIdentifier, SignerInfo};
use const_oid::ObjectIdentifier;
use der::asn1::Any;
use der::{Decode, Encode, EncodingRules, Tag, Tagged};
use mail_parser::decoders::base64::base64_decode;
use mail_parser::decoders::quoted_printable::quoted_printable_decode;
use mail_parser::{ContentType, Encoding, Message, MessageParser, MessagePart, MimeHeaders, PartType};
use x509_cert::ext::pkix::SubjectKeyIdentifier;
use x509_cert::time::Time;

/// How deep parts may nest (MIME parts, nested messages and encapsulated content together)
/// before the rest is left out.
pub(crate) const MAX_DEPTH: usize = 32;

/// The largest input accepted, in bytes: far above any real message, and within the 32-bit
/// offsets of the MIME parser.
pub(crate) const MAX_INPUT: usize = 256 * 1024 * 1024;

/// How many characters of a value taken from the message are printed.
const MAX_TEXT: usize = 200;

/// Why `show` could not describe its input.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ShowError {
    /// The input holds no header field: it is not an email.
    #[error("not an email message: {0}")]
    NotAMessage(&'static str),
    /// The input is over [`MAX_INPUT`].
    #[error("the message is {size} bytes, over the limit of {limit}")]
    TooLarge {
        /// The input's size.
        size: usize,
        /// [`MAX_INPUT`].
        limit: usize,
    },
    /// Writing the description failed (a closed pipe, a full disk).
    #[error("cannot write the output: {0}")]
    Write(#[from] std::io::Error),
}

/// Prints the MIME tree of the message `input` to `out`, in the format described in the
/// module documentation.
///
/// # Errors
/// [`ShowError::NotAMessage`] when `input` has no header field, [`ShowError::TooLarge`] over
/// [`MAX_INPUT`], [`ShowError::Write`] when `out` fails. Whatever is wrong inside a message is
/// printed, not returned.
pub(crate) fn show(input: &[u8], out: &mut dyn Write) -> Result<(), ShowError> {
    if input.len() > MAX_INPUT {
        return Err(ShowError::TooLarge {
            size: input.len(),
            limit: MAX_INPUT,
        });
    }
    if input.iter().all(u8::is_ascii_whitespace) {
        return Err(ShowError::NotAMessage("the input is empty"));
    }
    let message = MessageParser::default()
        .parse(input)
        .ok_or(ShowError::NotAMessage("no header fields"))?;
    if message.parts.first().is_none_or(|p| p.headers.is_empty()) {
        return Err(ShowError::NotAMessage("no header fields"));
    }
    let mut tree = Tree { out };
    tree.raw(&format!("message: {} bytes", input.len()))?;
    tree.entity(&message, 0)?;
    Ok(())
}

/// The output, with the indentation rules of the format.
struct Tree<'w> {
    out: &'w mut dyn Write,
}

impl Tree<'_> {
    fn raw(&mut self, line: &str) -> std::io::Result<()> {
        self.out.write_all(line.as_bytes())?;
        self.out.write_all(b"\n")
    }

    fn indent(&mut self, depth: usize) -> std::io::Result<()> {
        for _ in 0..depth {
            self.out.write_all(b"   ")?;
        }
        Ok(())
    }

    /// A part's line at `depth`.
    fn part(&mut self, depth: usize, text: &str) -> std::io::Result<()> {
        self.indent(depth)?;
        self.out.write_all(b"+- ")?;
        self.raw(text)
    }

    /// A line about the part at `depth`.
    fn detail(&mut self, depth: usize, text: &str) -> std::io::Result<()> {
        self.indent(depth + 1)?;
        self.raw(text)
    }

    fn unreadable(&mut self, depth: usize, reason: &str) -> std::io::Result<()> {
        self.detail(depth, &format!("(unreadable: {})", clean(reason)))
    }

    /// A message or an entity: its root part at `depth`.
    fn entity(&mut self, message: &Message<'_>, depth: usize) -> std::io::Result<()> {
        if message.parts.is_empty() {
            self.part(depth, "(empty)")?;
            return self.unreadable(depth, "no MIME entity");
        }
        self.mime_part(message, 0, depth)
    }

    /// Part `index` of `message`, at `depth`, and everything below it.
    fn mime_part(
        &mut self,
        message: &Message<'_>,
        index: usize,
        depth: usize,
    ) -> std::io::Result<()> {
        if depth >= MAX_DEPTH {
            return self.part(
                depth,
                &format!("... (nested deeper than {MAX_DEPTH} levels: not shown)"),
            );
        }
        let Some(part) = message.parts.get(index) else {
            self.part(depth, "(missing)")?;
            return self.unreadable(depth, "the parser lost this part");
        };
        let raw: &[u8] = &message.raw_message;
        self.part(depth, &describe(part, raw))?;
        let content_type = part.content_type();
        match &part.body {
            PartType::Multipart(children) => {
                if is_type(content_type, "multipart", "signed") {
                    let protocol = attribute(content_type, "protocol").unwrap_or("(none)");
                    let micalg = attribute(content_type, "micalg").unwrap_or("(none)");
                    self.detail(
                        depth,
                        &format!("protocol {}, micalg {}", clean(protocol), clean(micalg)),
                    )?;
                }
                for &child in children {
                    let child = usize::try_from(child).unwrap_or(usize::MAX);
                    // Children come after their parent; anything else would loop.
                    if child <= index {
                        self.unreadable(depth, "the parser returned a part out of order")?;
                        continue;
                    }
                    self.mime_part(message, child, depth + 1)?;
                }
                Ok(())
            }
            PartType::Message(nested) => self.entity(nested, depth + 1),
            PartType::Text(_) | PartType::Html(_) | PartType::Binary(_)
            | PartType::InlineBinary(_) => {
                if part.is_encoding_problem {
                    let what = if is_message_type(content_type) {
                        "the nested message cannot be parsed".to_owned()
                    } else {
                        let cte = part.content_transfer_encoding().unwrap_or("7bit");
                        format!("the body is not valid {}; shown raw", clean(cte))
                    };
                    self.unreadable(depth, &what)?;
                    // A CMS part whose base64 is broken: nothing more to read.
                    if smime_kind(part).is_some() {
                        return Ok(());
                    }
                }
                if let Some(kind) = smime_kind(part) {
                    let declared = attribute(content_type, "smime-type");
                    return self.cms(part.contents(), kind, declared, depth);
                }
                if content_type.is_some_and(|ct| ct.ctype().eq_ignore_ascii_case("multipart")) {
                    self.unreadable(depth, "multipart without its boundary")?;
                }
                Ok(())
            }
        }
    }

    /// The CMS structure `der` of a part at `depth`.
    fn cms(
        &mut self,
        der: &[u8],
        kind: SmimeKind,
        declared: Option<&str>,
        depth: usize,
    ) -> std::io::Result<()> {
        if der.is_empty() {
            return self.unreadable(depth, "empty body");
        }
        let (info, rules) = match decode_lenient::<ContentInfo>(der) {
            Ok(x) => x,
            Err(e) => return self.unreadable(depth, &format!("not a CMS ContentInfo: {e}")),
        };
        let ber = if rules == EncodingRules::Der {
            ""
        } else {
            ", BER"
        };
        let found = smime_type_of(&info.content_type);
        if let (Some(declared), Some(found)) = (declared, found) {
            let certs_only = declared.eq_ignore_ascii_case("certs-only") && found == "signed-data";
            if !declared.eq_ignore_ascii_case(found) && !certs_only {
                self.detail(depth, &format!("(note: smime-type says {})", clean(declared)))?;
            }
        }
        match info.content_type {
            ID_SIGNED_DATA => match info.content.decode_as_encoding::<SignedData>(rules) {
                Ok(sd) => self.signed_data(&sd, kind, rules, ber, depth),
                Err(e) => self.unreadable(depth, &format!("signed-data: {e}")),
            },
            ID_ENVELOPED_DATA => match info.content.decode_as_encoding::<EnvelopedData>(rules) {
                Ok(ed) => self.enveloped(
                    "enveloped-data",
                    &ed.encrypted_content,
                    &ed.recip_infos,
                    ber,
                    depth,
                ),
                Err(e) => self.unreadable(depth, &format!("enveloped-data: {e}")),
            },
            ID_AUTH_ENVELOPED_DATA => {
                match info.content.decode_as_encoding::<AuthEnvelopedData>(rules) {
                    Ok(ad) => self.enveloped(
                        "authEnveloped-data",
                        &ad.auth_encrypted_content_info,
                        &ad.recip_infos,
                        ber,
                        depth,
                    ),
                    Err(e) => self.unreadable(depth, &format!("authEnveloped-data: {e}")),
                }
            }
            other => self.detail(
                depth,
                &format!(
                    "S/MIME {}: contents not shown{ber}",
                    found.map_or_else(|| oid_name(&other), str::to_owned)
                ),
            ),
        }
    }

    fn enveloped(
        &mut self,
        what: &str,
        content: &EncryptedContentInfo,
        recipients: &RecipientInfos,
        ber: &str,
        depth: usize,
    ) -> std::io::Result<()> {
        let lines = recipient_lines(recipients);
        let encrypted = content
            .encrypted_content
            .as_ref()
            .map_or_else(|| "no content".to_owned(), |c| {
                format!("{} bytes encrypted", c.as_bytes().len())
            });
        self.detail(
            depth,
            &format!(
                "S/MIME {what}: {}, {}, {encrypted}{ber}",
                alg_name(&content.content_enc_alg.oid),
                count(lines.len(), "recipient"),
            ),
        )?;
        for (i, line) in lines.iter().enumerate() {
            self.detail(depth, &format!("recipient {}: {line}", i + 1))?;
        }
        Ok(())
    }

    fn signed_data(
        &mut self,
        sd: &SignedData,
        kind: SmimeKind,
        rules: EncodingRules,
        ber: &str,
        depth: usize,
    ) -> std::io::Result<()> {
        let digests: Vec<String> = sd.digest_algorithms.iter().map(|a| alg_name(&a.oid)).collect();
        let certs: Vec<&CertificateChoices> =
            sd.certificates.iter().flat_map(|c| c.0.iter()).collect();
        let signers = &sd.signer_infos.0;
        let digests = if digests.is_empty() {
            "none".to_owned()
        } else {
            digests.join(", ")
        };
        self.detail(
            depth,
            &format!(
                "S/MIME signed-data: digest {digests}, {}, {}{ber}",
                count(certs.len(), "certificate"),
                count(signers.len(), "signer"),
            ),
        )?;
        for (i, cert) in certs.iter().enumerate() {
            let text = match cert {
                CertificateChoices::Certificate(c) => {
                    let tbs = c.tbs_certificate();
                    format!(
                        "subject \"{}\" issuer \"{}\" serial {}",
                        clean(&tbs.subject().to_string()),
                        clean(&tbs.issuer().to_string()),
                        serial_hex(tbs.serial_number().as_bytes()),
                    )
                }
                CertificateChoices::Other(o) => {
                    format!("other format {}", oid_name(&o.other_cert_format))
                }
            };
            self.detail(depth, &format!("certificate {}: {text}", i + 1))?;
        }
        for (i, signer) in signers.iter().enumerate() {
            self.detail(depth, &format!("signer {}: {}", i + 1, signer_line(signer)))?;
        }
        let encap = &sd.encap_content_info;
        let Some(econtent) = &encap.econtent else {
            let why = match kind {
                SmimeKind::Signature => "none (detached)",
                SmimeKind::Mime => "none (detached, or certificates only)",
            };
            return self.detail(depth, &format!("content: {why}"));
        };
        let bytes = match econtent_bytes(econtent, rules) {
            Ok(b) => b,
            Err(e) => return self.unreadable(depth, &format!("encapsulated content: {e}")),
        };
        let name = oid_name(&encap.econtent_type);
        self.detail(depth, &format!("content: {name}, {} bytes", bytes.len()))?;
        if encap.econtent_type != ID_DATA {
            return Ok(());
        }
        match MessageParser::default().parse(&bytes) {
            Some(inner) if inner.parts.first().is_some_and(|p| !p.headers.is_empty()) => {
                self.entity(&inner, depth + 1)
            }
            _ => self.unreadable(depth, "the encapsulated content is not a MIME entity"),
        }
    }
}

/// What a CMS part holds, as its MIME type says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SmimeKind {
    /// `application/pkcs7-mime`: enveloped, opaque-signed or compressed content.
    Mime,
    /// `application/pkcs7-signature`: a detached signature.
    Signature,
}

const ID_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.1");
const ID_SIGNED_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.2");
const ID_ENVELOPED_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.3");
const ID_AUTH_ENVELOPED_DATA: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.1.23");
const ID_COMPRESSED_DATA: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.1.9");
const ID_SIGNING_TIME: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.5");

/// Short names for the algorithms and content types of S/MIME; others come from the OID
/// database.
const NAMES: &[(&str, &str)] = &[
    ("2.16.840.1.101.3.4.1.2", "AES-128-CBC"),
    ("2.16.840.1.101.3.4.1.22", "AES-192-CBC"),
    ("2.16.840.1.101.3.4.1.42", "AES-256-CBC"),
    ("2.16.840.1.101.3.4.1.6", "AES-128-GCM"),
    ("2.16.840.1.101.3.4.1.26", "AES-192-GCM"),
    ("2.16.840.1.101.3.4.1.46", "AES-256-GCM"),
    ("1.2.840.113549.3.7", "3DES-CBC"),
    ("1.2.840.113549.3.2", "RC2-CBC"),
    ("1.3.14.3.2.7", "DES-CBC"),
    ("1.2.840.113549.1.9.16.3.18", "ChaCha20-Poly1305"),
    ("1.2.840.113549.1.1.1", "rsaEncryption"),
    ("1.2.840.113549.1.1.7", "RSAES-OAEP"),
    ("1.2.840.113549.1.1.10", "RSASSA-PSS"),
    ("1.2.840.113549.1.1.5", "sha1WithRSAEncryption"),
    ("1.2.840.113549.1.1.11", "sha256WithRSAEncryption"),
    ("1.2.840.113549.1.1.12", "sha384WithRSAEncryption"),
    ("1.2.840.113549.1.1.13", "sha512WithRSAEncryption"),
    ("1.2.840.113549.2.5", "MD5"),
    ("1.3.14.3.2.26", "SHA-1"),
    ("2.16.840.1.101.3.4.2.4", "SHA-224"),
    ("2.16.840.1.101.3.4.2.1", "SHA-256"),
    ("2.16.840.1.101.3.4.2.2", "SHA-384"),
    ("2.16.840.1.101.3.4.2.3", "SHA-512"),
    ("1.2.840.113549.1.7.1", "id-data"),
    ("1.2.840.113549.1.7.2", "id-signedData"),
    ("1.2.840.113549.1.7.3", "id-envelopedData"),
    ("1.2.840.113549.1.9.16.1.9", "id-ct-compressedData"),
    ("1.2.840.113549.1.9.16.1.23", "id-ct-authEnvelopedData"),
];

/// A readable name for an algorithm or content type.
fn oid_name(oid: &ObjectIdentifier) -> String {
    let dotted = oid.to_string();
    if let Some((_, name)) = NAMES.iter().find(|(o, _)| *o == dotted) {
        return (*name).to_owned();
    }
    match const_oid::db::DB.by_oid(oid) {
        Some(name) => format!("{name} ({dotted})"),
        None => dotted,
    }
}

fn alg_name(oid: &ObjectIdentifier) -> String {
    oid_name(oid)
}

/// The `smime-type` that goes with a CMS content type.
fn smime_type_of(oid: &ObjectIdentifier) -> Option<&'static str> {
    match *oid {
        ID_SIGNED_DATA => Some("signed-data"),
        ID_ENVELOPED_DATA => Some("enveloped-data"),
        ID_AUTH_ENVELOPED_DATA => Some("authEnveloped-data"),
        ID_COMPRESSED_DATA => Some("compressed-data"),
        _ => None,
    }
}

/// Decodes as DER, or failing that as BER (indefinite lengths, segmented strings). Returns the
/// rules that worked, for the nested structures; the BER error when both fail.
fn decode_lenient<'a, T: Decode<'a, Error = der::Error>>(
    bytes: &'a [u8],
) -> Result<(T, EncodingRules), der::Error> {
    match T::from_der(bytes) {
        Ok(v) => Ok((v, EncodingRules::Der)),
        Err(_) => T::from_ber(bytes).map(|v| (v, EncodingRules::Ber)),
    }
}

/// The bytes of an eContent OCTET STRING. BER may split it into segments (a constructed
/// string); the decoder then keeps the segments' encoding as the value, which is reassembled
/// here.
fn econtent_bytes(econtent: &Any, rules: EncodingRules) -> Result<Vec<u8>, der::Error> {
    if econtent.tag() != Tag::OctetString {
        return Err(econtent.tag().unexpected_error(Some(Tag::OctetString)).into());
    }
    let value = econtent.value();
    if rules == EncodingRules::Ber
        && let Some(joined) = join_segments(value)
    {
        return Ok(joined);
    }
    Ok(value.to_vec())
}

/// Concatenates `value` read as a series of primitive OCTET STRING segments (BER, X.690
/// 8.7.3.2) with definite lengths, possibly nested one level and followed by end-of-contents
/// octets; `None` when it is not that (a primitive value, as a MIME entity always is: it starts
/// with a header field, never with the byte 0x04).
fn join_segments(value: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(value.len());
    let mut rest = value;
    let mut segments = 0usize;
    while let Some((&tag, after)) = rest.split_first() {
        match tag {
            0x00 => {
                // End-of-contents: 00 00, nothing after but more of the same.
                if after.first() != Some(&0) {
                    return None;
                }
                rest = after.get(1..)?;
                continue;
            }
            0x04 => {}
            0x24 => {
                // A nested constructed segment: indefinite, or definite.
                let (len, body) = read_len(after)?;
                let inner = match len {
                    Some(n) => body.get(..n)?,
                    None => body,
                };
                let joined = join_segments(inner)?;
                out.extend_from_slice(&joined);
                segments += 1;
                rest = match len {
                    Some(n) => body.get(n..)?,
                    None => &[],
                };
                continue;
            }
            _ => return None,
        }
        let (len, body) = read_len(after)?;
        let n = len?;
        out.extend_from_slice(body.get(..n)?);
        rest = body.get(n..)?;
        segments += 1;
    }
    (segments > 0).then_some(out)
}

/// A BER length: `Some(n)` definite, `None` indefinite (0x80); and what follows it.
fn read_len(bytes: &[u8]) -> Option<(Option<usize>, &[u8])> {
    let (&first, rest) = bytes.split_first()?;
    match first {
        0x80 => Some((None, rest)),
        0..=0x7f => Some((Some(usize::from(first)), rest)),
        _ => {
            let count = usize::from(first & 0x7f);
            if count > 4 {
                return None;
            }
            let digits = rest.get(..count)?;
            let n = digits
                .iter()
                .fold(0usize, |acc, &b| (acc << 8) | usize::from(b));
            Some((Some(n), rest.get(count..)?))
        }
    }
}

/// One line per recipient: who (issuer and serial, or key id) and how the key travels.
fn recipient_lines(infos: &RecipientInfos) -> Vec<String> {
    let mut lines = Vec::new();
    for info in infos.0.iter() {
        match info {
            RecipientInfo::Ktri(k) => {
                let who = match &k.rid {
                    RecipientIdentifier::IssuerAndSerialNumber(ias) => issuer_serial(ias),
                    RecipientIdentifier::SubjectKeyIdentifier(ski) => key_id(ski),
                };
                lines.push(format!("{who}, {}", alg_name(&k.key_enc_alg.oid)));
            }
            RecipientInfo::Kari(k) => {
                let alg = alg_name(&k.key_enc_alg.oid);
                for key in k.recipient_enc_keys.iter() {
                    let who = match &key.rid {
                        KeyAgreeRecipientIdentifier::IssuerAndSerialNumber(ias) => {
                            issuer_serial(ias)
                        }
                        KeyAgreeRecipientIdentifier::RKeyId(r) => {
                            key_id(&r.subject_key_identifier)
                        }
                    };
                    lines.push(format!("{who}, key agreement {alg}"));
                }
            }
            RecipientInfo::Kekri(k) => lines.push(format!(
                "key-encryption key id {}, {}",
                hex(k.kek_id.kek_identifier.as_bytes()),
                alg_name(&k.key_enc_alg.oid)
            )),
            RecipientInfo::Pwri(p) => {
                lines.push(format!("password, {}", alg_name(&p.key_enc_alg.oid)));
            }
            RecipientInfo::Ori(o) => lines.push(format!("other type {}", oid_name(&o.ori_type))),
        }
    }
    lines
}

fn signer_line(signer: &SignerInfo) -> String {
    let who = match &signer.sid {
        SignerIdentifier::IssuerAndSerialNumber(ias) => issuer_serial(ias),
        SignerIdentifier::SubjectKeyIdentifier(ski) => key_id(ski),
    };
    let mut line = format!(
        "{who}, {}, {}",
        alg_name(&signer.digest_alg.oid),
        alg_name(&signer.signature_algorithm.oid)
    );
    if let Some(time) = signing_time(signer) {
        line.push_str(&format!(", signing time {time}"));
    }
    line
}

/// The signingTime signed attribute (RFC 5652 §11.3), when present and readable.
fn signing_time(signer: &SignerInfo) -> Option<String> {
    let attr = signer
        .signed_attrs
        .as_ref()?
        .iter()
        .find(|a| a.oid == ID_SIGNING_TIME)?;
    let value = attr.values.iter().next()?;
    let time = Time::from_der(&value.to_der().ok()?).ok()?;
    Some(time.to_string())
}

fn issuer_serial(ias: &IssuerAndSerialNumber) -> String {
    format!(
        "issuer \"{}\" serial {}",
        clean(&ias.issuer.to_string()),
        serial_hex(ias.serial_number.as_bytes())
    )
}

fn key_id(ski: &SubjectKeyIdentifier) -> String {
    format!("subject key id {}", hex(ski.0.as_bytes()))
}

/// A serial number in hex, without the leading zero bytes of its encoding.
fn serial_hex(bytes: &[u8]) -> String {
    let start = bytes.iter().position(|&b| b != 0).unwrap_or(bytes.len());
    let trimmed = bytes.get(start..).unwrap_or_default();
    if trimmed.is_empty() {
        "0".to_owned()
    } else {
        hex(trimmed)
    }
}

/// Lower-case hex, at most 64 bytes of it.
fn hex(bytes: &[u8]) -> String {
    let mut s: String = bytes.iter().take(64).map(|b| format!("{b:02x}")).collect();
    if bytes.len() > 64 {
        s.push_str("...");
    }
    s
}

fn count(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

/// Whether a part holds CMS, and which kind, by its type or its file name.
fn smime_kind(part: &MessagePart<'_>) -> Option<SmimeKind> {
    let ct = part.content_type()?;
    if !ct.ctype().eq_ignore_ascii_case("application") {
        return None;
    }
    let sub = ct.subtype()?.to_ascii_lowercase();
    match sub.as_str() {
        "pkcs7-mime" | "x-pkcs7-mime" => Some(SmimeKind::Mime),
        "pkcs7-signature" | "x-pkcs7-signature" => Some(SmimeKind::Signature),
        "octet-stream" => {
            let name = part.attachment_name()?.to_ascii_lowercase();
            if name.ends_with(".p7m") {
                Some(SmimeKind::Mime)
            } else if name.ends_with(".p7s") {
                Some(SmimeKind::Signature)
            } else {
                None
            }
        }
        _ => None,
    }
}

fn is_type(ct: Option<&ContentType<'_>>, ctype: &str, subtype: &str) -> bool {
    ct.is_some_and(|ct| {
        ct.ctype().eq_ignore_ascii_case(ctype)
            && ct.subtype().is_some_and(|s| s.eq_ignore_ascii_case(subtype))
    })
}

fn is_message_type(ct: Option<&ContentType<'_>>) -> bool {
    ct.is_some_and(|ct| ct.ctype().eq_ignore_ascii_case("message"))
}

/// A parameter of a Content-Type or Content-Disposition, its name in any case.
fn attribute<'a>(ct: Option<&'a ContentType<'_>>, name: &str) -> Option<&'a str> {
    ct?.attributes()?
        .iter()
        .find(|a| a.name.eq_ignore_ascii_case(name))
        .map(|a| a.value.as_ref())
}

/// The line of a part, without its indentation and marker.
fn describe(part: &MessagePart<'_>, raw: &[u8]) -> String {
    let ct = part.content_type();
    let mut line = match ct {
        Some(ct) => {
            let mut s = clean(&ct.ctype().to_ascii_lowercase());
            if let Some(sub) = ct.subtype() {
                s.push('/');
                s.push_str(&clean(&sub.to_ascii_lowercase()));
            }
            for name in ["charset", "smime-type", "name"] {
                if let Some(v) = attribute(Some(ct), name) {
                    s.push_str(&format!("; {name}={}", quote(v)));
                }
            }
            s
        }
        None => "text/plain (default)".to_owned(),
    };
    let cte = part
        .content_transfer_encoding()
        .map_or_else(|| "7bit".to_owned(), |c| c.trim().to_ascii_lowercase());
    line.push_str("  ");
    line.push_str(&quote(&cte));
    if let Some(disposition) = part.content_disposition() {
        line.push_str("  ");
        line.push_str(&quote(&disposition.ctype().to_ascii_lowercase()));
        if let Some(file) = attribute(Some(disposition), "filename") {
            line.push(' ');
            line.push_str(&quote(file));
        }
    }
    if let PartType::Multipart(children) = &part.body {
        line.push_str(&format!("  {}", count(children.len(), "part")));
    }
    line.push_str(&format!("  {} bytes", decoded_len(part, raw)));
    line
}

/// The size of a part's body after transfer decoding, before charset conversion (which the
/// parser does to text). For a multipart or an unencoded nested message: the raw body.
fn decoded_len(part: &MessagePart<'_>, raw: &[u8]) -> usize {
    let start = usize::try_from(part.raw_body_offset()).unwrap_or(usize::MAX);
    let end = usize::try_from(part.raw_end_offset()).unwrap_or(usize::MAX);
    let body = raw.get(start..end);
    match &part.body {
        PartType::Binary(b) | PartType::InlineBinary(b) => b.len(),
        PartType::Multipart(_) => body.map_or(0, <[u8]>::len),
        PartType::Message(m) => match (part.encoding, body) {
            (Encoding::None, Some(body)) => body.len(),
            _ => m.raw_message.len(),
        },
        PartType::Text(_) | PartType::Html(_) => {
            let decoded = match (part.encoding, body) {
                (Encoding::None, Some(body)) => Some(body.len()),
                (Encoding::Base64, Some(body)) => base64_decode(body).map(|v| v.len()),
                (Encoding::QuotedPrintable, Some(body)) => {
                    quoted_printable_decode(body).map(|v| v.len())
                }
                (_, None) => None,
            };
            decoded.unwrap_or_else(|| part.contents().len())
        }
    }
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

//! `smime show`: the MIME tree of a message, S/MIME layers included, as the ancestor's
//! `mimeshow.py` printed it.
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
//!    certificate 2: subject "EMAIL=alice@example.com,CN=Alice Test,O=smime test PKI" issuer "CN=smime TEST-ONLY Intermediate CA,O=smime test PKI" serial 1002
//!    signer 1: issuer "CN=smime TEST-ONLY Intermediate CA,O=smime test PKI" serial 1002, SHA-256, rsaEncryption, signing time 2026-06-01T12:00:00Z
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
//!       `certificate N: subject "DN" issuer "DN" serial HEX`,
//!       `signer N: WHO, DIGEST, SIGNATURE-ALG[, signing time T]` and
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
use mail_parser::{
    ContentType, Encoding, Message, MessageParser, MessagePart, MimeHeaders, PartType,
};
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
    if !starts_with_field(input) {
        return Err(ShowError::NotAMessage(
            "it does not start with a header field",
        ));
    }
    let message = parse_mime(input).ok_or(ShowError::NotAMessage(
        "no header fields, or a MIME structure the parser cannot read",
    ))?;
    if message.parts.first().is_none_or(|p| p.headers.is_empty()) {
        return Err(ShowError::NotAMessage("no header fields"));
    }
    let mut tree = Tree { out };
    tree.raw(&format!("message: {} bytes", input.len()))?;
    tree.entity(&message, 0)?;
    tree.out.flush()?;
    Ok(())
}

/// mail-parser's reading of `bytes`, or `None` where it finds none or panics (0.11.9 does on
/// some malformed multiparts; fuzzing found one, `fuzz/seeds/prepare/mail-parser-panics.eml`):
/// a hostile file must give an error, not a crash. The panic message is kept off stderr.
fn parse_mime(bytes: &[u8]) -> Option<Message<'_>> {
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let parsed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        MessageParser::default().parse(bytes)
    }));
    std::panic::set_hook(hook);
    parsed.ok().flatten()
}

/// Whether `input` starts like a message: a header field name (printable ASCII but `:`), then
/// the colon, after an optional mbox `From ` line. The MIME parser takes anything; this is what
/// tells an email from some other file.
fn starts_with_field(input: &[u8]) -> bool {
    let mut rest = input;
    if rest.starts_with(b"From ") {
        let Some(eol) = rest.iter().position(|&b| b == b'\n') else {
            return false;
        };
        rest = rest.get(eol + 1..).unwrap_or_default();
    }
    let name = rest
        .iter()
        .take_while(|&&b| b.is_ascii_graphic() && b != b':')
        .count();
    let after = rest.get(name..).unwrap_or_default();
    let colon = after.iter().find(|&&b| b != b' ' && b != b'\t');
    name > 0 && colon == Some(&b':')
}

/// The output, with the indentation rules of the format.
struct Tree<'w> {
    out: &'w mut dyn Write,
}

impl Tree<'_> {
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
            PartType::Text(_)
            | PartType::Html(_)
            | PartType::Binary(_)
            | PartType::InlineBinary(_) => {
                if part.is_encoding_problem {
                    let what = if is_message_type(content_type) {
                        "the nested message cannot be parsed".to_owned()
                    } else if let Some(cte) = part.content_transfer_encoding().filter(|c| {
                        c.eq_ignore_ascii_case("base64")
                            || c.eq_ignore_ascii_case("quoted-printable")
                    }) {
                        // The parser then keeps the body raw, and says the encoding is none.
                        format!("the body is not valid {}", cte.to_ascii_lowercase())
                    } else if part.contents().is_empty() {
                        "no body".to_owned()
                    } else {
                        "the end of the part cannot be found".to_owned()
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
                self.detail(
                    depth,
                    &format!("(note: smime-type says {})", clean(declared)),
                )?;
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
        let encrypted = content.encrypted_content.as_ref().map_or_else(
            || "no content".to_owned(),
            |c| format!("{} bytes encrypted", c.as_bytes().len()),
        );
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
        let digests: Vec<String> = sd
            .digest_algorithms
            .iter()
            .map(|a| alg_name(&a.oid))
            .collect();
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
        let parsed = if starts_with_field(&bytes) {
            parse_mime(&bytes)
        } else {
            None
        };
        match parsed {
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
        return Err(econtent
            .tag()
            .unexpected_error(Some(Tag::OctetString))
            .into());
    }
    let value = econtent.value();
    if rules == EncodingRules::Ber
        && let Some(joined) = join_segments(value, 0)
    {
        return Ok(joined);
    }
    Ok(value.to_vec())
}

/// Concatenates `value` read as a series of primitive OCTET STRING segments (BER, X.690
/// 8.7.3.2) with definite lengths, possibly nested one level and followed by end-of-contents
/// octets; `None` when it is not that (a primitive value, as a MIME entity always is: it starts
/// with a header field, never with the byte 0x04). Constructed segments may nest
/// [`MAX_SEGMENT_NESTING`] levels deep.
fn join_segments(value: &[u8], depth: usize) -> Option<Vec<u8>> {
    if depth > MAX_SEGMENT_NESTING {
        return None;
    }
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
                let joined = join_segments(inner, depth + 1)?;
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

/// How deep constructed OCTET STRING segments may nest (encoders use one level).
const MAX_SEGMENT_NESTING: usize = 8;

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
                        KeyAgreeRecipientIdentifier::RKeyId(r) => key_id(&r.subject_key_identifier),
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
            && ct
                .subtype()
                .is_some_and(|s| s.eq_ignore_ascii_case(subtype))
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

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::path::PathBuf;
    use std::sync::Arc;

    use cms::content_info::CmsVersion;
    use cms::signed_data::{EncapsulatedContentInfo, SignerInfos};
    use der::asn1::SetOfVec;
    use smime_core::{Cipher, FixedClock, KeyStore, Options, Protector, SignMode};

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
        show(input, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    /// Runs `show` on anything: it must not panic, and what it prints must be text.
    fn run_any(input: &[u8]) -> Option<String> {
        let mut out = Vec::new();
        match show(input, &mut out) {
            Ok(()) => Some(String::from_utf8(out).unwrap()),
            Err(ShowError::NotAMessage(_)) => None,
            Err(e) => panic!("unexpected error: {e}"),
        }
    }

    fn assert_line(text: &str, line: &str) {
        assert!(
            text.lines().any(|l| l == line),
            "no line {line:?} in:\n{text}"
        );
    }

    fn assert_line_starts(text: &str, start: &str) {
        assert!(
            text.lines().any(|l| l.starts_with(start)),
            "no line starting {start:?} in:\n{text}"
        );
    }

    /// The DER inside the (first) base64 body of a protected message.
    fn der_of(message: &[u8]) -> Vec<u8> {
        let start = message.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
        base64_decode(&message[start..]).unwrap()
    }

    /// A one-part message holding `der` unencoded.
    fn binary_part(content_type: &str, der: &[u8]) -> Vec<u8> {
        let mut m = format!(
            "From: a@example.com\r\nMIME-Version: 1.0\r\nContent-Type: {content_type}\r\n\
             Content-Transfer-Encoding: binary\r\n\r\n"
        )
        .into_bytes();
        m.extend_from_slice(der);
        m
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
        assert_line(&text, "+- multipart/related  7bit  2 parts  20035 bytes");
        assert_line(
            &text,
            "   +- multipart/alternative  7bit  2 parts  586 bytes",
        );
        assert_line(
            &text,
            "      +- text/plain; charset=us-ascii  7bit  92 bytes",
        );
        assert_line(
            &text,
            "      +- text/html; charset=us-ascii  7bit  274 bytes",
        );
        assert_line(
            &text,
            "   +- image/png; name=logo.png  base64  inline logo.png  13964 bytes",
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
        assert_line(&text, "+- multipart/mixed  7bit  4 parts  432 bytes");
        assert_line(&text, "   +- text/plain; charset=us-ascii  7bit  5 bytes");
        assert_line(
            &text,
            "   +- text/plain; charset=iso-8859-1  base64  2 bytes",
        );
        assert_line(
            &text,
            "   +- text/plain; charset=utf-8  quoted-printable  5 bytes",
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
             issuer \"CN=smime TEST-ONLY Intermediate CA,O=smime test PKI\" serial 1002",
        );
        assert_line(
            &text,
            &format!(
                "   signer 1: {TEST_CA} serial 1002, SHA-256, rsaEncryption, \
                 signing time 2026-06-01T12:00:00Z"
            ),
        );
        assert_line_starts(&text, "   content: id-data, ");
        assert_line(&text, "   +- multipart/related  7bit  2 parts  20035 bytes");
        assert_line(
            &text,
            "         +- text/plain; charset=us-ascii  7bit  92 bytes",
        );
        assert_line(
            &text,
            "      +- image/png; name=logo.png  base64  inline logo.png  13964 bytes",
        );
    }

    #[test]
    fn detached_shows_both_parts() {
        let text = run(&protect(
            Options::sign(SignMode::Detached),
            "html-inline-image.eml",
        ));
        assert_line_starts(&text, "+- multipart/signed  7bit  2 parts  ");
        assert_line(
            &text,
            "   protocol application/pkcs7-signature, micalg sha-256",
        );
        assert_line(&text, "   +- multipart/related  7bit  2 parts  20035 bytes");
        assert_line(
            &text,
            "         +- text/html; charset=us-ascii  7bit  274 bytes",
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

    /// Re-encodes DER as OpenSSL's streaming output does: every constructed value with an
    /// indefinite length, and long OCTET STRINGs (the content) in segments.
    fn to_ber(der: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        let mut rest = der;
        while let Some((&tag, after)) = rest.split_first() {
            let (len, body) = read_len(after).unwrap();
            let len = len.unwrap();
            let value = &body[..len];
            if tag & 0x20 != 0 {
                out.extend_from_slice(&[tag, 0x80]);
                out.extend(to_ber(value));
                out.extend_from_slice(&[0, 0]);
            } else if tag == 0x04 && len > 1000 {
                out.extend_from_slice(&[0x24, 0x80]);
                for chunk in value.chunks(1000) {
                    out.extend_from_slice(&[0x04, 0x82]);
                    out.extend_from_slice(&u16::try_from(chunk.len()).unwrap().to_be_bytes());
                    out.extend_from_slice(chunk);
                }
                out.extend_from_slice(&[0, 0]);
            } else {
                out.extend_from_slice(&rest[..rest.len() - body.len() + len]);
            }
            rest = &body[len..];
        }
        out
    }

    #[test]
    fn ber_as_openssl_streams_it() {
        let signed = der_of(&protect(Options::sign(SignMode::Opaque), "plain.eml"));
        let ber = to_ber(&signed);
        assert_ne!(ber, signed);
        let text = run(&binary_part(
            "application/pkcs7-mime; smime-type=signed-data",
            &ber,
        ));
        assert_line(
            &text,
            "   S/MIME signed-data: digest SHA-256, 2 certificates, 1 signer, BER",
        );
        assert_line(&text, "   content: id-data, 211 bytes");
        assert_line(&text, "   +- text/plain; charset=us-ascii  7bit  132 bytes");

        let enveloped = der_of(&protect(Options::encrypt(), "plain.eml"));
        let text = run(&binary_part(
            "application/pkcs7-mime; smime-type=enveloped-data",
            &to_ber(&enveloped),
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
        assert_line_starts(&out, "   (unreadable: ");
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
    }

    #[test]
    fn mutated_cms_never_panics() {
        let samples = [
            der_of(&protect(Options::sign(SignMode::Opaque), "plain.eml")),
            der_of(&protect(Options::encrypt(), "plain.eml")),
        ];
        for der in samples {
            for form in [der.clone(), to_ber(&der)] {
                for cut in (0..form.len()).step_by(7) {
                    run_any(&binary_part("application/pkcs7-mime", &form[..cut]));
                }
                for i in (0..form.len()).step_by(5) {
                    for x in [0xff, 0x80, 0x01] {
                        let mut m = form.clone();
                        m[i] ^= x;
                        let out = run_any(&binary_part("application/pkcs7-mime", &m)).unwrap();
                        assert!(out.starts_with("message: "));
                    }
                }
            }
        }
    }

    #[test]
    fn mutated_mime_never_panics() {
        let inputs = [
            corpus("html-inline-image.eml"),
            protect(
                Options::sign(SignMode::Detached),
                "qp-and-text-attachment.eml",
            ),
        ];
        for input in inputs {
            for cut in (0..input.len()).step_by(97) {
                run_any(&input[..cut]);
            }
            for i in (0..input.len()).step_by(89) {
                for x in [b'\n', b'-', b'"', b';', 0, 0xff] {
                    let mut m = input.clone();
                    m[i] = x;
                    run_any(&m);
                }
            }
        }
    }

    #[test]
    fn deep_multipart_nesting_is_cut() {
        let mut input = String::from("From: a@example.com\r\nMIME-Version: 1.0\r\n");
        let levels = 300;
        for i in 0..levels {
            input.push_str(&format!(
                "Content-Type: multipart/mixed; boundary=\"b{i}\"\r\n\r\n--b{i}\r\n"
            ));
        }
        input.push_str("Content-Type: text/plain\r\n\r\ndeep\r\n");
        for i in (0..levels).rev() {
            input.push_str(&format!("--b{i}--\r\n"));
        }
        let text = run(input.as_bytes());
        let marker = format!("... (nested deeper than {MAX_DEPTH} levels: not shown)");
        assert_line(&text, &format!("{}+- {marker}", "   ".repeat(MAX_DEPTH)));
        assert_eq!(text.lines().count(), MAX_DEPTH + 2, "{text}");
    }

    #[test]
    fn deep_nested_messages_are_cut() {
        let mut input = String::from("Content-Type: text/plain\r\n\r\ninnermost\r\n");
        for i in 0..100 {
            input = format!(
                "From: a{i}@example.com\r\nContent-Type: multipart/mixed; boundary=\"m{i}\"\r\n\r\n\
                 --m{i}\r\nContent-Type: message/rfc822\r\n\r\n{input}\r\n--m{i}--\r\n"
            );
        }
        let text = run_any(input.as_bytes()).unwrap();
        assert!(text.lines().count() <= MAX_DEPTH + 2, "{text}");
    }

    /// SignedData with no signer around `entity`, as a `binary` pkcs7-mime entity.
    fn wrap_signed(entity: &[u8]) -> Vec<u8> {
        let sd = SignedData {
            version: CmsVersion::V1,
            digest_algorithms: SetOfVec::new(),
            encap_content_info: EncapsulatedContentInfo {
                econtent_type: ID_DATA,
                econtent: Some(Any::new(Tag::OctetString, entity).unwrap()),
            },
            certificates: None,
            crls: None,
            signer_infos: SignerInfos(SetOfVec::new()),
        };
        let ci = ContentInfo {
            content_type: ID_SIGNED_DATA,
            content: Any::encode_from(&sd).unwrap(),
        };
        let mut out = b"Content-Type: application/pkcs7-mime; smime-type=signed-data\r\n\
            Content-Transfer-Encoding: binary\r\n\r\n"
            .to_vec();
        out.extend(ci.to_der().unwrap());
        out
    }

    #[test]
    fn deep_encapsulation_is_cut() {
        let mut entity = b"Content-Type: text/plain\r\n\r\nhi\r\n".to_vec();
        for _ in 0..60 {
            entity = wrap_signed(&entity);
        }
        let mut input = b"From: a@example.com\r\n".to_vec();
        input.extend(&entity);
        let text = run(&input);
        assert_eq!(
            text.matches("S/MIME signed-data: digest none, 0 certificates, 0 signers")
                .count(),
            MAX_DEPTH,
            "{text}"
        );
        assert!(text.contains("nested deeper than"), "{text}");
        assert!(!text.contains("hi"));
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
        assert_line(&text, "         +- text/plain  7bit  5 bytes");
        assert_line(&text, "         +- text/html  7bit  11 bytes");
    }

    #[test]
    fn not_a_message() {
        let mut noise = vec![0u8; 4096];
        let mut x = 0x2545_f491_u32;
        for b in &mut noise {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            *b = x.to_le_bytes()[0];
        }
        noise[0] = 0x89; // never a header field name
        for input in [
            &b""[..],
            b" \r\n\t\r\n",
            b"hello",
            b"just some words, no header\r\n",
            b"\r\n\r\nbody only",
            b"From nobody\r\n",
            &noise,
            &der_of(&protect(Options::encrypt(), "plain.eml")),
        ] {
            let mut out = Vec::new();
            let err = show(input, &mut out).unwrap_err();
            assert!(matches!(err, ShowError::NotAMessage(_)), "{err}");
            assert!(err.to_string().starts_with("not an email message"));
            assert!(out.is_empty());
        }
        // An mbox From line before the header is fine; so is a header without a body.
        assert!(
            run(b"From alice@example.com Tue Sep  2 09:00:00 2025\r\nSubject: x\r\n\r\nhi\r\n")
                .contains("+- text/plain (default)  7bit  4 bytes")
        );
        assert_line(&run(b"Subject: x\r\n"), "   (unreadable: no body)");
    }

    #[test]
    fn control_characters_are_escaped() {
        let input = b"From: a@example.com\r\n\
            Content-Type: application/octet-stream; name=\"\x1b[2Jx\xe2\x80\xaey.txt\"\r\n\
            Content-Disposition: attachment; filename=\"\x1b]0;evil\x07.bin\"\r\n\r\nxx\r\n";
        let text = run(input);
        assert!(!text.contains('\x1b') && !text.contains('\x07') && !text.contains('\u{202e}'));
        assert!(text.contains("\\u{1b}[2Jx\\u{202e}y.txt"), "{text}");
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
        let err = show(&corpus("plain.eml"), &mut Broken).unwrap_err();
        assert!(matches!(err, ShowError::Write(_)), "{err}");
    }

    #[test]
    fn join_segments_reads_ber_strings() {
        assert_eq!(
            join_segments(&[0x04, 0x02, b'a', b'b', 0x04, 0x01, b'c', 0, 0], 0),
            Some(b"abc".to_vec())
        );
        assert_eq!(
            join_segments(&[0x24, 0x80, 0x04, 0x01, b'x', 0, 0, 0x04, 0x01, b'y'], 0),
            Some(b"xy".to_vec())
        );
        assert_eq!(join_segments(b"Content-Type: text/plain\r\n", 0), None);
        assert_eq!(join_segments(&[0x04, 0x05, b'a'], 0), None);
        assert_eq!(join_segments(&[0x04, 0x85, 1, 2, 3, 4, 5], 0), None);
        assert_eq!(join_segments(&[], 0), None);
        // Nesting without end is refused, not followed down the stack.
        let deep: Vec<u8> = [0x24, 0x80].repeat(1_000_000);
        assert_eq!(join_segments(&deep, 0), None);
    }
}

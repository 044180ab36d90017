//! The MIME side of an inspection: mail-parser's tree of a message, walked into [`Node`]s.

use mail_parser::decoders::base64::base64_decode;
use mail_parser::decoders::quoted_printable::quoted_printable_decode;
use mail_parser::{
    ContentType, Encoding, Message, MessageParser, MessagePart, MimeHeaders, PartType,
};

use super::{
    Disposition, InspectError, Inspection, MAX_INSPECT_DEPTH, MAX_INSPECT_SIZE, MediaType,
    MultipartSigned, Node, Part, Pkcs7Kind,
};
use crate::read::mime::pkcs7_kind;

/// [`super::inspect`].
pub(super) fn inspect(input: &[u8]) -> Result<Inspection, InspectError> {
    if input.len() > MAX_INSPECT_SIZE {
        return Err(InspectError::TooLarge {
            size: input.len(),
            limit: MAX_INSPECT_SIZE,
        });
    }
    let not_a_message = |reason| InspectError::NotAMessage { reason };
    if input.iter().all(u8::is_ascii_whitespace) {
        return Err(not_a_message("the input is empty"));
    }
    if !starts_with_field(input) {
        return Err(not_a_message("it does not start with a header field"));
    }
    let message = parse_mime(input).ok_or(not_a_message(
        "no header fields, or a MIME structure the parser cannot read",
    ))?;
    if message.parts.first().is_none_or(|p| p.headers.is_empty()) {
        return Err(not_a_message("no header fields"));
    }
    Ok(Inspection {
        size: input.len(),
        root: entity(&message, 0),
    })
}

/// The tree of `bytes` (the encapsulated content of a SignedData) at `depth`, when it is a MIME
/// entity.
pub(super) fn nested_entity(bytes: &[u8], depth: usize) -> Option<Node> {
    if !starts_with_field(bytes) {
        return None;
    }
    let inner = parse_mime(bytes)?;
    inner
        .parts
        .first()
        .is_some_and(|p| !p.headers.is_empty())
        .then(|| entity(&inner, depth))
}

/// mail-parser's reading of `bytes`, or `None` where it finds none or panics (0.11.9 does on
/// some malformed multiparts; fuzzing found one, `fuzz/seeds/prepare/mail-parser-panics.eml`):
/// a hostile file must give an error, not a crash. The panic message is kept off stderr.
fn parse_mime(bytes: &[u8]) -> Option<Message<'_>> {
    quiet_panic_hook();
    QUIET.with(|quiet| quiet.set(true));
    let parsed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        MessageParser::default().parse(bytes)
    }));
    QUIET.with(|quiet| quiet.set(false));
    parsed.ok().flatten()
}

thread_local! {
    /// Set while this thread runs the MIME parser: its panics are caught and not reported.
    static QUIET: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Wraps the process's panic hook, once, so that it stays silent for a thread inside
/// [`parse_mime`] and reports everything else as before. Swapping the hook around each parse
/// instead would race between threads (and could leave the process without its hook).
fn quiet_panic_hook() {
    static INSTALL: std::sync::Once = std::sync::Once::new();
    INSTALL.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !QUIET.with(std::cell::Cell::get) {
                previous(info);
            }
        }));
    });
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

/// A message or an entity: its root part at `depth`.
fn entity(message: &Message<'_>, depth: usize) -> Node {
    if message.parts.is_empty() {
        return Node::Empty {
            reason: "no MIME entity".to_owned(),
        };
    }
    mime_part(message, 0, depth)
}

/// Part `index` of `message`, at `depth`, and everything below it.
fn mime_part(message: &Message<'_>, index: usize, depth: usize) -> Node {
    if depth >= MAX_INSPECT_DEPTH {
        return Node::TooDeep {
            limit: MAX_INSPECT_DEPTH,
        };
    }
    let Some(part) = message.parts.get(index) else {
        return Node::Missing {
            reason: "the parser lost this part".to_owned(),
        };
    };
    let mut node = describe(part, &message.raw_message);
    let content_type = part.content_type();
    match &part.body {
        PartType::Multipart(children) => {
            if is_type(content_type, "multipart", "signed") {
                node.signed = Some(MultipartSigned {
                    protocol: attribute(content_type, "protocol").map(str::to_owned),
                    micalg: attribute(content_type, "micalg").map(str::to_owned),
                });
            }
            for &child in children {
                let child = usize::try_from(child).unwrap_or(usize::MAX);
                // Children come after their parent; anything else would loop.
                if child <= index {
                    node.children.push(Node::Unreadable {
                        reason: "the parser returned a part out of order".to_owned(),
                    });
                    continue;
                }
                node.children.push(mime_part(message, child, depth + 1));
            }
        }
        PartType::Message(nested) => node.children.push(entity(nested, depth + 1)),
        PartType::Text(_) | PartType::Html(_) | PartType::Binary(_) | PartType::InlineBinary(_) => {
            leaf(part, &mut node, depth);
        }
    }
    Node::Part(Box::new(node))
}

/// What a part without parts holds: its CMS layer, or why it cannot be read.
fn leaf(part: &MessagePart<'_>, node: &mut Part, depth: usize) {
    let content_type = part.content_type();
    if part.is_encoding_problem {
        let what = if is_message_type(content_type) {
            "the nested message cannot be parsed".to_owned()
        } else if let Some(cte) = part.content_transfer_encoding().filter(|c| {
            c.eq_ignore_ascii_case("base64") || c.eq_ignore_ascii_case("quoted-printable")
        }) {
            // The parser then keeps the body raw, and says the encoding is none.
            format!("the body is not valid {}", cte.to_ascii_lowercase())
        } else if part.contents().is_empty() {
            "no body".to_owned()
        } else {
            "the end of the part cannot be found".to_owned()
        };
        node.unreadable.push(what);
        // A CMS part whose base64 is broken: nothing more to read.
        if node.pkcs7.is_some() {
            return;
        }
    }
    if node.pkcs7.is_some() {
        let declared = attribute(content_type, "smime-type");
        match super::cms::layer(part.contents(), declared, depth, nested_entity) {
            Ok(layer) => node.cms = Some(layer),
            Err(reason) => node.unreadable.push(reason),
        }
        return;
    }
    if content_type.is_some_and(|ct| ct.ctype().eq_ignore_ascii_case("multipart")) {
        node.unreadable
            .push("multipart without its boundary".to_owned());
    }
}

/// A part's header, size and CMS kind; no children or layer yet.
fn describe(part: &MessagePart<'_>, raw: &[u8]) -> Part {
    let ct = part.content_type();
    let content_type = ct.map(|ct| MediaType {
        mtype: ct.ctype().to_ascii_lowercase(),
        subtype: ct.subtype().map(str::to_ascii_lowercase),
        charset: attribute(Some(ct), "charset").map(str::to_owned),
        smime_type: attribute(Some(ct), "smime-type").map(str::to_owned),
        name: attribute(Some(ct), "name").map(str::to_owned),
    });
    let disposition = part.content_disposition().map(|d| Disposition {
        kind: d.ctype().to_ascii_lowercase(),
        file_name: attribute(Some(d), "filename").map(str::to_owned),
    });
    let part_count = match &part.body {
        PartType::Multipart(children) => Some(children.len()),
        _ => None,
    };
    Part {
        content_type,
        transfer_encoding: part
            .content_transfer_encoding()
            .map(|c| c.trim().to_ascii_lowercase()),
        disposition,
        part_count,
        size: decoded_len(part, raw),
        signed: None,
        pkcs7: pkcs7_of(part),
        unreadable: Vec::new(),
        cms: None,
        children: Vec::new(),
    }
}

/// Whether a part holds CMS, and which kind, by its type or its file name.
fn pkcs7_of(part: &MessagePart<'_>) -> Option<Pkcs7Kind> {
    let ct = part.content_type()?;
    pkcs7_kind(ct.ctype(), ct.subtype()?, part.attachment_name())
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

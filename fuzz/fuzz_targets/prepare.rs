//! `prepare`: any bytes as an `.eml`.
//!
//! Properties:
//! - `Email::parse` and `Email::prepared_entity` never panic;
//! - a prepared entity is canonical and 7-bit: no LF without CR before it anywhere; in
//!   bodies no byte above 0x7F and no CR outside CRLF (headers are kept as they were, see
//!   `shared/canonical.rs`);
//! - decoded content survives: whenever preparation succeeds, the decoded leaf parts of the
//!   input (type, file name, Content-ID, content after transfer decoding) equal those of the
//!   prepared entity, as `smime_testkit::compare_leaves` (mail-parser) sees them.
//!
//! The leaf comparison is skipped only when mail-parser, the independent decoder, cannot
//! parse the input or the entity at all (`decoded_leaves` would panic); ours is never
//! excused. One documented normalisation is allowed for: `Email::parse` turns every bare
//! LF of the input into CRLF before anything else ("Parsing normalises line endings to
//! CRLF"), binary parts included, since in a file stored with LF line endings a line end
//! and an LF byte of content cannot be told apart. When the input has a bare LF, the
//! comparison is therefore with the input so normalised. `SMIME_FUZZ_STATS=1` prints how
//! many inputs were prepared and compared. An attached message (`message/rfc822`) is
//! compared by the leaves inside it (see `leaves`). An input part that mail-parser cannot
//! decode (invalid quoted-printable or base64: it then reports the raw bytes) has no
//! reference meaning, so such inputs are not compared; but the prepared entity must never
//! have such a part unless the input had one. A CR outside CRLF in a quoted-printable
//! input part (invalid there) may be dropped by mail-parser and kept by us (see `same`).
//! Inputs with a duplicated Content-Type or Content-Transfer-Encoding field in one header
//! section are not compared: smime-core reads the first, mail-parser the last; nor are
//! multiparts with a quoted-printable or base64 encoding (forbidden, read differently); nor are
//! inputs where `--boundary` occurs other than as a delimiter line (`--outer-Type: ...`,
//! `x--outer`) or a multipart is never closed: smime-core reads delimiters strictly and
//! ends an inner part at the outer delimiter (RFC 2046), mail-parser does neither.
//! Finally, an input that is not text (a NUL or other control character, a CR outside
//! CRLF; 8-bit bytes are text here) and whose leaves still differ is counted, not failed:
//! the two decoders read structure around such bytes differently (see `compare`).
#![no_main]

use std::sync::atomic::{AtomicU64, Ordering};

use libfuzzer_sys::fuzz_target;

#[path = "shared/canonical.rs"]
mod canonical;

static PREPARED: AtomicU64 = AtomicU64::new(0);
static COMPARED: AtomicU64 = AtomicU64::new(0);
static MAIL_PARSER_PANICS: AtomicU64 = AtomicU64::new(0);
static NOT_TEXT: AtomicU64 = AtomicU64::new(0);

fn stats() {
    let prepared = PREPARED.fetch_add(1, Ordering::Relaxed) + 1;
    if prepared.is_power_of_two() && std::env::var_os("SMIME_FUZZ_STATS").is_some() {
        eprintln!(
            "prepare stats: {prepared} prepared, {} compared leaf by leaf, {} skipped (mail-parser panicked), {} read differently by the two decoders, not text",
            COMPARED.load(Ordering::Relaxed),
            MAIL_PARSER_PANICS.load(Ordering::Relaxed),
            NOT_TEXT.load(Ordering::Relaxed)
        );
    }
}

fn mail_parser_reads(data: &[u8]) -> bool {
    mail_parser::MessageParser::default().parse(data).is_some()
}

fuzz_target!(|data: &[u8]| {
    let Ok(email) = smime_core::Email::parse(data) else {
        return;
    };
    let Ok(entity) = email.prepared_entity() else {
        return;
    };
    stats();

    if let Err(e) = canonical::check_with(&entity, data) {
        panic!(
            "prepared entity not canonical 7-bit: {e}\nentity:\n{}",
            String::from_utf8_lossy(&entity)
        );
    }

    // The reference decoder is mail-parser, which panics on some garbage ("Invalid part ID,
    // could not find multipart."): such inputs are skipped. Only calls into mail-parser made
    // here are guarded; a panic in smime-core (which uses mail-parser for addresses) is not.
    match quietly(|| compare(data, &entity)) {
        None => {
            MAIL_PARSER_PANICS.fetch_add(1, Ordering::Relaxed);
        }
        Some(Ok(())) => {}
        Some(Err(problem)) => panic!("{problem}"),
    }
});

/// The leaf comparison; `Err` describes a broken property.
fn compare(data: &[u8], entity: &[u8]) -> Result<(), String> {
    if !mail_parser_reads(data) || !mail_parser_reads(entity) {
        return Ok(());
    }
    let (Some(want), Some(got)) = (leaves(data, 0), leaves(entity, 0)) else {
        return Ok(());
    };
    // A part mail-parser cannot decode (invalid quoted-printable such as `=4=`, broken
    // base64) is reported raw, undecoded: no reference for what it means. Only the input
    // may have such parts; what we wrote must decode.
    let input_problem = encoding_problem(data);
    // A header section with two Content-Type (or Content-Transfer-Encoding) fields is
    // ambiguous: smime-core goes by the first, mail-parser by the last, so the two read
    // different structures and there is no single meaning to compare.
    if duplicate_mime_fields(data) || loose_delimiter(data) || unread_boundary(data) {
        return Ok(());
    }
    if !input_problem && encoding_problem(entity) {
        return Err(format!(
            "mail-parser cannot decode a part of the prepared entity:\n{}",
            String::from_utf8_lossy(entity)
        ));
    }
    if input_problem {
        return Ok(());
    }
    COMPARED.fetch_add(1, Ordering::Relaxed);
    if same(&want, &got) {
        return Ok(());
    }
    // A message without Content-Type whose decoded body has bytes its implied charset
    // (us-ascii, RFC 2045 §5.2) cannot hold: the entity names a charset (`Email::
    // entity_header`: `unknown-8bit`, RFC 1428, or `us-ascii` when the base64 does not
    // decode), and mail-parser decodes such bytes differently with and without the label
    // (U+FFFD without; windows-1252 under `us-ascii` or `unknown-8bit`, as WHATWG maps
    // them). The bytes are the same; the text has no single meaning, so only the metadata is
    // compared (found by long runs: a PNG in base64 under a misspelt `Cntent-Type`).
    if !has_content_type(data)
        && want
            .iter()
            .any(|(l, _)| l.body.windows(3).any(|w| w == "\u{fffd}".as_bytes()))
        && same_meta(&want, &got)
    {
        return Ok(());
    }
    let normalised = crlf(data);
    if normalised != data && leaves(&normalised, 0).is_some_and(|w| same(&w, &got)) {
        return Ok(());
    }
    // Bytes that are not text (NUL, other control characters, a CR outside CRLF) around
    // MIME structure: smime-core and mail-parser read such input differently, with no
    // single meaning to compare. Cases from long runs: a NUL before the line end of a part
    // header; `--boundary` followed by a bare CR (not a delimiter for smime-core, RFC 2046
    // §5.1.1 allows only space and tab there; one for mail-parser). Such inputs still get
    // every other property here (no panic, canonical 7-bit entity that mail-parser can
    // decode); well-formed trees with binary parts holding such bytes are compared by
    // `crates/smime-core/tests/core/proptest_roundtrip.rs`. 8-bit text is not excused.
    if !text(&normalised) {
        NOT_TEXT.fetch_add(1, Ordering::Relaxed);
        return Ok(());
    }
    let diff = smime_testkit::compare_leaves(data, entity)
        .err()
        .unwrap_or_default();
    Err(format!(
        "decoded content changed by preparation:\n{diff}\nwant: {want:#?}\ngot: {got:#?}\nentity:\n{}",
        String::from_utf8_lossy(entity)
    ))
}

/// Runs `f` with panics caught and not printed; `None` if it panicked.
fn quietly<T>(f: impl FnOnce() -> T) -> Option<T> {
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
    std::panic::set_hook(hook);
    result.ok()
}

/// A decoded leaf, and how its part was quoted-printable.
type Leaf = (smime_testkit::Leaf, Qp);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Qp {
    No,
    Valid,
    /// With an `=` that starts neither an escape nor a soft line break (`= x`, `=4=`): RFC
    /// 2045 leaves its meaning to the decoder; mail-parser drops the white space after it,
    /// smime-core keeps the text as it is. Only the metadata of such a leaf is compared.
    Invalid,
}

fn qp_is_valid(raw: &[u8]) -> bool {
    let mut i = 0;
    while let Some(at) = raw[i..].iter().position(|&b| b == b'=') {
        let rest = &raw[i + at + 1..];
        let hex = rest.len() >= 2 && rest[0].is_ascii_hexdigit() && rest[1].is_ascii_hexdigit();
        let soft = {
            let ws = rest
                .iter()
                .take_while(|&&b| b == b' ' || b == b'\t')
                .count();
            // A soft line break is `=` before the line break itself: CRLF, LF or the end.
            // `=` before a bare CR is neither (found by the CI smoke: `=\rf`).
            match rest.get(ws) {
                None | Some(b'\n') => true,
                Some(b'\r') => rest.get(ws + 1).is_none_or(|&b| b == b'\n'),
                _ => false,
            }
        };
        if !hex && !soft {
            return false;
        }
        i += at + 1;
    }
    true
}

/// The decoded leaves (`smime_testkit::decoded_leaves`), with each `message/rfc822` (or
/// `message/global`) leaf replaced by the leaves of the message it holds. mail-parser
/// reports an attached message as one leaf with its raw bytes, but smime-core prepares the
/// parts inside it like any other (an inner text part with trailing white space is
/// re-encoded): what must survive is their decoded content. `None` when mail-parser cannot
/// parse the input (the testkit decoder would panic) or the nesting is absurd.
fn leaves(data: &[u8], depth: usize) -> Option<Vec<Leaf>> {
    if depth > 8 {
        return None;
    }
    let msg = mail_parser::MessageParser::default().parse(data)?;
    // decoded_leaves walks msg.parts in order, skipping multiparts: the same walk here.
    let qp = msg
        .parts
        .iter()
        .filter(|p| !matches!(p.body, mail_parser::PartType::Multipart(_)))
        .map(|p| {
            if p.encoding != mail_parser::Encoding::QuotedPrintable {
                return Qp::No;
            }
            match data.get(p.offset_body as usize..p.offset_end as usize) {
                Some(raw) if qp_is_valid(raw) => Qp::Valid,
                _ => Qp::Invalid,
            }
        })
        .collect::<Vec<_>>();
    let mut out = Vec::new();
    for (leaf, qp) in smime_testkit::decoded_leaves(data).into_iter().zip(qp) {
        if matches!(
            leaf.content_type.as_str(),
            "message/rfc822" | "message/global"
        ) {
            out.extend(leaves(&leaf.body, depth + 1)?);
        } else {
            out.push((leaf, qp));
        }
    }
    Some(out)
}

/// Whether the input's leaves (`want`) survived as `got`. One decoder difference is
/// allowed for in quoted-printable input parts: a CR that is not part of a CRLF is
/// invalid there (RFC 2045 §6.7: CR only as part of a line break); mail-parser drops it,
/// smime-core keeps the byte; and white space at the end of a last line without a line
/// break (see `trim_end`). Such a part compares equal modulo those two.
///
/// Leaves with no content are left out on both sides: a part whose header is not followed
/// by a blank line has no body (RFC 2046 allows it); mail-parser skips such a part, while
/// smime-core writes it with the blank line and an empty body, which means the same.
fn same(want: &[Leaf], got: &[Leaf]) -> bool {
    let want: Vec<&Leaf> = want.iter().filter(|(l, _)| !l.body.is_empty()).collect();
    let got: Vec<&Leaf> = got.iter().filter(|(l, _)| !l.body.is_empty()).collect();
    want.len() == got.len()
        && want.iter().zip(&got).all(|((w, qp), (g, _))| {
            let meta = same_leaf_meta(w, g);
            w == g
                || (meta && *qp == Qp::Invalid)
                || (meta
                    && *qp == Qp::Valid
                    && trim_end(&w.body) == trim_end(&without_bare_cr(&g.body)))
        })
}

/// Whether the message's own header has a Content-Type field.
fn has_content_type(data: &[u8]) -> bool {
    mail_parser::MessageParser::default()
        .parse(data)
        .and_then(|m| {
            m.parts.first().map(|p| {
                p.headers
                    .iter()
                    .any(|h| h.name == mail_parser::HeaderName::ContentType)
            })
        })
        .unwrap_or(true)
}

/// The same leaves by type, file name and Content-ID, content not compared.
fn same_meta(want: &[Leaf], got: &[Leaf]) -> bool {
    want.len() == got.len()
        && want
            .iter()
            .zip(got)
            .all(|((w, _), (g, _))| same_leaf_meta(w, g))
}

/// The same type, file name and Content-ID.
fn same_leaf_meta(w: &smime_testkit::Leaf, g: &smime_testkit::Leaf) -> bool {
    w.content_type == g.content_type && w.file_name == g.file_name && w.content_id == g.content_id
}

/// Without white space at the very end: trailing white space on a quoted-printable line is
/// deleted by decoders (RFC 2045 §6.7 rule 3), which smime-core does on a last line without
/// a line break too and mail-parser does not.
fn trim_end(data: &[u8]) -> &[u8] {
    let end = data
        .iter()
        .rposition(|&b| b != b' ' && b != b'\t')
        .map_or(0, |i| i + 1);
    &data[..end]
}

fn without_bare_cr(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len());
    for (i, &b) in data.iter().enumerate() {
        if b != b'\r' || data.get(i + 1) == Some(&b'\n') {
            out.push(b);
        }
    }
    out
}

/// Whether `pred` holds for some part of the message mail-parser reads in `data`, parts of
/// attached messages included (to 8 levels); `pred` also gets the message the part is in.
fn any_part(
    data: &[u8],
    pred: impl Fn(&mail_parser::Message<'_>, &mail_parser::MessagePart<'_>) -> bool,
) -> bool {
    fn walk(
        msg: &mail_parser::Message<'_>,
        depth: usize,
        pred: &dyn Fn(&mail_parser::Message<'_>, &mail_parser::MessagePart<'_>) -> bool,
    ) -> bool {
        msg.parts.iter().any(|p| {
            pred(msg, p)
                || match &p.body {
                    mail_parser::PartType::Message(inner) => {
                        depth < 8 && walk(inner, depth + 1, pred)
                    }
                    _ => false,
                }
        })
    }
    mail_parser::MessageParser::default()
        .parse(data)
        .is_some_and(|m| walk(&m, 0, &pred))
}

/// Whether mail-parser gave up decoding a part (its `is_encoding_problem`), nested
/// messages included.
fn encoding_problem(data: &[u8]) -> bool {
    any_part(data, |_, p| p.is_encoding_problem)
}

/// Whether some header section (the message's, a part's, an attached message's) has more
/// than one Content-Type or Content-Transfer-Encoding field.
fn duplicate_mime_fields(data: &[u8]) -> bool {
    any_part(data, |_, p| {
        let count = |name: &mail_parser::HeaderName<'_>| {
            p.headers.iter().filter(|h| &h.name == name).count()
        };
        count(&mail_parser::HeaderName::ContentType) > 1
            || count(&mail_parser::HeaderName::ContentTransferEncoding) > 1
            || encoded_multipart(p)
    })
}

/// Whether some part's Content-Type is `multipart/*` and names a boundary that mail-parser
/// does not read: a parameter list that is not RFC 2045 syntax before it (a quoted string
/// where a parameter name belongs, `;"yt= p/q"; boundary="b"`). smime-core reads quoted
/// strings as units and finds the boundary; mail-parser reads the quote as the start of a
/// value that runs over `boundary=` and sees a leaf. The field has no single meaning (found
/// by the CI smoke, 2026-12-05).
fn unread_boundary(data: &[u8]) -> bool {
    use mail_parser::MimeHeaders;
    any_part(data, |msg, p| {
        p.content_type().is_some_and(|ct| {
            ct.ctype().eq_ignore_ascii_case("multipart") && ct.attribute("boundary").is_none()
        }) && p.headers.iter().any(|h| {
            h.name == mail_parser::HeaderName::ContentType
                && msg
                    .raw_message
                    .get(h.offset_start as usize..h.offset_end as usize)
                    .is_some_and(|raw| raw.windows(8).any(|w| w.eq_ignore_ascii_case(b"boundary")))
        })
    })
}

/// Whether `--boundary` of some multipart occurs other than as a delimiter line under
/// RFC 2046 §5.1.1 (at the start of a line, `--boundary` or `--boundary--`, then only white
/// space): smime-core reads delimiters strictly (anything else is content or preamble),
/// mail-parser finds `--boundary` anywhere. Also true when a multipart is never closed
/// (`--boundary--`): mail-parser then lets an inner multipart run over the outer
/// delimiters, smime-core ends it at the outer delimiter (RFC 2046 §5.1.2); and when
/// delimiter lines do not nest (an outer one while an inner multipart is open), likewise.
fn loose_delimiter(data: &[u8]) -> bool {
    let Some(msg) = mail_parser::MessageParser::default().parse(data) else {
        return false;
    };
    let mut boundaries: Vec<Vec<u8>> = Vec::new();
    fn collect(msg: &mail_parser::Message<'_>, out: &mut Vec<Vec<u8>>, depth: usize) {
        use mail_parser::MimeHeaders;
        for p in &msg.parts {
            if let Some(b) = p.content_type().and_then(|ct| ct.attribute("boundary")) {
                out.push(format!("--{b}").into_bytes());
            }
            if let mail_parser::PartType::Message(inner) = &p.body
                && depth < 8
            {
                collect(inner, out, depth + 1);
            }
        }
    }
    collect(&msg, &mut boundaries, 0);
    // Delimiter lines must nest: an outer delimiter while an inner multipart is still open
    // ends the inner one for smime-core (RFC 2046 §5.1.2), not for mail-parser.
    let mut open: Vec<&[u8]> = Vec::new();
    for line in data.split(|&c| c == b'\n') {
        let line = trim_lwsp_end(line);
        let Some((b, close)) = boundaries.iter().find_map(|b| {
            let rest = line.strip_prefix(b.as_slice())?;
            match rest {
                b"" => Some((b.as_slice(), false)),
                b"--" => Some((b.as_slice(), true)),
                _ => None,
            }
        }) else {
            continue;
        };
        match open.iter().position(|o| *o == b) {
            Some(i) if i + 1 != open.len() => return true,
            Some(_) => {}
            None => open.push(b),
        }
        if close {
            open.pop();
        }
    }
    boundaries.iter().any(|b| {
        // Never closed: where an unclosed inner multipart ends is where the two disagree.
        let mut close = b.clone();
        close.extend_from_slice(b"--");
        let closed = data.split(|&c| c == b'\n').any(|line| {
            line.strip_prefix(close.as_slice())
                .is_some_and(|r| r.iter().all(|&c| is_lwsp(c)))
        });
        if !closed {
            return true;
        }
        let mut from = 0;
        while let Some(at) = data[from..]
            .windows(b.len())
            .position(|w| w == b.as_slice())
        {
            let pos = from + at;
            let line_start = pos == 0 || data[pos - 1] == b'\n';
            let rest = &data[pos + b.len()..];
            let rest = &rest[..rest.iter().position(|&c| c == b'\n').unwrap_or(rest.len())];
            let rest = rest.strip_prefix(b"--").unwrap_or(rest);
            if !line_start || !rest.iter().all(|&c| is_lwsp(c)) {
                return true;
            }
            from = pos + 1;
        }
        false
    })
}

/// The white space RFC 2046 §5.1.1 allows after a delimiter (transport padding: space and
/// tab), and the CR of the line break. Not form feed or vertical tab, which Rust's
/// `is_ascii_whitespace` includes and mail-parser accepts (found by a long run:
/// `--outer\x0c`): smime-core reads such a line as content.
fn is_lwsp(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\r')
}

fn trim_lwsp_end(mut line: &[u8]) -> &[u8] {
    while let [rest @ .., last] = line
        && is_lwsp(*last)
    {
        line = rest;
    }
    line
}

/// A multipart with a Content-Transfer-Encoding other than 7bit, 8bit or binary, which RFC
/// 2045 §6.4 forbids: smime-core then treats it as a leaf (decodes and re-encodes its
/// body), mail-parser ignores the encoding and reads its parts.
fn encoded_multipart(p: &mail_parser::MessagePart<'_>) -> bool {
    use mail_parser::MimeHeaders;
    let multipart = p
        .content_type()
        .is_some_and(|ct| ct.ctype().eq_ignore_ascii_case("multipart"));
    multipart
        && p.headers.iter().any(|h| {
            h.name == mail_parser::HeaderName::ContentTransferEncoding
                && h.value.as_text().is_some_and(|v| {
                    !["7bit", "8bit", "binary"]
                        .iter()
                        .any(|ok| v.trim().eq_ignore_ascii_case(ok))
                })
        })
}

/// Text: no control characters but tab and CRLF line breaks, no DEL; 8-bit bytes allowed.
fn text(data: &[u8]) -> bool {
    data.iter().enumerate().all(|(i, &b)| match b {
        b'\t' | b' '..=b'~' | 0x80.. => true,
        b'\r' => data.get(i + 1) == Some(&b'\n'),
        b'\n' => i > 0 && data[i - 1] == b'\r',
        _ => false,
    })
}

/// Every LF without a CR before it turned into CRLF, as `Email::parse` does first.
fn crlf(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() + data.len() / 16);
    for (i, &b) in data.iter().enumerate() {
        if b == b'\n' && (i == 0 || data[i - 1] != b'\r') {
            out.push(b'\r');
        }
        out.push(b);
    }
    out
}

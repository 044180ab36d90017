//! Preparing a MIME entity for signing (RFC 8551 §3.1): canonical CRLF line endings and 7-bit
//! transfer encodings, so that no relay has a reason to change a byte of what was signed.
//!
//! Parts that are already safe are copied byte for byte. A leaf part is re-encoded when its
//! body has 8-bit bytes, NUL, bare CR or LF, a line over 998 characters, white space at the end
//! of a line or a line starting with `From `: text as quoted-printable, anything else as base64.
//! Only its Content-Transfer-Encoding field changes; every other header of the part (file name,
//! Content-ID, disposition, charset, format=flowed) stays as it was. Decoded content is kept
//! byte for byte.

use crate::limits::{MAX_7BIT_LINE, MAX_MIME_DEPTH};
use crate::message::Email;
use crate::message::ParseError;
use crate::message::encoding::{
    base64_decode_lenient, base64_lines, qp_decode_lenient, qp_encode_text,
};
use crate::message::header::{ContentType, Header, memchr_crlf};

// `Email::prepared_entity` is written here rather than in `message/eml.rs`: making an entity
// canonical is building's business, and `message/` depends on neither direction.
impl Email {
    /// The MIME entity exactly as it will be signed or encrypted: the `Content-*` fields and
    /// the body, canonical (CRLF) and 7-bit (RFC 8551 §3.1), every part's decoded content
    /// unchanged.
    ///
    /// # Errors
    /// [`ParseError`] when the MIME structure is too deep, a part's header is unreadable, or a
    /// part's encoding cannot be made 7-bit.
    pub fn prepared_entity(&self) -> Result<Vec<u8>, ParseError> {
        let mut entity = Vec::with_capacity(self.body().len() + 1024);
        prepare_entity(
            &self.entity_header(),
            self.body(),
            "text/plain; charset=us-ascii",
            0,
            "",
            &mut entity,
        )?;
        Ok(entity)
    }
}

/// Writes the canonical, 7-bit form of the entity made of `header` and `body` to `out`.
/// `path` names the part in errors (e.g. `1.2`).
pub(crate) fn prepare_entity(
    header: &Header,
    body: &[u8],
    default_type: &str,
    depth: usize,
    path: &str,
    out: &mut Vec<u8>,
) -> Result<(), ParseError> {
    if depth > MAX_MIME_DEPTH {
        return Err(ParseError::TooDeep {
            limit: MAX_MIME_DEPTH,
        });
    }
    let ct = header.content_type(default_type);
    let cte = header.transfer_encoding();
    let identity = matches!(cte.as_str(), "7bit" | "8bit" | "binary");
    if ct.mtype == "multipart"
        && identity
        && let Some(boundary) = ct.param("boundary").filter(|b| !b.is_empty())
    {
        // Boundaries are printable ASCII (RFC 2046 §5.1.1). The header is read lossily, so
        // other bytes would match none of the input's delimiters and be written back as
        // U+FFFD; a CR or NUL would make the delimiter lines written out non-canonical.
        if !boundary.bytes().all(|b| b == b' ' || b.is_ascii_graphic()) {
            return Err(ParseError::BadPart {
                part: part_name(path),
            });
        }
        return prepare_multipart(header, body, &ct, boundary, depth, path, out);
    }
    // A multipart without a boundary parameter (or one we could not read, e.g. after a
    // stray `;*`) cannot be split. Kept as it is when it is already 7-bit; but re-encoding
    // it would write a multipart in base64, which RFC 2045 §6.4 forbids and readers take
    // apart differently (found by the `prepare` fuzz target): refused instead.
    if ct.mtype == "multipart" && identity && !is_7bit_safe(body) {
        return Err(ParseError::NoBoundary {
            part: path_or_top(path),
        });
    }
    if ct.is("message", "rfc822") && identity {
        return prepare_message(header, body, depth, path, out);
    }
    prepare_leaf(header, body, &ct, &cte, path, out)
}

fn prepare_multipart(
    header: &Header,
    body: &[u8],
    ct: &ContentType,
    boundary: &str,
    depth: usize,
    path: &str,
    out: &mut Vec<u8>,
) -> Result<(), ParseError> {
    let split = split_multipart(body, boundary.as_bytes());
    if split.parts.is_empty() {
        // No delimiter: the whole body would be preamble, which readers ignore (and which is
        // dropped below when it is not 7-bit). RFC 2046 §5.1.1 requires a body part.
        return Err(ParseError::BadPart {
            part: part_name(path),
        });
    }
    let mut header = header.clone();
    if header.transfer_encoding() != "7bit" {
        // Its parts are made 7-bit below, so the multipart is too.
        header.set_transfer_encoding("7bit");
    }
    header.write(out);
    out.extend_from_slice(b"\r\n");
    if !split.preamble.is_empty() && is_7bit_clean(split.preamble) {
        out.extend_from_slice(split.preamble);
        out.extend_from_slice(b"\r\n");
    }
    let child_default = if ct.subtype == "digest" {
        "message/rfc822"
    } else {
        "text/plain; charset=us-ascii"
    };
    for (i, part) in split.parts.iter().enumerate() {
        out.extend_from_slice(b"--");
        out.extend_from_slice(boundary.as_bytes());
        out.extend_from_slice(b"\r\n");
        let child_path = if path.is_empty() {
            format!("{}", i + 1)
        } else {
            format!("{path}.{}", i + 1)
        };
        let (child_header, body_at) = Header::parse(part).map_err(|_| ParseError::BadPart {
            part: child_path.clone(),
        })?;
        prepare_entity(
            &child_header,
            &part[body_at..],
            child_default,
            depth + 1,
            &child_path,
            out,
        )?;
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"--");
    out.extend_from_slice(boundary.as_bytes());
    out.extend_from_slice(b"--\r\n");
    if !split.epilogue.is_empty() && is_7bit_clean(split.epilogue) {
        out.extend_from_slice(split.epilogue);
    }
    Ok(())
}

/// How errors name a part: its number, or `body` for the message's own entity.
fn part_name(path: &str) -> String {
    if path.is_empty() { "body" } else { path }.to_owned()
}

fn prepare_message(
    header: &Header,
    body: &[u8],
    depth: usize,
    path: &str,
    out: &mut Vec<u8>,
) -> Result<(), ParseError> {
    let (inner, body_at) = Header::parse(body).map_err(|_| ParseError::BadPart {
        part: path.to_owned(),
    })?;
    let mut header = header.clone();
    if header.transfer_encoding() != "7bit" {
        header.set_transfer_encoding("7bit");
    }
    header.write(out);
    out.extend_from_slice(b"\r\n");
    // The enclosed message keeps its whole header; its MIME entity is prepared like ours.
    prepare_entity(
        &inner,
        &body[body_at..],
        "text/plain; charset=us-ascii",
        depth + 1,
        path,
        out,
    )
}

fn prepare_leaf(
    header: &Header,
    body: &[u8],
    ct: &ContentType,
    cte: &str,
    path: &str,
    out: &mut Vec<u8>,
) -> Result<(), ParseError> {
    let is_text = ct.mtype == "text";
    let decoded: Vec<u8> = match cte {
        "7bit" | "8bit" | "binary" => {
            if is_7bit_safe(body) {
                header.write(out);
                out.extend_from_slice(b"\r\n");
                out.extend_from_slice(body);
                return Ok(());
            }
            body.to_vec()
        }
        "base64" | "quoted-printable" => {
            if is_7bit_clean(body) {
                header.write(out);
                out.extend_from_slice(b"\r\n");
                out.extend_from_slice(body);
                return Ok(());
            }
            // Encoded, yet not 7-bit: decode leniently and encode again.
            if cte == "base64" {
                base64_decode_lenient(body).ok_or_else(|| ParseError::BadEncoding {
                    part: path_or_top(path),
                    encoding: cte.to_owned(),
                })?
            } else {
                qp_decode_lenient(body)
            }
        }
        other => {
            if is_7bit_clean(body) {
                header.write(out);
                out.extend_from_slice(b"\r\n");
                out.extend_from_slice(body);
                return Ok(());
            }
            return Err(ParseError::BadEncoding {
                part: path_or_top(path),
                encoding: other.to_owned(),
            });
        }
    };
    let mut header = header.clone();
    if is_text {
        header.set_transfer_encoding("quoted-printable");
        header.write(out);
        out.extend_from_slice(b"\r\n");
        qp_encode_text(&decoded, out);
    } else {
        header.set_transfer_encoding("base64");
        header.write(out);
        out.extend_from_slice(b"\r\n");
        base64_lines(&decoded, out);
    }
    Ok(())
}

fn path_or_top(path: &str) -> String {
    if path.is_empty() {
        "body".to_owned()
    } else {
        format!("part {path}")
    }
}

/// True when `body` can be sent and signed as it is: 7-bit, no NUL, CRLF only, no line over
/// 998 characters, no trailing white space, no line starting with `From `.
fn is_7bit_safe(body: &[u8]) -> bool {
    scan_lines(body, true)
}

/// True when every byte is 7-bit, non-NUL, with CRLF line breaks and lines of at most 998.
fn is_7bit_clean(body: &[u8]) -> bool {
    scan_lines(body, false)
}

/// The scan behind [`is_7bit_safe`] (`strict`) and [`is_7bit_clean`]: one vectorised pass
/// over the bytes, then one line at a time with `memchr`. Megabytes of base64 pass through
/// here, so it must run at memory speed rather than byte by byte.
fn scan_lines(body: &[u8], strict: bool) -> bool {
    // 1..=127 only: NUL and 8-bit bytes wrap to 127 and above.
    let in_range = body
        .chunks(4096)
        .all(|c| c.iter().fold(0u8, |m, &b| m.max(b.wrapping_sub(1))) < 127);
    if !in_range {
        return false;
    }
    let line_ok = |line: &[u8]| {
        line.len() <= MAX_7BIT_LINE
            && memchr::memchr(b'\r', line).is_none()
            && (!strict
                || (!matches!(line.last(), Some(b' ' | b'\t')) && !line.starts_with(b"From ")))
    };
    let mut start = 0;
    for nl in memchr::memchr_iter(b'\n', body) {
        // A line break must be CRLF.
        let Some(cr) = nl
            .checked_sub(1)
            .filter(|&cr| cr >= start && body[cr] == b'\r')
        else {
            return false;
        };
        if !line_ok(&body[start..cr]) {
            return false;
        }
        start = nl + 1;
    }
    line_ok(&body[start..])
}

/// A multipart body cut at its boundary delimiters (RFC 2046 §5.1.1). The CRLF before each
/// delimiter belongs to the delimiter, not to the part.
struct Multipart<'a> {
    preamble: &'a [u8],
    parts: Vec<&'a [u8]>,
    epilogue: &'a [u8],
}

fn split_multipart<'a>(body: &'a [u8], boundary: &[u8]) -> Multipart<'a> {
    let mut preamble: &[u8] = &[];
    let mut parts = Vec::new();
    let mut epilogue: &[u8] = &[];
    // Start of the current part's content, once the first delimiter was seen.
    let mut open: Option<usize> = None;
    // A delimiter line starts the body or follows a CRLF: look for "\r\n--boundary" rather
    // than at every line.
    let mut needle = Vec::with_capacity(boundary.len() + 4);
    needle.extend_from_slice(b"\r\n--");
    needle.extend_from_slice(boundary);
    let finder = memchr::memmem::Finder::new(&needle);
    let first = body.starts_with(&needle[2..]).then_some(0);
    let mut search_from;
    let mut candidate = first.or_else(|| finder.find(body).map(|i| i + 2));
    while let Some(pos) = candidate {
        let line_end = memchr_crlf(&body[pos..]).map_or(body.len(), |i| pos + i);
        let next = (line_end + 2).min(body.len());
        if let Some(kind) = delimiter(&body[pos..line_end], boundary) {
            // The content ends before the CRLF that precedes this delimiter line.
            let content_end = pos.saturating_sub(2);
            match open {
                None => preamble = &body[..content_end],
                Some(start) => parts.push(&body[start..content_end.max(start)]),
            }
            if kind == Delimiter::Close {
                epilogue = &body[next..];
                return Multipart {
                    preamble,
                    parts,
                    epilogue,
                };
            }
            open = Some(next);
            // The next delimiter can start on the very next line, whose CRLF ends this one.
            search_from = line_end;
        } else {
            search_from = pos;
        }
        candidate = body
            .get(search_from..)
            .and_then(|rest| finder.find(rest))
            .map(|i| search_from + i + 2);
    }
    // No closing delimiter: the last part runs to the end of the body.
    match open {
        Some(start) => parts.push(&body[start..]),
        None => preamble = body,
    }
    Multipart {
        preamble,
        parts,
        epilogue,
    }
}

#[derive(PartialEq, Eq)]
enum Delimiter {
    Next,
    Close,
}

fn delimiter(line: &[u8], boundary: &[u8]) -> Option<Delimiter> {
    let rest = line.strip_prefix(b"--")?.strip_prefix(boundary)?;
    let (kind, rest) = match rest.strip_prefix(b"--") {
        Some(r) => (Delimiter::Close, r),
        None => (Delimiter::Next, rest),
    };
    rest.iter()
        .all(|b| *b == b' ' || *b == b'\t')
        .then_some(kind)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn prep(entity: &[u8]) -> Vec<u8> {
        let (h, at) = Header::parse(entity).unwrap();
        let mut out = Vec::new();
        prepare_entity(&h, &entity[at..], "text/plain", 0, "", &mut out).unwrap();
        out
    }

    #[test]
    fn clean_parts_are_untouched() {
        let e = b"Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\npre\r\n--b\r\nContent-Type: text/plain\r\n\r\nhello\r\n--b\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\nAAAA\r\n--b--\r\n";
        assert_eq!(prep(e), e.to_vec());
    }

    #[test]
    fn eight_bit_text_becomes_qp_and_binary_base64() {
        let e = "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\ncaf\u{e9}\r\n--b\r\nContent-Type: application/x-thing\r\nContent-Disposition: attachment; filename=\"x.bin\"\r\nContent-Transfer-Encoding: binary\r\n\r\n\u{1}\u{ff}\r\n--b--\r\n";
        let out = String::from_utf8(prep(e.as_bytes())).unwrap();
        assert!(out.contains("charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\ncaf=C3=A9\r\n--b"), "{out}");
        assert!(
            out.contains(
                "filename=\"x.bin\"\r\nContent-Transfer-Encoding: base64\r\n\r\nAcO/\r\n\r\n--b--"
            ),
            "{out}"
        );
    }

    #[test]
    fn trailing_space_and_from_lines_are_protected() {
        let out = prep(b"Content-Type: text/plain\r\n\r\nFrom me \r\nok\r\n");
        assert!(out.ends_with(
            b"Content-Transfer-Encoding: quoted-printable\r\n\r\n=46rom me=20\r\nok\r\n"
        ));
    }

    #[test]
    fn split_without_close_keeps_last_part() {
        let m = split_multipart(b"--b\r\none\r\n--b\r\ntwo", b"b");
        assert_eq!(m.parts, vec![&b"one"[..], &b"two"[..]]);
        let m = split_multipart(b"x\r\n--bb\r\n--b--\r\ntail", b"b");
        assert_eq!(m.preamble, b"x\r\n--bb");
        assert!(m.parts.is_empty());
        assert_eq!(m.epilogue, b"tail");
    }

    /// The search for "CRLF--boundary" finds what a line-by-line walk finds.
    #[test]
    fn split_finds_delimiters_where_lines_start() {
        let body = b"--b\r\n--b\r\nx--b\r\n--bc\r\n--b \t\r\n\r\n--b--x\r\n--b--\r\nepi";
        let m = split_multipart(body, b"b");
        assert_eq!(m.preamble, b"");
        assert_eq!(
            m.parts,
            vec![&b""[..], &b"x--b\r\n--bc"[..], &b"\r\n--b--x"[..]]
        );
        assert_eq!(m.epilogue, b"epi");
        let m = split_multipart(b"--b--", b"b");
        assert!(m.parts.is_empty());
        let m = split_multipart(b"a\r\n--b", b"b");
        assert_eq!((m.preamble, m.parts), (&b"a"[..], vec![&b""[..]]));
    }

    #[test]
    fn line_scans() {
        assert!(is_7bit_clean(b"abc\r\ndef"));
        assert!(is_7bit_clean(b""));
        assert!(!is_7bit_clean(b"abc\ndef"));
        assert!(!is_7bit_clean(b"\n"));
        assert!(!is_7bit_clean(b"abc\rdef"));
        assert!(!is_7bit_clean(b"abc\r"));
        assert!(!is_7bit_clean(b"ab\0c"));
        assert!(!is_7bit_clean("caf\u{e9}".as_bytes()));
        assert!(!is_7bit_clean(b"\r\r\n"));
        assert!(is_7bit_clean(&[b'a'; 998]));
        assert!(!is_7bit_clean(&[b'a'; 999]));
        assert!(is_7bit_clean(b"From me \r\n"));
        assert!(!is_7bit_safe(b"From me\r\n"));
        assert!(!is_7bit_safe(b"ok\r\ntrailing \r\n"));
        assert!(!is_7bit_safe(b"ok\r\ntrailing\t"));
        assert!(is_7bit_safe(b"ok\r\n From\r\n"));
    }

    #[test]
    fn too_deep_is_refused() {
        let mut e = Vec::new();
        for i in 0..=MAX_MIME_DEPTH + 1 {
            e.extend_from_slice(
                format!("Content-Type: multipart/mixed; boundary=b{i}\r\n\r\n--b{i}\r\n")
                    .as_bytes(),
            );
        }
        let (h, at) = Header::parse(&e).unwrap();
        let mut out = Vec::new();
        assert!(matches!(
            prepare_entity(&h, &e[at..], "text/plain", 0, "", &mut out),
            Err(ParseError::TooDeep { .. })
        ));
    }
}

//! A minimal BER/DER walker: just enough to find our way through a ContentInfo without
//! re-encoding anything. It hands out the exact bytes of each element (what a signature
//! covers), accepts the indefinite lengths and segmented OCTET STRINGs that streaming encoders
//! (OpenSSL's `-stream`) write, and never recurses deeper than [`MAX_NESTING`].

pub(super) use crate::limits::MAX_NESTING;

/// Why the bytes are not a well-formed TLV.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum TlvError {
    /// The input ends inside an element.
    Truncated,
    /// A length form that is not allowed (reserved, too long, indefinite on a primitive).
    BadLength,
    /// A high-tag-number identifier (CMS uses none).
    BadTag,
    /// Constructed elements nested deeper than [`MAX_NESTING`].
    TooDeep,
}

impl std::fmt::Display for TlvError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            TlvError::Truncated => "truncated ASN.1 element",
            TlvError::BadLength => "malformed ASN.1 length",
            TlvError::BadTag => "unsupported ASN.1 tag",
            TlvError::TooDeep => "ASN.1 elements nested too deeply",
        })
    }
}

/// One element: its identifier octet, its contents and its whole encoding.
#[derive(Debug, Clone, Copy)]
pub(super) struct Tlv<'a> {
    /// The identifier octet (class, constructed bit and tag number).
    pub(super) tag: u8,
    /// The contents octets (for an indefinite length: up to, not including, end-of-contents).
    pub(super) value: &'a [u8],
    /// The whole encoding: identifier, length, contents and end-of-contents if any.
    pub(super) raw: &'a [u8],
    /// True for the indefinite-length form (BER only).
    pub(super) indefinite: bool,
}

impl<'a> Tlv<'a> {
    /// True when the constructed bit is set.
    pub(super) fn constructed(&self) -> bool {
        self.tag & 0x20 != 0
    }

    /// The elements inside a constructed element, in order.
    pub(super) fn children(&self) -> Result<Vec<Tlv<'a>>, TlvError> {
        children(self.value, 0)
    }

    /// The bytes of an OCTET STRING (universal or implicitly tagged), joining the segments of
    /// the constructed form.
    pub(super) fn octets(&self) -> Result<Vec<u8>, TlvError> {
        let mut out = Vec::with_capacity(self.value.len());
        collect_octets(self, &mut out, 0)?;
        Ok(out)
    }
}

fn collect_octets(t: &Tlv<'_>, out: &mut Vec<u8>, depth: usize) -> Result<(), TlvError> {
    if !t.constructed() {
        out.extend_from_slice(t.value);
        return Ok(());
    }
    if depth >= MAX_NESTING {
        return Err(TlvError::TooDeep);
    }
    for seg in children(t.value, depth + 1)? {
        // Segments are OCTET STRINGs, primitive (0x04) or constructed (0x24).
        if seg.tag & !0x20 != 0x04 {
            return Err(TlvError::BadTag);
        }
        collect_octets(&seg, out, depth + 1)?;
    }
    Ok(())
}

/// Joins `value` read as the contents of a constructed OCTET STRING (BER, X.690 8.7.3.2): a
/// series of primitive or constructed OCTET STRING segments, end-of-contents octets between
/// them tolerated. `None` when it is not that (a primitive string's contents, as a MIME entity
/// always is: it starts with a header field, never with the byte 0x04), or holds no segment.
pub(super) fn join_segments(value: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(value.len());
    let mut segments = 0usize;
    for seg in children(value, 0).ok()? {
        if seg.tag == 0 && seg.value.is_empty() {
            continue;
        }
        if seg.tag & !0x20 != 0x04 {
            return None;
        }
        collect_octets(&seg, &mut out, 0).ok()?;
        segments += 1;
    }
    (segments > 0).then_some(out)
}

/// Reads exactly one element that fills `input`.
pub(super) fn parse_whole(input: &[u8]) -> Result<Tlv<'_>, TlvError> {
    let (t, rest) = parse_one(input, 0)?;
    // Trailing zero bytes after the element are tolerated (padding some tools add); anything
    // else is not one element.
    if rest.iter().any(|&b| b != 0) {
        return Err(TlvError::BadLength);
    }
    Ok(t)
}

fn children(mut value: &[u8], depth: usize) -> Result<Vec<Tlv<'_>>, TlvError> {
    let mut out = Vec::new();
    while !value.is_empty() {
        let (t, rest) = parse_one(value, depth)?;
        out.push(t);
        value = rest;
    }
    Ok(out)
}

/// Parses the element at the start of `input`; returns it and what follows.
fn parse_one(input: &[u8], depth: usize) -> Result<(Tlv<'_>, &[u8]), TlvError> {
    if depth > MAX_NESTING {
        return Err(TlvError::TooDeep);
    }
    let (&tag, after_tag) = input.split_first().ok_or(TlvError::Truncated)?;
    if tag & 0x1f == 0x1f {
        return Err(TlvError::BadTag);
    }
    let (&first, mut after_len) = after_tag.split_first().ok_or(TlvError::Truncated)?;
    let len = match first {
        0..=0x7f => Some(usize::from(first)),
        0x80 => None,
        0x81..=0x84 => {
            let n = usize::from(first & 0x7f);
            let bytes = after_len.get(..n).ok_or(TlvError::Truncated)?;
            after_len = after_len.get(n..).ok_or(TlvError::Truncated)?;
            Some(
                bytes
                    .iter()
                    .fold(0usize, |acc, &b| (acc << 8) | usize::from(b)),
            )
        }
        _ => return Err(TlvError::BadLength),
    };
    let header_len = input.len() - after_len.len();
    let (value, end, indefinite) = match len {
        Some(n) => {
            let value = after_len.get(..n).ok_or(TlvError::Truncated)?;
            let end = header_len.checked_add(n).ok_or(TlvError::BadLength)?;
            (value, end, false)
        }
        None => {
            if tag & 0x20 == 0 {
                return Err(TlvError::BadLength);
            }
            // Walk the children until end-of-contents (00 00).
            let mut rest = after_len;
            loop {
                if rest.starts_with(&[0, 0]) {
                    break;
                }
                if rest.is_empty() {
                    return Err(TlvError::Truncated);
                }
                let (_, r) = parse_one(rest, depth + 1)?;
                rest = r;
            }
            let value_len = after_len.len() - rest.len();
            let value = after_len.get(..value_len).ok_or(TlvError::Truncated)?;
            (value, header_len + value_len + 2, true)
        }
    };
    let raw = input.get(..end).ok_or(TlvError::Truncated)?;
    let rest = input.get(end..).ok_or(TlvError::Truncated)?;
    Ok((
        Tlv {
            tag,
            value,
            raw,
            indefinite,
        },
        rest,
    ))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn definite_and_indefinite() {
        // SEQUENCE { INTEGER 1, [0] indefinite { OCTET STRING "ab" } }
        let der = [
            0x30, 0x0b, 0x02, 0x01, 0x01, 0xa0, 0x80, 0x04, 0x02, b'a', b'b', 0x00, 0x00,
        ];
        let t = parse_whole(&der).unwrap();
        let kids = t.children().unwrap();
        assert_eq!(kids.len(), 2);
        assert!(kids[1].indefinite);
        let inner = kids[1].children().unwrap();
        assert_eq!(inner[0].octets().unwrap(), b"ab");
    }

    #[test]
    fn segmented_octet_string() {
        // [0] constructed, indefinite { 04 01 'a', 24 80 { 04 01 'b' } 00 00 } 00 00
        let ber = [
            0xa0, 0x80, 0x04, 0x01, b'a', 0x24, 0x80, 0x04, 0x01, b'b', 0x00, 0x00, 0x00, 0x00,
        ];
        let t = parse_whole(&ber).unwrap();
        assert_eq!(t.octets().unwrap(), b"ab");
    }

    #[test]
    fn malformed_inputs_are_errors() {
        assert_eq!(parse_whole(&[]).unwrap_err(), TlvError::Truncated);
        assert_eq!(
            parse_whole(&[0x30, 0x05, 0x01]).unwrap_err(),
            TlvError::Truncated
        );
        assert_eq!(
            parse_whole(&[0x04, 0x80, 0, 0]).unwrap_err(),
            TlvError::BadLength
        );
        assert_eq!(
            parse_whole(&[0x1f, 0x01, 0x00]).unwrap_err(),
            TlvError::BadTag
        );
        assert_eq!(
            parse_whole(&[0x30, 0x85, 0, 0, 0, 0, 0]).unwrap_err(),
            TlvError::BadLength
        );
        assert_eq!(
            parse_whole(&[0x30, 0x80, 0x04, 0x00]).unwrap_err(),
            TlvError::Truncated
        );
        let deep: Vec<u8> = std::iter::repeat_n([0x30u8, 0x80], 100).flatten().collect();
        assert_eq!(parse_whole(&deep).unwrap_err(), TlvError::TooDeep);
    }

    #[test]
    fn join_segments_reads_ber_strings() {
        assert_eq!(
            join_segments(&[0x04, 0x02, b'a', b'b', 0x04, 0x01, b'c', 0, 0]),
            Some(b"abc".to_vec())
        );
        assert_eq!(
            join_segments(&[0x24, 0x80, 0x04, 0x01, b'x', 0, 0, 0x04, 0x01, b'y']),
            Some(b"xy".to_vec())
        );
        assert_eq!(
            join_segments(&[0x24, 0x03, 0x04, 0x01, b'x', 0x04, 0x00]),
            Some(b"x".to_vec())
        );
        assert_eq!(join_segments(b"Content-Type: text/plain\r\n"), None);
        assert_eq!(join_segments(&[0x04, 0x05, b'a']), None);
        assert_eq!(join_segments(&[0x04, 0x85, 1, 2, 3, 4, 5]), None);
        assert_eq!(join_segments(&[0x04, 0x01, b'a', 0x02, 0x01, 0x01]), None);
        assert_eq!(join_segments(&[]), None);
        assert_eq!(join_segments(&[0, 0]), None);
        // Nesting without end is refused, not followed down the stack.
        let deep: Vec<u8> = [0x24, 0x80].repeat(1_000_000);
        assert_eq!(join_segments(&deep), None);
    }
}

//! BER to DER, for PKCS#12 files: Windows and macOS export them with indefinite lengths and
//! segmented (constructed) OCTET STRINGs, which `der` refuses. [`to_der`] rewrites one element
//! with definite, minimal lengths and joined strings; DER input comes back unchanged. What a
//! primitive element holds (an OCTET STRING's contents) is copied as it is, never re-encoded:
//! the MAC and the certificates' signatures cover those bytes. [`next`] then walks the DER.
//!
//! The output may hold a decrypted key (a PKCS#12 keyBag): it is `Zeroizing` and sized up front.

use zeroize::Zeroizing;

use crate::limits::MAX_NESTING;

/// Why the bytes are not one BER element.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BerProblem {
    /// The input ends inside an element.
    Truncated,
    /// Not BER (bad length or tag form, nesting deeper than [`MAX_NESTING`], trailing bytes).
    Malformed(&'static str),
}

/// The element at the start of `data` as DER. Zero bytes after it are tolerated (padding some
/// tools add); anything else is not one element.
pub(crate) fn to_der(data: &[u8]) -> Result<Zeroizing<Vec<u8>>, BerProblem> {
    // DER is at most a few bytes per element longer than BER (a long definite length for an
    // indefinite one): room for that, so the buffer never moves and leaves no copy behind.
    let mut out = Zeroizing::new(Vec::with_capacity(data.len() + data.len() / 64 + 64));
    let used = element(data, 0, &mut out)?;
    if data[used..].iter().any(|&b| b != 0) {
        return Err(BerProblem::Malformed("bytes after the end of the data"));
    }
    Ok(out)
}

/// One DER element read by [`next`], and what follows it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Element<'a> {
    /// The identifier octet.
    pub(crate) tag: u8,
    /// The contents octets.
    pub(crate) contents: &'a [u8],
    /// The whole element: identifier, length and contents.
    pub(crate) whole: &'a [u8],
    /// The bytes after it.
    pub(crate) rest: &'a [u8],
}

/// Reads the DER element at the start of `input`. `None` when there is none, or it is not DER
/// with a low tag number.
pub(crate) fn next(input: &[u8]) -> Option<Element<'_>> {
    let (tag, len, header) = header(input).ok()?;
    let end = header.checked_add(len?)?;
    let whole = input.get(..end)?;
    Some(Element {
        tag,
        contents: &whole[header..],
        whole,
        rest: &input[end..],
    })
}

/// The identifier octet, the length (`None`: indefinite) and the header's size.
fn header(input: &[u8]) -> Result<(u8, Option<usize>, usize), BerProblem> {
    let (&tag, rest) = input.split_first().ok_or(BerProblem::Truncated)?;
    if tag & 0x1f == 0x1f {
        return Err(BerProblem::Malformed(
            "high tag numbers are not used in PKCS#12",
        ));
    }
    let &first = rest.first().ok_or(BerProblem::Truncated)?;
    match first {
        0..=0x7f => Ok((tag, Some(usize::from(first)), 2)),
        0x80 if tag & 0x20 != 0 => Ok((tag, None, 2)),
        0x81..=0x84 => {
            let n = usize::from(first & 0x7f);
            let bytes = rest.get(1..=n).ok_or(BerProblem::Truncated)?;
            let len = bytes
                .iter()
                .fold(0usize, |acc, &b| (acc << 8) | usize::from(b));
            Ok((tag, Some(len), 2 + n))
        }
        _ => Err(BerProblem::Malformed("bad length")),
    }
}

/// Appends the DER of the element at the start of `input` to `out`; returns the bytes read.
fn element(input: &[u8], depth: usize, out: &mut Vec<u8>) -> Result<usize, BerProblem> {
    let (tag, len, header_len) = header(input)?;
    let end = match len {
        Some(len) => {
            let end = header_len.checked_add(len).ok_or(BerProblem::Truncated)?;
            if end > input.len() {
                return Err(BerProblem::Truncated);
            }
            end
        }
        None => input.len(),
    };
    if tag & 0x20 == 0 {
        out.push(tag);
        push_len(out, end - header_len);
        out.extend_from_slice(&input[header_len..end]);
        return Ok(end);
    }
    if depth >= MAX_NESTING {
        return Err(BerProblem::Malformed("nested too deeply"));
    }
    // A segmented OCTET STRING (0x24) becomes one primitive string of its segments' contents.
    let joining = tag == 0x24;
    out.push(if joining { 0x04 } else { tag });
    let start = out.len();
    let mut pos = header_len;
    loop {
        if len.is_some() && pos == end {
            break;
        }
        if len.is_none() && input[pos..].starts_with(&[0, 0]) {
            pos += 2;
            break;
        }
        let child = out.len();
        pos += element(&input[pos..end], depth + 1, out)?;
        if joining {
            if out[child] != 0x04 {
                return Err(BerProblem::Malformed(
                    "a string segment that is not an OCTET STRING",
                ));
            }
            let (_, _, child_header) = header(&out[child..])?;
            out.drain(child..child + child_header);
        }
    }
    let mut len_bytes = Vec::with_capacity(5);
    push_len(&mut len_bytes, out.len() - start);
    out.splice(start..start, len_bytes);
    Ok(pos)
}

/// Appends a DER length (short form, or the fewest long-form bytes).
pub(crate) fn push_len(out: &mut Vec<u8>, len: usize) {
    if len < 0x80 {
        out.push(len as u8);
        return;
    }
    let bytes = len.to_be_bytes();
    let skip = bytes.iter().take_while(|&&b| b == 0).count();
    out.push(0x80 | (bytes.len() - skip) as u8);
    out.extend_from_slice(&bytes[skip..]);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn der(data: &[u8]) -> Result<Vec<u8>, BerProblem> {
        to_der(data).map(|d| d.to_vec())
    }

    #[test]
    fn der_is_unchanged_and_ber_is_rewritten() {
        let plain = [0x30, 0x06, 0x02, 0x01, 0x03, 0x04, 0x01, b'a'];
        assert_eq!(der(&plain), Ok(plain.to_vec()));
        // SEQUENCE (indefinite) { [0] (indefinite) { OCTET STRING segmented "ab" "c" } }
        let ber = [
            0x30, 0x80, 0xa0, 0x80, 0x24, 0x80, 0x04, 0x02, b'a', b'b', 0x24, 0x03, 0x04, 0x01,
            b'c', 0, 0, 0, 0, 0, 0,
        ];
        let want = [0x30, 0x07, 0xa0, 0x05, 0x04, 0x03, b'a', b'b', b'c'];
        assert_eq!(der(&ber), Ok(want.to_vec()));
        // A non-minimal long length becomes minimal; a long string keeps its long form.
        assert_eq!(der(&[0x04, 0x81, 0x01, b'x']), Ok(vec![0x04, 0x01, b'x']));
        let mut long = vec![0x04, 0x82, 0x01, 0x00];
        long.extend([7u8; 256]);
        assert_eq!(der(&long), Ok(long.clone()));
        let Some(e) = next(&long) else {
            panic!("not DER")
        };
        assert_eq!(
            (e.tag, e.contents.len(), e.whole.len(), e.rest.len()),
            (4, 256, 260, 0)
        );
    }

    #[test]
    fn bad_input_is_refused_without_panic() {
        assert_eq!(der(&[]), Err(BerProblem::Truncated));
        assert_eq!(der(&[0x30, 0x05, 0x02]), Err(BerProblem::Truncated));
        assert_eq!(
            der(&[0x30, 0x80, 0x02, 0x01, 0x03]),
            Err(BerProblem::Truncated)
        );
        assert!(matches!(
            der(&[0x04, 0x80, 0, 0]),
            Err(BerProblem::Malformed(_))
        ));
        assert!(matches!(
            der(&[0x1f, 0x01, 0x00]),
            Err(BerProblem::Malformed(_))
        ));
        assert!(matches!(
            der(&[0x24, 0x03, 0x02, 0x01, 0x00]),
            Err(BerProblem::Malformed(_))
        ));
        assert!(matches!(
            der(&[0x04, 0x00, 0x01]),
            Err(BerProblem::Malformed(_))
        ));
        assert_eq!(der(&[0x04, 0x00, 0x00]), Ok(vec![0x04, 0x00]));
        let deep: Vec<u8> = [0x30, 0x80].repeat(10_000);
        assert!(matches!(der(&deep), Err(BerProblem::Malformed(_))));
        assert!(next(&[0x30, 0x80, 0, 0]).is_none());
        assert!(next(&[0x30, 0x02, 0x05]).is_none());
    }
}

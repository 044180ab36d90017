//! Content-transfer encodings: base64 in wrapped lines and quoted-printable, both producing
//! CRLF line breaks and lines of at most 76 characters (RFC 2045).

use base64ct::{Base64, Encoding};

/// Longest encoded line we emit, excluding the CRLF (RFC 2045 §6.7, §6.8).
pub(crate) const MAX_ENCODED_LINE: usize = 76;

/// Appends `data` as base64 in lines of 76 characters, each ending in CRLF.
pub(crate) fn base64_lines(data: &[u8], out: &mut Vec<u8>) {
    // 57 input bytes make exactly 76 output characters.
    const CHUNK: usize = MAX_ENCODED_LINE / 4 * 3;
    out.reserve(data.len() / CHUNK * (MAX_ENCODED_LINE + 2) + MAX_ENCODED_LINE + 2);
    let mut buf = [0u8; MAX_ENCODED_LINE];
    for chunk in data.chunks(CHUNK) {
        // The buffer is always large enough for one chunk, so encoding cannot fail.
        if let Ok(line) = Base64::encode(chunk, &mut buf) {
            out.extend_from_slice(line.as_bytes());
            out.extend_from_slice(b"\r\n");
        }
    }
}

/// Decodes base64 leniently: characters outside the alphabet (line breaks, white space) are
/// skipped, decoding stops at the first `=`. Returns `None` for an impossible length.
pub(crate) fn base64_decode_lenient(data: &[u8]) -> Option<Vec<u8>> {
    let clean: Vec<u8> = data
        .iter()
        .copied()
        .take_while(|&b| b != b'=')
        .filter(|b| b.is_ascii_alphanumeric() || *b == b'+' || *b == b'/')
        .collect();
    // Re-pad so the strict decoder accepts it.
    let mut padded = clean;
    match padded.len() % 4 {
        0 => {}
        1 => return None,
        r => padded.extend(std::iter::repeat_n(b'=', 4 - r)),
    }
    Base64::decode_vec(std::str::from_utf8(&padded).ok()?).ok()
}

/// Decodes quoted-printable leniently (RFC 2045 §6.7): soft breaks removed, `=XX` decoded,
/// malformed escapes kept literally, line breaks returned as CRLF.
pub(crate) fn qp_decode_lenient(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len());
    for (line, had_break) in split_lines(data) {
        // Trailing white space on an encoded line is padding added in transit (§6.7 rule 3).
        let line = trim_end_wsp(line);
        let mut i = 0;
        let mut soft = false;
        while i < line.len() {
            let b = line[i];
            if b == b'=' {
                if i + 1 == line.len() {
                    soft = true;
                    break;
                }
                if let (Some(h), Some(l)) = (
                    line.get(i + 1).and_then(|c| hex_val(*c)),
                    line.get(i + 2).and_then(|c| hex_val(*c)),
                ) {
                    out.push(h << 4 | l);
                    i += 3;
                    continue;
                }
            }
            out.push(b);
            i += 1;
        }
        if had_break && !soft {
            out.extend_from_slice(b"\r\n");
        }
    }
    out
}

fn hex_val(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'A'..=b'F' => Some(c - b'A' + 10),
        b'a'..=b'f' => Some(c - b'a' + 10),
        _ => None,
    }
}

fn trim_end_wsp(mut line: &[u8]) -> &[u8] {
    while let [rest @ .., b' ' | b'\t'] = line {
        line = rest;
    }
    line
}

/// Splits text into lines at CRLF or bare LF; yields each line without its break and whether a
/// break followed it (the last line may have none).
pub(crate) fn split_lines(data: &[u8]) -> impl Iterator<Item = (&[u8], bool)> {
    let mut rest = Some(data);
    std::iter::from_fn(move || {
        let data = rest?;
        match data.iter().position(|&b| b == b'\n') {
            Some(pos) => {
                let line = &data[..pos];
                let line = line.strip_suffix(b"\r").unwrap_or(line);
                let tail = &data[pos + 1..];
                rest = if tail.is_empty() { None } else { Some(tail) };
                Some((line, true))
            }
            None => {
                rest = None;
                Some((data, false))
            }
        }
    })
}

const HEX: &[u8; 16] = b"0123456789ABCDEF";

/// Encodes text as quoted-printable. Line breaks in the input (CRLF or bare LF) become hard
/// CRLF breaks; every other byte that is not printable ASCII, `=`, white space before a line
/// break, and the `F` of a line starting with `From ` are escaped, so the result survives
/// relays that strip trailing white space or quote `From ` lines. Lines are at most 76
/// characters, with soft breaks where needed.
pub(crate) fn qp_encode_text(data: &[u8], out: &mut Vec<u8>) {
    out.reserve(data.len() + data.len() / 8);
    for (line, had_break) in split_lines(data) {
        qp_encode_line(line, out);
        if had_break {
            out.extend_from_slice(b"\r\n");
        }
    }
}

fn qp_encode_line(line: &[u8], out: &mut Vec<u8>) {
    let mut col = 0usize;
    let last = line.len().saturating_sub(1);
    for (i, &b) in line.iter().enumerate() {
        let escape = match b {
            b'=' => true,
            b' ' | b'\t' => i == last,
            b'F' => i == 0 && line.starts_with(b"From "),
            // A lone "." line is safe with SMTP dot-stuffing, but some agents mangle it.
            b'.' => i == 0 && line.len() == 1,
            33..=126 => false,
            _ => true,
        };
        let width = if escape { 3 } else { 1 };
        // Keep room for the soft break "=" unless this is the line's final character.
        let limit = if i == last {
            MAX_ENCODED_LINE
        } else {
            MAX_ENCODED_LINE - 1
        };
        if col + width > limit {
            out.extend_from_slice(b"=\r\n");
            col = 0;
        }
        if escape {
            out.extend_from_slice(&[b'=', HEX[usize::from(b >> 4)], HEX[usize::from(b & 15)]]);
        } else {
            out.push(b);
        }
        col += width;
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn qp(s: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        qp_encode_text(s, &mut out);
        out
    }

    #[test]
    fn qp_round_trips_and_protects() {
        let cases: &[&[u8]] = &[
            b"plain line\r\nnext",
            b"trailing space \r\ntrailing tab\t\r\n",
            b"From the start\r\nFrom\r\nFromage\r\n",
            b".\r\n..\r\n.dot\r\n",
            "caf\u{e9} \u{1F600} = sign\r\n".as_bytes(),
            &[b'x'; 1200],
            b"bare\nlf\n",
            b"=\r\n=3D\r\n",
        ];
        for case in cases {
            let enc = qp(case);
            for (line, _) in split_lines(&enc) {
                assert!(
                    line.len() <= MAX_ENCODED_LINE,
                    "{:?}",
                    String::from_utf8_lossy(line)
                );
                assert!(line.iter().all(|b| b.is_ascii() && *b != 0));
                assert!(!line.ends_with(b" ") && !line.ends_with(b"\t"));
                assert!(!line.starts_with(b"From "));
            }
            let canonical: Vec<u8> = {
                let mut v = Vec::new();
                for (l, br) in split_lines(case) {
                    v.extend_from_slice(l);
                    if br {
                        v.extend_from_slice(b"\r\n");
                    }
                }
                v
            };
            assert_eq!(qp_decode_lenient(&enc), canonical);
        }
    }

    #[test]
    fn qp_line_of_exactly_76() {
        let line = [b'a'; 76];
        assert_eq!(qp(&line), line.to_vec());
        let line = [b'a'; 77];
        let enc = qp(&line);
        assert!(enc.starts_with(&[b'a'; 75]));
        assert_eq!(qp_decode_lenient(&enc), line.to_vec());
    }

    #[test]
    fn base64_lines_are_76_and_round_trip() {
        let data: Vec<u8> = (0..=255u8).cycle().take(1000).collect();
        let mut out = Vec::new();
        base64_lines(&data, &mut out);
        for (line, br) in split_lines(&out) {
            assert!(br);
            assert!(line.len() <= 76);
        }
        assert_eq!(base64_decode_lenient(&out).unwrap(), data);
        let mut empty = Vec::new();
        base64_lines(b"", &mut empty);
        assert!(empty.is_empty());
    }
}

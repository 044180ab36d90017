//! Content-transfer encodings: base64 in wrapped lines and quoted-printable, both producing
//! CRLF line breaks and lines of at most 76 characters (RFC 2045).

use base64ct::{Base64, Encoding};

use crate::limits::MAX_ENCODED_LINE;

/// Input bytes that make one full line of base64 (76 characters).
const LINE_INPUT: usize = MAX_ENCODED_LINE / 4 * 3;

/// Appends `data` as base64 in lines of 76 characters, each ending in CRLF.
pub(crate) fn base64_lines(data: &[u8], out: &mut Vec<u8>) {
    let mut writer = Base64Lines::new(out, data.len());
    writer.write(data);
    writer.finish();
}

/// Base64 in lines of 76 characters, each ending in CRLF, written from pieces: what a DER
/// structure split around its large content (see `cms_build`) needs, so that the content is
/// never copied into one contiguous buffer first. The output equals [`base64_lines`] of the
/// pieces joined.
///
/// Whole lines go through `base64-simd`, partial ones through a lookup table; neither is
/// meant to be constant-time: fine for message content (OpenSSL's encoder is not either), not
/// for secret keys, which are never encoded here.
pub(crate) struct Base64Lines<'a> {
    out: &'a mut Vec<u8>,
    carry: [u8; LINE_INPUT],
    carry_len: usize,
}

impl<'a> Base64Lines<'a> {
    /// A writer appending to `out`, reserving room for `total` input bytes.
    pub(crate) fn new(out: &'a mut Vec<u8>, total: usize) -> Self {
        out.reserve(base64_lines_len(total));
        Base64Lines {
            out,
            carry: [0; LINE_INPUT],
            carry_len: 0,
        }
    }

    /// Encodes the next piece of input.
    pub(crate) fn write(&mut self, mut data: &[u8]) {
        if self.carry_len > 0 {
            let take = (LINE_INPUT - self.carry_len).min(data.len());
            let (head, rest) = data.split_at(take);
            self.carry[self.carry_len..self.carry_len + take].copy_from_slice(head);
            self.carry_len += take;
            data = rest;
            if self.carry_len < LINE_INPUT {
                return;
            }
            encode_line(&self.carry, self.out);
            self.carry_len = 0;
        }
        let full = data.len() - data.len() % LINE_INPUT;
        let (lines, rest) = data.split_at(full);
        encode_full_lines(lines, self.out);
        self.carry[..rest.len()].copy_from_slice(rest);
        self.carry_len = rest.len();
    }

    /// Encodes what is left (the last, short line).
    pub(crate) fn finish(self) {
        if self.carry_len > 0 {
            encode_line(&self.carry[..self.carry_len], self.out);
        }
    }
}

/// Length of [`base64_lines`]' output for `n` input bytes.
pub(crate) fn base64_lines_len(n: usize) -> usize {
    let lines = n.div_ceil(LINE_INPUT);
    n.div_ceil(3) * 4 + lines * 2
}

const BASE64_ALPHABET: &[u8; 64] =
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Every 12-bit value as its two base64 characters: one lookup per half of a 3-byte group.
static BASE64_PAIRS: [[u8; 2]; 4096] = {
    let mut table = [[0u8; 2]; 4096];
    let mut i = 0;
    while i < 4096 {
        table[i] = [BASE64_ALPHABET[i >> 6], BASE64_ALPHABET[i & 63]];
        i += 1;
    }
    table
};

/// Whole lines (`input` is a multiple of 57 bytes): encoded in one pass by `base64-simd`
/// (SIMD where the CPU has it, three to four times the table encoder's speed) into the end of
/// the room they take in `out`, then moved forward line by line to make room for each CRLF.
/// Moving forward is safe: line `i` is read from `start + 2k + 76i` and written to
/// `start + 78i`, which ends at or before where line `i + 1` is read from.
fn encode_full_lines(input: &[u8], out: &mut Vec<u8>) {
    debug_assert_eq!(input.len() % LINE_INPUT, 0);
    let lines = input.len() / LINE_INPUT;
    if lines == 0 {
        return;
    }
    let start = out.len();
    let encoded_at = start + 2 * lines;
    out.resize(start + lines * (MAX_ENCODED_LINE + 2), 0);
    let _encoded =
        base64_simd::STANDARD.encode(input, base64_simd::Out::from_slice(&mut out[encoded_at..]));
    for i in 0..lines {
        let from = encoded_at + i * MAX_ENCODED_LINE;
        let to = start + i * (MAX_ENCODED_LINE + 2);
        out.copy_within(from..from + MAX_ENCODED_LINE, to);
        out[to + MAX_ENCODED_LINE..to + MAX_ENCODED_LINE + 2].copy_from_slice(b"\r\n");
    }
}

/// One line: at most 57 input bytes, padded with `=`, then CRLF.
fn encode_line(input: &[u8], out: &mut Vec<u8>) {
    debug_assert!(input.len() <= LINE_INPUT);
    let mut line = [0u8; MAX_ENCODED_LINE + 2];
    let mut n = 0;
    let mut triples = input.chunks_exact(3);
    for (t, slot) in (&mut triples).zip(line.chunks_exact_mut(4)) {
        let v = usize::from(t[0]) << 16 | usize::from(t[1]) << 8 | usize::from(t[2]);
        let [a, b] = BASE64_PAIRS[v >> 12];
        let [c, d] = BASE64_PAIRS[v & 0xFFF];
        slot.copy_from_slice(&[a, b, c, d]);
        n += 4;
    }
    let tail = match *triples.remainder() {
        [a] => {
            let v = usize::from(a) << 4;
            let [x, y] = BASE64_PAIRS[v];
            Some([x, y, b'=', b'='])
        }
        [a, b] => {
            let v = usize::from(a) << 16 | usize::from(b) << 8;
            let [x, y] = BASE64_PAIRS[v >> 12];
            let [z, _] = BASE64_PAIRS[v & 0xFFF];
            Some([x, y, z, b'='])
        }
        _ => None,
    };
    if let Some(chars) = tail {
        line[n..n + 4].copy_from_slice(&chars);
        n += 4;
    }
    line[n..n + 2].copy_from_slice(b"\r\n");
    out.extend_from_slice(&line[..n + 2]);
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

    /// The table encoder matches the constant-time `base64ct` line by line, for every length
    /// around the line and triple boundaries, and however the input is split into pieces.
    #[test]
    fn base64_matches_base64ct_for_any_split() {
        let data: Vec<u8> = (0..6000u32)
            .map(|i| (i * 151 + 7 + i / 256) as u8)
            .collect();
        // Up to 200 bytes one by one, then the SIMD path's block sizes: many whole lines with
        // and without a short last line.
        for len in (0..=200).chain([227, 228, 229, 399, 400, 5699, 5700, 5701, 5757, 6000]) {
            let input = &data[..len];
            let mut expected = Vec::new();
            for chunk in input.chunks(LINE_INPUT) {
                expected.extend_from_slice(Base64::encode_string(chunk).as_bytes());
                expected.extend_from_slice(b"\r\n");
            }
            let mut whole = Vec::new();
            base64_lines(input, &mut whole);
            assert_eq!(whole, expected, "length {len}");
            assert_eq!(whole.len(), base64_lines_len(len));
            for (a, b) in [(1, 2), (56, 57), (57, 58), (3, 100), (0, 0), (100, 3000)] {
                let (a, b) = (a.min(len), b.min(len));
                let mut pieces = Vec::new();
                let mut w = Base64Lines::new(&mut pieces, len);
                w.write(&input[..a]);
                w.write(&input[a..b]);
                w.write(&input[b..]);
                w.finish();
                assert_eq!(pieces, expected, "length {len} split at {a}, {b}");
            }
        }
    }
}

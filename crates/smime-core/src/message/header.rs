//! Header sections: splitting raw bytes into fields (kept byte for byte, folding included) and
//! reading the few structured values we need (media type, parameters, transfer encoding).

use crate::limits::{MAX_FIELD_SIZE, MAX_HEADER_SIZE};

/// One header field exactly as it appeared, including folding and the final CRLF.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Field {
    /// The field's raw bytes, continuation lines included, ending in CRLF.
    pub(crate) raw: Vec<u8>,
    /// Length of the field name (the bytes before the colon).
    name_len: usize,
}

impl Field {
    /// A new field from a name and an unfolded value.
    pub(crate) fn new(name: &str, value: &str) -> Self {
        let raw = format!("{name}: {value}\r\n").into_bytes();
        Field {
            raw,
            name_len: name.len(),
        }
    }

    /// The field name as written.
    pub(crate) fn name(&self) -> &[u8] {
        &self.raw[..self.name_len]
    }

    /// True when the name equals `name`, ignoring ASCII case.
    pub(crate) fn is(&self, name: &str) -> bool {
        self.name()
            .trim_ascii_end()
            .eq_ignore_ascii_case(name.as_bytes())
    }

    /// The value: everything after the colon, unfolded (CRLF before white space removed),
    /// trimmed.
    pub(crate) fn value(&self) -> Vec<u8> {
        let v = &self.raw[self.name_len + 1..];
        let mut out = Vec::with_capacity(v.len());
        let mut i = 0;
        while i < v.len() {
            if v[i] == b'\r' && v.get(i + 1) == Some(&b'\n') {
                i += 2;
                continue;
            }
            out.push(v[i]);
            i += 1;
        }
        out.trim_ascii().to_vec()
    }
}

/// A parsed header section.
#[derive(Clone, Debug, Default)]
pub(crate) struct Header {
    pub(crate) fields: Vec<Field>,
}

/// Why a header section could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum HeaderProblem {
    /// The line (1-based) is neither a field nor a continuation.
    NotAField { line: usize },
}

impl Header {
    /// Splits `data` (CRLF line endings) into its header section and the offset of the body
    /// (just past the empty line; `data.len()` when there is no body). A leading mbox `From `
    /// line is skipped.
    pub(crate) fn parse(data: &[u8]) -> Result<(Header, usize), HeaderProblem> {
        let mut fields: Vec<Field> = Vec::new();
        let mut pos = 0;
        let mut line_no = 0;
        while pos < data.len() {
            let end = match memchr_crlf(&data[pos..]) {
                Some(i) => pos + i + 2,
                None => data.len(),
            };
            let line = &data[pos..end];
            line_no += 1;
            if line == b"\r\n" {
                return Ok((Header { fields }, end));
            }
            if line_no == 1 && line.starts_with(b"From ") {
                pos = end;
                continue;
            }
            if matches!(line.first(), Some(b' ' | b'\t')) {
                match fields.last_mut() {
                    Some(last) => last.raw.extend_from_slice(line),
                    None => return Err(HeaderProblem::NotAField { line: line_no }),
                }
            } else {
                let colon = line
                    .iter()
                    .position(|&b| b == b':')
                    .ok_or(HeaderProblem::NotAField { line: line_no })?;
                let name = &line[..colon];
                // RFC 5322 §3.6.8: printable US-ASCII except colon; allow trailing WSP (obsolete).
                if name.trim_ascii_end().is_empty()
                    || !name.trim_ascii_end().iter().all(|b| (33..=126).contains(b))
                {
                    return Err(HeaderProblem::NotAField { line: line_no });
                }
                let mut raw = line.to_vec();
                if !raw.ends_with(b"\r\n") {
                    raw.extend_from_slice(b"\r\n");
                }
                fields.push(Field {
                    raw,
                    name_len: colon,
                });
            }
            pos = end;
        }
        // A header with no body at all.
        if let Some(last) = fields.last_mut()
            && !last.raw.ends_with(b"\r\n")
        {
            last.raw.extend_from_slice(b"\r\n");
        }
        Ok((Header { fields }, data.len()))
    }

    /// The first field called `name`, if any.
    pub(crate) fn get(&self, name: &str) -> Option<&Field> {
        self.fields.iter().find(|f| f.is(name))
    }

    /// Appends every field's raw bytes.
    pub(crate) fn write(&self, out: &mut Vec<u8>) {
        for f in &self.fields {
            out.extend_from_slice(&f.raw);
        }
    }

    /// The Content-Type, or the default given (RFC 2045 §5.2).
    pub(crate) fn content_type(&self, default: &str) -> ContentType {
        self.get("Content-Type")
            .map(|f| ContentType::parse(&f.value()))
            .filter(|ct| ct.is_valid())
            .unwrap_or_else(|| ContentType::parse(default.as_bytes()))
    }

    /// The Content-Transfer-Encoding, lowercased (default `7bit`).
    pub(crate) fn transfer_encoding(&self) -> String {
        self.get("Content-Transfer-Encoding")
            .map(|f| String::from_utf8_lossy(&f.value()).to_ascii_lowercase())
            .unwrap_or_else(|| "7bit".to_owned())
    }

    /// Sets Content-Transfer-Encoding, replacing the field in place or appending it.
    pub(crate) fn set_transfer_encoding(&mut self, value: &str) {
        let field = Field::new("Content-Transfer-Encoding", value);
        match self
            .fields
            .iter_mut()
            .find(|f| f.is("Content-Transfer-Encoding"))
        {
            Some(existing) => *existing = field,
            None => self.fields.push(field),
        }
    }
}

/// Why a header section is refused before it is parsed ([`check_limits`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum LimitProblem {
    /// No empty line within [`MAX_HEADER_SIZE`] bytes.
    SectionTooLarge,
    /// One field is over [`MAX_FIELD_SIZE`] bytes.
    FieldTooLarge { name: String },
    /// A field holds a NUL byte (RFC 5322 forbids it; C-based relays cut the line there).
    Nul { name: String },
}

/// Checks the header section at the start of `data` (CRLF line endings) against
/// [`MAX_HEADER_SIZE`] and [`MAX_FIELD_SIZE`], and for NUL bytes, before it is parsed. The work
/// is bounded by the limits, not by the input: a field is never searched for its end further
/// than [`MAX_FIELD_SIZE`] bytes. Lines that are not header fields are left for
/// [`Header::parse`] to report.
pub(crate) fn check_limits(data: &[u8]) -> Result<(), LimitProblem> {
    /// Name length that marks a leading mbox `From ` line.
    const MBOX: usize = usize::MAX;
    let name = |(start, len): (usize, usize)| {
        if len == MBOX {
            return "mbox \"From \" line".to_owned();
        }
        let mut name =
            String::from_utf8_lossy(data[start..start + len.min(64)].trim_ascii()).into_owned();
        if len > 64 {
            name.push_str("...");
        }
        name
    };
    let mut pos = 0;
    // The current field: where it starts and the length of its name.
    let mut field: Option<(usize, usize)> = None;
    while pos < data.len() {
        let continuation = matches!(data[pos], b' ' | b'\t');
        let field_start = match field {
            Some((start, _)) if continuation => start,
            _ => pos,
        };
        // Search for the end of the line no further than the field may reach.
        let window_end = data.len().min(field_start + MAX_FIELD_SIZE + 2);
        let end = memchr_crlf(&data[pos..window_end]).map(|i| pos + i + 2);
        let line = &data[pos..end.unwrap_or(window_end)];
        if line == b"\r\n" {
            return Ok(());
        }
        if !continuation {
            if pos == 0 && line.starts_with(b"From ") {
                field = Some((pos, MBOX));
            } else {
                let name = line
                    .iter()
                    .position(|&b| b == b':')
                    .map(|colon| (colon, line[..colon].trim_ascii_end()))
                    .filter(|(_, n)| !n.is_empty() && n.iter().all(|b| (33..=126).contains(b)));
                let Some((colon, _)) = name else {
                    return Ok(()); // not a field: Header::parse says so
                };
                field = Some((pos, colon));
            }
        }
        if let Some(f) = field {
            if end.unwrap_or(window_end) - f.0 > MAX_FIELD_SIZE {
                return Err(LimitProblem::FieldTooLarge { name: name(f) });
            }
            if line.contains(&0) {
                return Err(LimitProblem::Nul { name: name(f) });
            }
        }
        let reach = end.unwrap_or(window_end);
        if reach > MAX_HEADER_SIZE {
            return Err(LimitProblem::SectionTooLarge);
        }
        match end {
            Some(end) => pos = end,
            None => return Ok(()), // the last line, or one Header::parse refuses
        }
    }
    Ok(())
}

/// Position of the first CRLF in `data`.
pub(crate) fn memchr_crlf(data: &[u8]) -> Option<usize> {
    let mut from = 0;
    while let Some(i) = data[from..].iter().position(|&b| b == b'\n') {
        let at = from + i;
        if at > 0 && data[at - 1] == b'\r' {
            return Some(at - 1);
        }
        from = at + 1;
    }
    None
}

/// A media type with its parameters (RFC 2045 §5.1), names lowercased.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ContentType {
    pub(crate) mtype: String,
    pub(crate) subtype: String,
    pub(crate) params: Vec<(String, String)>,
}

impl ContentType {
    pub(crate) fn parse(value: &[u8]) -> ContentType {
        let s = String::from_utf8_lossy(value);
        let s = strip_comments(&s);
        let mut parts = split_params(&s).into_iter();
        let media = parts.next().unwrap_or_default();
        let (mtype, subtype) = media
            .split_once('/')
            .map(|(a, b)| (a.trim().to_ascii_lowercase(), b.trim().to_ascii_lowercase()))
            .unwrap_or_default();
        let params = parts
            .filter_map(|p| {
                let (k, v) = p.split_once('=')?;
                let v = v.trim();
                let v = match v.strip_prefix('"').and_then(|v| v.strip_suffix('"')) {
                    Some(q) => unquote(q),
                    None => v.to_owned(),
                };
                Some((k.trim().to_ascii_lowercase(), v))
            })
            .collect();
        ContentType {
            mtype,
            subtype,
            params,
        }
    }

    fn is_valid(&self) -> bool {
        !self.mtype.is_empty() && !self.subtype.is_empty()
    }

    pub(crate) fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    pub(crate) fn is(&self, mtype: &str, subtype: &str) -> bool {
        self.mtype == mtype && self.subtype == subtype
    }
}

/// Splits at `;` outside quoted strings.
fn split_params(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut escaped = false;
    for c in s.chars() {
        if escaped {
            cur.push(c);
            escaped = false;
            continue;
        }
        match c {
            '\\' if quoted => {
                cur.push(c);
                escaped = true;
            }
            '"' => {
                quoted = !quoted;
                cur.push(c);
            }
            ';' if !quoted => out.push(std::mem::take(&mut cur)),
            _ => cur.push(c),
        }
    }
    out.push(cur);
    // The first piece is the media type even when empty (`; multipart/mixed` has none, and
    // is invalid: RFC 2045 §5.2 reads it as text/plain, like other readers; found by the
    // `prepare` fuzz target). Empty parameters (`a/b;; c=d`) are skipped.
    out.into_iter()
        .map(|p| p.trim().to_owned())
        .enumerate()
        .filter(|(i, p)| *i == 0 || !p.is_empty())
        .map(|(_, p)| p)
        .collect()
}

fn unquote(q: &str) -> String {
    let mut out = String::with_capacity(q.len());
    let mut chars = q.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            if let Some(n) = chars.next() {
                out.push(n);
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Removes RFC 5322 comments `( ... )` outside quoted strings.
fn strip_comments(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut depth = 0u32;
    let mut quoted = false;
    let mut escaped = false;
    for c in s.chars() {
        if escaped {
            if depth == 0 {
                out.push(c);
            }
            escaped = false;
            continue;
        }
        match c {
            '\\' if quoted || depth > 0 => {
                escaped = true;
                if depth == 0 {
                    out.push(c);
                }
            }
            '"' if depth == 0 => {
                quoted = !quoted;
                out.push(c);
            }
            '(' if !quoted => depth += 1,
            ')' if !quoted && depth > 0 => depth -= 1,
            _ if depth == 0 => out.push(c),
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn fields_keep_folding_and_body_offset() {
        let data = b"Subject: a\r\n  folded\r\nX-A: 1\r\n\r\nbody\r\n";
        let (h, off) = Header::parse(data).unwrap();
        assert_eq!(h.fields.len(), 2);
        assert_eq!(h.fields[0].raw, b"Subject: a\r\n  folded\r\n");
        assert_eq!(h.fields[0].value(), b"a  folded");
        assert_eq!(&data[off..], b"body\r\n");
    }

    #[test]
    fn not_a_field() {
        assert_eq!(
            Header::parse(b"hello world\r\n\r\n").unwrap_err(),
            HeaderProblem::NotAField { line: 1 }
        );
        assert!(Header::parse(b" leading\r\n").is_err());
    }

    #[test]
    fn limits_are_exact_and_bounded() {
        // A field of exactly MAX_FIELD_SIZE bytes (CRLF included) passes; one more does not.
        let field = |len: usize| {
            let mut f = b"X-A: ".to_vec();
            f.resize(len - 2, b'a');
            f.extend_from_slice(b"\r\n\r\n");
            f
        };
        assert_eq!(check_limits(&field(MAX_FIELD_SIZE)), Ok(()));
        let too_large = Err(LimitProblem::FieldTooLarge { name: "X-A".into() });
        assert_eq!(check_limits(&field(MAX_FIELD_SIZE + 1)), too_large);
        // Without any line end, the search stops at the limit.
        let mut endless = b"X-A: ".to_vec();
        endless.resize(MAX_FIELD_SIZE * 10, b'a');
        assert_eq!(check_limits(&endless), too_large);
        // A folded field counts as a whole.
        let mut folded = b"X-A: a\r\n".to_vec();
        while folded.len() <= MAX_FIELD_SIZE {
            folded.extend_from_slice(b" b\r\n");
        }
        assert_eq!(check_limits(&folded), too_large);
        // The mbox line too.
        let mut mbox = b"From ".to_vec();
        mbox.resize(MAX_FIELD_SIZE * 2, b'a');
        assert!(matches!(
            check_limits(&mbox),
            Err(LimitProblem::FieldTooLarge { name }) if name.contains("mbox")
        ));
        // Many small fields: the section limit.
        let many = b"X: 1\r\n".repeat(MAX_HEADER_SIZE / 6 + 1);
        assert_eq!(check_limits(&many), Err(LimitProblem::SectionTooLarge));
        // Only the header counts: the body may be anything.
        let mut msg = b"X: 1\r\n\r\n".to_vec();
        msg.extend_from_slice(&vec![0u8; MAX_HEADER_SIZE * 2]);
        assert_eq!(check_limits(&msg), Ok(()));
    }

    #[test]
    fn content_type_params() {
        let ct = ContentType::parse(
            br#"Multipart/Mixed (comment); boundary="a;b \"c\""; charset=UTF-8"#,
        );
        assert!(ct.is("multipart", "mixed"));
        assert_eq!(ct.param("boundary"), Some(r#"a;b "c""#));
        assert_eq!(ct.param("charset"), Some("UTF-8"));
    }

    #[test]
    fn content_type_without_media_type_is_invalid() {
        let ct = ContentType::parse(br#";multipart/mixed; boundary="outer""#);
        assert!(!ct.is_valid());
        let (h, _) =
            Header::parse(b"Content-Type: ;multipart/mixed; boundary=\"outer\"\r\n\r\n").unwrap();
        assert!(h.content_type("text/plain").is("text", "plain"));
        assert!(
            ContentType::parse(b"text/plain;; charset=utf-8").param("charset") == Some("utf-8")
        );
    }

    #[test]
    fn transfer_encoding_replaced_in_place() {
        let (mut h, _) = Header::parse(
            b"Content-Type: text/plain\r\nContent-Transfer-Encoding: 8BIT\r\nX: y\r\n\r\n",
        )
        .unwrap();
        assert_eq!(h.transfer_encoding(), "8bit");
        h.set_transfer_encoding("quoted-printable");
        assert!(h.fields[1].is("content-transfer-encoding"));
        assert_eq!(h.transfer_encoding(), "quoted-printable");
    }
}

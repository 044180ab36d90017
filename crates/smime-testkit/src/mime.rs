//! A deliberately small, strict reader for the top S/MIME layer of a message.
//!
//! It is written from RFC 2045/2046 and RFC 8551 alone (it shares no code with the library under
//! test), works on raw bytes, and never re-encodes what it extracts: the content of a
//! `multipart/signed` message is returned byte for byte as it appears between the boundaries.

/// The top layer of an S/MIME message, as found by [`classify`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Layer {
    /// `application/pkcs7-mime; smime-type=signed-data` (or `x-pkcs7-mime`): the signed entity
    /// is inside the CMS SignedData.
    OpaqueSigned {
        /// The CMS ContentInfo (DER, or BER as OpenSSL's `-stream` writes it).
        der: Vec<u8>,
    },
    /// `multipart/signed; protocol="application/pkcs7-signature"` (or `x-pkcs7-signature`).
    Detached {
        /// The exact bytes of the first body part: from the byte after the first boundary
        /// line's line break up to, not including, the line break that precedes the next
        /// delimiter. This is what the signature covers.
        content: Vec<u8>,
        /// The decoded `application/pkcs7-signature` part: a CMS ContentInfo without eContent.
        signature: Vec<u8>,
        /// The `micalg` parameter, lower-cased, if present.
        micalg: Option<String>,
    },
    /// `application/pkcs7-mime; smime-type=enveloped-data`.
    Enveloped {
        /// The CMS ContentInfo holding EnvelopedData.
        der: Vec<u8>,
    },
    /// `application/pkcs7-mime; smime-type=authEnveloped-data` (AES-GCM, RFC 8551 §3.2.2).
    AuthEnveloped {
        /// The CMS ContentInfo holding AuthEnvelopedData.
        der: Vec<u8>,
    },
    /// Not S/MIME at all: the end of the layers.
    Other {
        /// The media type, lower-cased (`text/plain` when there is no Content-Type).
        content_type: String,
    },
}

impl Layer {
    /// A short name for messages: `opaque-signed`, `detached`, `enveloped`, ...
    pub fn kind(&self) -> &'static str {
        match self {
            Layer::OpaqueSigned { .. } => "opaque-signed",
            Layer::Detached { .. } => "detached",
            Layer::Enveloped { .. } => "enveloped",
            Layer::AuthEnveloped { .. } => "auth-enveloped",
            Layer::Other { .. } => "not S/MIME",
        }
    }
}

/// One parsed header field: lower-cased name, unfolded value.
#[derive(Debug, Clone)]
pub(crate) struct Field {
    pub(crate) name: String,
    pub(crate) value: String,
}

/// Where the line that starts at `pos` ends: after its LF, or at the end of `bytes`.
fn line_end(bytes: &[u8], pos: usize) -> usize {
    bytes[pos..]
        .iter()
        .position(|&b| b == b'\n')
        .map_or(bytes.len(), |i| pos + i + 1)
}

/// Splits `bytes` into its header fields and the offset where the body starts (just after the
/// empty line). Accepts CRLF and bare-LF line endings. Without an empty line, the body is empty.
pub(crate) fn split_header(bytes: &[u8]) -> (Vec<Field>, usize) {
    let mut fields: Vec<Field> = Vec::new();
    let mut pos = 0;
    while pos < bytes.len() {
        let end = line_end(bytes, pos);
        let line = trim_eol(&bytes[pos..end]);
        pos = end;
        if line.is_empty() {
            return (fields, pos);
        }
        let text = String::from_utf8_lossy(line);
        if line[0] == b' ' || line[0] == b'\t' {
            if let Some(last) = fields.last_mut() {
                last.value.push_str(&text);
            }
            continue;
        }
        if let Some((name, value)) = text.split_once(':') {
            fields.push(Field {
                name: name.trim().to_ascii_lowercase(),
                value: value.trim_start().to_owned(),
            });
        }
    }
    (fields, bytes.len())
}

fn trim_eol(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    line.strip_suffix(b"\r").unwrap_or(line)
}

pub(crate) fn header<'a>(fields: &'a [Field], name: &str) -> Option<&'a str> {
    fields
        .iter()
        .find(|f| f.name == name)
        .map(|f| f.value.as_str())
}

/// A parsed Content-Type: lower-cased `type/subtype` and parameters (names lower-cased, values
/// unquoted but otherwise as written).
#[derive(Debug, Clone)]
pub(crate) struct ContentType {
    pub(crate) media: String,
    pub(crate) params: Vec<(String, String)>,
}

impl ContentType {
    pub(crate) fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Parses a Content-Type value (RFC 2045 §5.1; comments are not supported).
pub(crate) fn parse_content_type(value: &str) -> ContentType {
    let mut chars = value.chars().peekable();
    let mut media = String::new();
    while let Some(&c) = chars.peek() {
        if c == ';' {
            break;
        }
        if !c.is_whitespace() {
            media.push(c.to_ascii_lowercase());
        }
        chars.next();
    }
    let mut params = Vec::new();
    loop {
        // Skip ';' and white space.
        while matches!(chars.peek(), Some(&c) if c == ';' || c.is_whitespace()) {
            chars.next();
        }
        if chars.peek().is_none() {
            break;
        }
        let mut name = String::new();
        while let Some(&c) = chars.peek() {
            if c == '=' || c == ';' {
                break;
            }
            if !c.is_whitespace() {
                name.push(c.to_ascii_lowercase());
            }
            chars.next();
        }
        let mut val = String::new();
        if chars.peek() == Some(&'=') {
            chars.next();
            while matches!(chars.peek(), Some(&c) if c.is_whitespace()) {
                chars.next();
            }
            if chars.peek() == Some(&'"') {
                chars.next();
                while let Some(c) = chars.next() {
                    match c {
                        '"' => break,
                        '\\' => {
                            if let Some(n) = chars.next() {
                                val.push(n);
                            }
                        }
                        _ => val.push(c),
                    }
                }
            } else {
                while let Some(&c) = chars.peek() {
                    if c == ';' || c.is_whitespace() {
                        break;
                    }
                    val.push(c);
                    chars.next();
                }
            }
        }
        if !name.is_empty() {
            params.push((name, val));
        }
    }
    ContentType { media, params }
}

/// Classifies the top layer of `message`: a whole message (RFC 5322 header + S/MIME entity) or
/// just an entity (Content-* headers + body), with CRLF or LF line endings.
///
/// Errors on S/MIME that is malformed: bad base64, a `multipart/signed` without its two parts or
/// with another protocol, an `smime-type` that contradicts the CMS content type, `certs-only`.
pub fn classify(message: &[u8]) -> Result<Layer, String> {
    let (fields, body_at) = split_header(message);
    let body = &message[body_at..];
    let ct = match header(&fields, "content-type") {
        Some(v) => parse_content_type(v),
        None => {
            return Ok(Layer::Other {
                content_type: "text/plain".to_owned(),
            });
        }
    };
    match ct.media.as_str() {
        "application/pkcs7-mime" | "application/x-pkcs7-mime" => {
            let der = decode_body(&fields, body)?;
            let sniffed = sniff_cms(&der)?;
            let declared = ct.param("smime-type").map(str::to_ascii_lowercase);
            let kind = match declared.as_deref() {
                None => sniffed,
                Some("signed-data") => CmsKind::Signed,
                Some("enveloped-data") => CmsKind::Enveloped,
                Some("authenveloped-data") => CmsKind::AuthEnveloped,
                Some("certs-only") => return Err("smime-type=certs-only is not a message".into()),
                Some(other) => return Err(format!("unknown smime-type={other}")),
            };
            if kind != sniffed {
                return Err(format!(
                    "{}: smime-type says {kind:?} but the CMS content type is {sniffed:?}",
                    ct.media
                ));
            }
            Ok(match kind {
                CmsKind::Signed => Layer::OpaqueSigned { der },
                CmsKind::Enveloped => Layer::Enveloped { der },
                CmsKind::AuthEnveloped => Layer::AuthEnveloped { der },
            })
        }
        "multipart/signed" => {
            let protocol = ct
                .param("protocol")
                .map(str::to_ascii_lowercase)
                .ok_or("multipart/signed without a protocol parameter")?;
            if protocol != "application/pkcs7-signature"
                && protocol != "application/x-pkcs7-signature"
            {
                return Err(format!("multipart/signed with protocol={protocol}"));
            }
            let boundary = ct
                .param("boundary")
                .filter(|b| !b.is_empty())
                .ok_or("multipart/signed without a boundary")?;
            let parts = split_multipart(body, boundary)?;
            if parts.len() != 2 {
                return Err(format!(
                    "multipart/signed has {} body parts, expected 2",
                    parts.len()
                ));
            }
            let content = parts[0].to_vec();
            let (sig_fields, sig_body_at) = split_header(parts[1]);
            let sig_ct = header(&sig_fields, "content-type")
                .map(parse_content_type)
                .ok_or("signature part has no Content-Type")?;
            if sig_ct.media != protocol {
                return Err(format!(
                    "signature part is {} but protocol says {protocol}",
                    sig_ct.media
                ));
            }
            let signature = decode_body(&sig_fields, &parts[1][sig_body_at..])?;
            if sniff_cms(&signature)? != CmsKind::Signed {
                return Err("the signature part is not CMS SignedData".into());
            }
            Ok(Layer::Detached {
                content,
                signature,
                micalg: ct.param("micalg").map(str::to_ascii_lowercase),
            })
        }
        other => Ok(Layer::Other {
            content_type: other.to_owned(),
        }),
    }
}

/// Splits a multipart body into its body parts, each exactly as between the delimiter lines (the
/// line break before a delimiter belongs to the delimiter, RFC 2046 §5.1.1).
pub(crate) fn split_multipart<'a>(body: &'a [u8], boundary: &str) -> Result<Vec<&'a [u8]>, String> {
    let delim = format!("--{boundary}");
    let delim = delim.as_bytes();
    let mut parts = Vec::new();
    let mut part_start: Option<usize> = None;
    let mut pos = 0;
    let mut closed = false;
    while pos < body.len() {
        let end = line_end(body, pos);
        let line = trim_eol(&body[pos..end]);
        if let Some(rest) = line.strip_prefix(delim) {
            let is_close = rest.starts_with(b"--");
            let tail = if is_close { &rest[2..] } else { rest };
            if tail.iter().all(|&b| b == b' ' || b == b'\t') {
                if let Some(start) = part_start {
                    // Drop the line break that precedes this delimiter.
                    let mut stop = pos;
                    if stop > start && body[stop - 1] == b'\n' {
                        stop -= 1;
                        if stop > start && body[stop - 1] == b'\r' {
                            stop -= 1;
                        }
                    }
                    parts.push(&body[start..stop.max(start)]);
                }
                if is_close {
                    closed = true;
                    break;
                }
                part_start = Some(end);
            }
        }
        pos = end;
    }
    if !closed {
        return Err(format!("multipart: no closing delimiter --{boundary}--"));
    }
    Ok(parts)
}

/// Decodes a body according to its Content-Transfer-Encoding (base64, or 7bit/8bit/binary as is).
fn decode_body(fields: &[Field], body: &[u8]) -> Result<Vec<u8>, String> {
    let cte = header(fields, "content-transfer-encoding")
        .map(|v| v.trim().to_ascii_lowercase())
        .unwrap_or_else(|| "7bit".to_owned());
    match cte.as_str() {
        "base64" => base64_decode(body),
        "binary" | "8bit" | "7bit" => Ok(body.to_vec()),
        other => Err(format!(
            "unexpected Content-Transfer-Encoding {other} on a CMS body"
        )),
    }
}

/// Decodes base64, ignoring white space and line breaks; anything else is an error.
pub fn base64_decode(text: &[u8]) -> Result<Vec<u8>, String> {
    let mut out = Vec::with_capacity(text.len() / 4 * 3);
    let mut acc: u32 = 0;
    let mut n = 0u8;
    let mut pad = 0;
    for (i, &c) in text.iter().enumerate() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            b'=' => {
                pad += 1;
                continue;
            }
            b' ' | b'\t' | b'\r' | b'\n' => continue,
            _ => return Err(format!("invalid base64 byte 0x{c:02x} at offset {i}")),
        };
        if pad > 0 {
            return Err(format!("base64 data after padding at offset {i}"));
        }
        acc = (acc << 6) | u32::from(v);
        n += 1;
        if n == 4 {
            out.extend_from_slice(&[(acc >> 16) as u8, (acc >> 8) as u8, acc as u8]);
            acc = 0;
            n = 0;
        }
    }
    match n {
        0 => {}
        2 => out.push((acc >> 4) as u8),
        3 => out.extend_from_slice(&[(acc >> 10) as u8, (acc >> 2) as u8]),
        _ => return Err("truncated base64".to_owned()),
    }
    Ok(out)
}

/// Encodes base64 in lines of 76 characters, each ended by CRLF.
pub fn base64_encode_lines(data: &[u8]) -> Vec<u8> {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut flat = Vec::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        flat.push(ALPHABET[(n >> 18) as usize & 63]);
        flat.push(ALPHABET[(n >> 12) as usize & 63]);
        flat.push(if chunk.len() > 1 {
            ALPHABET[(n >> 6) as usize & 63]
        } else {
            b'='
        });
        flat.push(if chunk.len() > 2 {
            ALPHABET[n as usize & 63]
        } else {
            b'='
        });
    }
    let mut out = Vec::with_capacity(flat.len() + flat.len() / 76 * 2 + 2);
    for line in flat.chunks(76) {
        out.extend_from_slice(line);
        out.extend_from_slice(b"\r\n");
    }
    out
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CmsKind {
    Signed,
    Enveloped,
    AuthEnveloped,
}

const OID_SIGNED_DATA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02];
const OID_ENVELOPED_DATA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x03];
const OID_AUTH_ENVELOPED_DATA: &[u8] = &[
    0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x10, 0x01, 0x17,
];

/// Reads the contentType OID of a CMS ContentInfo.
fn sniff_cms(der: &[u8]) -> Result<CmsKind, String> {
    let outer = read_tlv(der, 0).ok_or("CMS: not a BER/DER structure")?;
    if outer.tag != 0x30 {
        return Err(format!(
            "CMS: ContentInfo must be a SEQUENCE, found tag 0x{:02x}",
            outer.tag
        ));
    }
    let oid = read_tlv(der, outer.value_start).ok_or("CMS: truncated ContentInfo")?;
    if oid.tag != 0x06 || oid.len.is_none() {
        return Err("CMS: ContentInfo does not start with an OID".to_owned());
    }
    match &der[oid.value_start..oid.value_end()] {
        OID_SIGNED_DATA => Ok(CmsKind::Signed),
        OID_ENVELOPED_DATA => Ok(CmsKind::Enveloped),
        OID_AUTH_ENVELOPED_DATA => Ok(CmsKind::AuthEnveloped),
        other => Err(format!("CMS: unexpected content type OID {other:02x?}")),
    }
}

/// A BER tag-length header. `len == None` is the indefinite form.
#[derive(Debug, Clone, Copy)]
struct Tlv {
    tag: u8,
    value_start: usize,
    len: Option<usize>,
}

impl Tlv {
    fn value_end(&self) -> usize {
        self.value_start + self.len.unwrap_or(0)
    }
    fn constructed(&self) -> bool {
        self.tag & 0x20 != 0
    }
}

/// Reads one BER tag/length at `at` (single-byte tags only, which is all CMS uses up to the
/// content).
fn read_tlv(buf: &[u8], at: usize) -> Option<Tlv> {
    let tag = *buf.get(at)?;
    if tag & 0x1f == 0x1f {
        return None;
    }
    let first = *buf.get(at + 1)?;
    let (len, value_start) = if first < 0x80 {
        (Some(first as usize), at + 2)
    } else if first == 0x80 {
        (None, at + 2)
    } else {
        let n = (first & 0x7f) as usize;
        if n > 4 {
            return None;
        }
        let mut l = 0usize;
        for i in 0..n {
            l = (l << 8) | *buf.get(at + 2 + i)? as usize;
        }
        (Some(l), at + 2 + n)
    };
    if let Some(l) = len
        && value_start + l > buf.len()
    {
        return None;
    }
    Some(Tlv {
        tag,
        value_start,
        len,
    })
}

/// Finds the first primitive OCTET STRING chunk of the eContent of a CMS SignedData
/// (ContentInfo → [0] → SignedData → encapContentInfo → [0] → OCTET STRING, possibly constructed
/// and chunked as in OpenSSL's streamed BER). Returns its byte range.
fn econtent_range(der: &[u8]) -> Result<(usize, usize), String> {
    let bad = |what: &str| format!("CMS SignedData: {what}");
    let ci = read_tlv(der, 0).ok_or_else(|| bad("no ContentInfo"))?;
    let oid = read_tlv(der, ci.value_start).ok_or_else(|| bad("no OID"))?;
    let explicit = read_tlv(der, oid.value_end()).ok_or_else(|| bad("no [0] content"))?;
    let sd = read_tlv(der, explicit.value_start).ok_or_else(|| bad("no SignedData"))?;
    // version, digestAlgorithms, encapContentInfo
    let version = read_tlv(der, sd.value_start).ok_or_else(|| bad("no version"))?;
    let algs = read_tlv(der, version.value_end()).ok_or_else(|| bad("no digestAlgorithms"))?;
    let algs_end = algs
        .len
        .map(|l| algs.value_start + l)
        .ok_or_else(|| bad("indefinite digestAlgorithms"))?;
    let eci = read_tlv(der, algs_end).ok_or_else(|| bad("no encapContentInfo"))?;
    let etype = read_tlv(der, eci.value_start).ok_or_else(|| bad("no eContentType"))?;
    let mut t = read_tlv(der, etype.value_end())
        .filter(|t| t.tag == 0xa0)
        .ok_or_else(|| bad("no eContent (detached signature?)"))?;
    // Descend through the [0] and any constructed OCTET STRING to the first primitive chunk.
    loop {
        let inner = read_tlv(der, t.value_start).ok_or_else(|| bad("truncated eContent"))?;
        if inner.constructed() {
            t = inner;
            continue;
        }
        if inner.tag != 0x04 {
            return Err(bad("eContent is not an OCTET STRING"));
        }
        let len = inner.len.ok_or_else(|| bad("indefinite primitive"))?;
        return Ok((inner.value_start, inner.value_start + len));
    }
}

/// Picks a byte in the middle of `data` to change: the first ASCII letter at or after the
/// middle (swapping its case keeps MIME and base64 structure intact), else the middle byte.
fn tamper_at(data: &[u8]) -> usize {
    let mid = data.len() / 2;
    data[mid..]
        .iter()
        .position(u8::is_ascii_alphabetic)
        .map_or(mid, |i| mid + i)
}

fn flip(b: u8) -> u8 {
    if b.is_ascii_alphabetic() {
        b ^ 0x20
    } else {
        b ^ 0x01
    }
}

/// Returns a copy of a signed `message` (detached or opaque, top layer) with exactly one byte of
/// the signed content changed, everything else (framing, signature) untouched. A verifier must
/// reject the result.
pub fn tamper_signed_content(message: &[u8]) -> Result<Vec<u8>, String> {
    match classify(message)? {
        Layer::Detached { content, .. } => {
            // The content sits in the message verbatim; find it after the first boundary.
            let at = find(message, &content)
                .ok_or("detached content not found verbatim in the message")?;
            let mut out = message.to_vec();
            let i = at + tamper_at(&content);
            out[i] = flip(out[i]);
            Ok(out)
        }
        Layer::OpaqueSigned { mut der } => {
            let (start, end) = econtent_range(&der)?;
            if start == end {
                return Err("empty eContent".to_owned());
            }
            let i = start + tamper_at(&der[start..end]);
            der[i] = flip(der[i]);
            let (_, body_at) = split_header(message);
            let mut out = message[..body_at].to_vec();
            out.extend_from_slice(&base64_encode_lines(&der));
            Ok(out)
        }
        other => Err(format!("not a signed message: {}", other.kind())),
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() {
        return Some(0);
    }
    hay.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn base64_round_trip() {
        for n in 0..20 {
            let data: Vec<u8> = (0..n as u8).map(|i| i.wrapping_mul(37)).collect();
            assert_eq!(base64_decode(&base64_encode_lines(&data)).unwrap(), data);
        }
        assert!(base64_decode(b"QUJD*").is_err());
        assert!(base64_decode(b"QQ==QQ==").is_err());
    }

    #[test]
    fn content_type_params() {
        let ct = parse_content_type(
            "Multipart/Signed; protocol=\"application/x-pkcs7-signature\";\r\n micalg=SHA-256; boundary=\"a\\\"b; c\"",
        );
        assert_eq!(ct.media, "multipart/signed");
        assert_eq!(ct.param("protocol"), Some("application/x-pkcs7-signature"));
        assert_eq!(ct.param("micalg"), Some("SHA-256"));
        assert_eq!(ct.param("boundary"), Some("a\"b; c"));
    }

    fn fake_signed_der() -> Vec<u8> {
        // ContentInfo { signedData, [0] { SEQUENCE { INTEGER 1, SET {}, SEQUENCE { data OID } } } }
        let mut sd = vec![0x02, 0x01, 0x01, 0x31, 0x00, 0x30, 0x0b, 0x06, 0x09];
        sd.extend_from_slice(&[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x01]);
        let mut seq = vec![0x30, sd.len() as u8];
        seq.extend(sd);
        let mut ex = vec![0xa0, seq.len() as u8];
        ex.extend(seq);
        let mut body = vec![0x06, 0x09];
        body.extend_from_slice(OID_SIGNED_DATA);
        body.extend(ex);
        let mut ci = vec![0x30, body.len() as u8];
        ci.extend(body);
        ci
    }

    #[test]
    fn detached_exact_bytes_and_x_spelling() {
        let sig = base64_encode_lines(&fake_signed_der());
        let mut msg = b"From: a@b\r\nContent-Type: multipart/signed; protocol=\"application/x-pkcs7-signature\"; micalg=sha-256; boundary=XX\r\n\r\npreamble\r\n--XX\r\nContent-Type: text/plain\r\n\r\nhello\r\n\r\n--XX \r\nContent-Type: application/x-pkcs7-signature\r\nContent-Transfer-Encoding: base64\r\n\r\n".to_vec();
        msg.extend_from_slice(&sig);
        msg.extend_from_slice(b"\r\n--XX--\r\n");
        match classify(&msg).unwrap() {
            Layer::Detached {
                content,
                signature,
                micalg,
            } => {
                assert_eq!(content, b"Content-Type: text/plain\r\n\r\nhello\r\n");
                assert_eq!(signature, fake_signed_der());
                assert_eq!(micalg.as_deref(), Some("sha-256"));
            }
            other => panic!("{other:?}"),
        }
        let t = tamper_signed_content(&msg).unwrap();
        assert_eq!(t.len(), msg.len());
        assert_eq!(t.iter().zip(&msg).filter(|(a, b)| a != b).count(), 1);
    }

    #[test]
    fn opaque_and_mismatch() {
        let mut msg = b"Content-Type: application/x-pkcs7-mime; smime-type=signed-data; name=smime.p7m\nContent-Transfer-Encoding: base64\n\n".to_vec();
        msg.extend_from_slice(&base64_encode_lines(&fake_signed_der()));
        assert!(matches!(
            classify(&msg).unwrap(),
            Layer::OpaqueSigned { .. }
        ));
        let lie = String::from_utf8(msg)
            .unwrap()
            .replace("signed-data", "enveloped-data");
        assert!(classify(lie.as_bytes()).is_err());
        assert_eq!(
            classify(b"Subject: x\r\n\r\nbody").unwrap(),
            Layer::Other {
                content_type: "text/plain".into()
            }
        );
    }
}

//! The MIME side of reading: which S/MIME layer an entity is, and its CMS bytes (and, for
//! `multipart/signed`, the signed content exactly as transmitted).

use crate::message::encoding::base64_decode_lenient;
use crate::message::header::{ContentType, Header, HeaderProblem};

use crate::limits::MAX_BOUNDARY;

/// What one entity (a whole message, or what a layer held) turned out to be.
#[derive(Debug)]
pub(super) enum Entity {
    /// `application/pkcs7-mime` (or `x-pkcs7-mime`, or octet-stream named `*.p7m`): a CMS
    /// ContentInfo, SignedData or EnvelopedData.
    Pkcs7Mime {
        /// The decoded body.
        der: Vec<u8>,
    },
    /// `multipart/signed` with a PKCS#7 signature.
    Detached {
        /// The first body part, byte for byte: what the signature covers.
        content: Vec<u8>,
        /// The decoded signature part.
        der: Vec<u8>,
    },
    /// Anything else: no more S/MIME layers.
    Plain,
}

/// Why an entity could not be taken apart. The strings never hold message content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum MimeProblem {
    /// A header line is not a field.
    Header(usize),
    /// The body is not valid base64.
    Base64,
    /// A transfer encoding we cannot undo for CMS data.
    Encoding(String),
    /// `multipart/signed` framing is wrong.
    Multipart(&'static str),
}

impl std::fmt::Display for MimeProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            MimeProblem::Header(line) => write!(f, "header line {line} is not a header field"),
            MimeProblem::Base64 => f.write_str("the body is not valid base64"),
            MimeProblem::Encoding(e) => write!(f, "unsupported transfer encoding {e:?}"),
            MimeProblem::Multipart(what) => write!(f, "multipart/signed: {what}"),
        }
    }
}

/// Line endings as transmitted (SMTP) are CRLF: bare LFs (a message stored with LF, or
/// OpenSSL's LF framing around CRLF content) are turned into CRLF, as a mail transfer would.
/// CRLF already present is kept, so content signed in canonical form stays byte for byte.
pub(super) fn normalise(input: &[u8]) -> std::borrow::Cow<'_, [u8]> {
    crate::message::eml::to_crlf(input)
}

/// Classifies `data` (a message or MIME entity, CRLF line endings) and extracts its CMS.
pub(super) fn classify(data: &[u8]) -> Result<Entity, MimeProblem> {
    let (header, body_at) = Header::parse(data).map_err(|e| match e {
        HeaderProblem::NotAField { line } => MimeProblem::Header(line),
    })?;
    let body = data.get(body_at..).unwrap_or_default();
    let ct = header.content_type("text/plain");
    if is_pkcs7_mime(&ct) {
        let der = decode_body(&header.transfer_encoding(), body)?;
        return Ok(Entity::Pkcs7Mime { der });
    }
    if ct.is("multipart", "signed") {
        let protocol = ct
            .param("protocol")
            .unwrap_or_default()
            .to_ascii_lowercase();
        if protocol == "application/pkcs7-signature" || protocol == "application/x-pkcs7-signature"
        {
            return detached(&ct, body);
        }
    }
    Ok(Entity::Plain)
}

/// What a body part holds by its media type: CMS content, or a detached signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Pkcs7Kind {
    /// `application/pkcs7-mime` or `application/x-pkcs7-mime`, or `application/octet-stream`
    /// named `*.p7m`: enveloped, opaque-signed or compressed content (or certificates only).
    Mime,
    /// `application/pkcs7-signature` or `application/x-pkcs7-signature`, or
    /// `application/octet-stream` named `*.p7s`: a detached signature.
    Signature,
}

/// Which CMS body part the media type `mtype/subtype` (any case) names; `file_name` (the
/// `name` or `filename` parameter) decides for `application/octet-stream`.
pub(super) fn pkcs7_kind(mtype: &str, subtype: &str, file_name: Option<&str>) -> Option<Pkcs7Kind> {
    if !mtype.eq_ignore_ascii_case("application") {
        return None;
    }
    let subtype = subtype.to_ascii_lowercase();
    match subtype.as_str() {
        "pkcs7-mime" | "x-pkcs7-mime" => Some(Pkcs7Kind::Mime),
        "pkcs7-signature" | "x-pkcs7-signature" => Some(Pkcs7Kind::Signature),
        "octet-stream" => {
            let name = file_name?.to_ascii_lowercase();
            if name.ends_with(".p7m") {
                Some(Pkcs7Kind::Mime)
            } else if name.ends_with(".p7s") {
                Some(Pkcs7Kind::Signature)
            } else {
                None
            }
        }
        _ => None,
    }
}

fn is_pkcs7_mime(ct: &ContentType) -> bool {
    if pkcs7_kind(&ct.mtype, &ct.subtype, ct.param("name")) != Some(Pkcs7Kind::Mime) {
        return false;
    }
    // Certificates only: no layer to open (the parameter counts on the pkcs7-mime types only).
    ct.subtype == "octet-stream"
        || !ct
            .param("smime-type")
            .is_some_and(|t| t.eq_ignore_ascii_case("certs-only"))
}

fn decode_body(encoding: &str, body: &[u8]) -> Result<Vec<u8>, MimeProblem> {
    match encoding {
        "base64" => base64_decode_lenient(body).ok_or(MimeProblem::Base64),
        "binary" | "8bit" | "7bit" => Ok(body.to_vec()),
        other => Err(MimeProblem::Encoding(other.chars().take(40).collect())),
    }
}

/// RFC 1847 / RFC 8551 §3.5.3: the first part is the signed content, exactly the bytes between
/// the first delimiter line and the CRLF before the second; the second part is the signature.
fn detached(ct: &ContentType, body: &[u8]) -> Result<Entity, MimeProblem> {
    let boundary = ct
        .param("boundary")
        .filter(|b| !b.is_empty() && b.len() <= MAX_BOUNDARY)
        .ok_or(MimeProblem::Multipart("no boundary parameter"))?;
    let mut delim = Vec::with_capacity(boundary.len() + 2);
    delim.extend_from_slice(b"--");
    delim.extend_from_slice(boundary.as_bytes());

    let first = find_delimiter(body, &delim, 0).ok_or(MimeProblem::Multipart("no first part"))?;
    if first.close {
        return Err(MimeProblem::Multipart("no parts"));
    }
    let second = find_delimiter(body, &delim, first.next)
        .ok_or(MimeProblem::Multipart("no signature part"))?;
    if second.close {
        return Err(MimeProblem::Multipart("no signature part"));
    }
    let content = body
        .get(first.next..second.start)
        .ok_or(MimeProblem::Multipart("parts out of order"))?
        .to_vec();
    let end = find_delimiter(body, &delim, second.next)
        .ok_or(MimeProblem::Multipart("no closing delimiter"))?;
    let sig_part = body
        .get(second.next..end.start)
        .ok_or(MimeProblem::Multipart("parts out of order"))?;
    let (sig_header, sig_body_at) = Header::parse(sig_part).map_err(|e| match e {
        HeaderProblem::NotAField { line } => MimeProblem::Header(line),
    })?;
    let sig_ct = sig_header.content_type("text/plain");
    if pkcs7_kind(&sig_ct.mtype, &sig_ct.subtype, None) != Some(Pkcs7Kind::Signature) {
        return Err(MimeProblem::Multipart(
            "the second part is not application/pkcs7-signature",
        ));
    }
    let der = decode_body(
        &sig_header.transfer_encoding(),
        sig_part.get(sig_body_at..).unwrap_or_default(),
    )?;
    Ok(Entity::Detached { content, der })
}

/// A delimiter line: where its preceding CRLF starts (the end of the previous part), where the
/// next part starts, and whether it is the closing one.
struct Delimiter {
    start: usize,
    next: usize,
    close: bool,
}

/// The first delimiter line at or after `from`: `--boundary` at the start of the body or after
/// CRLF, followed by `--` (closing), then optional white space and CRLF or the end.
fn find_delimiter(body: &[u8], delim: &[u8], from: usize) -> Option<Delimiter> {
    let mut pos = from;
    loop {
        let rel = find(body.get(pos..)?, delim)?;
        let at = pos + rel;
        // The CRLF before a delimiter belongs to the delimiter, except at the very start.
        let line_start = at == 0 || (at >= from + 2 && body.get(at - 2..at) == Some(&b"\r\n"[..]));
        if line_start {
            let start = at.saturating_sub(2);
            let mut i = at + delim.len();
            let close = body.get(i..i + 2) == Some(&b"--"[..]);
            if close {
                i += 2;
            }
            while matches!(body.get(i), Some(b' ' | b'\t')) {
                i += 1;
            }
            let next = match body.get(i..i + 2) {
                Some(b"\r\n") => Some(i + 2),
                _ if close => Some(i.min(body.len())),
                None if i >= body.len() => Some(body.len()),
                _ => None,
            };
            if let Some(next) = next {
                return Some(Delimiter { start, next, close });
            }
        }
        pos = at + 1;
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() || hay.len() < needle.len() {
        return None;
    }
    hay.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn detached_content_is_exact() {
        let msg = b"Content-Type: multipart/signed; protocol=\"application/pkcs7-signature\"; boundary=\"b\"\r\n\r\npreamble\r\n--b\r\nContent-Type: text/plain\r\n\r\nhi \r\n\r\n--b\r\nContent-Type: application/pkcs7-signature\r\nContent-Transfer-Encoding: base64\r\n\r\nAAEC\r\n--b--\r\n";
        match classify(msg).unwrap() {
            Entity::Detached { content, der } => {
                assert_eq!(content, b"Content-Type: text/plain\r\n\r\nhi \r\n");
                assert_eq!(der, [0, 1, 2]);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn pkcs7_mime_and_plain() {
        let msg = b"Content-Type: application/pkcs7-mime; smime-type=enveloped-data\r\nContent-Transfer-Encoding: base64\r\n\r\nAAEC\r\n";
        assert!(matches!(classify(msg).unwrap(), Entity::Pkcs7Mime { der } if der == [0, 1, 2]));
        assert!(matches!(
            classify(b"Subject: x\r\n\r\nhello").unwrap(),
            Entity::Plain
        ));
        assert!(classify(b"not a header\r\n\r\n").is_err());
    }

    #[test]
    fn broken_multipart_signed() {
        for body in [
            &b""[..],
            b"--b--\r\n",
            b"--b\r\nx\r\n",
            b"--b\r\nx\r\n--b\r\nContent-Type: text/plain\r\n\r\nAAAA\r\n--b--",
            b"--bb\r\n",
        ] {
            let mut msg = b"Content-Type: multipart/signed; protocol=\"application/pkcs7-signature\"; boundary=b\r\n\r\n".to_vec();
            msg.extend_from_slice(body);
            assert!(
                classify(&msg).is_err(),
                "{:?}",
                String::from_utf8_lossy(body)
            );
        }
    }
}

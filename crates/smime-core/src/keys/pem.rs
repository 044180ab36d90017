//! PEM blocks (RFC 7468) found anywhere in a file: text before, between and after them (such as
//! the `Bag Attributes` that `openssl pkcs12` writes) is ignored.

use base64ct::{Base64, Encoding};
use zeroize::Zeroizing;

/// One PEM block: its label and its decoded DER (wiped on drop, since it may be a key).
pub(crate) struct PemBlock {
    pub(crate) label: String,
    pub(crate) der: Zeroizing<Vec<u8>>,
    /// True when the block carries RFC 1421 encryption headers (`Proc-Type: 4,ENCRYPTED`).
    pub(crate) legacy_encrypted: bool,
    /// The RFC 1421 header lines before the base64 (`Proc-Type`, `DEK-Info`), name and value
    /// trimmed; empty for RFC 7468 blocks.
    pub(crate) headers: Vec<(String, String)>,
}

impl PemBlock {
    /// The value of the RFC 1421 header `name` (case-insensitive), if present.
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

impl std::fmt::Debug for PemBlock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PemBlock")
            .field("label", &self.label)
            .field("der_len", &self.der.len())
            .finish_non_exhaustive()
    }
}

/// Every well-formed PEM block in `data`, in order. A block whose base64 cannot be decoded is
/// returned with empty DER so that the caller can name it.
pub(crate) fn blocks(data: &[u8]) -> Vec<PemBlock> {
    const BEGIN: &[u8] = b"-----BEGIN ";
    let mut out = Vec::new();
    let mut pos = 0;
    while let Some(start) = find(&data[pos..], BEGIN).map(|i| pos + i) {
        let label_start = start + BEGIN.len();
        let Some(label_end) = find(&data[label_start..], b"-----").map(|i| label_start + i) else {
            break;
        };
        let label = String::from_utf8_lossy(&data[label_start..label_end]).into_owned();
        let body_start = label_end + 5;
        let end_marker = format!("-----END {label}-----");
        let Some(body_end) =
            find(&data[body_start..], end_marker.as_bytes()).map(|i| body_start + i)
        else {
            break;
        };
        let body = &data[body_start..body_end];
        let mut legacy_encrypted = false;
        let mut headers = Vec::new();
        // Skip RFC 1421 headers ("Name: value" lines before an empty line), if any.
        let text: Vec<u8> = if contains(body, b":") {
            legacy_encrypted = contains(body, b"ENCRYPTED");
            let mut lines = body.split(|&b| b == b'\n');
            // Sized up front: a growing buffer would leave unwiped copies of a key behind.
            let mut kept = Vec::with_capacity(body.len());
            let mut in_headers = true;
            for line in &mut lines {
                let trimmed = line.trim_ascii();
                if in_headers {
                    if trimmed.is_empty() {
                        continue;
                    }
                    if let Some(colon) = trimmed.iter().position(|&b| b == b':') {
                        let text = |b: &[u8]| String::from_utf8_lossy(b.trim_ascii()).into_owned();
                        headers.push((text(&trimmed[..colon]), text(&trimmed[colon + 1..])));
                        continue;
                    }
                    in_headers = false;
                }
                kept.extend_from_slice(trimmed);
            }
            kept
        } else {
            body.to_vec()
        };
        let text = Zeroizing::new(text);
        let der = decode_body(&text);
        out.push(PemBlock {
            label,
            der,
            legacy_encrypted,
            headers,
        });
        pos = body_end + end_marker.len();
    }
    out
}

/// The label of a `-----BEGIN <label>-----` line with no matching END line (a truncated
/// file), when [`blocks`] found nothing.
pub(crate) fn unterminated(data: &[u8]) -> Option<String> {
    const BEGIN: &[u8] = b"-----BEGIN ";
    let label_start = find(data, BEGIN)? + BEGIN.len();
    let label_len = find(&data[label_start..], b"-----").unwrap_or(0);
    let label = &data[label_start..label_start + label_len.min(64)];
    Some(format!(
        "-----BEGIN {}-----",
        String::from_utf8_lossy(label)
    ))
}

/// The base64 of a block's body, decoded as `encoding::base64_decode_lenient` does (other
/// characters skipped, padding optional), with every buffer sized up front and wiped: the
/// body may be a private key. Empty when it is not base64.
fn decode_body(text: &[u8]) -> Zeroizing<Vec<u8>> {
    let mut clean = Zeroizing::new(Vec::with_capacity(text.len() + 3));
    clean.extend(
        text.iter()
            .copied()
            .take_while(|&b| b != b'=')
            .filter(|b| b.is_ascii_alphanumeric() || *b == b'+' || *b == b'/'),
    );
    match clean.len() % 4 {
        0 => {}
        1 => return Zeroizing::new(Vec::new()),
        r => clean.extend(std::iter::repeat_n(b'=', 4 - r)),
    }
    let mut der = Zeroizing::new(vec![0u8; clean.len() / 4 * 3]);
    let len = std::str::from_utf8(&clean)
        .ok()
        .and_then(|s| Base64::decode(s, &mut der).ok())
        .map_or(0, <[u8]>::len);
    der.truncate(len);
    der
}

use memchr::memmem::find;

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    find(hay, needle).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_blocks_among_text() {
        let data = b"Bag Attributes\n    localKeyID: 01\nsubject=/CN=x\n-----BEGIN CERTIFICATE-----\nAAEC\nAw==\n-----END CERTIFICATE-----\njunk\n-----BEGIN PRIVATE KEY-----\r\nBAU=\r\n-----END PRIVATE KEY-----\n";
        let b = blocks(data);
        assert_eq!(b.len(), 2);
        assert_eq!(b[0].label, "CERTIFICATE");
        assert_eq!(&b[0].der[..], &[0, 1, 2, 3]);
        assert_eq!(b[1].label, "PRIVATE KEY");
        assert_eq!(&b[1].der[..], &[4, 5]);
        assert!(blocks(b"-----BEGIN X-----\nAAAA").is_empty());
    }

    #[test]
    fn legacy_encrypted_headers() {
        let data = b"-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,00\n\nAAAA\n-----END RSA PRIVATE KEY-----\n";
        let b = blocks(data);
        assert!(b[0].legacy_encrypted);
        assert_eq!(&b[0].der[..], &[0, 0, 0]);
    }
}

//! Comparing what a message *means*: its leaf parts, decoded, with mail-parser.

use std::fmt::Write as _;

use mail_parser::{MessageParser, MimeHeaders, PartType};

/// One leaf (non-multipart) part of a message, decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Leaf {
    /// `type/subtype`, lower-cased; `text/plain` when the part has no Content-Type.
    pub content_type: String,
    /// The file name (Content-Disposition `filename`, else Content-Type `name`).
    pub file_name: Option<String>,
    /// The Content-ID, as mail-parser reports it.
    pub content_id: Option<String>,
    /// The decoded content (transfer encoding removed; text converted from its charset to UTF-8
    /// by mail-parser). For `text/*` parts every bare LF is turned into CRLF, so that a message
    /// stored with LF line endings compares equal to its canonical CRLF form.
    pub body: Vec<u8>,
}

/// The leaf parts of a whole message or of a MIME entity, in document order.
///
/// Panics when mail-parser cannot parse the input at all.
pub fn decoded_leaves(entity_or_message: &[u8]) -> Vec<Leaf> {
    let Some(msg) = MessageParser::default().parse(entity_or_message) else {
        panic!(
            "mail-parser could not parse the message ({} bytes)",
            entity_or_message.len()
        );
    };
    let mut leaves = Vec::new();
    for part in &msg.parts {
        if matches!(part.body, PartType::Multipart(_)) {
            continue;
        }
        let content_type = part
            .content_type()
            .map(|ct| match ct.subtype() {
                Some(sub) => format!("{}/{}", ct.ctype(), sub),
                None => ct.ctype().to_owned(),
            })
            .unwrap_or_else(|| "text/plain".to_owned())
            .to_ascii_lowercase();
        let mut body = part.contents().to_vec();
        if content_type.starts_with("text/") {
            body = lf_to_crlf(&body);
        }
        leaves.push(Leaf {
            file_name: part.attachment_name().map(str::to_owned),
            content_id: part.content_id().map(str::to_owned),
            content_type,
            body,
        });
    }
    leaves
}

/// Turns every LF not preceded by CR into CRLF.
pub(crate) fn lf_to_crlf(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() + data.len() / 32);
    let mut prev = 0u8;
    for &b in data {
        if b == b'\n' && prev != b'\r' {
            out.push(b'\r');
        }
        out.push(b);
        prev = b;
    }
    out
}

/// Panics, with a summary of every difference, unless `input_eml` and `output_entity` have the
/// same leaf parts (same count, and for each: type, file name, Content-ID, decoded bytes).
///
/// `output_entity` is typically what a verifier or decrypter returned: the MIME entity without
/// the RFC 5322 header, which [`decoded_leaves`] handles the same way.
pub fn assert_same_leaves(input_eml: &[u8], output_entity: &[u8]) {
    if let Err(diff) = compare_leaves(input_eml, output_entity) {
        panic!("decoded parts differ:\n{diff}");
    }
}

/// The non-panicking form of [`assert_same_leaves`]: `Err` holds the difference summary.
pub fn compare_leaves(input_eml: &[u8], output_entity: &[u8]) -> Result<(), String> {
    let want = decoded_leaves(input_eml);
    let got = decoded_leaves(output_entity);
    let mut diff = String::new();
    if want.len() != got.len() {
        let _ = writeln!(
            diff,
            "  part count: input has {}, output has {}",
            want.len(),
            got.len()
        );
        let _ = writeln!(diff, "  input parts:  {}", summary(&want));
        let _ = writeln!(diff, "  output parts: {}", summary(&got));
    }
    for (i, (w, g)) in want.iter().zip(&got).enumerate() {
        for (what, w, g) in [
            ("type", w.content_type.clone(), g.content_type.clone()),
            (
                "file name",
                format!("{:?}", w.file_name),
                format!("{:?}", g.file_name),
            ),
            (
                "Content-ID",
                format!("{:?}", w.content_id),
                format!("{:?}", g.content_id),
            ),
        ] {
            if w != g {
                let _ = writeln!(diff, "  part {i}: {what} {w} -> {g}");
            }
        }
        if w.body != g.body {
            let at = w
                .body
                .iter()
                .zip(&g.body)
                .position(|(a, b)| a != b)
                .unwrap_or(w.body.len().min(g.body.len()));
            let _ = writeln!(
                diff,
                "  part {i} ({}): content length {} -> {}, first difference at offset {at}:\n    input:  {}\n    output: {}",
                w.content_type,
                w.body.len(),
                g.body.len(),
                snippet(&w.body, at),
                snippet(&g.body, at),
            );
        }
    }
    if diff.is_empty() { Ok(()) } else { Err(diff) }
}

fn summary(leaves: &[Leaf]) -> String {
    leaves
        .iter()
        .map(|l| match &l.file_name {
            Some(n) => format!("{} {n:?} ({} B)", l.content_type, l.body.len()),
            None => format!("{} ({} B)", l.content_type, l.body.len()),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Up to 24 bytes either side of `at`, escaped.
fn snippet(data: &[u8], at: usize) -> String {
    let start = at.saturating_sub(24);
    let end = (at + 24).min(data.len());
    let mut s = String::new();
    if start > 0 {
        s.push('…');
    }
    s.push('"');
    for &b in &data[start..end] {
        s.extend(std::ascii::escape_default(b).map(char::from));
    }
    s.push('"');
    if end < data.len() {
        s.push('…');
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crlf_normalisation() {
        assert_eq!(lf_to_crlf(b"a\nb\r\nc\n"), b"a\r\nb\r\nc\r\n");
    }

    #[test]
    fn lf_and_crlf_compare_equal_and_changes_are_reported() {
        let lf = b"Content-Type: text/plain\n\nhello\nworld\n";
        let crlf = b"Content-Type: text/plain\r\n\r\nhello\r\nworld\r\n";
        assert!(compare_leaves(lf, crlf).is_ok());
        let changed = b"Content-Type: text/plain\r\n\r\nhello\r\nWorld\r\n";
        let err = compare_leaves(lf, changed).unwrap_err();
        assert!(err.contains("first difference at offset 7"), "{err}");
    }
}

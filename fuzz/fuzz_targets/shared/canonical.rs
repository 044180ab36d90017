//! Shared by `prepare` and `protect`: is a MIME entity (or a whole message) canonical and
//! 7-bit where smime-core promises it?
//!
//! smime-core re-encodes bodies and keeps every header as it was ("Only its
//! Content-Transfer-Encoding field changes; every other header of the part ... stays as it
//! was", canon.rs). So:
//! - no LF without a CR before it, anywhere;
//! - in bodies (everything that is not a header section): no byte above 0x7F and no CR
//!   that does not start a CRLF;
//! - header sections (the top one, the one after each boundary line, the one at the start
//!   of a `message/rfc822` body) may carry what the input's headers carried (8-bit bytes
//!   from raw UTF-8 file names, stray CRs): they are not checked for it.
//!
//! Boundaries are learnt from the header sections as they are met, which is how a reader
//! walks the entity too.

/// `Err` names the first offending line.
#[allow(dead_code)] // each target uses one of the two
pub fn check(entity: &[u8]) -> Result<(), String> {
    check_with(entity, &[])
}

/// Like [`check`], but a line that looks like a header field (`Name: value`) and is, byte for
/// byte, a line of `input` passes: it is a header smime-core kept as it was. On malformed,
/// ambiguous nesting this walk and smime-core's can disagree about where a header section
/// is (the CI smoke found one: a `message/rfc822` part inside a multipart whose boundary
/// parameter swallowed the next one); a body line is never copied like that unless it was
/// 7-bit clean, which a line with an 8-bit byte or a bare CR is not.
#[allow(dead_code)]
pub fn check_with(entity: &[u8], input: &[u8]) -> Result<(), String> {
    let kept_header = |line: &[u8]| {
        let name_len = line
            .iter()
            .take_while(|&&b| b.is_ascii_graphic() && b != b':')
            .count();
        // A field line (`Name:`, or `Name :` in RFC 5322's obsolete syntax) or a folded
        // continuation line of one.
        let field = name_len > 0 && line[name_len..].trim_ascii_start().starts_with(b":");
        let continuation = matches!(line.first(), Some(b' ' | b'\t'));
        (field || continuation)
            && input
                .split(|&b| b == b'\n')
                .map(|l| l.strip_suffix(b"\r").unwrap_or(l))
                .any(|l| l == line)
    };
    for (i, &b) in entity.iter().enumerate() {
        if b == b'\n' && (i == 0 || entity[i - 1] != b'\r') {
            return Err(format!("bare LF at offset {i}"));
        }
    }
    let mut boundaries: Vec<Vec<u8>> = Vec::new();
    let mut in_header = true;
    let mut section: Vec<u8> = Vec::new();
    for (n, line) in split_crlf(entity).enumerate() {
        if in_header {
            if line.is_empty() {
                let lower = section.to_ascii_lowercase();
                if let Some(b) = boundary(&section, &lower) {
                    let mut dashed = b"--".to_vec();
                    dashed.extend_from_slice(&b);
                    boundaries.push(dashed);
                }
                // A message/rfc822 part (not re-encoded) holds a header section of its own.
                in_header = field_value(&lower, b"content-type").is_some_and(|v| {
                    v.starts_with(b"message/rfc822") || v.starts_with(b"message/global")
                }) && !field_value(&lower, b"content-transfer-encoding").is_some_and(
                    |v| v.starts_with(b"base64") || v.starts_with(b"quoted-printable"),
                );
                section.clear();
            } else {
                section.extend_from_slice(line);
                section.extend_from_slice(b"\r\n");
            }
            continue;
        }
        let trimmed = line.trim_ascii_end();
        if let Some(b) = boundaries
            .iter()
            .find(|b| trimmed.starts_with(b) && matches!(&trimmed[b.len()..], b"" | b"--"))
        {
            in_header = trimmed.len() == b.len();
            continue;
        }
        let suspicious = line.iter().any(|&c| c >= 0x80) || line.contains(&b'\r');
        if suspicious && kept_header(line) {
            continue;
        }
        if let Some(at) = line.iter().position(|&c| c >= 0x80) {
            return Err(format!(
                "8-bit byte {:#04x} in body line {n}: {}",
                line[at],
                String::from_utf8_lossy(line).escape_debug()
            ));
        }
        if line.contains(&b'\r') {
            return Err(format!(
                "bare CR in body line {n}: {}",
                String::from_utf8_lossy(line).escape_debug()
            ));
        }
    }
    Ok(())
}

fn split_crlf(data: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut rest = Some(data);
    std::iter::from_fn(move || {
        let r = rest?;
        match r.windows(2).position(|w| w == b"\r\n") {
            Some(at) => {
                rest = Some(&r[at + 2..]);
                Some(&r[..at])
            }
            None => {
                rest = None;
                (!r.is_empty()).then_some(r)
            }
        }
    })
}

/// The value of the first field named `name` (lower-case, without the colon) in a
/// lower-cased header section: white space before it removed, up to the end of the field
/// (folded lines included). White space between the name and the colon is allowed (RFC 5322
/// §4.5.1, obsolete syntax, which smime-core reads too; found by a long run).
fn field_value<'a>(lower: &'a [u8], name: &[u8]) -> Option<&'a [u8]> {
    let mut at = 0;
    while at + name.len() <= lower.len() {
        let colon = lower[at..].strip_prefix(name).and_then(|rest| {
            let ws = rest
                .iter()
                .take_while(|&&b| b == b' ' || b == b'\t')
                .count();
            (rest.get(ws) == Some(&b':')).then_some(name.len() + ws + 1)
        });
        if let Some(colon) = colon {
            let value = &lower[at + colon..];
            let mut end = 0;
            while let Some(eol) = value[end..].windows(2).position(|w| w == b"\r\n") {
                end += eol;
                if !matches!(value.get(end + 2), Some(b' ' | b'\t')) {
                    break;
                }
                end += 2;
            }
            return Some(value[..end.min(value.len())].trim_ascii_start());
        }
        at = lower[at..].windows(2).position(|w| w == b"\r\n")? + at + 2;
    }
    None
}

/// The `boundary` parameter of the section's Content-Type, as written (case kept).
fn boundary(section: &[u8], lower: &[u8]) -> Option<Vec<u8>> {
    let ct = field_value(lower, b"content-type")?;
    // `ct` is a sub-slice of `lower`: its offset there is the same in `section`.
    let start = ct.as_ptr() as usize - lower.as_ptr() as usize;
    let pos = ct.windows(9).position(|w| w == b"boundary=")? + start + 9;
    let value = &section[pos..start + ct.len()];
    let b = if let Some(quoted) = value.strip_prefix(b"\"") {
        &quoted[..quoted.iter().position(|&c| c == b'"')?]
    } else {
        let end = value
            .iter()
            .position(|&c| c == b';' || c.is_ascii_whitespace())
            .unwrap_or(value.len());
        &value[..end]
    };
    (!b.is_empty()).then(|| b.to_vec())
}

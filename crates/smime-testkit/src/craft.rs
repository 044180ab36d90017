//! Hand-made inputs for reader tests, and checks on line-oriented output.

/// The DER inside the (first) base64 body of a protected message.
pub fn der_of(message: &[u8]) -> Vec<u8> {
    let start = message
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a message with a body")
        + 4;
    crate::base64_decode(&message[start..]).expect("a base64 body")
}

/// A one-part message holding `der` unencoded (`Content-Transfer-Encoding: binary`).
pub fn binary_part(content_type: &str, der: &[u8]) -> Vec<u8> {
    let mut m = format!(
        "From: a@example.com\r\nMIME-Version: 1.0\r\nContent-Type: {content_type}\r\n\
         Content-Transfer-Encoding: binary\r\n\r\n"
    )
    .into_bytes();
    m.extend_from_slice(der);
    m
}

/// Re-encodes DER as OpenSSL's streaming output does: every constructed value with an
/// indefinite length, and long OCTET STRINGs (the content) in segments.
pub fn streaming_ber(der: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut rest = der;
    while let Some((&tag, after)) = rest.split_first() {
        let (len, body) = match after[0] {
            n @ 0..=0x7f => (usize::from(n), &after[1..]),
            n => {
                let count = usize::from(n & 0x7f);
                let len = after[1..=count]
                    .iter()
                    .fold(0, |acc, &b| (acc << 8) | usize::from(b));
                (len, &after[1 + count..])
            }
        };
        let value = &body[..len];
        if tag & 0x20 != 0 {
            out.extend_from_slice(&[tag, 0x80]);
            out.extend(streaming_ber(value));
            out.extend_from_slice(&[0, 0]);
        } else if tag == 0x04 && len > 1000 {
            out.extend_from_slice(&[0x24, 0x80]);
            for chunk in value.chunks(1000) {
                out.extend_from_slice(&[0x04, 0x82]);
                out.extend_from_slice(
                    &u16::try_from(chunk.len())
                        .expect("1000 bytes")
                        .to_be_bytes(),
                );
                out.extend_from_slice(chunk);
            }
            out.extend_from_slice(&[0, 0]);
        } else {
            out.extend_from_slice(&rest[..rest.len() - body.len() + len]);
        }
        rest = &body[len..];
    }
    out
}

/// A message of `levels` multiparts, each inside the one before, around one text part.
pub fn nested_multiparts(levels: usize) -> String {
    let mut input = String::from("From: a@example.com\r\nMIME-Version: 1.0\r\n");
    for i in 0..levels {
        input.push_str(&format!(
            "Content-Type: multipart/mixed; boundary=\"b{i}\"\r\n\r\n--b{i}\r\n"
        ));
    }
    input.push_str("Content-Type: text/plain\r\n\r\ndeep\r\n");
    for i in (0..levels).rev() {
        input.push_str(&format!("--b{i}--\r\n"));
    }
    input
}

/// A message of `levels` attached messages (`message/rfc822` in a multipart), each inside
/// the one before, around one text part.
pub fn nested_messages(levels: usize) -> String {
    let mut input = String::from("Content-Type: text/plain\r\n\r\ninnermost\r\n");
    for i in 0..levels {
        input = format!(
            "From: a{i}@example.com\r\nContent-Type: multipart/mixed; boundary=\"m{i}\"\r\n\r\n\
             --m{i}\r\nContent-Type: message/rfc822\r\n\r\n{input}\r\n--m{i}--\r\n"
        );
    }
    input
}

/// Fails unless `text` has a line equal to `line`.
pub fn assert_line(text: &str, line: &str) {
    assert!(
        text.lines().any(|l| l == line),
        "no line {line:?} in:\n{text}"
    );
}

/// Fails unless `text` has each of `lines` (in any order).
pub fn assert_lines(text: &str, lines: &[&str]) {
    for line in lines {
        assert_line(text, line);
    }
}

/// Fails unless `text` has a line that starts with `start`.
pub fn assert_line_starts(text: &str, start: &str) {
    assert!(
        text.lines().any(|l| l.starts_with(start)),
        "no line starting {start:?} in:\n{text}"
    );
}

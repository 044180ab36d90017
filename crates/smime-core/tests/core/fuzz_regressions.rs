//! What the fuzz targets in `fuzz/` found, as tests (the inputs cut down by hand).

use smime_core::{Email, ParseError};

/// The part that preparing `eml` refuses with [`ParseError::BadPart`]; panics when its header
/// does not parse or preparing it ends any other way.
fn bad_part(eml: &[u8]) -> String {
    match Email::parse(eml)
        .expect("the header parses")
        .prepared_entity()
    {
        Err(ParseError::BadPart { part }) => part,
        other => panic!("expected BadPart, got {other:?}"),
    }
}

/// `prepare` and `protect`, 2026-11-27: a multipart whose boundary parameter had bytes that
/// are not UTF-8. The header is read lossily, so the boundary became U+FFFD characters: no
/// delimiter of the input matched, and the closing delimiter written out (with U+FFFD in
/// it) matched nothing in the header, in an entity that should have been 7-bit. A boundary
/// that is not ASCII (RFC 2046 §5.1.1) is now refused.
#[test]
fn non_ascii_boundary_is_refused() {
    let eml = b"From: Alice <alice@example.com>\r\nTo: Bob <bob@example.net>\r\n\
MIME-Version: 1.0\r\nContent-Type: multipart/alternative; boundary=\"b\xff\xff-1\"\r\n\r\n\
--b\xff\xff-1\r\nContent-Type: text/plain\r\n\r\nhello\r\n--b\xff\xff-1--\r\n";
    assert_eq!(bad_part(eml), "body");

    // Nested: the part number is named.
    let eml = b"From: Alice <alice@example.com>\r\nTo: Bob <bob@example.net>\r\n\
MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"outer\"\r\n\r\n\
--outer\r\nContent-Type: multipart/alternative; boundary=\"in\x82\"\r\n\r\n\
--in\x82\r\nContent-Type: text/plain\r\n\r\nhello\r\n--in\x82--\r\n--outer--\r\n";
    assert_eq!(bad_part(eml), "1");

    // UTF-8 but not ASCII is refused too; ASCII is fine.
    let utf8 = "From: Alice <alice@example.com>\r\nTo: Bob <bob@example.net>\r\n\
Content-Type: multipart/mixed; boundary=\"caf\u{e9}\"\r\n\r\n--caf\u{e9}\r\n\r\nx\r\n--caf\u{e9}--\r\n";
    assert!(
        Email::parse(utf8.as_bytes())
            .expect("parses")
            .prepared_entity()
            .is_err()
    );
    let ascii = utf8.replace('\u{e9}', "e");
    let entity = Email::parse(ascii.as_bytes())
        .expect("parses")
        .prepared_entity()
        .expect("an ASCII boundary is fine");
    assert!(entity.is_ascii());
}

/// `prepare`, 2026-11-27: a multipart whose boundary never appears in its body (here an
/// unterminated quoted boundary). The whole body became preamble, which readers ignore,
/// and being 8-bit it was dropped: the prepared entity was the header and a closing
/// delimiter, everything else lost without an error. A multipart without a body part is
/// now refused.
#[test]
fn multipart_without_parts_is_refused() {
    let eml = "From: Alice <alice@example.com>\r\nTo: Bob <bob@example.net>\r\n\
MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"outer/\r\n\r\n\
preamble\r\n--outer\r\nContent-Type: text/plain; charset=utf-8\r\n\
Content-Transfer-Encoding: 8bit\r\n\r\nh\u{e9}llo\r\n--outer--\r\n";
    assert_eq!(bad_part(eml.as_bytes()), "body");
    // 7-bit, only a closing delimiter: no part either.
    let eml = b"From: Alice <alice@example.com>\r\nTo: Bob <bob@example.net>\r\n\
Content-Type: multipart/mixed; boundary=b\r\n\r\njust text\r\n--b--\r\n";
    bad_part(eml);
}

/// `protect`, 2026-11-27: a boundary holding a CR and NUL bytes (ASCII, but not
/// printable) was written back in delimiter lines, leaving a bare CR in the entity.
#[test]
fn control_characters_in_boundary_are_refused() {
    let eml = b"From: Alice <alice@example.com>\r\nTo: Bob <bob@example.net>\r\n\
Content-Type: multipart/mixed; boundary=\"a\rb\x01\"\r\n\r\n\
--a\rb\x01\r\nContent-Type: text/plain\r\n\r\nhello\r\n--a\rb\x01--\r\n";
    bad_part(eml);
}

/// `prepare`, 2026-11-27: a message without Content-Type whose body is quoted-printable
/// UTF-8 was labelled `charset=us-ascii`, because the charset was picked from the encoded
/// bytes (always ASCII); readers then showed `Ã©` for `é`. The decoded content decides now.
#[test]
fn implied_content_type_names_the_charset_of_the_decoded_body() {
    let charset_of = |eml: &[u8]| {
        let entity = Email::parse(eml)
            .expect("parses")
            .prepared_entity()
            .expect("prepares");
        let first = entity
            .split(|&b| b == b'\r')
            .next()
            .unwrap_or_default()
            .to_vec();
        String::from_utf8(first).expect("ASCII")
    };
    let head = "From: Alice <alice@example.com>\r\nTo: Bob <bob@example.net>\r\n";
    let qp = format!("{head}Content-Transfer-Encoding: quoted-printable\r\n\r\nr=C3=A9union\r\n");
    assert_eq!(
        charset_of(qp.as_bytes()),
        "Content-Type: text/plain; charset=utf-8"
    );
    let b64 = format!("{head}Content-Transfer-Encoding: base64\r\n\r\ncsOpdW5pb24=\r\n");
    assert_eq!(
        charset_of(b64.as_bytes()),
        "Content-Type: text/plain; charset=utf-8"
    );
    let ascii = format!("{head}Content-Transfer-Encoding: quoted-printable\r\n\r\nreunion=3D\r\n");
    assert_eq!(
        charset_of(ascii.as_bytes()),
        "Content-Type: text/plain; charset=us-ascii"
    );
}

/// `prepare`, 2026-11-28: `Content-Type: multipart/mixed;* boundary="outer"` (the boundary
/// cannot be read past the stray `;*`) over a body with 8-bit bytes. The multipart was
/// prepared as a leaf and its body base64-encoded: a multipart with a base64 encoding, which
/// RFC 2045 §6.4 forbids and mail-parser read as one opaque leaf. Now refused; a 7-bit body
/// under such a header is still kept as it is.
#[test]
fn multipart_without_readable_boundary_and_8bit_body_is_refused() {
    let eml = b"From: Alice <alice@example.com>\r\nTo: Bob <bob@example.net>\r\n\
MIME-Version: 1.0\r\nContent-Type: multipart/mixed;* boundary=\"outer\"\r\n\r\n\
preamble\r\n--outer\r\nContent-Type: text/plain; charset=utf-8\r\n\r\ncaf\xc3\xa9\r\n--outer--\r\n";
    let email = Email::parse(eml).expect("the header parses");
    match email.prepared_entity() {
        Err(ParseError::NoBoundary { part }) => assert_eq!(part, "body"),
        other => panic!("expected NoBoundary, got {other:?}"),
    }

    let ascii = b"From: Alice <alice@example.com>\r\nTo: Bob <bob@example.net>\r\n\
MIME-Version: 1.0\r\nContent-Type: multipart/mixed\r\n\r\nno boundary here\r\n";
    let entity = Email::parse(ascii)
        .expect("parses")
        .prepared_entity()
        .expect("a 7-bit body is kept");
    assert!(entity.ends_with(b"\r\n\r\nno boundary here\r\n"));
}

/// `prepare`, 2026-11-28: `Content-Type: ;multipart/mixed; boundary="outer"` (no media type
/// before the `;`) was read as multipart/mixed, so the parts inside were re-encoded; RFC 2045
/// §5.2 makes an invalid Content-Type text/plain, which is how mail-parser (and the mail
/// clients it stands for) read the message: one text body whose bytes changed. Now read as
/// text/plain: the body is re-encoded as a whole and decodes to the same bytes.
#[test]
fn content_type_without_media_type_is_text_plain() {
    let eml = b"From: Alice <alice@example.com>\r\nTo: Bob <bob@example.net>\r\n\
MIME-Version: 1.0\r\nContent-Type: ;multipart/mixed; boundary=\"outer\"\r\n\r\n\
--outer\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n\
caf\xc3\xa9\r\n--outer--\r\n";
    let entity = Email::parse(eml)
        .expect("parses")
        .prepared_entity()
        .expect("prepares");
    let text = String::from_utf8(entity).expect("7-bit");
    // One quoted-printable body holding the inner header as it was.
    assert!(text.starts_with("Content-Type: ;multipart/mixed; boundary=\"outer\"\r\n"));
    assert!(text.contains("Content-Transfer-Encoding: quoted-printable\r\n\r\n--outer\r\n"));
    assert!(text.contains("Content-Transfer-Encoding: 8bit\r\n\r\ncaf=C3=A9\r\n"));
}

//! Reading an `.eml`: line endings, the RFC 5322 header, the MIME entity and the addresses.

use std::borrow::Cow;
use std::collections::HashSet;

use mail_parser::{Address, MessageParser};

use super::error::ParseError;
use super::header::{Field, Header, HeaderProblem, LimitProblem};
use crate::limits::{MAX_FIELD_SIZE, MAX_HEADER_SIZE};

/// A mailbox: an address and, when the header gave one, a display name (RFC 2047 decoded).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mailbox {
    /// Display name, decoded.
    pub name: Option<String>,
    /// The address (`local@domain`), as written.
    pub address: String,
}

impl Mailbox {
    /// The address lowercased, the form used for key lookup and de-duplication.
    pub fn key(&self) -> String {
        self.address.to_ascii_lowercase()
    }
}

impl std::fmt::Display for Mailbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.name {
            Some(n) if !n.is_empty() => {
                if n.chars().any(|c| "()<>[]:;@\\,.\"".contains(c)) {
                    let escaped = n.replace('\\', "\\\\").replace('"', "\\\"");
                    write!(f, "\"{escaped}\" <{}>", self.address)
                } else {
                    write!(f, "{n} <{}>", self.address)
                }
            }
            _ => f.write_str(&self.address),
        }
    }
}

/// Which header a recipient came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum RecipientKind {
    /// `To:`
    To,
    /// `Cc:`
    Cc,
    /// `Bcc:` (removed from the header; kept in the envelope)
    Bcc,
}

/// A recipient with the header it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recipient {
    /// The mailbox.
    pub mailbox: Mailbox,
    /// The header it was found in.
    pub kind: RecipientKind,
}

/// A parsed email: its RFC 5322 header (kept byte for byte), its MIME entity, its addresses.
///
/// Parsing normalises line endings to CRLF and checks that there is a From address and at
/// least one recipient; it does not change anything else.
#[derive(Debug, Clone)]
pub struct Email {
    /// Every header field, in order, CRLF.
    header: Header,
    /// The body (CRLF).
    body: Vec<u8>,
    from: Mailbox,
    sender: Option<Mailbox>,
    recipients: Vec<Recipient>,
}

/// Header fields that belong to the MIME entity rather than to the message.
fn is_mime_field(f: &Field) -> bool {
    f.name().len() > 8 && f.name()[..8].eq_ignore_ascii_case(b"content-")
}

impl Email {
    /// Parses an `.eml` given as bytes (CRLF or bare LF line endings).
    ///
    /// The header is checked against [`MAX_HEADER_SIZE`] and
    /// [`MAX_FIELD_SIZE`] and for NUL bytes before it is parsed; the
    /// work done is linear in the size of the input. The input's own size is the caller's to
    /// bound (the `smime` command's `--max-size`).
    ///
    /// # Errors
    /// [`ParseError`] when the input is empty, is not an email, has a header over the limits or
    /// with a NUL byte, or lacks a From address or a recipient.
    pub fn parse(input: &[u8]) -> Result<Email, ParseError> {
        if input.iter().all(u8::is_ascii_whitespace) {
            return Err(ParseError::Empty);
        }
        let data = to_crlf(input);
        super::header::check_limits(&data).map_err(|e| match e {
            LimitProblem::SectionTooLarge => ParseError::HeaderTooLarge {
                limit: MAX_HEADER_SIZE,
            },
            LimitProblem::FieldTooLarge { name } => ParseError::FieldTooLarge {
                header: name,
                limit: MAX_FIELD_SIZE,
            },
            LimitProblem::Nul { name } => ParseError::NulInHeader { header: name },
        })?;
        let (header, body_at) = Header::parse(&data).map_err(|e| match e {
            HeaderProblem::NotAField { line } => ParseError::NotAnEmail { line },
        })?;
        let body = data[body_at..].to_vec();

        let mut from = None;
        let mut sender = None;
        let mut recipients: Vec<Recipient> = Vec::new();
        // Lowercased addresses already in `recipients` (a set: a header may hold thousands).
        let mut seen: HashSet<String> = HashSet::new();
        for field in &header.fields {
            let kind = if field.is("To") {
                Some(RecipientKind::To)
            } else if field.is("Cc") {
                Some(RecipientKind::Cc)
            } else if field.is("Bcc") {
                Some(RecipientKind::Bcc)
            } else {
                None
            };
            if let Some(kind) = kind {
                for mailbox in mailboxes(field)? {
                    if seen.insert(mailbox.key()) {
                        recipients.push(Recipient { mailbox, kind });
                    }
                }
            } else if field.is("From") && from.is_none() {
                from = mailboxes(field)?.into_iter().next();
            } else if field.is("Sender") && sender.is_none() {
                sender = mailboxes(field)?.into_iter().next();
            }
        }
        let from = from.ok_or(ParseError::NoFrom)?;
        if recipients.is_empty() {
            return Err(ParseError::NoRecipients);
        }
        Ok(Email {
            header,
            body,
            from,
            sender,
            recipients,
        })
    }

    /// The first From mailbox: the signer, and the envelope sender.
    pub fn from(&self) -> &Mailbox {
        &self.from
    }

    /// The Sender mailbox, when the header has one.
    pub fn sender(&self) -> Option<&Mailbox> {
        self.sender.as_ref()
    }

    /// Every recipient from To, Cc and Bcc, in header order, each address once
    /// (compared case-insensitively).
    pub fn recipients(&self) -> &[Recipient] {
        &self.recipients
    }

    /// Recipients from one header kind.
    pub fn recipients_of(&self, kind: RecipientKind) -> impl Iterator<Item = &Mailbox> {
        self.recipients
            .iter()
            .filter(move |r| r.kind == kind)
            .map(|r| &r.mailbox)
    }

    /// The value of the first header field called `name`, unfolded, as text (lossy).
    pub fn header_value(&self, name: &str) -> Option<String> {
        self.header
            .get(name)
            .map(|f| String::from_utf8_lossy(&f.value()).into_owned())
    }

    /// The header fields that stay outside the protection: everything but `Content-*`,
    /// `MIME-Version` and `Bcc`, in their original order and folding.
    pub(crate) fn outer_header(&self) -> impl Iterator<Item = &Field> {
        self.header
            .fields
            .iter()
            .filter(|f| !is_mime_field(f) && !f.is("MIME-Version") && !f.is("Bcc"))
    }

    /// The MIME entity's header: the `Content-*` fields, or an implied text/plain when the
    /// message has none.
    pub(crate) fn entity_header(&self) -> Header {
        let fields: Vec<Field> = self
            .header
            .fields
            .iter()
            .filter(|f| is_mime_field(f))
            .cloned()
            .collect();
        let mut header = Header { fields };
        if header.get("Content-Type").is_none() {
            // RFC 2045 §5.2 implies us-ascii; say so explicitly inside the protection, and name
            // UTF-8 when the body is UTF-8 rather than mislabel it. The content is what counts:
            // a quoted-printable or base64 body is ASCII whatever it holds.
            let decoded = match header.transfer_encoding().as_str() {
                "quoted-printable" => Cow::Owned(super::encoding::qp_decode_lenient(&self.body)),
                "base64" => super::encoding::base64_decode_lenient(&self.body)
                    .map_or(Cow::Borrowed(&self.body[..]), Cow::Owned),
                _ => Cow::Borrowed(&self.body[..]),
            };
            let charset = if decoded.is_ascii() {
                "us-ascii"
            } else if std::str::from_utf8(&decoded).is_ok() {
                "utf-8"
            } else {
                "unknown-8bit"
            };
            header.fields.insert(
                0,
                Field::new("Content-Type", &format!("text/plain; charset={charset}")),
            );
        }
        header
    }

    /// The body, CRLF, as it follows the header.
    pub(crate) fn body(&self) -> &[u8] {
        &self.body
    }
}

/// Every mailbox in an address field (groups flattened), RFC 2047 names decoded.
fn mailboxes(field: &Field) -> Result<Vec<Mailbox>, ParseError> {
    let mut raw = field.raw.clone();
    raw.extend_from_slice(b"\r\n");
    let name = String::from_utf8_lossy(field.name()).trim().to_owned();
    let bad = || ParseError::BadAddress {
        header: name.clone(),
        value: shorten(&String::from_utf8_lossy(&field.value())),
    };
    let parsed = MessageParser::new()
        .parse_headers(&raw[..])
        .ok_or_else(bad)?;
    let address = if field.is("From") {
        parsed.from()
    } else if field.is("Sender") {
        parsed.sender()
    } else if field.is("To") {
        parsed.to()
    } else if field.is("Cc") {
        parsed.cc()
    } else {
        parsed.bcc()
    };
    let Some(address) = address else {
        // An empty field (`Bcc:` with nothing) holds no mailbox.
        return if field.value().is_empty() || field.value().ends_with(b";") {
            Ok(Vec::new())
        } else {
            Err(bad())
        };
    };
    let addrs: Vec<_> = match address {
        Address::List(list) => list.iter().collect(),
        Address::Group(groups) => groups.iter().flat_map(|g| g.addresses.iter()).collect(),
    };
    let mut out = Vec::with_capacity(addrs.len());
    for a in addrs {
        let Some(addr) = a.address.as_deref().map(str::trim) else {
            // A name with no address: text where an address should be.
            match a.name.as_deref().map(str::trim) {
                Some(n) if !n.is_empty() => {
                    return Err(ParseError::BadAddress {
                        header: name,
                        value: shorten(n),
                    });
                }
                _ => continue,
            }
        };
        let valid = addr
            .split_once('@')
            .is_some_and(|(l, d)| !l.is_empty() && !d.is_empty() && !d.contains('@'))
            // U+FFFD: the field was not valid UTF-8 there; no key file can be named after it.
            && !addr
                .chars()
                .any(|c| c.is_whitespace() || c.is_control() || c == '\u{fffd}');
        if !valid {
            return Err(ParseError::BadAddress {
                header: name,
                value: shorten(addr),
            });
        }
        out.push(Mailbox {
            name: a
                .name
                .as_deref()
                .map(str::to_owned)
                .filter(|n| !n.is_empty()),
            address: addr.to_owned(),
        });
    }
    Ok(out)
}

/// At most 200 characters of `text`, for error messages (a header field may be 100 KiB).
fn shorten(text: &str) -> String {
    const MAX: usize = 200;
    match text.char_indices().nth(MAX) {
        Some((at, _)) => format!("{}...", &text[..at]),
        None => text.to_owned(),
    }
}

/// Converts bare LF line endings to CRLF; borrows when there are none.
pub(crate) fn to_crlf(data: &[u8]) -> Cow<'_, [u8]> {
    let bare = memchr::memchr_iter(b'\n', data).any(|i| i == 0 || data[i - 1] != b'\r');
    if !bare {
        return Cow::Borrowed(data);
    }
    let mut out = Vec::with_capacity(data.len() + data.len() / 32);
    for (i, &b) in data.iter().enumerate() {
        if b == b'\n' && (i == 0 || data[i - 1] != b'\r') {
            out.push(b'\r');
        }
        out.push(b);
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn addresses_with_commas_quotes_groups_and_encoded_words() {
        let eml = b"From: =?UTF-8?B?QWxpY2Ugw4l0w6k=?= <alice@example.com>\n\
To: \"Doe, Bob\" <bob@example.net>, \"Carol \\\"C\\\" Smith\" <Carol@Example.org>\n\
Cc: team: erin@example.com, bob@example.net;\n\
Bcc: dave@example.net\n\
Subject: hi\n\nbody\n";
        let e = Email::parse(eml).unwrap();
        assert_eq!(e.from().address, "alice@example.com");
        assert_eq!(e.from().name.as_deref(), Some("Alice \u{c9}t\u{e9}"));
        let got: Vec<_> = e
            .recipients()
            .iter()
            .map(|r| (r.mailbox.address.as_str(), r.kind))
            .collect();
        assert_eq!(
            got,
            vec![
                ("bob@example.net", RecipientKind::To),
                ("Carol@Example.org", RecipientKind::To),
                ("erin@example.com", RecipientKind::Cc),
                ("dave@example.net", RecipientKind::Bcc),
            ]
        );
        assert_eq!(e.recipients()[0].mailbox.name.as_deref(), Some("Doe, Bob"));
        assert_eq!(
            e.recipients()[0].mailbox.to_string(),
            "\"Doe, Bob\" <bob@example.net>"
        );
        assert_eq!(
            e.recipients()[1].mailbox.to_string(),
            "\"Carol \\\"C\\\" Smith\" <Carol@Example.org>"
        );
        assert_eq!(e.recipients()[3].mailbox.to_string(), "dave@example.net");
        assert_eq!(e.body, b"body\r\n");
        assert!(e.outer_header().all(|f| !f.is("Bcc")));
    }

    #[test]
    fn bad_inputs() {
        assert_eq!(Email::parse(b"").unwrap_err(), ParseError::Empty);
        assert_eq!(Email::parse(b" \n").unwrap_err(), ParseError::Empty);
        assert_eq!(
            Email::parse(b"\x89PNG\r\n\x1a\n").unwrap_err(),
            ParseError::NotAnEmail { line: 1 }
        );
        assert_eq!(
            Email::parse(b"To: b@x.y\r\n\r\nhi").unwrap_err(),
            ParseError::NoFrom
        );
        assert_eq!(
            Email::parse(b"From: a@x.y\r\n\r\nhi").unwrap_err(),
            ParseError::NoRecipients
        );
        assert!(matches!(
            Email::parse(b"From: a@x.y\r\nTo: not an address\r\n\r\nhi").unwrap_err(),
            ParseError::BadAddress { .. }
        ));
    }

    #[test]
    fn implied_content_type() {
        let e = Email::parse(b"From: a@x.y\nTo: b@x.y\n\nplain\n").unwrap();
        let h = e.entity_header();
        assert_eq!(
            h.fields[0].raw,
            b"Content-Type: text/plain; charset=us-ascii\r\n"
        );
    }
}

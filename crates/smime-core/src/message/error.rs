//! The error of reading an `.eml`. It never carries the message's content beyond a shortened
//! address or header name.

/// Why an `.eml` could not be read ([`Email::parse`](crate::Email::parse)).
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ParseError {
    /// The input has no bytes at all.
    #[error("the message is empty")]
    Empty,
    /// The input is larger than the configured limit.
    #[error("the message is {size} bytes, over the limit of {limit} bytes")]
    TooLarge {
        /// Size of the input.
        size: u64,
        /// The limit in force.
        limit: u64,
    },
    /// A header line is neither a field nor a continuation: not an email.
    #[error("not an email: header line {line} is not a header field")]
    NotAnEmail {
        /// 1-based line number.
        line: usize,
    },
    /// The header section has no empty line within
    /// [`MAX_HEADER_SIZE`](crate::MAX_HEADER_SIZE) bytes.
    #[error("the header section is over the limit of {limit} bytes")]
    HeaderTooLarge {
        /// The limit in force.
        limit: usize,
    },
    /// One header field, its folded lines together, is over
    /// [`MAX_FIELD_SIZE`](crate::MAX_FIELD_SIZE) bytes.
    #[error("the {header} header field is over the limit of {limit} bytes")]
    FieldTooLarge {
        /// The field's name (at most 64 characters of it).
        header: String,
        /// The limit in force.
        limit: usize,
    },
    /// A header field holds a NUL byte, which RFC 5322 forbids.
    #[error("the {header} header field contains a NUL byte")]
    NulInHeader {
        /// The field's name.
        header: String,
    },
    /// The header has no `From:` address.
    #[error("no From address")]
    NoFrom,
    /// The header has no To, Cc or Bcc address.
    #[error("no recipients: the message has no To, Cc or Bcc address")]
    NoRecipients,
    /// An address header could not be read.
    #[error("the {header} header holds an address that cannot be read: {value:?}")]
    BadAddress {
        /// Header field name.
        header: String,
        /// The offending text (an address, never a secret).
        value: String,
    },
    /// MIME nesting deeper than [`MAX_MIME_DEPTH`](crate::MAX_MIME_DEPTH).
    #[error("MIME parts nested deeper than {limit} levels")]
    TooDeep {
        /// The limit in force.
        limit: usize,
    },
    /// A MIME part's header cannot be read.
    #[error("MIME part {part} has a header that cannot be read")]
    BadPart {
        /// Part number, e.g. `1.2`.
        part: String,
    },
    /// A multipart whose boundary parameter is missing or cannot be read, over content that
    /// is not 7-bit: it cannot be split into its parts, and re-encoding it whole would write a
    /// multipart in base64, which RFC 2045 §6.4 forbids. (A 7-bit one is kept as it is.)
    #[error("{part} is a multipart without a boundary that can be read, and its content is 8-bit")]
    NoBoundary {
        /// `body` or `part N`.
        part: String,
    },
    /// A part has an encoding that cannot be made 7-bit.
    #[error("{part} has transfer encoding {encoding:?} with content that cannot be made 7-bit")]
    BadEncoding {
        /// Part number or `body`.
        part: String,
        /// The Content-Transfer-Encoding.
        encoding: String,
    },
}

//! The message format both directions share: RFC 5322 header sections (`header`), the `.eml`
//! with its addresses (`eml`: [`Email`]) and the MIME transfer encodings (`encoding`).
//!
//! Shared because a message is a message either way: building parses the `.eml` it is given
//! and writes its header and encoded parts; reading splits the same kind of header and decodes
//! the same encodings to find each S/MIME layer. Nothing here knows about CMS or keys.

pub(crate) mod eml;
pub(crate) mod encoding;
mod error;
pub(crate) mod header;

pub use eml::{Email, Mailbox, Recipient, RecipientKind};
pub use error::ParseError;

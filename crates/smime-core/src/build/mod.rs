//! Building: what turns an `.eml` into S/MIME.
//!
//! [`Protector`] (in `compose`) parses the message with [`Email`](crate::Email), makes its MIME
//! entity canonical and 7-bit (`canon`), signs and encrypts it into CMS structures
//! (`cms_build`, framed by hand in `der_frame` around the large content), and writes the
//! finished message. Keys come from [`KeyStore`](crate::KeyStore) (`keys/`); the time from a
//! [`Clock`].

mod canon;
mod clock;
mod cms_build;
mod compose;
mod der_frame;
mod error;

pub use clock::{Clock, FixedClock, SystemClock};
pub use cms_build::Cipher;
pub use compose::{Options, Protected, Protector, SignMode};
pub use error::ProtectError;

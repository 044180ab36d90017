//! Secrets (an SMTP password, a SparkPost API key): never printed, wiped from memory on drop.

use std::fmt;

use base64ct::{Base64, Encoding};
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

/// A password or API key.
///
/// Its `Debug` output is always `********` (the same length whatever the secret, unlike the
/// ancestor's mask), it has no `Display`, and its memory is overwritten when it is dropped.
/// The crate never puts a secret in an error, a receipt or a `Debug` string; replies from a
/// server that echo it back are scrubbed.
///
/// ```
/// use smime_transport::Secret;
///
/// let key = Secret::new(String::from("0123456789abcdef"));
/// assert_eq!(format!("{key:?}"), "********");
/// ```
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret. Pass the `String` you read (from the environment, a file): it is
    /// moved, not copied.
    pub fn new(value: String) -> Self {
        Self(value)
    }

    /// Whether the secret is the empty string.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The secret itself, for the code that must send it.
    pub(crate) fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("********")
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Self(value)
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Self {
        Self(value.to_owned())
    }
}

/// The forms in which a secret could travel on the wire and come back in a reply: the
/// secret itself, its base64 (AUTH LOGIN) and, for AUTH PLAIN, the base64 of
/// `\0user\0secret`.
pub(crate) fn wire_forms(secret: &Secret, username: Option<&str>) -> Vec<Zeroizing<String>> {
    let mut forms = Vec::with_capacity(3);
    if secret.is_empty() {
        return forms;
    }
    forms.push(Zeroizing::new(secret.expose().to_owned()));
    forms.push(Zeroizing::new(Base64::encode_string(
        secret.expose().as_bytes(),
    )));
    if let Some(user) = username {
        let mut plain = Zeroizing::new(Vec::with_capacity(user.len() + secret.expose().len() + 2));
        plain.push(0);
        plain.extend_from_slice(user.as_bytes());
        plain.push(0);
        plain.extend_from_slice(secret.expose().as_bytes());
        forms.push(Zeroizing::new(Base64::encode_string(&plain)));
    }
    forms
}

/// Replaces every appearance of any of `forms` in `text` with `********`.
pub(crate) fn scrub(text: &str, forms: &[Zeroizing<String>]) -> String {
    let mut out = text.to_owned();
    for form in forms {
        if !form.is_empty() && out.contains(form.as_str()) {
            out = out.replace(form.as_str(), "********");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_is_a_fixed_mask() {
        assert_eq!(format!("{:?}", Secret::from("a")), "********");
        assert_eq!(
            format!("{:?}", Secret::from("a much longer secret")),
            "********"
        );
    }

    #[test]
    fn scrub_removes_every_wire_form() {
        let secret = Secret::from("hunter2-hunter2");
        let forms = wire_forms(&secret, Some("user"));
        let b64 = Base64::encode_string(b"hunter2-hunter2");
        let plain = Base64::encode_string(b"\0user\0hunter2-hunter2");
        let text = format!("535 bad hunter2-hunter2 {b64} {plain}");
        let cleaned = scrub(&text, &forms);
        assert!(!cleaned.contains("hunter2"));
        assert!(!cleaned.contains(&b64));
        assert!(!cleaned.contains(&plain));
        assert!(cleaned.starts_with("535 bad ********"));
    }
}

//! An SMTP server's reply, kept as the server wrote it.

use std::fmt;

use zeroize::Zeroizing;

use crate::secret::scrub;

/// A reply from an SMTP server: the code, the enhanced status code when there is one, and
/// the text. `Display` gives it back as the server wrote it, e.g.
/// `550 5.7.1 relaying denied` (the lines of a multi-line reply are joined by a space).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reply {
    code: u16,
    enhanced: Option<[u8; 3]>,
    text: String,
}

impl Reply {
    /// A reply with the given code and text; an enhanced status code (`5.7.1`) at the
    /// start of `text` is recognised.
    pub fn new(code: u16, text: impl Into<String>) -> Self {
        let text = text.into();
        match split_enhanced(&text) {
            Some((enhanced, rest)) => Self {
                code,
                enhanced: Some(enhanced),
                text: rest.to_owned(),
            },
            None => Self {
                code,
                enhanced: None,
                text,
            },
        }
    }

    pub(crate) fn from_response(response: smtp_proto::Response<String>) -> Self {
        let enhanced = if response.esc == [0, 0, 0] {
            None
        } else {
            Some(response.esc)
        };
        let text = response
            .message
            .split('\n')
            .map(|line| line.trim_end_matches('\r'))
            .collect::<Vec<_>>()
            .join(" ");
        Self {
            code: response.code,
            enhanced,
            text,
        }
    }

    /// The three-digit reply code.
    pub fn code(&self) -> u16 {
        self.code
    }

    /// The enhanced status code (RFC 3463), e.g. `(5, 7, 1)`.
    pub fn enhanced_code(&self) -> Option<(u8, u8, u8)> {
        self.enhanced.map(|[a, b, c]| (a, b, c))
    }

    /// The text after the code(s).
    pub fn text(&self) -> &str {
        &self.text
    }

    /// 2xx or 3xx.
    pub fn is_positive(&self) -> bool {
        (200..400).contains(&self.code)
    }

    /// 4xx: try again later.
    pub fn is_transient(&self) -> bool {
        (400..500).contains(&self.code)
    }

    /// 5xx (or anything that is not a valid code): do not try again.
    pub fn is_permanent(&self) -> bool {
        !self.is_positive() && !self.is_transient()
    }

    /// 421: the server is closing the session.
    pub(crate) fn closes_session(&self) -> bool {
        self.code == 421
    }

    /// The queue id in a final `250` reply (`Ok: queued as 4F2A1` from Postfix, `id=...`
    /// from Exim), when the server gives one.
    pub(crate) fn queue_id(&self) -> Option<String> {
        let text = &self.text;
        let after = if let Some(pos) = text.find("queued as ") {
            &text[pos + "queued as ".len()..]
        } else if let Some(pos) = text.find("id=") {
            &text[pos + "id=".len()..]
        } else {
            return None;
        };
        let id: String = after
            .chars()
            .take_while(|c| !c.is_whitespace() && *c != ',' && *c != ';')
            .collect();
        if id.is_empty() { None } else { Some(id) }
    }

    pub(crate) fn map_text(mut self, f: impl FnOnce(&str) -> String) -> Self {
        self.text = f(&self.text);
        self
    }

    /// Masks every appearance of a secret in the text.
    pub(crate) fn scrub(&mut self, forms: &[Zeroizing<String>]) {
        self.text = scrub(&self.text, forms);
    }
}

impl fmt::Display for Reply {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.code)?;
        if let Some([a, b, c]) = self.enhanced {
            write!(f, " {a}.{b}.{c}")?;
        }
        if !self.text.is_empty() {
            write!(f, " {}", self.text)?;
        }
        Ok(())
    }
}

fn split_enhanced(text: &str) -> Option<([u8; 3], &str)> {
    let (first, rest) = match text.split_once(' ') {
        Some((first, rest)) => (first, rest),
        None => (text, ""),
    };
    let mut parts = first.split('.');
    let mut out = [0u8; 3];
    for slot in &mut out {
        *slot = parts.next()?.parse().ok()?;
    }
    if parts.next().is_some() || !(2..=5).contains(&out[0]) {
        return None;
    }
    Some((out, rest))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_is_verbatim() {
        let r = Reply::new(550, "5.7.1 relaying denied");
        assert_eq!(r.to_string(), "550 5.7.1 relaying denied");
        assert_eq!(r.enhanced_code(), Some((5, 7, 1)));
        assert!(r.is_permanent());
        let r = Reply::new(451, "try again later");
        assert_eq!(r.to_string(), "451 try again later");
        assert!(r.is_transient());
    }

    #[test]
    fn queue_ids() {
        assert_eq!(
            Reply::new(250, "2.0.0 Ok: queued as 89BBD98C189").queue_id(),
            Some("89BBD98C189".to_owned())
        );
        assert_eq!(
            Reply::new(250, "OK id=1tXyZ-000abc-Q1").queue_id(),
            Some("1tXyZ-000abc-Q1".to_owned())
        );
        assert_eq!(Reply::new(250, "2.0.0 OK").queue_id(), None);
    }
}

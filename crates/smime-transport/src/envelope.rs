//! The SMTP envelope: who the message is from (`MAIL FROM`) and every recipient (`RCPT TO`).

use std::fmt;

/// One envelope recipient, with the display name the SparkPost API can show.
///
/// Every recipient is listed here, Bcc included: a Bcc recipient is one that is in the
/// envelope but not in the `To`/`Cc` headers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Recipient {
    address: String,
    name: Option<String>,
}

impl Recipient {
    /// A recipient without a display name. The address is checked by [`Envelope::new`].
    pub fn new(address: impl Into<String>) -> Self {
        Self {
            address: address.into(),
            name: None,
        }
    }

    /// Adds the display name (used by the SparkPost API; SMTP does not carry names).
    pub fn with_name(mut self, name: impl Into<String>) -> Self {
        let name = name.into();
        self.name = if name.trim().is_empty() {
            None
        } else {
            Some(name)
        };
        self
    }

    /// The address, as given to `RCPT TO`.
    pub fn address(&self) -> &str {
        &self.address
    }

    /// The display name, when known.
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }
}

impl From<&str> for Recipient {
    fn from(address: &str) -> Self {
        Self::new(address)
    }
}

impl From<String> for Recipient {
    fn from(address: String) -> Self {
        Self::new(address)
    }
}

impl From<&String> for Recipient {
    fn from(address: &String) -> Self {
        Self::new(address.as_str())
    }
}

/// Why an envelope could not be built.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EnvelopeError {
    /// No recipient was given.
    #[error("the envelope has no recipient")]
    NoRecipient,
    /// An address is not usable in an SMTP command.
    #[error("invalid {role} address {address:?}: {reason}")]
    InvalidAddress {
        /// `sender` or `recipient`.
        role: &'static str,
        /// The address as given.
        address: String,
        /// What is wrong with it.
        reason: &'static str,
    },
}

/// The envelope of one message: the reverse path and every forward path.
///
/// Addresses are checked so that none can inject SMTP commands (no control characters,
/// spaces or angle brackets) and duplicate recipients (compared without regard to case)
/// are merged, keeping the first spelling and the first display name given.
///
/// ```
/// use smime_transport::{Envelope, Recipient};
///
/// let envelope = Envelope::new(
///     "alice@example.com",
///     [Recipient::new("bob@example.net").with_name("Bob"), "carol@example.org".into()],
/// )?;
/// assert_eq!(envelope.mail_from(), "alice@example.com");
/// assert_eq!(envelope.rcpt_to().len(), 2);
/// # Ok::<(), smime_transport::EnvelopeError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Envelope {
    mail_from: String,
    rcpt_to: Vec<Recipient>,
}

/// The longest address accepted (RFC 5321 §4.5.3.1.3 limits a path to 256 octets).
const MAX_ADDRESS: usize = 320;

impl Envelope {
    /// Builds an envelope. `mail_from` may be empty (the null reverse path `<>`, used for
    /// bounces); there must be at least one recipient.
    pub fn new<R: Into<Recipient>>(
        mail_from: impl Into<String>,
        rcpt_to: impl IntoIterator<Item = R>,
    ) -> Result<Self, EnvelopeError> {
        let mail_from = mail_from.into();
        if !mail_from.is_empty() {
            check_address(&mail_from).map_err(|reason| EnvelopeError::InvalidAddress {
                role: "sender",
                address: mail_from.clone(),
                reason,
            })?;
        }
        let mut recipients: Vec<Recipient> = Vec::new();
        for recipient in rcpt_to {
            let recipient = recipient.into();
            check_address(&recipient.address).map_err(|reason| EnvelopeError::InvalidAddress {
                role: "recipient",
                address: recipient.address.clone(),
                reason,
            })?;
            match recipients
                .iter_mut()
                .find(|known| known.address.eq_ignore_ascii_case(&recipient.address))
            {
                Some(known) => {
                    if known.name.is_none() {
                        known.name = recipient.name;
                    }
                }
                None => recipients.push(recipient),
            }
        }
        if recipients.is_empty() {
            return Err(EnvelopeError::NoRecipient);
        }
        Ok(Self {
            mail_from,
            rcpt_to: recipients,
        })
    }

    /// The reverse path (`MAIL FROM`); empty for the null sender.
    pub fn mail_from(&self) -> &str {
        &self.mail_from
    }

    /// Every recipient, in the order given, without duplicates.
    pub fn rcpt_to(&self) -> &[Recipient] {
        &self.rcpt_to
    }

    /// The recipients' addresses.
    pub fn addresses(&self) -> impl Iterator<Item = &str> {
        self.rcpt_to.iter().map(Recipient::address)
    }

    /// The same envelope limited to the recipients whose address is in `addresses`, or
    /// `None` when no recipient is left.
    pub fn restricted_to<S: AsRef<str>>(&self, addresses: &[S]) -> Option<Self> {
        let rcpt_to: Vec<Recipient> = self
            .rcpt_to
            .iter()
            .filter(|r| {
                addresses
                    .iter()
                    .any(|a| a.as_ref().eq_ignore_ascii_case(&r.address))
            })
            .cloned()
            .collect();
        if rcpt_to.is_empty() {
            None
        } else {
            Some(Self {
                mail_from: self.mail_from.clone(),
                rcpt_to,
            })
        }
    }

    /// Whether an address needs the SMTPUTF8 extension.
    pub(crate) fn needs_smtputf8(&self) -> bool {
        !self.mail_from.is_ascii() || self.rcpt_to.iter().any(|r| !r.address.is_ascii())
    }
}

impl fmt::Display for Envelope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "<{}> ->", self.mail_from)?;
        for r in &self.rcpt_to {
            write!(f, " <{}>", r.address)?;
        }
        Ok(())
    }
}

fn check_address(address: &str) -> Result<(), &'static str> {
    if address.is_empty() {
        return Err("empty");
    }
    if address.len() > MAX_ADDRESS {
        return Err("longer than 320 bytes");
    }
    if address
        .chars()
        .any(|c| c.is_control() || c.is_whitespace() || c == '<' || c == '>')
    {
        return Err("contains a space, a control character or an angle bracket");
    }
    match address.rsplit_once('@') {
        Some((local, domain)) if !local.is_empty() && !domain.is_empty() => Ok(()),
        _ => Err("not of the form local@domain"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_command_injection_and_empties() {
        for bad in [
            "a@b\r\nRCPT TO:<x@y>",
            "a b@c",
            "<a@b>",
            "nobody",
            "@example.com",
            "a@",
        ] {
            assert!(
                matches!(
                    Envelope::new("s@example.com", [bad]),
                    Err(EnvelopeError::InvalidAddress { .. })
                ),
                "{bad:?} accepted"
            );
        }
        assert_eq!(
            Envelope::new("s@example.com", Vec::<Recipient>::new()),
            Err(EnvelopeError::NoRecipient)
        );
        assert!(Envelope::new("bad sender", ["a@b"]).is_err());
    }

    #[test]
    fn null_sender_and_dedup() {
        let e = Envelope::new(
            "",
            [
                Recipient::new("Bob@Example.net"),
                Recipient::new("bob@example.net").with_name("Bob"),
                Recipient::new("carol@example.org"),
            ],
        )
        .expect("valid");
        assert_eq!(e.mail_from(), "");
        assert_eq!(e.rcpt_to().len(), 2);
        assert_eq!(e.rcpt_to()[0].address(), "Bob@Example.net");
        assert_eq!(e.rcpt_to()[0].name(), Some("Bob"));
        let only = e.restricted_to(&["carol@example.org"]).expect("one left");
        assert_eq!(only.addresses().collect::<Vec<_>>(), ["carol@example.org"]);
        assert!(e.restricted_to(&["nobody@example.com"]).is_none());
    }
}

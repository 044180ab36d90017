//! The `X-MSYS-API` header that carries SparkPost/Momentum options through SMTP.

use serde::Serialize;

use crate::error::SendError;

/// Options for SparkPost's SMTP relay (and Momentum), sent as an `X-MSYS-API` header of
/// JSON prepended to the message's outer header.
///
/// The header sits outside anything signed (an S/MIME signature covers the inner entity),
/// so adding it does not break the signature. The defaults suit signed mail: open and click
/// tracking off (tracking rewrites the body), `transactional` on.
///
/// ```
/// use smime_transport::MsysApi;
///
/// let header = MsysApi::new().campaign_id("spring").header_line()?;
/// assert_eq!(
///     header,
///     "X-MSYS-API: {\"campaign_id\":\"spring\",\"options\":{\"open_tracking\":false,\
///      \"click_tracking\":false,\"transactional\":true}}\r\n"
/// );
/// # Ok::<(), smime_transport::SendError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MsysApi {
    campaign_id: Option<String>,
    open_tracking: bool,
    click_tracking: bool,
    transactional: bool,
}

impl Default for MsysApi {
    fn default() -> Self {
        Self::new()
    }
}

/// The longest header line SMTP allows, without its CRLF (RFC 5322 §2.1.1). Folding the
/// header would corrupt the JSON, so a longer one is refused.
const MAX_LINE: usize = 998;

#[derive(Serialize)]
struct Json<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    campaign_id: Option<&'a str>,
    options: Options,
}

#[derive(Serialize)]
struct Options {
    open_tracking: bool,
    click_tracking: bool,
    transactional: bool,
}

impl MsysApi {
    /// Tracking off, transactional, no campaign.
    pub fn new() -> Self {
        Self {
            campaign_id: None,
            open_tracking: false,
            click_tracking: false,
            transactional: true,
        }
    }

    /// Sets the campaign id.
    pub fn campaign_id(mut self, id: impl Into<String>) -> Self {
        self.campaign_id = Some(id.into());
        self
    }

    /// Turns open and click tracking on or off. Tracking rewrites the body, which breaks
    /// a signature that covers it: keep it off for signed mail.
    pub fn tracking(mut self, on: bool) -> Self {
        self.open_tracking = on;
        self.click_tracking = on;
        self
    }

    /// Marks the mail transactional (the default) or not.
    pub fn transactional(mut self, on: bool) -> Self {
        self.transactional = on;
        self
    }

    /// The header line, CRLF included, as prepended to the message. Non-ASCII characters
    /// are escaped (`\u00e9`), so the header is 7-bit; longer than 998 characters is an
    /// error.
    pub fn header_line(&self) -> Result<String, SendError> {
        let json = serde_json::to_string(&Json {
            campaign_id: self.campaign_id.as_deref(),
            options: Options {
                open_tracking: self.open_tracking,
                click_tracking: self.click_tracking,
                transactional: self.transactional,
            },
        })
        .map_err(|e| SendError::config(format!("X-MSYS-API: {e}")))?;
        let mut line = String::with_capacity(json.len() + 14);
        line.push_str("X-MSYS-API: ");
        // Outside strings JSON is ASCII; inside, \uXXXX is an exact equivalent.
        for c in json.chars() {
            if c.is_ascii() {
                line.push(c);
            } else {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    line.push_str(&format!("\\u{unit:04x}"));
                }
            }
        }
        if line.len() > MAX_LINE {
            return Err(SendError::config(format!(
                "the X-MSYS-API header would be {} characters long; the limit is {MAX_LINE}",
                line.len()
            )));
        }
        line.push_str("\r\n");
        Ok(line)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_non_ascii_and_limits_length() {
        let line = MsysApi::new()
            .campaign_id("café ☕ 𝄞")
            .header_line()
            .expect("fits");
        assert!(line.is_ascii());
        assert!(line.contains("caf\\u00e9 \\u2615 \\ud834\\udd1e"));
        let json = line
            .trim_start_matches("X-MSYS-API: ")
            .trim_end_matches("\r\n");
        let value: serde_json::Value = serde_json::from_str(json).expect("valid JSON");
        assert_eq!(value["campaign_id"], "café ☕ 𝄞");
        assert!(
            MsysApi::new()
                .campaign_id("x".repeat(990))
                .header_line()
                .is_err()
        );
    }

    #[test]
    fn no_campaign_no_key() {
        let line = MsysApi::new().tracking(true).header_line().expect("fits");
        assert_eq!(
            line,
            "X-MSYS-API: {\"options\":{\"open_tracking\":true,\"click_tracking\":true,\"transactional\":true}}\r\n"
        );
    }
}

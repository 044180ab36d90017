//! DER tag-length headers written by hand, for the few structures whose content is large: the
//! SignedData that encapsulates the message and the EnvelopedData that carries it encrypted.
//! Framing them here lets the content go from its buffer straight into the base64 output
//! instead of being copied into a DER value and then into a ContentInfo, twice its size each
//! time. The small fields around it are still encoded by the `der` crate.

/// SEQUENCE, constructed.
pub(crate) const SEQUENCE: u8 = 0x30;
/// SET and SET OF, constructed.
pub(crate) const SET: u8 = 0x31;
/// `[0]`, context-specific, constructed: EXPLICIT tagging, and IMPLICIT on a SET.
pub(crate) const CONTEXT_0: u8 = 0xA0;
/// `[0]`, context-specific, primitive: IMPLICIT on an OCTET STRING.
pub(crate) const CONTEXT_0_PRIMITIVE: u8 = 0x80;
/// OCTET STRING, primitive.
pub(crate) const OCTET_STRING: u8 = 0x04;

/// Appends the header of a value of `len` bytes tagged `tag` (X.690 §8.1.3, definite form).
pub(crate) fn header(tag: u8, len: usize, out: &mut Vec<u8>) {
    out.push(tag);
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes = len.to_be_bytes();
        let skip = bytes.iter().take_while(|&&b| b == 0).count();
        out.push(0x80 | (bytes.len() - skip) as u8);
        out.extend_from_slice(&bytes[skip..]);
    }
}

/// Length of the header [`header`] writes for `len` content bytes.
pub(crate) fn header_len(len: usize) -> usize {
    if len < 0x80 {
        2
    } else {
        2 + (usize::BITS - len.leading_zeros()).div_ceil(8) as usize
    }
}

/// Length of a whole value (header and content) with `len` content bytes.
pub(crate) fn tlv_len(len: usize) -> usize {
    header_len(len) + len
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use der::Encode;

    #[test]
    fn headers_match_the_der_crate() {
        for len in [
            0usize,
            1,
            127,
            128,
            255,
            256,
            65_535,
            65_536,
            16_777_216,
            300_000_000,
        ] {
            let mut ours = Vec::new();
            header(OCTET_STRING, len, &mut ours);
            assert_eq!(ours.len(), header_len(len), "{len}");
            let theirs =
                der::Header::new(der::Tag::OctetString, der::Length::try_from(len).unwrap())
                    .to_der()
                    .unwrap();
            assert_eq!(ours, theirs, "{len}");
        }
    }
}

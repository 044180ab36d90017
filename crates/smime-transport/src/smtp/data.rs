//! The message as it goes after `DATA`: CRLF line ends, dot-stuffed, terminated.

/// The bytes to write after the server's `354`, built once per message (before a
/// connection is taken, and reused if the message is sent again).
#[derive(Debug)]
pub(crate) struct DataBlock {
    bytes: Vec<u8>,
    /// Size of the message as the server will store it (for `SIZE=`).
    size: usize,
    /// Some byte is not 7-bit (for `BODY=8BITMIME`).
    eight_bit: bool,
}

impl DataBlock {
    /// `header` (a complete header line, CRLF included) is prepended to `message`. Lone CR
    /// and LF become CRLF (RFC 5321 §2.3.8; a bare LF followed by a dot is how SMTP
    /// smuggling starts), lines starting with a dot get another dot (§4.5.2), and the
    /// terminator is `.CRLF` after a final CRLF, without adding an empty line to a message
    /// that already ends with one (mail-send's `write_message` would).
    pub(crate) fn new(header: Option<&str>, message: &[u8]) -> Self {
        let header = header.map(str::as_bytes).unwrap_or_default();
        let mut bytes = Vec::with_capacity(header.len() + message.len() + message.len() / 50 + 8);
        let mut eight_bit = false;
        let mut at_line_start = true;
        let mut size = 0usize;
        for part in [header, message] {
            let mut rest = part;
            while let Some(&first) = rest.first() {
                if at_line_start && first == b'.' {
                    bytes.push(b'.');
                }
                match rest.iter().position(|&b| b == b'\r' || b == b'\n') {
                    Some(end) => {
                        let (line, tail) = rest.split_at(end);
                        eight_bit |= !line.is_ascii();
                        bytes.extend_from_slice(line);
                        bytes.extend_from_slice(b"\r\n");
                        size += line.len() + 2;
                        rest = match tail {
                            [b'\r', b'\n', after @ ..] => after,
                            [_, after @ ..] => after,
                            [] => tail,
                        };
                        at_line_start = true;
                    }
                    None => {
                        eight_bit |= !rest.is_ascii();
                        bytes.extend_from_slice(rest);
                        size += rest.len();
                        rest = &[];
                        at_line_start = false;
                    }
                }
            }
        }
        if !at_line_start {
            bytes.extend_from_slice(b"\r\n");
            size += 2;
        }
        bytes.extend_from_slice(b".\r\n");
        Self {
            bytes,
            size,
            eight_bit,
        }
    }

    pub(crate) fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    pub(crate) fn size(&self) -> usize {
        self.size
    }

    pub(crate) fn eight_bit(&self) -> bool {
        self.eight_bit
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block(header: Option<&str>, msg: &[u8]) -> Vec<u8> {
        DataBlock::new(header, msg).bytes().to_vec()
    }

    /// Each message (no header) and the DATA block it must give.
    fn assert_blocks(cases: &[(&[u8], &[u8])]) {
        for &(message, expected) in cases {
            assert_eq!(
                block(None, message),
                expected,
                "{:?}",
                String::from_utf8_lossy(message)
            );
        }
    }

    #[test]
    fn terminator_without_extra_line() {
        assert_blocks(&[
            (b"A: b\r\n\r\nbody\r\n", b"A: b\r\n\r\nbody\r\n.\r\n"),
            (b"A: b\r\n\r\nbody", b"A: b\r\n\r\nbody\r\n.\r\n"),
        ]);
    }

    #[test]
    fn dot_stuffing_and_line_ends() {
        assert_blocks(&[
            (
                b".A: b\n\n.\r\n..x\rend",
                b"..A: b\r\n\r\n..\r\n...x\r\nend\r\n.\r\n",
            ),
            // The smuggling pattern: a bare LF, a dot, CRLF.
            (b"x\n.\r\nMAIL FROM:<>", b"x\r\n..\r\nMAIL FROM:<>\r\n.\r\n"),
        ]);
    }

    #[test]
    fn header_prepended_and_flags() {
        let d = DataBlock::new(Some("X-MSYS-API: {}\r\n"), "A: é\r\n\r\nb\r\n".as_bytes());
        assert_eq!(
            d.bytes(),
            "X-MSYS-API: {}\r\nA: é\r\n\r\nb\r\n.\r\n".as_bytes()
        );
        assert!(d.eight_bit());
        assert_eq!(d.size(), d.bytes().len() - 3);
    }
}

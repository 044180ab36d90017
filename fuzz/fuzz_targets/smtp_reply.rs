//! `smtp_reply`: any bytes from an SMTP server, read the way an SMTP session reads them
//! (`smime_transport::fuzzing::smtp_session`: greeting, EHLO and capabilities, a batch of
//! pipelined replies, the reply after the final dot, over an in-memory connection whose
//! reads deliver the bytes in chunks of a size the input picks).
//!
//! Properties: nothing panics; every reply shows on one line, starting with its code; it
//! is in exactly one of positive, transient, permanent; a queue id, when found, is one
//! non-empty word; scrubbing removes the password; the pipelined reader returns at most the
//! replies asked for, all of them unless it reports why not, and the same replies however
//! the bytes are split into reads. The same checks for `Reply::new(code, text)`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use smime_transport::fuzzing;

fuzz_target!(|data: &[u8]| {
    fuzzing::smtp_session(data);
    if let [hi, lo, text @ ..] = data {
        let code = u16::from_be_bytes([*hi, *lo]) % 1000;
        fuzzing::reply_text(code, &String::from_utf8_lossy(text));
    }
});

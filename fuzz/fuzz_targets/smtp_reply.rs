//! `smtp_reply`: any bytes from an SMTP server, read by the crate's own SMTP session
//! (`smime_transport::__fuzz::smtp_session`, behind the `fuzzing` feature: the session
//! over an in-memory connection whose reads deliver the bytes in chunks of a size the input
//! picks; greeting, EHLO or HELO, AUTH if the mode byte asks, one transaction, pipelined
//! when offered, RSET, QUIT), or by its pipelined reply reader alone.
//!
//! Properties: nothing panics; every reply in an error or a receipt shows on one line,
//! starting with its code; it is in exactly one of positive, transient, permanent; a queue
//! id, when found, is one non-empty word; scrubbing removes the password, and no error or
//! receipt shows it, whenever the server quoted it; the reply reader returns at most the replies asked for, all of them
//! unless it reports why not, and the same replies however the bytes are split into reads.
//! The same checks for `Reply::new(code, text)`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use smime_transport::__fuzz as fuzzing;

fuzz_target!(|data: &[u8]| {
    fuzzing::smtp_session(data);
    if let [hi, lo, text @ ..] = data {
        let code = u16::from_be_bytes([*hi, *lo]) % 1000;
        fuzzing::reply_text(code, &String::from_utf8_lossy(text));
    }
});

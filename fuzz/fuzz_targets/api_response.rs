//! `api_response`: any SparkPost Transmissions API response, turned into a receipt or an
//! error by the code `SparkPostSender::send` runs once the response has arrived
//! (`smime_transport::__fuzz::api_response`, behind the `fuzzing` feature).
//!
//! Input, as text so that seeds are readable: the status on the first line (a decimal
//! number; inputs without one are skipped), the `Retry-After` header value on the second,
//! the body after that.
//!
//! Properties: nothing panics; a receipt only for 2xx; an API error keeps the status;
//! 429 and 5xx are transient, every other failure status permanent; a wait only with 429;
//! the API key appears in no receipt or error text.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut lines = data.splitn(3, |&b| b == b'\n');
    let status = lines.next().unwrap_or_default();
    let retry_after = lines.next().unwrap_or_default();
    let body = lines.next().unwrap_or_default();
    let Some(status) = std::str::from_utf8(status)
        .ok()
        .and_then(|s| s.trim().parse::<u16>().ok())
    else {
        return;
    };
    smime_transport::__fuzz::api_response(status, retry_after.trim_ascii_end(), body);
});

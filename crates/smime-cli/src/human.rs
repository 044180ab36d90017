//! Quantities as the operator reads them in status lines and errors.

use std::time::Duration;

/// `4 s`, `1.5 s`, `250 ms`: a wait or a duration as the operator reads it.
pub(crate) fn duration_text(d: Duration) -> String {
    let secs = d.as_secs_f64();
    if secs >= 10.0 {
        format!("{secs:.0} s")
    } else if secs >= 1.0 {
        let text = format!("{secs:.1}");
        format!("{} s", text.trim_end_matches(".0"))
    } else {
        format!("{} ms", d.as_millis())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        let ms = Duration::from_millis;
        assert_eq!(duration_text(ms(250)), "250 ms");
        assert_eq!(duration_text(ms(1000)), "1 s");
        assert_eq!(duration_text(ms(1500)), "1.5 s");
        assert_eq!(duration_text(ms(15_400)), "15 s");
    }
}

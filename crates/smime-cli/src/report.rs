//! What the operator sees: the ancestor's status lines on standard error, one JSON object per
//! message on standard output with `--json`, a progress bar on a terminal, the summary, and the
//! journal. Also the tallies that decide the exit code.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde_json::json;
use smime_transport::{RetryCause, RetryNotice};

use crate::error::{CliError, exit};
use crate::human::duration_text;
use crate::journal::Journal;
use crate::target::Target;

/// How one message ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Status {
    /// Accepted for every recipient.
    Sent,
    /// Accepted for some recipients, refused for others.
    Partial,
    /// Written to a file (no sending).
    Written,
    /// Accepted in an earlier run (journal).
    Skipped,
    /// Bad input: never sent.
    Invalid,
    /// Refused for good.
    Failed,
    /// Temporary failure, retries used up: try again later.
    Deferred,
}

impl Status {
    fn word(self) -> &'static str {
        match self {
            Status::Sent => "sent",
            Status::Partial => "partial",
            Status::Written => "written",
            Status::Skipped => "skipped",
            Status::Invalid => "invalid",
            Status::Failed => "failed",
            Status::Deferred => "deferred",
        }
    }
}

/// One finished message.
pub(crate) struct Outcome {
    pub(crate) file: PathBuf,
    pub(crate) key: Option<String>,
    pub(crate) status: Status,
    pub(crate) from: Option<String>,
    pub(crate) to: Option<String>,
    pub(crate) recipients: Vec<String>,
    pub(crate) refused: Vec<String>,
    pub(crate) id: Option<String>,
    pub(crate) error: Option<CliError>,
    pub(crate) elapsed: Duration,
    /// Whether the message crossed the network encrypted, when the transport says.
    pub(crate) encrypted: Option<bool>,
}

impl Outcome {
    pub(crate) fn new(file: &Path, status: Status) -> Self {
        Outcome {
            file: file.to_owned(),
            key: None,
            status,
            from: None,
            to: None,
            recipients: Vec::new(),
            refused: Vec::new(),
            id: None,
            error: None,
            elapsed: Duration::ZERO,
            encrypted: None,
        }
    }
}

#[derive(Default)]
struct Tally {
    sent: usize,
    written: usize,
    skipped: usize,
    failed: usize,
    unsent: usize,
    /// Exit codes of the failures seen.
    codes: Vec<i32>,
    opened_shown: bool,
    plaintext_noted: bool,
}

/// Which exit code wins when failures differ: the one that most needs a person first.
const EXIT_PRIORITY: [i32; 7] = [
    exit::SOFTWARE,
    exit::CANT_CREATE,
    exit::UNAVAILABLE,
    exit::DATA_ERR,
    exit::USAGE,
    exit::NO_INPUT,
    exit::TEMP_FAIL,
];

/// Retry lines already printed, so that the slots retrying after one cause (a refused
/// connection hits every message in flight) print one line, not one each.
#[derive(Default)]
struct RetryLines {
    /// When each line (its text) may be printed again.
    quiet_until: HashMap<String, Instant>,
}

impl RetryLines {
    /// Whether `line` should be printed now; it then stays quiet for `wait` (at least 1 s),
    /// the time until the retries it announces.
    fn first(&mut self, line: &str, wait: Duration) -> bool {
        let now = Instant::now();
        self.quiet_until.retain(|_, until| *until > now);
        if self.quiet_until.contains_key(line) {
            return false;
        }
        self.quiet_until
            .insert(line.to_owned(), now + wait.max(Duration::from_secs(1)));
        true
    }
}

/// Prints and counts outcomes; safe to share between tasks.
pub(crate) struct Reporter {
    quiet: bool,
    /// `-v`: per-file lines for inputs passed over and journal skips.
    verbose: bool,
    plaintext_note: Option<String>,
    retry_lines: Mutex<RetryLines>,
    /// Files in the directories given that are not `*.eml`.
    passed_over: Vec<PathBuf>,
    json: bool,
    api: Option<bool>,
    tracking: bool,
    opened: Option<String>,
    journal: Option<Journal>,
    bar: ProgressBar,
    tally: Mutex<Tally>,
    started: Instant,
    total: usize,
}

impl Reporter {
    /// A reporter for `total` messages; `verbose` is `-v`, and `passed_over` the files the
    /// directories held that are not `*.eml` (said in the summary, listed at `-v`).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        total: usize,
        quiet: bool,
        verbose: bool,
        json: bool,
        target: Option<&Target>,
        journal: Option<Journal>,
        passed_over: Vec<PathBuf>,
    ) -> Self {
        // A bar only on a terminal, only for several files; hidden otherwise.
        let bar = if total > 1 && !quiet {
            let bar =
                ProgressBar::with_draw_target(Some(total as u64), ProgressDrawTarget::stderr());
            if let Ok(style) =
                ProgressStyle::with_template("{bar:40} {pos}/{len} {per_sec} eta {eta}")
            {
                bar.set_style(style);
            }
            bar
        } else {
            ProgressBar::hidden()
        };
        Reporter {
            quiet,
            verbose,
            plaintext_note: target.and_then(|t| t.plaintext_note.clone()),
            retry_lines: Mutex::new(RetryLines::default()),
            passed_over,
            json,
            api: target.map(|t| t.api),
            tracking: target.is_some_and(|t| t.tracking),
            opened: target.map(|t| t.opened.clone()),
            journal,
            bar,
            tally: Mutex::new(Tally::default()),
            started: Instant::now(),
            total,
        }
    }

    pub(crate) fn journal(&self) -> Option<&Journal> {
        self.journal.as_ref()
    }

    /// Whether outcomes carry the input's journal key (a SHA-256 of the content): for the
    /// journal and the JSON lines only, since hashing every input costs a few percent.
    pub(crate) fn wants_keys(&self) -> bool {
        self.journal.is_some() || self.json
    }

    fn line(&self, text: &str) {
        if self.bar.is_hidden() {
            eprintln!("{text}");
        } else {
            self.bar.println(text);
        }
    }

    /// Records one outcome: status lines, JSON, journal, tallies.
    pub(crate) fn report(&self, o: Outcome) {
        let mut t = self
            .tally
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        // The ancestor's "Opened ..." line, once the connection has proved itself.
        if !t.opened_shown && matches!(o.status, Status::Sent | Status::Partial) {
            t.opened_shown = true;
            if let (Some(line), false) = (&self.opened, self.quiet) {
                self.line(line);
            }
        }
        // Once: a message went out unencrypted where TLS was only optional.
        let note_plaintext = o.encrypted == Some(false) && !t.plaintext_noted;
        if note_plaintext {
            t.plaintext_noted = true;
        }
        match o.status {
            Status::Sent | Status::Partial => t.sent += 1,
            Status::Written => t.written += 1,
            Status::Skipped => t.skipped += 1,
            Status::Invalid | Status::Failed | Status::Deferred => t.failed += 1,
        }
        if let Some(e) = &o.error {
            t.codes.push(e.exit_code());
        }
        drop(t);
        if let (true, Some(note), false) = (note_plaintext, &self.plaintext_note, self.quiet) {
            self.line(note);
        }

        if !self.quiet && o.status != Status::Skipped && o.status != Status::Invalid {
            let mut sending = format!("Sending {}", o.file.display());
            if let Some(from) = &o.from {
                sending.push_str(&format!("\tFrom: {from}"));
            }
            if let Some(to) = &o.to {
                sending.push_str(&format!("\tTo: {to}"));
            }
            if self.api == Some(true) {
                sending.push_str(&format!(
                    "\tTracking: {}",
                    if self.tracking { "True" } else { "False" }
                ));
            }
            if self.api.is_some() {
                self.line(&sending);
            }
        }
        match (&o.error, o.status) {
            (Some(e), _) => {
                let mut text = format!("smime: {e}");
                if let Some(h) = e.hint() {
                    text.push_str(&format!(" (hint: {h})"));
                }
                self.line(&text);
            }
            (None, Status::Sent) if !self.quiet => {
                self.line(&format!("OK - in {:.3} seconds", o.elapsed.as_secs_f64()));
            }
            (None, Status::Partial) if !self.quiet => self.line(&format!(
                "OK - in {:.3} seconds, refused: {}",
                o.elapsed.as_secs_f64(),
                o.refused.join(", ")
            )),
            (None, Status::Skipped) if self.verbose && !self.quiet => {
                self.line(&format!(
                    "Skipping {}: accepted in an earlier run",
                    o.file.display()
                ));
            }
            _ => {}
        }

        let entry = json!({
            "file": o.file.display().to_string(),
            "key": o.key,
            "status": o.status.word(),
            "from": o.from,
            "recipients": o.recipients,
            "refused": o.refused,
            "id": o.id,
            "error": o.error.as_ref().map(ToString::to_string),
            "elapsed_ms": (o.elapsed.as_secs_f64() * 1000.0 * 1000.0).round() / 1000.0,
        });
        if self.json {
            let mut line = entry.to_string();
            line.push('\n');
            // Standard output carries only the JSON lines here.
            let _ = std::io::Write::write_all(&mut std::io::stdout().lock(), line.as_bytes());
        }
        if let Some(j) = &self.journal
            && o.status != Status::Skipped
            && let Err(e) = j.record(&entry)
        {
            self.line(&format!(
                "smime: {}: cannot write the journal: {e}",
                j.path().display()
            ));
        }
        self.bar.inc(1);
    }

    /// A retry about to happen: one line at the default level (`-q` silences it), printed
    /// once for all the messages that retry after the same failure at the same attempt.
    pub(crate) fn retrying(&self, notice: &RetryNotice<'_>) {
        if self.quiet {
            return;
        }
        let reason = match notice.cause() {
            RetryCause::Failed(e) => e.to_string(),
            RetryCause::RecipientsRefused(1) => "1 recipient refused temporarily".to_owned(),
            RetryCause::RecipientsRefused(n) => format!("{n} recipients refused temporarily"),
            _ => "a temporary failure".to_owned(),
        };
        let line = format!(
            "smime: retrying in {}: {reason} (attempt {} of {})",
            duration_text(notice.wait()),
            notice.attempt(),
            notice.max_attempts()
        );
        // The key leaves out the wait: slots that failed a moment apart wait a little less.
        let key = format!("{reason}\0{}", notice.attempt());
        let first = self
            .retry_lines
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .first(&key, notice.wait());
        if first {
            self.line(&line);
        }
    }

    /// Messages that were built but not sent because the run was interrupted.
    pub(crate) fn unsent(&self, n: usize) {
        self.tally
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .unsent += n;
    }

    /// Prints the summary (when there was more than one file) and returns the exit code.
    pub(crate) fn finish(&self, interrupted: bool) -> i32 {
        self.bar.finish_and_clear();
        let t = self
            .tally
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let elapsed = self.started.elapsed().as_secs_f64();
        let done = t.sent + t.written;
        if self.total > 1 || interrupted {
            let not_done = self.total.saturating_sub(done + t.failed + t.skipped);
            let verb = if self.api.is_some() {
                "sent"
            } else {
                "written"
            };
            eprintln!(
                "{}{done} {verb}, {} failed, {} skipped, {not_done} not done, in {elapsed:.2} s ({:.1} messages/s)",
                if interrupted {
                    "Interrupted: "
                } else {
                    "Done: "
                },
                t.failed,
                t.skipped,
                if elapsed > 0.0 {
                    done as f64 / elapsed
                } else {
                    0.0
                },
            );
        }
        if !self.quiet {
            if t.skipped > 0 {
                eprintln!(
                    "{} already accepted in an earlier run (journal), skipped{}",
                    t.skipped,
                    if self.verbose { "" } else { " (-v lists them)" }
                );
            }
            if !self.passed_over.is_empty() {
                if self.verbose {
                    for file in &self.passed_over {
                        eprintln!("Skipping {}: not an .eml file", file.display());
                    }
                }
                let n = self.passed_over.len();
                eprintln!(
                    "{n} {} without .eml skipped{}",
                    if n == 1 { "file" } else { "files" },
                    if self.verbose { "" } else { " (-v lists them)" }
                );
            }
        }
        if let Some(code) = EXIT_PRIORITY.iter().find(|c| t.codes.contains(c)) {
            *code
        } else if interrupted || t.unsent > 0 {
            exit::TEMP_FAIL
        } else {
            0
        }
    }
}

//! Progress of long work (dump, restore), always on standard error so that standard output
//! carries only data: a bar on a terminal; plain lines, at most one every few seconds, when
//! stderr is a file or a pipe (CI logs, `2> log`), where a redrawn bar would be noise.

use std::io::IsTerminal;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};

/// How often a plain progress line is written at most.
const LINE_EVERY: Duration = Duration::from_secs(5);

/// A progress report of items done.
#[derive(Debug)]
pub struct Progress {
    kind: Kind,
    started: Instant,
}

#[derive(Debug)]
enum Kind {
    Bar(ProgressBar),
    Lines { label: String, last: Mutex<Instant> },
    Hidden,
}

impl Progress {
    /// A bar when stderr is a terminal, plain lines otherwise. `expected` is a length hint (the
    /// table's approximate item count), if known.
    pub fn stderr(label: &str, expected: Option<u64>) -> Self {
        let kind = if crate::output::quiet() {
            Kind::Hidden
        } else if std::io::stderr().is_terminal() {
            let bar = match expected {
                Some(n) if n > 0 => ProgressBar::new(n).with_style(
                    ProgressStyle::with_template(
                        "{msg} [{bar:30}] {human_pos}/~{human_len} items ({per_sec}, {elapsed})",
                    )
                    .expect("a valid template")
                    .progress_chars("=> "),
                ),
                _ => ProgressBar::new_spinner().with_style(
                    ProgressStyle::with_template("{spinner} {msg} {human_pos} items ({per_sec})")
                        .expect("a valid template"),
                ),
            };
            bar.set_message(label.to_owned());
            bar.enable_steady_tick(Duration::from_millis(200));
            Kind::Bar(bar)
        } else {
            Kind::Lines {
                label: label.to_owned(),
                last: Mutex::new(Instant::now()),
            }
        };
        Self {
            kind,
            started: Instant::now(),
        }
    }

    /// No output (library callers and tests).
    pub fn hidden() -> Self {
        Self {
            kind: Kind::Hidden,
            started: Instant::now(),
        }
    }

    /// `done` items are done so far.
    pub fn set(&self, done: u64) {
        match &self.kind {
            Kind::Bar(bar) => bar.set_position(done),
            Kind::Lines { label, last } => {
                let mut last = last.lock().unwrap_or_else(|e| e.into_inner());
                if last.elapsed() >= LINE_EVERY {
                    *last = Instant::now();
                    eprintln!("{label}: {done} items ({})", self.rate(done));
                }
            }
            Kind::Hidden => {}
        }
    }

    /// Ends the report with `done` items.
    pub fn finish(&self, done: u64) {
        match &self.kind {
            Kind::Bar(bar) => {
                bar.set_length(done);
                bar.finish_and_clear();
            }
            Kind::Lines { label, .. } => {
                eprintln!("{label}: {done} items, done ({})", self.rate(done));
            }
            Kind::Hidden => {}
        }
    }

    /// Time since the start.
    pub fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }

    fn rate(&self, done: u64) -> String {
        let seconds = self.started.elapsed().as_secs_f64().max(1e-3);
        format!("{:.0} items/s", done as f64 / seconds)
    }
}

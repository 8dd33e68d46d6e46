//! How a migration shows its progress.

use dispatch_store::migrate::Progress;

/// Progress on standard error (standard output keeps the report): on a terminal, a spinner
/// showing the latest line (page counts of item passes, index status); otherwise plain lines,
/// the frequent page counts at most one every 5 s.
pub(super) struct StepProgress {
    spinner: Option<indicatif::ProgressBar>,
    last_line: std::sync::Mutex<std::time::Instant>,
}

impl StepProgress {
    pub(super) fn new() -> Self {
        use std::io::IsTerminal;
        let spinner = (std::io::stderr().is_terminal() && !crate::output::quiet()).then(|| {
            let bar = indicatif::ProgressBar::new_spinner();
            bar.enable_steady_tick(std::time::Duration::from_millis(200));
            bar
        });
        Self {
            spinner,
            last_line: std::sync::Mutex::new(std::time::Instant::now()),
        }
    }
}

impl Progress for StepProgress {
    fn line(&self, text: &str) {
        if crate::output::quiet() {
            return;
        }
        let frequent = text.contains(": pass ");
        match &self.spinner {
            Some(bar) if frequent => bar.set_message(text.to_owned()),
            Some(bar) => bar.println(format!("  {text}")),
            None => {
                let mut last = self.last_line.lock().unwrap_or_else(|e| e.into_inner());
                if !frequent || last.elapsed() >= std::time::Duration::from_secs(5) {
                    *last = std::time::Instant::now();
                    eprintln!("  {text}");
                }
            }
        }
    }
}

impl Drop for StepProgress {
    fn drop(&mut self) {
        if let Some(bar) = &self.spinner {
            bar.finish_and_clear();
        }
    }
}

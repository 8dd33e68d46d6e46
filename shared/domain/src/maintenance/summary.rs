//! What one run of a job did: the structured log line, the CloudWatch embedded-metric line and
//! the record `dispatch scheduler list` shows.

use serde::{Deserialize, Serialize};

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// The job went through everything it looks at.
    Finished,
    /// Its budget ran out; the next run continues from the checkpoint.
    Continued,
    /// Another run of the same job holds the lease; this one did nothing.
    Skipped,
    /// It stopped on an error; the next run continues from the last checkpoint.
    Failed,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Finished => "finished",
            Outcome::Continued => "continued",
            Outcome::Skipped => "skipped",
            Outcome::Failed => "failed",
        }
    }
}

/// One thing a job found wrong (and whether it put it right).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    /// What kind of problem (`member_count`, `guard_without_item`, …).
    pub kind: String,
    /// The item concerned, as its key or a name an operator recognises.
    pub subject: String,
    /// What was found, and what was done.
    pub detail: String,
    pub repaired: bool,
}

/// Findings kept in a summary; the counts cover all of them.
pub const FINDINGS_KEPT: usize = 50;

/// The summary of one run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    pub job: String,
    pub outcome: Outcome,
    /// Items the job read and checked.
    pub examined: u64,
    /// Problems put right.
    pub repaired: u64,
    /// Problems found (repaired or not).
    pub found: u64,
    pub duration_ms: u64,
    pub dry_run: bool,
    /// The first [`FINDINGS_KEPT`] findings.
    pub findings: Vec<Finding>,
    /// Why the run failed, or who holds the lease of a skipped run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl Summary {
    /// Writes the run's one structured log line (JSON inside Lambda).
    pub fn log(&self) {
        tracing::info!(
            job = %self.job,
            outcome = self.outcome.as_str(),
            examined = self.examined,
            repaired = self.repaired,
            found = self.found,
            duration_ms = self.duration_ms,
            dry_run = self.dry_run,
            note = self.note.as_deref().unwrap_or(""),
            "maintenance run"
        );
    }

    /// The CloudWatch embedded-metric-format line of the run: printed on stdout inside Lambda,
    /// CloudWatch Logs turns it into metrics (namespace `DispatchServerless/Maintenance`,
    /// dimension `Job`) without a `PutMetricData` call.
    pub fn embedded_metrics(&self, timestamp_ms: i64) -> serde_json::Value {
        let count = |name: &str| serde_json::json!({ "Name": name, "Unit": "Count" });
        serde_json::json!({
            "_aws": {
                "Timestamp": timestamp_ms,
                "CloudWatchMetrics": [{
                    "Namespace": METRICS_NAMESPACE,
                    "Dimensions": [["Job"]],
                    "Metrics": [
                        count("ItemsExamined"),
                        count("Repaired"),
                        count("Found"),
                        count("Continued"),
                        count("Failed"),
                        { "Name": "Duration", "Unit": "Milliseconds" },
                    ],
                }],
            },
            "Job": self.job,
            "Outcome": self.outcome.as_str(),
            "ItemsExamined": self.examined,
            "Repaired": self.repaired,
            "Found": self.found,
            "Continued": u8::from(self.outcome == Outcome::Continued),
            "Failed": u8::from(self.outcome == Outcome::Failed),
            "Duration": self.duration_ms,
        })
    }
}

/// The CloudWatch namespace of the maintenance metrics (the template's alarms use it).
pub const METRICS_NAMESPACE: &str = "DispatchServerless/Maintenance";

//! `dispatch database drop`: deletes the table, once the operator has typed its name.
//!
//! Typing the name, not answering y, is what makes the operator read which table (and, in the
//! prompt, which endpoint) they are about to lose; `--yes` is for scripts. The command returns
//! only when DynamoDB no longer knows the table, so a following `restore` or `init` starts from
//! nothing.

use std::io::{BufRead, Write};
use std::time::{Duration, Instant};

use anyhow::bail;
use clap::Args;
use dispatch_store::{Store, StoreError};
use serde_json::json;

use super::{OutputFormat, render};
use crate::target::Target;

/// How long the table may take to disappear.
const GONE_WITHIN: Duration = Duration::from_secs(600);
const POLL_EVERY: Duration = Duration::from_millis(500);

/// `dispatch database drop` arguments.
#[derive(Debug, Clone, Args)]
pub struct DropArgs {
    /// Do not ask for the table's name.
    #[arg(long)]
    pub yes: bool,
    /// How to print the report.
    #[arg(long, value_enum, default_value_t)]
    pub output: OutputFormat,
}

/// Runs `dispatch database drop`: the question on standard error, the answer from standard
/// input, the report on standard output.
pub async fn run(args: DropArgs, target: &Target) -> anyhow::Result<()> {
    let store = target.store();
    let mut answer = std::io::stdin().lock();
    let confirmation = if args.yes {
        Confirmation::Given
    } else {
        Confirmation::Typed {
            answer: &mut answer,
            prompt: &mut std::io::stderr(),
            endpoint: target.endpoint_description(),
        }
    };
    let seconds = drop_table(&store, confirmation).await?;
    let report = json!({ "table": store.table(), "deleted": true, "seconds": seconds });
    print!("{}", render(&report, args.output));
    Ok(())
}

/// How the operator confirms.
pub enum Confirmation<'a> {
    /// `--yes`.
    Given,
    /// Ask on `prompt`, read the typed name from `answer`.
    Typed {
        answer: &'a mut dyn BufRead,
        prompt: &'a mut dyn Write,
        /// Shown in the question.
        endpoint: String,
    },
}

/// Deletes the store's table once confirmed, and waits until it is gone; returns the seconds
/// that took. A wrong name, or a missing table, is a one-line error and changes nothing.
pub async fn drop_table(store: &Store, confirmation: Confirmation<'_>) -> anyhow::Result<f64> {
    let table = store.table();
    super::describe(store).await?;
    if let Confirmation::Typed {
        answer,
        prompt,
        endpoint,
    } = confirmation
    {
        write!(
            prompt,
            "This deletes the table `{table}` at {endpoint} and every item in it.\nType the table's name to confirm: "
        )?;
        prompt.flush()?;
        let mut typed = String::new();
        answer.read_line(&mut typed)?;
        if typed.trim() != table {
            bail!("the name typed does not match `{table}`: nothing was deleted");
        }
    }
    let started = Instant::now();
    store
        .client()
        .delete_table()
        .table_name(table)
        .send()
        .await
        .map_err(StoreError::from_sdk)?;
    while started.elapsed() < GONE_WITHIN {
        match store
            .client()
            .describe_table()
            .table_name(table)
            .send()
            .await
        {
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_resource_not_found_exception()) =>
            {
                return Ok(started.elapsed().as_secs_f64());
            }
            Err(e) => return Err(StoreError::from_sdk(e).into()),
            Ok(_) => tokio::time::sleep(POLL_EVERY).await,
        }
    }
    bail!("the table `{table}` is still being deleted after {GONE_WITHIN:?}")
}

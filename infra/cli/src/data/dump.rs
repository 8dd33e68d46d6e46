//! `dispatch database dump FILE`: every item of the table as JSON Lines (see [`super`] for the
//! format), read by a consistent parallel scan.
//!
//! Segments are scanned concurrently and their pages written as they arrive, so memory holds a
//! few pages, not the table. A file is written under a temporary name and renamed at the end:
//! a dump that failed half-way never looks like a complete one.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::Args;
use dispatch_store::{Attributes, Store, StoreError};
use flate2::Compression;
use flate2::write::GzEncoder;
use tokio::sync::mpsc;
use tokio::task::JoinSet;

use super::codec;
use super::progress::Progress;
use crate::target::Target;

/// `dispatch database dump` arguments.
#[derive(Debug, Clone, Args)]
pub struct DumpArgs {
    /// Where to write: a file (gzip when it ends in `.gz`), or `-` for standard output.
    pub file: String,
    /// Parallel scan segments (concurrent readers).
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u32).range(1..=64))]
    pub segments: u32,
}

/// Runs `dispatch database dump`. With `-` standard output carries only the items; the
/// progress and the summary go to standard error.
pub async fn run(args: DumpArgs, target: &Target) -> anyhow::Result<()> {
    let store = target.store();
    let expected = super::describe(&store).await?;
    let progress = Progress::stderr(&format!("dump {}", store.table()), Some(expected));
    let items = if args.file == "-" {
        let mut out = BufWriter::new(std::io::stdout().lock());
        match dump(&store, &mut out, args.segments, &progress).await {
            Ok(items) => items,
            // The reader stopped early (`dump - | head`): what it read was what it wanted.
            Err(e) if is_broken_pipe(&e) => return Ok(()),
            Err(e) => return Err(e),
        }
    } else {
        dump_file(&store, Path::new(&args.file), args.segments, &progress).await?
    };
    let seconds = progress.elapsed().as_secs_f64();
    let summary = format!(
        "Dumped {items} items from `{}` to {} in {seconds:.1} s.",
        store.table(),
        args.file
    );
    // On standard error when standard output carries the dump.
    match (crate::output::quiet(), args.file == "-") {
        (true, _) => {}
        (false, true) => eprintln!("{summary}"),
        (false, false) => println!("{summary}"),
    }
    Ok(())
}

/// Dumps the table into `path` (gzip when it ends in `.gz`); returns the item count.
pub async fn dump_file(
    store: &Store,
    path: &Path,
    segments: u32,
    progress: &Progress,
) -> anyhow::Result<u64> {
    let partial = partial_path(path);
    let file = File::create(&partial).with_context(|| format!("creating {}", partial.display()))?;
    let written = async {
        let items = if is_gzip(path) {
            let mut out = GzEncoder::new(BufWriter::new(file), Compression::default());
            let items = dump(store, &mut out, segments, progress).await?;
            out.finish()?.flush()?;
            items
        } else {
            let mut out = BufWriter::new(file);
            let items = dump(store, &mut out, segments, progress).await?;
            out.into_inner().map_err(|e| e.into_error())?.sync_all()?;
            items
        };
        anyhow::Ok(items)
    }
    .await;
    match written {
        Ok(items) => {
            std::fs::rename(&partial, path)
                .with_context(|| format!("renaming {} to its final name", partial.display()))?;
            Ok(items)
        }
        Err(e) => {
            let _ = std::fs::remove_file(&partial);
            Err(e)
        }
    }
}

/// Writes every item of the table to `out`, one line each; returns the item count. A missing
/// table is a one-line error.
pub async fn dump(
    store: &Store,
    out: &mut impl Write,
    segments: u32,
    progress: &Progress,
) -> anyhow::Result<u64> {
    super::describe(store).await?;
    // A few pages per segment in flight: readers stay ahead of the writer, memory stays small.
    let (pages, mut received) =
        mpsc::channel::<Result<Vec<Attributes>, StoreError>>(2 * segments as usize);
    let mut readers = JoinSet::new();
    for segment in 0..segments {
        readers.spawn(scan_segment(
            store.clone(),
            segment,
            segments,
            pages.clone(),
        ));
    }
    drop(pages);
    let mut count = 0u64;
    while let Some(page) = received.recv().await {
        for item in page? {
            out.write_all(codec::to_line(&item)?.as_bytes())?;
            out.write_all(b"\n")?;
            count += 1;
        }
        progress.set(count);
    }
    // Every sender is gone: the readers are done; surface a panic, if any.
    while let Some(joined) = readers.join_next().await {
        joined?;
    }
    out.flush()?;
    progress.finish(count);
    Ok(count)
}

/// Scans one segment, sending each page; stops at the first error (sent on) or when the
/// writer has gone.
async fn scan_segment(
    store: Store,
    segment: u32,
    segments: u32,
    pages: mpsc::Sender<Result<Vec<Attributes>, StoreError>>,
) {
    let mut start = None;
    loop {
        let page = store
            .client()
            .scan()
            .table_name(store.table())
            .segment(segment as i32)
            .total_segments(segments as i32)
            .consistent_read(true)
            .set_exclusive_start_key(start)
            .send()
            .await;
        let page = match page {
            Ok(page) => page,
            Err(e) => {
                let _ = pages.send(Err(StoreError::from_sdk(e))).await;
                return;
            }
        };
        start = page.last_evaluated_key;
        if pages
            .send(Ok(page.items.unwrap_or_default()))
            .await
            .is_err()
            || start.is_none()
        {
            return;
        }
    }
}

fn is_broken_pipe(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

/// Whether `path` names a gzip file.
pub(crate) fn is_gzip(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("gz"))
}

fn partial_path(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".partial");
    PathBuf::from(name)
}

//! What a build directory holds, read before anything is uploaded: every regular file under
//! DIR with its S3 key, size, `Content-Type` and `Cache-Control`, `index.html` last.
//!
//! The whole directory is checked first, so a refused build uploads nothing: no `index.html`
//! (not a build), more than [`MAX_FILES`] files or a file over [`MAX_FILE_BYTES`] (not a UI
//! build either, most likely a wrong DIR such as a home directory or `node_modules`), a name
//! that is not UTF-8 (no S3 key to give it), or anything that is not a plain file or directory.
//!
//! Symbolic links inside DIR are refused, not followed: vite writes none, a link may point out
//! of the build (publishing whatever it points at to a public CDN) or loop, and skipping it
//! would publish a site that silently lacks a file. DIR itself may be a link (`dist -> …`).

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};

/// Most files a build may hold (a vite build of Dispatch's UI has a few hundred).
pub const MAX_FILES: usize = 10_000;

/// Largest file a build may hold (vite's largest chunk is a few MB).
pub const MAX_FILE_BYTES: u64 = 50 * 1024 * 1024;

/// The page every route of the UI loads; uploaded last, never cached by browsers.
pub const INDEX: &str = "index.html";

/// vite's content-hashed output: a new build writes new names, so a file here never changes.
pub const IMMUTABLE_PREFIX: &str = "assets/";

/// `Cache-Control` of vite's hashed files: cached for a year, never revalidated.
pub const CACHE_IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// `Cache-Control` of every other file (`index.html`, `favicon.ico`, …): revalidated on each
/// use, so a new build is seen on the next load.
pub const CACHE_REVALIDATE: &str = "no-cache";

/// One file of the build.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildFile {
    /// The S3 key: the path relative to DIR, with forward slashes.
    pub key: String,
    pub path: PathBuf,
    pub size: u64,
    pub content_type: &'static str,
    pub cache_control: &'static str,
}

/// A checked build: its files in upload order (by key, `index.html` last).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Build {
    pub files: Vec<BuildFile>,
}

impl Build {
    /// Bytes of every file together.
    pub fn bytes(&self) -> u64 {
        self.files.iter().map(|f| f.size).sum()
    }

    /// Every key of the build (what `--prune` keeps).
    pub fn keys(&self) -> BTreeSet<&str> {
        self.files.iter().map(|f| f.key.as_str()).collect()
    }
}

/// Reads and checks the build in `dir`.
pub fn scan(dir: &Path) -> anyhow::Result<Build> {
    let index = dir.join(INDEX);
    let index_type = fs::symlink_metadata(&index).map(|m| m.file_type());
    if !index_type.as_ref().is_ok_and(|t| t.is_file()) {
        let what = match index_type {
            Ok(t) if t.is_symlink() => "whose index.html is a symbolic link",
            Ok(_) => "whose index.html is not a file",
            Err(_) => "with no index.html",
        };
        bail!(
            "{} is not a build of Dispatch's UI ({what}): give the directory `npm run build` wrote (its dist); nothing was uploaded",
            dir.display()
        );
    }
    let mut files = Vec::new();
    let mut pending = vec![(dir.to_path_buf(), String::new())];
    while let Some((path, prefix)) = pending.pop() {
        let entries = fs::read_dir(&path).with_context(|| format!("reading {}", path.display()))?;
        for entry in entries {
            let entry = entry.with_context(|| format!("reading {}", path.display()))?;
            let path = entry.path();
            let Some(name) = entry.file_name().to_str().map(str::to_owned) else {
                bail!(
                    "{} has a name that is not UTF-8, which no S3 key can hold: rename it (nothing was uploaded)",
                    path.display()
                );
            };
            // A hidden file or folder (`.env`, `.git`, `.DS_Store`) is never part of a vite
            // build, and publishing it to a CDN could expose what it holds.
            if name.starts_with('.') {
                bail!(
                    "{} is hidden: a build has no hidden files, and anything published is public; remove it (nothing was uploaded)",
                    path.display()
                );
            }
            let key = format!("{prefix}{name}");
            // `DirEntry::file_type` does not follow links.
            let file_type = entry
                .file_type()
                .with_context(|| format!("reading {}", path.display()))?;
            if file_type.is_symlink() {
                bail!(
                    "{} is a symbolic link: a build is published as plain files only (a link may point outside it); copy the file in its place (nothing was uploaded)",
                    path.display()
                );
            } else if file_type.is_dir() {
                pending.push((path, format!("{key}/")));
            } else if file_type.is_file() {
                let size = entry
                    .metadata()
                    .with_context(|| format!("reading {}", path.display()))?
                    .len();
                if size > MAX_FILE_BYTES {
                    bail!(
                        "{} is {size} bytes, over the limit of {MAX_FILE_BYTES} (50 MB) per file: is this a build of Dispatch's UI? (nothing was uploaded)",
                        path.display()
                    );
                }
                if files.len() == MAX_FILES {
                    bail!(
                        "{} holds more than {MAX_FILES} files: is this a build of Dispatch's UI? (nothing was uploaded)",
                        dir.display()
                    );
                }
                files.push(BuildFile {
                    content_type: content_type(&key),
                    cache_control: cache_control(&key),
                    key,
                    path,
                    size,
                });
            } else {
                bail!(
                    "{} is neither a file nor a directory (a socket, FIFO or device): not part of a build (nothing was uploaded)",
                    path.display()
                );
            }
        }
    }
    // By key, and the index after everything it may refer to.
    files.sort_by(|a, b| (a.key == INDEX, &a.key).cmp(&(b.key == INDEX, &b.key)));
    Ok(Build { files })
}

/// `Cache-Control` for `key`: immutable under `assets/`, revalidated elsewhere.
pub fn cache_control(key: &str) -> &'static str {
    if key.starts_with(IMMUTABLE_PREFIX) {
        CACHE_IMMUTABLE
    } else {
        CACHE_REVALIDATE
    }
}

/// `Content-Type` for `key`, from its extension (any case). Every textual format says UTF-8
/// (what vite writes), so no browser guesses; unknown extensions are opaque bytes.
pub fn content_type(key: &str) -> &'static str {
    let name = key.rsplit('/').next().unwrap_or(key);
    let extension = match name.rsplit_once('.') {
        Some((stem, extension)) if !stem.is_empty() => extension.to_ascii_lowercase(),
        _ => String::new(),
    };
    match extension.as_str() {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "json" | "map" => "application/json; charset=utf-8",
        "webmanifest" => "application/manifest+json; charset=utf-8",
        "svg" => "image/svg+xml; charset=utf-8",
        "txt" => "text/plain; charset=utf-8",
        "xml" => "application/xml; charset=utf-8",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "ico" => "image/x-icon",
        "woff" => "font/woff",
        "woff2" => "font/woff2",
        "ttf" => "font/ttf",
        _ => "application/octet-stream",
    }
}

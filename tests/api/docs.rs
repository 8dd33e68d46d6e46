//! The repository explains itself: every compatibility tag cited anywhere has its entry in
//! `docs/compatibility.md`, every section reference in the code names a section that exists in
//! `docs/`, and nothing points to a file outside the repository.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Component, Path, PathBuf};

/// The section sign, written as an escape so that this file holds no reference of its own.
const SECTION: char = '\u{a7}';

/// Folders that are not the project's files: build output, VCS data, local tools and data.
const SKIPPED: &[&str] = &[
    "target",
    ".git",
    ".aws-sam",
    "infra/local/.tools",
    "infra/local/.data",
    "infra/local/.run",
];

/// Text files whose tags and references are checked.
const TEXT: &[&str] = &["rs", "md", "yaml", "yml", "sh", "toml", "py"];

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ is inside the repository")
        .to_path_buf()
}

fn relative(path: &Path) -> String {
    path.strip_prefix(root())
        .unwrap_or(path)
        .to_string_lossy()
        .replace('\\', "/")
}

/// Every file of the repository, without the skipped folders.
fn files() -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut pending = vec![root()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
            let path = entry.expect("a directory entry").path();
            let rel = relative(&path);
            let name = path.file_name().unwrap_or_default().to_string_lossy();
            if SKIPPED.contains(&rel.as_str()) || name.starts_with(".venv") {
                continue;
            }
            let kind = entry_kind(&path);
            if kind.is_dir() {
                pending.push(path);
            } else if kind.is_file() {
                found.push(path);
            }
        }
    }
    found.sort();
    found
}

fn entry_kind(path: &Path) -> std::fs::FileType {
    std::fs::symlink_metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .file_type()
}

fn is_text(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| TEXT.contains(&e))
}

/// The text files, with their contents.
fn texts() -> Vec<(String, String)> {
    files()
        .into_iter()
        .filter(|p| is_text(p))
        .map(|p| {
            let text =
                std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
            (relative(&p), text)
        })
        .collect()
}

/// Compatibility tags in `text`: `Q-` or `D-`, capital letters, digits, not inside a word.
fn tags(text: &str) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    let mut found = Vec::new();
    for i in 0..chars.len().saturating_sub(2) {
        if !matches!(chars[i], 'Q' | 'D') || chars[i + 1] != '-' {
            continue;
        }
        if i > 0 && (chars[i - 1].is_alphanumeric() || chars[i - 1] == '_') {
            continue;
        }
        let mut j = i + 2;
        while j < chars.len() && chars[j].is_ascii_uppercase() {
            j += 1;
        }
        let letters = j - (i + 2);
        let digits_from = j;
        while j < chars.len() && chars[j].is_ascii_digit() {
            j += 1;
        }
        let ends_word = j == chars.len() || !(chars[j].is_alphanumeric() || chars[j] == '_');
        if letters > 0 && j > digits_from && ends_word {
            found.push(chars[i..j].iter().collect());
        }
    }
    found
}

/// The tags `docs/compatibility.md` defines: its `### <tag>` headings.
fn defined_tags() -> BTreeSet<String> {
    let text = std::fs::read_to_string(root().join("docs/compatibility.md"))
        .expect("docs/compatibility.md exists");
    text.lines()
        .filter_map(|line| line.strip_prefix("### "))
        .filter_map(|heading| {
            let tag = heading.split([':', ' ']).next()?;
            (tags(tag) == [tag]).then(|| tag.to_owned())
        })
        .collect()
}

#[test]
fn every_tag_cited_in_the_repository_has_an_entry_in_the_compatibility_register() {
    let defined = defined_tags();
    assert!(
        defined.len() > 40,
        "the register should define every tag: {defined:?}"
    );
    let mut missing: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (path, text) in texts() {
        for tag in tags(&text) {
            if !defined.contains(&tag) {
                missing.entry(tag).or_default().insert(path.clone());
            }
        }
    }
    assert!(
        missing.is_empty(),
        "tags without an entry (a `### <tag>: …` heading) in docs/compatibility.md: {missing:?}"
    );
}

/// The section numbers of a Markdown file: the first word of each heading, e.g. `3` or `3.2`.
fn sections(doc: &str) -> BTreeSet<String> {
    doc.lines()
        .filter(|line| line.starts_with('#'))
        .filter_map(|line| line.trim_start_matches('#').split_whitespace().next())
        .map(|word| word.trim_end_matches('.').to_owned())
        .filter(|word| !word.is_empty() && word.chars().all(|c| c.is_ascii_digit() || c == '.'))
        .collect()
}

/// Checks every section sign of `text`: outside `docs/` it must follow `docs/<file>.md ` and be
/// followed by a section of that file. Inside `docs/`, a section sign followed by a number and
/// no file names a section of the same file, and one followed by anything else (the docs
/// describe the form) is not a reference. Returns the problems found.
fn section_problems(path: &str, text: &str) -> Vec<String> {
    let in_docs = path.starts_with("docs/");
    let mut problems = Vec::new();
    for (number, line) in text.lines().enumerate() {
        for (at, _) in line.match_indices(SECTION) {
            let before = &line[..at];
            let named = before
                .strip_suffix(' ')
                .and_then(|b| b.rsplit([' ', '(', '`', '[', '"']).next())
                .filter(|word| word.starts_with("docs/") && word.ends_with(".md"));
            let after = &line[at + SECTION.len_utf8()..];
            let section: String = after
                .chars()
                .take_while(|c| c.is_ascii_digit() || *c == '.')
                .collect();
            let section = section.trim_end_matches('.');
            let place = format!("{path}:{}", number + 1);
            if in_docs && section.is_empty() {
                continue;
            }
            let doc = match named {
                Some(doc) => doc,
                None if in_docs => path,
                None => {
                    problems.push(format!(
                        "{place}: a section sign not preceded by `docs/<file>.md `"
                    ));
                    continue;
                }
            };
            match std::fs::read_to_string(root().join(doc)) {
                Err(_) => problems.push(format!("{place}: {doc} does not exist")),
                Ok(content) if !sections(&content).contains(section) => {
                    problems.push(format!("{place}: {doc} has no section `{section}`"))
                }
                Ok(_) => {}
            }
        }
    }
    problems
}

#[test]
fn every_section_reference_names_a_section_of_the_docs() {
    let mut problems = Vec::new();
    for (path, text) in texts() {
        problems.extend(section_problems(&path, &text));
    }
    assert!(problems.is_empty(), "{problems:#?}");
}

#[test]
fn nothing_points_outside_the_repository() {
    // Built from pieces so that this file does not mention them itself.
    let forbidden = [
        ["..", "/shared"].concat(),
        ["dispatch", "-spec"].concat(),
        ["security", ".md"].concat(),
    ];
    let mut found = Vec::new();
    for path in files() {
        let Ok(bytes) = std::fs::read(&path) else {
            continue;
        };
        let text = String::from_utf8_lossy(&bytes);
        for needle in &forbidden {
            if text.contains(needle.as_str()) {
                found.push(format!("{} mentions {needle}", relative(&path)));
            }
        }
    }
    assert!(found.is_empty(), "{found:#?}");
}

/// Resolves `link` against the folder of `from`, without touching the file system.
fn resolve(from: &str, link: &str) -> Option<String> {
    let mut parts: Vec<String> = from.split('/').map(str::to_owned).collect();
    parts.pop();
    for component in Path::new(link).components() {
        match component {
            Component::Normal(part) => parts.push(part.to_string_lossy().into_owned()),
            Component::ParentDir => {
                parts.pop()?;
            }
            Component::CurDir => {}
            Component::RootDir | Component::Prefix(_) => return None,
        }
    }
    Some(parts.join("/"))
}

#[test]
fn links_of_the_readme_and_the_docs_stay_inside_the_repository_and_exist() {
    let mut problems = Vec::new();
    for (path, text) in texts() {
        if !(path == "README.md" || path.starts_with("docs/")) {
            continue;
        }
        for piece in text.split("](").skip(1) {
            let Some(target) = piece.split(')').next() else {
                continue;
            };
            let target = target.split('#').next().unwrap_or_default();
            if target.is_empty() || target.contains("://") || target.starts_with("mailto:") {
                continue;
            }
            match resolve(&path, target) {
                Some(file) if root().join(&file).exists() => {}
                Some(file) => problems.push(format!("{path}: {target} ({file}) does not exist")),
                None => problems.push(format!("{path}: {target} leaves the repository")),
            }
        }
    }
    assert!(problems.is_empty(), "{problems:#?}");
}

#[test]
fn the_scanners_find_what_they_should() {
    assert_eq!(
        tags("(Q-U1) D-AUTH3, Q-PL4. FAQ-U1 Q-1 Q-u1 XD-HTTP1 D-HTTP1x"),
        ["Q-U1", "D-AUTH3", "Q-PL4"]
    );
    let good = format!("see docs/contract.md {SECTION}3.2.");
    assert!(section_problems("shared/src/x.rs", &good).is_empty());
    for bad in [
        format!("see {SECTION}3.2"),
        format!("see docs/contract.md {SECTION}99"),
        format!("see docs/nowhere.md {SECTION}1"),
    ] {
        assert_eq!(section_problems("shared/src/x.rs", &bad).len(), 1, "{bad}");
    }
    assert_eq!(
        resolve("docs/a.md", "../README.md").as_deref(),
        Some("README.md")
    );
    assert_eq!(resolve("README.md", "../elsewhere/a.md"), None);
}

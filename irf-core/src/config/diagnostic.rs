//! Diagnostics for `org.toml`: what is wrong, where (file, line:column, key path) and how to fix
//! it, rendered like a compiler error so the responder fixing the file at 3 a.m. does not have to
//! guess.

use std::collections::BTreeMap;
use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

use toml::de::{DeTable, DeValue};

/// One problem found in an org config.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    /// Key path of the offending value, e.g. `members[1].account_id` (`""` for the whole file).
    pub path: String,
    /// What is wrong.
    pub message: String,
    /// How to fix it.
    pub help: String,
    /// Byte range in the file, when known.
    pub span: Option<Range<usize>>,
}

impl Diagnostic {
    /// A diagnostic for `path` with no span yet (the loader attaches one from the span index).
    pub fn new(
        path: impl Into<String>,
        message: impl Into<String>,
        help: impl Into<String>,
    ) -> Self {
        Diagnostic {
            path: path.into(),
            message: message.into(),
            help: help.into(),
            span: None,
        }
    }
}

/// Why an org config was rejected.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConfigErrorKind {
    /// The file could not be read at all.
    Unreadable,
    /// The file was read but is not a valid org config.
    Invalid,
}

/// An org config that was rejected, with every diagnostic found.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub struct ConfigError {
    /// The file as the user named it.
    pub file: PathBuf,
    /// Unreadable or invalid.
    pub kind: ConfigErrorKind,
    /// At least one diagnostic.
    pub diagnostics: Vec<Diagnostic>,
    source_text: String,
}

impl ConfigError {
    pub(crate) fn unreadable(file: &Path, message: String) -> Self {
        ConfigError {
            file: file.to_path_buf(),
            kind: ConfigErrorKind::Unreadable,
            diagnostics: vec![Diagnostic::new(
                "",
                message,
                "check the path given to --org-config; `irf-synth init` writes a starter file",
            )],
            source_text: String::new(),
        }
    }

    pub(crate) fn invalid(file: &Path, source_text: &str, diagnostics: Vec<Diagnostic>) -> Self {
        ConfigError {
            file: file.to_path_buf(),
            kind: ConfigErrorKind::Invalid,
            diagnostics,
            source_text: source_text.to_owned(),
        }
    }

    /// 1-based line and column of a byte offset in the file.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        line_col(&self.source_text, offset)
    }
}

/// 1-based line and column (in characters) of `offset` in `text`.
pub(crate) fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = &text[..floor_char_boundary(text, offset)];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}

fn floor_char_boundary(text: &str, mut i: usize) -> usize {
    while i > 0 && !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let file = self.file.display();
        for (n, d) in self.diagnostics.iter().enumerate() {
            if n > 0 {
                writeln!(f)?;
            }
            let at = match &d.span {
                Some(span) => {
                    let (line, col) = self.line_col(span.start);
                    format!("{file}:{line}:{col}")
                }
                None => format!("{file}"),
            };
            let path = if d.path.is_empty() {
                String::new()
            } else {
                format!("{}: ", d.path)
            };
            writeln!(f, "error: {at}: {path}{}", d.message)?;
            if let Some(span) = &d.span {
                render_snippet(f, &self.source_text, span)?;
            }
            write!(f, "  = help: {}", d.help)?;
        }
        Ok(())
    }
}

fn render_snippet(f: &mut fmt::Formatter<'_>, text: &str, span: &Range<usize>) -> fmt::Result {
    let (line, col) = line_col(text, span.start);
    let Some(src) = text.lines().nth(line - 1) else {
        return Ok(());
    };
    let gutter = line.to_string().len();
    let line_chars = src.chars().count();
    let span_chars = text
        .get(floor_char_boundary(text, span.start)..floor_char_boundary(text, span.end))
        .map_or(1, |s| s.split('\n').next().unwrap_or("").chars().count());
    let width = span_chars.clamp(1, (line_chars + 1).saturating_sub(col).max(1));
    writeln!(f, "{:gutter$} |", "")?;
    writeln!(f, "{line} | {src}")?;
    writeln!(
        f,
        "{:gutter$} | {}{}",
        "",
        " ".repeat(col - 1),
        "^".repeat(width)
    )
}

/// Byte spans of every key and value in a parsed TOML document, by key path.
#[derive(Debug, Default)]
pub(crate) struct SpanIndex {
    values: BTreeMap<String, Range<usize>>,
    keys: BTreeMap<String, Range<usize>>,
}

impl SpanIndex {
    pub(crate) fn build(root: &DeTable<'_>) -> Self {
        let mut index = SpanIndex::default();
        index.walk_table("", root);
        index
    }

    fn walk_table(&mut self, prefix: &str, table: &DeTable<'_>) {
        for (key, value) in table.iter() {
            let path = join_key(prefix, key.get_ref());
            self.keys.insert(path.clone(), key.span());
            self.walk_value(&path, value.get_ref(), value.span());
        }
    }

    fn walk_value(&mut self, path: &str, value: &DeValue<'_>, span: Range<usize>) {
        self.values.insert(path.to_owned(), span);
        match value {
            DeValue::Table(t) => self.walk_table(path, t),
            DeValue::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    self.walk_value(&format!("{path}[{i}]"), item.get_ref(), item.span());
                }
            }
            _ => {}
        }
    }

    /// The span of the value at `path`, or of the closest enclosing value that exists (a missing
    /// key points at the table that should contain it).
    pub(crate) fn value_span(&self, path: &str) -> Option<Range<usize>> {
        let mut p = path.to_owned();
        loop {
            if let Some(s) = self.values.get(&p) {
                return Some(s.clone());
            }
            p = parent_path(&p)?;
        }
    }

    /// The span of the key at `path` (for unknown keys), if present.
    pub(crate) fn key_span(&self, path: &str) -> Option<Range<usize>> {
        self.keys.get(path).cloned()
    }
}

/// Appends a key to a dotted path, quoting it when it is not a bare TOML key.
pub(crate) fn join_key(prefix: &str, key: &str) -> String {
    let key = toml_key(key);
    if prefix.is_empty() {
        key
    } else {
        format!("{prefix}.{key}")
    }
}

/// A key as written in a TOML path: bare when possible, quoted otherwise.
pub(crate) fn toml_key(k: &str) -> String {
    if !k.is_empty()
        && k.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    {
        k.to_owned()
    } else {
        format!("{k:?}")
    }
}

fn parent_path(path: &str) -> Option<String> {
    if path.is_empty() {
        return None;
    }
    let cut = path.rfind(['.', '['])?;
    Some(path[..cut].to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_col_counts_from_one() {
        let t = "a = 1\nbb = \"x\"\n";
        assert_eq!(line_col(t, 0), (1, 1));
        assert_eq!(line_col(t, 6), (2, 1));
        assert_eq!(line_col(t, 11), (2, 6));
    }

    #[test]
    fn parent_of_nested_paths() {
        assert_eq!(
            parent_path("members[1].regions[0]").as_deref(),
            Some("members[1].regions")
        );
        assert_eq!(parent_path("members[1]").as_deref(), Some("members"));
        assert_eq!(parent_path("members"), None);
        assert_eq!(parent_path(""), None);
    }
}

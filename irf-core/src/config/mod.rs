//! `org.toml`: the one file a user writes.
//!
//! [`load`] reads, parses and validates it into a [`Framework`]. Every rejection is a
//! [`ConfigError`] listing each problem with its file, line:column, key path, what is wrong and
//! how to fix it. Nothing downstream ever sees a half-valid config.

mod diagnostic;
mod raw;
mod starter;
mod suggest;
mod validate;

use std::path::Path;

use toml::de::DeTable;

pub use diagnostic::{ConfigError, ConfigErrorKind, Diagnostic};
pub use starter::STARTER_ORG_TOML;

use crate::model::Framework;
use diagnostic::SpanIndex;

/// Reads and validates the org config at `path`.
pub fn load(path: &Path) -> Result<Framework, ConfigError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| ConfigError::unreadable(path, format!("cannot read the org config: {e}")))?;
    parse(path, &text)
}

/// Validates org-config `text`; `path` is only used in messages.
pub fn parse(path: &Path, text: &str) -> Result<Framework, ConfigError> {
    let fail = |diags: Vec<Diagnostic>| ConfigError::invalid(path, text, diags);
    if text.trim().is_empty() {
        return Err(fail(vec![Diagnostic::new(
            "",
            "the org config is empty",
            "run `irf-synth init --out org.toml` for a commented starter file",
        )]));
    }
    let table = DeTable::parse(text).map_err(|e| {
        let mut d = Diagnostic::new(
            "",
            format!("not valid TOML: {}", e.message()),
            "fix the TOML syntax at the marked position (see https://toml.io); is this the right file?",
        );
        d.span = e.span();
        fail(vec![d])
    })?;
    let index = SpanIndex::build(table.get_ref());
    let raw: raw::RawOrgConfig = serde_path_to_error::deserialize(toml::Deserializer::from(table))
        .map_err(|e| {
            let path = match e.path().to_string() {
                p if p == "." => String::new(),
                p => p,
            };
            fail(vec![schema_diagnostic(&index, path, e.inner())])
        })?;
    validate::validate(raw).map_err(|mut diags| {
        for d in &mut diags {
            if d.span.is_none() {
                d.span = index.value_span(&d.path);
            }
        }
        fail(diags)
    })
}

/// Turns a serde error (unknown key, missing key, wrong type) into a diagnostic with a fix.
fn schema_diagnostic(index: &SpanIndex, path: String, e: &toml::de::Error) -> Diagnostic {
    let msg = e.message();
    let mut d = if let Some(rest) = msg.strip_prefix("unknown field `") {
        let (field, expected) = rest.split_once('`').unwrap_or((rest, ""));
        let valid: Vec<&str> = expected
            .split('`')
            .skip(1)
            .step_by(2)
            .filter(|s| !s.is_empty())
            .collect();
        let field_path = if path.ends_with(field) {
            path.clone()
        } else {
            diagnostic::join_key(&path, field)
        };
        let help = match suggest::closest(field, valid.iter().copied()) {
            Some(s) => format!("did you mean `{s}`?"),
            None if valid.is_empty() => "remove it".to_owned(),
            None => format!("valid keys here: {}", valid.join(", ")),
        };
        let mut d = Diagnostic::new(field_path.clone(), format!("unknown key `{field}`"), help);
        d.span = index.key_span(&field_path);
        d
    } else if let Some(rest) = msg.strip_prefix("missing field `") {
        let field = rest.split('`').next().unwrap_or(rest);
        let table = if path.is_empty() {
            "the top level".to_owned()
        } else {
            format!("[{path}]")
        };
        let mut d = Diagnostic::new(
            path.clone(),
            format!("missing key `{field}`"),
            format!(
                "add `{field} = ...` to {table}; `irf-synth init` shows every key with an example"
            ),
        );
        d.span = index.value_span(&path);
        d
    } else if let Some(rest) = msg.strip_prefix("invalid type: ") {
        let help = if path.ends_with("account_id") {
            "quote account ids, e.g. account_id = \"111111111111\": a bare number loses leading zeros"
                .to_owned()
        } else {
            let expected = rest.split_once("expected ").map_or("", |(_, x)| x);
            format!("write the value as {expected}")
        };
        Diagnostic::new(path.clone(), format!("wrong type: {rest}"), help)
    } else {
        Diagnostic::new(
            path.clone(),
            msg.to_owned(),
            "compare with the output of `irf-synth init`",
        )
    };
    if d.span.is_none() {
        d.span = e.span().or_else(|| index.value_span(&path));
    }
    d
}

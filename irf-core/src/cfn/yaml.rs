//! YAML emission and the YAML 1.1 guard.
//!
//! CloudFormation reads YAML 1.1, where an unquoted `yes`, `on`, `0123`, `1_000`, `1:20` or
//! `2010-09-09` is not a string. Templates are emitted with serde-saphyr, which quotes such
//! strings by default; [`unsafe_plain_scalars`] independently re-reads the emitted text and lists
//! any string a YAML 1.1 reader would turn into something else, so a change of emitter defaults
//! cannot silently corrupt a template.

use std::collections::BTreeSet;
use std::sync::LazyLock;

use regex::Regex;
use serde::Serialize;

/// Emits any serializable value as YAML with the project's options.
pub fn to_yaml<T: Serialize>(value: &T) -> String {
    let options = serde_saphyr::ser_options! {
        indent_step: 2,
        prefer_block_scalars: true,
    };
    match serde_saphyr::to_string_with_options(value, options) {
        Ok(s) => s,
        // The model holds no values serde-saphyr rejects (no non-string keys, no NaN); if one
        // appears, synthesis must stop rather than write a broken template.
        Err(e) => panic!("YAML emission failed: {e}"),
    }
}

/// Emits a template.
pub(crate) fn emit(t: &super::Template) -> String {
    to_yaml(t)
}

/// True when a YAML 1.1 resolver would read plain scalar `s` as something other than a string.
pub fn yaml11_non_string(s: &str) -> bool {
    static PATTERNS: LazyLock<Vec<Regex>> = LazyLock::new(|| {
        [
            // booleans
            r"^(y|Y|yes|Yes|YES|n|N|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF)$",
            // null
            r"^(~|null|Null|NULL|)$",
            // integers: binary, octal, decimal, hex, sexagesimal
            r"^[-+]?0b[0-1_]+$",
            r"^[-+]?0[0-7_]+$",
            r"^[-+]?(0|[1-9][0-9_]*)$",
            r"^[-+]?0x[0-9a-fA-F_]+$",
            r"^[-+]?[1-9][0-9_]*(:[0-5]?[0-9])+$",
            // floats
            r"^[-+]?([0-9][0-9_]*)?\.[0-9.]*([eE][-+][0-9]+)?$",
            r"^[-+]?[0-9][0-9_]*(:[0-5]?[0-9])+\.[0-9_]*$",
            r"^[-+]?\.(inf|Inf|INF)$",
            r"^\.(nan|NaN|NAN)$",
            // timestamps
            r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$",
            r"^[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}([Tt]|[ \t]+)[0-9]{1,2}:[0-9]{2}:[0-9]{2}(\.[0-9]*)?(([ \t]*)Z|[-+][0-9]{1,2}(:[0-9]{2})?)?$",
            // merge key and value indicator
            r"^(<<|=)$",
        ]
        .iter()
        .map(|p| Regex::new(p).expect("static regex"))
        .collect()
    });
    PATTERNS.iter().any(|r| r.is_match(s))
}

/// What the YAML 1.1 guard needs to know about a value: its strings that a YAML 1.1 reader would
/// not read as strings if written plain, and how often each such spelling legitimately appears as
/// a typed bool or number (which *must* stay plain).
#[derive(Clone, Debug, Default)]
pub struct Yaml11Profile {
    /// String values and keys that a YAML 1.1 reader would not read as strings if written plain.
    pub strings: BTreeSet<String>,
    /// Typed scalars by their plain rendering, with counts.
    pub typed: std::collections::BTreeMap<String, usize>,
}

/// Profiles `value` for [`unsafe_plain_scalars`].
pub fn profile<T: Serialize>(value: &T) -> Yaml11Profile {
    fn walk(v: &serde_json::Value, out: &mut Yaml11Profile) {
        match v {
            serde_json::Value::String(s) if yaml11_non_string(s) => {
                out.strings.insert(s.clone());
            }
            serde_json::Value::Bool(b) => *out.typed.entry(b.to_string()).or_default() += 1,
            serde_json::Value::Number(n) => *out.typed.entry(n.to_string()).or_default() += 1,
            serde_json::Value::Array(a) => a.iter().for_each(|x| walk(x, out)),
            serde_json::Value::Object(m) => {
                for (k, x) in m {
                    if yaml11_non_string(k) {
                        out.strings.insert(k.clone());
                    }
                    walk(x, out);
                }
            }
            _ => {}
        }
    }
    let mut out = Yaml11Profile::default();
    if let Ok(v) = serde_json::to_value(value) {
        walk(&v, &mut out);
    }
    out
}

/// Plain (unquoted) scalars of `yaml` that are strings of the model a YAML 1.1 reader would turn
/// into a bool, number, null or date: a spelling counts as unsafe when it appears plain more
/// often than the model has typed scalars of that spelling. Block-scalar bodies are skipped
/// (their content is text by construction).
pub fn unsafe_plain_scalars(yaml: &str, profile: &Yaml11Profile) -> Vec<String> {
    let mut plain: std::collections::BTreeMap<String, usize> = std::collections::BTreeMap::new();
    for s in plain_scalars(yaml) {
        if profile.strings.contains(&s) {
            *plain.entry(s).or_default() += 1;
        }
    }
    plain
        .into_iter()
        .filter(|(s, n)| *n > profile.typed.get(s).copied().unwrap_or(0))
        .map(|(s, _)| s)
        .collect()
}

/// Every plain scalar (keys and values) of block-style YAML, in order.
fn plain_scalars(yaml: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut block_indent: Option<usize> = None;
    for line in yaml.lines() {
        let indent = line.len() - line.trim_start().len();
        if let Some(bi) = block_indent {
            if line.trim().is_empty() || indent > bi {
                continue;
            }
            block_indent = None;
        }
        let mut rest = line.trim_start();
        let mut item_indent = indent;
        while let Some(r) = rest.strip_prefix("- ") {
            rest = r.trim_start();
            item_indent += 2;
        }
        let (key, value) = split_key(rest);
        if let Some(k) = key
            && is_plain(k)
        {
            found.push(k.to_owned());
        }
        let mut value = value.trim();
        if value.starts_with('!') {
            // A tag: the scalar or flow collection after it is what gets resolved.
            value = value.split_once(' ').map_or("", |(_, v)| v.trim());
        }
        if value.starts_with('|') || value.starts_with('>') {
            block_indent = Some(if key.is_some() {
                indent
            } else {
                item_indent - 2
            });
            continue;
        }
        if let Some(v) = value.strip_prefix('[').and_then(|v| v.strip_suffix(']')) {
            found.extend(v.split(", ").filter(|i| is_plain(i)).map(str::to_owned));
        } else if is_plain(value) {
            found.push(value.to_owned());
        }
    }
    found
}

/// Splits `key: value` at the first `: ` outside quotes; a line without one is a bare value.
fn split_key(s: &str) -> (Option<&str>, &str) {
    let mut quote = None;
    let bytes = s.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        match (quote, b) {
            (None, b'\'' | b'"') if i == 0 => quote = Some(b),
            (Some(q), _) if b == q => quote = None,
            (None, b':') if bytes.get(i + 1).is_none_or(|n| *n == b' ') => {
                return (Some(&s[..i]), s.get(i + 1..).unwrap_or(""));
            }
            _ => {}
        }
    }
    (None, s)
}

fn is_plain(s: &str) -> bool {
    !s.is_empty() && !s.starts_with(['\'', '"', '!', '|', '>', '[', '{', '&', '*'])
}

#[cfg(test)]
mod tests {
    use super::*;
    use indexmap::IndexMap;

    /// The YAML 1.1 traps from the research notes, plus keys.
    const TRAPS: &[&str] = &[
        "yes",
        "Yes",
        "YES",
        "no",
        "No",
        "NO",
        "y",
        "Y",
        "n",
        "N",
        "on",
        "On",
        "ON",
        "off",
        "Off",
        "OFF",
        "true",
        "False",
        "~",
        "null",
        "Null",
        "",
        "0123",
        "0o17",
        "0x1F",
        "0b101",
        "1_000",
        "1:20",
        "190:20:30",
        "-1",
        "+12",
        "1.5",
        "1e3",
        ".inf",
        ".NaN",
        "=",
        "<<",
        "2010-09-09",
        "2001-12-14t21:59:43.10-05:00",
        "2001-12-14 21:59:43.10 -5",
        "012",
        "123456789012",
    ];

    #[test]
    fn emitter_quotes_every_yaml11_trap_value_and_key() {
        let mut m: IndexMap<String, String> = IndexMap::new();
        for (i, t) in TRAPS.iter().enumerate() {
            m.insert(format!("K{i}"), (*t).to_owned());
            if !t.is_empty() {
                m.insert((*t).to_owned(), "key-trap".to_owned());
            }
        }
        let yaml = to_yaml(&m);
        let p = profile(&m);
        assert!(
            p.strings.len() >= 35,
            "the resolver recognises the traps: {:?}",
            p.strings
        );
        let unsafe_ = unsafe_plain_scalars(&yaml, &p);
        assert!(
            unsafe_.is_empty(),
            "unquoted YAML 1.1 traps {unsafe_:?} in:\n{yaml}"
        );
    }

    #[test]
    fn guard_detects_plain_traps() {
        let yaml = "A: yes\nB: 'no'\nC:\n- on\n- x\nD: |\n  yes\nE: !Select [0, 1_000]\nF: false\nG: false\n";
        let p = Yaml11Profile {
            strings: ["yes", "no", "on", "1_000", "false"]
                .iter()
                .map(|s| (*s).to_owned())
                .collect(),
            typed: [("false".to_owned(), 1)].into_iter().collect(),
        };
        assert_eq!(
            unsafe_plain_scalars(yaml, &p),
            ["1_000", "false", "on", "yes"]
        );
    }

    #[test]
    fn resolver_knows_strings_from_non_strings() {
        for s in ["yes", "0123", "1_000", "1:20", "2010-09-09", "~", ".5"] {
            assert!(yaml11_non_string(s), "{s}");
        }
        for s in [
            "yesterday",
            "us-east-1",
            "ami-0123",
            "10.0.0.0/16",
            "v0.14.0",
            "o-abc",
        ] {
            assert!(!yaml11_non_string(s), "{s}");
        }
    }
}

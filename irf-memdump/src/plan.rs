//! The upload plan the capture Lambda writes: which object, what part size, and one presigned
//! `UploadPart` URL per part.
//!
//! ```json
//! {"version": 1, "case_id": "…", "object_key": "…", "part_size": 16777216,
//!  "parts": [{"number": 1, "url": "https://…"}, {"number": 2, "url": "https://…"}],
//!  "receipts_url": "https://…",
//!  "symbols": {"manifest.json": "https://…", "btf": "https://…", "kallsyms": "https://…", …}}
//! ```
//!
//! `symbols` (optional) holds one presigned `PutObject` URL per file of the kernel's symbol bundle
//! ([`irf_isf::bundle`]), which `stream` uploads before the image ([`crate::symbols`]).

use std::collections::BTreeMap;

use irf_isf::bundle;
use serde::{Deserialize, Serialize};

/// The only plan version understood.
pub const VERSION: u64 = 1;
/// Smallest part size S3 accepts for every part but the last (5 MiB).
pub const MIN_PART_SIZE: u64 = 5 << 20;
/// Largest part size accepted (512 MiB): one part is held in memory on the host.
pub const MAX_PART_SIZE: u64 = 512 << 20;
/// Most parts S3 allows in one multipart upload.
pub const MAX_PARTS: usize = 10_000;

/// A validated upload plan.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plan {
    /// Plan format version; must be [`VERSION`].
    pub version: u64,
    /// The incident case the capture belongs to.
    pub case_id: String,
    /// The S3 key of the object being uploaded (informational: the URLs name it).
    pub object_key: String,
    /// Size of every part but the last, in bytes.
    pub part_size: u64,
    /// The part URLs, numbered 1..N in order.
    pub parts: Vec<PlanPart>,
    /// Presigned `PutObject` URL where the streamer writes its receipts (the report plus every
    /// part's ETag) after the last part, so the Lambda can complete the upload without
    /// `ListParts`. S3 checks every ETag again when the upload is completed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub receipts_url: Option<String>,
    /// Presigned `PutObject` URLs for the symbol bundle, by file name (`manifest.json` and the
    /// names of [`bundle::KNOWN`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub symbols: Option<BTreeMap<String, String>>,
}

/// One part of the plan.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanPart {
    /// The S3 part number (1-based).
    pub number: u32,
    /// The presigned `UploadPart` PUT URL.
    pub url: String,
}

/// Why a plan is rejected; each message names the offending field.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    /// Not JSON, or a field is missing or of the wrong type (serde's message names it).
    #[error("{0}")]
    Json(String),
    /// `version` is not 1.
    #[error("version: expected {VERSION}, got {0}")]
    Version(u64),
    /// `case_id` or `object_key` is empty.
    #[error("{0}: must not be empty")]
    Empty(&'static str),
    /// `part_size` is out of bounds.
    #[error(
        "part_size: {0} bytes is outside {MIN_PART_SIZE} (5 MiB) ..= {MAX_PART_SIZE} (512 MiB)"
    )]
    PartSize(u64),
    /// `parts` is empty.
    #[error("parts: no parts")]
    NoParts,
    /// More parts than S3 allows.
    #[error("parts: {0} parts, S3 allows at most {MAX_PARTS}")]
    TooManyParts(usize),
    /// Parts are not numbered 1..N in order.
    #[error(
        "parts[{index}].number: expected {expected}, got {found} (parts must be numbered 1..N in order)"
    )]
    PartNumber {
        /// 0-based index in `parts`.
        index: usize,
        /// The number it should have.
        expected: u64,
        /// The number it has.
        found: u32,
    },
    /// `symbols` names a file that is not part of a symbol bundle.
    #[error(
        "symbols.{0}: not a file of the symbol bundle (expected manifest.json, version, btf, kallsyms, osrelease, config or config.gz)"
    )]
    SymbolName(String),
    /// A symbol file URL is not an http(s) URL.
    #[error("symbols.{name}: must start with https:// (or http://), got {prefix:?}")]
    SymbolUrl {
        /// The file name.
        name: String,
        /// The start of the value (never the signature).
        prefix: String,
    },
    /// A part URL is not an http(s) URL.
    #[error("parts[{index}].url: must start with https:// (or http://), got {prefix:?}")]
    PartUrl {
        /// 0-based index in `parts`.
        index: usize,
        /// The start of the value (never the signature).
        prefix: String,
    },
}

impl Plan {
    /// Parses and validates plan JSON.
    pub fn from_json(text: &str) -> Result<Plan, PlanError> {
        let plan: Plan = serde_json::from_str(text).map_err(|e| PlanError::Json(e.to_string()))?;
        plan.validate()?;
        Ok(plan)
    }

    /// Checks the plan: version 1, non-empty ids, part size within bounds, parts 1..N (N ≤ 10,000)
    /// with http(s) URLs.
    pub fn validate(&self) -> Result<(), PlanError> {
        if self.version != VERSION {
            return Err(PlanError::Version(self.version));
        }
        if self.case_id.is_empty() {
            return Err(PlanError::Empty("case_id"));
        }
        if self.object_key.is_empty() {
            return Err(PlanError::Empty("object_key"));
        }
        if !(MIN_PART_SIZE..=MAX_PART_SIZE).contains(&self.part_size) {
            return Err(PlanError::PartSize(self.part_size));
        }
        if self.parts.is_empty() {
            return Err(PlanError::NoParts);
        }
        if self.parts.len() > MAX_PARTS {
            return Err(PlanError::TooManyParts(self.parts.len()));
        }
        for (index, part) in self.parts.iter().enumerate() {
            let expected = index as u64 + 1;
            if u64::from(part.number) != expected {
                return Err(PlanError::PartNumber {
                    index,
                    expected,
                    found: part.number,
                });
            }
            if !is_http(&part.url) {
                let prefix = part.url.chars().take(12).collect();
                return Err(PlanError::PartUrl { index, prefix });
            }
        }
        for (name, url) in self.symbols.iter().flatten() {
            if name != bundle::MANIFEST && !bundle::KNOWN.contains(&name.as_str()) {
                return Err(PlanError::SymbolName(name.clone()));
            }
            if !is_http(url) {
                let prefix = url.chars().take(12).collect();
                return Err(PlanError::SymbolUrl {
                    name: name.clone(),
                    prefix,
                });
            }
        }
        Ok(())
    }

    /// Bytes the plan's parts can hold: `parts × part_size`.
    pub fn capacity(&self) -> u64 {
        self.parts.len() as u64 * self.part_size
    }
}

fn is_http(url: &str) -> bool {
    url.starts_with("https://") || url.starts_with("http://")
}

/// A URL without its query string (the presigned signature and token), for messages.
pub fn redact_url(url: &str) -> String {
    match url.split_once('?') {
        Some((base, _)) => format!("{base}?<signature redacted>"),
        None => url.to_string(),
    }
}

/// Where `stream` takes the plan from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PlanLocation {
    /// A presigned S3 GET URL (`--plan-url`).
    Url(String),
    /// A local file (`--plan-file`).
    File(std::path::PathBuf),
}

/// Reads (or fetches with `client`) and validates the plan.
pub fn load(location: &PlanLocation, client: &crate::upload::Client) -> crate::Result<Plan> {
    let text = match location {
        PlanLocation::Url(url) => client.get_text(url)?,
        PlanLocation::File(path) => {
            std::fs::read_to_string(path).map_err(|e| crate::Error::PlanUnreadable {
                what: path.display().to_string(),
                reason: e.to_string(),
            })?
        }
    };
    Ok(Plan::from_json(&text)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan_json(part_size: u64, numbers: &[u32]) -> String {
        let parts: Vec<String> = numbers
            .iter()
            .map(|n| format!(r#"{{"number": {n}, "url": "https://b.s3.amazonaws.com/k?partNumber={n}&X-Amz-Signature=s"}}"#))
            .collect();
        format!(
            r#"{{"version": 1, "case_id": "c-1", "object_key": "cases/c-1/memory.lime", "part_size": {part_size}, "parts": [{}]}}"#,
            parts.join(",")
        )
    }

    fn with_symbols(files: &[(&str, &str)]) -> String {
        let map: BTreeMap<&str, &str> = files.iter().copied().collect();
        let plan = plan_json(16 << 20, &[1]);
        format!(
            "{}, \"symbols\": {}}}",
            plan.strip_suffix('}').unwrap(),
            serde_json::to_string(&map).unwrap()
        )
    }

    #[test]
    fn accepts_symbol_urls_for_the_bundle_files() {
        let plan = Plan::from_json(&with_symbols(&[
            ("manifest.json", "https://b/m?X-Amz-Signature=s"),
            ("btf", "https://b/btf?X-Amz-Signature=s"),
            ("config.gz", "http://127.0.0.1:5000/b/c?X-Amz-Signature=s"),
        ]))
        .unwrap();
        assert_eq!(plan.symbols.unwrap().len(), 3);
        assert!(
            Plan::from_json(&plan_json(16 << 20, &[1]))
                .unwrap()
                .symbols
                .is_none()
        );
    }

    #[test]
    fn accepts_a_valid_plan() {
        let plan = Plan::from_json(&plan_json(16 << 20, &[1, 2, 3])).unwrap();
        assert_eq!(plan.parts.len(), 3);
        assert_eq!(plan.capacity(), 48 << 20);
        assert!(Plan::from_json(&plan_json(MIN_PART_SIZE, &[1])).is_ok());
        assert!(Plan::from_json(&plan_json(MAX_PART_SIZE, &[1])).is_ok());
    }

    #[test]
    fn rejections_name_the_field() {
        let cases: Vec<(String, &str)> = vec![
            (
                plan_json(16 << 20, &[1]).replace(r#""version": 1"#, r#""version": 2"#),
                "version: expected 1, got 2",
            ),
            (
                plan_json(MIN_PART_SIZE - 1, &[1]),
                "part_size: 5242879 bytes is outside",
            ),
            (
                plan_json(MAX_PART_SIZE + 1, &[1]),
                "part_size: 536870913 bytes is outside",
            ),
            (plan_json(16 << 20, &[]), "parts: no parts"),
            (
                plan_json(16 << 20, &[1, 3]),
                "parts[1].number: expected 2, got 3",
            ),
            (
                plan_json(16 << 20, &[0]),
                "parts[0].number: expected 1, got 0",
            ),
            (
                plan_json(16 << 20, &[2, 1]),
                "parts[0].number: expected 1, got 2",
            ),
            (
                plan_json(16 << 20, &[1]).replace("https://", "ftp://"),
                "parts[0].url: must start with https://",
            ),
            (
                plan_json(16 << 20, &[1]).replace(r#""case_id": "c-1""#, r#""case_id": """#),
                "case_id: must not be empty",
            ),
            (
                plan_json(16 << 20, &[1]).replace(r#""part_size": 16777216, "#, ""),
                "missing field `part_size`",
            ),
            (
                plan_json(16 << 20, &[1]).replace(r#""number": 1"#, r#""number": "1""#),
                "invalid type: string \"1\"",
            ),
            ("not json".to_string(), "expected ident"),
            (
                with_symbols(&[("vmlinux", "https://b/k?X-Amz-Signature=s")]),
                "symbols.vmlinux: not a file of the symbol bundle",
            ),
            (
                with_symbols(&[("btf", "file:///tmp/btf")]),
                "symbols.btf: must start with https://",
            ),
        ];
        for (json, want) in cases {
            let e = Plan::from_json(&json).unwrap_err().to_string();
            assert!(e.contains(want), "{json}\n=> {e}\n(wanted {want:?})");
        }
        let numbers: Vec<u32> = (1..=u32::try_from(MAX_PARTS).unwrap() + 1).collect();
        let e = Plan::from_json(&plan_json(16 << 20, &numbers)).unwrap_err();
        assert_eq!(e, PlanError::TooManyParts(10_001));
        assert_eq!(e.to_string(), "parts: 10001 parts, S3 allows at most 10000");
    }

    #[test]
    fn redaction_drops_the_query() {
        assert_eq!(
            redact_url("https://b.s3.amazonaws.com/k?X-Amz-Signature=abc"),
            "https://b.s3.amazonaws.com/k?<signature redacted>"
        );
        assert_eq!(redact_url("http://h/k"), "http://h/k");
    }
}

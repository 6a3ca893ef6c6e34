//! The result line printed on success: one JSON object, kept under 20,000 characters because SSM
//! truncates command output at 24,000.

use serde::Serialize;

use crate::kcore::Skipped;
use crate::lime::Range;
use crate::stream::Outcome;

/// Result format version (2: the host no longer computes the image's MD5).
pub const VERSION: u32 = 2;
/// Ranges are listed only up to this many; above it only `range_count` is given.
pub const MAX_LISTED_RANGES: usize = 200;
/// Skipped ranges (longer entries) are listed only up to this many.
pub const MAX_LISTED_SKIPPED: usize = 50;
/// The line is guaranteed to be shorter than this.
pub const MAX_LINE: usize = 20_000;

/// The result of a successful capture. Part ETags are not included: the Lambda lists the parts.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Report {
    /// Always [`VERSION`].
    pub version: u32,
    /// `kcore`, `file` or `tcp`.
    pub source: &'static str,
    /// `lime` or `raw`.
    pub format: &'static str,
    /// Image length in bytes.
    pub bytes: u64,
    /// Hex SHA-256 of the image.
    pub sha256: String,
    /// Parts uploaded.
    pub parts: usize,
    /// The plan's part size.
    pub part_size: u64,
    /// The LiME ranges, when there are at most [`MAX_LISTED_RANGES`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ranges: Option<Vec<Range>>,
    /// Number of LiME ranges.
    pub range_count: usize,
    /// RAM left out of the image, when at most [`MAX_LISTED_SKIPPED`] ranges.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skipped_ranges: Option<Vec<Skipped>>,
    /// Number of skipped ranges.
    pub skipped_range_count: usize,
    /// Wall time of the capture, in seconds (millisecond precision).
    pub seconds: f64,
}

impl Report {
    /// The report of `outcome`.
    pub fn new(outcome: &Outcome) -> Self {
        Report {
            version: VERSION,
            source: outcome.source,
            format: outcome.format,
            bytes: outcome.bytes,
            sha256: hex::encode(outcome.digests.sha256),
            parts: outcome.parts.len(),
            part_size: outcome.part_size,
            ranges: (outcome.ranges.len() <= MAX_LISTED_RANGES).then(|| outcome.ranges.clone()),
            range_count: outcome.ranges.len(),
            skipped_ranges: (outcome.skipped.len() <= MAX_LISTED_SKIPPED)
                .then(|| outcome.skipped.clone()),
            skipped_range_count: outcome.skipped.len(),
            seconds: (outcome.seconds * 1000.0).round() / 1000.0,
        }
    }

    /// The single JSON line (no newline).
    pub fn to_line(&self) -> String {
        serde_json::to_string(self).expect("the report serializes")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hash::ImageDigests;
    use crate::kcore::NOT_IN_KCORE;

    fn outcome(ranges: usize, skipped: usize) -> Outcome {
        Outcome {
            source: "kcore",
            format: "lime",
            bytes: u64::MAX,
            digests: ImageDigests { sha256: [0xff; 32] },
            part_size: 512 << 20,
            parts: Vec::new(),
            ranges: vec![
                Range {
                    start: u64::MAX - 1,
                    end: u64::MAX
                };
                ranges
            ],
            skipped: vec![
                Skipped {
                    start: u64::MAX,
                    end: u64::MAX,
                    reason: NOT_IN_KCORE.into()
                };
                skipped
            ],
            lime_problem: None,
            seconds: 123_456.789_123,
        }
    }

    #[test]
    fn worst_case_line_stays_under_the_limit() {
        let line = Report::new(&outcome(MAX_LISTED_RANGES, MAX_LISTED_SKIPPED)).to_line();
        assert!(line.len() < MAX_LINE, "{} chars", line.len());
        assert!(line.contains("\"ranges\":[{"));
        assert!(line.contains("\"skipped_ranges\":[{"));
        assert!(line.contains("\"seconds\":123456.789}"), "{line}");
    }

    #[test]
    fn long_lists_become_counts() {
        let line = Report::new(&outcome(MAX_LISTED_RANGES + 1, MAX_LISTED_SKIPPED + 1)).to_line();
        assert!(!line.contains("\"ranges\""), "{line}");
        assert!(!line.contains("\"skipped_ranges\""), "{line}");
        assert!(line.contains("\"range_count\":201,"), "{line}");
        assert!(line.contains("\"skipped_range_count\":51,"), "{line}");
    }

    #[test]
    fn field_order_and_shape() {
        let mut o = outcome(1, 0);
        o.bytes = 123;
        o.ranges = vec![Range {
            start: 4096,
            end: 655_359,
        }];
        o.seconds = 1.2345;
        let line = Report::new(&o).to_line();
        assert_eq!(
            line,
            format!(
                "{{\"version\":2,\"source\":\"kcore\",\"format\":\"lime\",\"bytes\":123,\"sha256\":\"{}\",\
                 \"parts\":0,\"part_size\":536870912,\"ranges\":[{{\"start\":4096,\"end\":655359}}],\
                 \"range_count\":1,\"skipped_ranges\":[],\"skipped_range_count\":0,\"seconds\":1.235}}",
                "f".repeat(64)
            )
        );
    }
}

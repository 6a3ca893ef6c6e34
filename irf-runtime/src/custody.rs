//! The case's chain of custody: an append-only, hash-chained JSON-lines ledger in the evidence
//! bucket (`<CaseId>/custody/ledger.jsonl`) whose head is signed with the forensics account's
//! asymmetric KMS key (`alias/ir/custody`, ECDSA P-256).
//!
//! * Every entry records one action (who: the acting role ARN; when; what; which sources; the
//!   method and why) and, for evidence, the artifact (key, size, SHA-256, MD5).
//! * Every entry carries `prev`, the SHA-256 of the previous line's exact bytes (64 zeros for
//!   the first), so changing, removing or reordering any line breaks the chain after it.
//! * After each append the head (`<CaseId>/custody/head.json`: sequence number and SHA-256 of the
//!   last line) is signed with KMS over a fixed statement ([`statement`]), so truncating the
//!   ledger or rewriting it wholesale is detected too: only the signing key's users can sign.
//! * Appends are conditional writes (`If-Match` on the ledger's ETag, `If-None-Match: *` for the
//!   first), retried on conflict, so concurrent workflow branches never lose an entry; each
//!   record has an idempotency `id`, so a retried step does not append twice.
//! * [`Custody::verify`] re-reads every artifact, recomputes its hashes, walks the chain and
//!   checks the signature, and gives a verdict per artifact.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use aws_sdk_kms::primitives::Blob;
use aws_sdk_kms::types::{MessageType, SigningAlgorithmSpec};
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use irf_core::contract::evidence_keys;
use serde::{Deserialize, Serialize};

use crate::digests;
use crate::error::{self, HandlerError, Result};

/// `prev` of the first entry.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Conditional-write conflicts tolerated before an append gives up.
const APPEND_ATTEMPTS: u32 = 10;

/// The signing algorithm of the custody key.
pub const SIGNING_ALGORITHM: &str = "ECDSA_SHA_256";

/// The object key of a case's signed head.
pub fn head_key(case_id: &str) -> String {
    format!("{case_id}/custody/head.json")
}

/// An evidence object.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Artifact {
    /// Object key in the evidence bucket.
    pub key: String,
    /// Size of the object in bytes.
    pub bytes: u64,
    /// SHA-256 of the object's bytes (hex).
    pub sha256: String,
    /// MD5 of the object's bytes (hex), when computed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub md5: Option<String>,
    /// SHA-256 of the uncompressed image, when the object is compressed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub raw_sha256: Option<String>,
}

/// What a step records.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    /// Idempotency key: a record whose `id` is already in the ledger is not appended again.
    pub id: String,
    /// What happened (`case-opened`, `disk-imaged`, `memory-captured`, `contain-requested`, ...).
    pub action: String,
    /// The artifact produced, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifact: Option<Artifact>,
    /// Source identifiers (instance, volume, snapshot, account, region, ...).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub sources: BTreeMap<String, String>,
    /// How it was done (`ebs-direct`, or the memory method: `kcore`, `lime`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    /// Why (the method choice, a failure cause).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// When the action began (RFC 3339), when it is not the entry's time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_at: Option<String>,
}

/// A ledger line.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// Position, from 1.
    pub seq: u64,
    /// The case the ledger belongs to.
    pub case_id: String,
    /// When it was recorded (RFC 3339).
    pub at: String,
    /// The acting identity (role session ARN).
    pub actor: String,
    /// What was done, flattened into the line.
    #[serde(flatten)]
    pub record: Record,
    /// SHA-256 (hex) of the previous line's bytes, or [`GENESIS`].
    pub prev: String,
}

/// The signed head of a ledger.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Head {
    /// The case the ledger belongs to.
    pub case_id: String,
    /// Sequence number of the last entry.
    pub seq: u64,
    /// SHA-256 (hex) of the last line's bytes.
    pub entry_sha256: String,
    /// ARN of the KMS key that signed, as KMS reported it.
    pub key_id: String,
    /// [`SIGNING_ALGORITHM`].
    pub algorithm: String,
    /// DER signature over [`statement`], base64.
    pub signature: String,
    /// When it was signed (RFC 3339).
    pub signed_at: String,
    /// Role session ARN of the signer.
    pub signed_by: String,
}

/// The exact bytes the head signature covers.
pub fn statement(case_id: &str, seq: u64, entry_sha256: &str) -> String {
    format!("irf-custody-head/1\ncase={case_id}\nseq={seq}\nentry-sha256={entry_sha256}\n")
}

/// A parsed ledger: lines as stored, and the entries they hold.
#[derive(Clone, Debug, Default)]
pub struct Ledger {
    /// The raw lines (without newline), as stored.
    pub lines: Vec<String>,
    /// The entries (`None` where a line does not parse).
    pub entries: Vec<Option<Entry>>,
}

impl Ledger {
    /// Splits and parses ledger text.
    pub fn parse(text: &str) -> Ledger {
        let lines: Vec<String> = text.lines().map(str::to_owned).collect();
        let entries = lines.iter().map(|l| serde_json::from_str(l).ok()).collect();
        Ledger { lines, entries }
    }

    /// SHA-256 (hex) of the last line, or [`GENESIS`].
    pub fn tip(&self) -> String {
        self.lines.last().map_or_else(
            || GENESIS.to_owned(),
            |l| hex::encode(digests::sha256(l.as_bytes())),
        )
    }

    /// Walks the chain: every line parses, numbers run from 1, each `prev` is the previous
    /// line's hash and every entry names `case_id`. Returns the first problem.
    pub fn check_chain(&self, case_id: &str) -> std::result::Result<(), String> {
        let mut prev = GENESIS.to_owned();
        for (i, (line, entry)) in self.lines.iter().zip(&self.entries).enumerate() {
            let n = i as u64 + 1;
            let Some(e) = entry else {
                return Err(format!("line {n} is not a ledger entry"));
            };
            if e.seq != n {
                return Err(format!("line {n} carries sequence number {}", e.seq));
            }
            if e.case_id != case_id {
                return Err(format!("entry {n} belongs to case {:?}", e.case_id));
            }
            if e.prev != prev {
                return Err(format!(
                    "entry {n} does not follow entry {}: its prev is {}, the previous line hashes to {prev}",
                    n - 1,
                    e.prev
                ));
            }
            prev = hex::encode(digests::sha256(line.as_bytes()));
        }
        Ok(())
    }
}

/// The verdict on one artifact.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ArtifactVerdict {
    /// Sequence number of the ledger entry recording the artifact.
    pub seq: u64,
    /// Object key in the evidence bucket.
    pub key: String,
    /// `intact`, `modified`, `missing` or `sidecar-mismatch`.
    pub status: &'static str,
    /// What was found, when not intact.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// SHA-256 recorded.
    pub recorded_sha256: String,
    /// SHA-256 recomputed now (absent when missing).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub actual_sha256: Option<String>,
    /// Size recorded.
    pub bytes: u64,
}

/// The verdict on a case's custody record.
#[derive(Clone, Debug, Serialize)]
pub struct Verification {
    /// The case verified.
    pub case_id: String,
    /// Entries in the ledger.
    pub entries: usize,
    /// `None` when the chain is intact, else the first problem.
    pub chain_problem: Option<String>,
    /// `None` when the signed head covers the whole ledger and the signature is valid.
    pub signature_problem: Option<String>,
    /// One verdict per artifact.
    pub artifacts: Vec<ArtifactVerdict>,
    /// The ledger's entries (for reports), where they parse.
    #[serde(skip)]
    pub ledger: Vec<Entry>,
    /// The head, when present.
    #[serde(skip)]
    pub head: Option<Head>,
}

impl Verification {
    /// True when the chain, the signature and every artifact check out.
    pub fn ok(&self) -> bool {
        self.chain_problem.is_none()
            && self.signature_problem.is_none()
            && self.artifacts.iter().all(|a| a.status == "intact")
    }
}

/// Custody ledger access for one evidence bucket and signing key.
#[derive(Clone, Debug)]
pub struct Custody {
    /// S3 client that reaches the evidence bucket.
    pub s3: aws_sdk_s3::Client,
    /// Name of the evidence bucket.
    pub bucket: String,
    /// KMS client in the key's region.
    pub kms: aws_sdk_kms::Client,
    /// The custody key (ARN or alias ARN).
    pub key_id: String,
    /// The acting identity recorded in entries.
    pub actor: String,
}

impl Custody {
    /// The ledger of a Lambda function: in `bucket` (the function's evidence bucket), signed
    /// with `key_id` (its custody key ARN; signing in the key's region, cross-account as its
    /// key policy allows), recording the function's role as the actor.
    pub async fn connect(aws: &crate::aws::Aws, bucket: &str, key_id: &str) -> Result<Custody> {
        let region = key_id
            .split(':')
            .nth(3)
            .filter(|r| !r.is_empty())
            .map_or_else(|| aws.home_region(), str::to_owned);
        Ok(Custody {
            s3: aws.s3(&aws.here(&aws.home_region())),
            bucket: bucket.to_owned(),
            kms: aws.kms(&aws.here(&region)),
            key_id: key_id.to_owned(),
            actor: aws.caller_arn().await?,
        })
    }
}

fn now() -> String {
    humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string()
}

/// A conditional write lost a race (412 Precondition Failed or 409 Conflict).
fn conflict<E>(e: &SdkError<E, HttpResponse>) -> bool
where
    E: ProvideErrorMetadata,
{
    matches!(
        error::code(e),
        Some("PreconditionFailed" | "ConditionalRequestConflict")
    ) || e
        .raw_response()
        .is_some_and(|r| matches!(r.status().as_u16(), 409 | 412))
}

impl Custody {
    /// Reads an object as text with its ETag; `None` when it does not exist.
    async fn read(&self, key: &str) -> Result<Option<(String, String)>> {
        crate::objects::text(&self.s3, &self.bucket, key).await
    }

    /// Writes `body` to `key` only if it is still at `etag` (or absent when `None`); false on a
    /// conflict.
    async fn write_if(&self, key: &str, body: String, etag: Option<&str>) -> Result<bool> {
        let req = self
            .s3
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .content_type("application/x-ndjson")
            .checksum_algorithm(aws_sdk_s3::types::ChecksumAlgorithm::Sha256)
            .body(body.into_bytes().into());
        let req = match etag {
            Some(t) => req.if_match(t),
            None => req.if_none_match("*"),
        };
        match req.send().await {
            Ok(_) => Ok(true),
            Err(e) if conflict(&e) => Ok(false),
            Err(e) => Err(error::aws(&format!("s3:PutObject {key}"), e)),
        }
    }

    /// Appends `record` to the case's ledger (once per `record.id`) and signs the new head.
    pub async fn append(&self, case_id: &str, record: Record) -> Result<Entry> {
        if record.id.is_empty() || record.action.is_empty() {
            return Err(HandlerError::fatal(
                "a custody record needs an id and an action",
            ));
        }
        let key = evidence_keys::custody_ledger(case_id);
        for _ in 0..APPEND_ATTEMPTS {
            let (text, etag) = match self.read(&key).await? {
                Some((t, e)) => (t, Some(e)),
                None => (String::new(), None),
            };
            let ledger = Ledger::parse(&text);
            if let Some(existing) = ledger
                .entries
                .iter()
                .flatten()
                .find(|e| e.record.id == record.id)
            {
                // A retried step: the ledger already has it; make sure the head covers it.
                self.seal(case_id, &ledger).await?;
                return Ok(existing.clone());
            }
            let entry = Entry {
                seq: ledger.lines.len() as u64 + 1,
                case_id: case_id.to_owned(),
                at: now(),
                actor: self.actor.clone(),
                record: record.clone(),
                prev: ledger.tip(),
            };
            let line = serde_json::to_string(&entry).map_err(HandlerError::fatal)?;
            let mut body = text;
            if !body.is_empty() && !body.ends_with('\n') {
                body.push('\n');
            }
            body.push_str(&line);
            body.push('\n');
            if self.write_if(&key, body.clone(), etag.as_deref()).await? {
                self.seal(case_id, &Ledger::parse(&body)).await?;
                tracing::info!(case_id, seq = entry.seq, action = %entry.record.action, "custody entry recorded");
                return Ok(entry);
            }
            tracing::debug!(case_id, "custody ledger changed underneath; re-reading");
        }
        Err(HandlerError::retryable(format!(
            "custody ledger {key} kept changing during {APPEND_ATTEMPTS} append attempts"
        )))
    }

    /// Signs the head of `ledger` unless the stored head already covers it or a later entry.
    pub async fn seal(&self, case_id: &str, ledger: &Ledger) -> Result<Head> {
        let seq = ledger.lines.len() as u64;
        let entry_sha256 = ledger.tip();
        let key = head_key(case_id);
        for _ in 0..APPEND_ATTEMPTS {
            let stored = self.read(&key).await?;
            let etag = match &stored {
                Some((text, etag)) => {
                    let head: Head = serde_json::from_str(text).map_err(|e| {
                        HandlerError::fatal(format!("{key} is not a custody head: {e}"))
                    })?;
                    if head.seq >= seq {
                        return Ok(head);
                    }
                    Some(etag.clone())
                }
                None => None,
            };
            let head = self.sign(case_id, seq, &entry_sha256).await?;
            let text = serde_json::to_string_pretty(&head).map_err(HandlerError::fatal)?;
            if self.write_if(&key, text, etag.as_deref()).await? {
                return Ok(head);
            }
        }
        Err(HandlerError::retryable(format!(
            "custody head {key} kept changing during {APPEND_ATTEMPTS} attempts"
        )))
    }

    async fn sign(&self, case_id: &str, seq: u64, entry_sha256: &str) -> Result<Head> {
        let out = self
            .kms
            .sign()
            .key_id(&self.key_id)
            .message(Blob::new(statement(case_id, seq, entry_sha256)))
            .message_type(MessageType::Raw)
            .signing_algorithm(SigningAlgorithmSpec::EcdsaSha256)
            .send()
            .await
            .map_err(|e| error::aws(&format!("kms:Sign {}", self.key_id), e))?;
        let signature = out
            .signature()
            .ok_or_else(|| HandlerError::fatal("kms:Sign returned no signature"))?;
        Ok(Head {
            case_id: case_id.to_owned(),
            seq,
            entry_sha256: entry_sha256.to_owned(),
            key_id: out.key_id().unwrap_or(&self.key_id).to_owned(),
            algorithm: SIGNING_ALGORITHM.to_owned(),
            signature: digests::b64(signature.as_ref()),
            signed_at: now(),
            signed_by: self.actor.clone(),
        })
    }

    async fn signature_valid(&self, head: &Head) -> Result<bool> {
        let signature = digests::from_b64(&head.signature)?;
        let out = self
            .kms
            .verify()
            .key_id(&head.key_id)
            .message(Blob::new(statement(
                &head.case_id,
                head.seq,
                &head.entry_sha256,
            )))
            .message_type(MessageType::Raw)
            .signature(Blob::new(signature))
            .signing_algorithm(SigningAlgorithmSpec::EcdsaSha256)
            .send()
            .await;
        match out {
            Ok(o) => Ok(o.signature_valid()),
            Err(e) if error::code(&e) == Some("KMSInvalidSignatureException") => Ok(false),
            Err(e) => Err(error::aws(&format!("kms:Verify {}", head.key_id), e)),
        }
    }

    /// Checks a case's custody record end to end.
    pub async fn verify(&self, case_id: &str) -> Result<Verification> {
        let key = evidence_keys::custody_ledger(case_id);
        let Some((text, _)) = self.read(&key).await? else {
            return Err(HandlerError::fatal(format!(
                "case {case_id} has no custody ledger at s3://{}/{key}",
                self.bucket
            )));
        };
        let ledger = Ledger::parse(&text);
        let chain_problem = ledger.check_chain(case_id).err();
        let head = match self.read(&head_key(case_id)).await? {
            Some((t, _)) => Some(serde_json::from_str::<Head>(&t).map_err(|e| {
                HandlerError::fatal(format!("{} is not a custody head: {e}", head_key(case_id)))
            })?),
            None => None,
        };
        let signature_problem = match &head {
            None => Some("the ledger has no signed head".to_owned()),
            Some(h) if h.case_id != case_id => {
                Some(format!("the signed head belongs to case {:?}", h.case_id))
            }
            Some(h) if h.seq != ledger.lines.len() as u64 => Some(format!(
                "the signed head covers {} entries, the ledger holds {}",
                h.seq,
                ledger.lines.len()
            )),
            Some(h) if h.entry_sha256 != ledger.tip() => Some(format!(
                "the signed head covers a last entry hashing to {}, the ledger's last entry hashes to {}",
                h.entry_sha256,
                ledger.tip()
            )),
            Some(h) if !self.signature_valid(h).await? => Some(format!(
                "the head's signature does not verify with {}",
                h.key_id
            )),
            Some(_) => None,
        };
        let mut artifacts = Vec::new();
        for entry in ledger.entries.iter().flatten() {
            let Some(a) = &entry.record.artifact else {
                continue;
            };
            artifacts.push(self.check_artifact(entry.seq, a).await?);
        }
        Ok(Verification {
            case_id: case_id.to_owned(),
            entries: ledger.lines.len(),
            chain_problem,
            signature_problem,
            artifacts,
            ledger: ledger.entries.into_iter().flatten().collect(),
            head,
        })
    }

    async fn check_artifact(&self, seq: u64, a: &Artifact) -> Result<ArtifactVerdict> {
        let verdict = |status, detail: Option<String>, actual: Option<String>| ArtifactVerdict {
            seq,
            key: a.key.clone(),
            status,
            detail,
            recorded_sha256: a.sha256.clone(),
            actual_sha256: actual,
            bytes: a.bytes,
        };
        let Some((bytes, found)) = crate::objects::rehash(&self.s3, &self.bucket, &a.key).await?
        else {
            return Ok(verdict(
                "missing",
                Some("the object does not exist".into()),
                None,
            ));
        };
        if found.sha256 != a.sha256 || bytes != a.bytes {
            return Ok(verdict(
                "modified",
                Some(format!(
                    "{bytes} bytes hashing to {}; recorded {} bytes hashing to {}",
                    found.sha256, a.bytes, a.sha256
                )),
                Some(found.sha256),
            ));
        }
        if a.md5.as_ref().is_some_and(|m| *m != found.md5) {
            return Ok(verdict(
                "modified",
                Some(format!(
                    "MD5 is {}, recorded {}",
                    found.md5,
                    a.md5.clone().unwrap_or_default()
                )),
                Some(found.sha256),
            ));
        }
        // The sha256sum-style sidecar names the raw image's hash.
        let raw_key = a.key.trim_end_matches(".gz");
        let expected = a.raw_sha256.as_deref().unwrap_or(&a.sha256);
        if let Some((text, _)) = self
            .read(&evidence_keys::sidecar(raw_key, "sha256"))
            .await?
        {
            let listed = text.split_whitespace().next().unwrap_or_default();
            if listed != expected {
                return Ok(verdict(
                    "sidecar-mismatch",
                    Some(format!(
                        "{raw_key}.sha256 lists {listed}, recorded {expected}"
                    )),
                    Some(found.sha256),
                ));
            }
        }
        Ok(verdict("intact", None, Some(found.sha256)))
    }
}

/// A Markdown report of a verified case: timeline, actions, artifacts and hashes, verdicts.
pub fn report(v: &Verification) -> String {
    let mut md = String::new();
    let _ = writeln!(md, "# Case {}\n", v.case_id);
    let verdict = if v.ok() {
        "VERIFIED"
    } else {
        "FAILED VERIFICATION"
    };
    let _ = writeln!(md, "**Custody record: {verdict}**\n");
    let _ = writeln!(
        md,
        "- Ledger: {} entries, chain {}",
        v.entries,
        v.chain_problem
            .as_deref()
            .map_or("intact".to_owned(), |p| format!("BROKEN ({p})"))
    );
    let _ = writeln!(
        md,
        "- Signed head: {}",
        match (&v.head, &v.signature_problem) {
            (Some(h), None) => format!(
                "valid, entry {} signed by `{}` with `{}` at {}",
                h.seq, h.signed_by, h.key_id, h.signed_at
            ),
            (_, Some(p)) => format!("INVALID ({p})"),
            (None, None) => "absent".to_owned(),
        }
    );
    let _ = writeln!(md, "\n## Timeline\n");
    let _ = writeln!(
        md,
        "| # | Time | Action | Actor | Method | Sources | Reason |"
    );
    let _ = writeln!(
        md,
        "|---|------|--------|-------|--------|---------|--------|"
    );
    for e in &v.ledger {
        let sources = e
            .record
            .sources
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(", ");
        let _ = writeln!(
            md,
            "| {} | {} | {} | `{}` | {} | {} | {} |",
            e.seq,
            e.at,
            e.record.action,
            e.actor,
            e.record.method.as_deref().unwrap_or(""),
            cell(&sources),
            cell(e.record.reason.as_deref().unwrap_or("")),
        );
    }
    let _ = writeln!(md, "\n## Artifacts\n");
    if v.artifacts.is_empty() {
        let _ = writeln!(md, "No artifacts recorded.");
    } else {
        let _ = writeln!(md, "| # | Object | Bytes | SHA-256 | Verdict |");
        let _ = writeln!(md, "|---|--------|-------|---------|---------|");
        for a in &v.artifacts {
            let status = match &a.detail {
                Some(d) => format!("**{}**: {}", a.status, cell(d)),
                None => a.status.to_owned(),
            };
            let _ = writeln!(
                md,
                "| {} | `{}` | {} | `{}` | {} |",
                a.seq, a.key, a.bytes, a.recorded_sha256, status
            );
        }
    }
    md
}

fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(seq: u64, prev: &str) -> String {
        serde_json::to_string(&Entry {
            seq,
            case_id: "C1".into(),
            at: "2026-11-29T00:00:00Z".into(),
            actor: "arn:aws:sts::1:assumed-role/r/s".into(),
            record: Record {
                id: format!("r{seq}"),
                action: "case-opened".into(),
                ..Record::default()
            },
            prev: prev.into(),
        })
        .unwrap()
    }

    #[test]
    fn the_chain_detects_edits_reordering_and_foreign_entries() {
        let first = entry(1, GENESIS);
        let second = entry(2, &hex::encode(digests::sha256(first.as_bytes())));
        let good = format!("{first}\n{second}\n");
        assert_eq!(Ledger::parse(&good).check_chain("C1"), Ok(()));
        let edited = good.replace("case-opened", "case-closed");
        let err = Ledger::parse(&edited).check_chain("C1").unwrap_err();
        assert!(err.contains("entry 2 does not follow entry 1"), "{err}");
        let swapped = format!("{second}\n{first}\n");
        assert!(
            Ledger::parse(&swapped)
                .check_chain("C1")
                .unwrap_err()
                .contains("sequence number")
        );
        assert!(
            Ledger::parse(&good)
                .check_chain("C2")
                .unwrap_err()
                .contains("belongs to case")
        );
        assert!(
            Ledger::parse("{not json\n")
                .check_chain("C1")
                .unwrap_err()
                .contains("not a ledger entry")
        );
    }

    #[test]
    fn the_statement_is_fixed() {
        assert_eq!(
            statement("C1", 3, "ab"),
            "irf-custody-head/1\ncase=C1\nseq=3\nentry-sha256=ab\n"
        );
    }
}

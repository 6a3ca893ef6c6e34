//! The kernel's symbol bundle the streamer uploaded beside the image, and the Volatility 3 ISF
//! built from it, so that every case ends with an image Volatility opens at once.
//!
//! The host computed each file's SHA-256 into the bundle's manifest and the manifest's own
//! SHA-256 into its receipts; here the manifest read back from S3 must hash to the host's value,
//! and every file to the manifest's ([`Bundle::from_parts`]). Each file is then recorded in the
//! custody ledger, the ISF is built ([`irf_isf::build`], strict: one Volatility could not use is
//! refused), written beside the image with its `.sha256` sidecar (S3 checks the SHA-256 of the
//! upload) and recorded too. The build is deterministic (the ISF's timestamp is the bundle's), so
//! a retried step writes the same bytes and finds its ledger records in place.

use std::collections::BTreeMap;

use irf_core::contract::{evidence_keys, module_keys};
use irf_core::steps::{Capture, Case, MethodChoice, Receipts, Symbols, SymbolsReceipt};
use irf_isf::bundle::{self, Bundle, Manifest};

use super::{CommandRunner, Memory, Store};
use crate::custody::{Artifact, Custody, Record};
use crate::digests;
use crate::error::{HandlerError, Result};

/// `symbols-collected`: a file of the host's bundle, stored and checked.
pub const SYMBOLS_COLLECTED: &str = "symbols-collected";
/// `symbols-missing`: the host sent no usable bundle, and why.
pub const SYMBOLS_MISSING: &str = "symbols-missing";
/// `isf-built`: the ISF built from the bundle.
pub const ISF_BUILT: &str = "isf-built";
/// `isf-from-factory`: the module factory's ISF for the kernel, copied beside the image.
pub const ISF_FROM_FACTORY: &str = "isf-from-factory";

/// What the modules bucket holds for the host's kernel.
enum FactoryIsf {
    /// Nothing.
    Absent,
    /// An ISF whose SHA-256 its sidecar lists.
    Usable { bytes: Vec<u8>, sha256: String },
    /// An ISF that does not match its sidecar (or has none): not used, and why.
    Mismatch(String),
}

impl<R: CommandRunner> Memory<R> {
    /// Presigned `PutObject` URLs for every file a bundle may hold, by file name (the plan's
    /// `symbols`); unused URLs cost nothing.
    pub(super) async fn symbol_urls(
        &self,
        store: Store<'_>,
        case: &Case,
    ) -> Result<BTreeMap<String, String>> {
        let dir = evidence_keys::memory_symbols(&case.case_id, &case.account, &case.instance_id);
        let mut urls = BTreeMap::new();
        for name in std::iter::once(bundle::MANIFEST).chain(bundle::KNOWN) {
            let key = format!("{dir}{name}");
            urls.insert(name.to_owned(), self.presign_put(store, &key).await?);
        }
        Ok(urls)
    }

    /// Checks the host's bundle and records it, then puts the ISF beside the image and records
    /// it: the module factory's ISF for the host's distribution and kernel when the modules
    /// bucket has one (its SHA-256 checked against its sidecar), else one built from the bundle.
    /// A host that sent no bundle is recorded with the reason; without a factory ISF too, the
    /// step answers without an ISF.
    pub async fn build_symbols(
        &self,
        case: &Case,
        method: &MethodChoice,
        capture: &Capture,
        receipts: &Receipts,
        custody: &Custody,
    ) -> Result<Symbols> {
        let preflight = &method.preflight;
        let factory_key = module_keys::isf(
            &preflight.os_id,
            &preflight.os_version_id,
            &preflight.kernel,
        );
        // The factory's ISF with its digest, or why it is not used.
        let factory = match self.factory_isf(&factory_key).await? {
            FactoryIsf::Usable { bytes, sha256 } => Ok((bytes, sha256)),
            FactoryIsf::Absent => Err(format!(
                "the module factory has no ISF for it at s3://{}/{factory_key}",
                self.modules_bucket
            )),
            FactoryIsf::Mismatch(why) => Err(why),
        };
        let bundle = self
            .collect_bundle(case, capture, receipts, custody)
            .await?;
        let sources = sources(case, capture);
        let (compressed, record) = match (factory, bundle) {
            (Err(_), Err(reason)) => return self.missing(case, capture, custody, reason).await,
            (Ok((bytes, sha256)), bundle) => {
                // A missing bundle is recorded; the factory's ISF still opens the image.
                if let Err(reason) = bundle {
                    self.missing(case, capture, custody, reason).await?;
                }
                let mut sources = sources;
                sources.insert(
                    "factory_isf".to_owned(),
                    format!("s3://{}/{factory_key}", self.modules_bucket),
                );
                let reason = format!(
                    "Volatility 3 ISF for kernel {} of {} {} from the module factory (s3://{}/{factory_key}, SHA-256 {sha256} as its sidecar lists), built there from the kernel's BTF and symbol table",
                    preflight.kernel, preflight.os_id, preflight.os_version_id, self.modules_bucket
                );
                (bytes, (ISF_FROM_FACTORY, "factory", sources, reason))
            }
            (Err(why_not_factory), Ok(bundle)) => {
                let isf = irf_isf::build(&bundle).map_err(|e| {
                    HandlerError::fatal(format!(
                        "no Volatility 3 ISF from the symbol bundle of kernel {}: {e}",
                        bundle.osrelease()
                    ))
                })?;
                let compressed =
                    irf_isf::xz::compress(&irf_isf::xz::to_json(&isf), irf_isf::xz::XZ_PRESET)
                        .map_err(|e| HandlerError::fatal(format!("compressing the ISF: {e}")))?;
                let reason = format!(
                    "Volatility 3 ISF for kernel {} built from the host's symbol bundle (BTF types, kallsyms \
                     with the KASLR shift taken off, the banner), no DWARF; {} symbols, {} types; {why_not_factory}",
                    bundle.osrelease(),
                    isf.symbols.len(),
                    isf.user_types.len()
                );
                (compressed, (ISF_BUILT, "btf+kallsyms", sources, reason))
            }
        };
        let (action, how, sources, reason) = record;
        let isf_key = evidence_keys::memory_isf(&case.case_id, &case.account, &case.instance_id);
        let isf_sha256 = hex::encode(digests::sha256(&compressed));
        let name = isf_key.rsplit('/').next().unwrap_or(&isf_key);
        let sidecar = format!("{isf_sha256}  {name}\n").into_bytes();
        let record = Record {
            id: format!("{action}:{}", case.instance_id),
            action: action.to_owned(),
            artifact: Some(artifact(isf_key.clone(), &compressed)),
            sources,
            method: Some(how.to_owned()),
            reason: Some(reason.clone()),
            started_at: Some(super::now()),
        };
        self.put_evidence(&isf_key, "application/x-xz", compressed)
            .await?;
        self.put_evidence(
            &evidence_keys::sidecar(&isf_key, "sha256"),
            "text/plain",
            sidecar,
        )
        .await?;
        custody.append(&case.case_id, record).await?;
        Ok(Symbols {
            reason: match action {
                ISF_FROM_FACTORY => format!(
                    "ISF for kernel {} from the module factory",
                    preflight.kernel
                ),
                _ => format!(
                    "ISF for kernel {} built from the host's symbol bundle",
                    preflight.kernel
                ),
            },
            isf_key: Some(isf_key),
            isf_sha256: Some(isf_sha256),
        })
    }

    /// The factory's ISF at `key` in the modules bucket, checked against its sidecar.
    async fn factory_isf(&self, key: &str) -> Result<FactoryIsf> {
        let Some(bytes) = crate::objects::bytes(&self.modules, &self.modules_bucket, key).await?
        else {
            return Ok(FactoryIsf::Absent);
        };
        let sha256 = hex::encode(digests::sha256(&bytes));
        let listed = match self.listed_sha256(key).await {
            Ok(listed) => listed,
            Err(e) => {
                return Ok(FactoryIsf::Mismatch(format!(
                    "the module factory's ISF s3://{}/{key} has no usable sidecar ({e}), so it was not used",
                    self.modules_bucket
                )));
            }
        };
        if listed != sha256 {
            return Ok(FactoryIsf::Mismatch(format!(
                "the module factory's ISF s3://{}/{key} hashes to {sha256} but its sidecar lists {listed}, so it was not used",
                self.modules_bucket
            )));
        }
        Ok(FactoryIsf::Usable { bytes, sha256 })
    }

    /// Checks the host's bundle against its manifest and records its files; `Err(reason)` when
    /// the host sent none.
    async fn collect_bundle(
        &self,
        case: &Case,
        capture: &Capture,
        receipts: &Receipts,
        custody: &Custody,
    ) -> Result<std::result::Result<Bundle, String>> {
        let (manifest_sha256, manifest_size) = match &receipts.symbols {
            Some(SymbolsReceipt::Uploaded {
                manifest_sha256,
                manifest_size,
                ..
            }) => (manifest_sha256, *manifest_size),
            Some(SymbolsReceipt::Failed { stage, error }) => {
                return Ok(Err(format!(
                    "the host sent no symbol bundle ({stage}: {error})"
                )));
            }
            None => {
                return Ok(Err(
                    "the streamer's receipts hold no symbol bundle (a streamer older than the plan's `symbols`?)"
                        .to_owned(),
                ));
            }
        };
        let dir = evidence_keys::memory_symbols(&case.case_id, &case.account, &case.instance_id);
        let manifest_key = format!("{dir}{}", bundle::MANIFEST);
        let manifest_bytes = self.stored(&manifest_key).await?;
        let found = hex::encode(digests::sha256(&manifest_bytes));
        if found != *manifest_sha256 || manifest_bytes.len() as u64 != manifest_size {
            return Err(HandlerError::fatal(format!(
                "{manifest_key} holds {} bytes hashing to {found}; the host uploaded {manifest_size} bytes hashing to {manifest_sha256}",
                manifest_bytes.len()
            )));
        }
        let manifest: Manifest = serde_json::from_slice(&manifest_bytes).map_err(|e| {
            HandlerError::fatal(format!("{manifest_key} is not a bundle manifest: {e}"))
        })?;
        let mut files = BTreeMap::new();
        for name in manifest.files.keys() {
            files.insert(name.clone(), self.stored(&format!("{dir}{name}")).await?);
        }
        let bundle = Bundle::from_parts(manifest, files)
            .map_err(|e| HandlerError::fatal(format!("the symbol bundle under {dir}: {e}")))?;

        let sources = sources(case, capture);
        let collected = std::iter::once((bundle::MANIFEST, manifest_bytes.as_slice())).chain(
            bundle
                .manifest
                .files
                .keys()
                .filter_map(|name| bundle.file(name).map(|data| (name.as_str(), data))),
        );
        for (name, data) in collected {
            custody
                .append(
                    &case.case_id,
                    Record {
                        id: format!("{SYMBOLS_COLLECTED}:{}:{name}", case.instance_id),
                        action: SYMBOLS_COLLECTED.to_owned(),
                        artifact: Some(artifact(format!("{dir}{name}"), data)),
                        sources: sources.clone(),
                        reason: Some(
                            "collected from the running kernel by irf-memdump before the memory capture; \
                             SHA-256 from the host (the manifest lists the files', the receipts the manifest's), \
                             re-hashed from S3"
                                .to_owned(),
                        ),
                        started_at: Some(bundle.manifest.captured_at.clone()),
                        ..Record::default()
                    },
                )
                .await?;
        }

        Ok(Ok(bundle))
    }

    /// An object the bundle must hold.
    async fn stored(&self, key: &str) -> Result<Vec<u8>> {
        crate::objects::bytes(&self.evidence, &self.evidence_bucket, key)
            .await?
            .ok_or_else(|| {
                HandlerError::fatal(format!(
                    "{key} is missing although the host reported the symbol bundle uploaded"
                ))
            })
    }

    async fn missing(
        &self,
        case: &Case,
        capture: &Capture,
        custody: &Custody,
        reason: String,
    ) -> Result<Symbols> {
        custody
            .append(
                &case.case_id,
                Record {
                    id: format!("{SYMBOLS_MISSING}:{}", case.instance_id),
                    action: SYMBOLS_MISSING.to_owned(),
                    sources: sources(case, capture),
                    reason: Some(reason.clone()),
                    ..Record::default()
                },
            )
            .await?;
        Ok(Symbols {
            isf_key: None,
            isf_sha256: None,
            reason,
        })
    }
}

fn artifact(key: String, data: &[u8]) -> Artifact {
    Artifact {
        key,
        bytes: data.len() as u64,
        sha256: hex::encode(digests::sha256(data)),
        md5: None,
        raw_sha256: None,
    }
}

/// Where a memory artifact came from, for its ledger record.
pub(super) fn sources(case: &Case, capture: &Capture) -> BTreeMap<String, String> {
    let ingest = capture
        .ingest
        .as_ref()
        .map(|i| ("ingest_bucket", i.bucket.as_str()));
    [
        ("account", case.account.as_str()),
        ("region", case.region.as_str()),
        ("instance", case.instance_id.as_str()),
        ("ssm_command", capture.command.command_id.as_str()),
    ]
    .into_iter()
    .chain(ingest)
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect()
}

//! The running kernel's symbol bundle, uploaded beside the image through the plan's presigned
//! `PutObject` URLs, straight from memory (nothing is written to the host's disks).
//!
//! Every file goes before the manifest, so a bundle in S3 without a manifest is an interrupted
//! upload, as a directory without one is an interrupted collection. The outcome is a
//! [`SymbolsReceipt`] for the receipts: a bundle that cannot be collected (a kernel without BTF,
//! kallsyms hidden by `kptr_restrict`) or uploaded never stops the memory capture; the receipt
//! says why, and the workflow records it.

use std::collections::BTreeMap;

use irf_isf::bundle::{self, Sources, SymbolsReceipt};

use crate::upload::Client;

/// Collects the bundle from `sources` and uploads each file to its URL in `urls` (by file name,
/// as the plan's `symbols` holds them), the manifest last.
pub fn upload(
    urls: &BTreeMap<String, String>,
    sources: &Sources,
    client: &Client,
) -> SymbolsReceipt {
    let (manifest, files) = match bundle::collect_files(sources) {
        Ok(collected) => collected,
        Err(e) => {
            return SymbolsReceipt::Failed {
                stage: "collect".to_owned(),
                error: e.to_string(),
            };
        }
    };
    let manifest_json = bundle::manifest_json(&manifest);
    let uploads = files
        .iter()
        .map(|(name, data)| (*name, data.as_slice()))
        .chain([(bundle::MANIFEST, manifest_json.as_slice())]);
    for (name, data) in uploads {
        let Some(url) = urls.get(name) else {
            return SymbolsReceipt::Failed {
                stage: "upload".to_owned(),
                error: format!("the plan has no URL for {name}"),
            };
        };
        if let Err(e) = client.put_symbol_file(name, url, data) {
            return SymbolsReceipt::Failed {
                stage: "upload".to_owned(),
                error: e.to_string(),
            };
        }
    }
    SymbolsReceipt::Uploaded {
        manifest_sha256: bundle::sha256_hex(&manifest_json),
        manifest_size: manifest_json.len() as u64,
        release: manifest.uname.release.clone(),
        files: manifest.files,
    }
}

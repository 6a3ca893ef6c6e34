//! The symbol bundle uploaded through the plan's presigned URLs, against the local S3 stand-in:
//! every file then the manifest, the receipt's digests, and each way it can fail without
//! stopping the capture.

mod common;

use std::collections::BTreeMap;
use std::path::Path;

use common::{Script, Server, sha256_hex};
use irf_isf::bundle::{self, Manifest, Sources, SymbolsReceipt};
use irf_memdump::symbols;
use irf_memdump::upload::{Client, RetryPolicy};

const BANNER: &str = "Linux version 6.1.0-27-cloud-amd64 (debian-kernel@lists.debian.org) (gcc-12 (Debian 12.2.0-14) 12.2.0) #1 SMP PREEMPT_DYNAMIC Debian 6.1.115-1 (2024-11-01)\n";

/// A kernel's files in `dir`, as `/proc` and `/sys` show them.
fn sources(dir: &Path, kallsyms: &str) -> Sources {
    let write = |name: &str, data: &[u8]| {
        let path = dir.join(name);
        std::fs::write(&path, data).unwrap();
        path
    };
    Sources {
        version: write("version", BANNER.as_bytes()),
        // BTF's magic, little-endian, then anything: the collector checks the magic only.
        btf: write("btf", b"\x9f\xeb\x01\x00not a whole BTF blob"),
        kallsyms: write("kallsyms", kallsyms.as_bytes()),
        osrelease: write("osrelease", b"6.1.0-27-cloud-amd64\n"),
        configs: vec![
            dir.join("absent-config"),
            write("config", b"CONFIG_DEBUG_INFO_BTF=y\n"),
        ],
        kptr_restrict: write("kptr_restrict", b"0\n"),
        ostype: write("ostype", b"Linux\n"),
        hostname: write("hostname", b"suspect\n"),
        kernel_version: write("kernel_version", b"#1 SMP PREEMPT_DYNAMIC\n"),
        machine: "x86_64".to_owned(),
        captured_at: Some("2026-12-02T10:00:00Z".to_owned()),
    }
}

const KALLSYMS: &str = "ffffffff81000000 T _stext\nffffffff82a0e4c0 D init_task\n";

/// Every file name a plan's `symbols` may hold.
fn all() -> Vec<&'static str> {
    std::iter::once(bundle::MANIFEST)
        .chain(bundle::KNOWN)
        .collect()
}

fn urls(server: &Server, names: &[&str]) -> BTreeMap<String, String> {
    names
        .iter()
        .map(|n| {
            (
                (*n).to_owned(),
                server.url(&format!("/symbols/{n}?X-Amz-Signature=secret")),
            )
        })
        .collect()
}

fn quick() -> Client {
    Client::new(RetryPolicy {
        attempts: 2,
        first_backoff: std::time::Duration::from_millis(1),
    })
}

#[test]
fn every_file_then_the_manifest_is_uploaded_and_the_receipt_has_their_digests() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(Script::default());
    let receipt = symbols::upload(
        &urls(&server, &all()),
        &sources(dir.path(), KALLSYMS),
        &quick(),
    );
    let SymbolsReceipt::Uploaded {
        manifest_sha256,
        manifest_size,
        files,
        release,
    } = receipt
    else {
        panic!("{receipt:?}");
    };
    assert_eq!(release, "6.1.0-27-cloud-amd64");
    let seen = server.seen();
    let names: Vec<&str> = seen
        .iter()
        .map(|s| s.path["/symbols/".len()..].split('?').next().unwrap())
        .collect();
    // The manifest goes last: a bundle without one is an interrupted upload.
    assert_eq!(
        names,
        [
            "btf",
            "config",
            "kallsyms",
            "osrelease",
            "version",
            "manifest.json"
        ]
    );
    let manifest = &seen.last().unwrap().body;
    assert_eq!(sha256_hex(manifest), manifest_sha256);
    assert_eq!(manifest.len() as u64, manifest_size);
    let manifest: Manifest = serde_json::from_slice(manifest).unwrap();
    assert_eq!(manifest.files, files);
    for s in &seen[..seen.len() - 1] {
        let name = s.path["/symbols/".len()..].split('?').next().unwrap();
        assert_eq!(files[name].sha256, sha256_hex(&s.body), "{name}");
    }
    assert_eq!(seen[4].body, BANNER.as_bytes());
}

#[test]
fn hidden_kallsyms_uploads_nothing_and_says_why() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(Script::default());
    let hidden = "0000000000000000 T _stext\n0000000000000000 D init_task\n";
    let receipt = symbols::upload(
        &urls(&server, &all()),
        &sources(dir.path(), hidden),
        &quick(),
    );
    match receipt {
        SymbolsReceipt::Failed { stage, error } => {
            assert_eq!(stage, "collect");
            assert!(error.contains("kallsyms"), "{error}");
        }
        other => panic!("{other:?}"),
    }
    assert!(server.seen().is_empty());
}

#[test]
fn a_missing_url_or_a_refused_file_fails_before_the_manifest() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(Script::default());
    let without_kallsyms: Vec<&str> = all().into_iter().filter(|n| *n != "kallsyms").collect();
    let receipt = symbols::upload(
        &urls(&server, &without_kallsyms),
        &sources(dir.path(), KALLSYMS),
        &quick(),
    );
    assert_eq!(
        receipt,
        SymbolsReceipt::Failed {
            stage: "upload".to_owned(),
            error: "the plan has no URL for kallsyms".to_owned()
        }
    );

    let dir = tempfile::tempdir().unwrap();
    let mut script = Script::default();
    script.symbol_statuses.insert("btf".to_owned(), 403);
    let server = Server::start(script);
    let receipt = symbols::upload(
        &urls(&server, &all()),
        &sources(dir.path(), KALLSYMS),
        &quick(),
    );
    let SymbolsReceipt::Failed { stage, error } = receipt else {
        panic!("{receipt:?}");
    };
    assert_eq!(stage, "upload");
    assert!(
        error.contains("symbol file btf") && error.contains("HTTP 403"),
        "{error}"
    );
    // The signature never reaches a message.
    assert!(!error.contains("secret"), "{error}");
    assert!(
        server
            .seen()
            .iter()
            .all(|s| !s.path.contains("manifest.json")),
        "no manifest after a failed file"
    );
}

//! The memory workflow's steps against a real Linux kernel, as in production: the handler's
//! engine opens the multipart upload in the emulator's S3 and presigns its URLs, the rendered
//! preflight and capture documents run under bash in a guest booted with Debian's 6.1 cloud
//! kernel (`scripts/guest-run`), the capture fetches the static `irf-memdump` through its
//! presigned URL, checks its SHA-256 and streams `/proc/kcore` and the kernel's symbol bundle
//! through the presigned part URLs; verification re-reads the stored image, the ISF is built from
//! the bundle the guest uploaded, and the real Volatility 3 lists the guest's processes from the
//! image in S3 with that ISF only. Both methods: kcore for an instance in the home region, and
//! LiME (the document's TCP mode) for one in another member region, whose host fetches the tools
//! from and uploads into that region's ingest bucket, copied into the evidence bucket before the
//! hash check.
//!
//! **Stand-in, named here:** `irf_lab::guest::GuestSsm` stands in for SSM Run Command (the
//! emulator's SSM runs nothing): each command boots a guest that runs the document's script with
//! the parameters as the agent passes them (`SSM_<Name>` variables). The guest has no route out
//! but QEMU's user networking to one host port (`--guestfwd`), where `irf_lab::egress::EgressProxy`
//! (an HTTP proxy, CONNECT and absolute-form) lets through connections to the emulator's address
//! and nothing else: the guest reaches the presigned URLs as an instance behind an egress proxy
//! does, through `http_proxy`, which `irf-memdump` (ureq) and the document's `wget` honour.

use crate::common;
use crate::guest::{self, MARKER};
use crate::memory::{Buckets, buckets, stage_streamer};

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use irf_core::steps::MemoryAction;
use irf_lab::egress::EgressProxy;
use irf_lab::guest::GuestSsm;
use irf_runtime::handlers::memory_acquisition::step;
use irf_runtime::memory::Memory;
use irf_synth::deploy::assets::{self, AssetSource};
use serde_json::{Value, json};

/// Runs a step, asking again while it answers `Ready: false`, for up to `limit`.
async fn until_ready(
    memory: &Memory<GuestSsm>,
    custody: &irf_runtime::custody::Custody,
    payload: Value,
    limit: Duration,
) -> Value {
    let began = Instant::now();
    loop {
        match step(memory, custody, &payload).await {
            Ok(v) if v["Ready"] == false && began.elapsed() < limit => {
                tokio::time::sleep(Duration::from_secs(2)).await;
            }
            Ok(v) if v["Ready"] == false => panic!("{} stayed pending: {v}", payload["Action"]),
            Ok(v) => return v,
            Err(e) => panic!("{}: {e}", payload["Action"]),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_real_kernel_streams_its_memory_through_presigned_urls_and_the_image_in_s3_opens_in_volatility()
 {
    let Some(endpoint) = common::emulator() else {
        return;
    };
    let Some(kit) = guest::kit() else { return };
    let Some(vol) = guest::vol() else { return };
    let Buckets {
        prefix,
        s3,
        evidence,
        modules,
        custody,
        security,
    } = buckets(&endpoint).await;
    let tool = assets::streamer(
        &AssetSource::Build {
            workspace: common::root(),
        },
        "x86_64",
    )
    .expect("the static x86_64 irf-memdump builds")
    .expect("a build yields the binary");
    stage_streamer(&s3, &modules, "x86_64", &tool).await;

    let allowed = endpoint
        .strip_prefix("http://")
        .expect("the emulator speaks plain HTTP")
        .trim_end_matches('/')
        .to_owned();
    let proxy = EgressProxy::start(allowed).await.unwrap();
    let scratch = guest::work_dir();
    // LiME as the factory stages it: keyed by the kit's os-release (ID=irf-guest, VERSION_ID=12)
    // and kernel release, with its SHA-256.
    let release = std::fs::read_to_string(kit.join("kit.env"))
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("KIT_KERNEL_RELEASE="))
        .unwrap()
        .to_owned();
    let lime = std::fs::read(kit.join("lime.ko")).unwrap();
    let module_key = irf_core::contract::module_keys::lime_module("irf-guest", "12", &release);
    crate::memory::put(&s3, &modules, &module_key, lime.clone()).await;
    crate::memory::put(
        &s3,
        &modules,
        &format!("{module_key}.sha256"),
        format!(
            "{}  lime.ko\n",
            hex::encode(irf_runtime::digests::sha256(&lime))
        )
        .into_bytes(),
    )
    .await;
    // The LiME case's instance is in eu-west-1 (the home region is us-east-1): its host uploads
    // into that region's ingest bucket, and verification copies the image into the evidence
    // bucket before hashing it.
    let regional = crate::memory::s3(&common::account(&endpoint, &security, "eu-west-1").await);
    let ingest_bucket = format!("{prefix}-ingest-eu-west-1");
    crate::memory::eu_west_1_ingest_bucket(&regional, &ingest_bucket).await;
    for (method, region) in [("kcore", "us-east-1"), ("lime", "eu-west-1")] {
        let work = scratch.path().join(method);
        std::fs::create_dir_all(&work).unwrap();
        let case_id = format!("MEM-GUEST-{method}");
        let memory = Memory {
            runner: GuestSsm::new(
                common::root().join("scripts/guest-run"),
                kit.clone(),
                work.clone(),
                proxy.port,
                guest::GUEST_MIB,
                MARKER,
            ),
            evidence: s3.clone(),
            evidence_bucket: evidence.clone(),
            modules: s3.clone(),
            modules_bucket: modules.clone(),
            prefix: prefix.clone(),
            methods: vec![method.into()],
            url_lifetime: Duration::from_secs(3600),
            verify_budget: irf_runtime::memory::VERIFY_BUDGET,
            ingest: BTreeMap::from([(
                "eu-west-1".to_owned(),
                irf_runtime::memory::IngestBucket {
                    bucket: ingest_bucket.clone(),
                    s3: regional.clone(),
                },
            )]),
            copy_part_size: irf_runtime::memory::COPY_PART_SIZE,
        };
        let case = json!({"case_id": case_id, "account": "333333333333", "region": region,
                          "instance_id": "i-0123456789abcdef0", "retain_artefacts": true});
        let c = |action: &str, extra: Value| {
            let mut p = json!({"Action": action, "Case": case});
            p.as_object_mut()
                .unwrap()
                .extend(extra.as_object().unwrap().clone());
            p
        };
        let boot = Duration::from_secs(900);
        let command = until_ready(
            &memory,
            &custody,
            c(MemoryAction::StartPreflight.name(), json!({})),
            boot,
        )
        .await;
        let choice = until_ready(
            &memory,
            &custody,
            c(
                MemoryAction::PreflightResult.name(),
                json!({"Command": command}),
            ),
            boot,
        )
        .await;
        assert_eq!(choice["Method"], method, "{choice}");
        assert_eq!(choice["Preflight"]["kcore_readable"], true, "{choice}");
        let capture = until_ready(
            &memory,
            &custody,
            c(
                MemoryAction::StartCapture.name(),
                json!({"Method": choice.clone()}),
            ),
            boot,
        )
        .await;
        assert_eq!(
            capture["Ingest"]["Bucket"].as_str(),
            (region == "eu-west-1").then_some(ingest_bucket.as_str()),
            "{capture}"
        );
        let receipts = until_ready(
            &memory,
            &custody,
            c(
                MemoryAction::CaptureResult.name(),
                json!({"Capture": capture.clone()}),
            ),
            boot,
        )
        .await;
        assert_eq!(receipts["symbols"]["status"], "uploaded", "{receipts}");
        let mut cursor = Value::Null;
        let image = loop {
            let verified = until_ready(
                &memory,
                &custody,
                c(
                    MemoryAction::Verify.name(),
                    json!({"Capture": capture.clone(), "Captured": receipts.clone(), "Cursor": cursor}),
                ),
                boot,
            )
            .await;
            if verified["Done"] == true {
                break verified["Image"].clone();
            }
            cursor = verified["Cursor"].clone();
        };
        let symbols = until_ready(
            &memory,
            &custody,
            c(
                MemoryAction::BuildSymbols.name(),
                json!({"Method": choice.clone(), "Capture": capture.clone(), "Captured": receipts.clone()}),
            ),
            boot,
        )
        .await;
        use irf_core::contract::documents::{MEMORY_CAPTURE, MEMORY_PREFLIGHT};
        assert_eq!(
            memory.runner.sent(),
            [
                format!("{}-{MEMORY_PREFLIGHT}", memory.prefix),
                format!("{}-{MEMORY_CAPTURE}", memory.prefix)
            ],
            "one preflight and one capture"
        );

        // The image and the ISF, as a responder downloads them from the evidence bucket.
        let key = image["Key"].as_str().unwrap();
        let stored = common::object(&s3, &evidence, key).await;
        let image_path = work.join("image.lime");
        std::fs::write(&image_path, &stored).unwrap();
        assert_eq!(
            guest::sha256_file(&image_path),
            image["Sha256"].as_str().unwrap()
        );
        assert_eq!(stored.len() as u64, image["Bytes"].as_u64().unwrap());
        let isf_key = symbols["IsfKey"]
            .as_str()
            .unwrap_or_else(|| panic!("no ISF: {symbols}"));
        let symbol_dir = work.join("symbols");
        std::fs::create_dir_all(symbol_dir.join("linux")).unwrap();
        std::fs::write(
            symbol_dir.join("linux").join("irf.json.xz"),
            common::object(&s3, &evidence, isf_key).await,
        )
        .unwrap();
        let marker_pid = memory
            .runner
            .marker_pid(capture["Command"]["CommandId"].as_str().unwrap())
            .expect("the capture's guest recorded its marker PID");
        let cache = common::root().join("target/volatility-cache");
        std::fs::create_dir_all(&cache).unwrap();
        let pslist = guest::volatility(
            &vol,
            &symbol_dir,
            &cache,
            &image_path,
            "linux.pslist.PsList",
        );
        assert!(
            pslist
                .iter()
                .any(|r| r["PID"] == marker_pid && r["COMM"] == MARKER),
            "pslist of the image in S3 shows the guest's marker {MARKER} with PID {marker_pid}: {pslist:?}"
        );
        if method == "lime" {
            // LiME was loaded while it dumped, through the document's TCP mode.
            let modules =
                guest::volatility(&vol, &symbol_dir, &cache, &image_path, "linux.lsmod.Lsmod");
            assert!(
                modules.iter().any(|r| r["Module Name"] == "lime"),
                "lsmod of the LiME image shows lime: {modules:?}"
            );
        }
        let v = custody.verify(&case_id).await.unwrap();
        assert!(v.ok(), "{v:?}");
    }
}

//! Memory acquisition end to end against the local emulator: the handler's steps open a real
//! multipart upload in the emulator's S3 and presign its part URLs, and the real `irf-memdump`
//! binary (built from this workspace, fetched through its presigned URL and checked against
//! its staged SHA-256, as the capture document does) streams a synthetic `/proc/kcore` (an ELF
//! core file and an iomem map) or a LiME-format file through those URLs. The stored image is
//! compared with an independently built LiME image, and the custody ledger verifies. Before the
//! image, the streamer uploads a kernel symbol bundle, and the `BuildSymbols` step builds the
//! Volatility 3 ISF from it beside the image. The bundle is this machine's own kernel (its real
//! BTF, banner and kallsyms: the test needs root, as a responder's capture does), read from a
//! copy (`--symbols-root`) whose kallsyms gains made-up addresses for the variables a kernel
//! built without `CONFIG_KALLSYMS_ALL` does not list (this CI machine's kernel does not); the
//! ISF of a real capture is proven against Volatility in `guest`.
//!
//! **Fake, named here:** the emulator's SSM accepts `SendCommand` but runs nothing and returns
//! empty output, so `LocalSsm` below stands in for SSM Run Command behind the `CommandRunner`
//! trait: it answers the preflight with a canned report and runs the capture on this machine. The
//! emulator has no `DescribeInstanceInformation` either: `LocalSsm` reports the agent not
//! registered at the first ask and Online after, as an agent re-registering after the profile
//! swap does.
//!
//! Run through the emulator: `scripts/emulator run -- cargo test -p irf-e2e --test memory`.

use crate::common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use aws_config::SdkConfig;
use irf_core::steps::MemoryAction;
use irf_runtime::custody::Custody;
use irf_runtime::digests;
use irf_runtime::error::ErrorKind;
use irf_runtime::handlers::memory_acquisition::step;
use irf_runtime::memory::{AgentStatus, CommandRunner, CommandStatus, Memory};
use serde_json::{Value, json};

const REGION: &str = "us-east-1";
const MIB: u64 = 1 << 20;

/// Stand-in for SSM Run Command (see the module doc): every command reports `InProgress` once,
/// then its outcome.
struct LocalSsm {
    preflight: Value,
    kcore: PathBuf,
    iomem: PathBuf,
    lime_file: PathBuf,
    symbols_root: PathBuf,
    commands: Mutex<BTreeMap<String, (u32, CommandStatus)>>,
    sent: Mutex<Vec<(String, String)>>,
    /// The parameters of every command sent, in order.
    parameters: Mutex<Vec<BTreeMap<String, String>>>,
    agent_asked: Mutex<u32>,
}

impl LocalSsm {
    /// A runner that answers the preflight with `preflight` and captures from these files.
    fn new(
        preflight: Value,
        kcore: &Path,
        iomem: &Path,
        lime_file: &Path,
        symbols_root: &Path,
    ) -> Self {
        LocalSsm {
            preflight,
            kcore: kcore.to_owned(),
            iomem: iomem.to_owned(),
            lime_file: lime_file.to_owned(),
            symbols_root: symbols_root.to_owned(),
            commands: Mutex::default(),
            sent: Mutex::default(),
            parameters: Mutex::default(),
            agent_asked: Mutex::default(),
        }
    }

    async fn fetch_verified(url: &str, sha256: &str, out: &Path) -> Result<(), String> {
        let body = reqwest::get(url).await.map_err(|e| e.to_string())?;
        if !body.status().is_success() {
            return Err(format!("GET tool: {}", body.status()));
        }
        let bytes = body.bytes().await.map_err(|e| e.to_string())?;
        let actual = hex::encode(digests::sha256(&bytes));
        if actual != sha256 {
            return Err(format!(
                "refusing {}: sha256 {actual} is not {sha256}",
                out.display()
            ));
        }
        std::fs::write(out, &bytes).map_err(|e| e.to_string())?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(out, std::fs::Permissions::from_mode(0o700))
                .map_err(|e| e.to_string())?;
        }
        Ok(())
    }

    /// What the capture document does, on this machine.
    async fn capture(&self, p: &BTreeMap<String, String>) -> CommandStatus {
        let stage = tempfile::tempdir().unwrap();
        let tool = stage.path().join("irf-memdump");
        let failed = |stderr: String| CommandStatus::Failed {
            status: "Failed".into(),
            code: 3,
            stderr,
        };
        if let Err(e) = Self::fetch_verified(&p["ToolUrl"], &p["ToolSha256"], &tool).await {
            return failed(e);
        }
        let source = match p["Method"].as_str() {
            "kcore" => "kcore".to_owned(),
            // LiME's tcp stream, stood in for by a LiME-format file; the module is still fetched
            // and checked as the document does before insmod.
            "lime" => {
                if let Err(e) = Self::fetch_verified(
                    &p["ModuleUrl"],
                    &p["ModuleSha256"],
                    &stage.path().join("lime.ko"),
                )
                .await
                {
                    return failed(e);
                }
                format!("file:{}", self.lime_file.display())
            }
            other => return failed(format!("unknown method {other}")),
        };
        let out = tokio::process::Command::new(&tool)
            .args(["stream", "--source", &source, "--plan-url", &p["PlanUrl"]])
            .arg("--kcore")
            .arg(&self.kcore)
            .arg("--iomem")
            .arg(&self.iomem)
            .arg("--symbols-root")
            .arg(&self.symbols_root)
            .output()
            .await
            .unwrap();
        if out.status.success() {
            CommandStatus::Succeeded(String::from_utf8_lossy(&out.stdout).into_owned())
        } else {
            failed(String::from_utf8_lossy(&out.stderr).into_owned())
        }
    }
}

impl CommandRunner for LocalSsm {
    async fn agent(&self, _instance: &str) -> irf_runtime::error::Result<AgentStatus> {
        let mut asked = self.agent_asked.lock().unwrap();
        *asked += 1;
        Ok(if *asked == 1 {
            AgentStatus::NotRegistered
        } else {
            AgentStatus::Online
        })
    }

    async fn send(
        &self,
        document: &str,
        _instance: &str,
        parameters: BTreeMap<String, String>,
        comment: &str,
    ) -> irf_runtime::error::Result<String> {
        let id = format!("cmd-{comment}").replace(' ', "-");
        if self.commands.lock().unwrap().contains_key(&id) {
            return Ok(id);
        }
        self.sent
            .lock()
            .unwrap()
            .push((document.to_owned(), comment.to_owned()));
        self.parameters.lock().unwrap().push(parameters.clone());
        let outcome = if document.ends_with("MemoryPreflight") {
            CommandStatus::Succeeded(format!("some log line\n{}\n", self.preflight))
        } else {
            self.capture(&parameters).await
        };
        self.commands
            .lock()
            .unwrap()
            .insert(id.clone(), (0, outcome));
        Ok(id)
    }

    async fn status(
        &self,
        command_id: &str,
        _instance: &str,
    ) -> irf_runtime::error::Result<CommandStatus> {
        let mut commands = self.commands.lock().unwrap();
        let (polls, outcome) = commands.get_mut(command_id).expect("known command");
        *polls += 1;
        Ok(if *polls == 1 {
            CommandStatus::Running("InProgress".into())
        } else {
            outcome.clone()
        })
    }
}

/// A copy of this machine's kernel files under `dir` (see the module doc), for `--symbols-root`.
fn kernel_tree(dir: &Path) -> PathBuf {
    let root = dir.join("kernel");
    let copy = |from: &str, data: Vec<u8>| {
        let to = root.join(from.trim_start_matches('/'));
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::write(to, data).unwrap();
    };
    let read = |path: &str| {
        std::fs::read(path).unwrap_or_else(|e| {
            panic!("{path}: {e} (the symbol bundle needs this kernel's BTF, CONFIG_DEBUG_INFO_BTF)")
        })
    };
    for path in [
        "/proc/version",
        "/sys/kernel/btf/vmlinux",
        "/proc/sys/kernel/osrelease",
        "/proc/sys/kernel/kptr_restrict",
        "/proc/sys/kernel/ostype",
        "/proc/sys/kernel/hostname",
        "/proc/sys/kernel/version",
    ] {
        copy(path, read(path));
    }
    let mut kallsyms = String::from_utf8(read("/proc/kallsyms")).unwrap();
    assert!(
        kallsyms.lines().any(|l| !l.starts_with("0000000000000000")),
        "/proc/kallsyms shows no addresses: run the tests as root (kptr_restrict)"
    );
    let mut addr = 0xffff_ffff_bf00_0000_u64;
    for name in irf_isf::symbols::KALLSYMS_ALL_VARIABLES {
        if !kallsyms
            .lines()
            .any(|l| l.split_whitespace().nth(2) == Some(name))
        {
            kallsyms.push_str(&format!("{addr:016x} D {name}\n"));
            addr += 0x10000;
        }
    }
    copy("/proc/kallsyms", kallsyms.into_bytes());
    root
}

/// RAM ranges of the synthetic machine (physical addresses, end exclusive).
const RAM: [(u64, u64); 2] = [
    (0x1000, 0x1000 + 3 * MIB),
    (0x1_0000_0000, 0x1_0000_0000 + 9 * MIB + 4096),
];

fn ram_bytes(index: usize, len: u64) -> Vec<u8> {
    let mut x = 0x2545_F491_4F6C_DD1D_u64 ^ (index as u64 + 1);
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x.to_le_bytes()[4]
        })
        .collect()
}

/// Writes an x86_64 ELF core whose PT_LOAD segments map `RAM` (as /proc/kcore does), and the
/// matching iomem map.
fn synthetic_kcore(dir: &Path) -> (PathBuf, PathBuf) {
    let phnum = RAM.len();
    let data_at = 64 + 56 * phnum as u64;
    let mut elf = vec![0u8; 64];
    elf[..4].copy_from_slice(b"\x7fELF");
    elf[4] = 2; // ELFCLASS64
    elf[5] = 1; // little-endian
    elf[6] = 1;
    elf[16..18].copy_from_slice(&4u16.to_le_bytes()); // ET_CORE
    elf[18..20].copy_from_slice(&62u16.to_le_bytes()); // EM_X86_64
    elf[20..24].copy_from_slice(&1u32.to_le_bytes());
    elf[32..40].copy_from_slice(&64u64.to_le_bytes()); // e_phoff
    elf[52..54].copy_from_slice(&64u16.to_le_bytes());
    elf[54..56].copy_from_slice(&56u16.to_le_bytes());
    elf[56..58].copy_from_slice(&u16::try_from(phnum).unwrap().to_le_bytes());
    let mut offset = data_at;
    for (start, end) in RAM {
        let mut ph = vec![0u8; 56];
        ph[..4].copy_from_slice(&1u32.to_le_bytes()); // PT_LOAD
        ph[4..8].copy_from_slice(&4u32.to_le_bytes());
        ph[8..16].copy_from_slice(&offset.to_le_bytes());
        ph[16..24].copy_from_slice(&(0xffff_8880_0000_0000u64 + start).to_le_bytes());
        ph[24..32].copy_from_slice(&start.to_le_bytes());
        ph[32..40].copy_from_slice(&(end - start).to_le_bytes());
        ph[40..48].copy_from_slice(&(end - start).to_le_bytes());
        elf.extend(ph);
        offset += end - start;
    }
    for (i, (start, end)) in RAM.iter().enumerate() {
        elf.extend(ram_bytes(i, end - start));
    }
    let kcore = dir.join("kcore");
    std::fs::write(&kcore, elf).unwrap();
    let iomem = dir.join("iomem");
    let map: String = RAM
        .iter()
        .map(|(s, e)| format!("{s:08x}-{:08x} : System RAM\n", e - 1))
        .collect::<String>()
        + "fee00000-fee00fff : Local APIC\n";
    std::fs::write(&iomem, format!("00000000-00000fff : Reserved\n{map}")).unwrap();
    (kcore, iomem)
}

/// The LiME image of `RAM`, built independently of the streamer.
fn expected_lime() -> Vec<u8> {
    let mut out = Vec::new();
    for (i, (start, end)) in RAM.iter().enumerate() {
        out.extend(0x4C69_4D45u32.to_le_bytes());
        out.extend(1u32.to_le_bytes());
        out.extend(start.to_le_bytes());
        out.extend((end - 1).to_le_bytes());
        out.extend([0u8; 8]);
        out.extend(ram_bytes(i, end - start));
    }
    out
}

pub(crate) fn s3(conf: &SdkConfig) -> aws_sdk_s3::Client {
    aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(conf)
            .force_path_style(true)
            .request_checksum_calculation(
                aws_sdk_s3::config::RequestChecksumCalculation::WhenRequired,
            )
            .build(),
    )
}

pub(crate) async fn put(s3: &aws_sdk_s3::Client, bucket: &str, key: &str, body: Vec<u8>) {
    s3.put_object()
        .bucket(bucket)
        .key(key)
        .body(body.into())
        .send()
        .await
        .unwrap();
}

/// A security account's evidence and modules buckets in the emulator, and the custody ledger's
/// signer, as the memory engine uses them.
pub(crate) struct Buckets {
    /// The org's name prefix (document names).
    pub prefix: String,
    /// The security account.
    pub security: String,
    /// S3 of the security account, presigning plain URLs.
    pub s3: aws_sdk_s3::Client,
    /// The evidence bucket.
    pub evidence: String,
    /// The modules bucket.
    pub modules: String,
    /// The custody ledger, signed with a fresh ECDSA key.
    pub custody: Custody,
}

/// Creates [`Buckets`] for a fresh org.
pub(crate) async fn buckets(endpoint: &str) -> Buckets {
    let (_, a) = common::fresh_org();
    let conf = common::account(endpoint, &a.security, REGION).await;
    let s3 = s3(&conf);
    let evidence = format!("{}-evidence", a.prefix);
    let modules = format!("{}-modules", a.prefix);
    for b in [&evidence, &modules] {
        s3.create_bucket().bucket(b).send().await.unwrap();
    }
    let kms = aws_sdk_kms::Client::new(&conf);
    let key = kms
        .create_key()
        .key_spec(aws_sdk_kms::types::KeySpec::EccNistP256)
        .key_usage(aws_sdk_kms::types::KeyUsageType::SignVerify)
        .send()
        .await
        .unwrap()
        .key_metadata
        .unwrap();
    let custody = Custody {
        s3: s3.clone(),
        bucket: evidence.clone(),
        kms,
        key_id: key.arn().unwrap().to_owned(),
        actor: format!(
            "arn:aws:sts::{}:assumed-role/MemoryAutomationLambdaRole/test",
            a.security
        ),
    };
    Buckets {
        security: a.security.clone(),
        prefix: a.prefix,
        s3,
        evidence,
        modules,
        custody,
    }
}

/// Stages a streamer binary for `arch` with its SHA-256, as the deployer does; returns its key.
pub(crate) async fn stage_streamer(
    s3: &aws_sdk_s3::Client,
    modules: &str,
    arch: &str,
    tool: &[u8],
) -> String {
    let tool_key = irf_core::contract::module_keys::streamer(arch);
    put(s3, modules, &tool_key, tool.to_vec()).await;
    put(
        s3,
        modules,
        &format!("{tool_key}.sha256"),
        format!("{}  irf-memdump\n", hex::encode(digests::sha256(tool))).into_bytes(),
    )
    .await;
    tool_key
}

/// Creates an ingest bucket in eu-west-1 as the forensics-ingest stack makes it (versioned, so
/// that the copy can be pinned to the uploaded version).
pub(crate) async fn eu_west_1_ingest_bucket(regional: &aws_sdk_s3::Client, bucket: &str) {
    regional
        .create_bucket()
        .bucket(bucket)
        .create_bucket_configuration(
            aws_sdk_s3::types::CreateBucketConfiguration::builder()
                .location_constraint(aws_sdk_s3::types::BucketLocationConstraint::EuWest1)
                .build(),
        )
        .send()
        .await
        .unwrap();
    regional
        .put_bucket_versioning()
        .bucket(bucket)
        .versioning_configuration(
            aws_sdk_s3::types::VersioningConfiguration::builder()
                .status(aws_sdk_s3::types::BucketVersioningStatus::Enabled)
                .build(),
        )
        .send()
        .await
        .unwrap();
}

/// Builds the streamer (a no-op when it is current) and returns its path.
fn streamer() -> PathBuf {
    let status = std::process::Command::new(env!("CARGO"))
        .args(["build", "-q", "--locked", "-p", "irf-memdump"])
        .current_dir(common::root())
        .status()
        .unwrap();
    assert!(status.success(), "cargo build -p irf-memdump");
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map_or_else(|| common::root().join("target"), PathBuf::from);
    target.join("debug").join("irf-memdump")
}

/// A step's input as the workflow passes it.
fn payload(case: &Value, action: &str, extra: Value) -> Value {
    let mut p = json!({"Action": action, "Case": case});
    p.as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    p
}

async fn run(memory: &Memory<LocalSsm>, custody: &Custody, payload: Value) -> Value {
    common::until_ready(&payload, std::time::Duration::ZERO, || {
        step(memory, custody, &payload)
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn memory_is_streamed_through_presigned_urls_hashed_and_recorded() {
    let Some(endpoint) = common::emulator() else {
        return;
    };
    let Buckets {
        prefix,
        s3,
        evidence,
        modules,
        custody,
        ..
    } = buckets(&endpoint).await;

    // Stage the streamer and a LiME module with their SHA-256s, as the deployer does.
    let tool = std::fs::read(streamer()).unwrap();
    let tool_key = stage_streamer(&s3, &modules, "x86_64", &tool).await;
    let module = b"\x7fELF not really a kernel module".to_vec();
    let module_key = irf_core::contract::module_keys::lime_module("amzn", "2023", "6.1.0-test");
    put(&s3, &modules, &module_key, module.clone()).await;
    put(
        &s3,
        &modules,
        &format!("{module_key}.sha256"),
        format!("{}  lime.ko\n", hex::encode(digests::sha256(&module))).into_bytes(),
    )
    .await;

    let dir = tempfile::tempdir().unwrap();
    let (kcore, iomem) = synthetic_kcore(dir.path());
    let lime_file = dir.path().join("memory.lime");
    std::fs::write(&lime_file, expected_lime()).unwrap();
    let symbols_root = kernel_tree(dir.path());
    let preflight = |method: &str| {
        json!({"arch": "x86_64", "kernel": "6.1.0-test", "os_id": "amzn", "os_version_id": "2023",
               "os_name": "Amazon_Linux_2023", "lockdown": "none",
               "kcore_readable": true, "module_sig_enforce": false, "mem_total_kib": 12 * 1024,
               "shm_free_kib": 100_000, "method": method, "reason": format!("{method}: usable")})
    };
    let engine = |method: &str| Memory {
        runner: LocalSsm::new(preflight(method), &kcore, &iomem, &lime_file, &symbols_root),
        evidence: s3.clone(),
        evidence_bucket: evidence.clone(),
        modules: s3.clone(),
        modules_bucket: modules.clone(),
        prefix: prefix.clone(),
        methods: vec!["kcore".into(), "lime".into()],
        url_lifetime: std::time::Duration::from_secs(900),
        verify_budget: std::time::Duration::ZERO,
        ingest: BTreeMap::new(),
        copy_part_size: irf_runtime::memory::COPY_PART_SIZE,
    };
    let expected = expected_lime();
    let expected_sha = hex::encode(digests::sha256(&expected));

    let mut last = None;
    for (n, method) in ["kcore", "lime"].into_iter().enumerate() {
        let memory = engine(method);
        let case = json!({"case_id": format!("MEM-{n}"), "account": "333333333333", "region": "eu-west-1",
                          "instance_id": "i-0123456789abcdef0", "retain_artefacts": true});
        let c = |action: &str, extra: Value| payload(&case, action, extra);
        // Nothing is sent before the agent is Online.
        let waiting = step(
            &memory,
            &custody,
            &c(MemoryAction::AgentOnline.name(), json!({})),
        )
        .await
        .unwrap();
        assert_eq!(waiting["Ready"], false, "{waiting}");
        assert!(
            waiting["Waiting"]
                .as_str()
                .unwrap()
                .contains("i-0123456789abcdef0 is not registered with SSM"),
            "{waiting}"
        );
        let online = run(
            &memory,
            &custody,
            c(MemoryAction::AgentOnline.name(), json!({})),
        )
        .await;
        assert_eq!(online["InstanceId"], "i-0123456789abcdef0");
        assert!(memory.runner.sent.lock().unwrap().is_empty());
        let command = run(
            &memory,
            &custody,
            c(MemoryAction::StartPreflight.name(), json!({})),
        )
        .await;
        let choice = run(
            &memory,
            &custody,
            c(
                MemoryAction::PreflightResult.name(),
                json!({"Command": command}),
            ),
        )
        .await;
        assert_eq!(choice["Method"], method);
        let capture = run(
            &memory,
            &custody,
            c(
                MemoryAction::StartCapture.name(),
                json!({"Method": choice.clone()}),
            ),
        )
        .await;
        // A retried StartCapture reuses the capture: no second upload, no second command.
        assert_eq!(
            run(
                &memory,
                &custody,
                c(MemoryAction::StartCapture.name(), json!({"Method": choice}))
            )
            .await,
            capture
        );
        assert_eq!(
            memory.runner.sent.lock().unwrap().len(),
            2,
            "preflight and capture sent once each"
        );
        let receipts = run(
            &memory,
            &custody,
            c(
                MemoryAction::CaptureResult.name(),
                json!({"Capture": capture.clone()}),
            ),
        )
        .await;
        assert_eq!(
            receipts["report"]["sha256"],
            expected_sha.as_str(),
            "{receipts}"
        );
        // Verification resumes across runs: with no time budget a run reads its minimum of 8 MiB,
        // so this 12 MiB image takes two, the second from the first's cursor.
        let mut cursor = Value::Null;
        let mut runs = 0;
        let image = loop {
            runs += 1;
            let verified = run(
                &memory,
                &custody,
                c(
                    MemoryAction::Verify.name(),
                    json!({"Capture": capture.clone(), "Captured": receipts.clone(), "Cursor": cursor}),
                ),
            )
            .await;
            if verified["Done"] == true {
                break verified["Image"].clone();
            }
            let at = verified["Cursor"]["Offset"].as_u64().unwrap();
            assert!((8 * MIB..expected.len() as u64).contains(&at), "{verified}");
            cursor = verified["Cursor"].clone();
        };
        assert_eq!(runs, 2);
        assert_eq!(image["Sha256"], expected_sha.as_str());
        assert_eq!(image["Format"], "lime");
        // The stored object is byte for byte the independently built LiME image.
        let key = image["Key"].as_str().unwrap();
        assert_eq!(
            key,
            format!("MEM-{n}/333333333333/i-0123456789abcdef0/memory/i-0123456789abcdef0.lime")
        );
        let stored = common::object(&s3, &evidence, key).await;
        assert!(
            stored.as_slice() == expected.as_slice(),
            "stored image differs from the expected LiME image"
        );
        let sidecar = common::object(&s3, &evidence, &format!("{key}.sha256")).await;
        assert_eq!(
            String::from_utf8_lossy(&sidecar),
            format!("{expected_sha}  i-0123456789abcdef0.lime\n")
        );
        // The MD5 is the Lambda's own, computed from the stored object.
        assert_eq!(
            image["Md5"].as_str().unwrap(),
            hex::encode(digests::md5(&expected))
        );
        assert!(receipts["report"].get("md5").is_none(), "{receipts}");
        // Retried Verify is harmless; clean-up finds nothing to abort.
        run(
            &memory,
            &custody,
            c(
                MemoryAction::Verify.name(),
                json!({"Capture": capture.clone(), "Captured": receipts.clone(), "Cursor": null}),
            ),
        )
        .await;

        // The ISF, from the symbol bundle the host sent beside the image.
        assert_eq!(receipts["symbols"]["status"], "uploaded", "{receipts}");
        let build = c(
            MemoryAction::BuildSymbols.name(),
            json!({"Method": choice.clone(), "Capture": capture.clone(), "Captured": receipts.clone()}),
        );
        let symbols = run(&memory, &custody, build.clone()).await;
        let isf_key = symbols["IsfKey"]
            .as_str()
            .unwrap_or_else(|| panic!("no ISF: {symbols}"));
        assert_eq!(
            isf_key,
            format!(
                "MEM-{n}/333333333333/i-0123456789abcdef0/memory/i-0123456789abcdef0.isf.json.xz"
            )
        );
        let isf_bytes = common::object(&s3, &evidence, isf_key).await;
        let isf_sha = hex::encode(digests::sha256(&isf_bytes));
        assert_eq!(symbols["IsfSha256"], isf_sha.as_str());
        let isf_sidecar = common::object(&s3, &evidence, &format!("{isf_key}.sha256")).await;
        assert_eq!(
            String::from_utf8_lossy(&isf_sidecar),
            format!("{isf_sha}  i-0123456789abcdef0.isf.json.xz\n")
        );
        let isf_file = dir.path().join(format!("isf-{n}.json.xz"));
        std::fs::write(&isf_file, &isf_bytes).unwrap();
        let isf = irf_isf::xz::read(&isf_file).unwrap();
        let banner = std::fs::read("/proc/version").unwrap();
        let linux_banner = isf.symbols["linux_banner"].constant_data.clone().unwrap();
        assert!(
            digests::from_b64(&linux_banner)
                .unwrap()
                .starts_with(banner.trim_ascii_end()),
            "the ISF's banner is this machine's"
        );
        assert!(isf.symbols.contains_key("init_task"));
        assert!(isf.user_types.contains_key("task_struct"));
        // A retried step rebuilds the same bytes and records nothing twice.
        assert_eq!(run(&memory, &custody, build).await, symbols);
        let cleaned = run(
            &memory,
            &custody,
            c(
                MemoryAction::CleanUp.name(),
                json!({"Memory": {"Capture": {"Result": capture}}}),
            ),
        )
        .await;
        assert_eq!(cleaned["AbortedUpload"], false);

        let v = custody.verify(&format!("MEM-{n}")).await.unwrap();
        assert!(v.ok(), "{v:?}");
        let actions: Vec<&str> = v.ledger.iter().map(|e| e.record.action.as_str()).collect();
        let bundle_files = actions
            .iter()
            .filter(|a| **a == "symbols-collected")
            .count();
        assert!(
            bundle_files >= 5,
            "manifest, version, btf, kallsyms, osrelease: {actions:?}"
        );
        let mut want = vec!["memory-method-chosen", "memory-captured"];
        want.extend(std::iter::repeat_n("symbols-collected", bundle_files));
        want.push("isf-built");
        assert_eq!(actions, want);
        assert_eq!(v.ledger[1].record.method.as_deref(), Some(method));
        assert_eq!(v.artifacts.len(), bundle_files + 2);
        assert!(
            v.artifacts.iter().all(|a| a.status == "intact"),
            "{:?}",
            v.artifacts
        );
        let isf_artifact = v.ledger.last().unwrap().record.artifact.clone().unwrap();
        assert_eq!(isf_artifact.key, isf_key);
        assert_eq!(isf_artifact.sha256, isf_sha);
        last = Some((choice, capture, receipts));
    }
    let (choice, capture, receipts) = last.unwrap();
    let memory = engine("kcore");

    // A bundle file changed after the host hashed it is refused, naming the file.
    let from = "MEM-1/333333333333/i-0123456789abcdef0/memory/symbols/";
    let to = "MEM-TAMPERED/333333333333/i-0123456789abcdef0/memory/symbols/";
    for name in std::iter::once(irf_isf::bundle::MANIFEST).chain(irf_isf::bundle::KNOWN) {
        let stored = irf_runtime::objects::bytes(&s3, &evidence, &format!("{from}{name}")).await;
        let Some(mut data) = stored.unwrap() else {
            continue;
        };
        if name == "btf" {
            let last = data.len() - 1;
            data[last] ^= 0xff;
        }
        put(&s3, &evidence, &format!("{to}{name}"), data).await;
    }
    let tampered = json!({"case_id": "MEM-TAMPERED", "account": "333333333333", "region": "eu-west-1",
                          "instance_id": "i-0123456789abcdef0", "retain_artefacts": true});
    let err = step(
        &memory,
        &custody,
        &payload(
            &tampered,
            MemoryAction::BuildSymbols.name(),
            json!({"Method": choice.clone(), "Capture": capture.clone(), "Captured": receipts.clone()}),
        ),
    )
    .await
    .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Fatal, "{err:?}");
    assert!(err.to_string().contains("btf"), "{err}");

    // A host that sent no bundle: the step records why and answers without an ISF.
    let mut without = receipts.clone();
    without["symbols"] = json!({"status": "failed", "stage": "collect",
                                "error": "/proc/kallsyms lists only zero addresses"});
    let bare = json!({"case_id": "MEM-NOSYMBOLS", "account": "333333333333", "region": "eu-west-1",
                      "instance_id": "i-0123456789abcdef0", "retain_artefacts": true});
    let symbols = run(
        &memory,
        &custody,
        payload(
            &bare,
            MemoryAction::BuildSymbols.name(),
            json!({"Method": choice.clone(), "Capture": capture.clone(), "Captured": without.clone()}),
        ),
    )
    .await;
    assert!(symbols.get("IsfKey").is_none(), "{symbols}");
    assert!(
        symbols["Reason"]
            .as_str()
            .unwrap()
            .contains("zero addresses"),
        "{symbols}"
    );
    let v = custody.verify("MEM-NOSYMBOLS").await.unwrap();
    let missing = &v.ledger[0].record;
    assert_eq!(missing.action, "symbols-missing");
    assert!(missing.reason.as_deref().unwrap().contains("collect"));
    assert!(
        missing
            .reason
            .as_deref()
            .unwrap()
            .contains("no symbol bundle"),
        "{missing:?}"
    );

    // (Boxed: the test's future is large enough without this part in its frame.)
    Box::pin(async {
        // The module factory's ISF for the host's distribution and kernel is used when it exists,
        // even without a bundle, and the ledger says so; one that does not match its sidecar is not.
        let preflight = &choice["Preflight"];
        let factory_key = irf_core::contract::module_keys::isf(
            preflight["os_id"].as_str().unwrap(),
            preflight["os_version_id"].as_str().unwrap(),
            preflight["kernel"].as_str().unwrap(),
        );
        let factory_isf = b"\xfd7zXZ\x00 the factory's ISF for this kernel".to_vec();
        let factory_sha = hex::encode(digests::sha256(&factory_isf));
        put(&s3, &modules, &factory_key, factory_isf.clone()).await;
        put(
            &s3,
            &modules,
            &format!("{factory_key}.sha256"),
            format!(
                "{factory_sha}  {}\n",
                factory_key.rsplit('/').next().unwrap()
            )
            .into_bytes(),
        )
        .await;
        let from_factory = json!({"case_id": "MEM-FACTORY", "account": "333333333333", "region": "eu-west-1",
                                  "instance_id": "i-0123456789abcdef0", "retain_artefacts": true});
        let symbols = run(
            &memory,
            &custody,
            payload(
                &from_factory,
                MemoryAction::BuildSymbols.name(),
                json!({"Method": choice.clone(), "Capture": capture.clone(), "Captured": without}),
            ),
        )
        .await;
        assert_eq!(symbols["IsfSha256"], factory_sha.as_str(), "{symbols}");
        let copied = common::object(&s3, &evidence, symbols["IsfKey"].as_str().unwrap()).await;
        assert_eq!(copied, factory_isf, "the factory's ISF is beside the image");
        assert!(
            symbols["Reason"]
                .as_str()
                .unwrap()
                .contains("from the module factory")
        );
        let v = custody.verify("MEM-FACTORY").await.unwrap();
        assert!(v.ok(), "{v:?}");
        let actions: Vec<&str> = v.ledger.iter().map(|e| e.record.action.as_str()).collect();
        assert_eq!(actions, ["symbols-missing", "isf-from-factory"]);
        let used = &v.ledger[1].record;
        assert_eq!(used.method.as_deref(), Some("factory"));
        assert_eq!(
            used.sources["factory_isf"],
            format!("s3://{modules}/{factory_key}")
        );
        put(
            &s3,
            &modules,
            &format!("{factory_key}.sha256"),
            format!("{}  x.isf.json.xz\n", "0".repeat(64)).into_bytes(),
        )
        .await;
        // That case has the host's bundle (MEM-1's, copied as the host uploaded it).
        let to = "MEM-FACTORY-BAD/333333333333/i-0123456789abcdef0/memory/symbols/";
        for name in std::iter::once(irf_isf::bundle::MANIFEST).chain(irf_isf::bundle::KNOWN) {
            let stored = irf_runtime::objects::bytes(&s3, &evidence, &format!("{from}{name}")).await;
            if let Some(data) = stored.unwrap() {
                put(&s3, &evidence, &format!("{to}{name}"), data).await;
            }
        }
        let mismatched = json!({"case_id": "MEM-FACTORY-BAD", "account": "333333333333", "region": "eu-west-1",
                                "instance_id": "i-0123456789abcdef0", "retain_artefacts": true});
        let symbols = run(
            &memory,
            &custody,
            payload(
                &mismatched,
                MemoryAction::BuildSymbols.name(),
                json!({"Method": choice.clone(), "Capture": capture.clone(), "Captured": receipts.clone()}),
            ),
        )
        .await;
        assert_ne!(symbols["IsfSha256"], factory_sha.as_str(), "{symbols}");
        let v = custody.verify("MEM-FACTORY-BAD").await.unwrap();
        let built = &v.ledger.last().unwrap().record;
        assert_eq!(built.action, "isf-built");
        assert!(
            built
                .reason
                .as_deref()
                .unwrap()
                .contains("but its sidecar lists"),
            "{built:?}"
        );
    })
    .await;

    // A tool whose staged hash does not match is refused on the host; the step fails, loudly.
    put(
        &s3,
        &modules,
        &format!("{tool_key}.sha256"),
        format!("{}  irf-memdump\n", "0".repeat(64)).into_bytes(),
    )
    .await;
    let memory = engine("kcore");
    let case = json!({"case_id": "MEM-BAD", "account": "333333333333", "region": "eu-west-1",
                      "instance_id": "i-0123456789abcdef0", "retain_artefacts": true});
    let payload = |action: &str, extra: Value| payload(&case, action, extra);
    let command = run(
        &memory,
        &custody,
        payload(MemoryAction::StartPreflight.name(), json!({})),
    )
    .await;
    let choice = run(
        &memory,
        &custody,
        payload(
            MemoryAction::PreflightResult.name(),
            json!({"Command": command}),
        ),
    )
    .await;
    let capture = run(
        &memory,
        &custody,
        payload(MemoryAction::StartCapture.name(), json!({"Method": choice})),
    )
    .await;
    let mut err = None;
    for _ in 0..3 {
        match step(
            &memory,
            &custody,
            &payload(
                MemoryAction::CaptureResult.name(),
                json!({"Capture": capture.clone()}),
            ),
        )
        .await
        {
            Ok(v) if v["Ready"] == false => continue,
            other => {
                err = Some(other);
                break;
            }
        }
    }
    let err = err.unwrap().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Fatal, "{err:?}");
    assert!(err.to_string().contains("refusing"), "{err}");
    let cleaned = run(
        &memory,
        &custody,
        payload(
            MemoryAction::CleanUp.name(),
            json!({"Memory": {"Capture": {"Result": capture}}}),
        ),
    )
    .await;
    assert_eq!(cleaned["AbortedUpload"], true, "the open upload is aborted");
}

/// An instance outside the home region (eu-west-1 here; the evidence bucket is in us-east-1)
/// reaches S3 only through its own region's gateway endpoint: every URL the host gets points at
/// that region's ingest bucket, and verification copies the image server-side into the evidence
/// bucket, pinned to the version the host uploaded, before hashing the copy against the host's
/// SHA-256. Same stand-in for SSM as above (`LocalSsm`, see the module doc).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_capture_outside_the_home_region_lands_in_its_ingest_bucket_and_is_copied_verified() {
    let Some(endpoint) = common::emulator() else {
        return;
    };
    let Buckets {
        prefix,
        security,
        s3,
        evidence,
        modules,
        custody,
    } = buckets(&endpoint).await;
    let tool = std::fs::read(streamer()).unwrap();
    stage_streamer(&s3, &modules, "x86_64", &tool).await;

    // The forensics-ingest stack's bucket of eu-west-1: versioned, in its region.
    let member_region = "eu-west-1";
    let regional = crate::memory::s3(&common::account(&endpoint, &security, member_region).await);
    let ingest = format!("{prefix}-ingest-{member_region}");
    eu_west_1_ingest_bucket(&regional, &ingest).await;

    let dir = tempfile::tempdir().unwrap();
    let (kcore, iomem) = synthetic_kcore(dir.path());
    let symbols_root = kernel_tree(dir.path());
    let preflight = json!({"arch": "x86_64", "kernel": "6.1.0-test", "os_id": "amzn",
        "os_version_id": "2023", "os_name": "Amazon_Linux_2023", "lockdown": "none",
        "kcore_readable": true, "module_sig_enforce": false, "mem_total_kib": 12 * 1024,
        "shm_free_kib": 100_000, "method": "kcore", "reason": "kcore: usable"});
    let engine = |ingest_buckets: BTreeMap<String, irf_runtime::memory::IngestBucket>| Memory {
        runner: LocalSsm::new(
            preflight.clone(),
            &kcore,
            &iomem,
            &dir.path().join("unused.lime"),
            &symbols_root,
        ),
        evidence: s3.clone(),
        evidence_bucket: evidence.clone(),
        modules: s3.clone(),
        modules_bucket: modules.clone(),
        prefix: prefix.clone(),
        methods: vec!["kcore".into()],
        url_lifetime: std::time::Duration::from_secs(900),
        // One part copied, or 8 MiB hashed, per run: the copy spans runs.
        verify_budget: std::time::Duration::ZERO,
        ingest: ingest_buckets,
        copy_part_size: 5 * MIB,
    };
    let memory = engine(BTreeMap::from([(
        member_region.to_owned(),
        irf_runtime::memory::IngestBucket {
            bucket: ingest.clone(),
            s3: regional.clone(),
        },
    )]));
    let case = json!({"case_id": "MEM-REGION", "account": "333333333333", "region": member_region,
                      "instance_id": "i-0123456789abcdef0", "retain_artefacts": true});
    let c = |action: &str, extra: Value| payload(&case, action, extra);
    let command = run(
        &memory,
        &custody,
        c(MemoryAction::StartPreflight.name(), json!({})),
    )
    .await;
    let choice = run(
        &memory,
        &custody,
        c(
            MemoryAction::PreflightResult.name(),
            json!({"Command": command}),
        ),
    )
    .await;
    let capture = run(
        &memory,
        &custody,
        c(MemoryAction::StartCapture.name(), json!({"Method": choice})),
    )
    .await;
    assert_eq!(
        capture["Ingest"],
        json!({"Region": member_region, "Bucket": ingest}),
        "{capture}"
    );

    // Everything the host fetches or writes is in the ingest bucket: the tool (a copy kept with
    // the case), the plan, and every part, receipt and symbol URL in it.
    let sent = memory.runner.parameters.lock().unwrap().clone();
    let capture_params = sent.last().unwrap();
    let in_ingest = |url: &str| url.contains(&format!("/{ingest}/"));
    assert!(
        in_ingest(&capture_params["ToolUrl"])
            && capture_params["ToolUrl"].contains("/memory/tools/irf-memdump-x86_64"),
        "{}",
        capture_params["ToolUrl"]
    );
    assert!(
        in_ingest(&capture_params["PlanUrl"]),
        "{}",
        capture_params["PlanUrl"]
    );
    let memory_dir = "MEM-REGION/333333333333/i-0123456789abcdef0/memory/";
    let plan: Value = serde_json::from_slice(
        &common::object(&regional, &ingest, &format!("{memory_dir}plan.json")).await,
    )
    .unwrap();
    let mut urls: Vec<&str> = plan["parts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["url"].as_str().unwrap())
        .collect();
    urls.push(plan["receipts_url"].as_str().unwrap());
    urls.extend(
        plan["symbols"]
            .as_object()
            .unwrap()
            .values()
            .map(|u| u.as_str().unwrap()),
    );
    assert!(urls.iter().all(|u| in_ingest(u)), "{urls:?}");

    let receipts = run(
        &memory,
        &custody,
        c(
            MemoryAction::CaptureResult.name(),
            json!({"Capture": capture.clone()}),
        ),
    )
    .await;
    let expected = expected_lime();
    let expected_sha = hex::encode(digests::sha256(&expected));
    assert_eq!(receipts["report"]["sha256"], expected_sha.as_str());

    // Three copy runs (5 MiB parts of a 12 MiB image), then the hash of the copy over two.
    let key = format!("{memory_dir}i-0123456789abcdef0.lime");
    let mut cursor = Value::Null;
    let mut cursors = Vec::new();
    let image = loop {
        let verified = run(
            &memory,
            &custody,
            c(
                MemoryAction::Verify.name(),
                json!({"Capture": capture.clone(), "Captured": receipts.clone(), "Cursor": cursor}),
            ),
        )
        .await;
        if verified["Done"] == true {
            break verified["Image"].clone();
        }
        cursor = verified["Cursor"].clone();
        if cursors.is_empty() {
            // Replace the ingested image after the copy began: the copy is pinned to the
            // version the host uploaded, so the evidence copy is still the host's image.
            put(&regional, &ingest, &key, vec![0u8; expected.len()]).await;
        }
        cursors.push(cursor.clone());
        assert!(cursors.len() < 10, "verification does not end: {cursors:?}");
    };
    let copied: Vec<Option<u64>> = cursors
        .iter()
        .map(|c| c["Copy"]["Copied"].as_u64())
        .collect();
    assert_eq!(copied, [Some(1), Some(2), None], "{cursors:?}");
    let hashed = cursors[2]["Offset"].as_u64().unwrap();
    assert!(
        (8 * MIB..expected.len() as u64).contains(&hashed),
        "{cursors:?}"
    );
    assert_eq!(image["Sha256"], expected_sha.as_str());
    assert_eq!(image["Key"], key.as_str());
    let stored = common::object(&s3, &evidence, &key).await;
    assert!(
        stored.as_slice() == expected.as_slice(),
        "the evidence copy is byte for byte the host's image"
    );
    // The plan, receipts and symbol bundle were copied beside it, and the ISF builds from them.
    common::object(&s3, &evidence, &format!("{memory_dir}receipts.json")).await;
    let symbols = run(
        &memory,
        &custody,
        c(
            MemoryAction::BuildSymbols.name(),
            json!({"Method": choice.clone(), "Capture": capture.clone(), "Captured": receipts.clone()}),
        ),
    )
    .await;
    assert!(symbols["IsfKey"].is_string(), "{symbols}");

    // A retried first verification run finds the copy done and verifies the same image.
    let again = run(
        &memory,
        &custody,
        c(
            MemoryAction::Verify.name(),
            json!({"Capture": capture.clone(), "Captured": receipts.clone(), "Cursor": null}),
        ),
    )
    .await;
    let mut retried_cursor = again["Cursor"].clone();
    let mut again = again;
    while again["Done"] != true {
        again = run(
            &memory,
            &custody,
            c(
                MemoryAction::Verify.name(),
                json!({"Capture": capture.clone(), "Captured": receipts.clone(), "Cursor": retried_cursor}),
            ),
        )
        .await;
        retried_cursor = again["Cursor"].clone();
    }
    assert_eq!(again["Image"]["Sha256"], expected_sha.as_str());

    let v = custody.verify("MEM-REGION").await.unwrap();
    assert!(v.ok(), "{v:?}");
    let captured = v
        .ledger
        .iter()
        .find(|e| e.record.action == "memory-captured")
        .expect("the image is recorded");
    assert_eq!(
        captured.record.sources.get("ingest_bucket"),
        Some(&ingest),
        "{:?}",
        captured.record
    );
    assert!(
        captured
            .record
            .reason
            .as_deref()
            .unwrap()
            .contains("copied server-side into the evidence bucket"),
        "{:?}",
        captured.record
    );
    let cleaned = run(
        &memory,
        &custody,
        c(
            MemoryAction::CleanUp.name(),
            json!({"Memory": {"Capture": {"Result": capture.clone()}}}),
        ),
    )
    .await;
    assert_eq!(cleaned["AbortedUpload"], false);

    // An engine whose configuration lost the ingest bucket refuses to guess where the image is.
    let lost = engine(BTreeMap::new());
    let err = step(
        &lost,
        &custody,
        &c(
            MemoryAction::Verify.name(),
            json!({"Capture": capture, "Captured": receipts, "Cursor": null}),
        ),
    )
    .await
    .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Fatal, "{err:?}");
    assert!(err.to_string().contains("IRF_INGEST_BUCKETS"), "{err}");
}

//! Memory evidence from a real Linux kernel: Debian's 6.1 cloud kernel booted under QEMU
//! (`scripts/guest-kit`, `scripts/guest-run`), with what runs on a suspect instance running in it:
//! the rendered preflight blueprint under the guest's bash (a guest-side runner, the guest's
//! `/init`, stands in for the SSM agent's RunShellScript and nothing else), the static
//! `irf-memdump` capturing `/proc/kcore` and collecting the symbol bundle, and LiME built from
//! Debian's source against that kernel's headers, loaded with `insmod` and unloaded. On the host,
//! the ISF comes from the bundle (`irf-isf`), and the real Volatility 3 of the tools venv opens
//! both images with only that ISF.
//!
//! Needs QEMU and the kit (scripts/guest-kit installs them), cargo-zigbuild (the tools venv) and
//! Volatility (the tools venv). Without them the tests are skipped with a message, unless
//! `IRF_REQUIRE_TOOLS=1` (set by `scripts/test`) makes that a failure.

use crate::common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use irf_core::blueprints;
use irf_isf::builder;
use irf_isf::bundle::Bundle;
use irf_synth::deploy::assets::{self, AssetSource};
use serde_json::Value;
use sha2::{Digest, Sha256};

/// Guest RAM: enough for the 6.1 cloud kernel and the jobs, small enough to image quickly under
/// software emulation.
pub(crate) const GUEST_MIB: u64 = 512;

/// The name the marker process runs under (its `comm`), so pslist can be checked for it.
pub(crate) use irf_lab::case::MARKER;

/// Skips (returns `None`) or, with `IRF_REQUIRE_TOOLS`, fails when `what` is missing.
fn required<T>(found: Option<T>, what: &str) -> Option<T> {
    if found.is_none() {
        assert!(
            std::env::var_os("IRF_REQUIRE_TOOLS").is_none(),
            "IRF_REQUIRE_TOOLS is set but {what}"
        );
        eprintln!("skipping: {what}");
    }
    found
}

/// The amd64 kit directory `scripts/guest-kit` prints (it installs QEMU and downloads the pinned
/// packages when they are missing).
pub(crate) fn kit() -> Option<PathBuf> {
    kit_for("amd64")
}

/// The kit directory of `arch` (`amd64`, `arm64`).
pub(crate) fn kit_for(arch: &str) -> Option<PathBuf> {
    let out = Command::new(common::root().join("scripts/guest-kit"))
        .arg(arch)
        .output()
        .expect("scripts/guest-kit runs");
    let kit = out.status.success().then(|| {
        let stdout = String::from_utf8_lossy(&out.stdout);
        PathBuf::from(stdout.lines().last().expect("the kit directory").trim())
    });
    required(
        kit,
        &format!(
            "scripts/guest-kit {arch} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

/// The pinned Volatility 3 of the tools venv.
pub(crate) fn vol() -> Option<PathBuf> {
    let venv = std::env::var_os("IRF_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| common::root().join(".venv"));
    let vol = venv.join("volatility/bin/vol");
    required(
        vol.exists().then_some(vol),
        "Volatility 3 is missing from the tools venv (run scripts/tools-venv)",
    )
}

/// A work directory for one guest run; kept (and named on stderr) with `IRF_GUEST_KEEP=1`, for
/// looking at the images and the guest's output after a failure.
pub(crate) fn work_dir() -> tempfile::TempDir {
    let keep = std::env::var_os("IRF_GUEST_KEEP").is_some();
    let dir = tempfile::Builder::new()
        .prefix("irf-guest-")
        .disable_cleanup(keep)
        .tempdir()
        .unwrap();
    if keep {
        eprintln!("keeping {}", dir.path().display());
    }
    dir
}

pub(crate) fn sha256_file(path: &Path) -> String {
    use std::io::Read;
    let mut hasher = Sha256::new();
    let mut file = std::fs::File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = file.read(&mut buf).unwrap();
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    hex::encode(hasher.finalize())
}

/// `key=value` lines of the job's stdout.
pub(crate) fn values(out: &Path) -> BTreeMap<String, String> {
    std::fs::read_to_string(out.join("stdout"))
        .unwrap()
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

/// `sha256sum` lines: digest by file name.
fn guest_digests(path: &Path) -> BTreeMap<String, String> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .filter_map(|l| l.split_once("  "))
        .map(|(digest, file)| {
            let name = Path::new(file.trim()).file_name().unwrap();
            (name.to_string_lossy().into_owned(), digest.to_owned())
        })
        .collect()
}

/// Volatility's record of the ISFs it validated (by content hash), in its cache directory.
const VALIDATED: &str = "valid_isf.hashcache";

/// Guards the shared record of validated ISFs.
static VALIDATIONS: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// The hashes in a Volatility validation record (a JSON list), none when it is absent.
fn validated(path: &Path) -> std::collections::BTreeSet<String> {
    std::fs::read(path)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_default()
}

/// Runs a Volatility plugin on `image` with the symbols in `symbols` only (no downloads) and
/// returns its JSON rows.
///
/// Volatility's cache directory holds the ISFs it validated (validating a kernel's takes
/// minutes, so `cache` is shared by every run) and an index of the symbol files it was last
/// shown. Tests run Volatility in parallel, each with its own symbol directory, and one run's
/// index update drops another's entries, which then looks for a deleted directory's ISF. So each
/// run gets a cache directory of its own, seeded with the shared validations and merged back.
pub(crate) fn volatility(
    vol: &Path,
    symbols: &Path,
    cache: &Path,
    image: &Path,
    plugin: &str,
) -> Vec<Value> {
    let run_cache = tempfile::tempdir().unwrap();
    {
        let _shared = VALIDATIONS.lock().unwrap();
        if cache.join(VALIDATED).exists() {
            std::fs::copy(cache.join(VALIDATED), run_cache.path().join(VALIDATED)).unwrap();
        }
    }
    let out = Command::new(vol)
        .args(["--offline", "-q", "-r", "json", "--cache-path"])
        .arg(run_cache.path())
        .arg("-s")
        .arg(symbols)
        .arg("-f")
        .arg(image)
        .arg(plugin)
        .output()
        .expect("vol runs");
    {
        let _shared = VALIDATIONS.lock().unwrap();
        let mut all = validated(&cache.join(VALIDATED));
        let before = all.len();
        all.extend(validated(&run_cache.path().join(VALIDATED)));
        if all.len() > before {
            std::fs::create_dir_all(cache).unwrap();
            std::fs::write(cache.join(VALIDATED), serde_json::to_vec(&all).unwrap()).unwrap();
        }
    }
    assert!(
        out.status.success(),
        "vol {plugin} on {} failed ({}):\n{}",
        image.display(),
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let rows: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "vol {plugin}: not JSON ({e}):\n{}",
            String::from_utf8_lossy(&out.stdout)
        )
    });
    let rows = rows.as_array().expect("rows").clone();
    assert!(
        !rows.is_empty(),
        "vol {plugin} on {} found nothing",
        image.display()
    );
    rows
}

/// Flattens pstree's nested rows (`__children`).
pub(crate) fn flatten(rows: &[Value], out: &mut Vec<Value>) {
    for r in rows {
        out.push(r.clone());
        if let Some(children) = r.get("__children").and_then(Value::as_array) {
            flatten(children, out);
        }
    }
}

/// Puts into `job` what a suspect instance of `architecture` (`x86_64`, `arm64`) gets: the
/// static `irf-memdump` (cross-built as the Lambda asset's is) and the preflight as the SSM
/// document carries it.
fn stage_streamer_and_preflight(job: &Path, architecture: &str) {
    let memdump = assets::streamer(
        &AssetSource::Build {
            workspace: common::root(),
        },
        architecture,
    )
    .unwrap_or_else(|e| panic!("the static irf-memdump for {architecture} builds: {e}"))
    .expect("a build yields the binary");
    std::fs::write(job.join("irf-memdump"), memdump).unwrap();
    std::fs::write(
        job.join("preflight.sh"),
        blueprints::MEMORY_PREFLIGHT
            .render(&serde_json::json!({}))
            .unwrap(),
    )
    .unwrap();
}

/// The captures' first bytes are LiME's magic and version 1.
fn assert_lime(path: &Path) {
    use std::io::Read;
    let mut head = [0u8; 8];
    std::fs::File::open(path)
        .unwrap()
        .read_exact(&mut head)
        .unwrap();
    assert_eq!(
        &head[..4],
        &0x4C69_4D45u32.to_le_bytes(),
        "{} is LiME",
        path.display()
    );
    assert_eq!(
        &head[4..],
        &1u32.to_le_bytes(),
        "{} is LiME version 1",
        path.display()
    );
}

#[test]
fn kcore_and_lime_captures_of_a_real_kernel_open_in_volatility_with_the_isf_of_their_bundle() {
    let Some(kit) = kit() else { return };
    let Some(vol) = vol() else { return };
    let root = common::root();
    let work = work_dir();
    let job = work.path().join("job");
    std::fs::create_dir(&job).unwrap();

    // What the instance gets: the static streamer (built as the Lambda asset's is), the
    // preflight as the SSM document carries it, and LiME built against the guest's headers.
    stage_streamer_and_preflight(&job, "x86_64");
    std::fs::copy(kit.join("lime.ko"), job.join("lime.ko")).unwrap();
    std::fs::write(
        job.join("job.sh"),
        format!(
            r#"set -eu
chmod +x /job/irf-memdump
cp /bin/bash /tmp/{MARKER}
/tmp/{MARKER} -c 'while :; do sleep 1; done' &
echo "marker_pid=$!"
echo "uname_r=$(uname -r)"
echo "preflight=$(SSM_Methods=kcore,lime bash /job/preflight.sh)"
/job/irf-memdump symbols --out "$IRF_OUT/symbols" > "$IRF_OUT/symbols.json"
/job/irf-memdump capture --source kcore --out "$IRF_OUT/kcore.lime" > "$IRF_OUT/kcore.json"
insmod /job/lime.ko "path=$IRF_OUT/lime.lime" format=lime
rmmod lime
sha256sum "$IRF_OUT/kcore.lime" "$IRF_OUT/lime.lime" > "$IRF_OUT/guest.sha256"
"#
        ),
    )
    .unwrap();

    let out = work.path().join("out");
    let status = Command::new(root.join("scripts/guest-run"))
        .arg("--kit")
        .arg(&kit)
        // QEMU's `-cpu max` offers LA57, and Debian's kernel then runs 5-level paging, which the
        // pinned Volatility 3 cannot translate (it has 4-level x86-64 layers only); EC2 instances
        // on CPUs with LA57 are in the same place (see the README's known gaps).
        .args(["--append", "no5lvl"])
        .args(["--memory", &GUEST_MIB.to_string()])
        .args(["--out-size", &(GUEST_MIB * 2 + 512).to_string()])
        .args(["--timeout", "900"])
        .arg(&job)
        .arg(&out)
        .status()
        .expect("scripts/guest-run runs");
    let stderr = std::fs::read_to_string(out.join("stderr")).unwrap_or_default();
    assert!(
        status.success(),
        "the guest job failed ({status}):\n{stderr}"
    );

    // The preflight saw the guest as it is.
    let v = values(&out);
    let preflight: Value = serde_json::from_str(&v["preflight"]).expect("preflight JSON");
    assert_eq!(preflight["arch"], "x86_64");
    // The kit's /etc/os-release (ID=irf-guest, VERSION_ID=12) keys the modules.
    assert_eq!(preflight["os_id"], "irf-guest");
    assert_eq!(preflight["os_version_id"], "12");
    assert_eq!(preflight["kernel"], v["uname_r"].as_str());
    assert_eq!(preflight["lockdown"], "none");
    assert_eq!(preflight["kcore_readable"], true);
    assert_eq!(preflight["module_sig_enforce"], false);
    assert_eq!(preflight["method"], "kcore");
    let ram_kib = preflight["mem_total_kib"].as_u64().unwrap();
    assert!(
        ram_kib > GUEST_MIB * 1024 / 2 && ram_kib <= GUEST_MIB * 1024,
        "MemTotal {ram_kib} KiB for {GUEST_MIB} MiB of RAM"
    );

    // Every capture's SHA-256 agrees three ways: the streamer's report, an independent read in
    // the guest (sha256sum), and the host's read of the bytes that left the guest.
    let guest = guest_digests(&out.join("guest.sha256"));
    let kcore_image = out.join("kcore.lime");
    let lime_image = out.join("lime.lime");
    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("kcore.json")).unwrap()).unwrap();
    assert_eq!(report["source"], "kcore");
    assert_eq!(report["format"], "lime");
    let kcore_sha = sha256_file(&kcore_image);
    assert_eq!(report["sha256"], kcore_sha.as_str());
    assert_eq!(guest["kcore.lime"], kcore_sha);
    assert_eq!(
        report["bytes"].as_u64().unwrap(),
        std::fs::metadata(&kcore_image).unwrap().len()
    );
    assert_eq!(guest["lime.lime"], sha256_file(&lime_image));
    assert_lime(&kcore_image);
    assert_lime(&lime_image);

    // The ISF from the bundle the guest collected, checked against its manifest on load.
    let bundle = Bundle::load(&out.join("symbols")).expect("the bundle verifies");
    assert_eq!(
        bundle.osrelease(),
        std::fs::read_to_string(kit.join("kit.env"))
            .unwrap()
            .lines()
            .find_map(|l| l.strip_prefix("KIT_KERNEL_RELEASE="))
            .unwrap()
    );
    let isf = builder::build(&bundle).expect("a strict ISF builds from the guest's bundle");
    let symbols = work.path().join("symbols");
    std::fs::create_dir_all(symbols.join("linux")).unwrap();
    let isf_path = symbols.join(format!("linux/irf-{}.json.xz", bundle.osrelease()));
    irf_isf::xz::write_json_xz(&isf, &isf_path).unwrap();
    // Volatility validates an ISF against its schema once and caches the result; a cache under
    // target/ keeps later runs from paying for it again.
    let cache = root.join("target/volatility-cache");
    std::fs::create_dir_all(&cache).unwrap();

    let marker_pid: u64 = v["marker_pid"].parse().unwrap();
    for image in [&kcore_image, &lime_image] {
        let pslist = volatility(&vol, &symbols, &cache, image, "linux.pslist.PsList");
        assert!(
            pslist
                .iter()
                .any(|r| r["PID"] == marker_pid && r["COMM"] == MARKER),
            "pslist of {} shows the marker {MARKER} with PID {marker_pid}: {pslist:?}",
            image.display()
        );
        assert!(
            pslist.iter().any(|r| r["PID"] == 1),
            "pslist of {} shows init",
            image.display()
        );
        let mut tree = Vec::new();
        flatten(
            &volatility(&vol, &symbols, &cache, image, "linux.pstree.PsTree"),
            &mut tree,
        );
        assert!(
            tree.iter().any(|r| r["PID"] == marker_pid),
            "pstree of {} holds the marker",
            image.display()
        );
    }
    // LiME was loaded while it dumped: its own image lists it, the kcore one (taken before) not.
    // taint_flags has the kernel's 19 entries (irf_isf::symbols::taint_flags_count), so no
    // module shows taint characters read from past the array's end.
    let modules = |image: &Path| volatility(&vol, &symbols, &cache, image, "linux.lsmod.Lsmod");
    let lime_modules = modules(&lime_image);
    assert!(
        lime_modules.iter().any(|r| r["Module Name"] == "lime"),
        "lsmod of the LiME image shows lime"
    );
    assert!(
        !lime_modules
            .iter()
            .any(|r| r.to_string().contains("UNKNOWN_TAINT")),
        "lsmod reads taint characters past taint_flags: {lime_modules:?}"
    );
    assert!(
        !modules(&kcore_image)
            .iter()
            .any(|r| r["Module Name"] == "lime"),
        "lsmod of the kcore image, taken before insmod, does not"
    );
}

#[test]
fn under_lockdown_the_preflight_of_a_real_kernel_chooses_kcore_and_says_why_not_lime() {
    let Some(kit) = kit() else { return };
    let root = common::root();
    let work = work_dir();
    let job = work.path().join("job");
    std::fs::create_dir(&job).unwrap();
    std::fs::write(
        job.join("preflight.sh"),
        blueprints::MEMORY_PREFLIGHT
            .render(&serde_json::json!({}))
            .unwrap(),
    )
    .unwrap();
    std::fs::copy(kit.join("lime.ko"), job.join("lime.ko")).unwrap();
    // LiME first, as an org that prefers it would configure; the kernel refuses the unsigned
    // module, and the preflight must know that before anything is loaded.
    std::fs::write(
        job.join("job.sh"),
        r#"set -eu
echo "preflight=$(SSM_Methods=lime,kcore bash /job/preflight.sh)"
if insmod /job/lime.ko "path=$IRF_OUT/mem.lime" format=lime 2>/dev/null; then
  echo "insmod=loaded"
else
  echo "insmod=refused"
fi
"#,
    )
    .unwrap();
    let out = work.path().join("out");
    let status = Command::new(root.join("scripts/guest-run"))
        .arg("--kit")
        .arg(&kit)
        .args(["--append", "lockdown=integrity", "--timeout", "300"])
        .arg(&job)
        .arg(&out)
        .status()
        .expect("scripts/guest-run runs");
    assert!(status.success(), "the guest job failed ({status})");
    let v = values(&out);
    let preflight: Value = serde_json::from_str(&v["preflight"]).expect("preflight JSON");
    assert_eq!(preflight["lockdown"], "integrity");
    assert_eq!(preflight["method"], "kcore", "{preflight}");
    let reason = preflight["reason"].as_str().unwrap();
    assert!(
        reason.contains("lime: lockdown=integrity blocks unsigned modules"),
        "the record says why LiME was not chosen: {reason}"
    );
    assert_eq!(
        v["insmod"], "refused",
        "the kernel really refuses the module"
    );
}

/// The top-level `System RAM` ranges of `/proc/iomem` text as `(start, end)` (inclusive), with
/// adjacent ranges merged. Parsed here rather than by `irf-memdump`, so the test checks the
/// streamer against an independent reading.
fn system_ram(iomem: &str) -> Vec<(u64, u64)> {
    let ranges = iomem.lines().filter_map(|line| {
        if line.starts_with(char::is_whitespace) {
            return None;
        }
        let (span, name) = line.split_once(" : ")?;
        (name.trim() == "System RAM").then(|| {
            let (start, end) = span.trim().split_once('-').expect("start-end");
            (
                u64::from_str_radix(start, 16).expect("hex start"),
                u64::from_str_radix(end, 16).expect("hex end"),
            )
        })
    });
    merge(ranges)
}

/// The ranges of a LiME image as `(start, end)` (inclusive, merged where adjacent), walking its
/// headers; the image must end exactly after its last range.
fn lime_ranges(image: &Path) -> Vec<(u64, u64)> {
    use std::io::{Read, Seek, SeekFrom};
    let mut file = std::fs::File::open(image).unwrap();
    let len = file.metadata().unwrap().len();
    let mut offset = 0;
    let mut ranges = Vec::new();
    while offset < len {
        let mut header = [0u8; 32];
        file.read_exact(&mut header).unwrap();
        let quad = |i: usize| u64::from_le_bytes(header[i..i + 8].try_into().unwrap());
        assert_eq!(
            &header[..8],
            &[0x45, 0x4d, 0x69, 0x4c, 1, 0, 0, 0],
            "a LiME v1 header at offset {offset} of {}",
            image.display()
        );
        let (start, end) = (quad(8), quad(16));
        assert!(end >= start, "range {start:#x}-{end:#x} at offset {offset}");
        ranges.push((start, end));
        offset += 32 + (end - start + 1);
        file.seek(SeekFrom::Start(offset)).unwrap();
    }
    assert_eq!(offset, len, "{} ends after its last range", image.display());
    merge(ranges)
}

fn merge(ranges: impl IntoIterator<Item = (u64, u64)>) -> Vec<(u64, u64)> {
    let mut out: Vec<(u64, u64)> = Vec::new();
    for (start, end) in ranges {
        match out.last_mut() {
            Some(last) if last.1.checked_add(1) == Some(start) => last.1 = end,
            _ => out.push((start, end)),
        }
    }
    out
}

#[test]
fn a_kcore_capture_of_a_real_arm64_kernel_covers_its_system_ram_and_verifies() {
    let Some(kit) = kit_for("arm64") else { return };
    let root = common::root();
    let work = work_dir();
    let job = work.path().join("job");
    std::fs::create_dir(&job).unwrap();
    stage_streamer_and_preflight(&job, "arm64");
    std::fs::write(
        job.join("job.sh"),
        r#"set -eu
chmod +x /job/irf-memdump
echo "uname_m=$(uname -m)"
echo "preflight=$(SSM_Methods=kcore bash /job/preflight.sh)"
cat /proc/iomem > "$IRF_OUT/iomem"
/job/irf-memdump symbols --out "$IRF_OUT/symbols" > "$IRF_OUT/symbols.json"
/job/irf-memdump capture --source kcore --out "$IRF_OUT/kcore.lime" > "$IRF_OUT/kcore.json"
sha256sum "$IRF_OUT/kcore.lime" > "$IRF_OUT/guest.sha256"
"#,
    )
    .unwrap();
    let memory = 384;
    let out = work.path().join("out");
    let status = Command::new(root.join("scripts/guest-run"))
        .arg("--kit")
        .arg(&kit)
        .args(["--memory", &memory.to_string()])
        .args(["--out-size", &(memory * 2 + 256).to_string()])
        .args(["--timeout", "900"])
        .arg(&job)
        .arg(&out)
        .status()
        .expect("scripts/guest-run runs");
    let stderr = std::fs::read_to_string(out.join("stderr")).unwrap_or_default();
    assert!(
        status.success(),
        "the arm64 guest job failed ({status}):\n{stderr}"
    );

    let v = values(&out);
    assert_eq!(v["uname_m"], "aarch64");
    let preflight: Value = serde_json::from_str(&v["preflight"]).expect("preflight JSON");
    assert_eq!(preflight["arch"], "aarch64");
    assert_eq!(preflight["method"], "kcore", "{preflight}");

    // The image holds exactly the guest's System RAM, as /proc/iomem listed it.
    let image = out.join("kcore.lime");
    let ram = system_ram(&std::fs::read_to_string(out.join("iomem")).unwrap());
    assert!(!ram.is_empty(), "the guest's /proc/iomem lists System RAM");
    assert_eq!(
        lime_ranges(&image),
        ram,
        "the image's ranges are the guest's System RAM"
    );
    let ram_bytes: u64 = ram.iter().map(|(s, e)| e - s + 1).sum();
    assert!(
        ram_bytes > memory * (1 << 20) / 2 && ram_bytes <= memory * (1 << 20),
        "{ram_bytes} bytes of System RAM for {memory} MiB"
    );

    // Its hash agrees three ways, as on amd64.
    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("kcore.json")).unwrap()).unwrap();
    let sha = sha256_file(&image);
    assert_eq!(report["sha256"], sha.as_str());
    assert_eq!(guest_digests(&out.join("guest.sha256"))["kcore.lime"], sha);
    assert_eq!(
        report["bytes"].as_u64().unwrap(),
        std::fs::metadata(&image).unwrap().len()
    );

    // The symbol bundle verifies against its manifest and names the running kernel.
    let bundle = Bundle::load(&out.join("symbols")).expect("the arm64 bundle verifies");
    let banner = String::from_utf8_lossy(bundle.version())
        .trim_end()
        .to_owned();
    assert_eq!(
        bundle.osrelease(),
        std::fs::read_to_string(kit.join("kit.env"))
            .unwrap()
            .lines()
            .find_map(|l| l.strip_prefix("KIT_KERNEL_RELEASE="))
            .unwrap()
    );

    // The pinned Volatility 3 (2.28.2) has no AArch64 translation layer, so it cannot list
    // processes of an arm64 image (README, known gaps); what it can do without one is find the
    // kernel's banner in the image, and that banner is the bundle's, so the ISF built for this
    // bundle is the one a later Volatility with AArch64 support will match.
    let Some(vol) = vol() else { return };
    let cache = root.join("target/volatility-cache");
    std::fs::create_dir_all(&cache).unwrap();
    let banners = volatility(&vol, work.path(), &cache, &image, "banners.Banners");
    assert!(
        banners
            .iter()
            .any(|r| r["Banner"].as_str().map(str::trim_end) == Some(banner.as_str())),
        "banners.Banners finds the running kernel's banner {banner:?} in the arm64 image: {banners:?}"
    );
}

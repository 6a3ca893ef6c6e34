//! The module factory's build commands, for real: the rendered `build-kernel` blueprint (what
//! each builder runs per kernel) builds LiME for Debian's cloud kernel from that kernel's
//! headers (on the host, against the kit's unpacked packages), and the ISF with the static
//! `irf-isf` cross-built as deploy stages it, from the installed kernel's files alone, as for a
//! kernel of the AMI's stream that the builder does not run: the types from the BTF inside
//! vmlinuz, the symbols from the kallsyms tables inside it (Debian's package ships a placeholder
//! System.map). In a guest booted on that kernel, the same step builds the ISF from the running
//! kernel (its /boot has no vmlinuz), and both ISFs must agree symbol for symbol and type for
//! type. The module loads in the guest and captures, and Volatility 3 opens the capture with the
//! ISF built off the kernel's machine.
//!
//! The builder instance itself (package installs, uploads) cannot run here; each step runs where
//! its inputs are.

use std::process::Command;

use irf_core::blueprints;
use irf_synth::deploy::assets::{self, AssetSource, StaticTool};
use serde_json::Value;

use crate::common;
use crate::guest::{GUEST_MIB, MARKER, kit, sha256_file, values, vol, volatility, work_dir};

#[test]
fn the_factory_build_commands_give_a_module_and_an_isf_that_capture_and_open_a_real_kernel() {
    let Some(kit) = kit() else { return };
    let Some(vol) = vol() else { return };
    let work = work_dir();
    let release = std::fs::read_to_string(kit.join("kit.env"))
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("KIT_KERNEL_RELEASE=").map(str::to_owned))
        .expect("kit.env names the kernel");

    // The builder's tools: the rendered per-kernel script and the static ISF builder.
    let script = work.path().join("build-kernel");
    std::fs::write(&script, blueprints::build_kernel_script()).unwrap();
    let isf_tool = work.path().join("irf-isf-x86_64");
    let binary = assets::static_tool(
        &AssetSource::Build {
            workspace: common::root(),
        },
        StaticTool::IsfBuilder,
        "x86_64",
    )
    .expect("the static irf-isf builds")
    .expect("a build yields the binary");
    std::fs::write(&isf_tool, binary).unwrap();
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&isf_tool, std::fs::Permissions::from_mode(0o755)).unwrap();
    }

    let out = work.path().join("built");
    let step = |args: &[&std::ffi::OsStr]| {
        Command::new("bash")
            .arg(&script)
            .args(args)
            .output()
            .expect("bash runs")
    };
    let module_run = step(&[
        "module".as_ref(),
        release.as_ref(),
        kit.join("build").as_os_str(),
        kit.join("lime-source").as_os_str(),
        out.as_os_str(),
    ]);
    assert!(
        module_run.status.success(),
        "build-kernel module failed: {:?}\n{}",
        std::fs::read_to_string(out.join(format!("lime-{release}.error"))),
        String::from_utf8_lossy(&module_run.stderr)
    );
    // Off the kernel's own machine, from its package's files: the symbols from its image.
    let isf_here = step(&[
        "isf".as_ref(),
        release.as_ref(),
        kit.join("boot").as_os_str(),
        isf_tool.as_os_str(),
        "x86_64".as_ref(),
        out.as_os_str(),
    ]);
    let isf_log = std::fs::read_to_string(out.join(format!("{release}.isf.log"))).unwrap();
    assert!(
        isf_here.status.success(),
        "build-kernel isf on the host: {:?}\n{isf_log}",
        std::fs::read_to_string(out.join(format!("{release}.isf.error")))
    );
    assert!(
        isf_log.contains("symbols from the kernel image's own kallsyms table"),
        "Debian's placeholder System.map is not used: {isf_log}"
    );
    let module = out.join(format!("lime-{release}.ko"));
    // The sidecars are sha256sum lines naming the file.
    assert_eq!(
        std::fs::read_to_string(out.join(format!("lime-{release}.ko.sha256"))).unwrap(),
        format!("{}  lime-{release}.ko\n", sha256_file(&module))
    );

    // The factory's module loads in the guest and captures; a marker process runs meanwhile.
    let job = work.path().join("job");
    std::fs::create_dir(&job).unwrap();
    std::fs::copy(&module, job.join("lime.ko")).unwrap();
    std::fs::copy(&script, job.join("build-kernel")).unwrap();
    std::fs::copy(&isf_tool, job.join("irf-isf")).unwrap();
    std::fs::write(
        job.join("job.sh"),
        format!(
            r#"set -eu
chmod +x /job/irf-isf
echo "isf=$(bash /job/build-kernel isf "$(uname -r)" /boot /job/irf-isf x86_64 "$IRF_OUT/built" && echo ok)"
cp /bin/bash /tmp/{MARKER}
/tmp/{MARKER} -c 'while :; do sleep 1; done' &
echo "marker_pid=$!"
echo "uname_r=$(uname -r)"
insmod /job/lime.ko "path=$IRF_OUT/lime.lime" format=lime
echo "lsmod=$(grep -c '^lime ' /proc/modules)"
rmmod lime
sha256sum "$IRF_OUT/lime.lime" > "$IRF_OUT/guest.sha256"
"#
        ),
    )
    .unwrap();
    let guest_out = work.path().join("out");
    let status = Command::new(common::root().join("scripts/guest-run"))
        .arg("--kit")
        .arg(&kit)
        .args(["--append", "no5lvl"])
        .args(["--memory", &GUEST_MIB.to_string()])
        .args(["--out-size", &(GUEST_MIB + 256).to_string()])
        .args(["--timeout", "900"])
        .arg(&job)
        .arg(&guest_out)
        .status()
        .expect("scripts/guest-run runs");
    let stderr = std::fs::read_to_string(guest_out.join("stderr")).unwrap_or_default();
    assert!(
        status.success(),
        "the guest job failed ({status}):\n{stderr}"
    );
    let v = values(&guest_out);
    assert_eq!(
        v["uname_r"], release,
        "the guest runs the kernel the module was built for"
    );
    assert_eq!(v["lsmod"], "1", "the factory's module was loaded");
    assert_eq!(
        v["isf"],
        "ok",
        "build-kernel isf in the guest: {:?}",
        std::fs::read_to_string(guest_out.join(format!("built/{release}.isf.error")))
    );
    let guest_log =
        std::fs::read_to_string(guest_out.join(format!("built/{release}.isf.log"))).unwrap();
    assert!(
        guest_log.contains("is running: its own BTF and /proc/kallsyms"),
        "{guest_log}"
    );
    // The image's tables and the running kernel agree on every symbol and every type.
    let isf = out.join(format!("{release}.isf.json.xz"));
    let from_image = irf_isf::xz::read(&isf).unwrap();
    let from_running =
        irf_isf::xz::read(&guest_out.join(format!("built/{release}.isf.json.xz"))).unwrap();
    assert!(
        from_image.symbols.len() > 50_000,
        "{} symbols",
        from_image.symbols.len()
    );
    let differing: Vec<_> = from_image
        .symbols
        .iter()
        .filter(|(name, s)| from_running.symbols.get(*name).map(|r| r.address) != Some(s.address))
        .map(|(name, s)| (name.clone(), s.address))
        .chain(
            from_running
                .symbols
                .keys()
                .filter(|name| !from_image.symbols.contains_key(*name))
                .map(|name| (name.clone(), 0)),
        )
        .take(20)
        .collect();
    assert!(
        differing.is_empty(),
        "symbols that differ between the image's table and the running kernel: {differing:x?}"
    );
    assert!(from_image.user_types == from_running.user_types);
    assert!(from_image.base_types == from_running.base_types);
    assert!(from_image.enums == from_running.enums);
    // The record is the kernel's manifest entry.
    let record_run = step(&[
        "record".as_ref(),
        release.as_ref(),
        kit.join("boot").as_os_str(),
        out.as_os_str(),
    ]);
    let record: Value = serde_json::from_str(
        &std::fs::read_to_string(out.join(format!("{release}.json"))).unwrap(),
    )
    .expect("the kernel record is JSON");
    assert!(record_run.status.success(), "{record}");
    assert_eq!(record["release"], release.as_str());
    assert_eq!(record["module_sha256"], sha256_file(&module).as_str());
    assert_eq!(record["isf_sha256"], sha256_file(&isf).as_str());
    assert_eq!(
        record["kcore"], true,
        "Debian's cloud kernel has /proc/kcore"
    );
    assert_eq!(record["error"], Value::Null);
    let image = guest_out.join("lime.lime");
    let guest_sha = std::fs::read_to_string(guest_out.join("guest.sha256")).unwrap();
    assert!(
        guest_sha.starts_with(&sha256_file(&image)),
        "the capture left the guest intact"
    );

    // Volatility 3 opens the capture with the ISF built off the kernel's machine, nothing else.
    let symbols = work.path().join("symbols");
    std::fs::create_dir_all(symbols.join("linux")).unwrap();
    std::fs::copy(&isf, symbols.join(format!("linux/{release}.isf.json.xz"))).unwrap();
    let cache = common::root().join("target/volatility-cache");
    std::fs::create_dir_all(&cache).unwrap();
    let pslist = volatility(&vol, &symbols, &cache, &image, "linux.pslist.PsList");
    let marker_pid: u64 = v["marker_pid"].parse().unwrap();
    assert!(
        pslist
            .iter()
            .any(|r| r["PID"] == marker_pid && r["COMM"] == MARKER),
        "pslist shows the marker {MARKER} with PID {marker_pid}: {pslist:?}"
    );
    let lsmod = volatility(&vol, &symbols, &cache, &image, "linux.lsmod.Lsmod");
    assert!(
        lsmod.iter().any(|r| r["Module Name"] == "lime"),
        "lsmod of the capture shows the factory's LiME: {lsmod:?}"
    );
}

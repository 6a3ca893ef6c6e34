//! The machine set-up the scripts promise: every Rust target the build uses is listed in
//! `rust-toolchain.toml`, the list `scripts/setup` installs from (and `.ci/run` removes first, so
//! that CI proves the install step rather than a machine set up by hand).

use std::process::Command;

use crate::common;

fn toolchain_targets() -> Vec<String> {
    let text = std::fs::read_to_string(common::root().join("rust-toolchain.toml"))
        .expect("rust-toolchain.toml is readable");
    let in_targets = text
        .lines()
        .find(|l| l.trim_start().starts_with("targets"))
        .expect("rust-toolchain.toml lists targets");
    in_targets
        .split('"')
        .skip(1)
        .step_by(2)
        .map(str::to_owned)
        .collect()
}

#[test]
fn every_cross_build_target_is_in_the_toolchain_file() {
    let listed = toolchain_targets();
    for arch in ["arm64", "x86_64"] {
        let triple = irf_synth::deploy::assets::target_triple(arch).expect("a known architecture");
        assert!(
            listed.iter().any(|t| t == triple),
            "the {arch} asset builds for {triple}, which rust-toolchain.toml does not list: scripts/setup would not install it ({listed:?})"
        );
    }
}

#[test]
fn setup_reads_the_toolchain_file_and_its_check_passes_after_it_ran() {
    let setup =
        std::fs::read_to_string(common::root().join("scripts/setup")).expect("scripts/setup");
    assert!(
        setup.contains("rust-toolchain.toml") && setup.contains("rustup target add"),
        "scripts/setup installs the toolchain file's targets"
    );
    // scripts/test runs scripts/setup before building; what it installed must all be there.
    if std::env::var_os("IRF_REQUIRE_TOOLS").is_some() {
        let out = Command::new(common::root().join("scripts/setup"))
            .arg("--check")
            .output()
            .expect("scripts/setup --check runs");
        assert!(
            out.status.success(),
            "scripts/setup --check: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let installed = Command::new("rustup")
            .args(["target", "list", "--installed"])
            .current_dir(common::root())
            .output()
            .expect("rustup runs");
        let installed = String::from_utf8_lossy(&installed.stdout);
        for t in toolchain_targets() {
            assert!(
                installed.lines().any(|l| l == t),
                "target {t} is not installed"
            );
        }
    }
}

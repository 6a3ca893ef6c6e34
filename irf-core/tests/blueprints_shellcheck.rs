//! Every script rendered from `blueprints/` passes shellcheck.
//!
//! shellcheck comes from the project's tools venv (`scripts/tools-venv`) or PATH. Without it the
//! test is skipped with a message, unless `IRF_REQUIRE_TOOLS=1` (set by `.ci/run`) makes a
//! missing tool a failure.

use std::path::PathBuf;
use std::process::Command;

use irf_core::blueprints::{
    self, CaptureContext, FactoryContext, NoContext, SiftContext, SiftToolsContext,
};

fn shellcheck() -> Option<PathBuf> {
    let venv = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../.venv/bin/shellcheck");
    if venv.exists() {
        return Some(venv);
    }
    if Command::new("shellcheck").arg("--version").output().is_ok() {
        return Some(PathBuf::from("shellcheck"));
    }
    assert!(
        std::env::var_os("IRF_REQUIRE_TOOLS").is_none(),
        "IRF_REQUIRE_TOOLS is set but shellcheck is missing: run scripts/tools-venv"
    );
    eprintln!("skipping: shellcheck not found (run scripts/tools-venv)");
    None
}

fn rendered() -> Vec<(&'static str, String)> {
    let tools = ["log2timeline.py", "vol.py"];
    vec![
        (
            blueprints::INSTALL_SIFT.name,
            blueprints::INSTALL_SIFT
                .render(&SiftContext {
                    cast_version: "v0.14.0",
                    cast_sha256: &"a".repeat(64),
                })
                .unwrap(),
        ),
        (
            blueprints::VALIDATE_SIFT.name,
            blueprints::VALIDATE_SIFT
                .render(&SiftToolsContext { tools: &tools })
                .unwrap(),
        ),
        (
            blueprints::BUILD_LIME.name,
            blueprints::BUILD_LIME
                .render(&FactoryContext {
                    bucket: "irf-111111111111-memory-modules",
                    region: "us-east-1",
                    lime_repo: "https://github.com/504ensicsLabs/LiME.git",
                    lime_commit: "7511bffe797d",
                    kernels: 3,
                    build_kernel: &blueprints::build_kernel_script(),
                })
                .unwrap(),
        ),
        (
            blueprints::BUILD_KERNEL.name,
            blueprints::build_kernel_script(),
        ),
        (
            blueprints::MEMORY_PREFLIGHT.name,
            blueprints::MEMORY_PREFLIGHT.render(&NoContext {}).unwrap(),
        ),
        (
            blueprints::MEMORY_CAPTURE.name,
            blueprints::MEMORY_CAPTURE
                .render(&CaptureContext {
                    tool_name: "irf-memdump",
                    lime_port: 4444,
                })
                .unwrap(),
        ),
    ]
}

#[test]
fn every_blueprint_is_rendered_here() {
    let names: Vec<&str> = rendered().iter().map(|(n, _)| *n).collect();
    let all: Vec<&str> = blueprints::ALL.iter().map(|b| b.name).collect();
    assert_eq!(
        names, all,
        "a blueprint was added without a shellcheck case"
    );
}

#[test]
fn rendered_scripts_pass_shellcheck() {
    let Some(sc) = shellcheck() else { return };
    let dir = tempfile::tempdir().unwrap();
    for (name, script) in rendered() {
        assert!(
            !script.contains("{{"),
            "{name} has an unrendered placeholder"
        );
        let path = dir
            .path()
            .join(name.replace('/', "_").trim_end_matches(".hbs"));
        std::fs::write(&path, &script).unwrap();
        let out = Command::new(&sc)
            .args(["--shell=bash", "--severity=style", "--format=gcc"])
            .arg(&path)
            .output()
            .expect("shellcheck runs");
        assert!(
            out.status.success(),
            "shellcheck rejects {name}:\n{}",
            String::from_utf8_lossy(&out.stdout)
        );
    }
}

#[test]
fn shellcheck_catches_a_bad_script() {
    let Some(sc) = shellcheck() else { return };
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.sh");
    std::fs::write(
        &path,
        "#!/usr/bin/env bash\nfor f in $(ls *.txt); do rm $f; done\n",
    )
    .unwrap();
    let out = Command::new(&sc).arg(&path).output().unwrap();
    assert!(!out.status.success(), "the checker must be able to fail");
}

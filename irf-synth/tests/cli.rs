//! The `irf-synth` binary: exit codes, messages and files.

use std::path::PathBuf;
use std::process::{Command, Output};

fn irf_synth(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_irf-synth"))
        .args(args)
        .output()
        .expect("irf-synth runs")
}

fn example() -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../examples/org.toml")
        .display()
        .to_string()
}

#[test]
fn validate_accepts_the_example() {
    let out = irf_synth(&["validate", "--org-config", &example()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("is valid"), "{stdout}");
    assert!(
        stdout.contains("15 stack(s) from 10 template(s)"),
        "{stdout}"
    );
}

#[test]
fn invalid_config_exits_3_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("org.toml");
    let text = std::fs::read_to_string(example())
        .unwrap()
        .replace("lock_mode = \"governance\"", "lock_mode = \"strict\"");
    std::fs::write(&bad, text).unwrap();
    let out_dir = dir.path().join("out");
    let out = irf_synth(&[
        "synth",
        "--org-config",
        bad.to_str().unwrap(),
        "--out",
        out_dir.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(3));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("org.toml:40:13: evidence.lock_mode: unknown lock mode \"strict\""),
        "{stderr}"
    );
    assert!(stderr.contains("nothing was changed"), "{stderr}");
    assert!(
        !out_dir.exists(),
        "synth wrote output for an invalid config"
    );
}

#[test]
fn unreadable_config_exits_4() {
    let out = irf_synth(&["validate", "--org-config", "/nonexistent/org.toml"]);
    assert_eq!(out.status.code(), Some(4));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot read the org config"));
}

#[test]
fn usage_errors_exit_2() {
    let out = irf_synth(&["synth", "--org-config"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn init_writes_a_starter_and_refuses_to_overwrite() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("org.toml");
    let p = path.to_str().unwrap();
    let out = irf_synth(&["init", "--out", p]);
    assert!(out.status.success());
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        irf_core::config::STARTER_ORG_TOML
    );
    let again = irf_synth(&["init", "--out", p]);
    assert_eq!(again.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&again.stderr).contains("--force"));
    let validate = irf_synth(&["validate", "--org-config", p]);
    assert_eq!(
        validate.status.code(),
        Some(3),
        "the starter needs the cast checksum filled in"
    );
}

#[test]
fn synth_writes_templates_and_plan_and_reports_timings() {
    let dir = tempfile::tempdir().unwrap();
    let out = irf_synth(&[
        "synth",
        "--org-config",
        &example(),
        "--out",
        dir.path().to_str().unwrap(),
        "--timings",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("timings: load+validate"));
    assert!(
        dir.path()
            .join("templates/01-forensics-analysis.yaml")
            .exists()
    );
    assert!(
        dir.path()
            .join("templates/09-member-automation.yaml")
            .exists()
    );
    let plan: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("plan.json")).unwrap())
            .unwrap();
    assert_eq!(plan["stacks"].as_array().unwrap().len(), 15);
}

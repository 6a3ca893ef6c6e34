//! Every workflow definition passes asl-validator (the npm package pinned in
//! `scripts/tools-venv`, installed under `node_modules/`), with its `${…}` placeholders replaced
//! by ARNs as CloudFormation's `DefinitionSubstitutions` does. The test fails when the tool is
//! missing: run `scripts/tools-venv` first.

use std::path::PathBuf;
use std::process::Command;

use irf_synth::stacks::workflows;

/// Function and topic ARNs for the definition's placeholders.
fn arn(placeholder: &str) -> String {
    let name = placeholder.trim_end_matches("Arn");
    if name.ends_with("Topic") {
        format!("arn:aws:sns:us-east-1:111111111111:{name}")
    } else {
        format!("arn:aws:lambda:us-east-1:111111111111:function:{name}")
    }
}

#[test]
fn every_workflow_definition_passes_asl_validator() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let tool = root.join("node_modules/.bin/asl-validator");
    assert!(
        tool.exists(),
        "{} is missing: run scripts/tools-venv (it installs the pinned asl-validator)",
        tool.display()
    );
    let dir = tempfile::tempdir().unwrap();
    for (name, machine) in [
        ("disk", workflows::disk_machine()),
        ("memory", workflows::memory_machine()),
        ("combined", workflows::combined_machine()),
    ] {
        let path = dir.path().join(format!("{name}.json"));
        std::fs::write(&path, machine.resolved(arn)).unwrap();
        let out = Command::new(&tool)
            .arg("--json-path")
            .arg(&path)
            .output()
            .unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(out.status.success(), "{name} workflow: {text}");
        assert!(
            text.contains("✓"),
            "{name} workflow: asl-validator printed {text:?}"
        );
    }
}

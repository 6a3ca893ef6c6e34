//! Security properties of every synthesized template, checked by the cfn-guard engine with the
//! rules in `tests/guard/irf.guard`. Suppressions are honoured only through
//! `Metadata.guard.SuppressedRules`, which the synthesizer writes together with the reason; the
//! rules also require a reason (comment) on every checkov skip, in the synthesized templates and
//! in the committed `generated/` that `scripts/lint-templates` scans with checkov.

use std::path::{Path, PathBuf};

use cfn_guard::commands::Executable;
use cfn_guard::commands::validate::ShowSummaryType;
use cfn_guard::utils::reader::{ReadBuffer, Reader};
use cfn_guard::utils::writer::{WriteBuffer, Writer};
use cfn_guard::{CommandBuilder, ValidateBuilder};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn rules() -> String {
    root().join("tests/guard/irf.guard").display().to_string()
}

/// Runs guard on one template file; returns (exit code, report).
fn guard(template: &Path) -> (i32, String) {
    let cmd = ValidateBuilder::default()
        .rules(vec![rules()])
        .data(vec![template.display().to_string()])
        .show_summary(vec![ShowSummaryType::Fail])
        .try_build()
        .expect("guard command builds");
    let errors = tempfile::NamedTempFile::new().expect("temp file");
    let mut writer = Writer::new_with_err(
        WriteBuffer::Vec(Vec::new()),
        WriteBuffer::File(errors.reopen().expect("reopen")),
    )
    .expect("writer");
    let mut reader = Reader::new(ReadBuffer::Cursor(std::io::Cursor::new(Vec::new())));
    let code = cmd.execute(&mut writer, &mut reader).expect("guard runs");
    let report = writer.stripped().unwrap_or_default();
    let errors = std::fs::read_to_string(errors.path()).unwrap_or_default();
    (code, format!("{report}{errors}"))
}

fn synthesized() -> (tempfile::TempDir, Vec<PathBuf>) {
    let fw = irf_core::config::load(&root().join("examples/org.toml")).unwrap();
    let s = irf_synth::synthesize(&fw).unwrap();
    let dir = tempfile::tempdir().unwrap();
    s.write_to(dir.path()).unwrap();
    let paths = s
        .templates
        .iter()
        .map(|t| dir.path().join(&t.path))
        .collect();
    (dir, paths)
}

#[test]
fn every_template_passes_the_security_rules() {
    let (_dir, templates) = synthesized();
    assert_eq!(templates.len(), 10);
    let mut failures = Vec::new();
    for t in &templates {
        let (code, report) = guard(t);
        if code != 0 {
            failures.push(format!("{} (exit {code}):\n{report}", t.display()));
        }
    }
    assert!(
        failures.is_empty(),
        "guard failures:\n{}",
        failures.join("\n")
    );
}

#[test]
fn every_checkov_skip_in_generated_has_a_reason() {
    let dir = root().join("generated/templates");
    let mut templates: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("generated/templates exists")
        .map(|e| e.expect("directory entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .collect();
    templates.sort();
    assert_eq!(templates.len(), 10);
    let skips: usize = templates
        .iter()
        .map(|t| {
            std::fs::read_to_string(t)
                .unwrap()
                .matches("\n        - id: CKV_")
                .count()
        })
        .sum();
    assert!(skips > 0, "the committed templates skip no checkov check");
    let mut failures = Vec::new();
    for t in &templates {
        let (code, report) = guard(t);
        if code != 0 {
            failures.push(format!("{} (exit {code}):\n{report}", t.display()));
        }
    }
    assert!(
        failures.is_empty(),
        "guard failures in generated/:\n{}",
        failures.join("\n")
    );
}

#[test]
fn the_rules_catch_insecure_templates() {
    let (dir, templates) = synthesized();
    let read = |i: usize| std::fs::read_to_string(&templates[i]).unwrap();
    let (analysis, automation, baseline, member) = (read(0), read(3), read(7), read(8));
    let broken = [
        (
            "unencrypted bucket",
            analysis.replace("SSEAlgorithm: aws:kms", "SSEAlgorithm: AES256"),
        ),
        (
            "public bucket",
            analysis.replacen(
                "RestrictPublicBuckets: true",
                "RestrictPublicBuckets: false",
                1,
            ),
        ),
        (
            "evidence not retained",
            analysis.replacen(
                "  EvidenceBucket:\n    DeletionPolicy: Retain",
                "  EvidenceBucket:\n    DeletionPolicy: Delete",
                1,
            ),
        ),
        (
            "key without rotation",
            analysis.replace("EnableKeyRotation: true", "EnableKeyRotation: false"),
        ),
        (
            "ingress from the internet",
            analysis.replace(
                "SourceSecurityGroupId: !Ref AnalysisInstanceSecurityGroup",
                "CidrIp: 0.0.0.0/0",
            ),
        ),
        (
            "wildcard allow",
            baseline.replacen("- ec2:DescribeInstances", "- \"*\"", 1),
        ),
        (
            "unscoped invoke permission",
            member.replacen("SourceArn: !GetAtt IncidentTagRule.Arn", "", 1),
        ),
        (
            "unencrypted dead-letter queue",
            member.replacen("KmsMasterKeyId: !GetAtt OperationsKey.Arn", "", 1),
        ),
        (
            "checkov skip without a reason",
            analysis.replacen(
                "comment: this is the access-log bucket; logging it into itself would loop",
                "comment: \"  \"",
                1,
            ),
        ),
        (
            "checkov skip without a comment",
            automation.replacen(
                "\n          comment: \"calls only STS (IRAutomation in member accounts) and Step Functions;",
                "\n          x: \"",
                1,
            ),
        ),
    ];
    for (what, text) in broken {
        let path = dir.path().join("broken.yaml");
        std::fs::write(&path, &text).unwrap();
        let (code, report) = guard(&path);
        assert_eq!(code, 19, "{what} passed the rules:\n{report}");
    }
    for original in [&analysis, &automation, &baseline, &member] {
        let path = dir.path().join("unchanged.yaml");
        std::fs::write(&path, original).unwrap();
        assert_eq!(guard(&path).0, 0, "an unchanged template must pass");
    }
}

//! The plan: order, wiring, targets and determinism.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use irf_synth::fixtures::large_org;
use irf_synth::plan::{ParamSource, Plan};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn example_text() -> String {
    std::fs::read_to_string(root().join("examples/org.toml")).unwrap()
}

fn plan_of(text: &str) -> Plan {
    let fw = irf_core::config::parse(Path::new("org.toml"), text).unwrap();
    irf_synth::synthesize(&fw).unwrap().plan
}

#[test]
fn every_dependency_is_deployed_first_and_every_output_is_wired() {
    let plan = plan_of(&example_text());
    let mut seen = BTreeSet::new();
    for s in &plan.stacks {
        for d in &s.depends_on {
            assert!(
                seen.contains(d),
                "{} depends on {d}, which comes later",
                s.name
            );
        }
        for (p, src) in &s.parameters {
            if let ParamSource::Output { from_stack, .. } = src {
                assert!(
                    s.depends_on.contains(from_stack),
                    "{}.{p} reads {from_stack} without depending on it",
                    s.name
                );
            }
        }
        assert!(seen.insert(s.name.clone()), "duplicate stack {}", s.name);
    }
}

#[test]
fn stacks_land_in_the_right_accounts_and_regions() {
    let plan = plan_of(&example_text());
    let where_: Vec<(String, String, String)> = plan
        .stacks
        .iter()
        .map(|s| (s.name.clone(), s.account_id.clone(), s.region.clone()))
        .collect();
    let expect = |name: &str, account: &str, region: &str| {
        assert!(
            where_.contains(&(name.to_owned(), account.to_owned(), region.to_owned())),
            "{name} not planned in {account}/{region}: {where_:#?}"
        );
    };
    expect("irf-forensics-analysis", "222222222222", "us-east-1");
    expect("irf-forensics-evidence-policy", "222222222222", "us-east-1");
    expect("irf-security-automation", "111111111111", "us-east-1");
    expect("irf-security-hub", "111111111111", "us-east-1");
    expect("irf-member-baseline-payments", "333333333333", "us-east-1");
    expect(
        "irf-member-automation-payments-us-east-1",
        "333333333333",
        "us-east-1",
    );
    expect(
        "irf-member-automation-payments-eu-west-1",
        "333333333333",
        "eu-west-1",
    );
    expect("irf-member-baseline-data", "555555555555", "eu-west-1");
    expect(
        "irf-member-automation-data-eu-west-1",
        "555555555555",
        "eu-west-1",
    );
    expect(
        "irf-forensics-ingest-eu-west-1",
        "222222222222",
        "eu-west-1",
    );
    assert!(
        plan.stack("irf-forensics-ingest-us-east-1").is_none(),
        "the home region's captures go to the evidence bucket itself"
    );
    assert_eq!(plan.stacks.len(), 7 + 3 + 4 + 1);
}

#[test]
fn member_stacks_read_their_own_baseline() {
    let plan = plan_of(&example_text());
    let s = plan
        .stack("irf-member-automation-payments-eu-west-1")
        .unwrap();
    assert_eq!(
        s.depends_on,
        ["irf-member-baseline-payments", "irf-security-automation"]
    );
    assert_eq!(
        s.parameters["IncidentBusArn"],
        ParamSource::Output {
            from_stack: "irf-security-automation".into(),
            output: "IncidentBusArn".into()
        }
    );
    assert!(
        !s.parameters
            .keys()
            .any(|k| k.contains("Role") || k.contains("Profile")),
        "member roles are referenced by fixed name, so the template also works as a StackSet"
    );
    assert_eq!(
        s.parameters["SecurityAccountId"],
        ParamSource::Value {
            value: "111111111111".into()
        }
    );
    assert_eq!(
        s.assets.len(),
        1,
        "member automation runs the runtime asset"
    );
    let baseline = plan.stack("irf-member-baseline-payments").unwrap();
    assert!(
        baseline.depends_on.contains(&"irf-security-hub".to_owned()),
        "IRAutomation trusts the Security Hub role"
    );
    assert!(baseline.assets.is_empty());
    assert!(
        baseline
            .capabilities
            .contains(&"CAPABILITY_NAMED_IAM".to_owned())
    );
    assert_eq!(
        baseline.tags.get("Owner").map(String::as_str),
        Some("soc@example.com")
    );
}

#[test]
fn waves_allow_parallel_member_fan_out() {
    let plan = plan_of(&example_text());
    let waves: Vec<Vec<&str>> = plan
        .waves()
        .iter()
        .map(|w| w.iter().map(|s| s.name.as_str()).collect())
        .collect();
    assert_eq!(
        waves[0],
        [
            "irf-forensics-analysis",
            "irf-security-hub",
            "irf-forensics-ingest-eu-west-1"
        ]
    );
    assert_eq!(waves.len(), 5, "critical path: {waves:#?}");
    assert_eq!(waves[4].len(), 4, "all four member regions deploy together");
}

#[test]
fn synthesis_is_byte_identical() {
    let fw = irf_core::config::load(&root().join("examples/org.toml")).unwrap();
    let a = irf_synth::synthesize(&fw).unwrap();
    let b = irf_synth::synthesize(&fw).unwrap();
    let (da, db) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    a.write_to(da.path()).unwrap();
    b.write_to(db.path()).unwrap();
    for t in &a.templates {
        assert_eq!(
            std::fs::read(da.path().join(&t.path)).unwrap(),
            std::fs::read(db.path().join(&t.path)).unwrap()
        );
    }
    assert_eq!(
        std::fs::read(da.path().join("plan.json")).unwrap(),
        std::fs::read(db.path().join("plan.json")).unwrap()
    );
}

#[test]
fn stale_templates_are_removed_on_rewrite() {
    let fw = irf_core::config::load(&root().join("examples/org.toml")).unwrap();
    let s = irf_synth::synthesize(&fw).unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("templates")).unwrap();
    std::fs::write(dir.path().join("templates/99-old.yaml"), "old").unwrap();
    s.write_to(dir.path()).unwrap();
    assert!(!dir.path().join("templates/99-old.yaml").exists());
}

#[test]
fn a_thousand_member_org_synthesizes_within_limits() {
    let plan = plan_of(&large_org(1000));
    assert_eq!(plan.stacks.len(), 7 + 1000 + 2000 + 1);
    let templates: BTreeSet<&str> = plan.stacks.iter().map(|s| s.template.as_str()).collect();
    assert_eq!(templates.len(), 10, "member stacks share their templates");
}

#[test]
fn two_hundred_analysis_subnets_fit_in_one_template() {
    let text = example_text().replace("analysis_subnets = 3", "analysis_subnets = 200");
    let fw = irf_core::config::parse(Path::new("org.toml"), &text).unwrap();
    let s = irf_synth::synthesize(&fw).unwrap();
    let analysis = &s.templates[0];
    assert!(
        analysis.template.resources.len() <= 500,
        "{}",
        analysis.template.resources.len()
    );
    assert!(analysis.yaml.contains("AnalysisSubnet200:"));
}

//! The example org and the starter file resolve into the expected model.

use std::path::Path;

use irf_core::config;
use irf_core::model::{LockMode, MemberTarget, MemoryMethod};

#[test]
fn example_org_resolves() {
    let f = config::load(Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../examples/org.toml"
    )))
    .expect("the example org is valid");
    assert_eq!(f.org.id.as_str(), "o-exampleorg1");
    assert_eq!(f.security.as_str(), "111111111111");
    assert_eq!(f.forensics.as_str(), "222222222222");
    let names: Vec<&str> = f.members.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(
        names,
        ["data", "payments", "web"],
        "members are sorted by name"
    );
    let payments = &f.members[1];
    assert_eq!(
        payments.target,
        MemberTarget::Account(irf_core::model::AccountId::parse("333333333333").unwrap())
    );
    assert_eq!(
        payments
            .regions
            .iter()
            .map(|r| r.as_str())
            .collect::<Vec<_>>(),
        ["us-east-1", "eu-west-1"]
    );
    assert_eq!(f.network.analysis.subnets.len(), 3);
    assert_eq!(
        f.network.analysis.subnets[2].cidr.to_string(),
        "10.66.2.0/24"
    );
    assert_eq!(
        f.network.maintenance.subnets[1].cidr.to_string(),
        "10.0.1.0/24"
    );
    assert_eq!(f.evidence.lock_mode, LockMode::Governance);
    assert_eq!(
        f.acquisition.memory_methods,
        [MemoryMethod::Kcore, MemoryMethod::Lime]
    );
    assert_eq!(f.names.evidence_bucket(), "irf-222222222222-ir-artifacts");
    assert_eq!(
        f.tags.get("CostCenter").map(String::as_str),
        Some("security-operations")
    );
    assert_eq!(
        f.deploy_targets().len(),
        2 + 4 + 1,
        "security, forensics, four member account-regions and forensics in eu-west-1 (ingest)"
    );
    assert_eq!(
        f.ingest_regions()
            .iter()
            .map(|r| r.as_str())
            .collect::<Vec<_>>(),
        ["eu-west-1"]
    );
    assert_eq!(
        f.names
            .ingest_bucket(irf_core::region::Region::lookup("eu-west-1").unwrap()),
        "irf-222222222222-ingest-eu-west-1"
    );
}

#[test]
fn starter_file_documents_every_section_and_only_needs_the_cast_checksum() {
    let err = config::parse(Path::new("org.toml"), config::STARTER_ORG_TOML).unwrap_err();
    let paths: Vec<&str> = err.diagnostics.iter().map(|d| d.path.as_str()).collect();
    assert_eq!(paths, ["sift.cast_sha256"], "{err}");
    for section in [
        "[organization]",
        "[security]",
        "[forensics]",
        "[[members]]",
        "[network]",
        "[evidence]",
        "[acquisition]",
        "[containment]",
        "[notifications]",
        "[notifications.slack]",
        "[module_factory]",
        "[sift]",
        "[lambda]",
        "[tags]",
    ] {
        assert!(
            config::STARTER_ORG_TOML.contains(section),
            "starter lacks {section}"
        );
    }
    let fixed = config::STARTER_ORG_TOML.replace(
        "replace-with-the-sha256-of-cast-linux-amd64-deb-from-release-page",
        &"ab".repeat(32),
    );
    config::parse(Path::new("org.toml"), &fixed).expect("starter with a checksum is valid");
}

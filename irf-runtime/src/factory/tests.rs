use irf_core::factory::{BuildOutcome, BuilderInstance, FORMAT, FactoryManifest, OsRelease};

use super::{AmiStatus, Builder, StoredManifest, assess, day_of, rfc3339};

const AMI: &str = "ami-0123456789abcdef0";
/// 2026-12-03T12:00:00Z.
const NOON: i64 = 1_796_299_200;

fn builder(state: &str, launched_at: i64) -> Builder {
    Builder {
        instance_id: format!("i-{launched_at}"),
        ami_id: AMI.to_owned(),
        instance_type: "t3.large".to_owned(),
        state: state.to_owned(),
        launched_at,
    }
}

fn manifest(outcome: BuildOutcome, stored_at: i64) -> StoredManifest {
    StoredManifest {
        manifest: FactoryManifest {
            version: FORMAT,
            ami_id: AMI.to_owned(),
            builder: BuilderInstance {
                instance_id: "i-1".to_owned(),
                instance_type: "t3.large".to_owned(),
                architecture: "x86_64".to_owned(),
            },
            os: OsRelease::default(),
            lime_commit: None,
            started_at: rfc3339(stored_at - 600),
            ended_at: rfc3339(stored_at),
            outcome,
            reason: None,
            log_key: None,
            kernels: Vec::new(),
        },
        stored_at,
    }
}

#[test]
fn the_clock_helpers_agree_with_utc() {
    assert_eq!(rfc3339(NOON), "2026-12-03T12:00:00Z");
    assert_eq!(day_of(NOON), day_of(NOON - 12 * 3600));
    assert_ne!(day_of(NOON), day_of(NOON - 12 * 3600 - 1));
}

#[test]
fn nothing_known_is_due() {
    assert_eq!(assess(AMI, NOON, &[], None), AmiStatus::Due);
    // Another AMI's builder does not count.
    let mut other = builder("running", NOON - 60);
    other.ami_id = "ami-12345678".to_owned();
    assert_eq!(assess(AMI, NOON, &[other], None), AmiStatus::Due);
}

#[test]
fn a_running_builder_blocks_a_second_one() {
    let b = builder("running", NOON - 60);
    let old = manifest(BuildOutcome::Built, NOON - 3 * 86_400);
    assert_eq!(
        assess(
            AMI,
            NOON,
            &[builder("terminated", NOON - 7200), b.clone()],
            Some(&old)
        ),
        AmiStatus::Building(b)
    );
}

#[test]
fn a_build_stays_current_for_a_day_then_is_due_again() {
    let m = manifest(BuildOutcome::Built, NOON - 3600);
    assert!(matches!(
        assess(AMI, NOON, &[], Some(&m)),
        AmiStatus::Current(_)
    ));
    let yesterday = manifest(BuildOutcome::Built, NOON - CURRENT_FOR_PLUS);
    assert_eq!(assess(AMI, NOON, &[], Some(&yesterday)), AmiStatus::Due);
}
const CURRENT_FOR_PLUS: i64 = super::CURRENT_FOR + 1;

#[test]
fn a_failure_today_is_reported_not_relaunched_and_tomorrow_is_due() {
    for outcome in [
        BuildOutcome::Failed,
        BuildOutcome::Partial,
        BuildOutcome::TimedOut,
    ] {
        let m = manifest(outcome, NOON - 600);
        let status = assess(AMI, NOON, &[builder("terminated", NOON - 1200)], Some(&m));
        assert_eq!(status.label(), outcome.as_str());
        assert!(status.settled());
        assert_eq!(assess(AMI, NOON + 86_400, &[], Some(&m)), AmiStatus::Due);
    }
}

#[test]
fn a_builder_that_ended_without_a_manifest_is_lost_for_the_day() {
    let gone = builder("terminated", NOON - 1200);
    assert_eq!(
        assess(AMI, NOON, std::slice::from_ref(&gone), None),
        AmiStatus::Lost(gone.clone())
    );
    // An older manifest (from before the launch) does not explain it.
    let old = manifest(BuildOutcome::Built, NOON - 2 * 86_400);
    assert_eq!(
        assess(AMI, NOON, std::slice::from_ref(&gone), Some(&old)),
        AmiStatus::Lost(gone)
    );
    // Yesterday's lost builder does not block today's build.
    assert_eq!(
        assess(AMI, NOON, &[builder("terminated", NOON - 86_400)], None),
        AmiStatus::Due
    );
}

#[test]
fn the_config_list_parameter_parses() {
    assert_eq!(
        super::parse_list("ami-0a1b2c3d, ami-12345678"),
        ["ami-0a1b2c3d", "ami-12345678"]
    );
    assert!(super::parse_list("none").is_empty());
}

//! Every payload that crosses into a handler, as JSON fixtures: each is read into its type,
//! written back, and must come out as it went in (the lambda-events pattern). The step
//! fixtures also pin the action names: a fixture's `"Action"` is its type's action name, and
//! every action has at least one fixture.

use std::collections::BTreeSet;

use irf_core::events::{
    CustomActionEvent, ExecutionStatusChangeEvent, IncidentRequestEvent, SnsEvent, TagChangeEvent,
};
use irf_core::steps::{
    ACTION_FIELD, BranchStatus, CaseAction, CaseEvent, CaseInput, CaseStep, DiskAction, DiskStep,
    ImagingAction, ImagingStep, MemoryAction, MemoryStep, NotifyAction, NotifyStep,
};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

macro_rules! fixture {
    ($name:literal) => {
        ($name, include_str!(concat!("fixtures/", $name)))
    };
}

/// Reads `fixture` into `T`, writes it back and compares.
fn round_trip<T: DeserializeOwned + Serialize>((name, text): (&str, &str)) -> T {
    let json: Value = serde_json::from_str(text).unwrap_or_else(|e| panic!("{name}: {e}"));
    let typed: T = serde_json::from_value(json.clone()).unwrap_or_else(|e| panic!("{name}: {e}"));
    let back = serde_json::to_value(&typed).unwrap();
    assert_eq!(back, json, "{name} changed on the way through its type");
    typed
}

/// Round-trips a step fixture and checks that its `"Action"` is the action's name.
fn step<T: DeserializeOwned + Serialize, A: Copy + std::fmt::Display>(
    fixture: (&str, &str),
    action: impl Fn(&T) -> A,
) -> A {
    let typed: T = round_trip(fixture);
    let json: Value = serde_json::from_str(fixture.1).unwrap();
    let a = action(&typed);
    assert_eq!(json[ACTION_FIELD], a.to_string(), "{}", fixture.0);
    a
}

#[test]
fn disk_steps() {
    let seen: BTreeSet<DiskAction> = [
        fixture!("step-disk-create-snapshots.json"),
        fixture!("step-disk-check-snapshots.json"),
        fixture!("step-disk-share-snapshots.json"),
        fixture!("step-disk-check-shared.json"),
        fixture!("step-disk-copy-snapshots.json"),
        fixture!("step-disk-check-copies.json"),
        fixture!("step-disk-clean-up.json"),
        fixture!("step-disk-clean-up-after-failure.json"),
    ]
    .into_iter()
    .map(|f| step(f, DiskStep::action))
    .collect();
    assert_eq!(seen, DiskAction::ALL.iter().copied().collect());
}

#[test]
fn imaging_steps() {
    let seen: BTreeSet<ImagingAction> = [
        fixture!("step-imaging-image-snapshot.json"),
        fixture!("step-imaging-image-snapshot-resumed.json"),
    ]
    .into_iter()
    .map(|f| step(f, ImagingStep::<Value>::action))
    .collect();
    assert_eq!(seen, ImagingAction::ALL.iter().copied().collect());
}

#[test]
fn memory_steps() {
    let seen: BTreeSet<MemoryAction> = [
        fixture!("step-memory-agent-online.json"),
        fixture!("step-memory-start-preflight.json"),
        fixture!("step-memory-preflight-result.json"),
        fixture!("step-memory-start-capture.json"),
        fixture!("step-memory-capture-result.json"),
        fixture!("step-memory-verify.json"),
        fixture!("step-memory-verify-resumed.json"),
        fixture!("step-memory-build-symbols.json"),
        fixture!("step-memory-clean-up.json"),
    ]
    .into_iter()
    .map(|f| step(f, MemoryStep::action))
    .collect();
    assert_eq!(seen, MemoryAction::ALL.iter().copied().collect());
}

#[test]
fn case_and_notify_steps() {
    let seen: BTreeSet<CaseAction> = [
        fixture!("step-case-open.json"),
        fixture!("step-case-contain.json"),
        fixture!("step-case-close.json"),
    ]
    .into_iter()
    .map(|f| step(f, CaseStep::action))
    .collect();
    assert_eq!(seen, CaseAction::ALL.iter().copied().collect());
    assert_eq!(
        step(fixture!("step-notify.json"), NotifyStep::action),
        NotifyAction::Notify
    );
    let input: CaseInput = round_trip(fixture!("case-input.json"));
    assert_eq!(input.retain_artefacts, "true");
}

#[test]
fn events() {
    let tag: TagChangeEvent = round_trip(fixture!("event-tag-change.json"));
    assert_eq!(tag.detail_type, irf_core::events::TAG_CHANGE_DETAIL_TYPE);
    assert_eq!(tag.source, irf_core::events::TAG_CHANGE_SOURCE);
    let request: IncidentRequestEvent = round_trip(fixture!("event-incident-request.json"));
    assert_eq!(request.source, irf_core::contract::INCIDENT_EVENT_SOURCE);
    assert_eq!(
        request.detail_type,
        irf_core::contract::INCIDENT_EVENT_DETAIL_TYPE
    );
    let action: CustomActionEvent = round_trip(fixture!("event-securityhub-custom-action.json"));
    assert_eq!(
        action.detail_type,
        irf_core::events::CUSTOM_ACTION_DETAIL_TYPE
    );
    assert_eq!(
        action.detail.findings[0].resources.as_ref().unwrap().len(),
        2
    );
    let ended: ExecutionStatusChangeEvent =
        round_trip(fixture!("event-execution-status-change.json"));
    assert_eq!(
        ended.detail_type,
        irf_core::events::EXECUTION_STATUS_CHANGE_DETAIL_TYPE
    );
    let sns: SnsEvent = round_trip(fixture!("event-sns-notification.json"));
    assert_eq!(
        sns.records[0].sns.as_ref().unwrap().subject.as_deref(),
        Some("IRF incident response")
    );
}

/// The names the code uses are the names serde writes.
#[test]
fn names_are_the_serde_names() {
    for s in [BranchStatus::Succeeded, BranchStatus::Failed] {
        assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
    }
    for s in irf_core::events::ExecutionStatus::ALL {
        assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
    }
    for e in [
        CaseEvent::CaseStarted,
        CaseEvent::CaseSucceeded,
        CaseEvent::CaseFailed,
        CaseEvent::ContainFailed,
        CaseEvent::Other("Paused".to_owned()),
    ] {
        assert_eq!(serde_json::to_value(&e).unwrap(), e.name());
        assert_eq!(
            serde_json::from_value::<CaseEvent>(e.name().into()).unwrap(),
            e
        );
    }
}

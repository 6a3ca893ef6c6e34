//! Structure of the workflows: valid graphs, the functions they call, the fields of each step.

use super::*;
use irf_core::asl::TaskTarget;
use irf_core::steps::{CaseAction, DiskAction, ImagingAction, MemoryAction, NotifyAction};

#[test]
fn machines_are_valid_graphs() {
    for m in [disk_machine(), memory_machine(), combined_machine()] {
        if let Err(e) = m.validate() {
            panic!("{}: {e:?}", m.comment);
        }
    }
}

#[test]
fn combined_machine_calls_every_function() {
    let targets: Vec<TaskTarget> = combined_machine().targets().into_iter().collect();
    let names: Vec<String> = targets
        .iter()
        .map(|t| match t {
            TaskTarget::Lambda(p) | TaskTarget::Sns(p) => p.clone(),
        })
        .collect();
    assert_eq!(
        names,
        [
            CASE_FN,
            DISK_IMAGING_FN,
            DISK_SNAPSHOT_FN,
            MEMORY_FN,
            NOTIFY_FN
        ]
    );
}

/// The fields of every step request in `irf-core/tests/fixtures` (which round-trip through
/// the handlers' types), by action.
fn fixture_fields() -> Vec<(String, std::collections::BTreeSet<String>)> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../irf-core/tests/fixtures");
    let mut found = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if !path
            .file_name()
            .unwrap()
            .to_string_lossy()
            .starts_with("step-")
        {
            continue;
        }
        let json: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let action = json[ACTION_FIELD].as_str().unwrap().to_owned();
        found.push((action, json.as_object().unwrap().keys().cloned().collect()));
    }
    found
}

/// Every `Payload` a Lambda task sends, anywhere in `v`.
fn payloads<'a>(v: &'a Value, out: &mut Vec<&'a serde_json::Map<String, Value>>) {
    match v {
        Value::Object(o) => {
            if let Some(Value::Object(p)) = o.get("Payload") {
                out.push(p);
            }
            o.values().for_each(|x| payloads(x, out));
        }
        Value::Array(a) => a.iter().for_each(|x| payloads(x, out)),
        _ => {}
    }
}

/// The workflows send exactly the fields the step types read: each task's payload has the
/// fields of a fixture of its action.
#[test]
fn every_task_sends_a_request_its_step_type_reads() {
    let fixtures = fixture_fields();
    let mut sent = std::collections::BTreeSet::new();
    for m in [disk_machine(), memory_machine(), combined_machine()] {
        let definition: Value = serde_json::from_str(&m.resolved(str::to_owned)).unwrap();
        let mut found = Vec::new();
        payloads(&definition, &mut found);
        for p in found {
            let action = p[ACTION_FIELD].as_str().unwrap().to_owned();
            let fields: std::collections::BTreeSet<String> = p
                .keys()
                .map(|k| k.trim_end_matches(".$").to_owned())
                .collect();
            assert!(
                fixtures.contains(&(action.clone(), fields.clone())),
                "{}: {action} sends {fields:?}, which no step fixture has",
                m.comment
            );
            sent.insert(action);
        }
    }
    let every: std::collections::BTreeSet<String> = DiskAction::ALL
        .iter()
        .map(|a| a.name())
        .chain(ImagingAction::ALL.iter().map(|a| a.name()))
        .chain(MemoryAction::ALL.iter().map(|a| a.name()))
        .chain(CaseAction::ALL.iter().map(|a| a.name()))
        .chain(NotifyAction::ALL.iter().map(|a| a.name()))
        .map(str::to_owned)
        .collect();
    assert_eq!(sent, every, "every step is used by a workflow");
}

#[test]
fn polling_budgets_are_bounded() {
    let hours = |p: Polling| p.budget_seconds() as f64 / 3600.0;
    assert!((5.0..8.0).contains(&hours(SNAPSHOT_POLLING)));
    assert!(PREFLIGHT_POLLING.budget_seconds() <= 600);
    assert!((10.0..14.0).contains(&hours(CAPTURE_POLLING)));
    assert!(transient().budget_seconds() <= 180);
}

/// A Standard workflow fails at 25,000 history events. The combined case, with every
/// polling budget used up (three snapshot loops, preflight, capture), stays well below it.
#[test]
fn worst_case_polling_fits_the_execution_history() {
    let loops = [
        SNAPSHOT_POLLING,
        SNAPSHOT_POLLING,
        SNAPSHOT_POLLING,
        PREFLIGHT_POLLING,
        CAPTURE_POLLING,
    ];
    let events: u32 = loops.iter().map(Polling::worst_case_history_events).sum();
    assert!(events <= 20_000, "{events} history events");
}

#[test]
fn waiting_is_polled_not_retried_as_an_error() {
    let disk = ["Snapshots", "Shared", "Copies"];
    let memory = ["Preflight", "Capture"];
    let both = [&disk[..], &memory[..]].concat();
    for (m, stems) in [
        (disk_machine(), &disk[..]),
        (memory_machine(), &memory[..]),
        (combined_machine(), &both[..]),
    ] {
        let text = m.resolved(str::to_owned);
        assert!(
            !text.contains(irf_core::asl::ERROR_PENDING),
            "{}",
            m.comment
        );
        for stem in stems {
            for state in [
                format!("WaitFor{stem}"),
                format!("Check{stem}"),
                format!("{stem}Ready"),
                format!("{stem}NotReady"),
                format!("Count{stem}Poll"),
                format!("{stem}TimedOut"),
            ] {
                assert!(
                    text.contains(&format!("\"{state}\": {{")),
                    "{}: no state {state}",
                    m.comment
                );
            }
        }
    }
}

//! One module per handler.

pub mod case_record;
pub mod disk_imaging;
pub mod disk_snapshot;
pub mod member_tag;
pub mod memory_acquisition;
pub mod module_factory;
pub mod notify;
pub mod securityhub;
pub mod trigger;

/// A field of a step's input, by JSON pointer (`/Snapshots/Snapshots`); a missing or malformed
/// field is fatal and named, with the step (`disk`, `memory`).
pub(crate) fn input<T: serde::de::DeserializeOwned>(
    payload: &serde_json::Value,
    pointer: &str,
    step: &str,
) -> crate::error::Result<T> {
    serde_json::from_value(payload.pointer(pointer).cloned().unwrap_or_default()).map_err(|e| {
        crate::error::HandlerError::Fatal(format!("{step} step input {pointer} is invalid: {e}"))
    })
}

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

/// The answer of a polling action (`CheckSnapshots`, `PreflightResult`, …) to the workflow:
/// the finished result with `"Ready": true`, or `{"Ready": false, "Waiting": why}` while the
/// work goes on. The workflows poll in a Choice/Wait loop on `Ready` with a counted budget
/// instead of retrying an error: routine waiting is then no Lambda error (no `Errors` metric,
/// no alarm, no error log line), and every other error stays an error.
pub(crate) fn polled(
    outcome: crate::error::Result<serde_json::Value>,
) -> crate::error::Result<serde_json::Value> {
    use crate::error::{ErrorKind, HandlerError};
    match outcome {
        Ok(serde_json::Value::Object(mut done)) => {
            done.insert("Ready".to_owned(), true.into());
            Ok(done.into())
        }
        Ok(other) => Err(HandlerError::Fatal(format!(
            "a polling action returned {other}, not an object"
        ))),
        Err(e) if e.kind() == ErrorKind::Pending => {
            Ok(serde_json::json!({ "Ready": false, "Waiting": e.to_string() }))
        }
        Err(e) => Err(e),
    }
}

/// The request `handler` was sent, typed (a step request of [`irf_core::steps`], an event of
/// [`irf_core::events`]); a malformed one (an unknown action, a missing or malformed field) is
/// fatal and says what is wrong.
pub(crate) fn request<T: serde::de::DeserializeOwned>(
    handler: irf_core::handler::Handler,
    payload: &serde_json::Value,
) -> crate::error::Result<T> {
    T::deserialize(payload).map_err(|e| {
        crate::error::HandlerError::fatal(format!("{handler} request is invalid: {e}"))
    })
}

#[cfg(test)]
mod tests {
    use super::polled;
    use crate::error::{ErrorKind, HandlerError};
    use serde_json::json;

    #[test]
    fn polling_answers_ready_or_waiting_and_keeps_real_errors() {
        assert_eq!(
            polled(Ok(json!({ "Method": "kcore" }))).unwrap(),
            json!({ "Method": "kcore", "Ready": true })
        );
        assert_eq!(
            polled(Err(HandlerError::Pending("snap-1 pending".into()))).unwrap(),
            json!({ "Ready": false, "Waiting": "snap-1 pending" })
        );
        for e in [
            HandlerError::Fatal("snapshot in error".into()),
            HandlerError::Retryable("throttled".into()),
        ] {
            assert_eq!(polled(Err(e.clone())).unwrap_err(), e);
        }
        let err = polled(Ok(json!(true))).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Fatal);
        assert!(err.to_string().contains("not an object"), "{err}");
    }
}

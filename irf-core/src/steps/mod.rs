//! The requests the workflows send to the handlers, and the records they pass between steps.
//!
//! Every Lambda task of a workflow sends one JSON object whose `"Action"` names the step. The
//! handler behind it deserializes that object into one of the step enums here ([`DiskStep`],
//! [`ImagingStep`], [`MemoryStep`], [`CaseStep`], [`NotifyStep`]); the workflow builder takes the
//! action names from their companion enums ([`DiskAction`], [`ImagingAction`], [`MemoryAction`],
//! [`CaseAction`], [`NotifyAction`]). An action's name is its variant's identifier, which is also
//! serde's tag value, so each name exists once and a workflow cannot ask for a step its handler
//! lacks. Field names are the wire format: PascalCase, like the case workflow's fixed input
//! (`CaseId`, `InstanceId`, ...); [`Case`] keeps its snake_case fields. `irf-core/tests/fixtures/`
//! holds one request of every kind, and the `fixtures` test round-trips each through its type.

mod case;
mod disk;
mod memory;

pub use case::{
    BranchStatus, Case, CaseAction, CaseEvent, CaseInput, CaseStep, NotifyAction, NotifyStep,
};
pub use disk::{
    Copies, DiskAction, DiskCopy, DiskStep, ImagingAction, ImagingStep, Shared, Snapshots,
    VolumeSnapshot,
};
pub use memory::{
    Capture, CopyCursor, Ingest, MemoryAction, MemoryStep, MethodChoice, PartReceipt,
    PreflightReport, Receipts, SentCommand, Symbols, SymbolsReceipt, VerifyCursor,
};

use serde::{Deserialize, Serialize};

/// Declares the action enum of a step enum: one fieldless variant per step, named like it.
macro_rules! actions {
    (
        $(#[$meta:meta])*
        $action:ident for $step:ident $(<$g:ident>)? { $($variant:ident),+ $(,)? }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $action {
            $(
                #[doc = concat!("The [`", stringify!($step), "::", stringify!($variant), "`] step.")]
                $variant,
            )+
        }

        impl $action {
            /// Every action, in declaration order.
            pub const ALL: &'static [$action] = &[$($action::$variant,)+];

            /// The `"Action"` value on the wire (the variant's name, as serde tags it).
            pub const fn name(self) -> &'static str {
                match self {
                    $($action::$variant => stringify!($variant),)+
                }
            }
        }

        impl std::fmt::Display for $action {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.name())
            }
        }

        impl $(<$g>)? $step $(<$g>)? {
            /// The action this request asks for.
            pub fn action(&self) -> $action {
                match self {
                    $($step::$variant { .. } => $action::$variant,)+
                }
            }
        }
    };
}
pub(crate) use actions;

/// A polling check's answer as the next step receives it: the finished result, flattened, with
/// `"Ready": true` beside its fields (the handlers add it; the workflows move on only when it is
/// true, see `irf-synth`'s polling loops).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ready<T> {
    /// The check's result.
    #[serde(flatten)]
    pub result: T,
    /// Always `true` in a request (a check that is not ready is polled again instead).
    #[serde(rename = "Ready")]
    pub ready: bool,
}

/// The JSON field that names a step: the serde tag of every step enum.
pub const ACTION_FIELD: &str = "Action";

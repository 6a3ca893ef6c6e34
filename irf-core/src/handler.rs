//! The Lambda handlers of `irf-runtime`, by name.
//!
//! Every function in every template runs the same `bootstrap` binary; the `IRF_HANDLER`
//! environment variable selects the handler. Templates and the runtime both use this enum, so a
//! template cannot name a handler the runtime lacks.

use std::fmt;
use std::str::FromStr;

/// Environment variable selecting the handler.
pub const HANDLER_ENV: &str = "IRF_HANDLER";

macro_rules! handlers {
    ($($variant:ident = $name:literal: $doc:literal,)*) => {
        /// A Lambda handler.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Handler {
            $(#[doc = $doc] $variant,)*
        }

        impl Handler {
            /// Every handler.
            pub const ALL: &'static [Handler] = &[$(Handler::$variant,)*];

            /// The handler's name (the `IRF_HANDLER` value).
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Handler::$variant => $name,)*
                }
            }
        }
    };
}

handlers! {
    IncidentTrigger = "incident-trigger": "Security: validates an incident request and starts the case workflow.",
    DiskSnapshot = "disk-snapshot": "Security: snapshots, re-encrypts, shares, copies and cleans up disks.",
    DiskImaging = "disk-imaging": "Security: images a snapshot into the evidence bucket with the EBS direct APIs.",
    MemoryAcquisition = "memory-acquisition": "Security: preflight, capture and status of memory acquisition over SSM.",
    CaseRecord = "case-record": "Security: custody ledger, final containment tag, case outcome.",
    Notify = "notify": "Security and member: Slack and outcome notifications.",
    MemberTag = "member-tag": "Member: reacts to SecurityIncidentStatus tag changes (analyze, contain).",
    SecurityHubAction = "securityhub-action": "Security: Security Hub custom action tagging instances for analysis.",
    ModuleFactory = "module-factory": "Security: launches LiME module builders for the configured AMIs.",
}

impl fmt::Display for Handler {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An unknown handler name.
#[derive(Debug, thiserror::Error)]
#[error("unknown handler {0:?}; known handlers: {known}", known = Handler::ALL.iter().map(|h| h.as_str()).collect::<Vec<_>>().join(", "))]
pub struct UnknownHandler(pub String);

impl FromStr for Handler {
    type Err = UnknownHandler;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Handler::ALL
            .iter()
            .copied()
            .find(|h| h.as_str() == s)
            .ok_or_else(|| UnknownHandler(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for h in Handler::ALL {
            assert_eq!(h.as_str().parse::<Handler>().unwrap(), *h);
        }
        let err = "nope".parse::<Handler>().unwrap_err().to_string();
        assert!(err.contains("member-tag"), "{err}");
    }
}

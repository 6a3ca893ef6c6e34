//! Deploying a synth directory across accounts: dependency order, parallel where independent,
//! producer outputs passed as consumer parameters, unchanged stacks skipped, failures recapped.
//!
//! The deployer never re-runs the model: it deploys the bytes of a synth directory (checked
//! against the plan's hashes), so what is deployed is what was reviewed. Deploy and destroy run
//! the plan's dependency graph through one [`schedule::Scheduler`] (destroy reversed).

mod artifacts;
pub mod assets;
pub mod aws;
mod deployer;
mod destroy;
pub mod diff;
mod error;
pub mod progress;
mod report;
pub mod schedule;
pub mod stack;
pub mod stackset;
mod synth_dir;

pub use artifacts::INLINE_TEMPLATE_BYTES;
pub use deployer::{Deployer, Settings};
pub use destroy::EVIDENCE_RESOURCES;
pub use error::DeployError;
pub use report::{DeployReport, StackResult};
pub use synth_dir::SynthDir;

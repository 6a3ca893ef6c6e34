//! Synthesizes the IRF stack set from an org config, and plans its deployment.
//!
//! ```
//! let fw = irf_core::config::parse(
//!     std::path::Path::new("org.toml"),
//!     include_str!("../../examples/org.toml"),
//! )
//! .unwrap();
//! let synthesis = irf_synth::synthesize(&fw).unwrap();
//! assert_eq!(synthesis.plan.stacks[0].name, "irf-forensics-analysis");
//! ```

pub mod deploy;
pub mod fixtures;
pub mod plan;
pub mod stacks;
mod synth;

pub use synth::{
    EmittedTemplate, RUNTIME_ASSET, SynthError, Synthesis, Timings, synthesize, synthesize_timed,
};

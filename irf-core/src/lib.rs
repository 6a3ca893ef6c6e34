//! Typed model of the IRF automated incident-response and forensics framework.
//!
//! * [`config`] parses and validates `org.toml` into a resolved [`model::Framework`].
//! * [`contract`] holds every name, tag and key layout other stacks and runbooks rely on.
//! * [`steps`], [`events`] and [`env`] type what crosses between the templates and the handlers:
//!   the workflows' step requests, the events the handlers receive, each handler's environment.
//! * [`cfn`] is a typed CloudFormation layer emitting deterministic, YAML-1.1-safe templates.
//! * [`iam`] builds policy documents; [`asl`] builds Step Functions definitions.
//!
//! ```
//! let framework = irf_core::config::parse(
//!     std::path::Path::new("org.toml"),
//!     include_str!("../../examples/org.toml"),
//! )
//! .expect("the example org is valid");
//! assert_eq!(framework.org.prefix, "irf");
//! ```

pub mod asl;
pub mod blueprints;
pub mod cfn;
pub mod config;
pub mod contract;
pub mod env;
pub mod events;
pub mod factory;
pub mod handler;
pub mod iam;
pub mod model;
pub mod region;
pub mod steps;

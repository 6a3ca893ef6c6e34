//! Typed CloudFormation: intrinsic-aware values, one struct per resource type, templates with
//! stable human-chosen logical ids, and a deterministic YAML emitter that is safe for
//! CloudFormation's YAML 1.1 reader.

mod checkov;
mod expr;
pub mod resources;
mod template;
pub mod yaml;

pub use checkov::CheckovCheck;
pub use expr::Expr;
pub(crate) use expr::sub_references;
pub use template::{
    Output, Parameter, Policy, ResourceEntry, Suppression, Template, TemplateError, Validator,
    limits,
};

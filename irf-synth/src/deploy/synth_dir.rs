//! A synth directory as the deployer reads it: `plan.json` and the template bytes it names, each
//! checked against the plan's SHA-256, so what is deployed is exactly what was reviewed.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::DeployError;
use super::schedule::{Graph, GraphError};
use crate::plan::{PLAN_VERSION, Plan, PlannedStack};

/// A synth directory: the plan and the template bytes it names, verified.
#[derive(Clone, Debug)]
pub struct SynthDir {
    /// Where `plan.json` and `templates/` were read from.
    pub dir: PathBuf,
    /// The plan, as read from `plan.json`.
    pub plan: Plan,
    /// Template bodies by their path in the plan.
    templates: HashMap<String, String>,
}

impl SynthDir {
    /// Reads `plan.json` and every template, checking each against the plan's SHA-256, and
    /// checks that the stacks' dependencies form a graph the deployer can run.
    pub fn load(dir: &Path) -> Result<Self, DeployError> {
        let err = |message: String| DeployError::Synth {
            dir: dir.display().to_string(),
            message,
        };
        let text = std::fs::read_to_string(dir.join("plan.json"))
            .map_err(|e| err(format!("cannot read plan.json: {e}")))?;
        let plan: Plan = serde_json::from_str(&text).map_err(|e| err(format!("plan.json: {e}")))?;
        if plan.version != PLAN_VERSION {
            return Err(err(format!(
                "plan version {} is not {PLAN_VERSION}; synthesize again with this irf-synth",
                plan.version,
            )));
        }
        let mut templates = HashMap::new();
        for s in &plan.stacks {
            if templates.contains_key(&s.template) {
                continue;
            }
            let body = std::fs::read_to_string(dir.join(&s.template))
                .map_err(|e| err(format!("cannot read {}: {e}", s.template)))?;
            let sha = hex::encode(Sha256::digest(body.as_bytes()));
            if sha != s.template_sha256 {
                return Err(err(format!(
                    "{} does not match the plan (sha256 {sha}, plan says {}); it changed after synthesis",
                    s.template, s.template_sha256
                )));
            }
            templates.insert(s.template.clone(), body);
        }
        let synth = SynthDir {
            dir: dir.to_path_buf(),
            plan,
            templates,
        };
        synth.graph().map_err(|e| err(format!("plan.json: {e}")))?;
        Ok(synth)
    }

    /// The template of a planned stack.
    pub fn template(&self, stack: &PlannedStack) -> &str {
        self.templates
            .get(&stack.template)
            .map_or("", String::as_str)
    }

    /// The plan's stacks as a dependency graph, in plan order.
    pub fn graph(&self) -> Result<Graph<&PlannedStack>, GraphError> {
        Graph::new(
            self.plan
                .stacks
                .iter()
                .map(|s| (s, s.name.clone(), s.depends_on.clone())),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn written() -> tempfile::TempDir {
        let fw = irf_core::config::parse(Path::new("org.toml"), crate::fixtures::EXAMPLE_ORG)
            .expect("the example is valid");
        let dir = tempfile::tempdir().unwrap();
        crate::synthesize(&fw)
            .unwrap()
            .write_to(dir.path())
            .unwrap();
        dir
    }

    #[test]
    fn loads_what_synthesis_wrote_and_rejects_a_cycle_naming_it() {
        let dir = written();
        let synth = SynthDir::load(dir.path()).unwrap();
        assert_eq!(synth.graph().unwrap().len(), synth.plan.stacks.len());

        // Make a producer depend on one of its consumers.
        let mut plan = synth.plan.clone();
        let consumer = plan
            .stacks
            .iter()
            .position(|s| !s.depends_on.is_empty())
            .unwrap();
        let producer_name = plan.stacks[consumer].depends_on[0].clone();
        let consumer_name = plan.stacks[consumer].name.clone();
        let producer = plan
            .stacks
            .iter()
            .position(|s| s.name == producer_name)
            .unwrap();
        plan.stacks[producer].depends_on.push(consumer_name.clone());
        std::fs::write(
            dir.path().join("plan.json"),
            serde_json::to_string(&plan).unwrap(),
        )
        .unwrap();
        let e = SynthDir::load(dir.path()).unwrap_err().to_string();
        assert!(
            e.contains(&format!(
                "plan.json: dependency cycle: {producer_name} -> {consumer_name} -> {producer_name}"
            )),
            "{e}"
        );
    }
}

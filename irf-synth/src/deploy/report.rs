//! What a deploy or destroy did, stack by stack: the outcome words written once, for the live
//! progress lines and the final recap alike.

use std::fmt;
use std::time::Duration;

use super::DeployError;
use super::schedule::{NodeResult, Run};

/// What happened to one stack that was worked on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// It did not exist and was created.
    Created,
    /// It existed and was changed.
    Updated,
    /// Already as planned: nothing was sent.
    Unchanged,
    /// Deleted (destroy).
    Deleted,
    /// Not deployed, so there was nothing to delete (destroy).
    Absent,
}

impl fmt::Display for Outcome {
    /// `created`, `updated`, `no changes`, `deleted` or `absent` (honours width and alignment).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(match self {
            Outcome::Created => "created",
            Outcome::Updated => "updated",
            Outcome::Unchanged => "no changes",
            Outcome::Deleted => "deleted",
            Outcome::Absent => "absent",
        })
    }
}

/// The result for one stack.
#[derive(Clone, Debug)]
pub enum StackResult {
    /// Deployed (or already current), or deleted (or already gone).
    Done(Outcome),
    /// Failed, with the error's message.
    Failed(String),
    /// Not attempted because a stack it depends on (for destroy: a stack depending on it)
    /// failed or was skipped.
    Skipped {
        /// Name of the stack that failed or was skipped first.
        because: String,
    },
}

/// The result of a deployment or a destroy.
#[derive(Clone, Debug, Default)]
pub struct DeployReport {
    /// Results in the order the stacks were considered (plan order; reversed for destroy).
    pub stacks: Vec<(String, StackResult)>,
    /// Wall time of the whole run.
    pub elapsed: Duration,
    /// Longest chain of stacks deployed (or deleted) one after another.
    pub critical_path: usize,
}

impl DeployReport {
    /// The report of a scheduler run whose nodes produced `T`, with `outcome` reading each one.
    pub(crate) fn of_run<T>(
        run: Run<T, DeployError>,
        elapsed: Duration,
        outcome: impl Fn(&T) -> Outcome,
    ) -> Self {
        DeployReport {
            stacks: run
                .results
                .into_iter()
                .map(|(name, r)| {
                    let r = match r {
                        NodeResult::Done(t) => StackResult::Done(outcome(&t)),
                        NodeResult::Failed(e) => StackResult::Failed(e.to_string()),
                        NodeResult::Skipped { because } => StackResult::Skipped { because },
                    };
                    (name, r)
                })
                .collect(),
            elapsed,
            critical_path: run.critical_path,
        }
    }

    /// The report of a run that could not start: every stack failed with `error`.
    pub(crate) fn not_run<'a>(
        names: impl IntoIterator<Item = &'a str>,
        error: &dyn fmt::Display,
    ) -> Self {
        DeployReport {
            stacks: names
                .into_iter()
                .map(|n| (n.to_owned(), StackResult::Failed(error.to_string())))
                .collect(),
            ..DeployReport::default()
        }
    }

    /// True when every stack is done.
    pub fn ok(&self) -> bool {
        self.stacks
            .iter()
            .all(|(_, r)| matches!(r, StackResult::Done(_)))
    }

    /// Result of one stack.
    pub fn result(&self, name: &str) -> Option<&StackResult> {
        self.stacks.iter().find(|(n, _)| n == name).map(|(_, r)| r)
    }
}

impl fmt::Display for DeployReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (name, r) in &self.stacks {
            match r {
                StackResult::Done(o) => writeln!(f, "  {o:<10} {name}")?,
                StackResult::Failed(e) => {
                    writeln!(f, "  FAILED     {name}\n    {}", e.replace('\n', "\n    "))?
                }
                StackResult::Skipped { because } => writeln!(
                    f,
                    "  skipped    {name} (depends on {because}, which failed)"
                )?,
            }
        }
        write!(
            f,
            "{} stack(s) in {:.1} s; critical path {} stack(s)",
            self.stacks.len(),
            self.elapsed.as_secs_f64(),
            self.critical_path
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_recap_lines_up_its_outcomes() {
        let report = DeployReport {
            stacks: vec![
                ("a".into(), StackResult::Done(Outcome::Created)),
                ("b".into(), StackResult::Done(Outcome::Unchanged)),
                ("c".into(), StackResult::Done(Outcome::Absent)),
                (
                    "d".into(),
                    StackResult::Failed("stack d: no\n    - X: y".into()),
                ),
                (
                    "e".into(),
                    StackResult::Skipped {
                        because: "d".into(),
                    },
                ),
            ],
            elapsed: Duration::from_millis(1300),
            critical_path: 2,
        };
        assert_eq!(
            report.to_string(),
            "  created    a\n  no changes b\n  absent     c\n  FAILED     d\n    stack d: no\n        - X: y\n  skipped    e (depends on d, which failed)\n5 stack(s) in 1.3 s; critical path 2 stack(s)"
        );
        assert!(!report.ok());
        assert_eq!(Outcome::Updated.to_string(), "updated");
    }
}

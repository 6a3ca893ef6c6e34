//! A local executor of the typed workflows ([`irf_core::asl::StateMachine`]): it runs the very
//! definition the security stack deploys, state by state, and hands each task to a [`Tasks`]
//! implementation that calls the handler in-process instead of invoking a Lambda function.
//!
//! Semantics are those of Step Functions for the subset the IRF workflows use: `Parameters`,
//! `ResultSelector` and `ResultPath` ([`paths`]), Choice rules ([`choice`]), `Retry` with
//! backoff and `MaxDelaySeconds`, `Catch` (the error object `{Error, Cause}` at the catcher's
//! `ResultPath`), `Parallel` (branches at once; the first failure stops the others), `Map`
//! (items in order, at most `MaxConcurrency` at once, `$$.Map.Item.Value`/`Index`), `Wait`,
//! `Pass`, `Succeed`, `Fail` (`Cause` or `CausePath`), task and execution timeouts
//! (`States.Timeout`). `States.Runtime` (a missing path, an unsupported expression) is neither
//! retried nor caught, and fails the execution, as in Step Functions.
//!
//! [`Pace`] may shorten waits and retry intervals (a responder's machine has no reason to sleep
//! a minute between polls of an emulator); it never changes how many polls a budget allows.

mod choice;
mod paths;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::future::BoxFuture;
use futures::{FutureExt, StreamExt, TryStreamExt};
use irf_core::asl::{Catch, Flow, Retry, State, StateMachine, StateNode, States, Task, TaskTarget};
use serde::Serialize;
use serde_json::{Value, json};

/// An error as Step Functions names it: `Error` and `Cause`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, thiserror::Error)]
#[serde(rename_all = "PascalCase")]
#[error("{error}: {cause}")]
pub struct Failure {
    /// Error name (`Irf.Fatal`, `States.Timeout`, `States.Runtime`, …).
    pub error: String,
    /// What happened.
    pub cause: String,
}

impl Failure {
    /// An error named `error`.
    pub fn new(error: &str, cause: impl Into<String>) -> Self {
        Failure {
            error: error.to_owned(),
            cause: cause.into(),
        }
    }

    /// `States.Runtime`: the definition asked for something the data does not hold.
    pub(crate) fn runtime(cause: impl Into<String>) -> Self {
        Failure::new(RUNTIME, cause)
    }

    fn matches(&self, names: &[String]) -> bool {
        names
            .iter()
            .any(|n| n == &self.error || (n == "States.ALL" && self.error != RUNTIME))
    }
}

const RUNTIME: &str = "States.Runtime";

/// Runs the integrations of task states.
pub trait Tasks: Send + Sync {
    /// Calls the integration `resource` (e.g. `arn:aws:states:::lambda:invoke`) behind
    /// `target` with the task's evaluated `parameters`, and returns the integration's result
    /// as Step Functions sees it (for `lambda:invoke`, `{"Payload": …}`). A handler's error is
    /// a [`Failure`] with its error name (`Irf.Fatal`, `Irf.Retryable`, `Irf.Pending`).
    fn call(
        &self,
        target: &TaskTarget,
        resource: &str,
        parameters: Value,
    ) -> impl std::future::Future<Output = Result<Value, Failure>> + Send;
}

/// How long waits and retry intervals really are.
#[derive(Clone, Copy, Debug)]
pub struct Pace {
    /// Longest real sleep of one `Wait` state or retry interval (`None`: as written).
    pub max_wait: Option<Duration>,
}

impl Pace {
    /// Waits as the definition says.
    pub const AS_WRITTEN: Pace = Pace { max_wait: None };

    fn sleep_for(self, seconds: f64) -> Duration {
        let d = Duration::from_secs_f64(seconds.max(0.0));
        self.max_wait.map_or(d, |m| d.min(m))
    }
}

/// What happened in an execution, in order.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "Type")]
pub enum Event {
    /// A state was entered; `state` is its path (`Acquire/0/CreateSnapshots`).
    Entered {
        /// Path of the state (`Parallel/branch/State`, `Map/index/State`).
        state: String,
        /// Milliseconds since the execution started.
        at_ms: u64,
    },
    /// A task failed and is retried after `after_ms`.
    Retried {
        /// Path of the task.
        state: String,
        /// The error.
        error: Failure,
        /// Retry number (from 1).
        attempt: u32,
        /// Real delay before the retry.
        after_ms: u64,
    },
    /// A state's error was caught and the execution goes on at `next`.
    Caught {
        /// Path of the state.
        state: String,
        /// The error.
        error: Failure,
        /// Where the execution goes on.
        next: String,
    },
}

/// The end of an execution.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "Status", rename_all = "UPPERCASE")]
pub enum Outcome {
    /// It ended in a `Succeed` or an `End`: its output.
    Succeeded {
        /// The output.
        output: Value,
    },
    /// It failed: the error.
    Failed {
        /// The error.
        error: Failure,
    },
}

/// An execution's outcome and events.
#[derive(Clone, Debug, Serialize)]
pub struct Execution {
    /// How it ended.
    pub outcome: Outcome,
    /// What happened, in order.
    pub events: Vec<Event>,
}

impl Execution {
    /// Paths of the states entered, in order.
    pub fn entered(&self) -> Vec<&str> {
        self.events
            .iter()
            .filter_map(|e| match e {
                Event::Entered { state, .. } => Some(state.as_str()),
                _ => None,
            })
            .collect()
    }
}

type Observer = Arc<dyn Fn(&Event) + Send + Sync>;

/// Runs a state machine with `tasks`.
pub struct Executor<T> {
    tasks: T,
    pace: Pace,
    observer: Option<Observer>,
    events: Mutex<Vec<Event>>,
    began: Mutex<Option<Instant>>,
}

impl<T: std::fmt::Debug> std::fmt::Debug for Executor<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Executor")
            .field("tasks", &self.tasks)
            .field("pace", &self.pace)
            .field("observed", &self.observer.is_some())
            .finish_non_exhaustive()
    }
}

/// Where a graph ended: its output, or the error it failed with.
type Flowed = Result<Value, Failure>;

impl<T: Tasks> Executor<T> {
    /// An executor calling `tasks`, pacing waits with `pace`.
    pub fn new(tasks: T, pace: Pace) -> Self {
        Executor {
            tasks,
            pace,
            observer: None,
            events: Mutex::default(),
            began: Mutex::default(),
        }
    }

    /// Calls `f` with every event as it happens (progress output).
    pub fn observe(mut self, f: impl Fn(&Event) + Send + Sync + 'static) -> Self {
        self.observer = Some(Arc::new(f));
        self
    }

    /// The task runner.
    pub fn tasks(&self) -> &T {
        &self.tasks
    }

    /// Runs `machine` on `input` to its end (or its `TimeoutSeconds`). One execution at a time
    /// per executor: the events of the run are collected on it.
    pub async fn execute(&self, machine: &StateMachine, input: Value) -> Execution {
        *self.began.lock().expect("not poisoned") = Some(Instant::now());
        self.events.lock().expect("not poisoned").clear();
        let context = json!({ "Execution": { "Input": input.clone() } });
        let run = self.graph(
            String::new(),
            &machine.start_at,
            &machine.states,
            input,
            context,
        );
        let limit = Duration::from_secs(u64::from(machine.timeout_seconds));
        let flowed = match tokio::time::timeout(limit, run).await {
            Ok(f) => f,
            Err(_) => Err(Failure::new(
                "States.Timeout",
                format!(
                    "the execution ran longer than its {} s",
                    machine.timeout_seconds
                ),
            )),
        };
        Execution {
            outcome: match flowed {
                Ok(output) => Outcome::Succeeded { output },
                Err(error) => Outcome::Failed { error },
            },
            events: std::mem::take(&mut *self.events.lock().expect("not poisoned")),
        }
    }

    fn record(&self, e: Event) {
        if let Some(o) = &self.observer {
            o(&e);
        }
        self.events.lock().expect("not poisoned").push(e);
    }

    fn elapsed_ms(&self) -> u64 {
        self.began.lock().expect("not poisoned").map_or(0, |b| {
            u64::try_from(b.elapsed().as_millis()).unwrap_or(u64::MAX)
        })
    }

    /// Runs one graph (the machine, a branch, an iteration) from `start`.
    fn graph<'a>(
        &'a self,
        scope: String,
        start: &'a str,
        states: &'a States,
        mut input: Value,
        context: Value,
    ) -> BoxFuture<'a, Flowed> {
        async move {
            let mut current = start.to_owned();
            loop {
                let node = states.get(&current).ok_or_else(|| {
                    Failure::runtime(format!("{scope}{current} is not a state of the graph"))
                })?;
                let path = format!("{scope}{current}");
                self.record(Event::Entered {
                    state: path.clone(),
                    at_ms: self.elapsed_ms(),
                });
                match self.state(&path, node, input.clone(), &context).await? {
                    Step::Next(next, output) => {
                        current = next;
                        input = output;
                    }
                    Step::End(output) => return Ok(output),
                }
            }
        }
        .boxed()
    }

    /// Runs one state: where to go next with what, or the error the graph fails with.
    async fn state(
        &self,
        path: &str,
        node: &StateNode,
        input: Value,
        context: &Value,
    ) -> Result<Step, Failure> {
        let then = |output: Value| match &node.flow {
            Flow::Next(n) => Step::Next(n.clone(), output),
            Flow::End => Step::End(output),
        };
        match &node.state {
            State::Task(t) => {
                let result = self.task(path, t, &input, context).await;
                self.conclude(
                    path,
                    &t.catch,
                    t.result_path.as_deref(),
                    &input,
                    result,
                    &node.flow,
                )
            }
            State::Choice(c) => {
                for rule in &c.choices {
                    if choice::holds(&rule.condition, &input, context)? {
                        return Ok(Step::Next(rule.next.clone(), input));
                    }
                }
                match &c.default {
                    Some(d) => Ok(Step::Next(d.clone(), input)),
                    None => Err(Failure::new(
                        "States.NoChoiceMatched",
                        format!("no rule of {path} matched and it has no Default"),
                    )),
                }
            }
            State::Wait { seconds } => {
                tokio::time::sleep(self.pace.sleep_for(f64::from(*seconds))).await;
                Ok(then(input))
            }
            State::Pass {
                result,
                parameters,
                result_path,
                ..
            } => {
                let value = match (result, parameters) {
                    (Some(r), _) => r.clone(),
                    (None, Some(p)) => paths::template(p, &input, context)?,
                    (None, None) => input.clone(),
                };
                Ok(then(paths::place(result_path.as_deref(), &input, value)?))
            }
            State::Succeed => Ok(Step::End(input)),
            State::Fail {
                error,
                cause_path,
                cause,
            } => {
                let cause = match (cause, cause_path) {
                    (Some(c), _) => c.clone(),
                    (None, Some(p)) => match paths::get(p, &input, context)? {
                        Value::String(s) => s,
                        other => other.to_string(),
                    },
                    (None, None) => String::new(),
                };
                Err(Failure::new(error, cause))
            }
            State::Parallel(p) => {
                let runs = p.branches.iter().enumerate().map(|(i, b)| {
                    self.graph(
                        format!("{path}/{i}/"),
                        &b.start_at,
                        &b.states,
                        input.clone(),
                        context.clone(),
                    )
                });
                let result = futures::future::try_join_all(runs).await.map(Value::from);
                self.conclude(
                    path,
                    &p.catch,
                    p.result_path.as_deref(),
                    &input,
                    result,
                    &node.flow,
                )
            }
            State::Map(m) => {
                let result = self.map(path, m, &input, context).await;
                self.conclude(
                    path,
                    &m.catch,
                    m.result_path.as_deref(),
                    &input,
                    result,
                    &node.flow,
                )
            }
        }
    }

    /// Where a task, parallel or map state leads: its result placed at its `ResultPath` and on
    /// to its `Next`, or its error to the first matching catcher's state.
    fn conclude(
        &self,
        path: &str,
        catchers: &[Catch],
        result_path: Option<&str>,
        input: &Value,
        result: Flowed,
        flow: &Flow,
    ) -> Result<Step, Failure> {
        let placed = result.and_then(|r| paths::place(result_path, input, r));
        Ok(match self.handled(path, catchers, input, placed)? {
            Ok(output) => match flow {
                Flow::Next(n) => Step::Next(n.clone(), output),
                Flow::End => Step::End(output),
            },
            Err((next, output)) => Step::Next(next, output),
        })
    }

    /// A state's result, or its error caught by the first matching catcher: `Ok(Ok(output))`
    /// to go on normally, `Ok(Err((next, input)))` to go on at a catcher's state.
    #[allow(
        clippy::type_complexity,
        reason = "a private three-way result, named in its doc"
    )]
    fn handled(
        &self,
        path: &str,
        catchers: &[Catch],
        input: &Value,
        result: Result<Value, Failure>,
    ) -> Result<Result<Value, (String, Value)>, Failure> {
        let error = match result {
            Ok(v) => return Ok(Ok(v)),
            Err(e) => e,
        };
        let Some(c) = catchers.iter().find(|c| error.matches(&c.error_equals)) else {
            return Err(error);
        };
        self.record(Event::Caught {
            state: path.to_owned(),
            error: error.clone(),
            next: c.next.clone(),
        });
        let object = serde_json::to_value(&error).map_err(|e| Failure::runtime(e.to_string()))?;
        Ok(Err((
            c.next.clone(),
            paths::place(Some(&c.result_path), input, object)?,
        )))
    }

    /// A task with its retries: the raw result shaped by `ResultSelector`.
    async fn task(&self, path: &str, t: &Task, input: &Value, context: &Value) -> Flowed {
        let target = t.target.as_ref().ok_or_else(|| {
            Failure::runtime(format!("{path} has no task target (a function or topic)"))
        })?;
        let parameters = match &t.parameters {
            Some(p) => paths::template(p, input, context)?,
            None => input.clone(),
        };
        let mut attempts: Vec<u32> = vec![0; t.retry.len()];
        loop {
            let call = self.tasks.call(target, &t.resource, parameters.clone());
            let outcome = match t.timeout_seconds {
                Some(s) => tokio::time::timeout(Duration::from_secs(u64::from(s)), call)
                    .await
                    .unwrap_or_else(|_| {
                        Err(Failure::new(
                            "States.Timeout",
                            format!("{path} ran longer than its {s} s"),
                        ))
                    }),
                None => call.await,
            };
            let error = match outcome {
                Ok(raw) => {
                    return match &t.result_selector {
                        Some(s) => paths::template(s, &raw, context),
                        None => Ok(raw),
                    };
                }
                Err(e) => e,
            };
            let Some(i) = t.retry.iter().position(|r| error.matches(&r.error_equals)) else {
                return Err(error);
            };
            let rule: &Retry = &t.retry[i];
            if attempts[i] >= rule.max_attempts {
                return Err(error);
            }
            let exponent = i32::try_from(attempts[i]).unwrap_or(i32::MAX);
            let mut seconds = f64::from(rule.interval_seconds) * rule.backoff_rate.powi(exponent);
            if let Some(cap) = rule.max_delay_seconds {
                seconds = seconds.min(f64::from(cap));
            }
            attempts[i] += 1;
            let delay = self.pace.sleep_for(seconds);
            self.record(Event::Retried {
                state: path.to_owned(),
                error,
                attempt: attempts[i],
                after_ms: u64::try_from(delay.as_millis()).unwrap_or(u64::MAX),
            });
            tokio::time::sleep(delay).await;
        }
    }

    /// A map state's results, in item order.
    async fn map(
        &self,
        path: &str,
        m: &irf_core::asl::MapState,
        input: &Value,
        context: &Value,
    ) -> Flowed {
        let items = match paths::get(&m.items_path, input, context)? {
            Value::Array(items) => items,
            other => {
                return Err(Failure::runtime(format!(
                    "{path}: ItemsPath {} is {other}, not an array",
                    m.items_path
                )));
            }
        };
        let limit = match m.max_concurrency {
            0 => items.len().max(1),
            n => usize::try_from(n).unwrap_or(usize::MAX),
        };
        let runs = items.into_iter().enumerate().map(|(i, item)| {
            // `$$.Map.Item` exists for the ItemSelector only, as in Step Functions.
            let mut selecting = context.clone();
            selecting["Map"] = json!({ "Item": { "Index": i, "Value": item.clone() } });
            let item_input = match &m.item_selector {
                Some(s) => paths::template(s, input, &selecting),
                None => Ok(item),
            };
            let p = &m.item_processor;
            let scope = format!("{path}/{i}/");
            async move {
                self.graph(scope, &p.start_at, &p.states, item_input?, context.clone())
                    .await
            }
        });
        futures::stream::iter(runs)
            .buffered(limit)
            .try_collect::<Vec<_>>()
            .await
            .map(Value::from)
    }
}

/// Where a state leads.
enum Step {
    Next(String, Value),
    End(Value),
}

#[cfg(test)]
mod tests;

//! Typed Amazon States Language.
//!
//! A [`StateMachine`] is emitted as a YAML mapping under `Definition` (which cfn-lint validates)
//! with ARNs as `${Placeholder}` strings resolved through `DefinitionSubstitutions`. Task states
//! name the placeholders they invoke, so the stack that owns the machine can derive both the
//! substitutions and the IAM statements of its role from the definition itself.
//! [`StateMachine::validate`] checks the graph (targets exist, every state is reachable, a
//! terminal state exists) before anything is emitted.

use std::collections::{BTreeSet, VecDeque};

use indexmap::IndexMap;
use serde::Serialize;
use serde_json::Value;

/// Error name a task raises for "not finished yet"; the workflows' polling actions turn it into
/// `Ready: false`, so it only reaches a caller that does not poll.
pub const ERROR_PENDING: &str = "Irf.Pending";
/// Error name a task raises for "failed for good" (caught, cleaned up, reported).
pub const ERROR_FATAL: &str = "Irf.Fatal";
/// Error name a task raises when AWS throttled it or a dependency was briefly unavailable.
pub const ERROR_RETRYABLE: &str = "Irf.Retryable";
/// Lambda service errors worth retrying (AWS's recommended set).
pub const LAMBDA_TRANSIENT: &[&str] = &[
    "Lambda.ServiceException",
    "Lambda.AWSLambdaException",
    "Lambda.SdkClientException",
    "Lambda.TooManyRequestsException",
];

/// A retry rule.
#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Retry {
    /// Error names the rule applies to (`States.ALL` for any).
    pub error_equals: Vec<String>,
    /// Seconds before the first retry.
    pub interval_seconds: u32,
    /// Most retries (0 disables the rule).
    pub max_attempts: u32,
    /// Factor the interval grows by after each retry.
    pub backoff_rate: f64,
    /// Longest interval in seconds, whatever the backoff.
    pub max_delay_seconds: Option<u32>,
}

impl Retry {
    /// Retries `errors` with exponential backoff.
    pub fn on(errors: &[&str], interval: u32, attempts: u32, backoff: f64) -> Self {
        Retry {
            error_equals: errors.iter().map(|e| (*e).to_owned()).collect(),
            interval_seconds: interval,
            max_attempts: attempts,
            backoff_rate: backoff,
            max_delay_seconds: None,
        }
    }

    /// Caps each interval.
    pub fn max_delay(mut self, seconds: u32) -> Self {
        self.max_delay_seconds = Some(seconds);
        self
    }

    /// Upper bound of the total wait of this rule, in seconds.
    pub fn budget_seconds(&self) -> u64 {
        let mut total = 0.0;
        let mut interval = f64::from(self.interval_seconds);
        let cap = self.max_delay_seconds.map_or(f64::INFINITY, f64::from);
        for _ in 0..self.max_attempts {
            total += interval.min(cap);
            interval *= self.backoff_rate;
        }
        // Whole seconds; the budget is reported, never used for timing.
        #[allow(
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            reason = "a sum of non-negative delays; `as` saturates, and no budget comes near u64::MAX seconds"
        )]
        let seconds = total.ceil() as u64;
        seconds
    }
}

/// A catch rule.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Catch {
    /// Error names caught (`States.ALL` for any).
    pub error_equals: Vec<String>,
    /// State the execution continues in.
    pub next: String,
    /// Where the error object goes in the state.
    pub result_path: String,
}

impl Catch {
    /// Catches every error into `result_path` and goes to `next`.
    pub fn all(next: &str, result_path: &str) -> Self {
        Catch {
            error_equals: vec!["States.ALL".to_owned()],
            next: next.to_owned(),
            result_path: result_path.to_owned(),
        }
    }
}

/// How a state continues.
#[derive(Clone, Debug, PartialEq)]
pub enum Flow {
    /// `Next: name`.
    Next(String),
    /// `End: true`.
    End,
}

/// A task state.
#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Task {
    /// What it does.
    pub comment: Option<String>,
    /// Integration ARN (`arn:aws:states:::lambda:invoke`, `arn:aws:states:::sns:publish`).
    pub resource: String,
    /// Integration parameters (JSONPath `.$` keys allowed).
    pub parameters: Option<Value>,
    /// Shapes the raw result.
    pub result_selector: Option<Value>,
    /// Where the result goes in the state's input (`null` discards it).
    pub result_path: Option<String>,
    /// Seconds before `States.Timeout`.
    pub timeout_seconds: Option<u32>,
    /// Retry rules, tried in order on an error.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub retry: Vec<Retry>,
    /// Catch rules, tried in order once the retries are spent.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub catch: Vec<Catch>,
    /// Placeholder of the invoked function or topic (not emitted).
    #[serde(skip)]
    pub target: Option<TaskTarget>,
}

/// What a task calls, for substitutions and IAM.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum TaskTarget {
    /// A Lambda function, by placeholder name.
    Lambda(String),
    /// An SNS topic, by placeholder name.
    Sns(String),
}

impl Task {
    /// Invokes the Lambda function behind `${placeholder}` with `payload`, placing the
    /// function's result at `result_path`. Lambda's transient service errors are retried.
    pub fn lambda(placeholder: &str, payload: Value, result_path: &str) -> Self {
        Task {
            comment: None,
            resource: "arn:aws:states:::lambda:invoke".to_owned(),
            parameters: Some(serde_json::json!({
                "FunctionName": format!("${{{placeholder}}}"),
                "Payload": payload,
            })),
            result_selector: Some(serde_json::json!({ "Result.$": "$.Payload" })),
            result_path: Some(result_path.to_owned()),
            timeout_seconds: Some(900),
            retry: vec![Retry::on(LAMBDA_TRANSIENT, 2, 6, 2.0)],
            catch: Vec::new(),
            target: Some(TaskTarget::Lambda(placeholder.to_owned())),
        }
    }

    /// Publishes `message` to the topic behind `${placeholder}`.
    pub fn sns_publish(placeholder: &str, subject: &str, message: Value) -> Self {
        Task {
            comment: None,
            resource: "arn:aws:states:::sns:publish".to_owned(),
            parameters: Some(serde_json::json!({
                "TopicArn": format!("${{{placeholder}}}"),
                "Subject": subject,
                "Message": message,
            })),
            result_selector: None,
            result_path: Some("null".to_owned()),
            timeout_seconds: Some(60),
            retry: vec![Retry::on(&["States.TaskFailed"], 2, 4, 2.0)],
            catch: Vec::new(),
            target: Some(TaskTarget::Sns(placeholder.to_owned())),
        }
    }

    /// Sets the comment.
    pub fn comment(mut self, c: &str) -> Self {
        self.comment = Some(c.to_owned());
        self
    }

    /// Adds a retry rule (evaluated after the transient-error rule).
    pub fn retry(mut self, r: Retry) -> Self {
        self.retry.push(r);
        self
    }

    /// Adds a catch rule.
    pub fn catch(mut self, c: Catch) -> Self {
        self.catch.push(c);
        self
    }

    /// Places the result at `path` (`"null"` discards it).
    pub fn result_path(mut self, path: &str) -> Self {
        self.result_path = Some(path.to_owned());
        self
    }
}

/// A choice rule: a condition (ASL comparison mapping) and where it leads.
#[derive(Clone, Debug, PartialEq)]
pub struct ChoiceRule {
    /// The condition, e.g. `{"Variable": "$.Done", "BooleanEquals": true}`.
    pub condition: Value,
    /// State entered when the condition holds.
    pub next: String,
}

/// A choice state.
#[derive(Clone, Debug, PartialEq)]
pub struct Choice {
    /// What it decides.
    pub comment: Option<String>,
    /// Rules in order.
    pub choices: Vec<ChoiceRule>,
    /// Where to go when no rule matches.
    pub default: Option<String>,
}

/// A nested state graph (a `Parallel` branch or a `Map` processor).
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Graph {
    /// Name of the state the graph starts at.
    pub start_at: String,
    /// States by name, in emission order.
    pub states: IndexMap<String, StateNode>,
}

/// A parallel state.
#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Parallel {
    /// What runs in parallel.
    pub comment: Option<String>,
    /// Graphs run at once; the state's result is the array of their outputs.
    pub branches: Vec<Graph>,
    /// Where the branch results go.
    pub result_path: Option<String>,
    /// Catch rules for an error any branch raises.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub catch: Vec<Catch>,
}

/// A map state over an array.
#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct MapState {
    /// What is iterated.
    pub comment: Option<String>,
    /// Array to iterate.
    pub items_path: String,
    /// Shape of each item's input.
    pub item_selector: Option<Value>,
    /// The per-item graph.
    pub item_processor: ItemProcessor,
    /// Most iterations run at once (0: no limit).
    pub max_concurrency: u32,
    /// Where the results go.
    pub result_path: Option<String>,
    /// Catch rules for an error any iteration raises.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub catch: Vec<Catch>,
}

/// The per-item graph of a map state.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ItemProcessor {
    /// `{Mode: INLINE}`.
    pub processor_config: Value,
    /// Name of the state each iteration starts at.
    pub start_at: String,
    /// States by name, in emission order.
    pub states: IndexMap<String, StateNode>,
}

/// One state of any type.
#[derive(Clone, Debug, PartialEq)]
pub enum State {
    /// Calls an integration (a Lambda function, an SNS topic).
    Task(Task),
    /// Goes to the state of the first matching rule.
    Choice(Choice),
    /// Wait a fixed time.
    Wait {
        /// Wait time in seconds.
        seconds: u32,
    },
    /// Parallel branches.
    Parallel(Parallel),
    /// Map over items.
    Map(MapState),
    /// Pass (optionally injecting a result or reshaping the input).
    Pass {
        /// What it does.
        comment: Option<String>,
        /// Fixed result.
        result: Option<Value>,
        /// Input reshaping (JSONPath `.$` keys allowed).
        parameters: Option<Value>,
        /// Where the result goes in the state's input.
        result_path: Option<String>,
    },
    /// Ends the execution or branch successfully.
    Succeed,
    /// Fail with an error name and a cause taken from the state.
    Fail {
        /// Error name the execution or branch fails with.
        error: String,
        /// JSONPath of the cause.
        cause_path: Option<String>,
        /// Fixed cause.
        cause: Option<String>,
    },
}

/// The states of a graph by name, in emission order.
pub type States = IndexMap<String, StateNode>;

/// A state with its continuation.
#[derive(Clone, Debug, PartialEq)]
pub struct StateNode {
    /// What the state does.
    pub state: State,
    /// `Next` or `End` (ignored for Choice, Succeed and Fail).
    pub flow: Flow,
}

impl Serialize for StateNode {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut v = match &self.state {
            State::Task(t) => {
                let mut v = to_object(t);
                v.insert("Type".into(), "Task".into());
                v
            }
            State::Parallel(p) => {
                let mut v = to_object(p);
                v.insert("Type".into(), "Parallel".into());
                v
            }
            State::Map(m) => {
                let mut v = to_object(m);
                v.insert("Type".into(), "Map".into());
                v
            }
            State::Choice(c) => {
                let mut v = serde_json::Map::new();
                v.insert("Type".into(), "Choice".into());
                if let Some(cm) = &c.comment {
                    v.insert("Comment".into(), cm.clone().into());
                }
                let rules: Vec<Value> = c
                    .choices
                    .iter()
                    .map(|r| {
                        let mut o = r.condition.as_object().cloned().unwrap_or_default();
                        o.insert("Next".into(), r.next.clone().into());
                        Value::Object(o)
                    })
                    .collect();
                v.insert("Choices".into(), rules.into());
                if let Some(d) = &c.default {
                    v.insert("Default".into(), d.clone().into());
                }
                v
            }
            State::Wait { seconds } => {
                let mut v = serde_json::Map::new();
                v.insert("Type".into(), "Wait".into());
                v.insert("Seconds".into(), (*seconds).into());
                v
            }
            State::Pass {
                comment,
                result,
                parameters,
                result_path,
            } => {
                let mut v = serde_json::Map::new();
                v.insert("Type".into(), "Pass".into());
                if let Some(c) = comment {
                    v.insert("Comment".into(), c.clone().into());
                }
                if let Some(r) = result {
                    v.insert("Result".into(), r.clone());
                }
                if let Some(p) = parameters {
                    v.insert("Parameters".into(), p.clone());
                }
                if let Some(p) = result_path {
                    v.insert("ResultPath".into(), p.clone().into());
                }
                v
            }
            State::Succeed => {
                let mut v = serde_json::Map::new();
                v.insert("Type".into(), "Succeed".into());
                v
            }
            State::Fail {
                error,
                cause_path,
                cause,
            } => {
                let mut v = serde_json::Map::new();
                v.insert("Type".into(), "Fail".into());
                v.insert("Error".into(), error.clone().into());
                if let Some(p) = cause_path {
                    v.insert("CausePath".into(), p.clone().into());
                }
                if let Some(c) = cause {
                    v.insert("Cause".into(), c.clone().into());
                }
                v
            }
        };
        if !matches!(
            self.state,
            State::Choice(_) | State::Succeed | State::Fail { .. }
        ) {
            match &self.flow {
                Flow::Next(n) => v.insert("Next".into(), n.clone().into()),
                Flow::End => v.insert("End".into(), true.into()),
            };
        }
        // `ResultPath: null` discards the result; the typed layer writes the string "null".
        if v.get("ResultPath").and_then(Value::as_str) == Some("null") {
            v.insert("ResultPath".into(), Value::Null);
        }
        ordered(v).serialize(s)
    }
}

fn to_object<T: Serialize>(t: &T) -> serde_json::Map<String, Value> {
    match serde_json::to_value(t) {
        Ok(Value::Object(m)) => m,
        _ => serde_json::Map::new(),
    }
}

/// Field order of an emitted state: type and comment first, flow last.
fn ordered(v: serde_json::Map<String, Value>) -> IndexMap<String, Value> {
    const ORDER: &[&str] = &[
        "Type",
        "Comment",
        "Resource",
        "ItemsPath",
        "ItemSelector",
        "MaxConcurrency",
        "ItemProcessor",
        "Branches",
        "Parameters",
        "ResultSelector",
        "ResultPath",
        "Result",
        "Seconds",
        "TimeoutSeconds",
        "Choices",
        "Default",
        "Error",
        "Cause",
        "CausePath",
        "Retry",
        "Catch",
        "Next",
        "End",
    ];
    let mut out = IndexMap::new();
    for k in ORDER {
        if let Some(x) = v.get(*k) {
            out.insert((*k).to_owned(), x.clone());
        }
    }
    for (k, x) in v {
        out.entry(k).or_insert(x);
    }
    out
}

/// A state machine definition.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct StateMachine {
    /// What the machine does.
    pub comment: String,
    /// Name of the state executions start at.
    pub start_at: String,
    /// Seconds before the whole execution fails with `States.Timeout`.
    pub timeout_seconds: u32,
    /// States by name, in emission order.
    pub states: IndexMap<String, StateNode>,
}

/// Builds a state graph in order.
#[derive(Clone, Debug, Default)]
pub struct GraphBuilder {
    states: IndexMap<String, StateNode>,
    start: Option<String>,
}

impl GraphBuilder {
    /// An empty graph.
    pub fn new() -> Self {
        GraphBuilder::default()
    }

    /// Adds a state (the first one added is `StartAt`).
    pub fn add(&mut self, name: &str, state: State, flow: Flow) -> &mut Self {
        assert!(
            !self.states.contains_key(name),
            "state {name} defined twice"
        );
        self.start.get_or_insert_with(|| name.to_owned());
        self.states
            .insert(name.to_owned(), StateNode { state, flow });
        self
    }

    /// Adds a state continuing to `next`.
    pub fn then(&mut self, name: &str, state: State, next: &str) -> &mut Self {
        self.add(name, state, Flow::Next(next.to_owned()))
    }

    /// Adds a terminal state (`End: true`).
    pub fn end(&mut self, name: &str, state: State) -> &mut Self {
        self.add(name, state, Flow::End)
    }

    /// The graph as a branch.
    pub fn graph(&self) -> Graph {
        Graph {
            start_at: self.start.clone().unwrap_or_default(),
            states: self.states.clone(),
        }
    }

    /// The graph as a map processor.
    pub fn processor(&self) -> ItemProcessor {
        ItemProcessor {
            processor_config: serde_json::json!({ "Mode": "INLINE" }),
            start_at: self.start.clone().unwrap_or_default(),
            states: self.states.clone(),
        }
    }

    /// The graph as a whole machine.
    pub fn machine(&self, comment: &str, timeout_seconds: u32) -> StateMachine {
        StateMachine {
            comment: comment.to_owned(),
            start_at: self.start.clone().unwrap_or_default(),
            timeout_seconds,
            states: self.states.clone(),
        }
    }
}

/// A structural problem in a definition.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("state machine: {0}")]
pub struct AslError(pub String);

impl StateMachine {
    /// The definition JSON with every `${Placeholder}` replaced by `resolve(placeholder)`, as
    /// CloudFormation's `DefinitionSubstitutions` does (tests and validators use this).
    pub fn resolved(&self, resolve: impl Fn(&str) -> String) -> String {
        let text = serde_json::to_string_pretty(self).expect("a state machine serializes");
        let mut out = String::with_capacity(text.len());
        let mut rest = text.as_str();
        while let Some(start) = rest.find("${") {
            let Some(len) = rest[start..].find('}') else {
                break;
            };
            out.push_str(&rest[..start]);
            out.push_str(&resolve(&rest[start + 2..start + len]));
            rest = &rest[start + len + 1..];
        }
        out.push_str(rest);
        out
    }

    /// Every task target in the machine, including nested graphs (sorted, deduplicated).
    pub fn targets(&self) -> BTreeSet<TaskTarget> {
        let mut out = BTreeSet::new();
        collect_targets(&self.states, &mut out);
        out
    }

    /// Checks the graph: `StartAt` and every `Next`/`Default`/`Catch` target exist, every state
    /// is reachable, and each graph can terminate.
    pub fn validate(&self) -> Result<(), Vec<AslError>> {
        let mut errors = Vec::new();
        check_graph("(top)", &self.start_at, &self.states, &mut errors);
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }
}

fn collect_targets(states: &IndexMap<String, StateNode>, out: &mut BTreeSet<TaskTarget>) {
    for node in states.values() {
        match &node.state {
            State::Task(t) => out.extend(t.target.clone()),
            State::Parallel(p) => p
                .branches
                .iter()
                .for_each(|b| collect_targets(&b.states, out)),
            State::Map(m) => collect_targets(&m.item_processor.states, out),
            _ => {}
        }
    }
}

fn successors(node: &StateNode) -> Vec<String> {
    let mut next = Vec::new();
    match &node.state {
        State::Choice(c) => {
            next.extend(c.choices.iter().map(|r| r.next.clone()));
            next.extend(c.default.clone());
        }
        State::Succeed | State::Fail { .. } => {}
        _ => {
            if let Flow::Next(n) = &node.flow {
                next.push(n.clone());
            }
        }
    }
    let catches = match &node.state {
        State::Task(t) => &t.catch,
        State::Parallel(p) => &p.catch,
        State::Map(m) => &m.catch,
        _ => return next,
    };
    next.extend(catches.iter().map(|c| c.next.clone()));
    next
}

fn is_terminal(node: &StateNode) -> bool {
    match &node.state {
        State::Succeed | State::Fail { .. } => true,
        State::Choice(_) => false,
        _ => node.flow == Flow::End,
    }
}

fn check_graph(
    scope: &str,
    start: &str,
    states: &IndexMap<String, StateNode>,
    errors: &mut Vec<AslError>,
) {
    let mut err = |m: String| errors.push(AslError(format!("{scope}: {m}")));
    if !states.contains_key(start) {
        err(format!("StartAt {start:?} is not a state"));
        return;
    }
    for (name, node) in states {
        for target in successors(node) {
            if !states.contains_key(&target) {
                err(format!("{name} goes to unknown state {target:?}"));
            }
        }
        if let State::Task(t) = &node.state
            && let Some(TaskTarget::Lambda(p)) = &t.target
            && p.is_empty()
        {
            err(format!("{name} invokes no function"));
        }
    }
    let mut seen = BTreeSet::new();
    let mut queue = VecDeque::from([start.to_owned()]);
    while let Some(s) = queue.pop_front() {
        if !seen.insert(s.clone()) {
            continue;
        }
        if let Some(node) = states.get(&s) {
            queue.extend(successors(node));
        }
    }
    for name in states.keys() {
        if !seen.contains(name) {
            err(format!("{name} is unreachable"));
        }
    }
    if !states.values().any(is_terminal) {
        err("no terminal state (End, Succeed or Fail)".to_owned());
    }
    let nested: Vec<(String, String, IndexMap<String, StateNode>)> = states
        .iter()
        .flat_map(|(name, node)| match &node.state {
            State::Parallel(p) => p
                .branches
                .iter()
                .enumerate()
                .map(|(i, b)| {
                    (
                        format!("{scope}/{name}[{i}]"),
                        b.start_at.clone(),
                        b.states.clone(),
                    )
                })
                .collect(),
            State::Map(m) => vec![(
                format!("{scope}/{name}"),
                m.item_processor.start_at.clone(),
                m.item_processor.states.clone(),
            )],
            _ => Vec::new(),
        })
        .collect();
    for (inner_scope, inner_start, inner_states) in nested {
        check_graph(&inner_scope, &inner_start, &inner_states, errors);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> GraphBuilder {
        let mut g = GraphBuilder::new();
        g.then(
            "Work",
            State::Task(
                Task::lambda("FnArn", serde_json::json!({"A.$": "$.a"}), "$.Work")
                    .catch(Catch::all("Failed", "$.Error")),
            ),
            "Done",
        )
        .end("Done", State::Succeed)
        .end(
            "Failed",
            State::Fail {
                error: "Irf.CaseFailed".into(),
                cause_path: Some("$.Error.Cause".into()),
                cause: None,
            },
        );
        g
    }

    #[test]
    fn valid_graph_and_targets() {
        let m = sample().machine("test", 60);
        m.validate().unwrap();
        assert_eq!(
            m.targets().into_iter().collect::<Vec<_>>(),
            [TaskTarget::Lambda("FnArn".into())]
        );
    }

    #[test]
    fn broken_graphs_are_reported() {
        let mut g = sample();
        g.then("Orphan", State::Wait { seconds: 1 }, "Nowhere");
        let errors = g.machine("t", 60).validate().unwrap_err();
        let text: Vec<String> = errors.iter().map(ToString::to_string).collect();
        assert!(
            text.iter()
                .any(|e| e.contains("Orphan goes to unknown state \"Nowhere\""))
        );
        assert!(text.iter().any(|e| e.contains("Orphan is unreachable")));
    }

    #[test]
    fn retry_budget() {
        let r = Retry::on(&[ERROR_PENDING], 10, 3, 2.0);
        assert_eq!(r.budget_seconds(), 70);
        assert_eq!(
            Retry::on(&[ERROR_PENDING], 10, 5, 2.0)
                .max_delay(30)
                .budget_seconds(),
            120
        );
    }
}

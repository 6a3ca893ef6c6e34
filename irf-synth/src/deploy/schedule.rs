//! One scheduler for a dependency graph, shared by deploy (dependencies first) and destroy (the
//! reversed graph: dependents first).
//!
//! Ready nodes run at the same time up to a limit; a node whose dependency failed (or was itself
//! skipped) is skipped while independent nodes go on; the result says how long the longest chain
//! run one after another was. Cycles and unknown dependencies are rejected when the graph is
//! built, before anything runs.

use std::future::Future;

use futures::stream::{FuturesUnordered, StreamExt};

/// Why a set of nodes is not a graph the scheduler can run.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum GraphError {
    /// Two nodes have the same name.
    #[error("{0} appears twice")]
    Duplicate(String),
    /// A node depends on a name that is not a node.
    #[error("{node} depends on {dependency}, which is not in the graph")]
    UnknownDependency {
        /// The node naming the dependency.
        node: String,
        /// The name that is not a node.
        dependency: String,
    },
    /// The dependencies go round: each node of the cycle, in dependency order, starting and
    /// ending with the same node.
    #[error("dependency cycle: {}", .0.join(" -> "))]
    Cycle(Vec<String>),
}

/// Nodes (each carrying a payload `N`) and what each depends on, checked to be acyclic.
#[derive(Clone, Debug)]
pub struct Graph<N> {
    nodes: Vec<N>,
    names: Vec<String>,
    /// Per node, the indices of the nodes it depends on, in the order they were given.
    deps: Vec<Vec<usize>>,
}

impl<N> Graph<N> {
    /// A graph of `(payload, name, names it depends on)`, in the order nodes are considered
    /// (and results reported).
    pub fn new(
        nodes: impl IntoIterator<Item = (N, String, Vec<String>)>,
    ) -> Result<Self, GraphError> {
        let mut payloads = Vec::new();
        let mut names: Vec<String> = Vec::new();
        let mut wanted = Vec::new();
        for (payload, name, depends_on) in nodes {
            if names.contains(&name) {
                return Err(GraphError::Duplicate(name));
            }
            payloads.push(payload);
            names.push(name);
            wanted.push(depends_on);
        }
        let mut deps = Vec::with_capacity(names.len());
        for (i, depends_on) in wanted.into_iter().enumerate() {
            let mut d = Vec::with_capacity(depends_on.len());
            for dependency in depends_on {
                match names.iter().position(|n| *n == dependency) {
                    Some(j) if d.contains(&j) => {}
                    Some(j) => d.push(j),
                    None => {
                        return Err(GraphError::UnknownDependency {
                            node: names[i].clone(),
                            dependency,
                        });
                    }
                }
            }
            deps.push(d);
        }
        let graph = Graph {
            nodes: payloads,
            names,
            deps,
        };
        graph.check_acyclic()?;
        Ok(graph)
    }

    /// The same nodes in reverse order, each depending on the nodes that depended on it (in their
    /// original order): destroy deletes a stack only after every stack that uses it is gone.
    pub fn reversed(self) -> Graph<N> {
        let n = self.names.len();
        let flip = |i: usize| n - 1 - i;
        let mut deps = vec![Vec::new(); n];
        for (i, d) in self.deps.iter().enumerate() {
            for &j in d {
                deps[flip(j)].push(flip(i));
            }
        }
        let mut nodes = self.nodes;
        nodes.reverse();
        let mut names = self.names;
        names.reverse();
        Graph { nodes, names, deps }
    }

    /// Number of nodes.
    pub fn len(&self) -> usize {
        self.names.len()
    }

    /// Whether the graph has no nodes.
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// Node names in order.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// Depth-first search; a node met again while still on the path closes a cycle.
    fn check_acyclic(&self) -> Result<(), GraphError> {
        #[derive(Clone, Copy, PartialEq)]
        enum Mark {
            New,
            OnPath,
            Done,
        }
        let mut mark = vec![Mark::New; self.len()];
        for root in 0..self.len() {
            if mark[root] != Mark::New {
                continue;
            }
            // (node, next dependency to look at)
            let mut path: Vec<(usize, usize)> = vec![(root, 0)];
            mark[root] = Mark::OnPath;
            while let Some((node, next)) = path.last_mut() {
                let node = *node;
                match self.deps[node].get(*next) {
                    Some(&d) => {
                        *next += 1;
                        match mark[d] {
                            Mark::New => {
                                mark[d] = Mark::OnPath;
                                path.push((d, 0));
                            }
                            Mark::OnPath => {
                                let start = path.iter().position(|(p, _)| *p == d).unwrap_or(0);
                                let mut cycle: Vec<String> = path[start..]
                                    .iter()
                                    .map(|(p, _)| self.names[*p].clone())
                                    .collect();
                                cycle.push(self.names[d].clone());
                                return Err(GraphError::Cycle(cycle));
                            }
                            Mark::Done => {}
                        }
                    }
                    None => {
                        mark[node] = Mark::Done;
                        path.pop();
                    }
                }
            }
        }
        Ok(())
    }
}

/// What became of one node.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NodeResult<T, E> {
    /// It ran and succeeded.
    Done(T),
    /// It ran and failed.
    Failed(E),
    /// It did not run because a node it depends on failed or was skipped.
    Skipped {
        /// That dependency (the first failed or skipped one, in the order they were given).
        because: String,
    },
}

/// The results of a run.
#[derive(Clone, Debug)]
pub struct Run<T, E> {
    /// Every node's result, in node order.
    pub results: Vec<(String, NodeResult<T, E>)>,
    /// The longest chain of nodes that ran one after another (0 when nothing ran).
    pub critical_path: usize,
}

/// Runs a graph: call [`Scheduler::run`] with what to do per node.
#[derive(Debug)]
pub struct Scheduler<'g, N, S> {
    graph: &'g Graph<N>,
    concurrency: usize,
    on_skip: S,
}

impl<'g, N> Scheduler<'g, N, fn(&N, &str)> {
    /// A scheduler running up to `concurrency` nodes at once (at least one).
    pub fn new(graph: &'g Graph<N>, concurrency: usize) -> Self {
        Scheduler {
            graph,
            concurrency: concurrency.max(1),
            on_skip: |_, _| {},
        }
    }
}

impl<'g, N, S> Scheduler<'g, N, S>
where
    S: FnMut(&N, &str),
{
    /// Calls `on_skip(node, because)` when a node is skipped, as soon as that is decided.
    pub fn on_skip<S2: FnMut(&N, &str)>(self, on_skip: S2) -> Scheduler<'g, N, S2> {
        Scheduler {
            graph: self.graph,
            concurrency: self.concurrency,
            on_skip,
        }
    }

    /// Runs every node once all its dependencies are done: `start(node, deps)` gets the node's
    /// payload and its dependencies' results (name and value) and returns the
    /// work to await. Nodes are considered in node order, so with a limit of one they run in that
    /// order.
    pub async fn run<T, E, F, Fut>(mut self, mut start: F) -> Run<T, E>
    where
        F: FnMut(&N, &[(&str, &T)]) -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        let g = self.graph;
        let mut results: Vec<Option<NodeResult<T, E>>> = (0..g.len()).map(|_| None).collect();
        let mut depth = vec![0usize; g.len()];
        let mut pending: Vec<usize> = (0..g.len()).collect();
        let mut running = FuturesUnordered::new();
        loop {
            let mut k = 0;
            while k < pending.len() {
                let i = pending[k];
                let blocker = g.deps[i].iter().copied().find(|&d| {
                    matches!(
                        results[d],
                        Some(NodeResult::Failed(_) | NodeResult::Skipped { .. })
                    )
                });
                if let Some(d) = blocker {
                    let because = g.names[d].clone();
                    (self.on_skip)(&g.nodes[i], &because);
                    results[i] = Some(NodeResult::Skipped { because });
                    pending.remove(k);
                    continue;
                }
                let ready = g.deps[i]
                    .iter()
                    .all(|&d| matches!(results[d], Some(NodeResult::Done(_))));
                if ready && running.len() < self.concurrency {
                    let done: Vec<(&str, &T)> = g.deps[i]
                        .iter()
                        .filter_map(|&d| match &results[d] {
                            Some(NodeResult::Done(t)) => Some((g.names[d].as_str(), t)),
                            _ => None,
                        })
                        .collect();
                    depth[i] = 1 + g.deps[i].iter().map(|&d| depth[d]).max().unwrap_or(0);
                    let work = start(&g.nodes[i], &done);
                    running.push(async move { (i, work.await) });
                    pending.remove(k);
                    continue;
                }
                k += 1;
            }
            let Some((i, r)) = running.next().await else {
                break;
            };
            results[i] = Some(match r {
                Ok(t) => NodeResult::Done(t),
                Err(e) => NodeResult::Failed(e),
            });
        }
        Run {
            results: g
                .names
                .iter()
                .cloned()
                .zip(results)
                .map(|(name, r)| {
                    // An acyclic graph settles every node: each one either ran or was skipped.
                    (name, r.expect("every node of an acyclic graph is settled"))
                })
                .collect(),
            critical_path: depth.into_iter().max().unwrap_or(0),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::{Arc, Mutex};
    use std::time::Duration;

    use super::*;

    /// A graph whose payloads are the node names.
    fn graph(nodes: &[(&str, &[&str])]) -> Result<Graph<String>, GraphError> {
        Graph::new(nodes.iter().map(|(n, d)| {
            (
                (*n).to_owned(),
                (*n).to_owned(),
                d.iter().map(|d| (*d).to_owned()).collect(),
            )
        }))
    }

    fn summary(run: &Run<(), String>) -> Vec<String> {
        run.results
            .iter()
            .map(|(n, r)| match r {
                NodeResult::Done(()) => format!("{n} done"),
                NodeResult::Failed(e) => format!("{n} failed: {e}"),
                NodeResult::Skipped { because } => format!("{n} skipped ({because})"),
            })
            .collect()
    }

    #[tokio::test]
    async fn dependents_of_a_failure_are_skipped_while_independent_nodes_go_on() {
        let g = graph(&[
            ("a", &[]),
            ("b", &["a"]),
            ("c", &["b"]),
            ("d", &[]),
            ("e", &["d"]),
            ("f", &["a", "e"]),
        ])
        .unwrap();
        let skipped = Mutex::new(Vec::new());
        let run = Scheduler::new(&g, 4)
            .on_skip(|n: &String, because: &str| {
                skipped.lock().unwrap().push(format!("{n}<-{because}"))
            })
            .run(|n, _| {
                let fail = n == "a";
                async move { if fail { Err("boom".to_owned()) } else { Ok(()) } }
            })
            .await;
        assert_eq!(
            summary(&run),
            [
                "a failed: boom",
                "b skipped (a)",
                "c skipped (b)",
                "d done",
                "e done",
                "f skipped (a)",
            ]
        );
        assert_eq!(*skipped.lock().unwrap(), ["b<-a", "c<-b", "f<-a"]);
    }

    #[test]
    fn a_cycle_is_rejected_naming_its_nodes() {
        let e = graph(&[("x", &[]), ("a", &["c"]), ("b", &["a", "x"]), ("c", &["b"])]).unwrap_err();
        assert_eq!(
            e,
            GraphError::Cycle(vec!["a".into(), "c".into(), "b".into(), "a".into()])
        );
        assert_eq!(e.to_string(), "dependency cycle: a -> c -> b -> a");
        assert_eq!(
            graph(&[("a", &["a"])]).unwrap_err().to_string(),
            "dependency cycle: a -> a"
        );
    }

    #[test]
    fn unknown_and_duplicate_nodes_are_rejected() {
        assert_eq!(
            graph(&[("a", &["nope"])]).unwrap_err().to_string(),
            "a depends on nope, which is not in the graph"
        );
        assert_eq!(
            graph(&[("a", &[]), ("a", &[])]).unwrap_err().to_string(),
            "a appears twice"
        );
    }

    #[tokio::test]
    async fn the_critical_path_is_the_longest_chain_that_ran() {
        // a -> {b, c} -> d, with e alone: a, b, d is the longest chain.
        let g = graph(&[
            ("a", &[]),
            ("b", &["a"]),
            ("c", &["a"]),
            ("d", &["b", "c"]),
            ("e", &[]),
        ])
        .unwrap();
        let run = Scheduler::new(&g, 8)
            .run(|_, _| async { Ok::<(), String>(()) })
            .await;
        assert_eq!(run.critical_path, 3);
        // A skipped node is not part of a chain that ran.
        let run = Scheduler::new(&g, 8)
            .run(|n, _| {
                let fail = n == "b";
                async move { if fail { Err("no".to_owned()) } else { Ok(()) } }
            })
            .await;
        assert_eq!(run.critical_path, 2);
        let empty = graph(&[]).unwrap();
        let run = Scheduler::new(&empty, 1)
            .run(|_, _| async { Ok::<(), String>(()) })
            .await;
        assert_eq!(run.critical_path, 0);
        assert!(run.results.is_empty());
    }

    #[tokio::test]
    async fn no_more_than_the_limit_run_at_once() {
        let nodes: Vec<(String, &[&str])> = (0..7).map(|i| (format!("n{i}"), &[][..])).collect();
        let refs: Vec<(&str, &[&str])> = nodes.iter().map(|(n, d)| (n.as_str(), *d)).collect();
        let g = graph(&refs).unwrap();
        for limit in [0, 1, 3] {
            let now = Arc::new(AtomicUsize::new(0));
            let max = Arc::new(AtomicUsize::new(0));
            let run = Scheduler::new(&g, limit)
                .run(|_, _| {
                    let (now, max) = (now.clone(), max.clone());
                    async move {
                        let n = now.fetch_add(1, Ordering::SeqCst) + 1;
                        max.fetch_max(n, Ordering::SeqCst);
                        tokio::time::sleep(Duration::from_millis(5)).await;
                        now.fetch_sub(1, Ordering::SeqCst);
                        Ok::<(), String>(())
                    }
                })
                .await;
            assert!(run.results.iter().all(|(_, r)| *r == NodeResult::Done(())));
            assert_eq!(max.load(Ordering::SeqCst), limit.max(1), "limit {limit}");
        }
    }

    #[tokio::test]
    async fn dependencies_are_passed_and_the_reversed_graph_runs_dependents_first() {
        // c uses b, b uses a.
        let g = graph(&[("a", &[]), ("b", &["a"]), ("c", &["b"]), ("d", &["a"])]).unwrap();
        let order = Mutex::new(Vec::new());
        let run = Scheduler::new(&g, 1)
            .run(|n, deps| {
                let seen: Vec<String> = deps.iter().map(|(d, v)| format!("{d}={v}")).collect();
                order
                    .lock()
                    .unwrap()
                    .push(format!("{n}[{}]", seen.join(",")));
                let n = n.clone();
                async move { Ok::<String, String>(n.to_uppercase()) }
            })
            .await;
        assert_eq!(
            *order.lock().unwrap(),
            ["a[]", "b[a=A]", "c[b=B]", "d[a=A]"]
        );
        assert_eq!(run.critical_path, 3);

        let reversed = g.reversed();
        assert_eq!(reversed.names(), ["d", "c", "b", "a"]);
        let order = Mutex::new(Vec::new());
        let run = Scheduler::new(&reversed, 1)
            .run(|n, _| {
                order.lock().unwrap().push(n.clone());
                async { Ok::<(), String>(()) }
            })
            .await;
        assert_eq!(*order.lock().unwrap(), ["d", "c", "b", "a"]);
        assert_eq!(run.critical_path, 3);

        // Destroy: a dependent that cannot be deleted keeps what it uses, and only that.
        let run = Scheduler::new(&reversed, 4)
            .run(|n, _| {
                let fail = n == "c";
                async move {
                    if fail {
                        Err("in use".to_owned())
                    } else {
                        Ok(())
                    }
                }
            })
            .await;
        assert_eq!(
            summary(&run),
            [
                "d done",
                "c failed: in use",
                "b skipped (c)",
                "a skipped (b)"
            ]
        );
    }
}

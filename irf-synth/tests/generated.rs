//! `generated/` is the synth output of `examples/org.toml`, committed so reviews see every
//! template change; each template is also an insta snapshot of the exact emitted string.

use std::path::{Path, PathBuf};

use irf_synth::Synthesis;

const REFRESH: &str =
    "cargo run -p irf-synth -- synth --org-config examples/org.toml --out generated";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn example() -> Synthesis {
    let fw = irf_core::config::load(&root().join("examples/org.toml")).expect("example is valid");
    irf_synth::synthesize(&fw).expect("example synthesizes")
}

#[test]
fn generated_dir_is_current() {
    let s = example();
    let dir = root().join("generated");
    let mut stale = Vec::new();
    let mut expected: Vec<(String, String)> = s
        .templates
        .iter()
        .map(|t| (t.path.clone(), t.yaml.clone()))
        .collect();
    expected.push(("plan.json".to_owned(), s.plan_json()));
    for (path, content) in &expected {
        match std::fs::read_to_string(dir.join(path)) {
            Ok(on_disk) if on_disk == *content => {}
            Ok(_) => stale.push(format!("{path} differs")),
            Err(_) => stale.push(format!("{path} is missing")),
        }
    }
    let listed: Vec<String> = std::fs::read_dir(dir.join("templates"))
        .map(|rd| {
            rd.filter_map(Result::ok)
                .map(|e| format!("templates/{}", e.file_name().to_string_lossy()))
                .collect()
        })
        .unwrap_or_default();
    for path in listed {
        if !expected.iter().any(|(p, _)| *p == path) {
            stale.push(format!("{path} is no longer synthesized"));
        }
    }
    assert!(
        stale.is_empty(),
        "generated/ is stale ({}); refresh it with:\n    {REFRESH}",
        stale.join(", ")
    );
}

#[test]
fn one_snapshot_per_template() {
    let s = example();
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(Path::new("snapshots"));
    settings.set_prepend_module_to_snapshot(false);
    settings.bind(|| {
        for t in &s.templates {
            insta::assert_snapshot!(t.kind.slug(), &t.yaml);
        }
        insta::assert_snapshot!("plan", s.plan_json());
    });
}

/// Every function's environment is its handler's: `IRF_HANDLER` names a handler, and every
/// other `IRF_*` variable is one of that handler's (`irf_core::env`), so a handler never misses
/// a variable a template meant for it.
#[test]
fn every_function_gets_its_handlers_variables() {
    use irf_core::cfn::Expr;
    use irf_core::cfn::resources::lambda;
    use irf_core::env::{keys, keys_of};
    use irf_core::handler::Handler;

    let s = example();
    let mut functions = 0;
    for t in &s.templates {
        for (id, f) in t.template.resources_of::<lambda::Function>() {
            let vars = &f
                .environment
                .as_ref()
                .expect("every function has variables")
                .variables;
            let handler: Handler = match vars.get(keys::HANDLER) {
                Some(Expr::Str(name)) => name.parse().unwrap(),
                other => panic!("{}: {id} has {} = {other:?}", t.path, keys::HANDLER),
            };
            for key in vars.keys().filter(|k| k.starts_with("IRF_")) {
                assert!(
                    [keys::HANDLER, keys::PARTITION].contains(&key.as_str())
                        || keys_of(handler).contains(&key.as_str()),
                    "{}: {id} ({handler}) sets {key}, which its handler does not read",
                    t.path
                );
            }
            functions += 1;
        }
    }
    assert!(functions >= Handler::ALL.len(), "{functions} functions");
}

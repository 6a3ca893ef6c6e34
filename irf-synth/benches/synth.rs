//! Synthesis throughput: the reference organization and a 1,000-member organization, from the
//! org.toml text to templates and plan (parse, validate, build, emit, YAML 1.1 guard, plan).

use std::hint::black_box;
use std::path::Path;

use criterion::{Criterion, criterion_group, criterion_main};
use irf_synth::fixtures::{EXAMPLE_ORG, large_org};

fn synth(text: &str) -> usize {
    let fw = irf_core::config::parse(Path::new("org.toml"), text).expect("valid");
    irf_synth::synthesize(&fw)
        .expect("synthesizes")
        .plan
        .stacks
        .len()
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("synth");
    g.sample_size(20);
    g.bench_function("example-org", |b| b.iter(|| synth(black_box(EXAMPLE_ORG))));
    let large = large_org(1000);
    g.bench_function("1000-members", |b| b.iter(|| synth(black_box(&large))));
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);

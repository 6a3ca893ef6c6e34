//! Reference organizations for tests, benchmarks and the demo.

/// The reference organization (`examples/org.toml`).
pub const EXAMPLE_ORG: &str = include_str!("../../examples/org.toml");

/// The reference organization with its members replaced by `n` member accounts, each in two
/// regions (for scale tests and benchmarks).
pub fn large_org(n: usize) -> String {
    let head = &EXAMPLE_ORG[..EXAMPLE_ORG
        .find("[[members]]")
        .expect("example has members")];
    let tail = &EXAMPLE_ORG[EXAMPLE_ORG
        .find("[network]")
        .expect("example has [network]")..];
    let mut members = String::new();
    for i in 0..n {
        members.push_str(&format!(
            "[[members]]\nname = \"m{i}\"\naccount_id = \"{:012}\"\nregions = [\"us-east-1\", \"eu-west-1\"]\n\n",
            600_000_000_000u64 + i as u64
        ));
    }
    format!("{head}{members}{tail}")
}

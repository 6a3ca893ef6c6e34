//! The commented starter file written by `irf-synth init`.

/// A complete, valid `org.toml` documenting every key, its default and its constraints.
/// Replace the account ids, organization id and secret ARN with your own.
pub const STARTER_ORG_TOML: &str = include_str!("starter.toml");

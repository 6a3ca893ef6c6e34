//! "Did you mean" suggestions for misspelt keys and values.

/// The candidate closest to `input`, if it is close enough to be a plausible typo.
pub(crate) fn closest<'a>(
    input: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let input = input.to_ascii_lowercase();
    candidates
        .into_iter()
        .map(|c| {
            (
                strsim::damerau_levenshtein(&input, &c.to_ascii_lowercase()),
                c,
            )
        })
        .filter(|(d, c)| *d <= (c.len() / 3).max(2))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::closest;

    #[test]
    fn suggests_near_misses_only() {
        assert_eq!(
            closest("regoins", ["name", "regions", "ou"]),
            Some("regions")
        );
        assert_eq!(
            closest("us-east1", ["us-east-1", "eu-west-1"]),
            Some("us-east-1")
        );
        assert_eq!(closest("banana", ["governance", "compliance"]), None);
    }
}

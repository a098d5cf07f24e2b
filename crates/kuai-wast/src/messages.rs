//! Comparing Kuai's error texts with the texts a script expects.
//!
//! Like wasmtime's runner, a message matches when Kuai's text contains the expected
//! one (Kuai's texts carry extra context such as the stage, the import name or the byte
//! offset). The spec suite sometimes appends details to a trap message (for example
//! `"uninitialized element 2"`), so an expected text that starts with Kuai's whole text
//! also matches.

/// Whether Kuai's `actual` error text satisfies the script's `expected` text.
pub(crate) fn message_matches(actual: &str, expected: &str) -> bool {
    actual.contains(expected) || (!actual.is_empty() && expected.starts_with(actual))
}

#[cfg(test)]
mod tests {
    use super::message_matches;

    #[test]
    fn contains_and_prefix() {
        assert!(message_matches("unknown import: `env::f` has not been defined", "unknown import"));
        assert!(message_matches("uninitialized element", "uninitialized element 2"));
        assert!(message_matches("uninitialized element", "uninitialized"));
        assert!(!message_matches("integer overflow", "integer divide by zero"));
        assert!(!message_matches("", "unreachable"));
        assert!(message_matches("anything", ""));
    }
}

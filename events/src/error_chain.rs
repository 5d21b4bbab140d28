//! Walking an error's causes: once, here, for every question asked of a chain (is a driver
//! error in it? what does it say on one line?).

use std::error::Error;

/// The error and its causes, outermost first.
pub fn chain<'a>(error: &'a (dyn Error + 'static)) -> impl Iterator<Item = &'a (dyn Error + 'static)> {
    let mut next = Some(error);
    std::iter::from_fn(move || {
        let current = next?;
        next = current.source();
        Some(current)
    })
}

/// The first error of type `T` in the chain.
pub fn find_cause<'a, T: Error + 'static>(error: &'a (dyn Error + 'static)) -> Option<&'a T> {
    chain(error).find_map(|cause| cause.downcast_ref::<T>())
}

/// The error and its causes on one line, `: `-separated.
pub fn one_line(error: &dyn Error) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(inner) = cause {
        text.push_str(": ");
        text.push_str(&inner.to_string());
        cause = inner.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("outer")]
    struct Outer(#[source] Inner);

    #[derive(Debug, thiserror::Error)]
    #[error("inner {0}")]
    struct Inner(u32);

    #[test]
    fn a_cause_is_found_however_deep_and_the_chain_reads_on_one_line() {
        let error = Outer(Inner(7));
        assert_eq!(find_cause::<Inner>(&error).map(|inner| inner.0), Some(7));
        assert!(find_cause::<std::io::Error>(&error).is_none());
        assert_eq!(chain(&error).count(), 2);
        assert_eq!(one_line(&error), "outer: inner 7");
    }
}

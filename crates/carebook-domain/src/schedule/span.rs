//! Half-open time spans `[start, end)` between instants.

use jiff::{SignedDuration, Timestamp};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Span {
    pub start: Timestamp,
    pub end: Timestamp,
}

impl Span {
    /// A span, or `None` when it would be empty or reversed.
    pub fn new(start: Timestamp, end: Timestamp) -> Option<Span> {
        (start < end).then_some(Span { start, end })
    }

    pub fn overlaps(&self, other: &Span) -> bool {
        self.start < other.end && other.start < self.end
    }

    pub fn contains(&self, other: &Span) -> bool {
        self.start <= other.start && other.end <= self.end
    }

    pub fn duration(&self) -> SignedDuration {
        self.end.duration_since(self.start)
    }
}

/// Sorts spans and joins those that overlap or touch.
pub fn merge(mut spans: Vec<Span>) -> Vec<Span> {
    spans.sort();
    let mut out: Vec<Span> = Vec::with_capacity(spans.len());
    for s in spans {
        match out.last_mut() {
            Some(last) if s.start <= last.end => last.end = last.end.max(s.end),
            _ => out.push(s),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: i64) -> Timestamp {
        Timestamp::from_second(s).unwrap()
    }

    #[test]
    fn overlap_is_half_open() {
        let a = Span::new(t(0), t(10)).unwrap();
        let b = Span::new(t(10), t(20)).unwrap();
        assert!(!a.overlaps(&b), "touching spans do not overlap");
        assert!(a.overlaps(&Span::new(t(9), t(11)).unwrap()));
        assert!(Span::new(t(5), t(5)).is_none());
    }

    #[test]
    fn merge_joins_touching_and_overlapping() {
        let s = |a, b| Span::new(t(a), t(b)).unwrap();
        assert_eq!(
            merge(vec![s(10, 20), s(0, 10), s(30, 40), s(35, 50)]),
            vec![s(0, 20), s(30, 50)]
        );
    }
}

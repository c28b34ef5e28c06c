//! The changed lines between two small texts (config files), for `configure` to print.
//!
//! A longest-common-subsequence walk over lines, after trimming the common head and tail. Written
//! here rather than taken from a diff crate: the one we used added 0.6 MB to every helper binary
//! (one generic Myers implementation per element type) to diff files of a few dozen lines.

/// A line that only one side has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change<'a> {
    /// Only in the old text.
    Removed(&'a str),
    /// Only in the new text.
    Added(&'a str),
}

/// Above this many cells the table would be large: the texts are then shown as replaced whole.
const MAX_CELLS: usize = 4_000_000;

/// The removed and added lines, in order (within a changed stretch, removals first).
pub fn changes<'a>(before: &'a str, after: &'a str) -> Vec<Change<'a>> {
    let a: Vec<&str> = before.lines().collect();
    let b: Vec<&str> = after.lines().collect();
    let head = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let tail = a[head..]
        .iter()
        .rev()
        .zip(b[head..].iter().rev())
        .take_while(|(x, y)| x == y)
        .count();
    let (a, b) = (&a[head..a.len() - tail], &b[head..b.len() - tail]);
    let (n, m) = (a.len(), b.len());
    if n.saturating_mul(m) > MAX_CELLS {
        return a
            .iter()
            .map(|l| Change::Removed(l))
            .chain(b.iter().map(|l| Change::Added(l)))
            .collect();
    }
    // lcs[i * (m + 1) + j]: the length of the longest common subsequence of a[i..] and b[j..].
    let mut lcs = vec![0u32; (n + 1) * (m + 1)];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            lcs[i * (m + 1) + j] = if a[i] == b[j] {
                lcs[(i + 1) * (m + 1) + j + 1] + 1
            } else {
                lcs[(i + 1) * (m + 1) + j].max(lcs[i * (m + 1) + j + 1])
            };
        }
    }
    let mut out = Vec::new();
    let (mut i, mut j) = (0, 0);
    while i < n || j < m {
        if i < n && j < m && a[i] == b[j] {
            i += 1;
            j += 1;
        } else if j == m || (i < n && lcs[(i + 1) * (m + 1) + j] >= lcs[i * (m + 1) + j + 1]) {
            out.push(Change::Removed(a[i]));
            i += 1;
        } else {
            out.push(Change::Added(b[j]));
            j += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use Change::{Added, Removed};

    #[test]
    fn only_what_changed_in_order() {
        assert_eq!(changes("a\nb\nc\n", "a\nb\nc\n"), vec![]);
        assert_eq!(
            changes("a\nb\nc", "a\nx\nc"),
            vec![Removed("b"), Added("x")]
        );
        assert_eq!(changes("", "{\n}\n"), vec![Added("{"), Added("}")]);
        assert_eq!(
            changes("{\n  \"a\": 1\n}", "{\n  \"a\": 1,\n  \"b\": 2\n}"),
            vec![
                Removed("  \"a\": 1"),
                Added("  \"a\": 1,"),
                Added("  \"b\": 2")
            ]
        );
        assert_eq!(
            changes("k\nx\ny\nk\nz", "k\ny\nk\nz\nw"),
            vec![Removed("x"), Added("w")]
        );
    }

    #[test]
    fn huge_texts_are_replaced_whole() {
        let a: String = (0..3000).map(|i| format!("a{i}\n")).collect();
        let b: String = (0..3000).map(|i| format!("b{i}\n")).collect();
        let c = changes(&a, &b);
        assert_eq!(c.len(), 6000);
        assert_eq!(c[0], Removed("a0"));
        assert_eq!(c[3000], Added("b0"));
    }
}

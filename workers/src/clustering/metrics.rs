//! Agreement between two clusterings of the same items.

use std::collections::HashMap;

/// The adjusted Rand index (Hubert & Arabie) between two labellings of the same items: 1 for
/// identical partitions (whatever the label numbers), about 0 for a random one, negative when
/// worse than chance. Two partitions that are both trivial (one cluster, or all singletons)
/// and equal score 1, as in scikit-learn.
///
/// # Panics
/// When `a` and `b` have different lengths.
pub fn adjusted_rand_index(a: &[usize], b: &[usize]) -> f64 {
    assert_eq!(a.len(), b.len(), "both labellings must cover the same items");
    let n = a.len();
    if n < 2 {
        return 1.0;
    }
    let mut cells: HashMap<(usize, usize), u64> = HashMap::new();
    let mut rows: HashMap<usize, u64> = HashMap::new();
    let mut columns: HashMap<usize, u64> = HashMap::new();
    for (&x, &y) in a.iter().zip(b) {
        *cells.entry((x, y)).or_default() += 1;
        *rows.entry(x).or_default() += 1;
        *columns.entry(y).or_default() += 1;
    }
    let pairs = |count: &u64| (count * count.saturating_sub(1) / 2) as f64;
    let index: f64 = cells.values().map(pairs).sum();
    let sum_rows: f64 = rows.values().map(pairs).sum();
    let sum_columns: f64 = columns.values().map(pairs).sum();
    let expected = sum_rows * sum_columns / pairs(&(n as u64));
    let max = (sum_rows + sum_columns) / 2.0;
    if max == expected {
        // Both partitions trivial: they agree exactly.
        return 1.0;
    }
    (index - expected) / (max - expected)
}

#[cfg(test)]
mod tests {
    use super::adjusted_rand_index;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    #[test]
    fn identical_partitions_score_one_whatever_the_label_numbers() {
        assert!(close(adjusted_rand_index(&[0, 0, 1, 1], &[0, 0, 1, 1]), 1.0));
        assert!(close(adjusted_rand_index(&[0, 0, 1, 1], &[5, 5, 3, 3]), 1.0));
    }

    #[test]
    fn known_values() {
        // Values scikit-learn's documentation gives for the same inputs.
        assert!(close(adjusted_rand_index(&[0, 0, 1, 2], &[0, 0, 1, 1]), 4.0 / 7.0));
        assert!(close(adjusted_rand_index(&[0, 0, 1, 1], &[0, 0, 1, 2]), 4.0 / 7.0));
        assert!(close(adjusted_rand_index(&[0, 0, 0, 0], &[0, 1, 2, 3]), 0.0));
        assert!(close(adjusted_rand_index(&[0, 0, 1, 1], &[0, 1, 0, 1]), -0.5));
    }

    #[test]
    fn trivial_partitions() {
        assert!(close(adjusted_rand_index(&[], &[]), 1.0));
        assert!(close(adjusted_rand_index(&[3, 3, 3], &[1, 1, 1]), 1.0));
        assert!(close(adjusted_rand_index(&[0, 1, 2], &[2, 0, 1]), 1.0));
    }
}

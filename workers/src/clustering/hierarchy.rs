//! Agglomerative clustering of a bounded sample, giving every cut (every k) at once: the
//! nearest-neighbour-chain algorithm over a full distance matrix, O(m²) memory and time for
//! `m` points. Distances are squared Euclidean between unit vectors (2 - 2 cos), merged with
//! Ward's criterion, which favours compact clusters of similar size (what k-means refines).

/// One merge: the two slots joined (the merged cluster keeps the smaller slot) and its height.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Merge {
    a: usize,
    b: usize,
    height: f32,
}

/// The merges of the `m` points whose row-major similarity matrix is `similarities`, lowest
/// first.
pub(crate) fn dendrogram(similarities: &[f32], m: usize) -> Vec<Merge> {
    let mut distance: Vec<f32> = similarities.iter().map(|s| (2.0 - 2.0 * s).max(0.0)).collect();
    let mut size = vec![1usize; m];
    let mut active = vec![true; m];
    let mut merges = Vec::with_capacity(m.saturating_sub(1));
    let mut chain: Vec<usize> = Vec::new();
    while merges.len() + 1 < m {
        let a = match chain.last() {
            Some(&a) => a,
            None => {
                let Some(first) = active.iter().position(|&x| x) else { break };
                chain.push(first);
                first
            }
        };
        let previous = chain.len().checked_sub(2).map(|p| chain[p]);
        // The previous link wins ties, which guarantees the chain ends in a reciprocal pair.
        let mut best = previous;
        let mut best_distance = previous.map_or(f32::INFINITY, |p| distance[a * m + p]);
        for x in (0..m).filter(|&x| active[x] && x != a) {
            if distance[a * m + x] < best_distance {
                best = Some(x);
                best_distance = distance[a * m + x];
            }
        }
        let Some(b) = best else { break };
        if Some(b) != previous {
            chain.push(b);
            continue;
        }
        chain.truncate(chain.len() - 2);
        let (keep, gone) = (a.min(b), a.max(b));
        let (size_a, size_b) = (size[a] as f32, size[b] as f32);
        for x in (0..m).filter(|&x| active[x] && x != a && x != b) {
            let size_x = size[x] as f32;
            // Lance–Williams update for Ward's method.
            let merged = ((size_a + size_x) * distance[a * m + x] + (size_b + size_x) * distance[b * m + x]
                - size_x * best_distance)
                / (size_a + size_b + size_x);
            distance[keep * m + x] = merged;
            distance[x * m + keep] = merged;
        }
        size[keep] += size[gone];
        active[gone] = false;
        merges.push(Merge { a: keep, b: gone, height: best_distance });
    }
    // Stable: equal heights keep the order they were found in, which respects dependencies.
    merges.sort_by(|x, y| x.height.total_cmp(&y.height));
    merges
}

/// Labels `0..k` (numbered by first point) from applying all but the last `k - 1` merges.
pub(crate) fn cut(merges: &[Merge], m: usize, k: usize) -> Vec<usize> {
    let mut parent: Vec<usize> = (0..m).collect();
    fn root(parent: &mut [usize], mut x: usize) -> usize {
        while parent[x] != x {
            parent[x] = parent[parent[x]];
            x = parent[x];
        }
        x
    }
    for merge in merges.iter().take(m.saturating_sub(k)) {
        let (ra, rb) = (root(&mut parent, merge.a), root(&mut parent, merge.b));
        parent[ra.max(rb)] = ra.min(rb);
    }
    let mut numbering = vec![usize::MAX; m];
    let mut next = 0;
    (0..m)
        .map(|x| {
            let r = root(&mut parent, x);
            if numbering[r] == usize::MAX {
                numbering[r] = next;
                next += 1;
            }
            numbering[r]
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_pairs_and_a_loner() {
        // Points 0,1 close; 2,3 close; 4 far from all.
        let s = [
            [1.0, 0.95, 0.1, 0.1, 0.0],
            [0.95, 1.0, 0.1, 0.1, 0.0],
            [0.1, 0.1, 1.0, 0.9, 0.0],
            [0.1, 0.1, 0.9, 1.0, 0.0],
            [0.0, 0.0, 0.0, 0.0, 1.0],
        ];
        let flat: Vec<f32> = s.iter().flatten().copied().collect();
        let merges = dendrogram(&flat, 5);
        assert_eq!(merges.len(), 4);
        assert_eq!(cut(&merges, 5, 3), [0, 0, 1, 1, 2]);
        assert_eq!(cut(&merges, 5, 5), [0, 1, 2, 3, 4]);
        assert_eq!(cut(&merges, 5, 1), [0, 0, 0, 0, 0]);
    }
}

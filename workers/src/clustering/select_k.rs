//! Choosing the number of clusters when the caller does not: every cut of the sample's Ward
//! hierarchy from k = 2 up to a mean of 8 points per cluster (150 at most) is scored by its
//! silhouette (how much closer each point is to its own cluster than to the next best one, from
//! one similarity matrix of the sample); the best-scoring k wins, the smaller on a tie.

use rayon::prelude::*;

use super::hierarchy::{Merge, cut};
use super::kmeans::SplitMix64;
use super::vectors::Points;

/// Points the choice looks at: the similarity matrix is `SAMPLE²` floats (16 MiB).
const SAMPLE: usize = 2000;
/// Smallest mean cluster size (in the sample) a candidate may imply. Sparse lexical vectors
/// score ever better silhouettes as k grows towards groups of near-duplicates; below 8 per
/// cluster that rise beats the real peak (on the labelled set: k = 110 instead of 21).
const MIN_MEAN_SIZE: usize = 8;
/// Small sets (a few dozen keywords) still get up to this many clusters, at a mean of 3 or
/// more per cluster: at 8 per cluster, 15 keywords could only ever make 2 clusters.
const SMALL_SET_K: usize = 12;
/// Upper bound on candidates, to bound the time.
const MAX_K: usize = 150;
const SEED: u64 = 0x6b5f_7377_6565_7021;

/// The number of clusters for the sample whose similarities are `similarities` (`m` × `m`)
/// and whose hierarchy is `merges`: the cut with the best silhouette.
pub(crate) fn choose_k(similarities: &[f32], m: usize, merges: &[Merge]) -> usize {
    if m < 3 {
        return m;
    }
    let max_k = (m / MIN_MEAN_SIZE).max((m / 3).min(SMALL_SET_K)).clamp(2, MAX_K);
    let scores: Vec<(usize, f64)> = candidates(max_k)
        .into_par_iter()
        .map(|k| (k, silhouette(similarities, m, &cut(merges, m, k), k)))
        .collect();
    scores
        .iter()
        .fold((1, f64::NEG_INFINITY), |best, &(k, score)| if score > best.1 { (k, score) } else { best })
        .0
}

/// Every k up to 40, then steps of about 8%: finer where keyword sets usually fall.
fn candidates(max_k: usize) -> Vec<usize> {
    let mut ks = Vec::new();
    let mut k = 2;
    while k <= max_k {
        ks.push(k);
        k = if k < 40 { k + 1 } else { k + k / 12 };
    }
    ks
}

/// All points when few, else a seeded random sample, in index order.
pub(crate) fn sample_ids(n: usize) -> Vec<usize> {
    let mut ids: Vec<usize> = (0..n).collect();
    if n > SAMPLE {
        let mut rng = SplitMix64(SEED);
        for i in 0..SAMPLE {
            let j = i + rng.below(n - i);
            ids.swap(i, j);
        }
        ids.truncate(SAMPLE);
        ids.sort_unstable();
    }
    ids
}

/// Row-major cosine similarities between the sample points.
pub(crate) fn similarity_matrix(points: &Points, sample: &[usize], dimension: usize) -> Vec<f32> {
    sample
        .par_iter()
        .flat_map_iter(|&i| {
            let row = points.to_dense(i, dimension);
            sample.iter().map(move |&j| points.dot(j, &row)).collect::<Vec<_>>()
        })
        .collect()
}

/// Mean silhouette with cosine distance; points alone in their cluster count 0.
fn silhouette(similarities: &[f32], m: usize, labels: &[usize], k: usize) -> f64 {
    let mut sizes = vec![0usize; k];
    for &label in labels {
        sizes[label] += 1;
    }
    // Collected, then summed in order: a parallel sum would vary with the thread split.
    let per_point: Vec<f64> = (0..m)
        .into_par_iter()
        .map_init(
            || vec![0.0f64; k],
            |sums, i| {
                sums.iter_mut().for_each(|s| *s = 0.0);
                let row = &similarities[i * m..(i + 1) * m];
                for (j, &s) in row.iter().enumerate() {
                    if j != i {
                        sums[labels[j]] += f64::from(1.0 - s);
                    }
                }
                let own = labels[i];
                if sizes[own] < 2 {
                    return 0.0;
                }
                let a = sums[own] / (sizes[own] - 1) as f64;
                let b = (0..k)
                    .filter(|&c| c != own && sizes[c] > 0)
                    .map(|c| sums[c] / sizes[c] as f64)
                    .fold(f64::INFINITY, f64::min);
                if b.is_finite() && a.max(b) > 0.0 { (b - a) / a.max(b) } else { 0.0 }
            },
        )
        .collect();
    per_point.iter().sum::<f64>() / m as f64
}

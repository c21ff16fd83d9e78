//! Choosing the number of clusters when the caller does not: k-means for each candidate `k` on
//! a bounded sample, scored by the silhouette of that sample (how much closer each point is to
//! its own cluster than to the next best one), computed from one similarity matrix of the
//! sample shared by every candidate. The best-scoring `k` wins; the smaller on a tie.

use rayon::prelude::*;

use super::kmeans::{SplitMix64, kmeans};
use super::vectors::Points;

/// Points the choice looks at: the similarity matrix is `SAMPLE²` floats (4 MiB).
const SAMPLE: usize = 1000;
/// Smallest mean cluster size a candidate may imply: keyword groups of one or two are noise.
const MIN_MEAN_SIZE: usize = 4;
/// Upper bound on candidates, to bound the time.
const MAX_K: usize = 150;
const SEED: u64 = 0x6b5f_7377_6565_7021;

/// The number of clusters for `points` (at least 1, at most their count).
pub(crate) fn choose_k(points: &Points, dimension: usize) -> usize {
    let n = points.len();
    if n < 3 {
        return n;
    }
    let sample = sample_ids(n);
    let similarities = similarity_matrix(points, &sample, dimension);
    let max_k = (sample.len() / MIN_MEAN_SIZE).clamp(2, MAX_K);
    let scores: Vec<(usize, f64)> = candidates(max_k)
        .into_par_iter()
        .map(|k| {
            let run = kmeans(points, &sample, dimension, k, SEED ^ k as u64);
            (k, silhouette(&similarities, sample.len(), &run.labels, k))
        })
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
fn sample_ids(n: usize) -> Vec<usize> {
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
fn similarity_matrix(points: &Points, sample: &[usize], dimension: usize) -> Vec<f32> {
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

//! From vectors to clusters: a Ward hierarchy of a bounded sample of variant groups gives the
//! number of clusters (unless asked) and the start, spherical k-means refines it over every
//! point, and clusters whose centroids end closer than a calibrated similarity are merged.
//!
//! Choosing k over groups of phrasing variants ([`super::variants`]) rather than over keywords
//! is what keeps large keyword sets from splitting one topic into one cluster per head
//! keyword: 10,000 synthetic keywords from 19 topics went to the cap of 149 clusters before.

use super::hierarchy::{cut, dendrogram};
use super::kmeans::{Clustering, finish, kmeans, kmeans_plus_plus, update};
use super::select_k::{choose_k, sample_ids, similarity_matrix};
use super::variants::variant_groups;
use super::vectors::{Points, normalise};

const SEED: u64 = 0x5357_4954_4348_5944;

/// Knobs of the automatic choice, calibrated per kind of vector by `bench-clustering
/// calibrate` on one half of the labelled topics (the benchmark reports on the other half).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Tuning {
    /// Clusters whose centroids have at least this cosine similarity after k-means are merged
    /// (only when k is chosen automatically); above 1, nothing is merged.
    pub merge_similarity: f32,
}

impl Tuning {
    /// For the bundled MiniLM sentence vectors: no merging. On the calibration topics no
    /// threshold from 0.5 up changes anything (k = 11 for 10 topics at 250 and at 10,000).
    pub const SEMANTIC: Tuning = Tuning { merge_similarity: f32::INFINITY };
    /// For [`super::lexical_vectors`]: 0.3 had the best mean ARI on the calibration topics
    /// (k 30 → 23 at 250, 28 → 25 at 10,000), though no threshold brings both within 30%.
    pub const LEXICAL: Tuning = Tuning { merge_similarity: 0.30 };
    /// For vectors nothing was calibrated on (a provider's embeddings): no merging.
    pub const UNCALIBRATED: Tuning = Tuning { merge_similarity: f32::INFINITY };
}

/// Groups `vectors` (any length, compared by cosine) into exactly `requested_k` clusters
/// (fewer only if there are fewer vectors), or when `None` into the number whose cut of the
/// sample's hierarchy has the best silhouette. The same input always gives the same clustering.
///
/// # Panics
/// When the vectors do not all have the same length.
pub fn cluster(vectors: &[Vec<f32>], requested_k: Option<usize>) -> Clustering {
    let singletons: Vec<usize> = (0..vectors.len()).collect();
    cluster_grouped(vectors, &singletons, requested_k, Tuning::UNCALIBRATED)
}

/// [`cluster`] for keywords: the number of clusters is chosen over groups of phrasing variants
/// of `texts` (the keywords `vectors` were made from, in the same order), and close clusters
/// are merged as `tuning` says. Every keyword is still assigned on its own by k-means.
///
/// # Panics
/// When `texts` and `vectors` differ in length, or the vectors in dimension.
pub fn cluster_keywords<S: AsRef<str>>(
    texts: &[S],
    vectors: &[Vec<f32>],
    requested_k: Option<usize>,
    tuning: Tuning,
) -> Clustering {
    assert_eq!(texts.len(), vectors.len(), "one text per vector");
    let groups = variant_groups(texts);
    let k = cluster_grouped(vectors, &groups, requested_k, tuning);
    tracing::debug!(
        keywords = texts.len(),
        groups = groups.iter().max().map_or(0, |g| g + 1),
        k = k.k,
        "clustered"
    );
    k
}

/// The clustering of `vectors` whose variant group is `groups[i]` (numbered `0..`).
fn cluster_grouped(
    vectors: &[Vec<f32>],
    groups: &[usize],
    requested_k: Option<usize>,
    tuning: Tuning,
) -> Clustering {
    let n = vectors.len();
    let dimension = vectors.first().map_or(0, Vec::len);
    assert!(vectors.iter().all(|v| v.len() == dimension), "all vectors must have the same length");
    if n == 0 {
        return Clustering { k: 0, labels: Vec::new(), clusters: Vec::new() };
    }
    let points = Points::new(vectors);
    let members = members_of(groups);
    // A hierarchy of a bounded sample of groups (all when few) gives every k a good start.
    let sample = sample_ids(members.len());
    let means = group_means(&points, &members, &sample, dimension);
    let mean_points = Points::new(&means);
    let all_sampled: Vec<usize> = (0..sample.len()).collect();
    let similarities = similarity_matrix(&mean_points, &all_sampled, dimension);
    let merges = dendrogram(&similarities, sample.len());
    let k = match requested_k {
        Some(k) => k.clamp(1, n),
        None => choose_k(&similarities, sample.len(), &merges),
    };
    let all: Vec<usize> = (0..n).collect();
    let start = if k <= sample.len() {
        let (ids, labels) = expand(&cut(&merges, sample.len(), k), &sample, &members);
        update(&points, &ids, &labels, dimension, k)
    } else {
        kmeans_plus_plus(&points, &all, dimension, k, SEED)
    };
    let mut run = kmeans(&points, &all, dimension, start);
    if requested_k.is_none() {
        let merged = merge_close(run.centroids, tuning.merge_similarity);
        if merged.len() < k {
            run = kmeans(&points, &all, dimension, merged);
        } else {
            run.centroids = merged;
        }
    }
    finish(&points, run)
}

/// The members of each group, in index order.
fn members_of(groups: &[usize]) -> Vec<Vec<usize>> {
    let count = groups.iter().max().map_or(0, |g| g + 1);
    let mut members = vec![Vec::new(); count];
    for (i, &group) in groups.iter().enumerate() {
        members[group].push(i);
    }
    members
}

/// The normalised mean vector of each sampled group.
fn group_means(points: &Points, members: &[Vec<usize>], sample: &[usize], dimension: usize) -> Vec<Vec<f32>> {
    sample
        .iter()
        .map(|&group| {
            let mut sum = vec![0.0; dimension];
            for &i in &members[group] {
                points.add_to(i, &mut sum);
            }
            normalise(&mut sum);
            sum
        })
        .collect()
}

/// Every member of the sampled groups with its group's cluster, in index order.
fn expand(group_labels: &[usize], sample: &[usize], members: &[Vec<usize>]) -> (Vec<usize>, Vec<usize>) {
    let mut pairs: Vec<(usize, usize)> = sample
        .iter()
        .zip(group_labels)
        .flat_map(|(&group, &label)| members[group].iter().map(move |&i| (i, label)))
        .collect();
    pairs.sort_unstable();
    pairs.into_iter().unzip()
}

/// Merges, closest pair first, centroids at least `threshold` similar; a merged centroid is
/// the normalised sum of the two (k-means then recomputes it from its members).
fn merge_close(mut centroids: Vec<Vec<f32>>, threshold: f32) -> Vec<Vec<f32>> {
    while let Some((a, b)) =
        closest_pair(&centroids).filter(|&(_, _, s)| s >= threshold).map(|(a, b, _)| (a, b))
    {
        let gone = centroids.swap_remove(b);
        for (x, y) in centroids[a].iter_mut().zip(&gone) {
            *x += y;
        }
        normalise(&mut centroids[a]);
    }
    centroids
}

/// The most similar pair of centroids `(a, b, similarity)` with `a < b`.
fn closest_pair(centroids: &[Vec<f32>]) -> Option<(usize, usize, f32)> {
    let mut best = None;
    for a in 0..centroids.len() {
        for b in a + 1..centroids.len() {
            let s = super::vectors::dot(&centroids[a], &centroids[b]);
            if best.is_none_or(|(_, _, t)| s > t) {
                best = Some((a, b, s));
            }
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clustering::{adjusted_rand_index, dataset, lexical_vectors};

    #[test]
    fn close_centroids_merge_and_distant_ones_do_not() {
        let merged = merge_close(vec![vec![1.0, 0.0], vec![0.99, 0.141], vec![0.0, 1.0]], 0.9);
        assert_eq!(merged.len(), 2);
        assert_eq!(merge_close(vec![vec![1.0, 0.0], vec![0.0, 1.0]], 0.9).len(), 2);
    }

    /// The automatic k of held-out topics, alone and expanded with phrasing variants to 3,000
    /// keywords, within 30% of the number of topics (before: the expansion's k ran to 60+).
    #[test]
    fn automatic_k_follows_topics_not_phrasing_variants() {
        let (_, held_out) = dataset::labelled().split();
        for set in [held_out.clone(), dataset::synthetic_from(&held_out, 3_000)] {
            let texts: Vec<&str> = set.keywords.iter().map(String::as_str).collect();
            let clustering = cluster_keywords(&texts, &lexical_vectors(&texts), None, Tuning::LEXICAL);
            let topics = set.topics.len() as f64;
            let k = clustering.k as f64;
            assert!(
                (k - topics).abs() <= 0.3 * topics,
                "{} keywords: k = {k}, {topics} topics",
                set.keywords.len()
            );
            assert!(adjusted_rand_index(&clustering.labels, &set.labels) > 0.2);
        }
    }
}

//! `bench-clustering`: quality and cost of the keyword-clustering engine (run it through
//! `scripts/bench-clustering`, which builds it in release mode).
//!
//!   bench-clustering quality              ARI of each mode on the labelled set, automatic and true k
//!   bench-clustering scale MODE [N] [SET]  time and peak memory for N (10,000) synthetic keywords
//!   bench-clustering calibrate MODE [N]   the merge similarity, on the calibration topics only
//!
//! The labelled topics are split in two ([`dataset::LabelledSet::split`]): `calibrate` looks
//! only at the even-numbered ones, and every figure is also given for the odd-numbered ones
//! (held out), which no knob was chosen on. SET is `all` (default) or `held-out`.
//!
//! `scale` is meant to run alone in its process, so that the peak resident size it reports
//! (`VmHWM`) is that mode's.

#![expect(clippy::print_stdout, reason = "the report is the output of this tool")]

use std::time::Instant;

use anyhow::{Context, bail};
use workers::clustering::{
    Clustering, Mode, SemanticEmbedder, Tuning, adjusted_rand_index, cluster_keywords, dataset,
    lexical_vectors,
};

/// Merge similarities `calibrate` tries.
/// Tried from the highest (no merging) down, so that a tie keeps the least merging.
const MERGE_GRID: [f32; 10] = [2.0, 0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1];

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
        ["quality"] => quality(),
        ["scale", mode, rest @ ..] => {
            let (n, which) = match rest {
                [] => (10_000, "all"),
                [n] => (n.parse().context("N must be a number")?, "all"),
                [n, which] => (n.parse().context("N must be a number")?, *which),
                _ => bail!("usage: bench-clustering scale semantic|lexical [N] [all|held-out]"),
            };
            scale(parse_mode(mode)?, n, pick(which)?)
        }
        ["calibrate", mode, rest @ ..] => {
            let n = match rest {
                [] => 10_000,
                [n] => n.parse().context("N must be a number")?,
                _ => bail!("usage: bench-clustering calibrate semantic|lexical [N]"),
            };
            calibrate(parse_mode(mode)?, n)
        }
        _ => bail!("usage: bench-clustering quality | scale MODE [N] [all|held-out] | calibrate MODE [N]"),
    }
}

fn parse_mode(mode: &str) -> anyhow::Result<Mode> {
    match mode {
        "semantic" => Ok(Mode::Semantic),
        "lexical" => Ok(Mode::Lexical),
        other => bail!("unknown mode {other:?} (semantic or lexical)"),
    }
}

/// The labelled set, whole or its held-out half.
fn pick(which: &str) -> anyhow::Result<dataset::LabelledSet> {
    match which {
        "all" => Ok(dataset::labelled()),
        "held-out" => Ok(dataset::labelled().split().1),
        other => bail!("unknown set {other:?} (all or held-out)"),
    }
}

fn vectors(mode: Mode, keywords: &[String]) -> anyhow::Result<Vec<Vec<f32>>> {
    let texts: Vec<&str> = keywords.iter().map(String::as_str).collect();
    Ok(match mode {
        Mode::Semantic => SemanticEmbedder::load()?.embed_batch(&texts)?,
        Mode::Lexical => lexical_vectors(&texts),
    })
}

fn quality() -> anyhow::Result<()> {
    let all = dataset::labelled();
    let held_out = all.split().1;
    println!("{} threads", rayon::current_num_threads());
    println!(
        "{:<9} {:<9} {:>4} {:>6} {:>4} {:>7} {:>7} {:>9}",
        "mode", "set", "n", "topics", "k", "ARI", "ARI@k*", "vectors"
    );
    for mode in [Mode::Semantic, Mode::Lexical] {
        for (name, set) in [("all", &all), ("held-out", &held_out)] {
            let started = Instant::now();
            let vectors = vectors(mode, &set.keywords)?;
            let vector_time = started.elapsed();
            let auto = cluster_keywords(&set.keywords, &vectors, None, mode.tuning());
            let truth = cluster_keywords(&set.keywords, &vectors, Some(set.topics.len()), mode.tuning());
            println!(
                "{:<9} {:<9} {:>4} {:>6} {:>4} {:>7.3} {:>7.3} {:>8.2}s",
                mode_name(mode),
                name,
                set.keywords.len(),
                set.topics.len(),
                auto.k,
                adjusted_rand_index(&auto.labels, &set.labels),
                adjusted_rand_index(&truth.labels, &set.labels),
                vector_time.as_secs_f64(),
            );
        }
    }
    Ok(())
}

fn mode_name(mode: Mode) -> String {
    format!("{mode:?}").to_lowercase()
}

/// For each merge similarity of the grid, k and ARI on the calibration topics at their own
/// size and expanded to `n`; the chosen one keeps k within 30% at both and has the best mean ARI.
fn calibrate(mode: Mode, n: usize) -> anyhow::Result<()> {
    let calibration = dataset::labelled().split().0;
    let sets = [calibration.clone(), dataset::synthetic_from(&calibration, n)];
    let embedded: Vec<Vec<Vec<f32>>> =
        sets.iter().map(|set| vectors(mode, &set.keywords)).collect::<Result<_, _>>()?;
    println!(
        "{} calibration topics; sizes {} and {}",
        calibration.topics.len(),
        sets[0].keywords.len(),
        sets[1].keywords.len()
    );
    let mut best: Option<(f32, f64)> = None;
    for merge_similarity in MERGE_GRID {
        let tuning = Tuning { merge_similarity };
        let mut line = format!("{:<9} merge {merge_similarity:>4.2}", mode_name(mode));
        let (mut within, mut ari_sum) = (true, 0.0);
        for (set, vectors) in sets.iter().zip(&embedded) {
            let clustering = cluster_keywords(&set.keywords, vectors, None, tuning);
            let ari = adjusted_rand_index(&clustering.labels, &set.labels);
            let topics = set.topics.len() as f64;
            within &= (clustering.k as f64 - topics).abs() <= 0.3 * topics;
            ari_sum += ari;
            line += &format!("  n={:<6} k={:<4} ARI {ari:.3}", set.keywords.len(), clustering.k);
        }
        println!("{line}{}", if within { "" } else { "  (k out of range)" });
        if within && best.is_none_or(|(_, score)| ari_sum > score) {
            best = Some((merge_similarity, ari_sum));
        }
    }
    match best {
        Some((merge_similarity, score)) => {
            println!("chosen: merge {merge_similarity:.2} (mean ARI {:.3})", score / 2.0)
        }
        None => println!("no merge similarity keeps k within 30% at both sizes"),
    }
    Ok(())
}

fn scale(mode: Mode, n: usize, base: dataset::LabelledSet) -> anyhow::Result<()> {
    let set = dataset::synthetic_from(&base, n);
    let started = Instant::now();
    let vectors = vectors(mode, &set.keywords)?;
    let vector_time = started.elapsed();
    let clustering: Clustering = cluster_keywords(&set.keywords, &vectors, None, mode.tuning());
    let total = started.elapsed();
    println!(
        "{:<9} n={:<6} topics={:<3} k={:<4} vectors {:>6.2}s  cluster {:>6.2}s  total {:>6.2}s  peak RSS {:>5} MiB  \
         ARI vs source topics {:.3}",
        mode_name(mode),
        set.keywords.len(),
        set.topics.len(),
        clustering.k,
        vector_time.as_secs_f64(),
        (total - vector_time).as_secs_f64(),
        total.as_secs_f64(),
        workers::peak_rss_mib().unwrap_or(0),
        adjusted_rand_index(&clustering.labels, &set.labels),
    );
    let true_k = cluster_keywords(&set.keywords, &vectors, Some(set.topics.len()), mode.tuning());
    println!(
        "  at the true k ({}): ARI {:.3}; {} threads",
        set.topics.len(),
        adjusted_rand_index(&true_k.labels, &set.labels),
        rayon::current_num_threads()
    );
    let largest =
        clustering.clusters.first().map(|c| c.members.iter().take(5).map(|&i| set.keywords[i].as_str()));
    if let Some(examples) = largest {
        println!("  largest cluster starts: {}", examples.collect::<Vec<_>>().join(" | "));
    }
    Ok(())
}

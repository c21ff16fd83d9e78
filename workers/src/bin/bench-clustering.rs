//! `bench-clustering`: quality and cost of the keyword-clustering engine (run it through
//! `scripts/bench-clustering`, which builds it in release mode).
//!
//!   bench-clustering quality            ARI of each mode on the labelled set, automatic and true k
//!   bench-clustering scale MODE [N]     time and peak memory for N (10,000) synthetic keywords
//!
//! `scale` is meant to run alone in its process, so that the peak resident size it reports
//! (`VmHWM`) is that mode's.

#![expect(clippy::print_stdout, reason = "the report is the output of this tool")]

use std::time::Instant;

use anyhow::{Context, bail};
use workers::clustering::{
    Clustering, Mode, SemanticEmbedder, adjusted_rand_index, cluster, dataset, lexical_vectors,
};

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
        ["quality"] => quality(),
        ["scale", mode, rest @ ..] => {
            let n = match rest {
                [] => 10_000,
                [n] => n.parse().context("N must be a number")?,
                _ => bail!("usage: bench-clustering scale semantic|lexical [N]"),
            };
            scale(parse_mode(mode)?, n)
        }
        _ => bail!("usage: bench-clustering quality | scale semantic|lexical [N]"),
    }
}

fn parse_mode(mode: &str) -> anyhow::Result<Mode> {
    match mode {
        "semantic" => Ok(Mode::Semantic),
        "lexical" => Ok(Mode::Lexical),
        other => bail!("unknown mode {other:?} (semantic or lexical)"),
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
    let set = dataset::labelled();
    println!(
        "labelled set: {} keywords, {} topics ({} threads)",
        set.keywords.len(),
        set.topics.len(),
        rayon::current_num_threads()
    );
    println!("{:<9} {:<6} {:>4} {:>7} {:>9} {:>9}", "mode", "k", "k", "ARI", "vectors", "cluster");
    for mode in [Mode::Semantic, Mode::Lexical] {
        let started = Instant::now();
        let vectors = vectors(mode, &set.keywords)?;
        let vector_time = started.elapsed();
        for (name, requested) in [("auto", None), ("true", Some(set.topics.len()))] {
            let started = Instant::now();
            let clustering = cluster(&vectors, requested);
            let cluster_time = started.elapsed();
            println!(
                "{:<9} {:<6} {:>4} {:>7.3} {:>8.2}s {:>8.2}s",
                format!("{mode:?}").to_lowercase(),
                name,
                clustering.k,
                adjusted_rand_index(&clustering.labels, &set.labels),
                vector_time.as_secs_f64(),
                cluster_time.as_secs_f64(),
            );
        }
    }
    Ok(())
}

fn scale(mode: Mode, n: usize) -> anyhow::Result<()> {
    let set = dataset::synthetic(n);
    let started = Instant::now();
    let vectors = vectors(mode, &set.keywords)?;
    let vector_time = started.elapsed();
    let clustering: Clustering = cluster(&vectors, None);
    let total = started.elapsed();
    println!(
        "{:<9} n={:<6} k={:<4} vectors {:>6.2}s  cluster {:>6.2}s  total {:>6.2}s  peak RSS {:>5} MiB  \
         ARI vs source topics {:.3}",
        format!("{mode:?}").to_lowercase(),
        set.keywords.len(),
        clustering.k,
        vector_time.as_secs_f64(),
        (total - vector_time).as_secs_f64(),
        total.as_secs_f64(),
        workers::peak_rss_mib().unwrap_or(0),
        adjusted_rand_index(&clustering.labels, &set.labels),
    );
    let true_k = cluster(&vectors, Some(set.topics.len()));
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

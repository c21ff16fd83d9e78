//! The keyword-clustering engine behind `planner.auto_cluster`: vectors for keywords, then
//! spherical k-means over them, all offline and in-process.
//!
//! Two ways to turn keywords into unit vectors ([`Mode`]):
//! - [`Mode::Semantic`]: [`SemanticEmbedder`], the all-MiniLM-L6-v2 sentence encoder running on
//!   the CPU with weights shipped in the repository (`workers/models/`). Groups synonyms
//!   ("cheap flights", "low cost airfare") that share no word.
//! - [`Mode::Lexical`]: [`lexical_vectors`], hashed TF-IDF over words, word pairs and character
//!   n-grams. No model, a fraction of the time, but blind to synonyms.
//!
//! [`cluster`] groups the vectors (choosing the number of clusters itself unless told) and
//! orders each cluster's members from most to least representative; [`cluster_keywords`]
//! chooses that number over groups of phrasing variants of the keywords instead; [`adjusted_rand_index`]
//! scores a clustering against known labels (the benchmark's labelled set, [`dataset`]).

pub mod dataset;
mod engine;
mod hierarchy;
mod kmeans;
mod lexical;
mod metrics;
mod select_k;
mod semantic;
mod variants;
mod vectors;

pub use engine::{Tuning, cluster, cluster_keywords};
pub use kmeans::{ClusterMembers, Clustering};
pub use lexical::{LEXICAL_DIMENSION, lexical_vectors};
pub use metrics::adjusted_rand_index;
pub use semantic::{SemanticEmbedder, default_model_dir};

/// How keywords become vectors.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Mode {
    /// Sentence embeddings from the bundled MiniLM model.
    Semantic,
    /// Hashed TF-IDF; for very large sets or when the model is not wanted.
    Lexical,
}

impl Mode {
    /// The automatic choice's knobs as calibrated for this mode's vectors.
    pub fn tuning(self) -> Tuning {
        match self {
            Mode::Semantic => Tuning::SEMANTIC,
            Mode::Lexical => Tuning::LEXICAL,
        }
    }
}

/// Why the clustering engine could not do its work.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClusteringError {
    #[error("cannot read model file {path}: {source}")]
    ModelFile { path: std::path::PathBuf, source: std::io::Error },
    #[error("model file {path} has SHA-256 {actual}, expected {expected}: refusing to load it")]
    Checksum { path: std::path::PathBuf, expected: &'static str, actual: String },
    #[error("invalid model: {0}")]
    Model(String),
    #[error("cannot tokenize the input: {0}")]
    Tokenize(String),
    #[error("the model failed on the input: {0}")]
    Inference(String),
}

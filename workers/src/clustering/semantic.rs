//! The semantic embedder: sentence-transformers' all-MiniLM-L6-v2 (6-layer BERT, 384
//! dimensions, Apache-2.0) run on the CPU with candle, from weights committed under
//! `workers/models/all-MiniLM-L6-v2/` (see `SOURCE.md` there and `scripts/model-fetch`).
//! Nothing is downloaded; each file is checked against its SHA-256 before it is used.
//! Vectors are the mean of the token states (padding excluded), L2-normalised, as
//! sentence-transformers computes them for this model.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use async_trait::async_trait;
use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use candle_transformers::models::bert::{BertModel, Config};
use rayon::prelude::*;
use sha2::{Digest, Sha256};
use shared::ai::{AiError, Embedder, Embeddings, TokenUsage};
use tokenizers::{Tokenizer, TruncationParams};

use super::ClusteringError;
use super::vectors::normalise;

/// The model's name, as reported by [`Embedder::model`].
pub const MODEL_NAME: &str = "all-MiniLM-L6-v2";
/// SHA-256 of the committed files (also in the model directory's `SHA256SUMS`).
const WEIGHTS_SHA256: &str = "3e82b7917b7f214b64b2d5aee987fc1df75cee87894e427850278736a07efe14";
const TOKENIZER_SHA256: &str = "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037";
const CONFIG_SHA256: &str = "953f9c0d463486b10a6871cc2fd59f223b2c70184f49815e7efbcab5d8908b41";
/// Longer inputs are cut: keywords are a few words, and the model was trained on 128 tokens.
const MAX_TOKENS: usize = 128;
/// Sequences per forward pass; inputs are sorted by length first, so a batch pads little.
/// Measured on 2,000 keywords: 8 → 13.7 s CPU, 32 → 12.8 s, 128 → 9.5 s (192 MiB peak),
/// 256 → 8.9 s (275 MiB), 512 → 11.2 s (452 MiB).
const BATCH: usize = 128;
/// Where the container image puts the model (see the Dockerfile).
const INSTALLED_MODEL_DIR: &str = "/usr/share/switchyard/models";

/// The model directory: the repository's copy when this crate was built from one that still
/// exists (development, tests, benchmark), else the container image's.
pub fn default_model_dir() -> PathBuf {
    let in_repository = Path::new(env!("CARGO_MANIFEST_DIR")).join("models").join(MODEL_NAME);
    if in_repository.is_dir() { in_repository } else { Path::new(INSTALLED_MODEL_DIR).join(MODEL_NAME) }
}

/// Sentence embeddings in-process. Cheap to clone (the model is shared); load it once per
/// process.
#[derive(Clone)]
pub struct SemanticEmbedder {
    model: Arc<Model>,
}

struct Model {
    bert: BertModel,
    tokenizer: Tokenizer,
    dimension: usize,
}

impl SemanticEmbedder {
    /// Loads the model from [`default_model_dir`].
    pub fn load() -> Result<Self, ClusteringError> {
        Self::load_from(&default_model_dir())
    }

    /// Loads the model from `dir`, refusing any file whose SHA-256 is not the expected one.
    pub fn load_from(dir: &Path) -> Result<Self, ClusteringError> {
        let config = read_verified(&dir.join("config.json"), CONFIG_SHA256)?;
        let tokenizer = read_verified(&dir.join("tokenizer.json"), TOKENIZER_SHA256)?;
        let weights = read_verified(&dir.join("model.safetensors"), WEIGHTS_SHA256)?;

        let config: Config = serde_json::from_slice(&config)
            .map_err(|e| ClusteringError::Model(format!("config.json: {e}")))?;
        let mut tokenizer = Tokenizer::from_bytes(&tokenizer)
            .map_err(|e| ClusteringError::Model(format!("tokenizer.json: {e}")))?;
        // The file pads every input to 128 tokens; batches are padded here, to their longest.
        tokenizer.with_padding(None);
        tokenizer
            .with_truncation(Some(TruncationParams { max_length: MAX_TOKENS, ..Default::default() }))
            .map_err(|e| ClusteringError::Model(format!("tokenizer truncation: {e}")))?;
        // The file holds float16; widen to float32, which the CPU kernels are fastest at.
        let weights = VarBuilder::from_buffered_safetensors(weights, DType::F32, &Device::Cpu)
            .map_err(|e| ClusteringError::Model(format!("model.safetensors: {e}")))?;
        let bert = BertModel::load(weights, &config)
            .map_err(|e| ClusteringError::Model(format!("model.safetensors: {e}")))?;
        Ok(Self { model: Arc::new(Model { bert, tokenizer, dimension: config.hidden_size }) })
    }

    /// Length of every vector (384).
    pub fn dimension(&self) -> usize {
        self.model.dimension
    }

    /// Unit vectors for `texts`, in order, computed on this thread and rayon's pool (blocking:
    /// call it from `spawn_blocking` in async code, as [`Embedder::embed`] does).
    pub fn embed_batch(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, ClusteringError> {
        self.model.embed(texts).map(|(vectors, _)| vectors)
    }
}

impl Model {
    /// Vectors for `texts` and the number of tokens read.
    fn embed(&self, texts: &[&str]) -> Result<(Vec<Vec<f32>>, u32), ClusteringError> {
        let encodings = self
            .tokenizer
            .encode_batch(texts.to_vec(), true)
            .map_err(|e| ClusteringError::Tokenize(e.to_string()))?;
        let ids: Vec<&[u32]> = encodings.iter().map(|e| e.get_ids()).collect();
        let tokens = ids.iter().map(|ids| ids.len() as u32).sum();
        // Longest first, so the costly batches start early and the pool ends evenly.
        let mut order: Vec<usize> = (0..texts.len()).collect();
        order.sort_by_key(|&i| (std::cmp::Reverse(ids[i].len()), i));
        let batches: Vec<Vec<Vec<f32>>> = order
            .par_chunks(BATCH)
            .map(|batch| {
                let batch_ids: Vec<&[u32]> = batch.iter().map(|&i| ids[i]).collect();
                self.forward(&batch_ids).map_err(|e| ClusteringError::Inference(e.to_string()))
            })
            .collect::<Result<_, _>>()?;
        let mut vectors = vec![Vec::new(); texts.len()];
        for (&i, vector) in order.iter().zip(batches.into_iter().flatten()) {
            vectors[i] = vector;
        }
        Ok((vectors, tokens))
    }

    /// Mean-pooled, normalised vectors for one batch of token ids.
    fn forward(&self, batch: &[&[u32]]) -> candle_core::Result<Vec<Vec<f32>>> {
        let length = batch.iter().map(|ids| ids.len()).max().unwrap_or(0).max(1);
        let mut ids = vec![0u32; batch.len() * length];
        let mut mask = vec![0u32; batch.len() * length];
        for (row, sequence) in batch.iter().enumerate() {
            ids[row * length..row * length + sequence.len()].copy_from_slice(sequence);
            mask[row * length..row * length + sequence.len()].fill(1);
        }
        let shape = (batch.len(), length);
        let ids = Tensor::from_vec(ids, shape, &Device::Cpu)?;
        let mask = Tensor::from_vec(mask, shape, &Device::Cpu)?;
        let token_types = ids.zeros_like()?;
        let states = self.bert.forward(&ids, &token_types, Some(&mask))?;
        let mask = mask.to_dtype(DType::F32)?.unsqueeze(2)?;
        let summed = states.broadcast_mul(&mask)?.sum(1)?;
        let counts = mask.sum(1)?.clamp(1.0, f64::MAX)?;
        let mut vectors = summed.broadcast_div(&counts)?.to_vec2::<f32>()?;
        vectors.iter_mut().for_each(|v| normalise(v));
        Ok(vectors)
    }
}

#[async_trait]
impl Embedder for SemanticEmbedder {
    fn model(&self) -> &str {
        MODEL_NAME
    }

    async fn embed(&self, texts: &[String]) -> Result<Embeddings, AiError> {
        let model = Arc::clone(&self.model);
        let texts = texts.to_vec();
        let (vectors, tokens) = tokio::task::spawn_blocking(move || {
            let texts: Vec<&str> = texts.iter().map(String::as_str).collect();
            model.embed(&texts)
        })
        .await
        .map_err(|e| AiError::Server { status: 500, message: format!("the embedding task failed: {e}") })?
        .map_err(|e| match e {
            ClusteringError::Tokenize(message) => AiError::BadRequest(message),
            other => AiError::Server { status: 500, message: other.to_string() },
        })?;
        Ok(Embeddings {
            vectors,
            model: MODEL_NAME.to_owned(),
            usage: TokenUsage { prompt_tokens: tokens, completion_tokens: 0 },
        })
    }
}

/// The bytes of `path` if their SHA-256 is `expected`.
fn read_verified(path: &Path, expected: &'static str) -> Result<Vec<u8>, ClusteringError> {
    let bytes =
        std::fs::read(path).map_err(|source| ClusteringError::ModelFile { path: path.to_owned(), source })?;
    let actual = hex::encode(Sha256::digest(&bytes));
    if actual != expected {
        return Err(ClusteringError::Checksum { path: path.to_owned(), expected, actual });
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clustering::vectors::dot;

    /// One load for every test of this module (about a second in a debug build).
    fn embedder() -> &'static SemanticEmbedder {
        static EMBEDDER: std::sync::OnceLock<SemanticEmbedder> = std::sync::OnceLock::new();
        EMBEDDER.get_or_init(|| SemanticEmbedder::load().expect("the bundled model loads"))
    }

    #[test]
    fn vectors_are_unit_length_and_semantic() {
        let texts = ["cheap flights", "low cost airfare", "dog food", "cheap flights"];
        let vectors = embedder().embed_batch(&texts).expect("embeds");
        assert_eq!(vectors.len(), 4);
        for vector in &vectors {
            assert_eq!(vector.len(), 384);
            assert!((dot(vector, vector) - 1.0).abs() < 1e-4);
        }
        let airfare = dot(&vectors[0], &vectors[1]);
        let dog_food = dot(&vectors[0], &vectors[2]);
        assert!(airfare > dog_food + 0.2, "airfare {airfare}, dog food {dog_food}");
        assert_eq!(vectors[0], vectors[3]);
    }

    #[test]
    fn batching_does_not_change_a_vector() {
        let alone = embedder().embed_batch(&["home espresso machine"]).expect("embeds");
        let texts: Vec<String> =
            (0..40).map(|i| format!("keyword number {i} with some padding words")).collect();
        let mut batch: Vec<&str> = texts.iter().map(String::as_str).collect();
        batch.insert(17, "home espresso machine");
        let together = embedder().embed_batch(&batch).expect("embeds");
        assert!(dot(&alone[0], &together[17]) > 0.9999);
    }

    #[tokio::test]
    async fn implements_the_embedder_trait() {
        let result = embedder().embed(&["solar panels".to_owned(), "yoga".to_owned()]).await.expect("embeds");
        assert_eq!(result.vectors.len(), 2);
        assert_eq!(result.model, "all-MiniLM-L6-v2");
        assert!(result.usage.prompt_tokens >= 6);
    }

    #[test]
    fn a_tampered_file_is_refused() {
        let dir = std::env::temp_dir().join(format!("switchyard-model-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let source = default_model_dir();
        for file in ["config.json", "tokenizer.json"] {
            std::fs::copy(source.join(file), dir.join(file)).expect("copies");
        }
        std::fs::write(dir.join("model.safetensors"), b"not the weights").expect("writes");
        let error = SemanticEmbedder::load_from(&dir).err().expect("refused");
        std::fs::remove_dir_all(&dir).ok();
        assert!(matches!(error, ClusteringError::Checksum { .. }), "{error}");
        assert!(error.to_string().contains("refusing"));
    }
}

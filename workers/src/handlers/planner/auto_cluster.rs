//! `planner.auto_cluster`: LOAD the keywords, EMBED them (the provider's embeddings, the
//! bundled sentence model offline, or lexical vectors), CLUSTER them (the number of clusters
//! found by the algorithm unless requested), NAME each cluster and tag its intent (the LLM, or
//! rules offline), SAVE clusters and assignments with the charge in the task's transaction.

use std::{collections::HashSet, sync::Arc};

use serde::Deserialize;
use serde_json::{Value, json};
use shared::{
    ai::{self, ChatRequest, Embedder, PromptType, TokenUsage, prompts::render},
    billing::{self, Charge, Operation},
    ids::AccountId,
    planner::{
        Intent,
        clusters::{self, FoundCluster},
        intent::{IntentShares, cluster_intent},
        keywords::{self, KeywordText},
    },
    tasks::AutoCluster,
    tasks::planner::{AutoClusterPayload, ClusterMode},
};
use tokio::sync::OnceCell;

use super::{AiAccess, ai_error, ensure_affordable};
use crate::{
    clustering::{self, SemanticEmbedder, Tuning},
    runtime::{Completion, KindHandler, TaskContext, TaskError},
};

/// Keywords per embeddings request (provider or bundled model), one progress step each.
const EMBED_CHUNK: usize = 512;
/// Clusters named per chat call.
const NAME_CHUNK: usize = 40;
/// Keywords shown to the namer per cluster, most representative first.
const SAMPLE_KEYWORDS: usize = 12;

pub struct AutoClusterHandler {
    ai: Arc<AiAccess>,
    /// Loaded on the first semantic task that needs it, then shared.
    semantic: OnceCell<Arc<SemanticEmbedder>>,
}

impl AutoClusterHandler {
    pub fn new(ai: Arc<AiAccess>) -> Self {
        Self { ai, semantic: OnceCell::new() }
    }

    async fn bundled_model(&self) -> Result<Arc<SemanticEmbedder>, TaskError> {
        self.semantic
            .get_or_try_init(|| async {
                tokio::task::spawn_blocking(SemanticEmbedder::load)
                    .await
                    .map_err(|error| TaskError::fatal("internal_error", error.to_string()))?
                    .map(Arc::new)
                    .map_err(|error| TaskError::fatal("embedding_model_unavailable", error.to_string()))
            })
            .await
            .cloned()
    }
}

#[async_trait::async_trait]
impl KindHandler for AutoClusterHandler {
    type Kind = AutoCluster;

    async fn run(&self, ctx: &TaskContext, payload: AutoClusterPayload) -> Result<Completion, TaskError> {
        let account_id = ctx.task().account_id;
        ctx.progress("LOAD", 2, "Loading keywords")?;
        let loaded = load_keywords(ctx, account_id, &payload).await?;
        let credits = Operation::Clustering.cost(loaded.len() as u64);
        ensure_affordable(ctx.pool(), account_id, credits).await?;
        let (clients, prompt) = self.ai.for_account(ctx.pool(), account_id, PromptType::AutoCluster).await?;
        ctx.progress("LOAD", 8, format!("{} keywords loaded", loaded.len()))?;

        let texts: Vec<String> = loaded.iter().map(|keyword| keyword.keyword.clone()).collect();
        // The automatic choice's knobs were calibrated on the bundled model and lexical vectors.
        let (vectors, embed_usage, embed_model, tuning) = match (payload.mode, &clients.embedder) {
            (ClusterMode::Lexical, _) => {
                ctx.progress("EMBED", 10, "Building lexical vectors")?;
                let texts = texts.clone();
                let vectors = blocking(move || {
                    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
                    clustering::lexical_vectors(&refs)
                })
                .await?;
                (vectors, TokenUsage::default(), "lexical".to_owned(), Tuning::LEXICAL)
            }
            (ClusterMode::Semantic, Some(provider)) => {
                let (vectors, usage, model) = embed(ctx, provider.as_ref(), &texts).await?;
                (vectors, usage, model, Tuning::UNCALIBRATED)
            }
            (ClusterMode::Semantic, None) => {
                let (vectors, usage, model) =
                    embed(ctx, self.bundled_model().await?.as_ref(), &texts).await?;
                (vectors, usage, model, Tuning::SEMANTIC)
            }
        };

        ctx.progress("CLUSTER", 55, "Clustering")?;
        let requested = payload.cluster_count.map(|count| count as usize);
        let found =
            blocking(move || clustering::cluster_keywords(&texts, &vectors, requested, tuning)).await?;
        ctx.progress("CLUSTER", 70, format!("{} clusters found", found.k))?;

        let groups: Vec<Vec<usize>> =
            found.clusters.iter().map(|cluster| cluster.members.clone()).filter(|m| !m.is_empty()).collect();
        let (names, name_usage, name_model) =
            name_clusters(ctx, clients.generator.as_ref(), &prompt, &groups, &loaded).await?;

        ctx.progress("SAVE", 92, "Saving clusters")?;
        let clusters: Vec<FoundCluster> = groups
            .iter()
            .zip(names)
            .map(|(members, naming)| FoundCluster {
                intent: Some(intent_of(members, &loaded, &naming)),
                name: naming.name,
                description: naming.description,
                keyword_ids: members.iter().map(|&index| loaded[index].id).collect(),
            })
            .collect();
        let summary: Vec<Value> = groups
            .iter()
            .zip(&clusters)
            .map(|(members, cluster)| {
                json!({
                    "name": cluster.name,
                    "intent": cluster.intent,
                    "keywords_count": members.len(),
                    "volume": members.iter().map(|&index| i64::from(loaded[index].volume)).sum::<i64>(),
                    "sample_keywords": members.iter().take(5).map(|&index| &loaded[index].keyword).collect::<Vec<_>>(),
                })
            })
            .collect();
        let mut usage = embed_usage;
        usage += name_usage;
        let charge = Charge {
            account_id,
            operation: Operation::Clustering,
            units: loaded.len() as u64,
            task_id: Some(ctx.task().id),
            model: name_model.clone(),
            usage,
            related: Some(("site", payload.site_id.to_string())),
            cost_usd: None,
        };
        let result = json!({
            "keywords_clustered": loaded.len(),
            "clusters_count": clusters.len(),
            "mode": payload.mode,
            "embedding_model": embed_model,
            "naming_model": name_model,
            "credits_charged": charge.credits(),
            "tokens": usage.total(),
            "clusters": summary,
        });
        let (site_id, sector_id) = (payload.site_id, payload.sector_id);
        Ok(Completion::new(result).with_effects(move |conn| {
            clusters::save_found(conn, AccountId(account_id), site_id, sector_id, &clusters)?;
            billing::charge(conn, &charge)?;
            Ok(())
        }))
    }
}

async fn load_keywords(
    ctx: &TaskContext,
    account_id: i64,
    payload: &AutoClusterPayload,
) -> Result<Vec<KeywordText>, TaskError> {
    let (account, ids, site_id) = (AccountId(account_id), payload.keyword_ids.clone(), payload.site_id);
    let rows = shared::db::run(ctx.pool(), move |conn| keywords::texts_on_site(conn, account, site_id, &ids))
        .await?;
    if rows.is_empty() {
        return Err(TaskError::fatal("no_keywords", "none of the keywords exist any more"));
    }
    Ok(rows)
}

/// Embeds in chunks, reporting progress from 10% to 50%.
async fn embed(
    ctx: &TaskContext,
    embedder: &dyn Embedder,
    texts: &[String],
) -> Result<(Vec<Vec<f32>>, TokenUsage, String), TaskError> {
    let mut vectors = Vec::with_capacity(texts.len());
    let mut usage = TokenUsage::default();
    for chunk in texts.chunks(EMBED_CHUNK) {
        let embedded = embedder.embed(chunk).await.map_err(ai_error)?;
        if embedded.vectors.len() != chunk.len() {
            return Err(TaskError::retryable(
                "ai_malformed_response",
                "the embeddings do not match the inputs",
            ));
        }
        vectors.extend(embedded.vectors);
        usage += embedded.usage;
        let percentage = 10 + 40 * vectors.len() / texts.len();
        ctx.progress(
            "EMBED",
            percentage as u8,
            format!("{} of {} keywords embedded", vectors.len(), texts.len()),
        )?;
    }
    Ok((vectors, usage, embedder.model().to_owned()))
}

#[derive(Debug, Deserialize)]
struct NamingAnswer {
    clusters: Vec<Naming>,
}

#[derive(Clone, Debug, Deserialize)]
struct Naming {
    id: usize,
    name: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    intent: String,
}

/// Names every group, `NAME_CHUNK` groups per call. Groups the model skipped or named badly
/// get the offline rules' answer, and names are made unique.
async fn name_clusters(
    ctx: &TaskContext,
    generator: &dyn ai::TextGenerator,
    template: &str,
    groups: &[Vec<usize>],
    loaded: &[KeywordText],
) -> Result<(Vec<Naming>, TokenUsage, String), TaskError> {
    let mut names: Vec<Option<Naming>> = vec![None; groups.len()];
    let mut usage = TokenUsage::default();
    for (chunk_index, chunk) in groups.chunks(NAME_CHUNK).enumerate() {
        let first = chunk_index * NAME_CHUNK;
        let request = naming_request(template, first, chunk, loaded);
        let answer = ai::chat_json::<NamingAnswer>(generator, request.clone()).await;
        let answer = match answer {
            Ok(parsed) => {
                usage += parsed.usage;
                parsed.value
            }
            // A model that will not follow the format does not sink the task: rules name these.
            Err(ai::AiError::Malformed(detail)) => {
                tracing::warn!(detail, "cluster names were not usable JSON; naming by rule");
                NamingAnswer { clusters: Vec::new() }
            }
            Err(error) => return Err(ai_error(error)),
        };
        for naming in answer.clusters {
            if (first..first + chunk.len()).contains(&naming.id) && !naming.name.trim().is_empty() {
                let index = naming.id;
                names[index] = Some(naming);
            }
        }
        let missing: Vec<usize> =
            (first..first + chunk.len()).filter(|&index| names[index].is_none()).collect();
        if !missing.is_empty() {
            let offline = ai::OfflineGenerator::new();
            let fallback = ai::chat_json::<NamingAnswer>(&offline, request).await.map_err(ai_error)?;
            for naming in fallback.value.clusters {
                if missing.contains(&naming.id) {
                    let index = naming.id;
                    names[index] = Some(naming);
                }
            }
        }
        let done = (first + chunk.len()) * 100 / groups.len().max(1);
        ctx.progress(
            "NAME",
            (70 + done * 20 / 100) as u8,
            format!("{} of {} clusters named", first + chunk.len(), groups.len()),
        )?;
    }
    let namings = names
        .into_iter()
        .enumerate()
        .map(|(index, naming)| {
            naming.unwrap_or_else(|| Naming {
                id: index,
                name: format!("Cluster {}", index + 1),
                description: String::new(),
                intent: String::new(),
            })
        })
        .collect();
    Ok((tidy(namings), usage, generator.model().to_owned()))
}

/// The shares of modifiers across all of a cluster's keywords (the namer sees only a sample).
fn shares_of(members: &[usize], loaded: &[KeywordText]) -> IntentShares {
    let keywords: Vec<&str> = members.iter().map(|&index| loaded[index].keyword.as_str()).collect();
    IntentShares::of(&keywords)
}

/// The cluster's intent: its keywords' modifiers when they are clear, else the namer's answer.
fn intent_of(members: &[usize], loaded: &[KeywordText], naming: &Naming) -> Intent {
    cluster_intent(&shares_of(members, loaded), Intent::parse(&naming.intent))
}

fn naming_request(template: &str, first: usize, chunk: &[Vec<usize>], loaded: &[KeywordText]) -> ChatRequest {
    let clusters: Vec<Value> = chunk
        .iter()
        .enumerate()
        .map(|(offset, members)| {
            let sample: Vec<&str> =
                members.iter().take(SAMPLE_KEYWORDS).map(|&index| loaded[index].keyword.as_str()).collect();
            json!({ "id": first + offset, "keywords": sample, "modifiers": shares_of(members, loaded).describe() })
        })
        .collect();
    let listing: Vec<String> = clusters
        .iter()
        .map(|cluster| {
            let keywords: Vec<&str> =
                cluster["keywords"].as_array().into_iter().flatten().filter_map(Value::as_str).collect();
            match cluster["modifiers"].as_str().filter(|m| !m.is_empty()) {
                Some(modifiers) => {
                    format!("{}: {} (modifiers: {modifiers})", cluster["id"], keywords.join(", "))
                }
                None => format!("{}: {}", cluster["id"], keywords.join(", ")),
            }
        })
        .collect();
    ChatRequest {
        prompt_type: PromptType::AutoCluster,
        system: "You name keyword clusters for an SEO team. Answer with JSON only.".to_owned(),
        user: render(template, &[("clusters", &listing.join("\n"))]),
        context: json!({ "clusters": clusters }),
        json: true,
        max_tokens: Some(4_000),
        temperature: Some(0.2),
    }
}

/// Trims names to 100 characters, makes them unique (case-insensitively) and keeps intents to
/// the four known ones (anything else is dropped: the modifiers decide those).
fn tidy(namings: Vec<Naming>) -> Vec<Naming> {
    let mut seen = HashSet::new();
    namings
        .into_iter()
        .map(|mut naming| {
            let base: String = naming.name.trim().chars().take(100).collect();
            let mut name = base.clone();
            let mut suffix = 2;
            while !seen.insert(name.to_lowercase()) {
                name = format!("{base} {suffix}");
                suffix += 1;
            }
            naming.name = name;
            naming.description = naming.description.trim().chars().take(500).collect();
            let intent = Intent::parse(&naming.intent.trim().to_lowercase());
            naming.intent = intent.map(Intent::as_str).unwrap_or_default().to_owned();
            naming
        })
        .collect()
}

/// CPU work off the async threads.
async fn blocking<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> Result<T, TaskError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|error| TaskError::fatal("internal_error", error.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_intents_known() {
        let naming = |name: &str, intent: &str| Naming {
            id: 0,
            name: name.to_owned(),
            description: String::new(),
            intent: intent.to_owned(),
        };
        let tidied =
            tidy(vec![naming("Shoes", "Commercial"), naming("shoes", "weird"), naming(" Shoes ", "")]);
        let names: Vec<&str> = tidied.iter().map(|n| n.name.as_str()).collect();
        assert_eq!(names, ["Shoes", "shoes 2", "Shoes 3"]);
        assert_eq!(tidied[0].intent, "commercial");
        assert_eq!(tidied[1].intent, "");
    }
}

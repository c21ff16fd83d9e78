//! `seo.audit` on `worker-seo`: audits a page (and, in crawl mode, its site), compares it
//! with competitors, and turns the findings into a plan. Phases: FETCH (robots.txt, the
//! sitemap, the page), ANALYZE (the checks, internal links requested), CRAWL, COMPETITORS,
//! RECOMMEND (the account's AI writes the plan; offline or when it fails, rules do), SAVE (the
//! `seo_audits` row and the `seo` charge, one credit per page fetched, in the SUCCESS
//! transaction).
//!
//! A page that cannot be fetched at all fails the task: `address_refused`, `bad_redirect` and
//! `too_many_redirects` at once, `timeout` and `unreachable` after the runtime's retries.

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use shared::{
    Config,
    ai::{self, ChatRequest, OfflineGenerator, PromptType, TokenUsage, prompts::render},
    billing::{self, Charge, Operation},
    net::OutboundGuard,
    seo_audits::{self, NewAudit},
    tasks::SeoAudit,
    tasks::seo::{AuditPayload, audit_url},
};
use url::Url;

use super::planner::{AiAccess, ensure_affordable};
use crate::{
    runtime::{Completion, KindHandler, TaskContext, TaskError},
    seo::{
        Auditor, PageAudit,
        crawl::{self, CrawlSettings},
        fetch::{FetchError, FetchSettings, Fetcher},
        report::{self, Recommendation},
    },
};

/// Findings shown to the model at most.
const PLAN_FINDINGS: usize = 20;

pub struct SeoAuditHandler {
    ai: Arc<AiAccess>,
    fetch: FetchSettings,
    crawl: CrawlSettings,
}

impl SeoAuditHandler {
    pub fn new(ai: Arc<AiAccess>, config: &Config) -> Self {
        let fetch = FetchSettings {
            guard: config.ai.outbound.clone(),
            proxy: config.outbound_proxy.clone(),
            ..FetchSettings::default()
        };
        Self { ai, fetch, crawl: CrawlSettings::default() }
    }

    /// With other fetch and crawl settings (tests: short timeouts, no politeness delay).
    pub fn with_settings(ai: Arc<AiAccess>, fetch: FetchSettings, crawl: CrawlSettings) -> Self {
        Self { ai, fetch, crawl }
    }

    fn guard(&self) -> &OutboundGuard {
        &self.fetch.guard
    }
}

/// A competitor beside the audited page.
#[derive(Clone, Debug, Serialize)]
struct Comparison {
    url: String,
    score: Option<u8>,
    word_count: Option<usize>,
    /// Share of the requested keywords found in the page's text.
    keyword_coverage: Option<f64>,
    structured_data: Vec<String>,
    response_ms: Option<u64>,
    bytes: Option<usize>,
    error: Option<String>,
}

impl Comparison {
    fn of(audit: &PageAudit, keywords: usize) -> Self {
        Self {
            url: audit.final_url.clone(),
            score: Some(audit.score),
            word_count: Some(audit.word_count),
            keyword_coverage: (keywords > 0)
                .then(|| (audit.keyword_hits as f64 / keywords as f64 * 100.0).round() / 100.0),
            structured_data: audit.structured_data.clone(),
            response_ms: Some(audit.response_ms),
            bytes: Some(audit.bytes),
            error: None,
        }
    }

    fn failed(url: &Url, error: &FetchError) -> Self {
        Self {
            url: url.to_string(),
            score: None,
            word_count: None,
            keyword_coverage: None,
            structured_data: Vec::new(),
            response_ms: None,
            bytes: None,
            error: Some(error.to_string()),
        }
    }
}

#[derive(Clone, Debug, Deserialize, Serialize)]
struct PlanStep {
    #[serde(default)]
    priority: u32,
    action: String,
    #[serde(default)]
    why: String,
}

#[derive(Debug, Deserialize)]
struct PlanAnswer {
    plan: Vec<PlanStep>,
}

fn fetch_error(error: FetchError) -> TaskError {
    let retryable = matches!(error, FetchError::Timeout(_) | FetchError::Unreachable(_));
    TaskError::outside(retryable, error.code(), format!("the page could not be fetched: {error}"), None)
}

#[async_trait::async_trait]
impl KindHandler for SeoAuditHandler {
    type Kind = SeoAudit;

    fn outbound(&self) -> &OutboundGuard {
        self.guard()
    }

    async fn run(&self, ctx: &TaskContext, payload: AuditPayload) -> Result<Completion, TaskError> {
        let url =
            audit_url(&payload.url, self.guard()).map_err(|p| TaskError::fatal("invalid_payload", p))?;
        let keywords = clean_keywords(&payload.keywords);
        let account_id = ctx.task().account_id;
        let most_pages = 1 + payload.competitors.len() + payload.crawl.map_or(0, |crawl| crawl.max_pages);
        ensure_affordable(ctx.pool(), account_id, Operation::Seo.cost(most_pages as u64)).await?;

        ctx.progress("FETCH", 5, format!("Fetching {url}"))?;
        let fetcher = Fetcher::new(self.fetch.clone()).map_err(fetch_error)?;
        let auditor = Auditor::new(fetcher);
        let site = auditor.site_context(&url).await;
        let fetched = auditor.fetcher.get(&url).await.map_err(fetch_error)?;

        ctx.progress("ANALYZE", 20, "Running the checks")?;
        let main = auditor.analyze(&url, fetched, &keywords, &site, true).await;

        let crawl_report = match payload.crawl {
            Some(options) => {
                ctx.progress("CRAWL", 35, format!("Crawling up to {} pages", options.max_pages))?;
                let settings = CrawlSettings {
                    max_pages: options.max_pages,
                    max_depth: options.max_depth,
                    ..self.crawl.clone()
                };
                let crawled =
                    crawl::crawl(&auditor, main.clone(), &keywords, &site, &settings, |done, budget| {
                        let percentage = 35 + (30 * done / budget.max(1)).min(30);
                        let _ = ctx.progress(
                            "CRAWL",
                            percentage as u8,
                            format!("{done} of at most {budget} pages"),
                        );
                    })
                    .await;
                Some(crawled)
            }
            None => None,
        };

        ctx.progress("COMPETITORS", 70, format!("Auditing {} competitors", payload.competitors.len()))?;
        let mut comparison = vec![Comparison::of(&main, keywords.len())];
        let mut competitor_pages = 0;
        for competitor in &payload.competitors {
            let Ok(competitor) = audit_url(competitor, self.guard()) else { continue };
            let context = auditor.site_context(&competitor).await;
            match auditor.audit_page(&competitor, &keywords, &context, false).await {
                Ok(audit) => {
                    competitor_pages += 1;
                    comparison.push(Comparison::of(&audit, keywords.len()));
                }
                Err(error) => comparison.push(Comparison::failed(&competitor, &error)),
            }
        }

        ctx.progress("RECOMMEND", 85, "Writing the plan")?;
        let own_pages: Vec<&PageAudit> = match &crawl_report {
            Some(crawled) => crawled.audits.iter().collect(),
            None => vec![&main],
        };
        let recommendations = report::recommendations(&own_pages);
        let (plan, plan_source, model, usage) =
            self.plan(ctx, account_id, &url, &keywords, &recommendations).await?;

        ctx.progress("SAVE", 95, "Saving the report")?;
        let pages_audited = own_pages.len();
        let issue_ids: Vec<String> = recommendations.iter().map(|r| r.check_id.clone()).collect();
        let report = json!({
            "url": url.as_str(),
            "final_url": main.final_url,
            "keywords": keywords,
            "score": main.score,
            "category_scores": main.category_scores,
            "page": main,
            "crawl": crawl_report.as_ref().map(|crawled| json!({
                "pages": crawled.pages,
                "findings": crawled.findings,
                "site_score": site_score(&crawled.audits),
            })),
            "competitors": comparison,
            "recommendations": recommendations,
            "plan": plan,
            "plan_source": plan_source,
        });
        let task_id = ctx.task().id;
        let charge = Charge {
            account_id,
            operation: Operation::Seo,
            units: (pages_audited + competitor_pages) as u64,
            task_id: Some(task_id),
            model,
            usage,
            related: None,
            cost_usd: None,
        };
        let audit_id = shared::db::run(ctx.pool(), seo_audits::reserve_id).await?;
        let result = json!({
            "audit_id": audit_id,
            "report_url": format!("/api/v1/analytics/seo/audits/{audit_id}/"),
            "url": url.as_str(),
            "score": main.score,
            "category_scores": main.category_scores,
            "issues": issue_ids.len(),
            "pages_audited": pages_audited,
            "competitors": payload.competitors.len(),
            "credits_charged": charge.credits(),
        });
        let host = Url::parse(&main.final_url)
            .ok()
            .and_then(|u| u.host_str().map(str::to_owned))
            .unwrap_or_default();
        let audit = NewAudit {
            id: audit_id,
            account_id,
            site_id: payload.site_id,
            task_id,
            url: url.to_string(),
            final_url: main.final_url.clone(),
            host,
            keywords: json!(keywords),
            score: i16::from(main.score),
            category_scores: json!(main.category_scores),
            issue_ids: json!(issue_ids),
            issues: i32::try_from(issue_ids.len()).unwrap_or(i32::MAX),
            pages_audited: i32::try_from(pages_audited).unwrap_or(i32::MAX),
            report,
        };
        Ok(Completion::new(result).with_effects(move |conn| {
            if seo_audits::record(conn, audit)? {
                billing::charge(conn, &charge)?;
            }
            Ok(())
        }))
    }
}

impl SeoAuditHandler {
    /// The plan from the account's AI, or from the rules when it fails.
    async fn plan(
        &self,
        ctx: &TaskContext,
        account_id: i64,
        url: &Url,
        keywords: &[String],
        recommendations: &[Recommendation],
    ) -> Result<(Vec<PlanStep>, &'static str, String, TokenUsage), TaskError> {
        let findings: Vec<Value> = recommendations
            .iter()
            .take(PLAN_FINDINGS)
            .map(|r| json!({ "id": r.check_id, "severity": r.severity.as_str(), "message": r.message, "fix": r.fix }))
            .collect();
        let (clients, template) =
            self.ai.for_account(ctx.pool(), account_id, PromptType::SeoRecommendations).await?;
        let listing: Vec<String> = findings
            .iter()
            .map(|f| {
                format!(
                    "- [{}] {} Fix: {}",
                    f["severity"].as_str().unwrap_or(""),
                    f["message"].as_str().unwrap_or(""),
                    f["fix"].as_str().unwrap_or("")
                )
            })
            .collect();
        let request = ChatRequest {
            prompt_type: PromptType::SeoRecommendations,
            system: "You are a senior SEO consultant. Answer with JSON only.".to_owned(),
            user: render(
                &template,
                &[
                    ("url", url.as_str()),
                    ("keywords", &keywords.join(", ")),
                    ("findings", &listing.join("\n")),
                ],
            ),
            context: json!({ "url": url.as_str(), "keywords": keywords, "findings": findings }),
            json: true,
            max_tokens: Some(1_500),
            temperature: Some(0.3),
        };
        match ai::chat_json::<PlanAnswer>(clients.generator.as_ref(), request.clone()).await {
            Ok(answer) if !answer.value.plan.is_empty() => {
                let source = if answer.model == ai::OFFLINE_MODEL { "rules" } else { "ai" };
                Ok((answer.value.plan, source, answer.model, answer.usage))
            }
            outcome => {
                if let Err(error) = outcome {
                    tracing::warn!(code = error.code(), %error, "AI plan failed; using the rules");
                }
                let rules = OfflineGenerator::new()
                    .answer(&request)
                    .ok()
                    .and_then(|text| serde_json::from_str::<PlanAnswer>(&text).ok())
                    .map(|answer| answer.plan)
                    .unwrap_or_default();
                Ok((rules, "rules", ai::OFFLINE_MODEL.to_owned(), TokenUsage::default()))
            }
        }
    }
}

/// The mean score of the crawled pages that answered.
fn site_score(audits: &[PageAudit]) -> Option<u8> {
    let scores: Vec<u32> = audits.iter().map(|audit| u32::from(audit.score)).collect();
    (!scores.is_empty()).then(|| (scores.iter().sum::<u32>() as f64 / scores.len() as f64).round() as u8)
}

/// Trimmed, without blanks and repeats (case-insensitive), in the order given.
fn clean_keywords(keywords: &[String]) -> Vec<String> {
    let mut seen = std::collections::HashSet::new();
    keywords
        .iter()
        .map(|keyword| keyword.trim().to_owned())
        .filter(|keyword| !keyword.is_empty() && seen.insert(keyword.to_lowercase()))
        .collect()
}

//! Prompt types and their built-in defaults. An account may save its own text for any type
//! (`/api/v1/system/prompts/`); workers render the account's text when it has one, else the
//! default. Placeholders are `{name}`, filled by `render`.

use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PromptType {
    /// Names keyword clusters and tags their search intent.
    AutoCluster,
    /// Content ideas for a cluster.
    GenerateIdeas,
    /// An article from an idea (writer module).
    ContentGeneration,
    /// Image prompts from an article (writer module).
    ImagePrompts,
    /// Platform-fitted social posts and hashtags.
    SocialCompose,
    /// An SEO action plan from audit findings.
    SeoRecommendations,
}

impl PromptType {
    pub const ALL: [PromptType; 6] = [
        PromptType::AutoCluster,
        PromptType::GenerateIdeas,
        PromptType::ContentGeneration,
        PromptType::ImagePrompts,
        PromptType::SocialCompose,
        PromptType::SeoRecommendations,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            PromptType::AutoCluster => "auto_cluster",
            PromptType::GenerateIdeas => "generate_ideas",
            PromptType::ContentGeneration => "content_generation",
            PromptType::ImagePrompts => "image_prompts",
            PromptType::SocialCompose => "social_compose",
            PromptType::SeoRecommendations => "seo_recommendations",
        }
    }

    pub fn parse(value: &str) -> Option<PromptType> {
        PromptType::ALL.into_iter().find(|t| t.as_str() == value)
    }
}

impl std::fmt::Display for PromptType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The built-in text for a prompt type.
pub fn default_prompt(prompt_type: PromptType) -> &'static str {
    match prompt_type {
        PromptType::AutoCluster => {
            "You are an SEO strategist. Below are keyword groups found by clustering search \
             keywords by meaning. For each group, give a short descriptive cluster name (2-5 \
             words, title case, no brand names unless every keyword has it), a one-sentence \
             description, and the dominant search intent: one of informational, commercial, \
             transactional, navigational.\n\nGroups (id: keywords):\n{clusters}\n\nAnswer with \
             JSON only: {\"clusters\": [{\"id\": <id>, \"name\": \"...\", \"description\": \
             \"...\", \"intent\": \"...\"}]}"
        }
        PromptType::GenerateIdeas => {
            "You are a content strategist. Write {count} content ideas for the topic cluster \
             \"{cluster_name}\" ({cluster_description}). Its keywords, by search volume: \
             {keywords}.\nEach idea needs a title, a content_type (one of post, page, guide, \
             listicle, comparison, how_to, review), a content_structure (one of article, \
             list, tutorial, faq, case_study, comparison), the target_keywords it covers (from \
             the list), an outline of 4-8 section headings, and an estimated_word_count.\n\
             Answer with JSON only: {\"ideas\": [{\"title\": \"...\", \"description\": \"...\", \
             \"content_type\": \"...\", \"content_structure\": \"...\", \"target_keywords\": \
             [\"...\"], \"outline\": [\"...\"], \"estimated_word_count\": 1500}]}"
        }
        PromptType::ContentGeneration => {
            "You are an expert writer. Write an article for the idea \"{title}\" targeting the \
             keywords {keywords}. Outline: {outline}. Tone: {tone}.\nAnswer with JSON only: \
             {\"title\": \"...\", \"meta_title\": \"... (max 60 characters)\", \
             \"meta_description\": \"... (max 160 characters)\", \"html\": \"<h2>...</h2><p>...\
             </p>\", \"primary_keyword\": \"...\", \"secondary_keywords\": [\"...\"]}"
        }
        PromptType::ImagePrompts => {
            "From the article below, write one prompt for a featured image and one for each H2 \
             section, describing a photograph or illustration without any text in it.\n\
             Article:\n{content}\n\nAnswer with JSON only: {\"featured\": \"...\", \
             \"in_article\": [\"...\"]}"
        }
        PromptType::SocialCompose => {
            "Write a post for each of these platforms: {platforms}, from the text below. Respect \
             each platform's length limit ({limits}) and add up to {max_hashtags} relevant \
             hashtags.\nText:\n{text}\n\nAnswer with JSON only: {\"variants\": [{\"platform\": \
             \"...\", \"text\": \"...\", \"hashtags\": [\"#...\"]}]}"
        }
        PromptType::SeoRecommendations => {
            "You are a senior SEO consultant. The audit of {url} for the keywords {keywords} \
             found these problems:\n{findings}\nWrite a short, prioritised action plan (at most \
             8 steps), each step concrete.\nAnswer with JSON only: {\"plan\": [{\"priority\": \
             1, \"action\": \"...\", \"why\": \"...\"}]}"
        }
    }
}

/// Fills `{name}` placeholders from `values`; unknown placeholders and JSON braces are left
/// as they are.
pub fn render(template: &str, values: &[(&str, &str)]) -> String {
    let mut out = template.to_owned();
    for (name, value) in values {
        out = out.replace(&format!("{{{name}}}"), value);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_prompt_type_round_trips_and_has_a_default() {
        for prompt_type in PromptType::ALL {
            assert_eq!(PromptType::parse(prompt_type.as_str()), Some(prompt_type));
            assert!(!default_prompt(prompt_type).is_empty());
        }
        assert_eq!(PromptType::parse("nope"), None);
    }

    #[test]
    fn render_fills_placeholders_and_keeps_json_braces() {
        let text = render("Name {cluster_name}: {\"a\": 1} {missing}", &[("cluster_name", "Shoes")]);
        assert_eq!(text, "Name Shoes: {\"a\": 1} {missing}");
    }
}

/// An account's own prompt texts: at most one per prompt type (a unique index), read and
/// written for the caller's account only.
pub mod owned {
    use diesel::{pg::Pg, prelude::*};

    use super::PromptType;
    use crate::{
        Result, db::models::AiPrompt, db::schema::ai_prompts, ids::AccountId, owned_table, tenant::ListFilter,
    };

    /// The columns of a new prompt text.
    #[derive(Debug, Insertable)]
    #[diesel(table_name = ai_prompts)]
    pub struct PromptInsertForm {
        pub prompt_type: String,
        pub prompt_value: String,
        pub is_active: bool,
    }

    /// The columns an update of a prompt text may change.
    #[derive(Debug, Default, AsChangeset)]
    #[diesel(table_name = ai_prompts)]
    pub struct PromptUpdateForm {
        pub prompt_value: Option<String>,
        pub is_active: Option<bool>,
    }

    /// A list of the account's prompt texts, by type.
    #[derive(Debug, Default)]
    pub struct PromptFilter;

    impl ListFilter<ai_prompts::BoxedQuery<'static, Pg>> for PromptFilter {
        fn narrow(&self, query: ai_prompts::BoxedQuery<'static, Pg>) -> ai_prompts::BoxedQuery<'static, Pg> {
            query
        }

        fn order(&self, query: ai_prompts::BoxedQuery<'static, Pg>) -> ai_prompts::BoxedQuery<'static, Pg> {
            query.order((ai_prompts::prompt_type, ai_prompts::id))
        }
    }

    owned_table! {
        AiPrompt { table: ai_prompts, what: "prompt", insert: PromptInsertForm, update: PromptUpdateForm, filter: PromptFilter }
    }

    fn of_type(account: AccountId, prompt_type: PromptType) -> ai_prompts::BoxedQuery<'static, Pg> {
        ai_prompts::table
            .filter(ai_prompts::account_id.eq(account.0))
            .filter(ai_prompts::prompt_type.eq(prompt_type.as_str()))
            .into_boxed()
    }

    /// The account's text for a type, if it saved one (active or not).
    pub fn saved(
        conn: &mut PgConnection,
        account: AccountId,
        prompt_type: PromptType,
    ) -> Result<Option<AiPrompt>> {
        Ok(of_type(account, prompt_type).select(AiPrompt::as_select()).first(conn).optional()?)
    }

    /// Creates or replaces the account's text for a type.
    pub fn save(
        conn: &mut PgConnection,
        account: AccountId,
        prompt_type: PromptType,
        prompt_value: &str,
        is_active: bool,
    ) -> Result<AiPrompt> {
        Ok(diesel::insert_into(ai_prompts::table)
            .values((
                ai_prompts::account_id.eq(account.0),
                ai_prompts::prompt_type.eq(prompt_type.as_str()),
                ai_prompts::prompt_value.eq(prompt_value),
                ai_prompts::is_active.eq(is_active),
            ))
            .on_conflict((ai_prompts::account_id, ai_prompts::prompt_type))
            .do_update()
            .set((
                ai_prompts::prompt_value.eq(prompt_value),
                ai_prompts::is_active.eq(is_active),
                ai_prompts::updated_at.eq(diesel::dsl::now),
            ))
            .returning(AiPrompt::as_returning())
            .get_result(conn)?)
    }

    /// Adds the account's text for a type it has none for yet; `None` when it has one.
    pub fn add(
        conn: &mut PgConnection,
        account: AccountId,
        form: PromptInsertForm,
    ) -> Result<Option<AiPrompt>> {
        Ok(diesel::insert_into(ai_prompts::table)
            .values((ai_prompts::account_id.eq(account.0), form))
            .on_conflict_do_nothing()
            .returning(AiPrompt::as_returning())
            .get_result(conn)
            .optional()?)
    }

    /// Drops the account's text for a type, so the default applies again.
    pub fn reset(conn: &mut PgConnection, account: AccountId, prompt_type: PromptType) -> Result<()> {
        diesel::delete(
            ai_prompts::table
                .filter(ai_prompts::account_id.eq(account.0))
                .filter(ai_prompts::prompt_type.eq(prompt_type.as_str())),
        )
        .execute(conn)?;
        Ok(())
    }
}

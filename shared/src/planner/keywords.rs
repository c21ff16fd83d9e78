//! Keywords: what an account wants to rank for, on a site (and sector), maybe in a cluster.
//! Every write that can move a keyword in or out of a cluster keeps that cluster's totals true
//! in the same transaction, so keywords are created, updated and deleted through this
//! module's functions, not the kit's plain forms. The list, a cluster's keywords and the CSV
//! export read through one [`KeywordFilter`], so they agree on what matches and in which order.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use diesel::{pg::Pg, prelude::*};
use serde::{Deserialize, Serialize};
use utoipa::openapi::{
    RefOr,
    schema::{ObjectBuilder, Schema, Type},
};

use super::{Intent, refresh_cluster_totals};
use crate::{
    Result,
    db::schema::{keywords, seed_keywords},
    ids::AccountId,
    owned_table,
    plans::{self, Limited},
    tenant::{ListFilter, Scope},
};

/// Longest keyword accepted, in characters.
pub const MAX_KEYWORD_LEN: usize = 255;
/// Rows per INSERT statement (Postgres allows 65,535 bind parameters per statement).
const INSERT_CHUNK: usize = 2_000;

crate::db::text_enum::text_enum! {
    /// Status of a keyword.
    pub enum KeywordStatus {
        Active = "active",
        Pending = "pending",
        Archived = "archived",
    }
}

#[derive(Clone, Debug, Queryable, Selectable, Identifiable, Serialize, utoipa::ToSchema)]
#[diesel(table_name = keywords, check_for_backend(diesel::pg::Pg))]
pub struct Keyword {
    pub id: i64,
    pub account_id: i64,
    pub site_id: i64,
    pub sector_id: Option<i64>,
    pub seed_keyword_id: Option<i64>,
    pub cluster_id: Option<i64>,
    pub keyword: String,
    pub volume: i32,
    pub difficulty: i16,
    pub intent: Intent,
    pub status: KeywordStatus,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

// Find and list through the kit; writes through [`create`], [`update`] and [`delete`], which
// keep the cluster totals.
owned_table! { Keyword { table: keywords, what: "keyword", site: site_id, filter: KeywordFilter } }

/// What a keyword list sorts by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeywordSort {
    Created,
    Volume,
    Difficulty,
    Keyword,
}

/// `ordering`: a sort key, `-` in front for descending. The seed's `seed_keyword__volume` and
/// `seed_keyword__difficulty` name the keyword's own copies of those figures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub struct KeywordOrdering {
    pub sort: KeywordSort,
    pub descending: bool,
}

impl Default for KeywordOrdering {
    fn default() -> Self {
        KeywordOrdering { sort: KeywordSort::Created, descending: true }
    }
}

/// The accepted sort keys, each also with `-` in front.
const SORT_KEYS: [(&str, KeywordSort); 7] = [
    ("created_at", KeywordSort::Created),
    ("volume", KeywordSort::Volume),
    ("seed_keyword__volume", KeywordSort::Volume),
    ("difficulty", KeywordSort::Difficulty),
    ("seed_keyword__difficulty", KeywordSort::Difficulty),
    ("keyword", KeywordSort::Keyword),
    ("seed_keyword__keyword", KeywordSort::Keyword),
];

impl TryFrom<String> for KeywordOrdering {
    type Error = String;

    fn try_from(value: String) -> std::result::Result<Self, String> {
        let (descending, name) = match value.strip_prefix('-') {
            Some(name) => (true, name),
            None => (false, value.as_str()),
        };
        let Some(&(_, sort)) = SORT_KEYS.iter().find(|(key, _)| *key == name) else {
            return Err(format!(
                "Unknown ordering `{value}`; use created_at, volume, difficulty or keyword, \
                 with `-` in front for descending."
            ));
        };
        Ok(KeywordOrdering { sort, descending })
    }
}

/// Documented as the string enum it is read from: every sort key, ascending and descending.
impl utoipa::PartialSchema for KeywordOrdering {
    fn schema() -> RefOr<Schema> {
        let names = SORT_KEYS.iter().flat_map(|(key, _)| [key.to_string(), format!("-{key}")]);
        ObjectBuilder::new()
            .schema_type(Type::String)
            .enum_values(Some(names))
            .description(Some(
                "A sort key, `-` in front for descending (default `-created_at`). The \
                 `seed_keyword__` keys sort by the keyword's own copies of those figures.",
            ))
            .into()
    }
}

impl utoipa::ToSchema for KeywordOrdering {}

/// Which keywords a list, a cluster's keyword list or an export covers, and their order.
#[derive(Debug, Clone, Default)]
pub struct KeywordFilter {
    pub status: Option<KeywordStatus>,
    pub cluster_id: Option<i64>,
    /// Each must be the keyword's intent (the list takes it under two names).
    pub intents: Vec<Intent>,
    pub seed_keyword_id: Option<i64>,
    pub difficulty_min: Option<i16>,
    pub difficulty_max: Option<i16>,
    pub volume_min: Option<i32>,
    pub volume_max: Option<i32>,
    pub site_id: Option<i64>,
    pub sector_id: Option<i64>,
    /// An ILIKE pattern on the keyword ([`crate::tenant::contains`]).
    pub keyword: Option<String>,
    pub ordering: KeywordOrdering,
}

type Boxed = keywords::BoxedQuery<'static, Pg>;

impl ListFilter<Boxed> for KeywordFilter {
    fn narrow(&self, mut q: Boxed) -> Boxed {
        if let Some(status) = self.status {
            q = q.filter(keywords::status.eq(status));
        }
        if let Some(cluster_id) = self.cluster_id {
            q = q.filter(keywords::cluster_id.eq(cluster_id));
        }
        for intent in &self.intents {
            q = q.filter(keywords::intent.eq(*intent));
        }
        if let Some(seed_keyword_id) = self.seed_keyword_id {
            q = q.filter(keywords::seed_keyword_id.eq(seed_keyword_id));
        }
        if let Some(min) = self.difficulty_min {
            q = q.filter(keywords::difficulty.ge(min));
        }
        if let Some(max) = self.difficulty_max {
            q = q.filter(keywords::difficulty.le(max));
        }
        if let Some(min) = self.volume_min {
            q = q.filter(keywords::volume.ge(min));
        }
        if let Some(max) = self.volume_max {
            q = q.filter(keywords::volume.le(max));
        }
        if let Some(site_id) = self.site_id {
            q = q.filter(keywords::site_id.eq(site_id));
        }
        if let Some(sector_id) = self.sector_id {
            q = q.filter(keywords::sector_id.eq(sector_id));
        }
        if let Some(pattern) = &self.keyword {
            q = q.filter(keywords::keyword.ilike(pattern.clone()));
        }
        q
    }

    /// By the sort key, then by id in the same direction, so pages and export batches agree.
    fn order(&self, q: Boxed) -> Boxed {
        use KeywordSort as S;
        match (self.ordering.sort, self.ordering.descending) {
            (S::Created, false) => q.order((keywords::created_at.asc(), keywords::id.asc())),
            (S::Created, true) => q.order((keywords::created_at.desc(), keywords::id.desc())),
            (S::Volume, false) => q.order((keywords::volume.asc(), keywords::id.asc())),
            (S::Volume, true) => q.order((keywords::volume.desc(), keywords::id.desc())),
            (S::Difficulty, false) => q.order((keywords::difficulty.asc(), keywords::id.asc())),
            (S::Difficulty, true) => q.order((keywords::difficulty.desc(), keywords::id.desc())),
            (S::Keyword, false) => q.order((keywords::keyword.asc(), keywords::id.asc())),
            (S::Keyword, true) => q.order((keywords::keyword.desc(), keywords::id.desc())),
        }
    }
}

impl KeywordFilter {
    /// The rows that come after `last` in this filter's order: the keyset of the next batch.
    fn after(&self, q: Boxed, last: &Keyword) -> Boxed {
        macro_rules! past {
            ($column:expr, $value:expr) => {
                if self.ordering.descending {
                    q.filter($column.lt($value).or($column.eq($value).and(keywords::id.lt(last.id))))
                } else {
                    q.filter($column.gt($value).or($column.eq($value).and(keywords::id.gt(last.id))))
                }
            };
        }
        match self.ordering.sort {
            KeywordSort::Created => past!(keywords::created_at, last.created_at),
            KeywordSort::Volume => past!(keywords::volume, last.volume),
            KeywordSort::Difficulty => past!(keywords::difficulty, last.difficulty),
            KeywordSort::Keyword => past!(keywords::keyword, last.keyword.clone()),
        }
    }
}

/// Up to `limit` of the account's keywords matching `filter` that come after `last` in its
/// order (from the start without one): one batch of an ordered scan such as the CSV export.
pub fn batch_after(
    conn: &mut PgConnection,
    scope: &Scope,
    filter: &KeywordFilter,
    last: Option<&Keyword>,
    limit: i64,
) -> Result<Vec<Keyword>> {
    let mut q = filter.narrow(keywords::table.filter(crate::visible!(keywords, scope, site_id)).into_boxed());
    if let Some(last) = last {
        q = filter.after(q, last);
    }
    Ok(filter.order(q).limit(limit).select(Keyword::as_select()).load(conn)?)
}

/// The columns of a new keyword besides its account.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = keywords)]
pub struct KeywordInsertForm {
    pub site_id: i64,
    pub sector_id: Option<i64>,
    pub cluster_id: Option<i64>,
    pub seed_keyword_id: Option<i64>,
    pub keyword: String,
    pub volume: i32,
    pub difficulty: i16,
    pub intent: Intent,
    pub status: KeywordStatus,
}

/// The columns an update of a keyword may change; `None` leaves a column alone.
#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = keywords)]
pub struct KeywordUpdateForm {
    pub keyword: Option<String>,
    pub site_id: Option<i64>,
    pub sector_id: Option<Option<i64>>,
    pub cluster_id: Option<Option<i64>>,
    pub volume: Option<i32>,
    pub difficulty: Option<i16>,
    pub intent: Option<Intent>,
    pub status: Option<KeywordStatus>,
}

/// Adds a keyword to the account; its cluster's totals follow.
pub fn create(conn: &mut PgConnection, account: AccountId, form: KeywordInsertForm) -> Result<Keyword> {
    plans::limited(conn, account, Limited::Keywords, |conn| {
        let row = diesel::insert_into(keywords::table)
            .values((keywords::account_id.eq(account), form))
            .returning(Keyword::as_returning())
            .get_result::<Keyword>(conn)?;
        refresh_cluster_totals(conn, &Vec::from_iter(row.cluster_id))?;
        Ok(row)
    })
}

/// Applies `form` to the account's keyword `id`; the totals of the cluster it left and the
/// one it joined follow. `None` when the account has no such keyword.
pub fn update(
    conn: &mut PgConnection,
    scope: &Scope,
    id: i64,
    form: KeywordUpdateForm,
) -> Result<Option<Keyword>> {
    conn.transaction(|conn| {
        let scoped = || keywords::table.find(id).filter(crate::visible!(keywords, scope, site_id));
        let Some(was) = scoped().select(keywords::cluster_id).for_update().first(conn).optional()? else {
            return Ok(None);
        };
        let row = diesel::update(scoped())
            .set((form, keywords::updated_at.eq(diesel::dsl::now)))
            .returning(Keyword::as_returning())
            .get_result::<Keyword>(conn)?;
        let touched: Vec<i64> = [was, row.cluster_id].into_iter().flatten().collect();
        refresh_cluster_totals(conn, &touched)?;
        Ok(Some(row))
    })
}

/// Deletes the account's keywords among `ids` and keeps their clusters' totals true; returns
/// how many went.
pub fn delete(conn: &mut PgConnection, scope: &Scope, ids: &[i64]) -> Result<usize> {
    conn.transaction(|conn| {
        let clusters: Vec<Option<i64>> = diesel::delete(
            keywords::table
                .filter(crate::visible!(keywords, scope, site_id))
                .filter(keywords::id.eq_any(ids)),
        )
        .returning(keywords::cluster_id)
        .get_results(conn)?;
        let touched: Vec<i64> = clusters.iter().copied().flatten().collect();
        refresh_cluster_totals(conn, &touched)?;
        Ok(clusters.len())
    })
}

/// Sets the status of the account's keywords among `ids`; returns how many changed.
pub fn set_status(
    conn: &mut PgConnection,
    scope: &Scope,
    ids: &[i64],
    status: KeywordStatus,
) -> Result<usize> {
    Ok(diesel::update(
        keywords::table.filter(crate::visible!(keywords, scope, site_id)).filter(keywords::id.eq_any(ids)),
    )
    .set((keywords::status.eq(status), keywords::updated_at.eq(diesel::dsl::now)))
    .execute(conn)?)
}

/// Inserts every form whose keyword its site (and sector) does not have yet, in one
/// transaction; a keyword already there hits the unique index and is skipped. The totals of
/// the clusters they join follow. Returns the rows inserted.
pub fn insert_missing(
    conn: &mut PgConnection,
    account: AccountId,
    forms: Vec<KeywordInsertForm>,
) -> Result<Vec<Keyword>> {
    plans::limited(conn, account, Limited::Keywords, |conn| {
        let mut inserted = Vec::with_capacity(forms.len());
        for chunk in forms.chunks(INSERT_CHUNK) {
            let values: Vec<_> = chunk.iter().map(|form| (keywords::account_id.eq(account), form)).collect();
            let batch: Vec<Keyword> = diesel::insert_into(keywords::table)
                .values(values)
                .on_conflict_do_nothing()
                .returning(Keyword::as_returning())
                .get_results(conn)?;
            inserted.extend(batch);
        }
        let touched: Vec<i64> = inserted.iter().filter_map(|row| row.cluster_id).collect();
        refresh_cluster_totals(conn, &touched)?;
        Ok(inserted)
    })
}

/// Copies the active seed keywords among `seed_ids` (text, volume, difficulty, intent) into
/// the account's site and sector, each text once; those the site (and sector) already has are
/// skipped, so repeating the call adds nothing. Returns the keywords added.
pub fn add_from_seed(
    conn: &mut PgConnection,
    account: AccountId,
    seed_ids: &[i64],
    site_id: i64,
    sector_id: Option<i64>,
) -> Result<Vec<Keyword>> {
    let seeds: Vec<(i64, String, i32, i16, Intent)> = seed_keywords::table
        .filter(seed_keywords::id.eq_any(seed_ids))
        .filter(seed_keywords::is_active.eq(true))
        .order(seed_keywords::id)
        .select((
            seed_keywords::id,
            seed_keywords::keyword,
            seed_keywords::volume,
            seed_keywords::difficulty,
            seed_keywords::intent,
        ))
        .load(conn)?;
    let mut seen = HashSet::new();
    let forms: Vec<KeywordInsertForm> = seeds
        .into_iter()
        .filter(|(_, keyword, ..)| seen.insert(keyword.to_lowercase()))
        .map(|(seed_id, keyword, volume, difficulty, intent)| KeywordInsertForm {
            site_id,
            sector_id,
            cluster_id: None,
            seed_keyword_id: Some(seed_id),
            keyword,
            volume,
            difficulty,
            intent,
            status: KeywordStatus::Active,
        })
        .collect();
    if forms.is_empty() {
        return Ok(Vec::new());
    }
    insert_missing(conn, account, forms)
}

/// Why the keywords asked for cannot be clustered together.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SelectionProblem {
    /// These ids are not the account's keywords (on the site and sector, when given).
    Missing(Vec<i64>),
    /// Nothing matched: the site (or sector) has no active keywords.
    Nothing,
    /// More than the limit matched.
    TooMany,
    /// The keywords are on more than one site.
    ManySites,
}

/// The keywords one clustering run covers, all on one site.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selection {
    pub site_id: i64,
    /// The sector asked for, or the one all the keywords share.
    pub sector_id: Option<i64>,
    pub keyword_ids: Vec<i64>,
}

/// The keywords to cluster: the account's `ids`, or without them every active keyword of
/// `site_id` (and `sector_id`); at most `limit`, all on one site.
pub fn select_for_clustering(
    conn: &mut PgConnection,
    scope: &Scope,
    ids: Option<&[i64]>,
    site_id: Option<i64>,
    sector_id: Option<i64>,
    limit: usize,
) -> Result<std::result::Result<Selection, SelectionProblem>> {
    let mut query = keywords::table
        .filter(crate::visible!(keywords, scope, site_id))
        .select((keywords::id, keywords::site_id, keywords::sector_id))
        .order(keywords::id)
        .into_boxed();
    match ids {
        Some(ids) => query = query.filter(keywords::id.eq_any(ids.to_vec())),
        None => query = query.filter(keywords::status.eq(KeywordStatus::Active)),
    }
    if let Some(site_id) = site_id {
        query = query.filter(keywords::site_id.eq(site_id));
    }
    if let Some(sector_id) = sector_id {
        query = query.filter(keywords::sector_id.eq(sector_id));
    }
    // One more than allowed tells "too many" apart from "exactly the limit".
    let rows: Vec<(i64, i64, Option<i64>)> =
        query.limit(i64::try_from(limit).unwrap_or(i64::MAX).saturating_add(1)).load(conn)?;
    Ok(selection(ids, sector_id, rows, limit))
}

/// The rules of [`select_for_clustering`] over the rows it found.
fn selection(
    ids: Option<&[i64]>,
    sector_id: Option<i64>,
    rows: Vec<(i64, i64, Option<i64>)>,
    limit: usize,
) -> std::result::Result<Selection, SelectionProblem> {
    if let Some(ids) = ids {
        let found: HashSet<i64> = rows.iter().map(|row| row.0).collect();
        let missing: Vec<i64> = ids.iter().copied().filter(|id| !found.contains(id)).collect();
        if !missing.is_empty() {
            return Err(SelectionProblem::Missing(missing));
        }
    }
    let Some(&(_, site_id, first_sector)) = rows.first() else {
        return Err(SelectionProblem::Nothing);
    };
    if rows.len() > limit {
        return Err(SelectionProblem::TooMany);
    }
    if rows.iter().any(|row| row.1 != site_id) {
        return Err(SelectionProblem::ManySites);
    }
    let sector_id =
        sector_id.or_else(|| rows.iter().all(|row| row.2 == first_sector).then_some(first_sector).flatten());
    Ok(Selection { site_id, sector_id, keyword_ids: rows.into_iter().map(|row| row.0).collect() })
}

/// A keyword as the clustering reads it.
#[derive(Debug, Clone, Queryable)]
pub struct KeywordText {
    pub id: i64,
    pub keyword: String,
    pub volume: i32,
}

/// The account's keywords among `ids` that are on `site_id`, by id.
pub fn texts_on_site(
    conn: &mut PgConnection,
    account: AccountId,
    site_id: i64,
    ids: &[i64],
) -> Result<Vec<KeywordText>> {
    Ok(keywords::table
        .filter(keywords::account_id.eq(account))
        .filter(keywords::site_id.eq(site_id))
        .filter(keywords::id.eq_any(ids))
        .order(keywords::id)
        .select((keywords::id, keywords::keyword, keywords::volume))
        .load(conn)?)
}

/// The `limit` keywords of a cluster with the most volume, with their volume.
pub fn top_of_cluster(conn: &mut PgConnection, cluster_id: i64, limit: i64) -> Result<Vec<(String, i32)>> {
    Ok(keywords::table
        .filter(keywords::cluster_id.eq(cluster_id))
        .order((keywords::volume.desc(), keywords::id))
        .limit(limit)
        .select((keywords::keyword, keywords::volume))
        .load(conn)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn orderings_read_every_key_both_ways() {
        let ordering = KeywordOrdering::try_from("-seed_keyword__volume".to_owned());
        assert_eq!(ordering, Ok(KeywordOrdering { sort: KeywordSort::Volume, descending: true }));
        assert!(KeywordOrdering::try_from("status".to_owned()).is_err());
    }

    #[test]
    fn a_selection_is_one_site_within_the_limit() {
        let rows = vec![(1, 10, Some(5)), (2, 10, Some(5))];
        assert_eq!(
            selection(None, None, rows.clone(), 2),
            Ok(Selection { site_id: 10, sector_id: Some(5), keyword_ids: vec![1, 2] })
        );
        assert_eq!(selection(None, None, rows.clone(), 1), Err(SelectionProblem::TooMany));
        assert_eq!(selection(Some(&[1, 3]), None, rows, 2), Err(SelectionProblem::Missing(vec![3])));
        assert_eq!(selection(None, None, vec![], 2), Err(SelectionProblem::Nothing));
        let mixed = vec![(1, 10, Some(5)), (2, 11, None)];
        assert_eq!(selection(None, None, mixed, 2), Err(SelectionProblem::ManySites));
        let sectors = vec![(1, 10, Some(5)), (2, 10, None)];
        assert_eq!(selection(None, None, sectors, 2).map(|s| s.sector_id), Ok(None));
    }
}

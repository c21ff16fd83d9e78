//! Clusters: groups of a site's keywords on one topic, made by hand (`manual`) or by an
//! auto_cluster run (`auto`). `keywords_count` and `volume` are kept true by the keyword
//! writes ([`super::refresh_cluster_totals`]); deleting a cluster leaves its keywords
//! unclustered (the foreign key sets their `cluster_id` to null). A cluster stays on its site.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use diesel::{
    pg::Pg,
    prelude::*,
    sql_types::{Array, BigInt, Nullable, Text},
};
use serde::{Deserialize, Serialize};

use super::{Intent, keywords::top_of_cluster, refresh_cluster_totals};
use crate::{
    Result,
    db::schema::{clusters, keywords},
    ids::AccountId,
    owned_table,
    tenant::{ListFilter, Scoped},
};

crate::db::text_enum::text_enum! {
    /// Status of a cluster.
    pub enum ClusterStatus {
        Active = "active",
        Archived = "archived",
    }
}

crate::db::text_enum::text_enum! {
    /// Who made a cluster: its owner, or an auto_cluster run (whose re-run may empty and
    /// remove it).
    pub enum ClusterSource {
        Manual = "manual",
        Auto = "auto",
    }
}

#[derive(Clone, Debug, Queryable, Selectable, Identifiable, Serialize, utoipa::ToSchema)]
#[diesel(table_name = clusters, check_for_backend(diesel::pg::Pg))]
pub struct Cluster {
    pub id: i64,
    pub account_id: i64,
    pub site_id: i64,
    pub sector_id: Option<i64>,
    pub name: String,
    pub description: String,
    pub intent: Option<Intent>,
    pub status: ClusterStatus,
    pub source: ClusterSource,
    pub keywords_count: i32,
    pub volume: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Order of the cluster list: a sort key, `-` in front for descending.
#[derive(Debug, Default, Deserialize, Clone, Copy, utoipa::ToSchema)]
pub enum ClusterOrdering {
    #[serde(rename = "keywords_count")]
    KeywordsCount,
    #[serde(rename = "-keywords_count")]
    KeywordsCountDesc,
    #[serde(rename = "volume")]
    Volume,
    #[serde(rename = "-volume")]
    VolumeDesc,
    #[serde(rename = "created_at")]
    Created,
    #[serde(rename = "-created_at")]
    #[default]
    CreatedDesc,
    #[serde(rename = "name")]
    Name,
    #[serde(rename = "-name")]
    NameDesc,
}

/// A cluster list: by status, site, sector, intent and a pattern on the name.
#[derive(Debug, Default)]
pub struct ClusterFilter {
    pub status: Option<ClusterStatus>,
    pub site_id: Option<i64>,
    pub sector_id: Option<i64>,
    pub intent: Option<Intent>,
    /// An ILIKE pattern ([`crate::tenant::contains`]).
    pub name: Option<String>,
    pub ordering: ClusterOrdering,
}

type Boxed = clusters::BoxedQuery<'static, Pg>;

impl ListFilter<Boxed> for ClusterFilter {
    fn narrow(&self, mut q: Boxed) -> Boxed {
        if let Some(status) = self.status {
            q = q.filter(clusters::status.eq(status));
        }
        if let Some(site_id) = self.site_id {
            q = q.filter(clusters::site_id.eq(site_id));
        }
        if let Some(sector_id) = self.sector_id {
            q = q.filter(clusters::sector_id.eq(sector_id));
        }
        if let Some(intent) = self.intent {
            q = q.filter(clusters::intent.eq(intent));
        }
        if let Some(pattern) = &self.name {
            q = q.filter(clusters::name.ilike(pattern.clone()));
        }
        q
    }

    fn order(&self, q: Boxed) -> Boxed {
        use ClusterOrdering as O;
        use clusters::{created_at, id, keywords_count, name, volume};
        match self.ordering {
            O::KeywordsCount => q.order((keywords_count.asc(), id)),
            O::KeywordsCountDesc => q.order((keywords_count.desc(), id.desc())),
            O::Volume => q.order((volume.asc(), id)),
            O::VolumeDesc => q.order((volume.desc(), id.desc())),
            O::Created => q.order((created_at.asc(), id)),
            O::CreatedDesc => q.order((created_at.desc(), id.desc())),
            O::Name => q.order((name.asc(), id)),
            O::NameDesc => q.order((name.desc(), id.desc())),
        }
    }
}

/// The columns of a new cluster besides its account (made by hand: `manual`, no keywords).
#[derive(Debug, Insertable)]
#[diesel(table_name = clusters)]
pub struct ClusterInsertForm {
    pub site_id: i64,
    pub sector_id: Option<i64>,
    pub name: String,
    pub description: String,
    pub intent: Option<Intent>,
    pub status: ClusterStatus,
}

/// The columns an update of a cluster may change (never its site); `None` leaves a column
/// alone.
#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = clusters)]
pub struct ClusterUpdateForm {
    pub name: Option<String>,
    pub sector_id: Option<Option<i64>>,
    pub description: Option<String>,
    pub intent: Option<Option<Intent>>,
    pub status: Option<ClusterStatus>,
}

owned_table! {
    Cluster { table: clusters, what: "cluster", site: site_id, insert: ClusterInsertForm, update: ClusterUpdateForm, filter: ClusterFilter }
}

/// The names of the account's clusters among `ids`, by id.
pub fn names(conn: &mut PgConnection, account: AccountId, ids: &[i64]) -> Result<HashMap<i64, String>> {
    let mut ids = ids.to_vec();
    ids.sort_unstable();
    ids.dedup();
    Ok(clusters::table
        .filter(clusters::account_id.eq(account))
        .filter(clusters::id.eq_any(&ids))
        .select((clusters::id, clusters::name))
        .load::<(i64, String)>(conn)?
        .into_iter()
        .collect())
}

/// What the idea writer is told about a cluster.
#[derive(Debug, Clone)]
pub struct ClusterBrief {
    pub id: i64,
    pub site_id: i64,
    pub sector_id: Option<i64>,
    pub name: String,
    pub description: String,
    /// Its keywords with the most volume first, with their volume.
    pub keywords: Vec<(String, i32)>,
}

/// Briefs of the account's clusters among `ids`, by id, each with its `keywords` top keywords.
pub fn briefs(
    conn: &mut PgConnection,
    account: AccountId,
    ids: &[i64],
    keywords: i64,
) -> Result<Vec<ClusterBrief>> {
    Cluster::find_many(conn, &account.into(), ids)?
        .into_iter()
        .map(|cluster| {
            Ok(ClusterBrief {
                keywords: top_of_cluster(conn, cluster.id, keywords)?,
                id: cluster.id,
                site_id: cluster.site_id,
                sector_id: cluster.sector_id,
                name: cluster.name,
                description: cluster.description,
            })
        })
        .collect()
}

/// A cluster an auto_cluster run found.
#[derive(Clone, Debug)]
pub struct FoundCluster {
    pub name: String,
    pub description: String,
    pub intent: Option<Intent>,
    pub keyword_ids: Vec<i64>,
}

#[derive(QueryableByName)]
struct Id {
    #[diesel(sql_type = BigInt)]
    id: i64,
}

/// Writes an auto_cluster run: clusters upserted by name (a re-run on the same keywords
/// lands on the same rows, active again), keywords moved into them, totals refreshed, and the
/// run's earlier auto clusters that are left empty removed. Returns the cluster ids in input
/// order.
pub fn save_found(
    conn: &mut PgConnection,
    account: AccountId,
    site_id: i64,
    sector_id: Option<i64>,
    found: &[FoundCluster],
) -> Result<Vec<i64>> {
    let all_keywords: Vec<i64> =
        found.iter().flat_map(|cluster| cluster.keyword_ids.iter().copied()).collect();
    let previous: Vec<Option<i64>> = keywords::table
        .filter(keywords::account_id.eq(account))
        .filter(keywords::id.eq_any(&all_keywords))
        .filter(keywords::cluster_id.is_not_null())
        .select(keywords::cluster_id)
        .distinct()
        .load(conn)?;
    let mut ids = Vec::with_capacity(found.len());
    for cluster in found {
        let Id { id } = diesel::sql_query(
            "INSERT INTO clusters (account_id, site_id, sector_id, name, description, intent, source) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) \
             ON CONFLICT (site_id, coalesce(sector_id, 0), lower(name)) DO UPDATE \
             SET description = EXCLUDED.description, intent = EXCLUDED.intent, status = $8, \
                 updated_at = now() \
             RETURNING id",
        )
        .bind::<BigInt, _>(account)
        .bind::<BigInt, _>(site_id)
        .bind::<Nullable<BigInt>, _>(sector_id)
        .bind::<Text, _>(&cluster.name)
        .bind::<Text, _>(&cluster.description)
        .bind::<Nullable<Text>, _>(cluster.intent)
        .bind::<Text, _>(ClusterSource::Auto)
        .bind::<Text, _>(ClusterStatus::Active)
        .get_result(conn)?;
        diesel::sql_query(
            "UPDATE keywords SET cluster_id = $1, updated_at = now() \
             WHERE account_id = $2 AND id = ANY($3) AND cluster_id IS DISTINCT FROM $1",
        )
        .bind::<BigInt, _>(id)
        .bind::<BigInt, _>(account)
        .bind::<Array<BigInt>, _>(&cluster.keyword_ids)
        .execute(conn)?;
        ids.push(id);
    }
    let mut touched: Vec<i64> = ids.iter().copied().chain(previous.into_iter().flatten()).collect();
    touched.sort_unstable();
    touched.dedup();
    refresh_cluster_totals(conn, &touched)?;
    diesel::delete(
        clusters::table
            .filter(clusters::id.eq_any(&touched))
            .filter(clusters::account_id.eq(account))
            .filter(clusters::source.eq(ClusterSource::Auto))
            .filter(clusters::keywords_count.eq(0)),
    )
    .execute(conn)?;
    Ok(ids)
}

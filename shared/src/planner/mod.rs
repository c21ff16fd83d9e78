//! The planner: the keywords an account targets, the clusters they are grouped into and the
//! content ideas written for those clusters. One module per resource ([`keywords`],
//! [`clusters`], [`ideas`]), each with its row, its states (stored as text), its list filter,
//! its forms and its rules; the API's planner routes and `worker-clustering` both call them.
//!
//! Every planner row belongs to an account and to a site of that account, and optionally to a
//! sector of that site and a cluster on that site ([`Refs`]; the database's composite foreign
//! keys are the second fence). A cluster's `keywords_count` and `volume` are kept true by every
//! write that moves keywords in or out of it ([`refresh_cluster_totals`]).

pub mod clusters;
pub mod ideas;
pub mod intent;
pub mod keywords;

use diesel::{
    prelude::*,
    sql_types::{Array, BigInt},
};

pub use clusters::{Cluster, ClusterSource, ClusterStatus};
pub use ideas::{ContentIdea, IdeaStatus};
pub use keywords::{Keyword, KeywordStatus};

use crate::{
    Result,
    db::schema::{clusters as clusters_table, sectors, sites},
    tenant::Scope,
};

crate::db::text_enum::text_enum! {
    /// Search intent of a keyword or cluster.
    pub enum Intent {
        Informational = "informational",
        Commercial = "commercial",
        Transactional = "transactional",
        Navigational = "navigational",
    }
}

/// What a planner (or writer) row points at. Each must be the caller's, the sector must be on
/// the site and the cluster on the site.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Refs {
    pub site_id: i64,
    pub sector_id: Option<i64>,
    pub cluster_id: Option<i64>,
}

impl Refs {
    /// These refs with an update's fields applied: a field not sent keeps its value, a
    /// nullable one sent as `null` clears it.
    pub fn changed(
        self,
        site_id: Option<i64>,
        sector_id: Option<Option<i64>>,
        cluster_id: Option<Option<i64>>,
    ) -> Refs {
        Refs {
            site_id: site_id.unwrap_or(self.site_id),
            sector_id: sector_id.unwrap_or(self.sector_id),
            cluster_id: cluster_id.unwrap_or(self.cluster_id),
        }
    }
}

/// What is wrong with `refs` for the account, by field (`site_id`, `sector_id`,
/// `cluster_id`); empty when every one is the account's and fits the site. A missing site is
/// the only problem reported, since nothing can fit it.
pub fn ref_problems(
    conn: &mut PgConnection,
    scope: &Scope,
    refs: Refs,
) -> Result<Vec<(&'static str, &'static str)>> {
    let Refs { site_id, sector_id, cluster_id } = refs;
    let account = scope.account;
    let site: Option<i64> = sites::table
        .find(site_id)
        .filter(crate::visible!(sites, scope, id))
        .select(sites::id)
        .first(conn)
        .optional()?;
    if site.is_none() {
        return Ok(vec![("site_id", "Site not found.")]);
    }
    let mut problems = Vec::new();
    if let Some(sector_id) = sector_id {
        let sector: Option<i64> = sectors::table
            .find(sector_id)
            .filter(sectors::account_id.eq(account))
            .filter(sectors::site_id.eq(site_id))
            .select(sectors::id)
            .first(conn)
            .optional()?;
        if sector.is_none() {
            problems.push(("sector_id", "Sector not found on this site."));
        }
    }
    if let Some(cluster_id) = cluster_id {
        let cluster: Option<i64> = clusters_table::table
            .find(cluster_id)
            .filter(clusters_table::account_id.eq(account))
            .filter(clusters_table::site_id.eq(site_id))
            .select(clusters_table::id)
            .first(conn)
            .optional()?;
        if cluster.is_none() {
            problems.push(("cluster_id", "Cluster not found on this site."));
        }
    }
    Ok(problems)
}

/// Recomputes `keywords_count` and `volume` of the given clusters from their keywords. Call
/// it in the transaction that moved keywords in or out of them; the cluster rows are locked
/// first (in id order) so two concurrent moves cannot leave stale totals.
pub fn refresh_cluster_totals(conn: &mut PgConnection, cluster_ids: &[i64]) -> Result<()> {
    let mut ids = cluster_ids.to_vec();
    ids.sort_unstable();
    ids.dedup();
    if ids.is_empty() {
        return Ok(());
    }
    clusters_table::table
        .filter(clusters_table::id.eq_any(&ids))
        .order(clusters_table::id)
        .select(clusters_table::id)
        .for_update()
        .load::<i64>(conn)?;
    diesel::sql_query(
        "UPDATE clusters c SET keywords_count = t.n, volume = t.v, updated_at = now() \
         FROM (SELECT c2.id, count(k.id)::integer AS n, coalesce(sum(k.volume), 0)::bigint AS v \
               FROM clusters c2 LEFT JOIN keywords k ON k.cluster_id = c2.id \
               WHERE c2.id = ANY($1) GROUP BY c2.id) t \
         WHERE c.id = t.id AND (c.keywords_count <> t.n OR c.volume <> t.v)",
    )
    .bind::<Array<BigInt>, _>(ids)
    .execute(conn)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_word_per_intent() {
        for intent in Intent::ALL {
            assert_eq!(Intent::parse(intent.as_str()), Some(*intent));
        }
        assert_eq!(Intent::parse("Commercial"), None);
    }

    #[test]
    fn changed_refs_keep_what_was_not_sent() {
        let refs = Refs { site_id: 1, sector_id: Some(2), cluster_id: Some(3) };
        assert_eq!(refs.changed(None, None, None), refs);
        assert_eq!(
            refs.changed(Some(4), Some(None), None),
            Refs { site_id: 4, sector_id: None, cluster_id: Some(3) }
        );
    }
}

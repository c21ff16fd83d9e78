//! Planner writes that the API and `worker-clustering` share.

use diesel::{
    prelude::*,
    sql_types::{Array, BigInt, Nullable, Text},
};

use crate::{
    Result,
    db::schema::{clusters, keywords},
};

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
    clusters::table
        .filter(clusters::id.eq_any(&ids))
        .order(clusters::id)
        .select(clusters::id)
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

/// A cluster an auto_cluster run found.
#[derive(Clone, Debug)]
pub struct FoundCluster {
    pub name: String,
    pub description: String,
    pub intent: Option<String>,
    pub keyword_ids: Vec<i64>,
}

#[derive(QueryableByName)]
struct Id {
    #[diesel(sql_type = BigInt)]
    id: i64,
}

/// Writes an auto_cluster run: clusters upserted by name (a re-run on the same keywords
/// lands on the same rows), keywords moved into them, totals refreshed, and the run's earlier
/// auto clusters that are left empty removed. Returns the cluster ids in input order.
pub fn save_clusters(
    conn: &mut PgConnection,
    account_id: i64,
    site_id: i64,
    sector_id: Option<i64>,
    found: &[FoundCluster],
) -> Result<Vec<i64>> {
    let all_keywords: Vec<i64> =
        found.iter().flat_map(|cluster| cluster.keyword_ids.iter().copied()).collect();
    let previous: Vec<Option<i64>> = keywords::table
        .filter(keywords::account_id.eq(account_id))
        .filter(keywords::id.eq_any(&all_keywords))
        .filter(keywords::cluster_id.is_not_null())
        .select(keywords::cluster_id)
        .distinct()
        .load(conn)?;
    let mut ids = Vec::with_capacity(found.len());
    for cluster in found {
        let Id { id } = diesel::sql_query(
            "INSERT INTO clusters (account_id, site_id, sector_id, name, description, intent, source) \
             VALUES ($1, $2, $3, $4, $5, $6, 'auto') \
             ON CONFLICT (site_id, coalesce(sector_id, 0), lower(name)) DO UPDATE \
             SET description = EXCLUDED.description, intent = EXCLUDED.intent, status = 'active', \
                 updated_at = now() \
             RETURNING id",
        )
        .bind::<BigInt, _>(account_id)
        .bind::<BigInt, _>(site_id)
        .bind::<Nullable<BigInt>, _>(sector_id)
        .bind::<Text, _>(&cluster.name)
        .bind::<Text, _>(&cluster.description)
        .bind::<Nullable<Text>, _>(cluster.intent.as_deref())
        .get_result(conn)?;
        diesel::sql_query(
            "UPDATE keywords SET cluster_id = $1, updated_at = now() \
             WHERE account_id = $2 AND id = ANY($3) AND cluster_id IS DISTINCT FROM $1",
        )
        .bind::<BigInt, _>(id)
        .bind::<BigInt, _>(account_id)
        .bind::<Array<BigInt>, _>(&cluster.keyword_ids)
        .execute(conn)?;
        ids.push(id);
    }
    let mut touched: Vec<i64> = ids.iter().copied().chain(previous.into_iter().flatten()).collect();
    touched.sort_unstable();
    touched.dedup();
    refresh_cluster_totals(conn, &touched)?;
    diesel::sql_query(
        "DELETE FROM clusters WHERE id = ANY($1) AND account_id = $2 AND source = 'auto' AND keywords_count = 0",
    )
    .bind::<Array<BigInt>, _>(&touched)
    .bind::<BigInt, _>(account_id)
    .execute(conn)?;
    Ok(ids)
}

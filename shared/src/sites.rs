//! Sites and their sectors: the websites an account works on and the topics of each. A sector
//! always belongs to a site of the same account (a composite foreign key enforces it).

use diesel::{pg::Pg, prelude::*};
use serde::Deserialize;

use crate::{
    Result,
    db::{
        models::{Sector, Site},
        schema::{sectors, sites},
    },
    ids::AccountId,
    owned_table,
    tenant::ListFilter,
};

/// The order of a site list: a sort key, `-` in front for descending.
#[derive(Debug, Default, Deserialize, Clone, Copy, utoipa::ToSchema)]
pub enum SiteOrdering {
    #[serde(rename = "name")]
    Name,
    #[serde(rename = "-name")]
    NameDesc,
    #[serde(rename = "created_at")]
    Created,
    #[serde(rename = "-created_at")]
    #[default]
    CreatedDesc,
}

/// The columns of a new site.
#[derive(Debug, Insertable)]
#[diesel(table_name = sites)]
pub struct SiteInsertForm {
    pub name: String,
    pub slug: String,
    pub domain: Option<String>,
    pub description: String,
    pub industry: Option<String>,
    pub is_active: bool,
}

/// The columns an update of a site may change.
#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = sites)]
pub struct SiteUpdateForm {
    pub name: Option<String>,
    pub slug: Option<String>,
    pub domain: Option<Option<String>>,
    pub description: Option<String>,
    pub industry: Option<Option<String>>,
    pub is_active: Option<bool>,
}

/// A site list: by activity and by a pattern on the name or the domain.
#[derive(Debug, Default)]
pub struct SiteFilter {
    pub is_active: Option<bool>,
    /// An ILIKE pattern ([`crate::tenant::contains`]).
    pub name_or_domain: Option<String>,
    pub ordering: SiteOrdering,
}

impl ListFilter<sites::BoxedQuery<'static, Pg>> for SiteFilter {
    fn narrow(&self, mut query: sites::BoxedQuery<'static, Pg>) -> sites::BoxedQuery<'static, Pg> {
        if let Some(active) = self.is_active {
            query = query.filter(sites::is_active.eq(active));
        }
        if let Some(pattern) = &self.name_or_domain {
            query = query.filter(sites::name.ilike(pattern.clone()).or(sites::domain.ilike(pattern.clone())));
        }
        query
    }

    fn order(&self, query: sites::BoxedQuery<'static, Pg>) -> sites::BoxedQuery<'static, Pg> {
        use sites::{created_at, id, name};
        match self.ordering {
            SiteOrdering::Name => query.order((name.asc(), id)),
            SiteOrdering::NameDesc => query.order((name.desc(), id)),
            SiteOrdering::Created => query.order((created_at.asc(), id)),
            SiteOrdering::CreatedDesc => query.order((created_at.desc(), id.desc())),
        }
    }
}

owned_table! {
    Site { table: sites, what: "site", site: id, insert: SiteInsertForm, update: SiteUpdateForm, filter: SiteFilter }
}

/// The columns of a new sector.
#[derive(Debug, Insertable)]
#[diesel(table_name = sectors)]
pub struct SectorInsertForm {
    pub site_id: i64,
    pub name: String,
    pub slug: String,
    pub description: String,
    pub is_active: bool,
}

/// The columns an update of a sector may change.
#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = sectors)]
pub struct SectorUpdateForm {
    pub site_id: Option<i64>,
    pub name: Option<String>,
    pub slug: Option<String>,
    pub description: Option<String>,
    pub is_active: Option<bool>,
}

/// A sector list, oldest first: by site, activity and a pattern on the name.
#[derive(Debug, Default)]
pub struct SectorFilter {
    pub site_id: Option<i64>,
    pub is_active: Option<bool>,
    /// An ILIKE pattern ([`crate::tenant::contains`]).
    pub name: Option<String>,
}

impl ListFilter<sectors::BoxedQuery<'static, Pg>> for SectorFilter {
    fn narrow(&self, mut query: sectors::BoxedQuery<'static, Pg>) -> sectors::BoxedQuery<'static, Pg> {
        if let Some(site_id) = self.site_id {
            query = query.filter(sectors::site_id.eq(site_id));
        }
        if let Some(active) = self.is_active {
            query = query.filter(sectors::is_active.eq(active));
        }
        if let Some(pattern) = &self.name {
            query = query.filter(sectors::name.ilike(pattern.clone()));
        }
        query
    }

    fn order(&self, query: sectors::BoxedQuery<'static, Pg>) -> sectors::BoxedQuery<'static, Pg> {
        query.order(sectors::id)
    }
}

owned_table! {
    Sector { table: sectors, what: "sector", site: site_id, insert: SectorInsertForm, update: SectorUpdateForm, filter: SectorFilter }
}

/// Every site of the account, by id (what its users can work on).
pub fn of_account(conn: &mut PgConnection, account: AccountId) -> Result<Vec<Site>> {
    Ok(sites::table
        .filter(sites::account_id.eq(account))
        .order(sites::id)
        .select(Site::as_select())
        .load(conn)?)
}

/// Makes site `id` the account's active site (IGNY8's `set_active`): it becomes active and
/// every other site of the account inactive, in one transaction. `None`: no such site.
pub fn set_active(conn: &mut PgConnection, account: AccountId, id: i64) -> Result<Option<Site>> {
    conn.transaction(|conn| {
        let Some(site_id) = sites::table
            .find(id)
            .filter(sites::account_id.eq(account))
            .select(sites::id)
            .for_update()
            .first::<i64>(conn)
            .optional()?
        else {
            return Ok(None);
        };
        diesel::update(sites::table.filter(sites::account_id.eq(account)).filter(sites::id.ne(site_id)))
            .filter(sites::is_active)
            .set((sites::is_active.eq(false), sites::updated_at.eq(diesel::dsl::now)))
            .execute(conn)?;
        Ok(Some(
            diesel::update(sites::table.find(site_id))
                .set((sites::is_active.eq(true), sites::updated_at.eq(diesel::dsl::now)))
                .returning(Site::as_returning())
                .get_result(conn)?,
        ))
    })
}

/// The most sectors a site works in at once.
pub const MAX_ACTIVE_SECTORS: usize = 5;

/// A sector a site selects: its slug and the name it gets when it is new.
pub struct SelectedSector {
    pub slug: String,
    pub name: String,
}

/// Makes `selected` the site's active sectors (IGNY8's `select_sectors`): each is reactivated
/// or created, every other sector of the site is deactivated (its rows stay), and the site's
/// industry is set when one is given. Returns the active sectors by id; `None`: no such site.
pub fn select_sectors(
    conn: &mut PgConnection,
    account: AccountId,
    site_id: i64,
    industry: Option<String>,
    selected: Vec<SelectedSector>,
) -> Result<Option<Vec<Sector>>> {
    conn.transaction(|conn| {
        let found = sites::table
            .find(site_id)
            .filter(sites::account_id.eq(account))
            .select(sites::id)
            .for_update()
            .first::<i64>(conn)
            .optional()?;
        if found.is_none() {
            return Ok(None);
        }
        if let Some(industry) = industry {
            diesel::update(sites::table.find(site_id))
                .set((sites::industry.eq(Some(industry)), sites::updated_at.eq(diesel::dsl::now)))
                .execute(conn)?;
        }
        let slugs: Vec<&str> = selected.iter().map(|sector| sector.slug.as_str()).collect();
        diesel::update(sectors::table.filter(sectors::site_id.eq(site_id)))
            .set((
                sectors::is_active.eq(sectors::slug.eq_any(&slugs)),
                sectors::updated_at.eq(diesel::dsl::now),
            ))
            .execute(conn)?;
        let new: Vec<_> = selected
            .iter()
            .map(|sector| {
                (
                    sectors::account_id.eq(account),
                    sectors::site_id.eq(site_id),
                    sectors::slug.eq(&sector.slug),
                    sectors::name.eq(&sector.name),
                    sectors::is_active.eq(true),
                )
            })
            .collect();
        diesel::insert_into(sectors::table).values(new).on_conflict_do_nothing().execute(conn)?;
        Ok(Some(
            sectors::table
                .filter(sectors::site_id.eq(site_id))
                .filter(sectors::is_active)
                .order(sectors::id)
                .select(Sector::as_select())
                .load(conn)?,
        ))
    })
}

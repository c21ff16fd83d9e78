//! Per-user site access (IGNY8's `SiteUserAccess`): which sites of the account an editor or
//! viewer reaches. Owners and admins reach every site. An editor or viewer with no grant
//! reaches every site too; once granted one or more, only those — every site-owned query of
//! the kit ([`crate::tenant::Scope`]) is narrowed to them. So that revoking cannot silently
//! widen a limited user's reach, the last grant of a user is not revoked: grant another
//! first, or remove the user.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use diesel::{pg::Pg, prelude::*};
use serde::Serialize;

use crate::{
    Result,
    auth::Role,
    db::schema::{site_user_access, sites, users},
    ids::AccountId,
    tenant::{ListFilter, SiteAccess, Window},
};

/// One user's access to one site, as listed: with the user's email and the site's name.
#[derive(Clone, Debug, Queryable, Serialize, utoipa::ToSchema)]
pub struct SiteGrant {
    pub id: i64,
    /// The user granted access.
    pub user: i64,
    pub user_email: String,
    /// The site they reach.
    pub site: i64,
    pub site_name: String,
    /// Who granted it (null once that user is gone).
    pub granted_by: Option<i64>,
    pub granted_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Which grants a listing covers.
#[derive(Clone, Debug, Default)]
pub struct GrantFilter {
    pub user_id: Option<i64>,
    pub site_id: Option<i64>,
}

/// Why a grant, a change or a revocation was refused.
#[derive(Debug, PartialEq, Eq)]
pub enum Refused {
    /// The account has no such user (`user`).
    UserNotFound,
    /// The user is an owner or admin, who reach every site anyway (`user`).
    ReachesEverySite,
    /// The account has no such site (`site`).
    SiteNotFound,
    /// The user already has this site.
    AlreadyGranted,
    /// It is the user's last grant: revoking it would open every site to them.
    LastGrant,
    /// The account has no such grant.
    NotFound,
}

/// The sites a user of `role` with grants on `granted` sites reaches (the grants come with
/// the token's holder, [`crate::auth::sessions::holder`]).
pub fn reach(role: Role, granted: Vec<i64>) -> SiteAccess {
    if role.at_least(Role::Admin) || granted.is_empty() {
        SiteAccess::All
    } else {
        SiteAccess::Only(Arc::from(granted))
    }
}

type Query = site_user_access::BoxedQuery<'static, Pg>;

impl ListFilter<Query> for GrantFilter {
    fn narrow(&self, mut query: Query) -> Query {
        if let Some(user_id) = self.user_id {
            query = query.filter(site_user_access::user_id.eq(user_id));
        }
        if let Some(site_id) = self.site_id {
            query = query.filter(site_user_access::site_id.eq(site_id));
        }
        query
    }

    fn order(&self, query: Query) -> Query {
        query.order(site_user_access::id)
    }
}

/// One page of the account's grants matching `filter`, and how many match in all.
pub fn list(
    conn: &mut PgConnection,
    account: AccountId,
    filter: &GrantFilter,
    window: Window,
) -> Result<(Vec<SiteGrant>, i64)> {
    let scoped = || {
        filter.narrow(site_user_access::table.filter(site_user_access::account_id.eq(account)).into_boxed())
    };
    let count: i64 = scoped().count().get_result(conn)?;
    let ids: Vec<i64> = filter
        .order(scoped())
        .offset(window.offset)
        .limit(window.limit)
        .select(site_user_access::id)
        .load(conn)?;
    Ok((by_ids(conn, &ids)?, count))
}

/// The account's grant `id`.
pub fn get(conn: &mut PgConnection, account: AccountId, id: i64) -> Result<Option<SiteGrant>> {
    let owned: Option<i64> = site_user_access::table
        .find(id)
        .filter(site_user_access::account_id.eq(account))
        .select(site_user_access::id)
        .first(conn)
        .optional()?;
    Ok(match owned {
        Some(id) => by_ids(conn, &[id])?.pop(),
        None => None,
    })
}

fn by_ids(conn: &mut PgConnection, ids: &[i64]) -> Result<Vec<SiteGrant>> {
    Ok(site_user_access::table
        .inner_join(users::table)
        .inner_join(sites::table)
        .filter(site_user_access::id.eq_any(ids))
        .order(site_user_access::id)
        .select((
            site_user_access::id,
            site_user_access::user_id,
            users::email,
            site_user_access::site_id,
            sites::name,
            site_user_access::granted_by,
            site_user_access::granted_at,
            site_user_access::updated_at,
        ))
        .load(conn)?)
}

/// Gives the account's `user_id` access to its `site_id`, as `granted_by`.
pub fn grant(
    conn: &mut PgConnection,
    account: AccountId,
    user_id: i64,
    site_id: i64,
    granted_by: i64,
) -> Result<std::result::Result<SiteGrant, Refused>> {
    conn.transaction(|conn| {
        if let Err(refused) = check_user(conn, account, user_id)?.and(check_site(conn, account, site_id)?) {
            return Ok(Err(refused));
        }
        let inserted: Option<i64> = diesel::insert_into(site_user_access::table)
            .values((
                site_user_access::account_id.eq(account),
                site_user_access::user_id.eq(user_id),
                site_user_access::site_id.eq(site_id),
                site_user_access::granted_by.eq(granted_by),
            ))
            .on_conflict_do_nothing()
            .returning(site_user_access::id)
            .get_result(conn)
            .optional()?;
        match inserted {
            Some(id) => Ok(Ok(by_ids(conn, &[id])?.remove(0))),
            None => Ok(Err(Refused::AlreadyGranted)),
        }
    })
}

/// Moves the account's grant `id` to another of its sites.
pub fn move_to(
    conn: &mut PgConnection,
    account: AccountId,
    id: i64,
    site_id: i64,
) -> Result<std::result::Result<SiteGrant, Refused>> {
    conn.transaction(|conn| {
        if let Err(refused) = check_site(conn, account, site_id)? {
            return Ok(Err(refused));
        }
        let moved =
            diesel::update(site_user_access::table.find(id).filter(site_user_access::account_id.eq(account)))
                .set((
                    site_user_access::site_id.eq(site_id),
                    site_user_access::updated_at.eq(diesel::dsl::now),
                ))
                .returning(site_user_access::id)
                .get_result::<i64>(conn)
                .optional();
        match moved {
            Ok(Some(id)) => Ok(Ok(by_ids(conn, &[id])?.remove(0))),
            Ok(None) => Ok(Err(Refused::NotFound)),
            Err(diesel::result::Error::DatabaseError(
                diesel::result::DatabaseErrorKind::UniqueViolation,
                _,
            )) => Ok(Err(Refused::AlreadyGranted)),
            Err(error) => Err(error.into()),
        }
    })
}

/// Revokes the account's grant `id`, unless it is its user's last (the user's grants are
/// locked while that is checked, so two revocations at once cannot both pass).
pub fn revoke(
    conn: &mut PgConnection,
    account: AccountId,
    id: i64,
) -> Result<std::result::Result<(), Refused>> {
    conn.transaction(|conn| {
        let user_id: Option<i64> = site_user_access::table
            .find(id)
            .filter(site_user_access::account_id.eq(account))
            .select(site_user_access::user_id)
            .first(conn)
            .optional()?;
        let Some(user_id) = user_id else { return Ok(Err(Refused::NotFound)) };
        let grants: Vec<i64> = site_user_access::table
            .filter(site_user_access::user_id.eq(user_id))
            .select(site_user_access::id)
            .for_update()
            .load(conn)?;
        if grants.len() <= 1 {
            return Ok(Err(Refused::LastGrant));
        }
        diesel::delete(site_user_access::table.find(id)).execute(conn)?;
        Ok(Ok(()))
    })
}

fn check_user(
    conn: &mut PgConnection,
    account: AccountId,
    user_id: i64,
) -> Result<std::result::Result<(), Refused>> {
    let role: Option<Role> = users::table
        .find(user_id)
        .filter(users::account_id.eq(account))
        .select(users::role)
        .first(conn)
        .optional()?;
    Ok(match role {
        None => Err(Refused::UserNotFound),
        Some(role) if role.at_least(Role::Admin) => Err(Refused::ReachesEverySite),
        Some(_) => Ok(()),
    })
}

fn check_site(
    conn: &mut PgConnection,
    account: AccountId,
    site_id: i64,
) -> Result<std::result::Result<(), Refused>> {
    let found: Option<i64> = sites::table
        .find(site_id)
        .filter(sites::account_id.eq(account))
        .select(sites::id)
        .first(conn)
        .optional()?;
    Ok(found.map(|_| ()).ok_or(Refused::SiteNotFound))
}

//! The tenant-scoped CRUD kit: find, list, create, update and delete of a table every row of
//! which belongs to an account, written once.
//!
//! A domain module declares what its table looks like — the row, a derived insert form (the
//! columns a caller sets, without `account_id`), a derived update form (every field optional:
//! `None` leaves the column alone) and a list filter — and [`owned_table!`] implements
//! [`Owned`] for the row. A table whose writes carry rules of their own (a state machine, a
//! charge) declares only its row and name and gets [`Scoped`] (find and delete by id), or also
//! its filter and gets [`Listed`]. Every query the kit builds starts from the account's rows, so the
//! tenant filter cannot be forgotten: another tenant's row is indistinguishable from a missing
//! one, and an insert always writes the caller's account.
//!
//! ```ignore
//! owned_table! {
//!     Sector { table: sectors, what: "sector", insert: SectorInsertForm, update: SectorUpdateForm, filter: SectorFilter }
//! }
//! owned_table! { Post { table: social_posts, what: "post", filter: PostFilter } }
//! owned_table! { Webhook { table: webhook_endpoints, what: "webhook" } }
//! owned_table! { Keyword { table: keywords, what: "keyword", site: site_id, filter: KeywordFilter } }
//! ```
//!
//! A row that belongs to a site as well names its site column (`site:`); its queries are then
//! also narrowed to the sites the caller's [`Scope`] reaches (per-user site access), so a user
//! limited to one site cannot find, list, change or delete another site's rows. A row whose
//! site is optional names it as `nullable_site:`; its rows without a site stay visible to
//! the whole account.

use std::sync::Arc;

use diesel::PgConnection;

use crate::{Result, ids::AccountId};

/// Which of its account's sites a caller reaches.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum SiteAccess {
    /// Every site of the account (owners, admins, users without site grants, workers).
    #[default]
    All,
    /// Only these sites (an editor or viewer granted some sites).
    Only(Arc<[i64]>),
}

impl SiteAccess {
    /// Whether `site_id` is one of the sites reached.
    pub fn allows(&self, site_id: i64) -> bool {
        match self {
            SiteAccess::All => true,
            SiteAccess::Only(sites) => sites.contains(&site_id),
        }
    }

    /// Whether every site is reached.
    pub fn is_all(&self) -> bool {
        matches!(self, SiteAccess::All)
    }

    /// The sites reached when limited; empty for [`SiteAccess::All`] (which [`is_all`] tells).
    ///
    /// [`is_all`]: SiteAccess::is_all
    pub fn listed(&self) -> Vec<i64> {
        match self {
            SiteAccess::All => Vec::new(),
            SiteAccess::Only(sites) => sites.to_vec(),
        }
    }
}

/// What a caller's queries reach: one account's rows, and of its site-owned rows those of the
/// sites the caller may see. An [`AccountId`] alone is a scope over every site (what workers
/// and system jobs act with).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Scope {
    pub account: AccountId,
    pub sites: SiteAccess,
}

impl Scope {
    /// A scope over `sites` of `account`.
    pub fn new(account: AccountId, sites: SiteAccess) -> Self {
        Scope { account, sites }
    }

    /// Whether the caller reaches `site_id` (assuming the site is the account's).
    pub fn reaches(&self, site_id: i64) -> bool {
        self.sites.allows(site_id)
    }
}

impl From<AccountId> for Scope {
    fn from(account: AccountId) -> Self {
        Scope { account, sites: SiteAccess::All }
    }
}

/// The condition a query of an owned table starts from: the scope's account and, for a table
/// with a site column, the scope's sites: `visible!(keywords, scope, site_id)`. One SQL shape
/// for both kinds of caller (`site_id = ANY($sites) OR $all`), so a query's type does not
/// depend on who asks. Hand-written queries of site-owned rows filter with it too.
#[macro_export]
macro_rules! visible {
    ($table:ident, $scope:expr) => {
        $table::account_id.eq($scope.account)
    };
    ($table:ident, $scope:expr, $site:ident ?) => {
        $table::account_id.eq($scope.account).and(
            $table::$site
                .assume_not_null()
                .eq_any($scope.sites.listed())
                .or($table::$site.is_null())
                .or(diesel::IntoSql::into_sql::<diesel::sql_types::Bool>($scope.sites.is_all())),
        )
    };
    ($table:ident, $scope:expr, $site:ident) => {
        $table::account_id.eq($scope.account).and(
            $table::$site
                .eq_any($scope.sites.listed())
                .or(diesel::IntoSql::into_sql::<diesel::sql_types::Bool>($scope.sites.is_all())),
        )
    };
}

/// An ILIKE pattern matching `term` anywhere, with the wildcards in `term` escaped; `None` for
/// a blank term (no filter).
pub fn contains(term: Option<&str>) -> Option<String> {
    let term = term.map(str::trim).filter(|term| !term.is_empty())?;
    let escaped = term.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
    Some(format!("%{escaped}%"))
}

/// A page of a list: how many rows to skip and how many to return.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Window {
    pub offset: i64,
    pub limit: i64,
}

/// How a list narrows and orders an account's rows. `Q` is the table's boxed query, already
/// limited to the account.
pub trait ListFilter<Q> {
    /// Keeps the rows the filter asks for; the count of a page is taken after this.
    fn narrow(&self, query: Q) -> Q;
    /// The order of a page; it should end with the id so that pages are stable.
    fn order(&self, query: Q) -> Q;
}

/// An account-owned row: lookups and deletes by id, each scoped to one account. Every owned
/// table has this much; [`Owned`] adds list, create and update for the tables whose writes are
/// plain forms.
pub trait Scoped: Sized + Send + 'static {
    /// What the row is called in a 404 ("sector").
    const WHAT: &'static str;

    /// The row's id.
    fn id(&self) -> i64;
    /// The scope's row `id`, if it has one.
    fn find(conn: &mut PgConnection, scope: &Scope, id: i64) -> Result<Option<Self>>;
    /// The scope's rows among `ids`, by id; the others are left out.
    fn find_many(conn: &mut PgConnection, scope: &Scope, ids: &[i64]) -> Result<Vec<Self>>;
    /// Deletes the scope's rows among `ids`; returns how many went.
    fn delete(conn: &mut PgConnection, scope: &Scope, ids: &[i64]) -> Result<usize>;
}

/// An account-owned row listed a page at a time, narrowed and ordered by a filter.
pub trait Listed: Scoped {
    /// What a list may be narrowed and ordered by.
    type Filter: Send + 'static;

    /// One page of the scope's rows matching `filter`, and how many match in all.
    fn list(
        conn: &mut PgConnection,
        scope: &Scope,
        filter: &Self::Filter,
        window: Window,
    ) -> Result<(Vec<Self>, i64)>;
}

/// An account-owned row whose create and update are plain forms, written once.
pub trait Owned: Listed {
    /// The columns a new row gets besides its account.
    type Insert: Send + 'static;
    /// The columns an update may change; `None` fields are left alone.
    type Update: Send + 'static;
    /// Inserts a row owned by the scope's account (a site in the form is the caller's to check).
    fn create(conn: &mut PgConnection, scope: &Scope, form: Self::Insert) -> Result<Self>;
    /// Applies `form` to the scope's row `id` (and stamps `updated_at`); `None` if it has no
    /// such row.
    fn update(conn: &mut PgConnection, scope: &Scope, id: i64, form: Self::Update) -> Result<Option<Self>>;
}

/// Implements [`Scoped`] (and, given the forms and filter, [`Owned`]) for a row of an
/// account-owned table (one with `id`, `account_id` and, for [`Owned`], `updated_at`
/// columns). See the module docs.
#[macro_export]
macro_rules! owned_table {
    ($model:ty {
        table: $table:ident,
        what: $what:literal,
        $(site: $site:ident,)? $(nullable_site: $nsite:ident,)?
        insert: $insert:ty,
        update: $update:ty,
        filter: $filter:ty $(,)?
    }) => {
        $crate::owned_table!($model { table: $table, what: $what, $(site: $site,)? $(nullable_site: $nsite,)? filter: $filter });

        impl $crate::tenant::Owned for $model {
            type Insert = $insert;
            type Update = $update;

            fn create(
                conn: &mut diesel::PgConnection,
                scope: &$crate::tenant::Scope,
                form: $insert,
            ) -> $crate::Result<Self> {
                use diesel::prelude::*;
                Ok(diesel::insert_into($table::table)
                    .values(($table::account_id.eq(scope.account), form))
                    .returning(<$model>::as_returning())
                    .get_result(conn)?)
            }

            fn update(
                conn: &mut diesel::PgConnection,
                scope: &$crate::tenant::Scope,
                id: i64,
                form: $update,
            ) -> $crate::Result<Option<Self>> {
                use diesel::prelude::*;
                let visible = $crate::visible!($table, scope $(, $site)? $(, $nsite ?)?);
                Ok(diesel::update($table::table.find(id).filter(visible))
                    .set((form, $table::updated_at.eq(diesel::dsl::now)))
                    .returning(<$model>::as_returning())
                    .get_result(conn)
                    .optional()?)
            }
        }
    };
    ($model:ty { table: $table:ident, what: $what:literal, $(site: $site:ident,)? $(nullable_site: $nsite:ident,)? filter: $filter:ty $(,)? }) => {
        $crate::owned_table!($model { table: $table, what: $what $(, site: $site)? $(, nullable_site: $nsite)? });

        impl $crate::tenant::Listed for $model {
            type Filter = $filter;

            fn list(
                conn: &mut diesel::PgConnection,
                scope: &$crate::tenant::Scope,
                filter: &$filter,
                window: $crate::tenant::Window,
            ) -> $crate::Result<(Vec<Self>, i64)> {
                use diesel::prelude::*;
                use $crate::tenant::ListFilter;
                let scoped = || {
                    filter.narrow($table::table.filter($crate::visible!($table, scope $(, $site)? $(, $nsite ?)?)).into_boxed())
                };
                let count: i64 = scoped().count().get_result(conn)?;
                let rows = filter
                    .order(scoped())
                    .offset(window.offset)
                    .limit(window.limit)
                    .select(<$model>::as_select())
                    .load(conn)?;
                Ok((rows, count))
            }
        }
    };
    ($model:ty { table: $table:ident, what: $what:literal $(, site: $site:ident)? $(, nullable_site: $nsite:ident)? $(,)? }) => {
        impl $crate::tenant::Scoped for $model {
            const WHAT: &'static str = $what;

            fn id(&self) -> i64 {
                self.id
            }

            fn find(
                conn: &mut diesel::PgConnection,
                scope: &$crate::tenant::Scope,
                id: i64,
            ) -> $crate::Result<Option<Self>> {
                use diesel::prelude::*;
                Ok($table::table
                    .find(id)
                    .filter($crate::visible!($table, scope $(, $site)? $(, $nsite ?)?))
                    .select(<$model>::as_select())
                    .first(conn)
                    .optional()?)
            }

            fn find_many(
                conn: &mut diesel::PgConnection,
                scope: &$crate::tenant::Scope,
                ids: &[i64],
            ) -> $crate::Result<Vec<Self>> {
                use diesel::prelude::*;
                Ok($table::table
                    .filter($crate::visible!($table, scope $(, $site)? $(, $nsite ?)?))
                    .filter($table::id.eq_any(ids))
                    .order($table::id)
                    .select(<$model>::as_select())
                    .load(conn)?)
            }

            fn delete(
                conn: &mut diesel::PgConnection,
                scope: &$crate::tenant::Scope,
                ids: &[i64],
            ) -> $crate::Result<usize> {
                use diesel::prelude::*;
                Ok(diesel::delete(
                    $table::table
                        .filter($crate::visible!($table, scope $(, $site)? $(, $nsite ?)?))
                        .filter($table::id.eq_any(ids)),
                )
                .execute(conn)?)
            }
        }
    };
}

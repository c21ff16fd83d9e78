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
//! ```

use diesel::PgConnection;

use crate::{Result, ids::AccountId};

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
    /// The account's row `id`, if it has one.
    fn find(conn: &mut PgConnection, account: AccountId, id: i64) -> Result<Option<Self>>;
    /// The account's rows among `ids`, by id; the others are left out.
    fn find_many(conn: &mut PgConnection, account: AccountId, ids: &[i64]) -> Result<Vec<Self>>;
    /// Deletes the account's rows among `ids`; returns how many went.
    fn delete(conn: &mut PgConnection, account: AccountId, ids: &[i64]) -> Result<usize>;
}

/// An account-owned row listed a page at a time, narrowed and ordered by a filter.
pub trait Listed: Scoped {
    /// What a list may be narrowed and ordered by.
    type Filter: Send + 'static;

    /// One page of the account's rows matching `filter`, and how many match in all.
    fn list(
        conn: &mut PgConnection,
        account: AccountId,
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
    /// Inserts a row owned by the account.
    fn create(conn: &mut PgConnection, account: AccountId, form: Self::Insert) -> Result<Self>;
    /// Applies `form` to the account's row `id` (and stamps `updated_at`); `None` if it has no
    /// such row.
    fn update(
        conn: &mut PgConnection,
        account: AccountId,
        id: i64,
        form: Self::Update,
    ) -> Result<Option<Self>>;
}

/// Implements [`Scoped`] (and, given the forms and filter, [`Owned`]) for a row of an
/// account-owned table (one with `id`, `account_id` and, for [`Owned`], `updated_at`
/// columns). See the module docs.
#[macro_export]
macro_rules! owned_table {
    ($model:ty {
        table: $table:ident,
        what: $what:literal,
        insert: $insert:ty,
        update: $update:ty,
        filter: $filter:ty $(,)?
    }) => {
        $crate::owned_table!($model { table: $table, what: $what, filter: $filter });

        impl $crate::tenant::Owned for $model {
            type Insert = $insert;
            type Update = $update;

            fn create(
                conn: &mut diesel::PgConnection,
                account: $crate::ids::AccountId,
                form: $insert,
            ) -> $crate::Result<Self> {
                use diesel::prelude::*;
                Ok(diesel::insert_into($table::table)
                    .values(($table::account_id.eq(account), form))
                    .returning(<$model>::as_returning())
                    .get_result(conn)?)
            }

            fn update(
                conn: &mut diesel::PgConnection,
                account: $crate::ids::AccountId,
                id: i64,
                form: $update,
            ) -> $crate::Result<Option<Self>> {
                use diesel::prelude::*;
                Ok(diesel::update($table::table.find(id).filter($table::account_id.eq(account)))
                    .set((form, $table::updated_at.eq(diesel::dsl::now)))
                    .returning(<$model>::as_returning())
                    .get_result(conn)
                    .optional()?)
            }
        }
    };
    ($model:ty { table: $table:ident, what: $what:literal, filter: $filter:ty $(,)? }) => {
        $crate::owned_table!($model { table: $table, what: $what });

        impl $crate::tenant::Listed for $model {
            type Filter = $filter;

            fn list(
                conn: &mut diesel::PgConnection,
                account: $crate::ids::AccountId,
                filter: &$filter,
                window: $crate::tenant::Window,
            ) -> $crate::Result<(Vec<Self>, i64)> {
                use diesel::prelude::*;
                use $crate::tenant::ListFilter;
                let scoped =
                    || filter.narrow($table::table.filter($table::account_id.eq(account)).into_boxed());
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
    ($model:ty { table: $table:ident, what: $what:literal $(,)? }) => {
        impl $crate::tenant::Scoped for $model {
            const WHAT: &'static str = $what;

            fn id(&self) -> i64 {
                self.id
            }

            fn find(
                conn: &mut diesel::PgConnection,
                account: $crate::ids::AccountId,
                id: i64,
            ) -> $crate::Result<Option<Self>> {
                use diesel::prelude::*;
                Ok($table::table
                    .find(id)
                    .filter($table::account_id.eq(account))
                    .select(<$model>::as_select())
                    .first(conn)
                    .optional()?)
            }

            fn find_many(
                conn: &mut diesel::PgConnection,
                account: $crate::ids::AccountId,
                ids: &[i64],
            ) -> $crate::Result<Vec<Self>> {
                use diesel::prelude::*;
                Ok($table::table
                    .filter($table::account_id.eq(account))
                    .filter($table::id.eq_any(ids))
                    .order($table::id)
                    .select(<$model>::as_select())
                    .load(conn)?)
            }

            fn delete(
                conn: &mut diesel::PgConnection,
                account: $crate::ids::AccountId,
                ids: &[i64],
            ) -> $crate::Result<usize> {
                use diesel::prelude::*;
                Ok(diesel::delete(
                    $table::table.filter($table::account_id.eq(account)).filter($table::id.eq_any(ids)),
                )
                .execute(conn)?)
            }
        }
    };
}

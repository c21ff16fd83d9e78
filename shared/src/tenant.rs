//! The tenant-scoped CRUD kit: find, list, create, update and delete of a table every row of
//! which belongs to an account, written once.
//!
//! A domain module declares what its table looks like — the row, a derived insert form (the
//! columns a caller sets, without `account_id`), a derived update form (every field optional:
//! `None` leaves the column alone) and a list filter — and [`owned_table!`] implements
//! [`Owned`] for the row. Every query the kit builds starts from the account's rows, so the
//! tenant filter cannot be forgotten: another tenant's row is indistinguishable from a missing
//! one, and an insert always writes the caller's account.
//!
//! ```ignore
//! owned_table! {
//!     Sector { table: sectors, what: "sector", insert: SectorInsertForm, update: SectorUpdateForm, filter: SectorFilter }
//! }
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

/// An account-owned row and the queries of its table, each scoped to one account.
pub trait Owned: Sized + Send + 'static {
    /// What the row is called in a 404 ("sector").
    const WHAT: &'static str;
    /// The columns a new row gets besides its account.
    type Insert: Send + 'static;
    /// The columns an update may change; `None` fields are left alone.
    type Update: Send + 'static;
    /// What a list may be narrowed and ordered by.
    type Filter: Send + 'static;

    /// The account's row `id`, if it has one.
    fn find(conn: &mut PgConnection, account: AccountId, id: i64) -> Result<Option<Self>>;
    /// The account's rows among `ids`, by id; the others are left out.
    fn find_many(conn: &mut PgConnection, account: AccountId, ids: &[i64]) -> Result<Vec<Self>>;
    /// One page of the account's rows matching `filter`, and how many match in all.
    fn list(
        conn: &mut PgConnection,
        account: AccountId,
        filter: &Self::Filter,
        window: Window,
    ) -> Result<(Vec<Self>, i64)>;
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
    /// Deletes the account's rows among `ids`; returns how many went.
    fn delete(conn: &mut PgConnection, account: AccountId, ids: &[i64]) -> Result<usize>;
}

/// Implements [`Owned`] for a row of an account-owned table (one with `id`, `account_id` and
/// `updated_at` columns). See the module docs.
#[macro_export]
macro_rules! owned_table {
    ($model:ty {
        table: $table:ident,
        what: $what:literal,
        insert: $insert:ty,
        update: $update:ty,
        filter: $filter:ty $(,)?
    }) => {
        impl $crate::tenant::Owned for $model {
            const WHAT: &'static str = $what;
            type Insert = $insert;
            type Update = $update;
            type Filter = $filter;

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

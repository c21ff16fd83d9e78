//! Hot statements written in SQL that diesel still prepares once per connection.
//!
//! Diesel caches the prepared statement of a query built with its DSL, keyed by the query's
//! type, but re-parses and re-plans every `sql_query` (its text could be anything). For the
//! statements on the hot paths (authentication, enqueue, claims, results) the re-planning
//! costs more than the work itself. [`prepared_statement!`] declares a struct per statement
//! with a static query id, so diesel prepares it once and then only binds and executes.
//!
//! ```ignore
//! shared::prepared_statement! {
//!     /// Marks one task as seen.
//!     pub struct TouchTask { id: uuid::Uuid }
//!     sql = ["UPDATE tasks SET updated_at = now() WHERE id = ", (id as diesel::sql_types::Uuid)];
//! }
//! TouchTask { id }.execute(conn)?;
//! ```
//!
//! Each `(field as SqlType)` piece becomes the next `$n` placeholder; a value needed twice is
//! simply bound twice.

#[macro_export]
macro_rules! prepared_statement {
    (
        $(#[$meta:meta])*
        $vis:vis struct $name:ident { $($field:ident : $rust:ty),* $(,)? }
        sql = [ $($piece:tt),* $(,)? ];
    ) => {
        $(#[$meta])*
        $vis struct $name { $(pub $field: $rust),* }

        impl diesel::query_builder::QueryId for $name {
            type QueryId = Self;
            const HAS_STATIC_QUERY_ID: bool = true;
        }

        impl diesel::query_builder::QueryFragment<diesel::pg::Pg> for $name {
            fn walk_ast<'b>(
                &'b self,
                mut out: diesel::query_builder::AstPass<'_, 'b, diesel::pg::Pg>,
            ) -> diesel::QueryResult<()> {
                $( $crate::prepared_statement!(@piece self, out, $piece); )*
                Ok(())
            }
        }

        impl diesel::query_builder::Query for $name {
            type SqlType = diesel::sql_types::Untyped;
        }

        impl diesel::RunQueryDsl<diesel::PgConnection> for $name {}
    };
    (@piece $self:ident, $out:ident, $sql:literal) => {
        $out.push_sql($sql);
    };
    (@piece $self:ident, $out:ident, ($field:ident as $sql_type:ty)) => {
        $out.push_bind_param::<$sql_type, _>(&$self.$field)?;
    };
}

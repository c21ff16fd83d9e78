//! Ids that cross crates, as their own types: an account id cannot be passed where a site id
//! is meant. Each one is stored and sent as the integer or UUID it wraps.

use diesel::{
    deserialize::{self, FromSql, FromSqlRow},
    expression::AsExpression,
    pg::{Pg, PgValue},
    serialize::{self, Output, ToSql},
    sql_types::{BigInt, Uuid as SqlUuid},
};
use serde::{Deserialize, Serialize};

macro_rules! id_type {
    ($(#[$meta:meta])* $name:ident($inner:ty as $sql:ty)) => {
        $(#[$meta])*
        #[derive(
            Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
            AsExpression, FromSqlRow,
        )]
        #[serde(transparent)]
        #[diesel(sql_type = $sql)]
        pub struct $name(pub $inner);

        impl ToSql<$sql, Pg> for $name {
            fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> serialize::Result {
                <$inner as ToSql<$sql, Pg>>::to_sql(&self.0, out)
            }
        }

        impl FromSql<$sql, Pg> for $name {
            fn from_sql(value: PgValue<'_>) -> deserialize::Result<Self> {
                <$inner as FromSql<$sql, Pg>>::from_sql(value).map(Self)
            }
        }

        impl From<$inner> for $name {
            fn from(id: $inner) -> Self {
                Self(id)
            }
        }

        impl From<$name> for $inner {
            fn from(id: $name) -> Self {
                id.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }
    };
}

id_type!(
    /// A tenant: every owned row carries one, and every owned query is scoped by one.
    AccountId(i64 as BigInt)
);
id_type!(
    /// A site of an account (the planner, writer and publishing hang off it).
    SiteId(i64 as BigInt)
);
id_type!(
    /// A task in the task table (what the API answers for a command and the workers run).
    TaskId(uuid::Uuid as SqlUuid)
);

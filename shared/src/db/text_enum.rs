//! States stored as text: one mapping between an enum's variants and the column's words, used
//! by serde, diesel and the OpenAPI document alike. A bad word in the database is an error,
//! not a panic.

/// Implements diesel's text conversions for an enum that has `as_str` and `FromStr`.
macro_rules! text_sql {
    ($ty:ty) => {
        impl diesel::deserialize::FromSql<diesel::sql_types::Text, diesel::pg::Pg> for $ty {
            fn from_sql(bytes: diesel::pg::PgValue<'_>) -> diesel::deserialize::Result<Self> {
                let text = <String as diesel::deserialize::FromSql<
                    diesel::sql_types::Text,
                    diesel::pg::Pg,
                >>::from_sql(bytes)?;
                text.parse::<$ty>().map_err(Into::into)
            }
        }

        impl diesel::serialize::ToSql<diesel::sql_types::Text, diesel::pg::Pg> for $ty {
            fn to_sql<'b>(
                &'b self,
                out: &mut diesel::serialize::Output<'b, '_, diesel::pg::Pg>,
            ) -> diesel::serialize::Result {
                <str as diesel::serialize::ToSql<diesel::sql_types::Text, diesel::pg::Pg>>::to_sql(
                    self.as_str(),
                    out,
                )
            }
        }
    };
}
pub(crate) use text_sql;

/// Declares an enum stored in a `TEXT` column from one list of `Variant = "word"`: `as_str`,
/// `parse`, `ALL`, `FromStr`, `Display`, serde, diesel and its OpenAPI schema.
macro_rules! text_enum {
    (
        $(#[$meta:meta])*
        // `tt`, not `literal`: a `literal` fragment reaches the derives as an opaque group, and
        // utoipa then ignores the `serde(rename)` and documents the variant's name.
        $vis:vis enum $name:ident { $( $(#[$vmeta:meta])* $variant:ident = $word:tt ),+ $(,)? }
    ) => {
        $(#[$meta])*
        #[derive(
            Clone, Copy, Debug, PartialEq, Eq, Hash,
            serde::Serialize, serde::Deserialize, utoipa::ToSchema,
            diesel::AsExpression, diesel::FromSqlRow,
        )]
        #[diesel(sql_type = diesel::sql_types::Text)]
        $vis enum $name {
            $( $(#[$vmeta])* #[serde(rename = $word)] $variant ),+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $word),+ }
            }

            pub fn parse(word: &str) -> Option<Self> {
                match word { $($word => Some($name::$variant),)+ _ => None }
            }

            /// Every word, for messages: `a, b, c`.
            pub fn words() -> String {
                [$($word),+].join(", ")
            }
        }

        impl std::str::FromStr for $name {
            type Err = String;

            fn from_str(word: &str) -> Result<Self, Self::Err> {
                $name::parse(word).ok_or_else(|| format!("`{word}` is not a {}", stringify!($name)))
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        $crate::db::text_enum::text_sql!($name);
    };
}
pub(crate) use text_enum;

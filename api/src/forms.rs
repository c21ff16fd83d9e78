//! One field list, two request bodies. A resource is created with some fields required and
//! changed with every field optional; [`input_forms!`] declares the fields once and derives
//! both, so the document states what each operation requires and they never drift apart.
//!
//! ```ignore
//! input_forms! {
//!     /// A site (POST: `name` is required; PUT/PATCH: send what changes).
//!     #[serde(deny_unknown_fields)]
//!     SiteInput, NewSite {
//!         #[schema(min_length = 1, max_length = 200, pattern = r"\S")]
//!         @required name: String,
//!         slug: Option<String>,
//!     }
//! }
//! ```
//!
//! `SiteInput` has `name: Option<String>` and is what handlers work with; `NewSite` has
//! `name: String`, converts into a `SiteInput` and validates as one.

macro_rules! input_forms {
    (
        $(#[$meta:meta])*
        $patch:ident, $new:ident { $($fields:tt)* }
    ) => {
        $crate::forms::input_forms!(@field [$(#[$meta])*] $patch $new [] [] [] [] $($fields)*);
    };
    // A field the create form requires: optional in the patch form.
    (@field $metas:tt $patch:ident $new:ident [$($p:tt)*] [$($n:tt)*] [$($req:ident)*] [$($opt:ident)*]
        $(#[$field_meta:meta])* @required $field:ident : $ty:ty $(, $($rest:tt)*)?
    ) => {
        $crate::forms::input_forms!(@field $metas $patch $new
            [$($p)* $(#[$field_meta])* $field: Option<$ty>,]
            [$($n)* $(#[$field_meta])* $field: $ty,]
            [$($req)* $field] [$($opt)*] $($($rest)*)?);
    };
    // A field both forms may leave out.
    (@field $metas:tt $patch:ident $new:ident [$($p:tt)*] [$($n:tt)*] [$($req:ident)*] [$($opt:ident)*]
        $(#[$field_meta:meta])* $field:ident : $ty:ty $(, $($rest:tt)*)?
    ) => {
        $crate::forms::input_forms!(@field $metas $patch $new
            [$($p)* $(#[$field_meta])* $field: $ty,]
            [$($n)* $(#[$field_meta])* $field: $ty,]
            [$($req)*] [$($opt)* $field] $($($rest)*)?);
    };
    (@field [$(#[$meta:meta])*] $patch:ident $new:ident [$($p:tt)*] [$($n:tt)*] [$($req:ident)*] [$($opt:ident)*]) => {
        #[derive(Debug, Clone, Default, serde::Deserialize, utoipa::ToSchema)]
        $(#[$meta])*
        struct $patch { $($p)* }

        #[derive(Debug, Clone, serde::Deserialize, utoipa::ToSchema)]
        $(#[$meta])*
        struct $new { $($n)* }

        impl From<$new> for $patch {
            fn from(new: $new) -> Self {
                Self { $($req: Some(new.$req),)* $($opt: new.$opt,)* }
            }
        }

        impl $crate::extract::Validate for $new {
            fn validate(&self) -> Result<(), $crate::error::FieldErrors> {
                $crate::extract::Validate::validate(&$patch::from(self.clone()))
            }
        }
    };
}

pub(crate) use input_forms;

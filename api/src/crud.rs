//! The HTTP side of the tenant-scoped CRUD kit ([`shared::tenant`]): each function runs one
//! [`Scoped`], [`Listed`] or [`Owned`] query for the caller's account and shapes the answer the seeds expect, so a
//! resource's handlers only parse, authorize and build the domain's forms.

use actix_web::{HttpRequest, HttpResponse};
use serde::Serialize;
use shared::{
    plans::{self, Limited},
    tenant::{Listed, Owned, Scope, Scoped, Window},
};

use crate::{
    error::ApiError,
    response::{self, PageParams},
    state::AppState,
};

impl PageParams {
    /// The rows of this page.
    pub fn window(&self) -> Window {
        Window { offset: self.offset(), limit: self.size() }
    }
}

/// The caller's row `id`, or 404 naming the resource (also for another tenant's row).
pub async fn find<T: Scoped>(state: &AppState, scope: Scope, id: i64) -> Result<T, ApiError> {
    state.db(move |conn| T::find(conn, &scope, id)).await?.ok_or(ApiError::NotFound { what: T::WHAT })
}

/// The caller's rows among `ids` (by id), or 404 naming `ids` and listing the ids it does
/// not have.
pub async fn find_all<T: Scoped>(state: &AppState, scope: Scope, ids: &[i64]) -> Result<Vec<T>, ApiError> {
    let wanted = ids.to_vec();
    let rows = state.db(move |conn| T::find_many(conn, &scope, &wanted)).await?;
    let missing: Vec<String> =
        ids.iter().filter(|id| !rows.iter().any(|row| row.id() == **id)).map(i64::to_string).collect();
    if missing.is_empty() {
        Ok(rows)
    } else {
        Err(ApiError::missing("ids", format!("Not found ({}): {}.", T::WHAT, missing.join(", "))))
    }
}

/// 200 with the caller's row `id`, or 404.
pub async fn retrieve<T: Scoped + Serialize>(
    state: &AppState,
    scope: Scope,
    id: i64,
) -> Result<HttpResponse, ApiError> {
    Ok(response::ok(find::<T>(state, scope, id).await?))
}

/// One page of the caller's rows matching `filter`, in the paginated envelope.
pub async fn list<T: Listed + Serialize>(
    state: &AppState,
    scope: Scope,
    filter: T::Filter,
    req: &HttpRequest,
    page: PageParams,
) -> Result<HttpResponse, ApiError> {
    list_as::<T, T>(state, scope, filter, req, page, |row| row).await
}

/// [`list`], each row shown as `view` makes it.
pub async fn list_as<T: Listed, V: Serialize>(
    state: &AppState,
    scope: Scope,
    filter: T::Filter,
    req: &HttpRequest,
    page: PageParams,
    view: impl FnMut(T) -> V,
) -> Result<HttpResponse, ApiError> {
    let window = page.window();
    let (rows, count) = state.db(move |conn| T::list(conn, &scope, &filter, window)).await?;
    Ok(response::paginated(req, page, count, rows.into_iter().map(view).collect::<Vec<_>>()))
}

/// 201 with the new row.
pub async fn create<T: Owned + Serialize>(
    state: &AppState,
    scope: Scope,
    form: T::Insert,
) -> Result<HttpResponse, ApiError> {
    let row = state.db(move |conn| T::create(conn, &scope, form)).await?;
    Ok(response::created(row))
}

/// 201 with the new row, unless it takes the account past its plan's limit of `what` (402
/// naming it).
pub async fn create_limited<T: Owned + Serialize>(
    state: &AppState,
    scope: Scope,
    what: Limited,
    form: T::Insert,
) -> Result<HttpResponse, ApiError> {
    let row = state
        .db(move |conn| plans::limited(conn, scope.account, what, |conn| T::create(conn, &scope, form)))
        .await?;
    Ok(response::created(row))
}

/// The caller's row `id` after `form`, or 404.
pub async fn apply<T: Owned>(
    state: &AppState,
    scope: Scope,
    id: i64,
    form: T::Update,
) -> Result<T, ApiError> {
    state.db(move |conn| T::update(conn, &scope, id, form)).await?.ok_or(ApiError::NotFound { what: T::WHAT })
}

/// 200 with the caller's row `id` after `form`, or 404.
pub async fn update<T: Owned + Serialize>(
    state: &AppState,
    scope: Scope,
    id: i64,
    form: T::Update,
) -> Result<HttpResponse, ApiError> {
    Ok(response::ok(apply::<T>(state, scope, id, form).await?))
}

/// Deletes the caller's rows among `ids`; how many went.
pub async fn delete_many<T: Scoped>(
    state: &AppState,
    scope: Scope,
    ids: Vec<i64>,
) -> Result<usize, ApiError> {
    state.db(move |conn| T::delete(conn, &scope, &ids)).await
}

/// 204 when the caller's row `id` was deleted, 404 when it has none.
pub async fn delete<T: Scoped>(state: &AppState, scope: Scope, id: i64) -> Result<HttpResponse, ApiError> {
    match delete_many::<T>(state, scope, vec![id]).await? {
        0 => Err(ApiError::NotFound { what: T::WHAT }),
        _ => Ok(HttpResponse::NoContent().finish()),
    }
}

/// The handlers every account-owned resource has in the same shape: `retrieve` (any member),
/// `remove` (editors and above) and, given the list's query type (which converts into the
/// row's filter), `list`. A resource's module then writes only what differs: its bodies,
/// create and update.
///
/// ```ignore
/// crud::routes! {
///     row: AuthorProfile, what: "author profile", tag: "writer-settings",
///     collection: "/author-profiles", item: "/author-profiles/{id}", list: NamedListQuery,
/// }
/// ```
macro_rules! routes {
    (
        row: $row:ty, what: $what:literal, tag: $tag:literal,
        collection: $collection:literal, item: $item:literal, list: $query:ty $(,)?
    ) => {
        // A module of their own: utoipa names the page types unqualified.
        mod crud_list {
            #[allow(unused_imports)]
            use super::*;
            use actix_web::get;
            use $crate::response::{Page, PageParams};

            /// One page of the caller's rows, filtered by the query.
            #[utoipa::path(
                                tag = $tag,
                                params(PageParams, $query),
                                responses((status = 200, body = Page<$row>)),
                            )]
            #[get($collection)]
            pub(super) async fn list(
                state: actix_web::web::Data<$crate::state::AppState>,
                auth: $crate::extract::AuthUser,
                req: actix_web::HttpRequest,
                page: PageParams,
                query: $crate::extract::ApiQuery<$query>,
            ) -> Result<actix_web::HttpResponse, $crate::error::ApiError> {
                $crate::crud::list::<$row>(&state, auth.scope(), query.0.into(), &req, page).await
            }
        }
        use crud_list::list;

        $crate::crud::routes! { row: $row, what: $what, tag: $tag, item: $item }
    };
    (row: $row:ty, what: $what:literal, tag: $tag:literal, item: $item:literal $(,)?) => {
        mod crud_item {
            #[allow(unused_imports)]
            use super::*;
            use actix_web::{delete, get};
            use $crate::{error::ErrorBody, response::Data};

            /// One of the caller's rows.
            #[utoipa::path(
                                tag = $tag,
                                params(("id" = i64, Path, description = concat!("The ", $what, " id."))),
                                responses((status = 200, body = Data<$row>)),
                            )]
            #[get($item)]
            pub(super) async fn retrieve(
                state: actix_web::web::Data<$crate::state::AppState>,
                auth: $crate::extract::AuthUser,
                id: $crate::extract::PathId<i64>,
            ) -> Result<actix_web::HttpResponse, $crate::error::ApiError> {
                $crate::crud::retrieve::<$row>(&state, auth.scope(), id.0).await
            }

            /// Deletes one of the caller's rows (editors and above).
            #[utoipa::path(
                                tag = $tag,
                                params(("id" = i64, Path, description = concat!("The ", $what, " id."))),
                                responses(
                                    (status = 204, description = "Deleted."),
                                    (status = 403, description = "Editors and above only.", body = ErrorBody),
                                ),
                            )]
            #[delete($item)]
            pub(super) async fn remove(
                state: actix_web::web::Data<$crate::state::AppState>,
                auth: $crate::extract::Editor,
                id: $crate::extract::PathId<i64>,
            ) -> Result<actix_web::HttpResponse, $crate::error::ApiError> {
                $crate::crud::delete::<$row>(&state, auth.scope(), id.0).await
            }
        }
        use crud_item::{remove, retrieve};
    };
}
pub(crate) use routes;

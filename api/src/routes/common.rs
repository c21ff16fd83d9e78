//! Pieces every resource's handlers share.

/// A search term worth filtering on, as an escaped ILIKE pattern ([`shared::tenant::contains`]).
pub fn search_term(search: &Option<String>) -> Option<String> {
    shared::tenant::contains(search.as_deref())
}

/// 204 when a scoped delete removed the row, 404 when there was none for this account.
pub fn deleted(rows: usize, what: &'static str) -> Result<actix_web::HttpResponse, crate::error::ApiError> {
    if rows == 0 {
        Err(crate::error::ApiError::NotFound { what })
    } else {
        Ok(actix_web::HttpResponse::NoContent().finish())
    }
}

/// The filters of a list of named settings (author profiles, strategies).
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct NamedListQuery {
    /// Only active (or only inactive) ones.
    is_active: Option<bool>,
    /// Part of the name.
    search: Option<String>,
}

impl From<NamedListQuery> for shared::writer_settings::NamedFilter {
    fn from(query: NamedListQuery) -> Self {
        Self { is_active: query.is_active, name: shared::tenant::contains(query.search.as_deref()) }
    }
}

/// `text` without the blanks around it.
pub fn trimmed(text: String) -> String {
    text.trim().to_owned()
}

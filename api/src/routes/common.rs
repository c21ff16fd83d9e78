//! Pieces every resource's handlers share.

/// An ILIKE pattern matching `term` anywhere, with the wildcards in `term` escaped.
pub fn contains_pattern(term: &str) -> String {
    let escaped = term.trim().replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
    format!("%{escaped}%")
}

/// A search term worth filtering on.
pub fn search_term(search: &Option<String>) -> Option<String> {
    search.as_deref().map(str::trim).filter(|term| !term.is_empty()).map(contains_pattern)
}

/// 204 when a scoped delete removed the row, 404 when there was none for this account.
pub fn deleted(rows: usize, what: &'static str) -> Result<actix_web::HttpResponse, crate::error::ApiError> {
    if rows == 0 {
        Err(crate::error::ApiError::NotFound { what })
    } else {
        Ok(actix_web::HttpResponse::NoContent().finish())
    }
}

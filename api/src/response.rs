//! Response envelopes and pagination, shared by every handler.

use actix_web::{FromRequest, HttpRequest, HttpResponse, dev::Payload};
use serde::{Deserialize, Serialize};
use serde_json::json;
use shared::db::models::Task;

use crate::error::{ApiError, FieldErrors};

/// `{"success": true, "data": …}` with 200.
pub fn ok(data: impl Serialize) -> HttpResponse {
    HttpResponse::Ok().json(json!({ "success": true, "data": data }))
}

/// `{"success": true, "data": …, "message": …}` with 200.
pub fn ok_with_message(data: impl Serialize, message: &str) -> HttpResponse {
    HttpResponse::Ok().json(json!({ "success": true, "data": data, "message": message }))
}

/// `{"success": true, "data": …}` with 201.
pub fn created(data: impl Serialize) -> HttpResponse {
    HttpResponse::Created().json(json!({ "success": true, "data": data }))
}

/// `{"success": true, "message": …}` with 200.
pub fn message(message: &str) -> HttpResponse {
    HttpResponse::Ok().json(json!({ "success": true, "message": message }))
}

/// The answer to a command: 202 with the task to poll.
pub fn accepted(task: &Task) -> HttpResponse {
    HttpResponse::Accepted().json(json!({
        "success": true,
        "task_id": task.id,
        "status_url": format!("/api/v1/tasks/{}", task.id),
        "state": task.state,
    }))
}

pub const DEFAULT_PAGE_SIZE: i64 = 10;
pub const MAX_PAGE_SIZE: i64 = 100;

/// `page` (from 1) and `page_size` (1–100, default 10), read from the query string by its own
/// extractor (serde's `flatten` would lose the string-to-number parsing of query values).
#[derive(Clone, Copy, Debug, Default, Deserialize)]
pub struct PageParams {
    pub page: Option<i64>,
    pub page_size: Option<i64>,
}

impl PageParams {
    pub fn page(&self) -> i64 {
        self.page.unwrap_or(1)
    }

    pub fn size(&self) -> i64 {
        self.page_size.unwrap_or(DEFAULT_PAGE_SIZE)
    }

    pub fn offset(&self) -> i64 {
        (self.page() - 1) * self.size()
    }

    fn check(self) -> Result<Self, ApiError> {
        let mut errors = FieldErrors::new();
        if self.page() < 1 {
            errors.entry("page".into()).or_default().push("Must be 1 or more.".into());
        }
        if !(1..=MAX_PAGE_SIZE).contains(&self.size()) {
            errors
                .entry("page_size".into())
                .or_default()
                .push(format!("Must be between 1 and {MAX_PAGE_SIZE}."));
        }
        if errors.is_empty() { Ok(self) } else { Err(ApiError::invalid(errors)) }
    }
}

impl FromRequest for PageParams {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(
            crate::extract::parse_query::<PageParams>(req.query_string()).and_then(PageParams::check),
        )
    }
}

/// `{"success": true, "count", "next", "previous", "results"}`; `next` and `previous` keep
/// every other query parameter of the request.
pub fn paginated(req: &HttpRequest, params: PageParams, count: i64, results: impl Serialize) -> HttpResponse {
    let page = params.page();
    let last_page = (count + params.size() - 1) / params.size();
    let next = (page < last_page).then(|| page_url(req, page + 1));
    let previous = (page > 1).then(|| page_url(req, (page - 1).min(last_page.max(1))));
    HttpResponse::Ok().json(json!({
        "success": true,
        "count": count,
        "next": next,
        "previous": previous,
        "results": results,
    }))
}

fn page_url(req: &HttpRequest, page: i64) -> String {
    let info = req.connection_info();
    let mut pairs: Vec<(String, String)> = form_urlencoded::parse(req.query_string().as_bytes())
        .filter(|(key, _)| key != "page")
        .map(|(key, value)| (key.into_owned(), value.into_owned()))
        .collect();
    pairs.push(("page".into(), page.to_string()));
    let query = form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs).finish();
    format!("{}://{}{}?{}", info.scheme(), info.host(), req.path(), query)
}

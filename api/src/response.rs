//! Response envelopes and pagination, shared by every handler.

use actix_web::{FromRequest, HttpRequest, HttpResponse, dev::Payload};
use serde::{Deserialize, Serialize};
use shared::{db::models::Task, tasks::TaskState};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::error::{ApiError, FieldErrors};

/// `{"success": true, "data": …}`: the answer of 200 (`ok`) and 201 (`created`).
#[derive(Serialize, ToSchema)]
pub struct Data<T> {
    pub success: bool,
    pub data: T,
}

/// `{"success": true, "data": …, "message": …}`.
#[derive(Serialize, ToSchema)]
pub struct DataWithMessage<T> {
    pub success: bool,
    pub data: T,
    pub message: String,
}

/// `{"success": true, "message": …}`.
#[derive(Serialize, ToSchema)]
pub struct Message {
    pub success: bool,
    pub message: String,
}

/// A command's answer (202): the task to poll at `status_url`.
#[derive(Serialize, ToSchema)]
pub struct Accepted {
    pub success: bool,
    pub task_id: Uuid,
    #[schema(example = "/api/v1/tasks/0193a7c4-5f1e-7b7a-9c3e-2d7c1f0e9a11")]
    pub status_url: String,
    pub state: TaskState,
}

/// One page of a list: `count` rows in all; `next` and `previous` are full URLs or null.
#[derive(Serialize, ToSchema)]
pub struct Page<T> {
    pub success: bool,
    pub count: i64,
    pub next: Option<String>,
    pub previous: Option<String>,
    pub results: Vec<T>,
}

/// 200 with `data`.
pub fn ok(data: impl Serialize) -> HttpResponse {
    HttpResponse::Ok().json(Data { success: true, data })
}

/// `{"success": true, <the fields>, "data": <the fields>}`: an answer whose fields a seed's
/// clients read at the top level (IGNY8's bulk counts, OmniSell's user) and every other client
/// under `data`.
#[derive(Serialize, ToSchema)]
pub struct Flat<T> {
    pub success: bool,
    #[serde(flatten)]
    pub fields: T,
    pub data: T,
}

/// 200 with `fields` at the top level and under `data`.
pub fn flat<T: Serialize + Clone>(fields: T) -> HttpResponse {
    HttpResponse::Ok().json(Flat { success: true, data: fields.clone(), fields })
}

/// 202 with `fields` at the top level and under `data`: a command that started several tasks.
pub fn flat_accepted<T: Serialize + Clone>(fields: T) -> HttpResponse {
    HttpResponse::Accepted().json(Flat { success: true, data: fields.clone(), fields })
}

/// 200 with `data` and a message.
pub fn ok_with_message(data: impl Serialize, message: &str) -> HttpResponse {
    HttpResponse::Ok().json(DataWithMessage { success: true, data, message: message.to_owned() })
}

/// 201 with `data`.
pub fn created(data: impl Serialize) -> HttpResponse {
    HttpResponse::Created().json(Data { success: true, data })
}

/// 200 with a message only.
pub fn message(message: &str) -> HttpResponse {
    HttpResponse::Ok().json(Message { success: true, message: message.to_owned() })
}

/// The answer to a command: 202 with the task to poll.
pub fn accepted(task: &Task) -> HttpResponse {
    HttpResponse::Accepted().json(Accepted {
        success: true,
        task_id: task.id,
        status_url: format!("/api/v1/tasks/{}", task.id),
        state: task.state,
    })
}

pub const DEFAULT_PAGE_SIZE: i64 = 10;
pub const MAX_PAGE_SIZE: i64 = 100;
/// The last page a request may ask for; keeps the offset (page × size) far from overflow.
pub const MAX_PAGE: i64 = 1_000_000_000;

/// `page` (from 1) and `page_size` (1–100, default 10), read from the query string by its own
/// extractor (serde's `flatten` would lose the string-to-number parsing of query values).
#[derive(Clone, Copy, Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageParams {
    /// The page to return, from 1 (a page past the rows is empty).
    #[param(minimum = 1, maximum = 1_000_000_000)]
    pub page: Option<i64>,
    /// Rows per page (default 10).
    #[param(minimum = 1, maximum = 100)]
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
        if !(1..=MAX_PAGE).contains(&self.page()) {
            errors.entry("page".into()).or_default().push(format!("Must be between 1 and {MAX_PAGE}."));
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

/// True when the request's `If-None-Match` names `etag` (or `*`): the client's copy is
/// current and a 304 answers it.
pub fn client_has(req: &HttpRequest, etag: &str) -> bool {
    req.headers()
        .get(actix_web::http::header::IF_NONE_MATCH)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|values| {
            values.split(',').map(str::trim).any(|candidate| candidate == etag || candidate == "*")
        })
}

/// `{"success": true, "count", "next", "previous", "results"}`; `next` and `previous` keep
/// every other query parameter of the request.
pub fn paginated(
    req: &HttpRequest,
    params: PageParams,
    count: i64,
    results: Vec<impl Serialize>,
) -> HttpResponse {
    let page = params.page();
    let last_page = (count + params.size() - 1) / params.size();
    let next = (page < last_page).then(|| page_url(req, page + 1));
    let previous = (page > 1).then(|| page_url(req, (page - 1).min(last_page.max(1))));
    HttpResponse::Ok().json(Page { success: true, count, next, previous, results })
}

/// [`paginated`] over a short list loaded whole (reference rows such as plans).
pub fn paginated_all<T: Serialize>(req: &HttpRequest, params: PageParams, rows: Vec<T>) -> HttpResponse {
    let count = i64::try_from(rows.len()).unwrap_or(i64::MAX);
    let skip = usize::try_from(params.offset()).unwrap_or(usize::MAX);
    let take = usize::try_from(params.size()).unwrap_or(0);
    let results: Vec<T> = rows.into_iter().skip(skip).take(take).collect();
    paginated(req, params, count, results)
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

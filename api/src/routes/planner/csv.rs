//! `GET /api/v1/planner/keywords/export/` and `POST /api/v1/planner/keywords/import_keywords/`.
//!
//! The export applies exactly the list's filters and ordering ([`KeywordQuery`]) and streams:
//! it reads keyset batches of [`EXPORT_BATCH`] rows and writes each as one chunk, so memory
//! stays flat however many keywords an account has. Text cells that a spreadsheet would run as
//! a formula are prefixed with `'`.
//!
//! The import takes a CSV with a header row (`keyword`, optional `volume`, `difficulty`,
//! `intent`, `status`, in any order), as the `file` field of a multipart form or as a raw
//! `text/csv` body. Every bad row is reported with its line number ([`super::csv_rows`]);
//! the good rows are inserted in one transaction.

use std::collections::HashSet;
use utoipa_actix_web::service_config::ServiceConfig;

use actix_multipart::Multipart;
use actix_web::{
    HttpMessage, HttpRequest, HttpResponse, get,
    http::header::{self, ContentDisposition, DispositionParam, DispositionType},
    post,
    web::{self, Bytes},
};
use futures_util::{StreamExt, TryStreamExt};
use serde::{Deserialize, Serialize};
use shared::{
    planner::{
        Keyword, clusters,
        keywords::{self, KeywordFilter, KeywordInsertForm},
    },
    tenant::Scope,
};

use super::{
    Refs, check_refs,
    csv_rows::{ParsedCsv, RowError, parse_csv},
    keyword_query::KeywordQuery,
};
use crate::{
    body::{BodyEnded, read_limited, unreadable, until_stuck},
    error::{ApiError, ErrorBody},
    extract::{ApiQuery, AuthUser, Editor},
    response::Data,
    state::AppState,
};

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(export).service(import_keywords);
}

/// Rows per export batch (one query and one body chunk each).
pub const EXPORT_BATCH: i64 = 1_000;
/// Largest accepted upload.
pub const MAX_IMPORT_BYTES: usize = 5 * 1024 * 1024;

const EXPORT_COLUMNS: [&str; 9] =
    ["keyword", "volume", "difficulty", "intent", "status", "cluster", "site_id", "sector_id", "created_at"];

/// The keywords matching the list's filters, in its order, as a CSV download (columns
/// `keyword`, `volume`, `difficulty`, `intent`, `status`, `cluster`, `site_id`, `sector_id`,
/// `created_at`), streamed.
#[utoipa::path(
    tag = "planner",
    params(KeywordQuery),
    responses((
        status = 200,
        description = "The CSV file, with a header row.",
        content_type = "text/csv",
        body = String,
        headers(("Content-Disposition" = String, description = "`attachment; filename=\"keywords.csv\"`")),
    )),
)]
#[get("/keywords/export")]
async fn export(
    state: web::Data<AppState>,
    auth: AuthUser,
    query: ApiQuery<KeywordQuery>,
) -> Result<HttpResponse, ApiError> {
    let filter = KeywordFilter::from(query.0);
    // The first batch is read before answering, so a database failure is still a proper error.
    let mut cursor = ExportCursor { state: state.into_inner(), scope: auth.scope(), filter, last: None };
    let first = cursor.next_chunk().await?;
    let mut head = encode_row(EXPORT_COLUMNS.map(str::to_owned))?;
    let more = first.as_ref().is_some_and(|(_, full)| *full);
    if let Some((chunk, _)) = first {
        head.extend_from_slice(&chunk);
    }
    let rest = futures_util::stream::try_unfold(more.then_some(cursor), |cursor| async move {
        let Some(mut cursor) = cursor else {
            return Ok(None);
        };
        Ok(cursor.next_chunk().await?.map(|(chunk, full)| (chunk, full.then_some(cursor))))
    })
    .inspect_err(|error: &ApiError| tracing::error!(%error, "keyword export stopped"));
    let body = futures_util::stream::once(async move { Ok::<_, ApiError>(Bytes::from(head)) }).chain(rest);
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header(ContentDisposition {
            disposition: DispositionType::Attachment,
            parameters: vec![DispositionParam::Filename("keywords.csv".into())],
        })
        .streaming(body))
}

/// Where the export is: the filter and the last row written.
struct ExportCursor {
    state: std::sync::Arc<AppState>,
    scope: Scope,
    filter: KeywordFilter,
    last: Option<Keyword>,
}

impl ExportCursor {
    /// The next batch as CSV, and whether it was full (so another may follow); `None` when
    /// there are no more rows.
    async fn next_chunk(&mut self) -> Result<Option<(Bytes, bool)>, ApiError> {
        let (scope, filter, last) = (self.scope.clone(), self.filter.clone(), self.last.clone());
        let (rows, cluster_names) = self
            .state
            .db(move |conn| {
                let rows = keywords::batch_after(conn, &scope, &filter, last.as_ref(), EXPORT_BATCH)?;
                let ids: Vec<i64> = rows.iter().filter_map(|row| row.cluster_id).collect();
                Ok((rows, clusters::names(conn, scope.account, &ids)?))
            })
            .await?;
        let Some(last) = rows.last() else {
            return Ok(None);
        };
        let full = rows.len() as i64 == EXPORT_BATCH;
        let mut chunk = Vec::with_capacity(rows.len() * 80);
        for row in &rows {
            let cluster = row.cluster_id.and_then(|id| cluster_names.get(&id)).cloned().unwrap_or_default();
            chunk.extend_from_slice(&encode_row([
                defuse(&row.keyword),
                row.volume.to_string(),
                row.difficulty.to_string(),
                defuse(row.intent.as_str()),
                defuse(row.status.as_str()),
                defuse(&cluster),
                row.site_id.to_string(),
                row.sector_id.map(|id| id.to_string()).unwrap_or_default(),
                row.created_at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
            ])?);
        }
        self.last = Some(last.clone());
        Ok(Some((Bytes::from(chunk), full)))
    }
}

/// One CSV record, quoted where needed, CRLF-terminated.
fn encode_row<const N: usize>(cells: [String; N]) -> Result<Vec<u8>, ApiError> {
    let mut writer = ::csv::WriterBuilder::new().terminator(::csv::Terminator::CRLF).from_writer(Vec::new());
    writer.write_record(&cells).map_err(ApiError::internal)?;
    writer.into_inner().map_err(ApiError::internal)
}

/// A cell a spreadsheet would evaluate (`=`, `+`, `-`, `@`, tab, carriage return first) gets
/// a leading `'` so it is shown as text.
pub fn defuse(cell: &str) -> String {
    if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) { format!("'{cell}") } else { cell.to_owned() }
}

/// `site_id` and `sector_id` of an import, from the query string or form fields.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct ImportTarget {
    /// The site to import into (or the form's `site_id`); required one way or the other.
    site_id: Option<i64>,
    /// A sector of that site (or the form's `sector_id`).
    sector_id: Option<i64>,
}

/// The multipart form of an import; another field is refused, as in JSON bodies.
#[derive(utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct KeywordImportForm {
    /// The CSV file (at most 5 MiB, 20,000 rows): a header row with `keyword` and optionally
    /// `volume`, `difficulty`, `intent`, `status`, in any order.
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
    /// The site to import into (the query string's `site_id` may stand in for it).
    site_id: i64,
    /// A sector of that site, unless given in the query string.
    #[schema(required = false)]
    sector_id: i64,
}

/// The answer of an import: the rows added, and each row skipped with its line and reason.
#[derive(Debug, Serialize, utoipa::ToSchema)]
struct ImportResult {
    imported_count: usize,
    skipped_count: usize,
    errors: Vec<RowError>,
}

/// Imports keywords from a CSV into a site (and sector): the good rows in one transaction,
/// every bad or already present row reported by its line number.
#[utoipa::path(
    tag = "planner",
    params(ImportTarget),
    // A raw `text/csv` body with `?site_id=` is accepted too; it is left out of the document
    // because OpenAPI cannot make a query parameter required for one content type only.
    request_body(
        description = "The CSV as the `file` field of a form (or as a raw `text/csv` body, with \
                       `site_id` in the query string).",
        content((KeywordImportForm = "multipart/form-data")),
    ),
    responses(
        (status = 200, body = Data<ImportResult>),
        (status = 403, description = "The caller is not an editor.", body = ErrorBody),
        (status = 413, description = "The upload is larger than 5 MiB.", body = ErrorBody),
        (status = 415, description = "Neither a form nor a CSV body.", body = ErrorBody),
    ),
)]
#[post("/keywords/import_keywords")]
async fn import_keywords(
    state: web::Data<AppState>,
    auth: Editor,
    req: HttpRequest,
    payload: web::Payload,
    query: ApiQuery<ImportTarget>,
) -> Result<HttpResponse, ApiError> {
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<usize>().ok());
    // Multipart framing adds a little to the file itself.
    if declared.is_some_and(|length| length > MAX_IMPORT_BYTES + 64 * 1024) {
        return Err(ApiError::PayloadTooLarge { limit: MAX_IMPORT_BYTES });
    }
    let mut target = query.0;
    let mime = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .map(|mime| mime.trim().to_ascii_lowercase())
        .unwrap_or_default();
    let file = match mime.as_str() {
        "multipart/form-data" => {
            let ended = req.extensions().get::<BodyEnded>().cloned().unwrap_or_default();
            let form = read_form(Multipart::new(req.headers(), payload.into_inner()), &mut target);
            until_stuck(form, ended, || {
                ApiError::field("file", "The multipart body ends before its closing boundary.")
            })
            .await?
        }
        "text/csv" | "application/csv" | "text/plain" => {
            Some(read_limited(payload, MAX_IMPORT_BYTES, "file").await?)
        }
        _ => {
            return Err(ApiError::UnsupportedMediaType {
                message: "Send the CSV as the `file` field of multipart/form-data, or as a text/csv body."
                    .into(),
            });
        }
    };
    let file = file.ok_or_else(|| ApiError::field("file", "This field is required."))?;
    let site_id = target.site_id.ok_or_else(|| ApiError::field("site_id", "This field is required."))?;
    let sector_id = target.sector_id;
    check_refs(&state, auth.scope(), Refs { site_id, sector_id, cluster_id: None }).await?;
    let ParsedCsv { rows, mut errors } = parse_csv(&file)?;
    let forms: Vec<KeywordInsertForm> = rows
        .iter()
        .map(|row| KeywordInsertForm {
            site_id,
            sector_id,
            cluster_id: None,
            seed_keyword_id: None,
            keyword: row.keyword.clone(),
            volume: row.volume,
            difficulty: row.difficulty,
            intent: row.intent,
            status: row.status,
        })
        .collect();
    let account = auth.account();
    // A keyword the site (and sector) already has is skipped, not an error.
    let inserted = state.db(move |conn| keywords::insert_missing(conn, account, forms)).await?;
    let imported = inserted.len();
    let inserted: HashSet<String> = inserted.into_iter().map(|row| row.keyword).collect();
    let existing = rows.iter().filter(|row| !inserted.contains(&row.keyword)).map(|row| row.line);
    errors
        .extend(existing.into_iter().map(|line| RowError { line, reason: "keyword already exists".into() }));
    errors.sort_by_key(|error| error.line);
    Ok(crate::response::ok(ImportResult { imported_count: imported, skipped_count: errors.len(), errors }))
}

/// Reads the form: the `file` field's bytes, and `site_id` / `sector_id` into `target`.
async fn read_form(mut form: Multipart, target: &mut ImportTarget) -> Result<Option<Bytes>, ApiError> {
    let mut file = None;
    while let Some(field) = form.next().await {
        let field = field.map_err(|error| unreadable("file", &error))?;
        let name = field.name().unwrap_or_default().to_owned();
        match name.as_str() {
            "file" => file = Some(read_limited(field, MAX_IMPORT_BYTES, "file").await?),
            "site_id" | "sector_id" => {
                let bytes = read_limited(field, 64, &name).await?;
                let id = std::str::from_utf8(&bytes)
                    .ok()
                    .and_then(|text| text.trim().parse::<i64>().ok())
                    .ok_or_else(|| ApiError::field(&name, "Must be an integer."))?;
                if name == "site_id" {
                    target.site_id = Some(id);
                } else {
                    target.sector_id = Some(id);
                }
            }
            _ => {
                return Err(ApiError::field(
                    &name,
                    "Unknown field; the form takes file, site_id and sector_id.",
                ));
            }
        }
    }
    Ok(file)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defuses_formula_cells() {
        assert_eq!(defuse("=SUM(A1)"), "'=SUM(A1)");
        assert_eq!(defuse("+1"), "'+1");
        assert_eq!(defuse("-1"), "'-1");
        assert_eq!(defuse("@cmd"), "'@cmd");
        assert_eq!(defuse("plain"), "plain");
    }
}

//! The OpenAPI 3.1 document, generated from the handlers: every service registered under
//! `/api/v1` carries a `#[utoipa::path]` (the scopes of `routes::api` collect them, with their
//! prefixes), and this module adds what is the same everywhere — the bearer scheme, and the
//! error answers with their one body shape. Served at `/api/v1/openapi.json`, with Swagger UI
//! at `/api/docs/`.
//!
//! Conventions for a handler's entry: `tag` is its module's area; `responses` lists the
//! success answers with their envelope (`Data<T>`, `Page<T>`, `Accepted`, `Message`, …);
//! `request_body` and `params` name the input types (our extractors are not inferred);
//! endpoints without a user token say `security(())`. Error answers are added here.

use std::sync::{Arc, OnceLock};

use actix_web::{HttpResponse, get, http::header, web};
use utoipa::{
    Modify, OpenApi,
    openapi::{
        self, Components, RefOr, ResponseBuilder,
        content::Content,
        path::Operation,
        security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme},
    },
};
use utoipa_actix_web::OpenApiFactory;

use crate::error::ErrorBody;

/// The parts of the document not found on a handler.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Switchyard API",
        description = "Commands are answered with 202 and a task to poll at `/api/v1/tasks/{id}` \
                       (or to stream at `/api/v1/tasks/{id}/events`). Every answer is JSON with \
                       `success`; errors carry `error`, `code` and per-field `errors`.",
        license(name = "MIT", identifier = "MIT"),
    ),
    paths(crate::metrics::metrics, openapi_json),
    components(schemas(ErrorBody)),
    modifiers(&BearerAuth),
    security(("jwt" = [])),
)]
struct Root;

/// The user token scheme (`Authorization: Bearer <access token>` from `auth/login`) and the
/// metrics token.
struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, doc: &mut openapi::OpenApi) {
        let components = doc.components.get_or_insert_with(Components::new);
        let jwt = HttpBuilder::new()
            .scheme(HttpAuthScheme::Bearer)
            .bearer_format("JWT")
            .description(Some("The `access` token of `POST /api/v1/auth/login`."))
            .build();
        components.add_security_scheme("jwt", SecurityScheme::Http(jwt));
        let metrics = HttpBuilder::new()
            .scheme(HttpAuthScheme::Bearer)
            .description(Some("The `METRICS_TOKEN` of the API's configuration."))
            .build();
        components.add_security_scheme("metrics_token", SecurityScheme::Http(metrics));
    }
}

/// The whole document: the root above, every `/api/v1` handler, and the error answers.
pub fn document() -> openapi::OpenApi {
    let mut doc = Root::openapi();
    let api = crate::routes::api();
    doc.paths.merge(api.paths());
    let mut schemas = Vec::new();
    api.schemas(&mut schemas);
    let components = doc.components.get_or_insert_with(Components::new);
    components.schemas.extend(schemas);
    add_task_payloads(components);
    require_one_of_each(components);
    let secured_by_default = doc.security.as_ref().is_some_and(|security| !security.is_empty());
    for (path, item) in doc.paths.paths.iter_mut() {
        for (method, operation) in operations(item) {
            // Handler names repeat across modules (`list`, `create`); ids must not.
            operation.operation_id = Some(operation_id(method, path));
            describe_answers(operation);
            add_error_answers(path, operation, secured_by_default);
        }
    }
    doc
}

/// Bodies that need at least one of some optional fields, which a derived schema cannot say:
/// the schema's name, and the fields of which one must be present, with their non-null type.
const AT_LEAST_ONE_OF: &[(&str, &[(&str, openapi::Type)])] =
    &[("AutoClusterInput", &[("ids", openapi::Type::Array), ("site_id", openapi::Type::Integer)])];

/// Wraps each schema of `AT_LEAST_ONE_OF` in `allOf: [schema, anyOf: [{required: [field]}…]]`,
/// so clients and fuzzers see the rule the validation answers with 400. Each alternative also
/// gives the field its non-null type: a `null` stands for an absent field in these bodies.
fn require_one_of_each(components: &mut Components) {
    for (name, fields) in AT_LEAST_ONE_OF {
        let Some(schema) = components.schemas.remove(*name) else {
            panic!("AT_LEAST_ONE_OF names {name}, which is not a documented schema");
        };
        let alternatives =
            fields.iter().fold(openapi::schema::AnyOfBuilder::new(), |any_of, (field, kind)| {
                let present = openapi::ObjectBuilder::new().schema_type(kind.clone());
                any_of.item(openapi::ObjectBuilder::new().required(*field).property(*field, present))
            });
        let combined = openapi::schema::AllOfBuilder::new().item(schema).item(alternatives);
        components.schemas.insert((*name).to_owned(), RefOr::T(combined.into()));
    }
}

fn operations(item: &mut openapi::PathItem) -> impl Iterator<Item = (&'static str, &mut Operation)> {
    [
        ("get", &mut item.get),
        ("put", &mut item.put),
        ("post", &mut item.post),
        ("delete", &mut item.delete),
        ("options", &mut item.options),
        ("head", &mut item.head),
        ("patch", &mut item.patch),
        ("trace", &mut item.trace),
    ]
    .into_iter()
    .filter_map(|(method, operation)| operation.as_mut().map(|operation| (method, operation)))
}

/// `get /api/v1/tasks/{id}/events` → `get_tasks_id_events`.
fn operation_id(method: &str, path: &str) -> String {
    let words = path
        .trim_start_matches("/api/v1")
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|word| !word.is_empty())
        .collect::<Vec<_>>()
        .join("_");
    format!("{method}_{words}")
}

/// Every answer needs a description (OpenAPI requires one); a missing one becomes the
/// status's reason phrase.
fn describe_answers(operation: &mut Operation) {
    for (status, answer) in operation.responses.responses.iter_mut() {
        if let RefOr::T(answer) = answer
            && answer.description.is_empty()
        {
            answer.description = status
                .parse::<u16>()
                .ok()
                .and_then(|code| actix_web::http::StatusCode::from_u16(code).ok())
                .and_then(|code| code.canonical_reason())
                .unwrap_or("Success")
                .to_owned();
        }
    }
}

/// The errors an operation can answer, each with `ErrorBody`: any status through `default`,
/// and by name the ones its shape makes likely.
fn add_error_answers(path: &str, operation: &mut Operation, secured_by_default: bool) {
    let secured = match &operation.security {
        None => secured_by_default,
        Some(requirements) => {
            requirements.iter().any(|requirement| *requirement != SecurityRequirement::default())
        }
    };
    let has_input = operation.request_body.is_some()
        || operation.parameters.as_ref().is_some_and(|parameters| !parameters.is_empty());
    let mut errors = vec![("default", "An error; `code` says which.")];
    if has_input {
        errors.push(("400", "The request is invalid; `errors` names each wrong field."));
    }
    if secured {
        errors.push(("401", "No token, or an invalid or expired one."));
    }
    if path.contains('{') {
        errors.push(("404", "No such resource in the caller's account."));
    } else if operation.request_body.is_some() {
        errors
            .push(("404", "A row the body names is not in the caller's account; `errors` names the field."));
    }
    for (status, description) in errors {
        operation.responses.responses.entry(status.to_owned()).or_insert_with(|| {
            RefOr::T(
                ResponseBuilder::new()
                    .description(description)
                    .content("application/json", Content::new(Some(RefOr::Ref(error_body_ref()))))
                    .build(),
            )
        });
    }
}

fn error_body_ref() -> openapi::Ref {
    openapi::Ref::from_schema_name("ErrorBody")
}

/// Every task kind's payload schema, so a command's `payload` can be read against its kind's.
fn add_task_payloads(components: &mut Components) {
    for spec in shared::tasks::kinds() {
        let (name, schema) = spec.payload_schema();
        components.schemas.entry(name.into_owned()).or_insert(schema);
    }
}

/// A task kind's name, as an enum of the catalogue's kinds, each with its payload's schema.
pub fn task_kind() -> openapi::Object {
    let payloads: Vec<String> = shared::tasks::kinds()
        .iter()
        .map(|spec| format!("`{}`: `{}`", spec.name, spec.payload_schema().0))
        .collect();
    openapi::ObjectBuilder::new()
        .schema_type(openapi::Type::String)
        .enum_values(Some(shared::tasks::kind_names()))
        .description(Some(format!(
            "A task kind; the command's `payload` is read as that kind's payload schema ({}).",
            payloads.join(", ")
        )))
        .build()
}

/// A documented path and the methods declared for it.
struct DocumentedPath {
    pattern: actix_web::dev::ResourceDef,
    /// No `{parameter}` in it: a request to exactly this path belongs to it, even when a
    /// sibling `{id}` route would also match (`PUT /planner/ideas/bulk_delete`).
    literal: bool,
    methods: Vec<String>,
    allow: String,
}

fn documented_paths() -> &'static [DocumentedPath] {
    static PATHS: OnceLock<Vec<DocumentedPath>> = OnceLock::new();
    PATHS.get_or_init(|| {
        let mut doc = document();
        doc.paths
            .paths
            .iter_mut()
            .map(|(path, item)| {
                let methods: Vec<String> =
                    operations(item).map(|(method, _)| method.to_uppercase()).collect();
                DocumentedPath {
                    pattern: actix_web::dev::ResourceDef::new(path.as_str()),
                    literal: !path.contains('{'),
                    allow: methods.join(", "),
                    methods,
                }
            })
            .collect()
    })
}

/// The methods the document declares for `path` (`GET, POST`), when it has the path at all:
/// a request with another method is answered 405 with these in `Allow`. A literal path wins
/// over a pattern that also matches it, as it does in routing.
pub fn allowed_methods(path: &str) -> Option<&'static str> {
    let paths = documented_paths();
    paths
        .iter()
        .find(|documented| documented.literal && documented.pattern.is_match(path))
        .or_else(|| paths.iter().find(|documented| documented.pattern.is_match(path)))
        .map(|documented| documented.allow.as_str())
}

/// `Some(allow)` when `path` is a literal documented path that does not declare `method`.
/// Routing alone would hand such a request to a sibling `{id}` route, which refuses the
/// literal segment as a bad id (400) instead of saying the method is wrong (405).
pub fn undeclared_method_on_literal_path(method: &str, path: &str) -> Option<&'static str> {
    let documented = documented_paths()
        .iter()
        .find(|documented| documented.literal && documented.pattern.is_match(path))?;
    (!documented.methods.iter().any(|declared| declared == method)).then_some(documented.allow.as_str())
}

/// The document as served, built once.
fn document_json() -> &'static [u8] {
    static JSON: OnceLock<Vec<u8>> = OnceLock::new();
    JSON.get_or_init(|| serde_json::to_vec(&document()).expect("the document serializes"))
}

/// The OpenAPI document of this API.
#[utoipa::path(
    tag = "system",
    security(()),
    responses((status = 200, description = "The OpenAPI 3.1 document.", content_type = "application/json")),
)]
#[get("/api/v1/openapi.json")]
pub async fn openapi_json() -> HttpResponse {
    HttpResponse::Ok().content_type("application/json").body(document_json())
}

/// Swagger UI's page and files (from the `utoipa-swagger-ui` crate), reading the document.
#[get("/api/docs{tail:.*}")]
pub async fn swagger_ui(tail: web::Path<String>) -> HttpResponse {
    static CONFIG: OnceLock<Arc<utoipa_swagger_ui::Config<'static>>> = OnceLock::new();
    let config = CONFIG.get_or_init(|| Arc::new(utoipa_swagger_ui::Config::from("/api/v1/openapi.json")));
    let tail = tail.trim_start_matches('/');
    match utoipa_swagger_ui::serve(tail, config.clone()) {
        Ok(Some(file)) => HttpResponse::Ok()
            .content_type(file.content_type)
            // Swagger UI styles itself inline and shows data-URL images.
            .insert_header((
                header::CONTENT_SECURITY_POLICY,
                "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'",
            ))
            .body(file.bytes.into_owned()),
        Ok(None) => HttpResponse::NotFound().finish(),
        Err(error) => {
            tracing::error!(%error, "swagger ui");
            HttpResponse::InternalServerError().finish()
        }
    }
}

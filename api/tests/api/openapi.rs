//! The OpenAPI document and Swagger UI.

use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::spawn_app;

#[tokio::test]
async fn the_document_is_openapi_3_1_with_the_bearer_scheme_and_error_answers() {
    let app = spawn_app().await;
    let response = app.client.get(format!("{}/api/v1/openapi.json", app.address)).send().await.expect("doc");
    assert_eq!(response.status(), StatusCode::OK);
    let doc: Value = response.json().await.expect("json");
    assert!(doc["openapi"].as_str().is_some_and(|version| version.starts_with("3.1")), "{}", doc["openapi"]);
    assert_eq!(doc["components"]["securitySchemes"]["jwt"]["scheme"], "bearer");
    assert_eq!(doc["security"][0]["jwt"], serde_json::json!([]));
    let metrics = &doc["paths"]["/metrics"]["get"];
    assert_eq!(metrics["security"][0]["metrics_token"], serde_json::json!([]));
    assert_eq!(
        doc["paths"]["/api/v1/tasks/{id}"]["get"]["responses"]["404"]["content"]["application/json"]["schema"]
            ["$ref"],
        "#/components/schemas/ErrorBody"
    );
}

#[tokio::test]
async fn swagger_ui_is_served_and_reads_the_document() {
    let app = spawn_app().await;
    let page = app.client.get(format!("{}/api/docs/", app.address)).send().await.expect("page");
    assert_eq!(page.status(), StatusCode::OK);
    assert!(page.headers()["content-type"].to_str().expect("ascii").starts_with("text/html"));
    assert!(page.text().await.expect("html").contains("swagger-ui"));
    let init =
        app.client.get(format!("{}/api/docs/swagger-initializer.js", app.address)).send().await.expect("js");
    assert_eq!(init.status(), StatusCode::OK);
    assert!(init.text().await.expect("js").contains("/api/v1/openapi.json"));
}

/// A route attribute found in the API's source.
#[derive(Debug)]
struct RouteInSource {
    file: std::path::PathBuf,
    methods: Vec<String>,
    /// The path literal, or `None` inside a macro (where the path is a macro parameter).
    path: Option<String>,
    documented: bool,
}

/// Every `#[get("…")]`, `#[post("…")]`, … in `api/src`, and whether a `#[utoipa::path]`
/// stands in the block of attributes and comments right above it.
fn routes_in_source() -> Vec<RouteInSource> {
    let mut pending = vec![std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src")];
    let mut routes = Vec::new();
    while let Some(file) = pending.pop() {
        if file.is_dir() {
            pending.extend(
                std::fs::read_dir(&file).expect("read dir").map(|entry| entry.expect("entry").path()),
            );
            continue;
        }
        if file.extension().is_none_or(|extension| extension != "rs") {
            continue;
        }
        let source = std::fs::read_to_string(&file).expect("read source");
        let lines: Vec<&str> = source.lines().map(str::trim).collect();
        for (index, line) in lines.iter().enumerate() {
            let Some((methods, argument)) = route_attribute(line) else { continue };
            let documented = lines[..index]
                .iter()
                .rev()
                .take_while(|line| !line.is_empty() && !line.ends_with(['}', ';']))
                .any(|line| line.starts_with("#[utoipa::path"));
            let path = argument.strip_prefix('"').and_then(|rest| rest.split('"').next()).map(str::to_owned);
            routes.push(RouteInSource { file: file.clone(), methods, path, documented });
        }
    }
    routes
}

/// `#[get("/x")]`, `#[actix_web::post($item)]` or `#[route("/x", method = "PUT", method =
/// "PATCH")]` → the methods and the path argument.
fn route_attribute(line: &str) -> Option<(Vec<String>, &str)> {
    let inner = line.strip_prefix("#[")?.strip_suffix(")]")?;
    let inner = inner.strip_prefix("actix_web::").unwrap_or(inner);
    let (name, argument) = inner.split_once('(')?;
    if name == "route" {
        let methods = argument
            .split("method = \"")
            .skip(1)
            .filter_map(|rest| rest.split('"').next())
            .map(str::to_lowercase)
            .collect();
        return Some((methods, argument));
    }
    ["get", "post", "put", "patch", "delete"].contains(&name).then(|| (vec![name.to_owned()], argument))
}

/// Pages for people, not API operations.
const NOT_API: [&str; 3] = ["/api/docs{tail:.*}", "/dashboard", "/dashboard/{file}"];

#[tokio::test]
async fn every_route_has_its_openapi_entry() {
    let app = spawn_app().await;
    let doc = app.openapi_document().await;
    let operations: Vec<(String, String)> = doc["paths"]
        .as_object()
        .expect("paths")
        .iter()
        .flat_map(|(path, item)| {
            item.as_object().expect("path item").keys().map(move |method| (method.clone(), path.clone()))
        })
        .collect();
    let routes = routes_in_source();
    assert!(routes.len() > 100, "found only {} routes: is the scan broken?", routes.len());
    let mut missing = Vec::new();
    for route in &routes {
        if route.path.as_deref().is_some_and(|path| NOT_API.contains(&path)) {
            continue;
        }
        let in_document = |wanted: &String| match &route.path {
            Some(path) => operations
                .iter()
                .any(|(method, documented)| method == wanted && documented.ends_with(path.as_str())),
            None => true,
        };
        if !route.documented || !route.methods.iter().all(in_document) {
            missing.push(format!(
                "{} {} in {}",
                route.methods.join("/"),
                route.path.as_deref().unwrap_or("(macro)"),
                route.file.display()
            ));
        }
    }
    assert!(missing.is_empty(), "routes without an OpenAPI entry:\n{}", missing.join("\n"));
    // Registered through `map`, a handler would be served but left out of the document.
    for route in &routes {
        let source = std::fs::read_to_string(&route.file).expect("read");
        assert!(
            !source.contains("cfg.map("),
            "{} registers handlers outside the document",
            route.file.display()
        );
    }
}

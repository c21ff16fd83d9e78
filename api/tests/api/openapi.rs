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

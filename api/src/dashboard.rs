//! The operations dashboard at `/dashboard/`: a static page (HTML, JS, CSS embedded in the
//! binary, nothing to build or fetch from elsewhere) that signs in with the same accounts and
//! reads only the public `/api/v1` API from the browser.

use std::{
    collections::hash_map::DefaultHasher,
    hash::{Hash, Hasher},
    sync::OnceLock,
};

use actix_web::{
    HttpRequest, HttpResponse,
    dev::HttpServiceFactory,
    get,
    http::header::{self, HeaderValue},
    web,
};

/// Everything the page loads comes from this origin: scripts, styles, images and API calls.
/// No inline script or style, so an injected string can never run.
const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
     img-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// One embedded file of the page.
struct Asset {
    name: &'static str,
    content_type: &'static str,
    body: &'static str,
}

const ASSETS: &[Asset] = &[
    Asset {
        name: "index.html",
        content_type: "text/html; charset=utf-8",
        body: include_str!("../dashboard/index.html"),
    },
    Asset {
        name: "app.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_str!("../dashboard/app.js"),
    },
    Asset {
        name: "app.css",
        content_type: "text/css; charset=utf-8",
        body: include_str!("../dashboard/app.css"),
    },
    Asset {
        name: "favicon.svg",
        content_type: "image/svg+xml",
        body: include_str!("../dashboard/favicon.svg"),
    },
];

/// The page (`/dashboard`, also `/dashboard/`: the app trims trailing slashes) and its files.
pub fn service() -> impl HttpServiceFactory {
    (page, file)
}

#[get("/dashboard")]
async fn page(req: HttpRequest) -> HttpResponse {
    serve(&req, "index.html")
}

#[get("/dashboard/{file}")]
async fn file(req: HttpRequest, name: web::Path<String>) -> HttpResponse {
    serve(&req, &name)
}

fn serve(req: &HttpRequest, name: &str) -> HttpResponse {
    let Some((asset, etag)) = ASSETS.iter().zip(etags()).find(|(asset, _)| asset.name == name) else {
        return HttpResponse::NotFound()
            .content_type("text/plain; charset=utf-8")
            .insert_header((header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY))
            .body("Not found");
    };
    let fresh = crate::response::client_has(req, etag);
    let mut response = if fresh { HttpResponse::NotModified() } else { HttpResponse::Ok() };
    response
        .insert_header((header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY))
        // The file names carry no version: the browser asks again each time and gets a 304
        // while the binary is the same, so a new release is never half-loaded.
        .insert_header((header::CACHE_CONTROL, "no-cache"));
    if let Ok(value) = HeaderValue::from_str(etag) {
        response.insert_header((header::ETAG, value));
    }
    if fresh { response.finish() } else { response.content_type(asset.content_type).body(asset.body) }
}

/// One ETag per asset, in the order of `ASSETS`, from the file's content. (The hasher may
/// differ between builds; that only costs one full download after an upgrade.)
fn etags() -> &'static [String] {
    static ETAGS: OnceLock<Vec<String>> = OnceLock::new();
    ETAGS.get_or_init(|| {
        ASSETS
            .iter()
            .map(|asset| {
                let mut hasher = DefaultHasher::new();
                asset.body.hash(&mut hasher);
                format!("\"{:016x}\"", hasher.finish())
            })
            .collect()
    })
}

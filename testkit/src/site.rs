//! A website for SEO audit tests, on `127.0.0.1:<random port>`: a corpus of pages each built
//! to pass or fail particular checks, robots.txt, a sitemap, redirect chains, a slow page,
//! a huge page, and a generated tree of pages for crawls. Every request is counted. Beside it,
//! a port that accepts connections stands in for the site's https port
//! ([`FakeSite::https_port`], for `FetchSettings::https_port`); it speaks no TLS.
//!
//! | path | built to |
//! |---|---|
//! | `/good` | pass every page check (keyword "running shoes") |
//! | `/about` | a plain page `/good` links to |
//! | `/no-title`, `/long-title` | fail / warn `title` |
//! | `/no-description` | fail `meta_description` |
//! | `/no-h1`, `/two-h1` | fail / warn `h1` |
//! | `/skipped-headings` | warn `heading_order` |
//! | `/relative-canonical`, `/other-canonical` | fail / warn `canonical` |
//! | `/noindex-header`, `/noindex-meta` | fail `noindex` (X-Robots-Tag / robots meta) |
//! | `/bad-hreflang` | fail `hreflang` |
//! | `/bare` | fail `lang` and `viewport`, warn `open_graph`, `twitter_card`, `structured_data` |
//! | `/images-no-alt` | fail `image_alt` |
//! | `/vague-links` | warn `link_text` and `crawlable_anchors` |
//! | `/broken-link` | fail `broken_links` (links to `/missing`, a 404) |
//! | `/broken-jsonld`, `/jsonld-no-type` | fail `structured_data` |
//! | `/stuffed` | warn `keyword:running shoes` (density) |
//! | `/redirect-chain` | 301 → `/hop` 302 → `/good`: warn `redirects` |
//! | `/redirect-loop` | redirects forever |
//! | `/to-private` | redirects to `http://10.255.255.1/` |
//! | `/huge` | a 6 MB page |
//! | `/gzipped` | `/good`, sent gzip-compressed |
//! | `/long-article` | `/good` grown to about 130 KB: 40 sections with images and links |
//! | `/slow` | answers after 3 s |
//! | `/missing`, `/server-error` | 404, 500: fail `http_status` |
//! | `/private/page` | disallowed by robots.txt: fail `robots_txt` |
//! | `/tree/{n}` | page n links to 2n+1 and 2n+2 (while below 100); all titled "Tree page" |
//! | `/orphan` | in the sitemap, linked from nowhere |
//! | `/header-paragraph` | `/good` under a site header with its own paragraph: the keyword is in the main content's first paragraph |
//! | `/unlisted` | `/good`, but not in the sitemap: warn `sitemap_listed` |
//! | `/mixed-https-canonical` | plain http, canonical https, an `http://` image: fail `mixed_content` and `https` |
//! | `/media-links` | `/good` with links to the sitemap, `/feed.xml`, `/guide.pdf`, an image and `/feed` (RSS without an extension) |
//!
//! The sitemap lists every page above built to be indexed, except `/unlisted` and the tree
//! beyond `/tree/0`.

use std::{
    collections::BTreeMap,
    sync::{
        Arc, Mutex, PoisonError,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use actix_web::{HttpRequest, HttpResponse, dev::ServerHandle, web};

struct Inner {
    base: String,
    requests: AtomicUsize,
    paths: Mutex<BTreeMap<String, usize>>,
}

/// Pages the sitemap lists.
const SITEMAP: [&str; 27] = [
    "/good",
    "/about",
    "/orphan",
    "/tree/0",
    "/no-title",
    "/long-title",
    "/no-description",
    "/no-h1",
    "/two-h1",
    "/skipped-headings",
    "/relative-canonical",
    "/other-canonical",
    "/noindex-header",
    "/noindex-meta",
    "/bad-hreflang",
    "/bare",
    "/images-no-alt",
    "/vague-links",
    "/broken-link",
    "/broken-jsonld",
    "/jsonld-no-type",
    "/stuffed",
    "/huge",
    "/gzipped",
    "/header-paragraph",
    "/mixed-https-canonical",
    "/media-links",
];

/// The running site; stops when dropped.
pub struct FakeSite {
    inner: Arc<Inner>,
    handle: ServerHandle,
    https_port: u16,
    https_stand_in: tokio::task::JoinHandle<()>,
}

impl FakeSite {
    pub async fn start() -> Self {
        let (listener, port) = crate::serve::loopback_listener();
        let inner = Arc::new(Inner {
            base: format!("http://127.0.0.1:{port}"),
            requests: AtomicUsize::new(0),
            paths: Mutex::new(BTreeMap::new()),
        });
        let handle = crate::serve::serve_fake(listener, inner.clone(), serve);
        let (https_port, https_stand_in) = accepting_port().await;
        Self { inner, handle, https_port, https_stand_in }
    }

    /// A loopback port that accepts (and closes) connections: the site's "https port".
    pub fn https_port(&self) -> u16 {
        self.https_port
    }

    /// `http://127.0.0.1:<port>`
    pub fn base(&self) -> &str {
        &self.inner.base
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.inner.base)
    }

    pub fn port(&self) -> u16 {
        self.inner.base.rsplit(':').next().and_then(|port| port.parse().ok()).unwrap_or_default()
    }

    /// Requests so far, all paths.
    pub fn requests(&self) -> usize {
        self.inner.requests.load(Ordering::SeqCst)
    }

    /// Requests so far for `path`.
    pub fn requests_for(&self, path: &str) -> usize {
        self.inner.paths.lock().unwrap_or_else(PoisonError::into_inner).get(path).copied().unwrap_or_default()
    }
}

impl Drop for FakeSite {
    fn drop(&mut self) {
        drop(self.handle.stop(false));
        self.https_stand_in.abort();
    }
}

/// A loopback port whose connections are accepted and closed at once, with its task.
async fn accepting_port() -> (u16, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind a loopback port");
    let port = listener.local_addr().expect("local address").port();
    let task = tokio::spawn(async move {
        while let Ok((connection, _)) = listener.accept().await {
            drop(connection);
        }
    });
    (port, task)
}

/// A port on 127.0.0.1 where nothing listens (bound, then let go).
pub fn closed_port() -> u16 {
    let (listener, port) = crate::serve::loopback_listener();
    drop(listener);
    port
}

const GOOD_DESCRIPTION: &str =
    "How to choose running shoes: fit, cushioning and the right shoe for road and trail runners.";

/// A page: `head` goes into `<head>` after the defaults, `body` into `<body>`.
struct Doc<'a> {
    lang: bool,
    title: Option<&'a str>,
    description: Option<&'a str>,
    viewport: bool,
    social: bool,
    json_ld: Option<&'a str>,
    canonical: Option<String>,
    head: String,
    body: String,
}

impl<'a> Doc<'a> {
    fn good(base: &str, path: &str) -> Self {
        Doc {
            lang: true,
            title: Some("Running Shoes: How to Choose the Right Pair"),
            description: Some(GOOD_DESCRIPTION),
            viewport: true,
            social: true,
            json_ld: Some(
                r#"{"@context":"https://schema.org","@type":"Article","headline":"Running shoes"}"#,
            ),
            canonical: Some(format!("{base}{path}")),
            head: String::new(),
            body: format!(
                "<h1>Running Shoes Guide</h1><p>Choosing running shoes starts with fit and the way you run.</p>\
                 <h2>Fit</h2><p>{}</p><h2>Cushioning</h2><p>{}</p>\
                 <img src=\"/shoe.png\" alt=\"A running shoe\"><a href=\"/about\">About our shoe fitting team</a>",
                filler(120),
                filler(120)
            ),
        }
    }

    fn render(&self, base: &str) -> String {
        let mut head = String::new();
        if let Some(title) = self.title {
            head.push_str(&format!("<title>{title}</title>"));
        }
        if let Some(description) = self.description {
            head.push_str(&format!("<meta name=\"description\" content=\"{description}\">"));
        }
        if self.viewport {
            head.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">");
        }
        if self.social {
            head.push_str(&format!(
                "<meta property=\"og:title\" content=\"Running shoes\"><meta property=\"og:description\" content=\"Guide\">\
                 <meta property=\"og:image\" content=\"{base}/shoe.png\"><meta property=\"og:url\" content=\"{base}/good\">\
                 <meta name=\"twitter:card\" content=\"summary_large_image\">"
            ));
        }
        if let Some(json_ld) = self.json_ld {
            head.push_str(&format!("<script type=\"application/ld+json\">{json_ld}</script>"));
        }
        if let Some(canonical) = &self.canonical {
            head.push_str(&format!("<link rel=\"canonical\" href=\"{canonical}\">"));
        }
        head.push_str(&self.head);
        let lang = if self.lang { " lang=\"en\"" } else { "" };
        format!(
            "<!doctype html><html{lang}><head><meta charset=\"utf-8\">{head}</head><body>{}</body></html>",
            self.body
        )
    }
}

fn sitemap(base: &str) -> String {
    let urls: String = SITEMAP.iter().map(|path| format!("<url><loc>{base}{path}</loc></url>")).collect();
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">{urls}</urlset>"
    )
}

/// Plain words that mention the keyword once every 183 words.
fn filler(words: usize) -> String {
    let sentence =
        "Runners should test shoes late in the day when feet are largest and walk a few steps first.";
    let mut out = Vec::with_capacity(words);
    let mut count = 0;
    while count < words {
        out.extend(std::iter::repeat_n(sentence, 10));
        count += 180;
        out.push("Try running shoes.");
        count += 3;
    }
    out.join(" ")
}

fn html(body: String) -> HttpResponse {
    HttpResponse::Ok().content_type("text/html; charset=utf-8").body(body)
}

fn redirect(status: u16, to: &str) -> HttpResponse {
    let status = actix_web::http::StatusCode::from_u16(status).unwrap_or(actix_web::http::StatusCode::FOUND);
    HttpResponse::build(status).insert_header(("Location", to.to_owned())).finish()
}

async fn serve(request: HttpRequest, inner: web::Data<Inner>) -> HttpResponse {
    let path = request.path().to_owned();
    inner.requests.fetch_add(1, Ordering::SeqCst);
    *inner.paths.lock().unwrap_or_else(PoisonError::into_inner).entry(path.clone()).or_default() += 1;
    let base = inner.base.as_str();
    let good = || Doc::good(base, &path);
    match path.as_str() {
        "/robots.txt" => HttpResponse::Ok()
            .content_type("text/plain")
            .body(format!("User-agent: *\nDisallow: /private\n\nSitemap: {base}/sitemap.xml\n")),
        "/sitemap.xml" => HttpResponse::Ok().content_type("application/xml").body(sitemap(base)),
        "/feed.xml" | "/feed" => HttpResponse::Ok()
            .content_type("application/rss+xml")
            .body(format!("<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>Shoes</title><link>{base}/</link></channel></rss>")),
        "/guide.pdf" => HttpResponse::Ok().content_type("application/pdf").body(&b"%PDF-1.4\n%%EOF\n"[..]),
        "/unlisted" => html(good().render(base)),
        "/header-paragraph" => html(
            Doc {
                body: format!(
                    "<header><p>Free delivery on every order over fifty euros.</p><nav><a href=\"/about\">About our shoe fitting team</a></nav></header>\
                     <main>{}</main><footer><p>Shop address and opening hours.</p></footer>",
                    good().body
                ),
                ..good()
            }
            .render(base),
        ),
        "/mixed-https-canonical" => html(
            Doc {
                canonical: Some(format!("{}{path}", base.replacen("http://", "https://", 1))),
                body: format!("{}<img src=\"{base}/a.png\" alt=\"A plain-http image\">", good().body),
                ..good()
            }
            .render(base),
        ),
        "/media-links" => html(
            Doc {
                body: format!(
                    "{}<a href=\"/sitemap.xml\">Our sitemap</a><a href=\"/feed.xml\">News feed</a>\
                     <a href=\"/guide.pdf\">Printable fitting guide</a><a href=\"/shoe.png\">Shoe photo</a>\
                     <a href=\"/feed\">Latest posts as RSS</a>",
                    good().body
                ),
                ..good()
            }
            .render(base),
        ),
        "/good" | "/orphan" => html(good().render(base)),
        "/about" => html(
            Doc { body: "<h1>About us</h1><p>We fit running shoes.</p><a href=\"/good\">Our running shoes guide</a>".into(), ..good() }
                .render(base),
        ),
        "/no-title" => html(Doc { title: None, ..good() }.render(base)),
        "/long-title" => html(
            Doc { title: Some("Running Shoes: The Complete, Exhaustive and Very Long Guide to Choosing a Pair"), ..good() }
                .render(base),
        ),
        "/no-description" => html(Doc { description: None, ..good() }.render(base)),
        "/no-h1" => html(Doc { body: good().body.replace("<h1>Running Shoes Guide</h1>", ""), ..good() }.render(base)),
        "/two-h1" => html(Doc { body: format!("{}<h1>Another H1</h1>", good().body), ..good() }.render(base)),
        "/skipped-headings" => {
            html(Doc { body: good().body.replace("<h2>Fit</h2>", "<h4>Fit</h4>"), ..good() }.render(base))
        }
        "/relative-canonical" => html(Doc { canonical: Some("/good".into()), ..good() }.render(base)),
        "/other-canonical" => html(Doc { canonical: Some(format!("{base}/good")), ..good() }.render(base)),
        "/noindex-header" => HttpResponse::Ok()
            .content_type("text/html")
            .insert_header(("X-Robots-Tag", "noindex"))
            .body(good().render(base)),
        "/noindex-meta" => html(Doc { head: "<meta name=\"robots\" content=\"noindex,follow\">".into(), ..good() }.render(base)),
        "/bad-hreflang" => html(
            Doc { head: format!("<link rel=\"alternate\" hreflang=\"english\" href=\"{base}/bad-hreflang\">"), ..good() }
                .render(base),
        ),
        "/bare" => html(
            Doc { lang: false, viewport: false, social: false, json_ld: None, ..good() }.render(base),
        ),
        "/images-no-alt" => html(Doc { body: format!("{}<img src=\"/a.png\"><img src=\"/b.png\">", good().body), ..good() }.render(base)),
        "/vague-links" => html(
            Doc {
                body: format!("{}<a href=\"/about\">click here</a><a href=\"#\">Menu</a><a href=\"javascript:void(0)\">Open</a>", good().body),
                ..good()
            }
            .render(base),
        ),
        "/broken-link" => html(Doc { body: format!("{}<a href=\"/missing\">Our old shoe list</a>", good().body), ..good() }.render(base)),
        "/broken-jsonld" => html(Doc { json_ld: Some(r#"{"@type": "Article", "headline": }"#), ..good() }.render(base)),
        "/jsonld-no-type" => html(Doc { json_ld: Some(r#"{"headline": "x"}"#), ..good() }.render(base)),
        "/stuffed" => html(
            Doc {
                body: format!("{}<p>{}</p>", good().body, "running shoes ".repeat(200)),
                ..good()
            }
            .render(base),
        ),
        "/redirect-chain" => redirect(301, "/hop"),
        "/hop" => redirect(302, &format!("{base}/good")),
        "/redirect-loop" => redirect(302, "/redirect-loop"),
        "/to-private" => redirect(302, "http://10.255.255.1/"),
        "/huge" => html(Doc { body: format!("{}<p>{}</p>", good().body, "x".repeat(6_000_000)), ..good() }.render(base)),
        "/long-article" => {
            let sections: String = (0..40)
                .map(|n| {
                    format!(
                        "<h2>Section {n}</h2><p>{}</p><img src=\"/s{n}.png\" alt=\"Section {n}\">\
                         <ul><li><a href=\"/tree/{n}\">Tree page {n}</a></li><li>{}</li></ul>",
                        filler(300),
                        filler(20)
                    )
                })
                .collect();
            html(Doc { body: format!("{}{sections}", good().body), ..good() }.render(base))
        }
        "/gzipped" => {
            use std::io::Write;
            let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
            let body = encoder.write_all(good().render(base).as_bytes()).and_then(|()| encoder.finish());
            HttpResponse::Ok()
                .content_type("text/html")
                .insert_header(("Content-Encoding", "gzip"))
                .body(body.unwrap_or_default())
        }
        "/slow" => {
            tokio::time::sleep(Duration::from_secs(3)).await;
            html(good().render(base))
        }
        "/server-error" => HttpResponse::InternalServerError().content_type("text/html").body("<h1>Oops</h1>"),
        "/private/page" => html(good().render(base)),
        "/shoe.png" | "/a.png" | "/b.png" => HttpResponse::Ok().content_type("image/png").body(&b"\x89PNG\r\n\x1a\n"[..]),
        _ => match path.strip_prefix("/tree/").and_then(|n| n.parse::<usize>().ok()) {
            Some(n) => {
                let links: String = [2 * n + 1, 2 * n + 2]
                    .into_iter()
                    .filter(|child| *child < 100)
                    .map(|child| format!("<a href=\"/tree/{child}\">Tree page {child}</a>"))
                    .collect();
                html(
                    Doc {
                        title: Some("Tree page"),
                        canonical: Some(format!("{base}{path}")),
                        body: format!("<h1>Tree page {n}</h1><p>{}</p>{links}", filler(60)),
                        ..good()
                    }
                    .render(base),
                )
            }
            None => HttpResponse::NotFound().content_type("text/html").body("<h1>Not found</h1>"),
        },
    }
}

//! Every social adapter against its fake platform over loopback HTTP: publishing with and
//! without media, the token check, insights, and the failures each platform sends — a revoked
//! token, its rate-limit answer with its reset, a 500, and a timeout after which the platform
//! had made the post anyway (settled without a second post).

use std::{ops::RangeInclusive, sync::Arc, time::Duration};

use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::Value;
use shared::{
    net::OutboundGuard,
    social::{Adapter, Connection, Outgoing, Platform, Published, SocialError, adapter_for},
};
use testkit::social::{Failure, FakeGraph, FakeLinkedIn, FakeMastodon, FakePlatform, FakeX, graph, linkedin};

const TIMEOUT: Duration = Duration::from_millis(700);

fn guard() -> OutboundGuard {
    OutboundGuard::new(["127.0.0.1".to_owned()])
}

fn adapter_of<S: Send + 'static>(
    fake: &FakePlatform<S>,
    platform: Platform,
    user_id: &str,
) -> Box<dyn Adapter> {
    let token = fake.token();
    let connection =
        Connection { platform, base_url: fake.base_url(), token: &token, platform_user_id: user_id };
    adapter_for(&connection, &guard(), TIMEOUT).expect("adapter")
}

fn outgoing<'a>(content: &'a str, media: &'a [String], marker: &'a str) -> Outgoing<'a> {
    Outgoing { content, media, marker, since: chrono::Utc::now() }
}

/// What the publish handler does after an attempt with an unknown outcome.
async fn settle(adapter: &dyn Adapter, post: &Outgoing<'_>) -> Published {
    match adapter.find_published(post).await.expect("lookup") {
        Some(found) => found,
        None => adapter.publish(post).await.expect("publish again"),
    }
}

/// The failures every platform must be read right on; `made` counts the posts on the fake.
async fn failures_are_read_right<S: Send + 'static>(
    fake: &FakePlatform<S>,
    adapter: &dyn Adapter,
    made: impl Fn() -> usize,
    wait: RangeInclusive<u64>,
) {
    let before = made();
    fake.push_failure(Failure::RateLimited(Duration::from_secs(30)));
    match adapter.publish(&outgoing("Rate limited", &[], "m-429")).await {
        Err(SocialError::RateLimited { retry_after: Some(after) }) => {
            assert!(wait.contains(&after.as_secs()), "waits {after:?}, expected {wait:?} s")
        }
        other => panic!("expected a rate limit with its reset, got {other:?}"),
    }
    fake.push_failure(Failure::ServerError);
    match adapter.publish(&outgoing("Server error", &[], "m-500")).await {
        Err(error @ SocialError::Server { status: 500, .. }) => assert!(error.is_retryable()),
        other => panic!("expected a retryable 500, got {other:?}"),
    }
    assert_eq!(made(), before, "nothing is made by a refused call");

    // The platform makes the post but answers too late: the next attempt finds it (or, with
    // an idempotency key, is answered with it) and nothing is posted twice.
    fake.push_failure(Failure::Slow(TIMEOUT * 3));
    let post = outgoing("Made while we waited", &[], "m-slow");
    assert!(matches!(adapter.publish(&post).await, Err(SocialError::Timeout(_))));
    tokio::time::sleep(TIMEOUT * 3).await;
    assert_eq!(made(), before + 1, "the platform made it after all");
    let settled = settle(adapter, &post).await;
    assert!(!settled.remote_id.is_empty());
    assert_eq!(made(), before + 1, "settled without a second post");

    fake.revoke();
    assert!(matches!(adapter.publish(&outgoing("Revoked", &[], "m-401")).await, Err(SocialError::Auth(_))));
    assert!(matches!(adapter.check().await, Err(SocialError::Auth(_))));
    assert!(!SocialError::Auth(String::new()).is_retryable());
    assert_eq!(made(), before + 1);
}

/// A loopback server with pictures and a clip to attach: `/photo-N.png`, `/clip.mp4`.
struct MediaHost {
    base: String,
    _handle: actix_web::dev::ServerHandle,
}

fn png() -> Vec<u8> {
    let mut bytes = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
    bytes.extend_from_slice(&64u32.to_be_bytes());
    bytes.extend_from_slice(&48u32.to_be_bytes());
    bytes.extend_from_slice(&[8, 2, 0, 0, 0, 0, 0, 0, 0]);
    bytes
}

async fn serve_media(request: HttpRequest, _: web::Data<()>) -> HttpResponse {
    match request.path() {
        path if path.ends_with(".png") => HttpResponse::Ok().content_type("image/png").body(png()),
        "/clip.mp4" => HttpResponse::Ok().content_type("video/mp4").body(vec![0u8; 4096]),
        _ => HttpResponse::NotFound().finish(),
    }
}

impl MediaHost {
    fn start() -> Self {
        let (listener, port) = testkit::loopback_listener();
        let handle = testkit::serve_fake(listener, Arc::new(()), serve_media);
        Self { base: format!("http://127.0.0.1:{port}"), _handle: handle }
    }

    fn urls(&self, names: &[&str]) -> Vec<String> {
        names.iter().map(|name| format!("{}/{name}", self.base)).collect()
    }
}

#[tokio::test]
async fn mastodon_uploads_media_keys_its_posts_and_reads_its_failures() {
    let fake = FakeMastodon::start().await;
    let adapter = adapter_of(&fake, Platform::Mastodon, "");
    let media = MediaHost::start();

    let pictures = media.urls(&["photo-1.png", "photo-2.png"]);
    let published = adapter.publish(&outgoing("Two pictures", &pictures, "m-1")).await.expect("publish");
    let status = &fake.statuses()[0];
    assert_eq!(published.remote_id, status["id"].as_str().expect("id"));
    assert_eq!(status["media_attachments"].as_array().map(Vec::len), Some(2));
    // A video is still processing when the upload answers; the status waits for it.
    let clip = media.urls(&["clip.mp4"]);
    adapter.publish(&outgoing("A clip", &clip, "m-2")).await.expect("publish a video");
    assert_eq!(fake.statuses()[1]["media_attachments"][0]["type"], "video");
    let again = adapter.publish(&outgoing("Two pictures", &[], "m-1")).await.expect("same key");
    assert_eq!(again, published, "the same idempotency key answers the same status");

    fake.react(&published.remote_id, 5, 2, 1);
    let insights = adapter.insights(&published.remote_id).await.expect("insights");
    assert_eq!((insights.likes, insights.shares, insights.replies), (5, 2, 1));
    assert_eq!(adapter.check().await.expect("check"), "@switchyard");
    failures_are_read_right(&fake, adapter.as_ref(), || fake.statuses().len(), 28..=30).await;
}

#[tokio::test]
async fn x_uploads_images_finds_a_tweet_it_made_and_reads_its_failures() {
    let fake = FakeX::start().await;
    let adapter = adapter_of(&fake, Platform::X, "");
    let media = MediaHost::start();

    let pictures = media.urls(&["photo-1.png", "photo-2.png"]);
    let published =
        adapter.publish(&outgoing("Hello from Switchyard", &pictures, "m-1")).await.expect("publish");
    let tweet = &fake.tweets()[0];
    assert_eq!(published.remote_id, tweet_id(tweet));
    assert!(published.url.ends_with(&published.remote_id));
    assert_eq!(fake.media().len(), 2);
    let found = adapter.find_published(&outgoing("Hello from Switchyard", &[], "m-1")).await.expect("lookup");
    assert_eq!(found, Some(published.clone()), "found among the account's tweets");
    assert_eq!(adapter.find_published(&outgoing("Never sent", &[], "m-x")).await.expect("lookup"), None);

    fake.react(&published.remote_id, 7, 3, 2, 900);
    let insights = adapter.insights(&published.remote_id).await.expect("insights");
    assert_eq!(
        (insights.likes, insights.shares, insights.replies, insights.impressions),
        (7, 3, 2, Some(900))
    );
    assert!(matches!(adapter.insights("1").await, Err(SocialError::Rejected(_))), "X's 200 with errors");
    assert_eq!(adapter.check().await.expect("check"), "@switchyard");
    failures_are_read_right(&fake, adapter.as_ref(), || fake.tweets().len(), 28..=31).await;
}

fn tweet_id(tweet: &Value) -> &str {
    tweet["id"].as_str().or_else(|| tweet["data"]["id"].as_str()).expect("tweet id")
}

#[tokio::test]
async fn facebook_posts_text_photos_and_video_and_reads_graph_errors() {
    let fake = FakeGraph::start().await;
    let adapter = adapter_of(&fake, Platform::Facebook, graph::PAGE_ID);
    // Graph fetches media itself: these addresses are only handed over.
    let cdn = |name: &str| format!("http://127.0.0.1:9/{name}");

    let text = adapter.publish(&outgoing("Just words", &[], "m-1")).await.expect("text post");
    assert!(text.remote_id.starts_with(graph::PAGE_ID), "{text:?}");
    adapter.publish(&outgoing("One photo", &[cdn("a.jpg")], "m-2")).await.expect("photo post");
    let album = [cdn("a.jpg"), cdn("b.png")];
    let several = adapter.publish(&outgoing("Two photos", &album, "m-3")).await.expect("album");
    let posts = fake.posts();
    let made = posts.iter().find(|post| post["id"] == several.remote_id.as_str()).expect("album post");
    assert_eq!(made["message"], "Two photos");
    assert_eq!(fake.photos().len(), 3);
    adapter.publish(&outgoing("A clip", &[cdn("clip.mp4")], "m-4")).await.expect("video post");
    assert_eq!(fake.posts().len(), 4);

    let found = adapter.find_published(&outgoing("Just words", &[], "m-1")).await.expect("lookup");
    assert_eq!(found.map(|found| found.remote_id), Some(text.remote_id.clone()));
    fake.react(&text.remote_id, 11, 4, 6);
    let insights = adapter.insights(&text.remote_id).await.expect("insights");
    assert_eq!((insights.likes, insights.shares, insights.replies), (11, 4, 6));
    assert_eq!(adapter.check().await.expect("check"), "Switchyard Page");
    // Graph's throttling is an error code with the wait in minutes in a usage header.
    failures_are_read_right(&fake, adapter.as_ref(), || fake.posts().len(), 60..=60).await;
}

#[tokio::test]
async fn instagram_publishes_containers_carousels_and_reels() {
    let fake = FakeGraph::start().await;
    let adapter = adapter_of(&fake, Platform::Instagram, graph::INSTAGRAM_ID);
    let cdn = |name: &str| format!("http://127.0.0.1:9/{name}");

    let single =
        adapter.publish(&outgoing("A picture #launch", &[cdn("a.jpg")], "m-1")).await.expect("image");
    assert!(single.url.starts_with("https://www.instagram.com/p/"), "{single:?}");
    let carousel = [cdn("a.jpg"), cdn("clip.mp4"), cdn("b.jpeg")];
    adapter.publish(&outgoing("An album", &carousel, "m-2")).await.expect("carousel");
    adapter.publish(&outgoing("A reel", &[cdn("clip.mp4")], "m-3")).await.expect("reel, after processing");
    let media = fake.instagram_media();
    assert_eq!(media.len(), 3);
    assert_eq!(media[1]["media_type"], "CAROUSEL_ALBUM");
    assert_eq!(media[2]["media_type"], "VIDEO");
    // Instagram takes JPEG only; the platform's own refusal is read as a rejection.
    let png = adapter.publish(&outgoing("Wrong type", &[cdn("a.png")], "m-4")).await;
    assert!(matches!(png, Err(SocialError::Rejected(_))), "{png:?}");

    let found = adapter.find_published(&outgoing("A picture #launch", &[], "m-1")).await.expect("lookup");
    assert_eq!(found.map(|found| found.remote_id), Some(single.remote_id.clone()));
    fake.react(&single.remote_id, 40, 0, 3);
    let insights = adapter.insights(&single.remote_id).await.expect("insights");
    assert_eq!((insights.likes, insights.replies), (40, 3));
    assert_eq!(adapter.check().await.expect("check"), "@switchyard");

    let image = [cdn("a.jpg")];
    let made = || fake.instagram_media().len();
    let before = made();
    fake.push_failure(Failure::RateLimited(Duration::from_secs(120)));
    let limited = adapter.publish(&outgoing("Throttled", &image, "m-5")).await;
    assert!(
        matches!(limited, Err(SocialError::RateLimited { retry_after: Some(wait) }) if wait == Duration::from_secs(120))
    );
    fake.push_failure(Failure::ServerError);
    assert!(matches!(
        adapter.publish(&outgoing("Down", &image, "m-6")).await,
        Err(SocialError::Server { .. })
    ));
    fake.revoke();
    assert!(matches!(adapter.publish(&outgoing("Revoked", &image, "m-7")).await, Err(SocialError::Auth(_))));
    assert_eq!(made(), before);
}

#[tokio::test]
async fn linkedin_uploads_images_escapes_commentary_and_reads_its_failures() {
    let fake = FakeLinkedIn::start().await;
    let adapter = adapter_of(&fake, Platform::Linkedin, linkedin::ORGANIZATION_URN);
    let media = MediaHost::start();

    let text = "Our (new) guide is out #marketing";
    let published = adapter.publish(&outgoing(text, &[], "m-1")).await.expect("publish");
    assert!(published.remote_id.starts_with("urn:li:share:"), "{published:?}");
    let post = &fake.posts()[0];
    assert_eq!(post["author"], linkedin::ORGANIZATION_URN);
    assert_eq!(post["commentary"], "Our \\(new\\) guide is out {hashtag|\\#|marketing}");
    let pictures = media.urls(&["photo-1.png", "photo-2.png"]);
    adapter.publish(&outgoing("Pictures", &pictures, "m-2")).await.expect("publish images");
    assert_eq!(fake.posts()[1]["content"]["multiImage"]["images"].as_array().map(Vec::len), Some(2));
    adapter.publish(&outgoing("A picture", &pictures[..1], "m-3")).await.expect("publish an image");
    assert!(
        fake.posts()[2]["content"]["media"]["id"].as_str().is_some_and(|id| id.starts_with("urn:li:image:"))
    );

    let found = adapter.find_published(&outgoing(text, &[], "m-1")).await.expect("lookup");
    assert_eq!(found, Some(published.clone()));
    fake.react(&published.remote_id, 12, 5);
    let insights = adapter.insights(&published.remote_id).await.expect("insights");
    assert_eq!((insights.likes, insights.replies), (12, 5));
    assert_eq!(adapter.check().await.expect("check"), "Switchyard Marketing");
    failures_are_read_right(&fake, adapter.as_ref(), || fake.posts().len(), 30..=30).await;
}

#[tokio::test]
async fn the_platform_address_and_media_go_through_the_outbound_guard() {
    let connection = Connection {
        platform: Platform::Mastodon,
        base_url: "http://10.0.0.7",
        token: "t",
        platform_user_id: "",
    };
    let refused = adapter_for(&connection, &OutboundGuard::default(), TIMEOUT).err();
    assert!(matches!(refused, Some(SocialError::Refused(_))), "{refused:?}");

    let fake = FakeMastodon::start().await;
    let adapter = adapter_of(&fake, Platform::Mastodon, "");
    let inside = ["http://169.254.169.254/latest/meta-data/photo.png".to_owned()];
    let refused = adapter.publish(&outgoing("Metadata", &inside, "m-1")).await;
    assert!(matches!(&refused, Err(error @ SocialError::Refused(_)) if !error.is_retryable()), "{refused:?}");
    assert!(fake.statuses().is_empty() && fake.media().is_empty());

    let needs_page = Connection {
        platform: Platform::Facebook,
        base_url: fake.base_url(),
        token: "t",
        platform_user_id: "",
    };
    assert!(matches!(adapter_for(&needs_page, &guard(), TIMEOUT), Err(SocialError::Rejected(_))));
}

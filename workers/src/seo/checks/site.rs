//! Checks of the site the page belongs to: robots.txt, the sitemap, and whether robots.txt
//! names the sitemap. They are the same for every page of a host.

use serde_json::{Value, json};
use url::Url;

use super::{Category, Check};
use crate::seo::{RobotsState, SiteContext, SitemapState};

pub fn robots_txt(site: &SiteContext, page: &Url) -> Check {
    let check = Check::new("robots_txt", Category::Indexability, 3.0);
    let evidence = json!(site.robots_url);
    match &site.robots {
        RobotsState::Broken(reason) => check.fail(
            format!("robots.txt cannot be read ({reason}); crawlers hold back from the whole site."),
            evidence,
            "Serve robots.txt with 200 (or 404 when there is none); never 5xx.",
        ),
        RobotsState::Missing(status) => check.warn(
            format!("The site has no robots.txt ({status})."),
            evidence,
            "Add a robots.txt that names the sitemap.",
        ),
        RobotsState::Found(_) if !site.robots.allows(page) => check.fail(
            "robots.txt forbids crawling this page.",
            json!({ "robots": site.robots_url, "page": page.as_str() }),
            "Remove the Disallow rule that matches the page, if it should rank.",
        ),
        RobotsState::Found(_) => check.pass("robots.txt allows the page.", evidence),
    }
}

pub fn sitemap(site: &SiteContext) -> Check {
    let check = Check::new("sitemap", Category::Indexability, 3.0);
    match &site.sitemap {
        SitemapState::Valid { url, urls } => check.pass(
            format!("The sitemap lists {} URLs.", urls.len()),
            json!({ "url": url, "urls": urls.len() }),
        ),
        SitemapState::Missing => check.warn(
            "No sitemap was found (robots.txt names none and /sitemap.xml is missing).",
            Value::Null,
            "Publish an XML sitemap and name it in robots.txt.",
        ),
        SitemapState::Invalid { url, reason } => check.fail(
            format!("The sitemap is not valid: {reason}."),
            json!({ "url": url, "reason": reason }),
            "Serve a <urlset> of absolute <loc> URLs (sitemaps.org protocol).",
        ),
    }
}

pub fn sitemap_in_robots(site: &SiteContext) -> Check {
    let check = Check::new("sitemap_in_robots", Category::Indexability, 2.0);
    let sitemap = match &site.sitemap {
        SitemapState::Valid { url, .. } | SitemapState::Invalid { url, .. } => url.clone(),
        SitemapState::Missing => "https://…/sitemap.xml".to_owned(),
    };
    let fix = format!("Add the line `Sitemap: {sitemap}` (an absolute URL) to robots.txt.");
    match &site.robots {
        RobotsState::Found(robots) if !robots.sitemaps.is_empty() => {
            check.pass("robots.txt names the sitemap.", json!(robots.sitemaps))
        }
        RobotsState::Found(_) => check.warn(
            "robots.txt does not name the sitemap; crawlers must guess where it is.",
            json!(site.robots_url),
            &fix,
        ),
        RobotsState::Missing(_) | RobotsState::Broken(_) => check.warn(
            "Without a readable robots.txt, nothing names the sitemap to crawlers.",
            json!(site.robots_url),
            &fix,
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Status, test_support::site};
    use crate::seo::{RobotsState, SiteContext, robots::Robots, site_checks};

    fn outcome(site: &SiteContext) -> Status {
        let page = url::Url::parse("http://shop.test/").expect("url");
        let checks = site_checks(site, &page);
        checks.into_iter().find(|check| check.id == "sitemap_in_robots").expect("check").status
    }

    #[test]
    fn robots_txt_must_name_the_sitemap() {
        let named = Robots::parse(
            "User-agent: *\nAllow: /\nSitemap: http://shop.test/sitemap.xml\n",
            "SwitchyardBot",
        );
        assert_eq!(outcome(&SiteContext { robots: RobotsState::Found(named), ..site() }), Status::Pass);
        assert_eq!(outcome(&site()), Status::Warning, "robots.txt without a Sitemap line");
        assert_eq!(outcome(&SiteContext { robots: RobotsState::Missing(404), ..site() }), Status::Warning);
    }
}

//! robots.txt (RFC 9309: groups by user agent, the longest matching rule wins, `Allow` wins a
//! tie, `*` and `$` in paths) and XML sitemaps (`urlset` and `sitemapindex`).

/// The rules of robots.txt that apply to one crawler.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Robots {
    /// (allow, path pattern)
    rules: Vec<(bool, String)>,
    pub sitemaps: Vec<String>,
    pub crawl_delay_secs: Option<f64>,
}

impl Robots {
    /// The group for `agent` (a product token such as `SwitchyardBot`), else the `*` group.
    pub fn parse(body: &str, agent: &str) -> Self {
        let agent = agent.to_lowercase();
        let mut robots = Robots::default();
        // (agents of the group, rules, delay)
        type Group = (Vec<String>, Vec<(bool, String)>, Option<f64>);
        let mut groups: Vec<Group> = Vec::new();
        let mut taking_agents = false;
        for line in body.lines() {
            let line = line.split('#').next().unwrap_or_default().trim();
            let Some((key, value)) = line.split_once(':') else { continue };
            let (key, value) = (key.trim().to_lowercase(), value.trim());
            match key.as_str() {
                "user-agent" => {
                    if !taking_agents {
                        groups.push((Vec::new(), Vec::new(), None));
                    }
                    taking_agents = true;
                    if let Some(group) = groups.last_mut() {
                        group.0.push(value.to_lowercase());
                    }
                }
                "allow" | "disallow" => {
                    taking_agents = false;
                    // An empty Disallow allows everything: no rule.
                    if let Some(group) = groups.last_mut()
                        && !value.is_empty()
                    {
                        group.1.push((key == "allow", value.to_owned()));
                    }
                }
                "crawl-delay" => {
                    taking_agents = false;
                    if let Some(group) = groups.last_mut() {
                        group.2 = value.parse().ok();
                    }
                }
                "sitemap" => robots.sitemaps.push(value.to_owned()),
                _ => {}
            }
        }
        let own = groups
            .iter()
            .find(|group| group.0.iter().any(|name| name != "*" && agent.contains(name.as_str())));
        let chosen = own.or_else(|| groups.iter().find(|group| group.0.iter().any(|name| name == "*")));
        if let Some((_, rules, delay)) = chosen {
            robots.rules = rules.clone();
            robots.crawl_delay_secs = *delay;
        }
        robots
    }

    /// Whether `path` (with its query) may be fetched.
    pub fn allows(&self, path: &str) -> bool {
        let mut best: Option<(usize, bool)> = None;
        for (allow, pattern) in &self.rules {
            if matches(pattern, path) {
                let length = pattern.len();
                best = match best {
                    Some((best_length, best_allow))
                        if best_length > length || (best_length == length && best_allow) =>
                    {
                        Some((best_length, best_allow))
                    }
                    _ => Some((length, *allow)),
                };
            }
        }
        best.is_none_or(|(_, allow)| allow)
    }
}

/// `*` matches any run of characters; a final `$` anchors the end; otherwise a prefix match.
fn matches(pattern: &str, path: &str) -> bool {
    let (pattern, anchored) = match pattern.strip_suffix('$') {
        Some(stripped) => (stripped, true),
        None => (pattern, false),
    };
    let parts: Vec<&str> = pattern.split('*').collect();
    let mut rest = path;
    for (index, part) in parts.iter().enumerate() {
        if index == 0 {
            let Some(after) = rest.strip_prefix(part) else { return false };
            rest = after;
        } else if index == parts.len() - 1 && anchored {
            return rest.ends_with(part);
        } else {
            match rest.find(part) {
                Some(at) => rest = &rest[at + part.len()..],
                None => return false,
            }
        }
    }
    !anchored || rest.is_empty()
}

/// A parsed sitemap.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Sitemap {
    /// Page URLs.
    Urls(Vec<String>),
    /// Further sitemaps.
    Index(Vec<String>),
}

/// Reads a sitemap, or says why it is not one.
pub fn parse_sitemap(body: &str) -> Result<Sitemap, String> {
    let trimmed = body.trim_start_matches('\u{feff}').trim_start();
    let root = first_element(trimmed).ok_or("the sitemap is not XML")?;
    let locations = locs(trimmed)?;
    if let Some(bad) =
        locations.iter().find(|loc| !(loc.starts_with("http://") || loc.starts_with("https://")))
    {
        return Err(format!("<loc>{bad}</loc> is not an absolute http(s) URL"));
    }
    match root.as_str() {
        "urlset" => Ok(Sitemap::Urls(locations)),
        "sitemapindex" => Ok(Sitemap::Index(locations)),
        other => Err(format!("the root element is <{other}>, not <urlset> or <sitemapindex>")),
    }
}

/// The name of the first element, past the XML declaration, comments and doctype.
fn first_element(xml: &str) -> Option<String> {
    let mut rest = xml;
    loop {
        let start = rest.find('<')?;
        rest = &rest[start + 1..];
        if rest.starts_with('?') || rest.starts_with('!') {
            rest = &rest[rest.find('>')? + 1..];
            continue;
        }
        let name: String =
            rest.chars().take_while(|c| !c.is_whitespace() && *c != '>' && *c != '/').collect();
        // A namespace prefix (`<sm:urlset>`) does not change what the element is.
        return Some(name.rsplit(':').next().unwrap_or_default().to_lowercase());
    }
}

fn locs(xml: &str) -> Result<Vec<String>, String> {
    let mut found = Vec::new();
    let mut rest = xml;
    while let Some(start) = rest.find("<loc>") {
        rest = &rest[start + "<loc>".len()..];
        let end = rest.find("</loc>").ok_or("a <loc> is not closed")?;
        found.push(unescape(rest[..end].trim()));
        rest = &rest[end..];
    }
    Ok(found)
}

fn unescape(text: &str) -> String {
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&amp;", "&")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_most_specific_rule_wins() {
        let robots = Robots::parse(
            "User-agent: *\nDisallow: /private\nAllow: /private/open\nDisallow: /*.pdf$\n\
             Crawl-delay: 2\nSitemap: https://shop.test/sitemap.xml\n\n\
             User-agent: OtherBot\nDisallow: /\n",
            "SwitchyardBot",
        );
        assert!(robots.allows("/"));
        assert!(!robots.allows("/private/x"));
        assert!(robots.allows("/private/open/y"));
        assert!(!robots.allows("/files/a.pdf"));
        assert!(robots.allows("/files/a.pdf?x=1"));
        assert_eq!(robots.crawl_delay_secs, Some(2.0));
        assert_eq!(robots.sitemaps, vec!["https://shop.test/sitemap.xml"]);
    }

    #[test]
    fn our_own_group_beats_the_wildcard() {
        let robots = Robots::parse(
            "User-agent: *\nAllow: /\n\nUser-agent: switchyardbot\nDisallow: /\n",
            "SwitchyardBot/1.0",
        );
        assert!(!robots.allows("/anything"));
        assert!(Robots::parse("", "SwitchyardBot").allows("/x"));
        assert!(Robots::parse("User-agent: *\nDisallow:\n", "SwitchyardBot").allows("/x"));
    }

    #[test]
    fn sitemaps_are_read_or_refused_with_a_reason() {
        let urls = "<?xml version=\"1.0\"?>\n<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\
                    <url><loc>https://shop.test/a?x=1&amp;y=2</loc></url><url><loc> https://shop.test/b </loc></url></urlset>";
        assert_eq!(
            parse_sitemap(urls),
            Ok(Sitemap::Urls(vec!["https://shop.test/a?x=1&y=2".into(), "https://shop.test/b".into()]))
        );
        let index = "<sitemapindex><sitemap><loc>https://shop.test/s1.xml</loc></sitemap></sitemapindex>";
        assert_eq!(parse_sitemap(index), Ok(Sitemap::Index(vec!["https://shop.test/s1.xml".into()])));
        assert!(parse_sitemap("<html><body>Not found</body></html>").is_err());
        assert!(parse_sitemap("<urlset><url><loc>/relative</loc></url></urlset>").is_err());
        assert!(parse_sitemap("<urlset><url><loc>https://x.test/</url></urlset>").is_err());
        assert!(parse_sitemap("plain text").is_err());
    }
}

//! Text read out of an article's sanitized HTML: its plain text and its H2 headings. Shared
//! by the API (prompts made from the content) and the workers (prompts, word counts,
//! publishing).

/// The text of sanitized HTML: tags become spaces and the common entities are decoded.
pub fn text_of(html: &str) -> String {
    let mut text = String::with_capacity(html.len());
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => {
                in_tag = true;
                text.push(' ');
            }
            '>' if in_tag => in_tag = false,
            _ if !in_tag => text.push(c),
            _ => {}
        }
    }
    decode_entities(&text)
}

fn decode_entities(text: &str) -> String {
    text.replace("&nbsp;", " ")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

/// The text of each `<h2>` of sanitized HTML, in order.
pub fn h2_headings(html: &str) -> Vec<String> {
    let lower = html.to_ascii_lowercase();
    let mut headings = Vec::new();
    let mut from = 0;
    while let Some(start) = lower[from..].find("<h2").map(|i| from + i) {
        let after_name = start + 3;
        let opens =
            lower[after_name..].starts_with('>') || lower[after_name..].starts_with(char::is_whitespace);
        let Some(open_end) = lower[after_name..].find('>').map(|i| after_name + i + 1) else { break };
        let Some(close) = lower[open_end..].find("</h2").map(|i| open_end + i) else { break };
        if opens {
            let heading = text_of(&html[open_end..close]).split_whitespace().collect::<Vec<_>>().join(" ");
            if !heading.is_empty() {
                headings.push(heading);
            }
        }
        from = close + 4;
    }
    headings
}

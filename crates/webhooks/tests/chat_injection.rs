//! Issue 8 item 12: user-controlled text (a heartbeat push's `msg`, a monitor name) must not
//! turn into mentions, masked links or markup in chat integrations. Every chat manifest renders
//! a hostile `monitor.down` event; each rich-text field is checked for the hostile tokens per
//! its format, and the whole request matches `tests/golden/hostile/<name>.json`
//! (`VEDETTE_UPDATE_GOLDEN=1` regenerates them).

use serde_json::{Value, json};
use vedette_model::EventType;
use vedette_webhooks::samples::sample_event;
use vedette_webhooks::{Catalog, Engine};

#[path = "support/golden.rs"]
mod golden;

const HOSTILE_MESSAGE: &str = "<!channel> <!here> @channel @everyone @here @room @**all** \
    <@123456> <#987> <@&42> <https://evil.example/login|https://sso.example/login> \
    [https://sso.example/login](https://evil.example/login) **bold** <script>alert(1)</script> \
    & done";
const HOSTILE_NAME: &str = "Pay<!here>ments @everyone [click](https://evil.example)";

/// Tokens that would become mentions, links or markup if they reached a chat verbatim.
const TOKENS: &[&str] = &[
    "<!channel>",
    "<!here>",
    "<https://evil",
    "[https://sso",
    "[click]",
    "**bold**",
    "<@123456>",
    "<#987>",
    "<@&42>",
    "<script>",
    "@channel",
    "@everyone",
    "@here",
    "@room",
    "@**all**",
];
const MENTIONS: &[&str] = &["@channel", "@everyone", "@here", "@room", "@**all**"];

#[derive(Clone, Copy, Debug)]
enum Format {
    /// Slack mrkdwn and Google Chat text: no backslash escapes, entities instead.
    Slack,
    /// Markdown: a token preceded by a backslash is inert.
    Markdown,
    /// HTML: entities.
    Html,
    /// Plain text a chat still scans for mentions.
    Mentions,
}

fn hostile_event() -> vedette_model::Event {
    let mut event = sample_event(EventType::MonitorDown);
    event.data["message"] = json!(HOSTILE_MESSAGE);
    event.data["monitor_name"] = json!(HOSTILE_NAME);
    event
}

fn render(catalog: &Catalog, name: &str) -> (Value, Vec<(String, String)>) {
    let manifest = catalog.get(name).expect("manifest");
    let params = manifest
        .validate_params(&manifest.example)
        .expect("example parameters are valid");
    let req = manifest
        .render(&Engine::default(), &hostile_event(), &params)
        .unwrap_or_else(|e| panic!("{name}: {e}"));
    let body = if req.content_type.contains("json") {
        serde_json::from_str(&req.body).expect("JSON body")
    } else {
        Value::String(req.body.clone())
    };
    (body, req.headers)
}

/// Occurrences of `token` in `text` that are live: for Markdown, not preceded by a backslash.
fn live(text: &str, token: &str, format: Format) -> bool {
    text.match_indices(token).any(|(i, _)| match format {
        Format::Markdown => !text[..i].ends_with('\\'),
        _ => true,
    })
}

fn check(name: &str, body: &Value, pointer: &str, format: Format) {
    let text = body
        .pointer(pointer)
        .and_then(Value::as_str)
        .unwrap_or_else(|| panic!("{name}: no string at {pointer} in {body}"));
    // Slack mrkdwn and HTML give meaning only to `<...>` (Slack ignores `[..](..)`, `**` and
    // bare `@everyone`); Markdown chats to all of them.
    let tokens: Vec<&str> = match format {
        Format::Mentions => MENTIONS.to_vec(),
        Format::Slack | Format::Html => TOKENS
            .iter()
            .copied()
            .filter(|t| t.starts_with('<'))
            .collect(),
        Format::Markdown => TOKENS.to_vec(),
    };
    for token in tokens {
        assert!(
            !live(text, token, format),
            "{name} {pointer} ({format:?}) carries {token:?} verbatim: {text}"
        );
    }
}

#[test]
fn chat_integrations_neutralise_hostile_text() {
    use Format::*;
    let catalog = Catalog::builtin().expect("catalog");
    let table: &[(&str, &[(&str, Format)])] = &[
        (
            "slack",
            &[
                ("/text", Slack),
                ("/attachments/0/blocks/0/text/text", Slack),
            ],
        ),
        (
            "discord",
            &[
                ("/embeds/0/title", Markdown),
                ("/embeds/0/description", Markdown),
            ],
        ),
        (
            "teams",
            &[
                ("/attachments/0/content/body/0/text", Markdown),
                ("/attachments/0/content/body/1/text", Markdown),
            ],
        ),
        (
            "google_chat",
            &[
                ("/text", Slack),
                (
                    "/cardsV2/0/card/sections/0/widgets/0/textParagraph/text",
                    Html,
                ),
            ],
        ),
        (
            "mattermost",
            &[
                ("/text", Markdown),
                ("/attachments/0/text", Markdown),
                ("/attachments/0/title", Mentions),
                ("/attachments/0/fallback", Mentions),
            ],
        ),
        (
            "rocketchat",
            &[
                ("/text", Markdown),
                ("/attachments/0/text", Markdown),
                ("/attachments/0/title", Mentions),
            ],
        ),
        (
            "matrix",
            &[
                ("/body", Mentions),
                ("/formatted_body", Html),
                ("/formatted_body", Mentions),
            ],
        ),
        ("webex", &[("/markdown", Markdown)]),
    ];
    for (name, fields) in table {
        let (body, _) = render(&catalog, name);
        for (pointer, format) in *fields {
            check(name, &body, pointer, *format);
        }
    }
    let (discord, _) = render(&catalog, "discord");
    assert_eq!(discord["allowed_mentions"], json!({"parse": []}));
    let (matrix, _) = render(&catalog, "matrix");
    assert_eq!(matrix["m.mentions"], json!({}), "no body-based room pings");
    assert!(
        matrix["formatted_body"]
            .as_str()
            .is_some_and(|t| t.contains("&lt;script&gt;")),
        "{matrix}"
    );
    let (slack, _) = render(&catalog, "slack");
    assert!(
        slack["text"]
            .as_str()
            .is_some_and(|t| t.contains("&lt;!channel&gt;")),
        "{slack}"
    );
    // Zulip: the form body's `content` is Markdown.
    let (zulip, _) = render(&catalog, "zulip");
    let form = zulip.as_str().expect("form body");
    let content = url::form_urlencoded::parse(form.as_bytes())
        .find(|(k, _)| k == "content")
        .map(|(_, v)| v.into_owned())
        .expect("content");
    check("zulip", &json!({"content": content}), "/content", Markdown);
}

/// Integrations that send plain text keep it plain: no parse mode or markup switch that would
/// make the hostile text live, and the text arrives as written.
#[test]
fn plain_text_integrations_stay_plain() {
    let catalog = Catalog::builtin().expect("catalog");
    let (telegram, _) = render(&catalog, "telegram");
    assert!(telegram.get("parse_mode").is_none(), "{telegram}");
    assert!(
        telegram["text"]
            .as_str()
            .is_some_and(|t| t.contains("<!channel>")),
        "plain text is sent as written: {telegram}"
    );
    let (pushover, _) = render(&catalog, "pushover");
    assert!(pushover.get("html").is_none(), "{pushover}");
    let (gotify, _) = render(&catalog, "gotify");
    assert_eq!(
        gotify["extras"]["client::display"]["contentType"],
        "text/plain"
    );
    let (ntfy, headers) = render(&catalog, "ntfy");
    assert!(ntfy.get("markdown").is_none(), "{ntfy}");
    assert!(
        !headers.iter().any(
            |(k, _)| k.eq_ignore_ascii_case("markdown") || k.eq_ignore_ascii_case("x-markdown")
        ),
        "{headers:?}"
    );
}

#[test]
fn hostile_renders_match_golden_files() {
    let catalog = Catalog::builtin().expect("catalog");
    for name in [
        "slack",
        "discord",
        "teams",
        "google_chat",
        "mattermost",
        "rocketchat",
        "matrix",
        "webex",
        "zulip",
        "telegram",
    ] {
        let (body, headers) = render(&catalog, name);
        let got = json!({"headers": headers, "body": body});
        let Some(expected) = golden::expected(&format!("hostile/{name}.json"), &got) else {
            continue;
        };
        assert_eq!(
            got, expected,
            "{name}: golden mismatch (VEDETTE_UPDATE_GOLDEN=1 regenerates)"
        );
    }
}

/// The Slack `mention` parameter (set by the endpoint's owner, so not escaped) goes before the
/// escaped summary and the body stays one JSON document.
#[test]
fn slack_mention_parameter_keeps_the_body_valid() {
    let catalog = Catalog::builtin().expect("catalog");
    let manifest = catalog.get("slack").expect("slack");
    let mut params = manifest.example.clone();
    params["mention"] = json!("<!here>");
    let params = manifest.validate_params(&params).expect("valid");
    let req = manifest
        .render(&Engine::default(), &hostile_event(), &params)
        .expect("renders valid JSON");
    let body: Value = serde_json::from_str(&req.body).expect("JSON");
    let text = body["text"].as_str().expect("text");
    assert!(
        text.starts_with("<!here> 🔴 Pay&lt;!here&gt;ments"),
        "{text}"
    );
}

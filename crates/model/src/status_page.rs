//! Status pages: a public page at `/status/<slug>` showing chosen monitors, grouped, under
//! display names. Only what a page lists is ever shown publicly; which figures it shows
//! (uptime, latency, incidents, maintenance, messages) is the page's choice.

use std::collections::BTreeSet;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::validate::{Errors, FieldError, check_http_url, check_id};

/// Longest `title`, group `name` or monitor display `name`, in bytes.
pub const MAX_TITLE_LEN: usize = 200;
/// Longest `logo_url`, in bytes.
pub const MAX_URL_LEN: usize = 2048;
/// Longest `slug`, in bytes.
pub const MAX_SLUG_LEN: usize = 64;
/// Most groups on a page.
pub const MAX_GROUPS: usize = 50;
/// Most monitors named in one group.
pub const MAX_GROUP_MONITORS: usize = 500;
/// Most monitors a page shows in all (selectors matching more are cut at this many).
pub const MAX_PAGE_MONITORS: usize = 1000;

/// A public status page.
#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct StatusPageSpec {
    /// Shown as the page's heading, 1 to 200 bytes.
    pub title: String,
    /// The page's address: `/status/<slug>`; 1 to 64 characters of a-z, 0-9 and '-',
    /// starting with a letter or digit, unique among pages.
    pub slug: String,
    /// A paragraph under the title, at most 4096 bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// A logo shown beside the title (absolute http or https URL).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logo_url: Option<String>,
    /// The monitors shown, in groups (1 to 50 groups).
    pub groups: Vec<StatusGroup>,
    /// Which figures the page shows.
    #[serde(default)]
    pub show: ShowFigures,
    /// A notice shown at the top of the page, at most 4096 bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub announcement: Option<String>,
    /// A host name (`status.example.com`) whose requests get this page at `/`; unique among
    /// pages.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom_domain: Option<String>,
}

/// A group of monitors on a status page.
#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct StatusGroup {
    /// The group's heading, 1 to 200 bytes.
    pub name: String,
    /// Monitors named by id, shown in this order (at most 500).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub monitors: Vec<PageMonitor>,
    /// Label selector of more monitors, shown after those named, by id; they are shown
    /// under their spec name (or id).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub selector: Option<String>,
}

/// One monitor named on a page.
#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct PageMonitor {
    /// The monitor's id.
    pub id: String,
    /// Its name on the page (1 to 200 bytes); the monitor's spec name (or id) when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// The figures a status page shows. States and display names are always shown.
#[derive(Serialize, Deserialize, JsonSchema, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ShowFigures {
    /// 90-day uptime bars and uptime percentages (default true).
    #[serde(default = "yes")]
    pub uptime: bool,
    /// Response times (default false).
    #[serde(default)]
    pub latency: bool,
    /// Current incidents and the incident history (default true).
    #[serde(default = "yes")]
    pub incidents: bool,
    /// Scheduled and current maintenance (default true).
    #[serde(default = "yes")]
    pub maintenance: bool,
    /// The failure messages of incidents (default false: they may name hosts and errors).
    #[serde(default)]
    pub messages: bool,
}

fn yes() -> bool {
    true
}

impl Default for ShowFigures {
    fn default() -> Self {
        Self {
            uptime: true,
            latency: false,
            incidents: true,
            maintenance: true,
            messages: false,
        }
    }
}

impl StatusPageSpec {
    /// Every problem in the page; paths are relative to `prefix` (e.g. `spec`).
    pub fn validate(&self, prefix: &str) -> Vec<FieldError> {
        let mut errs = Errors::default();
        check_text(&mut errs, prefix, "title", &self.title, MAX_TITLE_LEN);
        if let Err(message) = check_slug(&self.slug) {
            errs.add(prefix, "slug", message);
        }
        errs.texts(
            prefix,
            &[
                ("description", &self.description),
                ("announcement", &self.announcement),
            ],
        );
        if let Some(url) = &self.logo_url {
            let checked = if url.len() > MAX_URL_LEN {
                Err(format!("must be at most {MAX_URL_LEN} bytes"))
            } else {
                check_http_url(url)
            };
            if let Err(message) = checked {
                errs.add(prefix, "logo_url", message);
            }
        }
        if let Some(domain) = &self.custom_domain
            && let Err(message) = check_domain(domain)
        {
            errs.add(prefix, "custom_domain", message);
        }
        if self.groups.is_empty() || self.groups.len() > MAX_GROUPS {
            errs.add(
                prefix,
                "groups",
                format!(
                    "expected 1 to {MAX_GROUPS} groups, got {}",
                    self.groups.len()
                ),
            );
        }
        for (i, group) in self.groups.iter().take(MAX_GROUPS).enumerate() {
            group.validate(&mut errs, &format!("{prefix}.groups[{i}]"));
        }
        errs.into_vec()
    }
}

impl StatusGroup {
    fn validate(&self, errs: &mut Errors, prefix: &str) {
        check_text(errs, prefix, "name", &self.name, MAX_TITLE_LEN);
        if self.monitors.is_empty() && self.selector.is_none() {
            errs.add(
                prefix,
                "monitors",
                "name monitors by id, or give a selector, or both",
            );
        }
        if self.monitors.len() > MAX_GROUP_MONITORS {
            errs.add(
                prefix,
                "monitors",
                format!(
                    "expected at most {MAX_GROUP_MONITORS} monitors, got {}",
                    self.monitors.len()
                ),
            );
        }
        let mut seen = BTreeSet::new();
        for (i, monitor) in self.monitors.iter().take(MAX_GROUP_MONITORS).enumerate() {
            let at = format!("{prefix}.monitors[{i}]");
            if let Err(message) = check_id(&monitor.id) {
                errs.add(&at, "id", message);
            } else if !seen.insert(monitor.id.as_str()) {
                errs.add(
                    &at,
                    "id",
                    format!("monitor {:?} is named twice in this group", monitor.id),
                );
            }
            if let Some(name) = &monitor.name {
                check_text(errs, &at, "name", name, MAX_TITLE_LEN);
            }
        }
        if let Some(selector) = &self.selector
            && let Err(e) = crate::selector::parse(selector)
        {
            errs.add(prefix, "selector", e.to_string());
        }
    }
}

fn check_text(errs: &mut Errors, prefix: &str, field: &str, text: &str, max: usize) {
    if text.trim().is_empty() || text.len() > max {
        errs.add(
            prefix,
            field,
            format!("expected 1 to {max} bytes, not blank"),
        );
    }
}

/// Checks a page slug: 1 to 64 characters of `a-z`, `0-9` and `-`, starting with a letter or
/// digit (it is a path segment of public URLs, so no dots).
pub fn check_slug(slug: &str) -> Result<(), String> {
    let ok = !slug.is_empty()
        && slug.len() <= MAX_SLUG_LEN
        && !slug.starts_with('-')
        && slug
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "expected 1 to {MAX_SLUG_LEN} characters of a-z, 0-9 or '-', starting with a letter \
             or digit"
        ))
    }
}

/// Checks a custom domain: a lower-case DNS host name without port, at most 253 bytes.
pub fn check_domain(domain: &str) -> Result<(), String> {
    let label_ok = |l: &str| {
        !l.is_empty()
            && l.len() <= 63
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    };
    if domain.len() <= 253 && domain.contains('.') && domain.split('.').all(label_ok) {
        Ok(())
    } else {
        Err(
            "expected a lower-case host name such as status.example.com (no scheme, port or path)"
                .to_owned(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::validate::MAX_TEXT_LEN;

    fn page() -> StatusPageSpec {
        serde_json::from_value(serde_json::json!({
            "title": "Example status",
            "slug": "example",
            "groups": [{"name": "API", "monitors": [{"id": "api", "name": "Public API"}]}]
        }))
        .unwrap()
    }

    fn fields(spec: &StatusPageSpec) -> Vec<String> {
        spec.validate("spec").into_iter().map(|e| e.field).collect()
    }

    #[test]
    fn a_minimal_page_is_valid_and_shows_uptime_and_incidents_but_no_messages() {
        let spec = page();
        assert!(fields(&spec).is_empty());
        assert!(spec.show.uptime && spec.show.incidents && spec.show.maintenance);
        assert!(!spec.show.latency && !spec.show.messages);
    }

    #[test]
    fn every_problem_is_named_by_its_field() {
        let mut spec = page();
        spec.title = " ".into();
        spec.slug = "Not/A.Slug".into();
        spec.description = Some("d".repeat(MAX_TEXT_LEN + 1));
        spec.logo_url = Some("javascript:alert(1)".into());
        spec.custom_domain = Some("https://status.example.com".into());
        spec.announcement = Some("a".repeat(MAX_TEXT_LEN + 1));
        spec.groups.push(StatusGroup {
            name: "n".repeat(201),
            monitors: vec![
                PageMonitor {
                    id: "BAD ID".into(),
                    name: None,
                },
                PageMonitor {
                    id: "x".into(),
                    name: Some(String::new()),
                },
                PageMonitor {
                    id: "x".into(),
                    name: None,
                },
            ],
            selector: Some("a in (".into()),
        });
        spec.groups.push(StatusGroup {
            name: "empty".into(),
            monitors: Vec::new(),
            selector: None,
        });
        assert_eq!(
            fields(&spec),
            [
                "spec.title",
                "spec.slug",
                "spec.description",
                "spec.announcement",
                "spec.logo_url",
                "spec.custom_domain",
                "spec.groups[1].name",
                "spec.groups[1].monitors[0].id",
                "spec.groups[1].monitors[1].name",
                "spec.groups[1].monitors[2].id",
                "spec.groups[1].selector",
                "spec.groups[2].monitors",
            ]
        );
    }

    #[test]
    fn group_and_page_sizes_are_bounded() {
        let mut spec = page();
        spec.groups = Vec::new();
        assert_eq!(fields(&spec), ["spec.groups"]);
        spec.groups = vec![page().groups[0].clone(); MAX_GROUPS + 1];
        assert_eq!(fields(&spec), ["spec.groups"]);
        let mut spec = page();
        spec.groups[0].monitors = (0..=MAX_GROUP_MONITORS)
            .map(|i| PageMonitor {
                id: format!("m{i}"),
                name: None,
            })
            .collect();
        assert_eq!(fields(&spec), ["spec.groups[0].monitors"]);
    }

    #[test]
    fn slugs_and_domains() {
        assert!(check_slug("acme-prod").is_ok());
        assert!(check_slug("-x").is_err());
        assert!(check_slug("a.json").is_err());
        assert!(check_slug(&"a".repeat(65)).is_err());
        assert!(check_domain("status.example.com").is_ok());
        assert!(check_domain("localhost").is_err());
        assert!(check_domain("status.example.com:8080").is_err());
        assert!(check_domain("Status.Example.com").is_err());
    }
}

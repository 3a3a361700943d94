//! The incidents of a status page as an Atom feed (RFC 4287): one entry per incident, current
//! and past, updated when it opens and when it resolves.

use std::fmt::Write;

use super::snapshot::{PublicIncident, PublicPage};
use crate::xml::escape;

fn entry(out: &mut String, page: &PublicPage, incident: &PublicIncident) {
    let updated = incident.resolved_at.unwrap_or(incident.opened_at);
    let title = match incident.resolved_at {
        Some(_) => format!("Resolved: {} was down", incident.monitor),
        None => format!("{} is down", incident.monitor),
    };
    let mut summary = format!(
        "{} went down at {}",
        incident.monitor,
        incident.opened_at.to_rfc3339()
    );
    if let Some(resolved) = incident.resolved_at {
        summary.push_str(&format!(" and recovered at {}", resolved.to_rfc3339()));
    }
    if let Some(message) = &incident.message {
        summary.push_str(&format!(": {message}"));
    }
    let _ = write!(
        out,
        "<entry><id>urn:vedette:status:{slug}:incident:{id}</id><title>{title}</title>\
         <updated>{updated}</updated><published>{published}</published>\
         <link rel=\"alternate\" type=\"text/html\" href=\"/status/{slug}\"/>\
         <summary>{summary}</summary></entry>",
        slug = escape(&page.slug),
        id = escape(&incident.id),
        title = escape(&title),
        updated = updated.to_rfc3339(),
        published = incident.opened_at.to_rfc3339(),
        summary = escape(&summary),
    );
}

/// The feed of `page`'s incidents (none when the page does not show incidents).
pub fn render(page: &PublicPage) -> String {
    let incidents: Vec<&PublicIncident> = page
        .current_incidents
        .iter()
        .chain(&page.incident_history)
        .collect();
    let updated = incidents
        .iter()
        .map(|i| i.resolved_at.unwrap_or(i.opened_at))
        .max()
        .unwrap_or(page.updated_at);
    let mut out = format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<feed xmlns=\"http://www.w3.org/2005/Atom\">\
         <id>urn:vedette:status:{slug}</id><title>{title} incidents</title>\
         <updated>{updated}</updated><author><name>{title}</name></author>\
         <link rel=\"self\" type=\"application/atom+xml\" href=\"/status/{slug}/feed.atom\"/>\
         <link rel=\"alternate\" type=\"text/html\" href=\"/status/{slug}\"/>",
        slug = escape(&page.slug),
        title = escape(&page.title),
        updated = updated.to_rfc3339(),
    );
    for incident in incidents {
        entry(&mut out, page, incident);
    }
    out.push_str("</feed>\n");
    out
}

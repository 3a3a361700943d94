//! The dashboard's static files, compiled into the binary: its stylesheet and script and the
//! vendored, version-pinned htmx and uPlot (`crates/server/assets/vendor/`, each beside its
//! licence). Each is served at `/assets/<content hash>/<name>` with a year-long immutable cache:
//! a new build with a changed file changes its URL, so no browser keeps a stale copy.

use std::sync::OnceLock;

use axum::extract::Path;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

/// One embedded file.
pub struct Asset {
    /// File name in URLs.
    pub name: &'static str,
    /// `Content-Type`.
    pub content_type: &'static str,
    /// The bytes.
    pub body: &'static [u8],
}

/// Every embedded file.
pub const ASSETS: &[Asset] = &[
    Asset {
        name: "app.css",
        content_type: "text/css; charset=utf-8",
        body: include_bytes!("../../assets/app.css"),
    },
    Asset {
        name: "app.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_bytes!("../../assets/app.js"),
    },
    Asset {
        name: "htmx-2.0.11.min.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_bytes!("../../assets/vendor/htmx-2.0.11/htmx.min.js"),
    },
    Asset {
        name: "uPlot-1.6.32.min.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_bytes!("../../assets/vendor/uplot-1.6.32/uPlot.iife.min.js"),
    },
    Asset {
        name: "uPlot-1.6.32.min.css",
        content_type: "text/css; charset=utf-8",
        body: include_bytes!("../../assets/vendor/uplot-1.6.32/uPlot.min.css"),
    },
];

/// The first 12 hex digits of the SHA-256 of `body`.
fn hash(body: &[u8]) -> String {
    Sha256::digest(body)
        .iter()
        .take(6)
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The URL of every asset, in [`ASSETS`] order.
fn urls() -> &'static [String] {
    static URLS: OnceLock<Vec<String>> = OnceLock::new();
    URLS.get_or_init(|| {
        ASSETS
            .iter()
            .map(|a| format!("/assets/{}/{}", hash(a.body), a.name))
            .collect()
    })
}

/// The versioned URL of asset `name` (empty for an unknown name, which is a bug caught by the
/// page tests).
pub fn url(name: &str) -> &'static str {
    ASSETS
        .iter()
        .position(|a| a.name == name)
        .map_or("", |i| urls()[i].as_str())
}

/// `GET /assets/{hash}/{name}`: the file when the hash is its current one, else 404.
pub async fn serve(Path((version, name)): Path<(String, String)>) -> Response {
    let Some(i) = ASSETS.iter().position(|a| a.name == name) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    if urls()[i] != format!("/assets/{version}/{name}") {
        return StatusCode::NOT_FOUND.into_response();
    }
    let asset = &ASSETS[i];
    (
        [
            (header::CONTENT_TYPE, asset.content_type),
            (header::CACHE_CONTROL, "public, max-age=31536000, immutable"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        asset.body,
    )
        .into_response()
}

//! Authentication, tokens, metrics and the OpenAPI document, against a real server started
//! in-process (`vedette_server::serve` on 127.0.0.1:0 with a temporary SQLite database).

mod authz;
mod common;
mod docs;
mod limits;
mod metrics;
mod tokens;

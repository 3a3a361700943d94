//! Throwaway PostgreSQL databases for tests. The store, server, webhooks and CLI test harnesses
//! all include this one file with `#[path]`, as test crates cannot share a module otherwise.

use sqlx::Connection;

/// Creates database `name` on `server` (a PostgreSQL URL) and returns the URL of the new database.
pub async fn create_database(server: &str, name: &str) -> String {
    execute(server, format!("CREATE DATABASE {name}")).await;
    with_database(server, name)
}

/// Drops database `name` on `server`, closing any sessions still open on it.
pub async fn drop_database(server: &str, name: &str) {
    execute(
        server,
        format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
    )
    .await;
}

/// Runs one statement on a connection of its own to `url`.
pub async fn execute(url: &str, statement: String) {
    let mut conn = sqlx::PgConnection::connect(url)
        .await
        .unwrap_or_else(|e| panic!("cannot connect to {url}: {e}"));
    sqlx::raw_sql(sqlx::AssertSqlSafe(statement.clone()))
        .execute(&mut conn)
        .await
        .unwrap_or_else(|e| panic!("{statement}: {e}"));
    conn.close().await.expect("close the connection");
}

/// `server` with its database name replaced by `name`.
fn with_database(server: &str, name: &str) -> String {
    let (base, query) = match server.split_once('?') {
        Some((base, query)) => (base, format!("?{query}")),
        None => (server, String::new()),
    };
    let authority_end = base.find("://").map_or(0, |i| i + 3);
    let host_part = match base[authority_end..].find('/') {
        Some(slash) => &base[..authority_end + slash],
        None => base,
    };
    format!("{host_part}/{name}{query}")
}

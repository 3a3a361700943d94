//! Store tests against real databases: every case runs on SQLite in a temporary directory and
//! on PostgreSQL (a fresh database per test on the server `VEDETTE_TEST_POSTGRES_URL` names;
//! `scripts/with-postgres cargo test -p vedette-store` provides one).

/// Generates one `#[tokio::test]` per case and backend: `sqlite::case` and `postgres::case`,
/// each calling `case(&TestDb)` in the enclosing module.
macro_rules! backend_tests {
    ($($case:ident),* $(,)?) => {
        backend_module!(sqlite, Sqlite, $($case),*);
        backend_module!(postgres, Postgres, $($case),*);
    };
}

/// The module `backend_tests!` generates for one backend: a test per case on a database of
/// that kind.
macro_rules! backend_module {
    ($module:ident, $kind:ident, $($case:ident),*) => {
        mod $module {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    let db = crate::common::TestDb::new(crate::common::Kind::$kind).await;
                    super::$case(&db).await;
                    db.finish().await;
                }
            )*
        }
    };
}

mod batch;
mod changes;
mod common;
mod heartbeat;
mod monitors;
mod rollups;
mod tokens;
mod verifications;
mod webhooks;

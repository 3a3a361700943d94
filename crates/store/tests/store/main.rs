//! Store tests against real databases: every case runs on SQLite in a temporary directory and
//! on PostgreSQL (a fresh database per test on the server `VEDETTE_TEST_POSTGRES_URL` names;
//! `scripts/with-postgres cargo test -p vedette-store` provides one).

/// Generates one `#[tokio::test]` per case and backend: `sqlite::case` and `postgres::case`,
/// each calling `case(&TestDb)` in the enclosing module.
macro_rules! backend_tests {
    ($($case:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    let db = crate::common::TestDb::new(crate::common::Kind::Sqlite).await;
                    super::$case(&db).await;
                    db.finish().await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    let db = crate::common::TestDb::new(crate::common::Kind::Postgres).await;
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
mod webhooks;

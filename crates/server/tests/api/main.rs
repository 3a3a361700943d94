//! API tests against the real server started in-process: every case runs on SQLite in a
//! temporary directory and on PostgreSQL (a fresh database per test on the server
//! `VEDETTE_TEST_POSTGRES_URL` names; `scripts/with-postgres cargo test -p vedette-server`
//! provides one).

/// Generates one `#[tokio::test]` per case and backend: `sqlite::case` and `postgres::case`,
/// each calling `case(Kind)` in the enclosing module.
macro_rules! api_tests {
    ($($case:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    super::$case(crate::common::Kind::Sqlite).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    super::$case(crate::common::Kind::Postgres).await;
                }
            )*
        }
    };
}

mod common;
mod contract;
mod data;
mod deployments;
mod discovery;
mod errors;
mod events;
mod follow;
mod ingest;
mod maintenance;
mod monitors;
mod ownership;
mod preview_pool;
mod secrets;
mod status_pages;
mod verifications;
mod webhooks;

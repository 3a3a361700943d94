//! Golden files under `tests/golden`: JSON a test renders, regenerated with
//! `VEDETTE_UPDATE_GOLDEN=1`.

use std::path::PathBuf;

use serde_json::Value;

/// The JSON stored in the golden file `name` (a path under `tests/golden`), or `None` once
/// `got` is written there instead, when `VEDETTE_UPDATE_GOLDEN` is set.
pub fn expected(name: &str, got: &Value) -> Option<Value> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(name);
    if std::env::var_os("VEDETTE_UPDATE_GOLDEN").is_some() {
        std::fs::create_dir_all(path.parent().expect("a file")).expect("golden dir");
        let text = serde_json::to_string_pretty(got).expect("encode") + "\n";
        std::fs::write(&path, text).expect("write golden file");
        return None;
    }
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e}; VEDETTE_UPDATE_GOLDEN=1 cargo test -p vedette-webhooks creates it",
            path.display()
        )
    });
    Some(serde_json::from_str(&text).expect("golden file is JSON"))
}

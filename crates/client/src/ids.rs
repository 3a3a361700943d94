//! Ids as the contract spells them: strings, with numbers accepted too.

use serde::{Deserialize, Deserializer};

/// Ids are strings in the contract; numbers are accepted too and kept as their decimal text.
pub(crate) fn string_or_number<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Id {
        Text(String),
        Number(i64),
    }
    Ok(match Id::deserialize(d)? {
        Id::Text(s) => s,
        Id::Number(n) => n.to_string(),
    })
}

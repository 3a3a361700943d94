//! `vedette get ... --watch`: prints what is listed, then each item again when it changes and a
//! line when one leaves the list, reading the server again every [`WATCH_EVERY`] until
//! interrupted.

use std::collections::{BTreeMap, BTreeSet};
use std::process::ExitCode;
use std::time::Duration;

use serde::Serialize;

use crate::output::{Format, Table, print_data};

/// How often a watch reads the server again.
pub const WATCH_EVERY: Duration = Duration::from_secs(2);

/// A kind `get --watch` follows.
pub trait Watched: Serialize + Sized {
    /// The kind in `kind/id` lines.
    const KIND: &'static str;
    /// What leaving the list means (`deleted`), or `None` when it is no news (old results
    /// pushed out by new ones).
    const GONE: Option<&'static str>;
    /// The item's id.
    fn id(&self) -> &str;
    /// What makes an item worth printing again: all of it unless a kind says otherwise.
    fn key(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
    /// The table of `items`.
    fn table(items: &[Self]) -> Table;
}

/// Follows what `fetch` lists, printing in `format` (JSON: one object per line).
pub async fn watch<T, F, Fut>(format: Format, mut fetch: F) -> anyhow::Result<ExitCode>
where
    T: Watched,
    F: FnMut() -> Fut,
    Fut: Future<Output = anyhow::Result<Vec<T>>>,
{
    let mut seen: BTreeMap<String, String> = BTreeMap::new();
    loop {
        let items = fetch().await?;
        let present: BTreeSet<&str> = items.iter().map(Watched::id).collect();
        let gone: Vec<String> = seen
            .keys()
            .filter(|k| !present.contains(k.as_str()))
            .cloned()
            .collect();
        for id in gone {
            seen.remove(&id);
            if let Some(what) = T::GONE {
                println!("{}/{id} {what}", T::KIND);
            }
        }
        let changed: Vec<T> = items
            .into_iter()
            .filter(|item| {
                let key = item.key();
                seen.insert(item.id().to_owned(), key.clone()).as_ref() != Some(&key)
            })
            .collect();
        if !changed.is_empty() {
            match format {
                Format::Json => {
                    for item in &changed {
                        println!("{}", serde_json::to_string(item)?);
                    }
                }
                Format::Yaml => {
                    for item in &changed {
                        println!("---");
                        print_data(format, item)?;
                    }
                }
                Format::Table => T::table(&changed).print(),
            }
        }
        tokio::time::sleep(WATCH_EVERY).await;
    }
}

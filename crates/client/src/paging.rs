//! Cursor pages: the [`ListQuery`] that asks for one, one [`Page`] of a list, and [`all_pages`]
//! to follow `next_cursor` to the end.

use std::future::Future;

use serde::{Deserialize, Serialize};

use crate::Error;

/// Most pages [`all_pages`] follows before it stops with an error (a server loop guard).
pub const MAX_PAGES: usize = 100_000;

/// The query of every list call: the call's own filters `F` (a label selector for a resource
/// list) and which page: `?<filters>&limit=&cursor=`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ListQuery<F = BySelector> {
    /// The call's filters.
    #[serde(flatten)]
    pub filter: F,
    /// Page size (1–1000; the server's default is 100).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
}

impl<F: Clone> ListQuery<F> {
    /// The same query for the page at `cursor` (the first one for `None`).
    pub fn at(&self, cursor: Option<String>) -> Self {
        Self {
            cursor,
            ..self.clone()
        }
    }
}

/// `?selector=`: the filter of a resource list.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct BySelector {
    /// Label selector, e.g. `team=payments,env!=dev`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub selector: Option<String>,
}

/// One page of a list: `{"items": [...], "next_cursor": "..." | null}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Page<T> {
    /// The items of this page.
    pub items: Vec<T>,
    /// Pass as `cursor` to get the next page; `None` on the last page.
    #[serde(default)]
    pub next_cursor: Option<String>,
}

/// A list that is either a page (`{"items": ...}`) or a bare array.
#[derive(Deserialize)]
#[serde(untagged)]
pub(crate) enum ListBody<T> {
    Page(Page<T>),
    Bare(Vec<T>),
}

impl<T> ListBody<T> {
    pub(crate) fn into_page(self) -> Page<T> {
        match self {
            Self::Page(page) => page,
            Self::Bare(items) => Page {
                items,
                next_cursor: None,
            },
        }
    }
}

/// Follows `next_cursor` from the first page until the last, or until `max` items are collected.
/// `fetch` gets the cursor to ask for (`None` for the first page).
pub async fn all_pages<T, F, Fut>(max: Option<usize>, mut fetch: F) -> Result<Vec<T>, Error>
where
    F: FnMut(Option<String>) -> Fut,
    Fut: Future<Output = Result<Page<T>, Error>>,
{
    let mut items = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..MAX_PAGES {
        let page = fetch(cursor.clone()).await?;
        items.extend(page.items);
        if let Some(max) = max
            && items.len() >= max
        {
            items.truncate(max);
            return Ok(items);
        }
        match page.next_cursor {
            Some(next) if !next.is_empty() && Some(&next) != cursor.as_ref() => {
                cursor = Some(next);
            }
            _ => return Ok(items),
        }
    }
    Err(Error::Decode {
        url: String::new(),
        message: format!("a list did not end after {MAX_PAGES} pages"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn pages_are_followed_until_the_last_or_the_maximum() {
        let pages = |cursor: Option<String>| async move {
            let n: u32 = cursor.as_deref().map_or(0, |c| c.parse().unwrap());
            Ok(Page {
                items: vec![n * 2, n * 2 + 1],
                next_cursor: (n < 2).then(|| (n + 1).to_string()),
            })
        };
        assert_eq!(
            all_pages(None, pages).await.unwrap(),
            vec![0, 1, 2, 3, 4, 5]
        );
        assert_eq!(all_pages(Some(3), pages).await.unwrap(), vec![0, 1, 2]);
        let stuck = |_c: Option<String>| async move {
            Ok(Page {
                items: vec![1],
                next_cursor: Some("same".to_owned()),
            })
        };
        assert_eq!(all_pages(None, stuck).await.unwrap(), vec![1, 1]);
    }

    #[test]
    fn a_list_query_is_its_filters_then_the_page() {
        let url = |query: &ListQuery<crate::IncidentFilter>| {
            let client = crate::Client::new("http://127.0.0.1:1", "t").unwrap();
            let request = client
                .request(reqwest::Method::GET, client.api(&["incidents"]))
                .query(query)
                .build()
                .unwrap();
            request.url().query().map(str::to_owned)
        };
        let query = ListQuery {
            filter: crate::IncidentFilter {
                monitor: Some("api".to_owned()),
                state: Some(crate::IncidentState::Open),
                ..Default::default()
            },
            limit: Some(50),
            cursor: None,
        };
        assert_eq!(
            url(&query).as_deref(),
            Some("monitor=api&state=open&limit=50")
        );
        assert_eq!(
            url(&query.at(Some("c1".to_owned()))).as_deref(),
            Some("monitor=api&state=open&limit=50&cursor=c1")
        );
        assert_eq!(url(&ListQuery::default()), None);
    }
}

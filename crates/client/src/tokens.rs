//! API tokens (`/api/v1/tokens`, admin scope): create, list and revoke; secrets appear only in
//! the answer to a create.

use std::fmt;

use chrono::{DateTime, Utc};
use reqwest::Method;
use serde::{Deserialize, Serialize};
use vedette_model::Scope;

use crate::ids::string_or_number;
use crate::{BySelector, Client, Error, ListQuery, Precondition, all_pages};

/// The body of `POST /api/v1/tokens`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NewToken {
    /// A name for people.
    pub name: String,
    /// What it may do.
    pub scopes: Vec<Scope>,
    /// When it stops working; never when absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<DateTime<Utc>>,
}

/// A token as listed: everything but the secret.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TokenInfo {
    /// Token id (for revoking).
    #[serde(deserialize_with = "string_or_number")]
    pub id: String,
    /// Its name.
    pub name: String,
    /// What it may do.
    pub scopes: Vec<Scope>,
    /// When it was created.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<DateTime<Utc>>,
    /// When it stops working.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<DateTime<Utc>>,
    /// When it was last used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_used_at: Option<DateTime<Utc>>,
}

/// A token just created, with its secret, which the server shows only this once.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct CreatedToken {
    /// Everything but the secret.
    #[serde(flatten)]
    pub info: TokenInfo,
    /// The secret (`vdt_...`) to send as `Authorization: Bearer`.
    pub token: String,
}

impl fmt::Debug for CreatedToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CreatedToken")
            .field("info", &self.info)
            .field("token", &"***")
            .finish()
    }
}

impl Client {
    /// `POST /api/v1/tokens` (admin): the secret is in the answer, and only there.
    pub async fn create_token(&self, token: &NewToken) -> Result<CreatedToken, Error> {
        self.send_json(
            Method::POST,
            self.api(&["tokens"]),
            token,
            Precondition::None,
        )
        .await
    }

    /// `GET /api/v1/tokens` (admin): every token, without secrets.
    pub async fn list_tokens(&self) -> Result<Vec<TokenInfo>, Error> {
        all_pages(None, |cursor| {
            let url = self.api(&["tokens"]);
            async move {
                let query = ListQuery {
                    filter: BySelector::default(),
                    limit: None,
                    cursor,
                };
                self.list(url, &query).await
            }
        })
        .await
    }

    /// `DELETE /api/v1/tokens/{id}` (admin): revokes.
    pub async fn revoke_token(&self, id: &str) -> Result<(), Error> {
        self.delete(self.api(&["tokens", id]), Precondition::None)
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::paging::ListBody;

    #[test]
    fn ids_may_be_numbers_and_lists_may_be_bare() {
        let page: ListBody<TokenInfo> =
            serde_json::from_str(r#"[{"id": 7, "name": "ci", "scopes": ["read"]}]"#).unwrap();
        let page = page.into_page();
        assert_eq!(page.items[0].id, "7");
        assert_eq!(page.next_cursor, None);
        let page: ListBody<TokenInfo> = serde_json::from_str(
            r#"{"items": [{"id": "tok_1", "name": "ci", "scopes": ["admin"]}], "next_cursor": "x"}"#,
        )
        .unwrap();
        assert_eq!(page.into_page().next_cursor.as_deref(), Some("x"));
    }

    #[test]
    fn created_token_debug_hides_the_secret() {
        let t: CreatedToken = serde_json::from_str(
            r#"{"id": "t1", "name": "ci", "scopes": ["write"], "token": "vdt_secret"}"#,
        )
        .unwrap();
        assert!(!format!("{t:?}").contains("vdt_secret"));
        assert_eq!(t.token, "vdt_secret");
    }
}

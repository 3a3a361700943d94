//! The [`Client`]: one server, one token, and the request plumbing every call goes through
//! (URLs, authentication, preconditions, error answers, decoding).

use std::time::Duration;

use reqwest::header;
use reqwest::{Method, RequestBuilder, Response, Url};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::paging::ListBody;
use crate::{ApiError, Error, Page, Precondition};

/// Time a request may take before the client gives up (the server's own limit is 30 s).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);
/// Time to set up a connection.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// A client of one Vedette server with one token. Cheap to clone.
#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    base: Url,
    token: String,
    manager: Option<String>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("base", &self.base.as_str())
            .field("token", &"***")
            .finish()
    }
}

impl Client {
    /// A client of the server at `base_url` (`http(s)://host[:port][/prefix]`) sending `token` as
    /// `Authorization: Bearer`.
    pub fn new(base_url: &str, token: &str) -> Result<Self, Error> {
        Self::with_timeout(base_url, token, DEFAULT_TIMEOUT)
    }

    /// Like [`Client::new`], with another per-request timeout.
    pub fn with_timeout(base_url: &str, token: &str, timeout: Duration) -> Result<Self, Error> {
        let base = parse_base(base_url)?;
        if rustls::crypto::CryptoProvider::get_default().is_none() {
            // Losing a race with another thread installing one is fine: one is installed.
            let _ = rustls::crypto::ring::default_provider().install_default();
        }
        let http = reqwest::Client::builder()
            .user_agent(concat!("vedette-client/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(CONNECT_TIMEOUT)
            .timeout(timeout)
            .build()
            .map_err(|e| Error::Setup(e.to_string()))?;
        Ok(Self {
            http,
            base,
            token: token.to_owned(),
            manager: None,
        })
    }

    /// The same client acting as `manager` (header `Vedette-Manager`), so it may write and
    /// delete resources labelled `managed-by: <manager>`, which other writers get 409 for.
    pub fn acting_as(mut self, manager: &str) -> Self {
        self.manager = Some(manager.to_owned());
        self
    }

    /// The server's base URL.
    pub fn base_url(&self) -> &str {
        self.base.as_str().trim_end_matches('/')
    }

    /// `base` + the given path segments, each percent-encoded.
    pub(crate) fn path(&self, segments: &[&str]) -> Url {
        let mut url = self.base.clone();
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty().extend(segments);
        }
        url
    }

    /// `base/api/v1` + the given path segments.
    pub(crate) fn api(&self, segments: &[&str]) -> Url {
        let mut all = vec!["api", "v1"];
        all.extend_from_slice(segments);
        self.path(&all)
    }

    /// An authenticated request asking for JSON.
    pub(crate) fn request(&self, method: Method, url: Url) -> RequestBuilder {
        let request = self
            .http
            .request(method, url)
            .bearer_auth(&self.token)
            .header(header::ACCEPT, "application/json");
        match &self.manager {
            Some(manager) => request.header("vedette-manager", manager),
            None => request,
        }
    }

    /// An unauthenticated request.
    pub(crate) fn anonymous(&self, method: Method, url: Url) -> RequestBuilder {
        self.http.request(method, url)
    }

    /// Sends; maps transport failures and error statuses to [`Error`].
    pub(crate) async fn send(&self, request: RequestBuilder, url: &Url) -> Result<Response, Error> {
        let response = request
            .send()
            .await
            .map_err(|e| Error::transport(url, &e))?;
        let status = response.status();
        if status.is_success() {
            return Ok(response);
        }
        let content_type = response
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let body = response
            .bytes()
            .await
            .map_err(|e| Error::transport(url, &e))?;
        Err(ApiError::from_response(status.as_u16(), content_type.as_deref(), &body).into())
    }

    /// Sends and decodes the JSON answer.
    pub(crate) async fn execute<T: DeserializeOwned>(
        &self,
        request: RequestBuilder,
        url: &Url,
    ) -> Result<T, Error> {
        let response = self.send(request, url).await?;
        decode(response, url).await
    }

    /// `GET url`.
    pub(crate) async fn get<T: DeserializeOwned>(&self, url: Url) -> Result<T, Error> {
        self.execute(self.request(Method::GET, url.clone()), &url)
            .await
    }

    /// `GET url?query`: one page of a list (or a bare array, as one page).
    pub(crate) async fn list<T: DeserializeOwned, Q: Serialize>(
        &self,
        url: Url,
        query: &Q,
    ) -> Result<Page<T>, Error> {
        let body: ListBody<T> = self
            .execute(self.request(Method::GET, url.clone()).query(query), &url)
            .await?;
        Ok(body.into_page())
    }

    /// `POST url` without a body.
    pub(crate) async fn post_empty<T: DeserializeOwned>(&self, url: Url) -> Result<T, Error> {
        self.execute(self.request(Method::POST, url.clone()), &url)
            .await
    }

    /// `method url` with a JSON body under `precondition`.
    pub(crate) async fn send_json<T: DeserializeOwned, B: Serialize + ?Sized>(
        &self,
        method: Method,
        url: Url,
        body: &B,
        precondition: Precondition,
    ) -> Result<T, Error> {
        let request = precondition.apply(self.request(method, url.clone()).json(body));
        self.execute(request, &url).await
    }

    /// `DELETE url` under `precondition`.
    pub(crate) async fn delete(&self, url: Url, precondition: Precondition) -> Result<(), Error> {
        let request = precondition.apply(self.request(Method::DELETE, url.clone()));
        self.send(request, &url).await.map(drop)
    }

    /// `GET url` without a token, answered as text.
    pub(crate) async fn plain(&self, url: Url) -> Result<String, Error> {
        let response = self
            .send(self.anonymous(Method::GET, url.clone()), &url)
            .await?;
        response
            .text()
            .await
            .map_err(|e| Error::transport(&url, &e))
    }
}

fn parse_base(base_url: &str) -> Result<Url, Error> {
    let invalid = |message: &str| Error::InvalidUrl {
        url: base_url.to_owned(),
        message: message.to_owned(),
    };
    if !base_url.contains("://") {
        return Err(invalid(
            "expected an absolute URL with a scheme, e.g. http://127.0.0.1:8080",
        ));
    }
    let url = Url::parse(base_url.trim()).map_err(|e| invalid(&e.to_string()))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(invalid("expected an http:// or https:// URL"));
    }
    if url.cannot_be_a_base() || url.host_str().is_none() {
        return Err(invalid("expected a URL with a host"));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(invalid("expected no query or fragment"));
    }
    Ok(url)
}

/// The JSON answer of `response`.
pub(crate) async fn decode<T: DeserializeOwned>(response: Response, url: &Url) -> Result<T, Error> {
    let bytes = response
        .bytes()
        .await
        .map_err(|e| Error::transport(url, &e))?;
    // An empty success body (204) reads as JSON null, for callers that expect `()`.
    let bytes: &[u8] = if bytes.is_empty() { b"null" } else { &bytes };
    serde_json::from_slice(bytes).map_err(|e| Error::decode(url, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_urls_are_checked_and_paths_encoded() {
        let c = Client::new("http://127.0.0.1:8080", "t").unwrap();
        assert_eq!(
            c.api(&["monitors", "a b/c"]).as_str(),
            "http://127.0.0.1:8080/api/v1/monitors/a%20b%2Fc"
        );
        let c = Client::new("https://example.test/vedette/", "t").unwrap();
        assert_eq!(c.base_url(), "https://example.test/vedette");
        assert_eq!(
            c.api(&["status"]).as_str(),
            "https://example.test/vedette/api/v1/status"
        );
        for bad in ["ftp://x", "not a url", "http://x/?a=1", "mailto:a@b"] {
            assert!(
                matches!(Client::new(bad, "t"), Err(Error::InvalidUrl { .. })),
                "{bad}"
            );
        }
        let err = Client::new("127.0.0.1:8080", "t").unwrap_err().to_string();
        assert!(err.contains("e.g. http://127.0.0.1:8080"), "{err}");
        assert!(!err.contains("relative URL"), "{err}");
    }

    #[test]
    fn debug_hides_the_token() {
        let c = Client::new("http://127.0.0.1:1", "vdt_secret").unwrap();
        assert!(!format!("{c:?}").contains("vdt_secret"));
    }

    #[tokio::test]
    async fn connection_errors_name_the_url() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        drop(listener);
        let c = Client::new(&format!("http://127.0.0.1:{port}"), "t").unwrap();
        let err = c.status().await.unwrap_err();
        let text = err.to_string();
        assert!(
            text.starts_with(&format!(
                "cannot reach http://127.0.0.1:{port}/api/v1/status: "
            )),
            "{text}"
        );
    }
}

//! The HTTP channel: an event becomes one request, shaped by the endpoint's integration, its
//! template, or the event as JSON; carries the endpoint's custom headers and auth, and the
//! Standard Webhooks signature headers. Only 2xx is success; `410 Gone` disables the endpoint;
//! `Retry-After` is honoured. Redirects are not followed; with the SSRF guard on, private,
//! loopback and link-local destinations are refused, at resolution too.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use futures::future::BoxFuture;
use serde_json::json;
use vedette_model::Event;

use super::failure_text;
use super::{
    Attempted, ChannelSettings, Delivery, REDACTED_LOG, Verdict, redact_secrets, truncate,
};
use crate::catalog::{Catalog, RenderedRequest};
use crate::retry::parse_retry_after;
use crate::signing::Signer;
use crate::ssrf;
use crate::templates::{Admission, Engine, TemplateError};
use vedette_model::webhook::{Auth, EndpointSpec, HeaderValueSpec};

/// Why a request could not be built for an event.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RenderError {
    /// A template failed.
    #[error("template: {0}")]
    Template(#[from] TemplateError),
    /// The endpoint names an integration the catalog does not have.
    #[error("unknown integration {0:?}")]
    UnknownIntegration(String),
    /// Neither the endpoint nor its integration gives a URL.
    #[error("the endpoint has no URL")]
    MissingUrl,
}

/// The request an endpoint gets for `event` (before auth and signature headers): through its
/// integration, its template, or the event as JSON.
pub fn render_request(
    spec: &EndpointSpec,
    catalog: &Catalog,
    engine: &Engine,
    event: &Event,
) -> Result<RenderedRequest, RenderError> {
    if let Some(integration) = &spec.integration {
        let manifest = catalog
            .get(&integration.name)
            .ok_or_else(|| RenderError::UnknownIntegration(integration.name.clone()))?;
        return Ok(manifest.render(engine, event, &integration.params)?);
    }
    let url = spec.url.clone().ok_or(RenderError::MissingUrl)?;
    let (content_type, body) = match &spec.template {
        Some(t) => {
            let ctx = crate::templates::context(event, &json!({}));
            let json_like = t.content_type.contains("json");
            let body = if json_like {
                engine.render_json(&t.body, &ctx)?.to_string()
            } else {
                engine.render(&t.body, &ctx)?
            };
            (t.content_type.clone(), body)
        }
        None => (
            "application/json".to_owned(),
            serde_json::to_string(event).unwrap_or_default(),
        ),
    };
    Ok(RenderedRequest {
        method: "POST".to_owned(),
        url,
        headers: Vec::new(),
        content_type,
        body,
    })
}

/// [`render_request`] off the async runtime, on the engine's bounded blocking pool (see
/// [`Engine::run`]): deliveries wait for a render slot, request handlers pass
/// [`Admission::FailFast`] and get [`crate::templates::TemplateErrorKind::Busy`] when saturated.
pub async fn render_request_blocking(
    spec: &EndpointSpec,
    catalog: &Arc<Catalog>,
    engine: &Engine,
    event: &Event,
    admission: Admission,
) -> Result<RenderedRequest, RenderError> {
    let (spec, catalog, event) = (spec.clone(), Arc::clone(catalog), event.clone());
    engine
        .run(admission, move |engine| {
            render_request(&spec, &catalog, engine, &event)
        })
        .await?
}

/// Delivers messages as HTTP requests through one shared client.
pub(crate) struct HttpChannel {
    settings: ChannelSettings,
    client: reqwest::Client,
}

impl super::Channel for HttpChannel {
    fn send<'a>(&'a self, delivery: &'a Delivery<'a>) -> BoxFuture<'a, Attempted> {
        Box::pin(self.deliver(delivery))
    }
}

impl HttpChannel {
    /// A channel whose requests carry `user_agent`; fails when the client cannot be built.
    pub fn new(settings: ChannelSettings, user_agent: &str) -> Result<Self, String> {
        let client = build_client(user_agent, settings.ssrf_guard)?;
        Ok(Self { settings, client })
    }

    /// Builds, signs and sends one request.
    async fn deliver(&self, d: &Delivery<'_>) -> Attempted {
        let spec = d.spec;
        let redact = |text: &str| redact_secrets(text, d.secrets);
        let fail =
            |request: serde_json::Value, error: String| Attempted::failed(request, redact(&error));
        let rendered = match render_request_blocking(
            spec,
            &self.settings.catalog,
            &self.settings.engine,
            d.event,
            Admission::Wait,
        )
        .await
        {
            Ok(r) => r,
            Err(e) => return fail(json!({}), e.to_string()),
        };
        let url = match vedette_model::webhook::check_url(&rendered.url) {
            Ok(u) => u,
            Err(e) => {
                return fail(
                    json!({"url": redact(&rendered.url)}),
                    format!("invalid URL: {e}"),
                );
            }
        };
        let method = match http::Method::from_bytes(rendered.method.as_bytes()) {
            Ok(m) => m,
            Err(_) => return fail(json!({}), format!("invalid method {:?}", rendered.method)),
        };
        let headers = match headers(spec, d.message_id, &rendered) {
            Ok(h) => h,
            Err(e) => return fail(json!({}), e),
        };
        let limit = self.settings.max_logged_body;
        let request_log = json!({
            "method": rendered.method,
            "url": redact(url.as_str()),
            "headers": headers.iter().map(|(k, v, sensitive)| {
                let shown = if *sensitive { REDACTED_LOG.to_owned() } else { redact(v) };
                (k.clone(), serde_json::Value::String(shown))
            }).collect::<serde_json::Map<_, _>>(),
            "body": truncate(&redact(&rendered.body), limit),
        });
        if self.settings.ssrf_guard
            && let Err(e) = ssrf::check_literal_host(&url)
        {
            return fail(request_log, e);
        }
        // What the receiver sends back may echo the URL's credentials as well as the
        // endpoint's secrets.
        let mut secrets = d.secrets.to_vec();
        secrets.extend(failure_text::url_secrets(&url));
        let redact = |text: &str| redact_secrets(text, &secrets);
        let timeout = spec.timeout.to_string();
        let mut req = self
            .client
            .request(method, url.clone())
            .timeout(Duration::from_millis(spec.timeout.as_millis()))
            .body(rendered.body);
        for (k, v, _) in &headers {
            req = req.header(k.as_str(), v.as_str());
        }
        let mut resp = match req.send().await {
            Ok(r) => r,
            Err(e) => {
                let error = failure_text::transport(&e, &url, &timeout);
                return Attempted::failed(request_log, redact(&error));
            }
        };
        let status = resp.status();
        let verdict = match status.as_u16() {
            200..=299 => Verdict::Delivered,
            410 => Verdict::Gone {
                reason: "the receiver answered 410 Gone".to_owned(),
            },
            _ => Verdict::Retry {
                after: resp
                    .headers()
                    .get(http::header::RETRY_AFTER)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| parse_retry_after(v, Utc::now())),
            },
        };
        let location = resp
            .headers()
            .get(http::header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let response_headers: serde_json::Map<String, serde_json::Value> = resp
            .headers()
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_owned(),
                    serde_json::Value::String(String::from_utf8_lossy(v.as_bytes()).into_owned()),
                )
            })
            .collect();
        let mut body = Vec::new();
        let mut body_error = None;
        loop {
            match resp.chunk().await {
                Ok(Some(chunk)) => {
                    let room = limit.saturating_sub(body.len());
                    body.extend_from_slice(&chunk[..chunk.len().min(room)]);
                    if body.len() >= limit {
                        break;
                    }
                }
                Ok(None) => break,
                Err(e) => {
                    body_error = Some(failure_text::body(&e, &url, &timeout));
                    break;
                }
            }
        }
        let body = redact(&String::from_utf8_lossy(&body));
        let refused = (verdict != Verdict::Delivered)
            .then(|| failure_text::status(status, &body, location.as_deref(), &url));
        let error = match (refused, body_error) {
            (Some(refused), Some(broken)) => Some(format!("{refused}; {broken}")),
            (refused, broken) => refused.or(broken),
        };
        Attempted::answered(
            verdict,
            request_log,
            status.as_u16(),
            json!({
                "headers": response_headers,
                "body": truncate(&body, limit),
            }),
            error.map(|e| redact(&e)),
        )
    }
}

/// Every header of a request, with whether its value is secret: content type,
/// integration/template headers, custom headers, auth, then the signature.
fn headers(
    spec: &EndpointSpec,
    message_id: &str,
    rendered: &RenderedRequest,
) -> Result<Vec<(String, String, bool)>, String> {
    let mut headers: Vec<(String, String, bool)> = vec![(
        "content-type".to_owned(),
        rendered.content_type.clone(),
        false,
    )];
    for (k, v) in &rendered.headers {
        let sensitive = k.eq_ignore_ascii_case("authorization");
        headers.push((k.clone(), v.clone(), sensitive));
    }
    for (k, v) in &spec.headers {
        let sensitive = matches!(v, HeaderValueSpec::Secret { .. });
        headers.push((k.clone(), v.expose().to_owned(), sensitive));
    }
    match &spec.auth {
        Some(Auth::Basic { username, password }) => {
            use base64::Engine as _;
            let token = base64::engine::general_purpose::STANDARD
                .encode(format!("{username}:{}", password.expose()));
            headers.push(("authorization".to_owned(), format!("Basic {token}"), true));
        }
        Some(Auth::Bearer { token }) => headers.push((
            "authorization".to_owned(),
            format!("Bearer {}", token.expose()),
            true,
        )),
        Some(Auth::ApiKey { header, value }) => {
            headers.push((header.clone(), value.expose().to_owned(), true));
        }
        None => {}
    }
    let timestamp = Utc::now().timestamp();
    let signer = Signer::from_secrets(spec.active_secrets(Utc::now()))
        .map_err(|e| format!("signing secret: {e}"))?;
    for (k, v) in signer.headers(message_id, timestamp, rendered.body.as_bytes()) {
        headers.push((k.to_owned(), v, false));
    }
    Ok(headers)
}

fn build_client(user_agent: &str, ssrf_guard: bool) -> Result<reqwest::Client, String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let roots = rustls::RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    let mut tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_root_certificates(roots)
        .with_no_client_auth();
    tls.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    let mut builder = reqwest::Client::builder()
        .tls_backend_preconfigured(tls)
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .user_agent(user_agent)
        .connect_timeout(failure_text::CONNECT_TIMEOUT)
        .pool_idle_timeout(Duration::from_secs(60));
    if ssrf_guard {
        builder = builder.dns_resolver(Arc::new(ssrf::GuardedResolver));
    }
    builder.build().map_err(|e| e.to_string())
}

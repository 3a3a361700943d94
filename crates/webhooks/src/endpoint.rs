//! What the webhooks crate adds to the model's endpoint spec
//! ([`vedette_model::webhook::EndpointSpec`]): a fresh signing secret, the checks that need the
//! integration catalog, the template engine, signing keys and mail addresses, event matching
//! (an integration handles only some events) and redaction of integration parameters the
//! catalog marks secret.

use std::collections::BTreeMap;

use vedette_model::validate::FieldError;
use vedette_model::webhook::{
    Auth, EmailSpec, EndpointSpec, HeaderValueSpec, Secret, SigningSecret,
};
use vedette_model::{Event, REDACTED, selector};

use crate::catalog::Catalog;
use crate::signing::{self, SigningKey};
use crate::templates::Engine;

/// The endpoint spec's behaviour that needs this crate. Import it to call these on an
/// [`EndpointSpec`].
pub trait EndpointRules: Sized {
    /// A spec sending every event, as JSON, to `url`, with a fresh signing secret.
    fn new(url: impl Into<String>) -> Self;
    /// A spec sending every event as an email, with a fresh signing secret (unused by email,
    /// kept so every endpoint has one).
    fn email(email: EmailSpec) -> Self;
    /// Adds a fresh `whsec_` secret when the spec has none (what the API does on create).
    fn ensure_secret(&mut self);
    /// Whether `event`, about a monitor with `labels` (when known), goes to this endpoint:
    /// enabled, type filter, selector, and the integration handling the event (its type and
    /// the data it requires).
    fn matches(
        &self,
        event: &Event,
        labels: Option<&BTreeMap<String, String>>,
        catalog: &Catalog,
    ) -> bool;
    /// Every secret value this spec holds (signing secrets, auth, secret headers and secret
    /// integration parameters), for redacting delivery logs.
    fn secret_values(&self, catalog: &Catalog) -> Vec<String>;
    /// The spec as an API shows it: every secret replaced by `********`.
    fn redacted(&self, catalog: &Catalog) -> Self;
    /// Checks the spec the way an API does before storing it: the spec's own rules
    /// ([`EndpointSpec::check_fields`]), then email addresses and certificates, the template,
    /// the integration and its parameters, and the signing secrets; every problem is reported
    /// with its field path. Integration parameters get their schema defaults filled in.
    fn validate(&mut self, catalog: &Catalog, engine: &Engine) -> Result<(), Vec<FieldError>>;
}

fn fresh_secret() -> SigningSecret {
    SigningSecret {
        secret: Secret::new(signing::generate_secret()),
        expires_at: None,
    }
}

impl EndpointRules for EndpointSpec {
    fn new(url: impl Into<String>) -> Self {
        Self {
            url: Some(url.into()),
            secrets: vec![fresh_secret()],
            ..Self::default()
        }
    }

    fn email(email: EmailSpec) -> Self {
        Self {
            email: Some(email),
            secrets: vec![fresh_secret()],
            ..Self::default()
        }
    }

    fn ensure_secret(&mut self) {
        if self.secrets.is_empty() {
            self.secrets.push(fresh_secret());
        }
    }

    fn matches(
        &self,
        event: &Event,
        labels: Option<&BTreeMap<String, String>>,
        catalog: &Catalog,
    ) -> bool {
        if !self.enabled || !self.accepts_type(event.event_type.as_str()) {
            return false;
        }
        if let Some(integration) = &self.integration {
            let supported = catalog
                .get(&integration.name)
                .is_some_and(|m| m.handles(event));
            if !supported {
                return false;
            }
        }
        match self.selector.as_deref().filter(|s| !s.trim().is_empty()) {
            None => true,
            Some(text) => match (selector::parse(text), labels) {
                (Ok(sel), Some(labels)) => sel.matches(labels),
                _ => false,
            },
        }
    }

    fn secret_values(&self, catalog: &Catalog) -> Vec<String> {
        let mut out: Vec<String> = self
            .secrets
            .iter()
            .map(|s| s.secret.expose().to_owned())
            .collect();
        match &self.auth {
            Some(Auth::Basic { password, .. }) => out.push(password.expose().to_owned()),
            Some(Auth::Bearer { token }) => out.push(token.expose().to_owned()),
            Some(Auth::ApiKey { value, .. }) => out.push(value.expose().to_owned()),
            None => {}
        }
        for v in self.headers.values() {
            if let HeaderValueSpec::Secret { secret } = v {
                out.push(secret.expose().to_owned());
            }
        }
        if let Some(password) = self.email.as_ref().and_then(|e| e.smtp.password.as_ref()) {
            out.push(password.expose().to_owned());
        }
        if let Some(integration) = &self.integration
            && let Some(manifest) = catalog.get(&integration.name)
        {
            for name in manifest.secret_params() {
                if let Some(v) = integration.params.get(name).and_then(|v| v.as_str()) {
                    out.push(v.to_owned());
                }
            }
        }
        out.retain(|s| !s.is_empty());
        out
    }

    fn redacted(&self, catalog: &Catalog) -> Self {
        let mut out = self.clone();
        let hide = |s: &mut Secret| *s = Secret::new(REDACTED);
        for s in &mut out.secrets {
            hide(&mut s.secret);
        }
        match &mut out.auth {
            Some(Auth::Basic { password, .. }) => hide(password),
            Some(Auth::Bearer { token }) => hide(token),
            Some(Auth::ApiKey { value, .. }) => hide(value),
            None => {}
        }
        for v in out.headers.values_mut() {
            if let HeaderValueSpec::Secret { secret } = v {
                hide(secret);
            }
        }
        if let Some(password) = out.email.as_mut().and_then(|e| e.smtp.password.as_mut()) {
            hide(password);
        }
        if let Some(integration) = &mut out.integration
            && let Some(manifest) = catalog.get(&integration.name)
            && let Some(params) = integration.params.as_object_mut()
        {
            for name in manifest.secret_params() {
                if let Some(v) = params.get_mut(name) {
                    *v = serde_json::Value::String(REDACTED.to_owned());
                }
            }
        }
        out
    }

    fn validate(&mut self, catalog: &Catalog, engine: &Engine) -> Result<(), Vec<FieldError>> {
        let mut errors = self.check_fields();
        if let (None, None, Some(email)) = (&self.url, &self.integration, &self.email) {
            errors.extend(crate::smtp::check_email(email, engine));
        }
        if let Some(t) = &self.template
            && let Err(e) = engine.check(&t.body)
        {
            errors.push(FieldError::new("template.body", e.to_string()));
        }
        if let Some(integration) = &mut self.integration {
            match catalog.get(&integration.name) {
                None => errors.push(FieldError::new(
                    "integration.name",
                    format!(
                        "unknown integration {:?}; see GET /api/v1/integrations",
                        integration.name
                    ),
                )),
                Some(manifest) => match manifest.validate_params(&integration.params) {
                    Ok(filled) => integration.params = filled,
                    Err(problems) => errors.extend(problems.into_iter().map(|p| {
                        FieldError::new(format!("integration.params{}", p.path), p.message)
                    })),
                },
            }
        }
        for (i, s) in self
            .secrets
            .iter()
            .enumerate()
            .take(vedette_model::webhook::MAX_SIGNING_SECRETS)
        {
            if let Err(e) = SigningKey::parse(s.secret.expose()) {
                errors.push(FieldError::new(
                    format!("secrets[{i}].secret"),
                    e.to_string(),
                ));
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }
}

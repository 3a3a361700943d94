//! The kinds of configuration document, each described once: its `kind:` name, its spec type,
//! how its id is found and where it sits in the order resources are written.
//!
//! Code that must do something per kind matches a [`Resource`] through [`with_kind!`], which
//! runs one body with `K` naming the kind's [`DocumentKind`] type, or walks every kind with
//! [`for_each_kind!`]. Adding a kind is one [`Resource`] variant, one [`DocumentKind`] impl (a
//! `checked_kind!` declaration when its spec decodes and checks itself) and one line in the
//! list of kinds those two macros share (the compiler names every other place).

use std::collections::BTreeMap;
use std::fmt::Debug;

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::decode::{Decoder, hide_secret_values};
use crate::discovery::DiscoverySourceSpec;
use crate::document::Resource;
use crate::maintenance::MaintenanceSpec;
use crate::spec::MonitorSpec;
use crate::status_page::StatusPageSpec;
use crate::validate::FieldError;
use crate::webhook::EndpointSpec;

/// Labels as documents carry them.
pub type Labels = BTreeMap<String, String>;

/// Where a document's id comes from when `metadata.id` is absent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdSource<'a> {
    /// Derived from this name (`spec.name`, or the page's slug); an error when absent.
    Name(Option<&'a str>),
    /// Nowhere: `metadata.id` is required.
    Required,
}

/// One kind of configuration document.
pub trait DocumentKind: 'static {
    /// The document's `kind:`.
    const KIND: &'static str;
    /// The name `vedette apply` prints before `/ID` (`monitor/payments-api`).
    const NOUN: &'static str;
    /// The order kinds are written in (lower first; deleted in the reverse order): monitors
    /// before the windows that may name them.
    const RANK: u8;
    /// What the document's `spec` holds once read.
    type Spec: Serialize + DeserializeOwned + Clone + Debug + PartialEq;

    /// Decodes and checks `spec`, recording every problem under `spec.`.
    fn decode(spec: Value, decoder: &mut Decoder) -> Option<Self::Spec>;
    /// Where the id comes from when `metadata.id` is absent.
    fn id_source(spec: &Self::Spec) -> IdSource<'_>;
    /// The resource of this kind.
    fn resource(id: String, labels: Labels, spec: Self::Spec) -> Resource;
}

/// Declares `$Kind`, the [`DocumentKind`] of `kind: $variant` (the [`Resource`] variant of
/// that name), whose spec `$Spec` decodes and checks itself and whose id, when `metadata.id` is
/// absent, is derived from the name `$name` reads from the spec.
macro_rules! checked_kind {
    (
        $(#[$meta:meta])* $Kind:ident: $variant:ident($Spec:ty), noun $noun:literal,
        rank $rank:literal, name |$spec:ident| $name:expr
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy)]
        pub struct $Kind;

        impl DocumentKind for $Kind {
            const KIND: &'static str = stringify!($variant);
            const NOUN: &'static str = $noun;
            const RANK: u8 = $rank;
            type Spec = $Spec;

            fn decode(spec: Value, decoder: &mut Decoder) -> Option<$Spec> {
                decoder.decode_checked(spec, "spec")
            }
            fn id_source($spec: &$Spec) -> IdSource<'_> {
                IdSource::Name($name)
            }
            fn resource(id: String, labels: Labels, spec: $Spec) -> Resource {
                Resource::$variant { id, labels, spec }
            }
        }
    };
}

checked_kind! {
    /// `kind: Monitor`.
    MonitorKind: Monitor(MonitorSpec), noun "monitor", rank 0,
    name |spec| spec.name.as_deref()
}

checked_kind! {
    /// `kind: MaintenanceWindow`.
    MaintenanceKind: MaintenanceWindow(MaintenanceSpec), noun "maintenance", rank 1,
    name |spec| spec.name.as_deref()
}

/// `kind: WebhookEndpoint`. The spec is kept as written (JSON) once it decodes as an
/// [`EndpointSpec`]: whether a file sets `secrets` at all, and which values it writes as
/// `********` (keep the stored one), decide how `vedette apply` compares it with the server.
#[derive(Debug, Clone, Copy)]
pub struct WebhookEndpointKind;

impl DocumentKind for WebhookEndpointKind {
    const KIND: &'static str = "WebhookEndpoint";
    const NOUN: &'static str = "webhook";
    const RANK: u8 = 2;
    type Spec = Value;

    /// Decoded as an [`EndpointSpec`] and checked as far as the spec alone allows (the server
    /// checks the rest: catalog, templates, signing keys), every problem at its field path and
    /// no credential quoted; the value as written is kept. Without `secrets`, none is required
    /// (the server keeps the stored ones, or makes one).
    fn decode(spec: Value, decoder: &mut Decoder) -> Option<Value> {
        if !spec.is_object() {
            decoder.add(
                "spec",
                format!(
                    "expected a mapping, got {}",
                    crate::document::describe(&spec)
                ),
            );
            return None;
        }
        let mut typed = Decoder::new();
        let decoded = typed.decode::<EndpointSpec>(spec.clone(), "spec");
        if let Some(decoded) = &decoded {
            let secrets_set = spec.get("secrets").is_some();
            typed.check(
                decoded
                    .value
                    .check_fields()
                    .into_iter()
                    .filter(|e| {
                        secrets_set || !(e.field == "secrets" && decoded.value.secrets.is_empty())
                    })
                    .map(|e| FieldError::new(format!("spec.{}", e.field), e.message)),
            );
        }
        let complete = decoded.is_some_and(|d| d.complete) && typed.is_empty();
        for e in hide_secret_values(typed.finish()) {
            decoder.add(e.field, e.message);
        }
        complete.then_some(spec)
    }
    fn id_source(_: &Value) -> IdSource<'_> {
        IdSource::Required
    }
    fn resource(id: String, labels: Labels, spec: Value) -> Resource {
        Resource::WebhookEndpoint { id, labels, spec }
    }
}

checked_kind! {
    /// `kind: StatusPage`: the id is derived from the slug.
    StatusPageKind: StatusPage(StatusPageSpec), noun "status-page", rank 2,
    name |spec| Some(&spec.slug)
}

checked_kind! {
    /// `kind: DiscoverySource`.
    DiscoverySourceKind: DiscoverySource(DiscoverySourceSpec), noun "discovery-source", rank 2,
    name |spec| spec.name.as_deref()
}

/// The one list of kinds, in [`DocumentKind::RANK`] order: each [`Resource`] variant with its
/// [`DocumentKind`] type. Calls `$then!(args; Variant => KindType, ...)`; [`with_kind!`] and
/// [`for_each_kind!`] are written over it, so a new kind is one line here.
#[doc(hidden)]
#[macro_export]
macro_rules! __kinds {
    ($then:ident!($($args:tt)*)) => {
        $crate::$then!($($args)*;
            Monitor => MonitorKind,
            MaintenanceWindow => MaintenanceKind,
            WebhookEndpoint => WebhookEndpointKind,
            StatusPage => StatusPageKind,
            DiscoverySource => DiscoverySourceKind,
        )
    };
}

/// Names `$K` as the kind type `$Kind` for the body that follows (which need not use it).
#[doc(hidden)]
#[macro_export]
macro_rules! __name_kind {
    ($K:ident = $Kind:ident) => {
        #[allow(unused_imports, reason = "a body need not name its kind")]
        use $crate::kinds::DocumentKind as _;
        #[allow(dead_code, reason = "a body need not name its kind")]
        type $K = $crate::kinds::$Kind;
    };
}

/// Matches a [`Resource`] (owned, `&` or `&mut`) and evaluates `$body` with `$K` naming its
/// kind's [`DocumentKind`] type and the patterns bound to its id, labels and spec:
/// `with_kind!(resource, K, (id, labels, spec) => format!("{}/{id}", K::NOUN))`.
#[macro_export]
macro_rules! with_kind {
    ($resource:expr, $K:ident, ($id:pat, $labels:pat, $spec:pat) => $body:expr) => {
        $crate::__kinds!(__with_kind_arms!($resource, $K, ($id, $labels, $spec) => $body))
    };
}

/// The match of [`with_kind!`], one arm per kind of [`__kinds!`].
#[doc(hidden)]
#[macro_export]
macro_rules! __with_kind_arms {
    ($resource:expr, $K:ident, ($id:pat, $labels:pat, $spec:pat) => $body:expr;
     $($variant:ident => $Kind:ident,)+) => {
        match $resource {
            $($crate::document::Resource::$variant {
                id: $id,
                labels: $labels,
                spec: $spec,
            } => {
                $crate::__name_kind!($K = $Kind);
                $body
            })+
        }
    };
}

/// Runs `$body` once per kind, in [`DocumentKind::RANK`] order, with `$K` naming the kind's
/// [`DocumentKind`] type: `for_each_kind!(K => names.push(K::KIND))`.
#[macro_export]
macro_rules! for_each_kind {
    ($K:ident => $body:expr) => {
        $crate::__kinds!(__for_each_kind_blocks!($K => $body))
    };
}

/// The blocks of [`for_each_kind!`], one per kind of [`__kinds!`].
#[doc(hidden)]
#[macro_export]
macro_rules! __for_each_kind_blocks {
    ($K:ident => $body:expr; $($variant:ident => $Kind:ident,)+) => {{
        $({
            $crate::__name_kind!($K = $Kind);
            $body
        })+
    }};
}

/// Every document `kind:`, in [`for_each_kind!`] order.
pub fn names() -> Vec<&'static str> {
    let mut names = Vec::new();
    for_each_kind!(K => names.push(K::KIND));
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_once_and_resources_name_their_kind() {
        let names = names();
        assert_eq!(
            names,
            [
                "Monitor",
                "MaintenanceWindow",
                "WebhookEndpoint",
                "StatusPage",
                "DiscoverySource"
            ]
        );
        let resource = WebhookEndpointKind::resource(
            "ops".to_owned(),
            Labels::new(),
            serde_json::json!({"url": "http://127.0.0.1:9/"}),
        );
        let noun = with_kind!(&resource, K, (id, _, _) => format!("{}/{id}", K::NOUN));
        assert_eq!(noun, "webhook/ops");
    }

    #[test]
    fn webhook_endpoint_documents_are_decoded_as_endpoint_specs() {
        let text = "apiVersion: vedette.dev/v1\nkind: WebhookEndpoint\nmetadata: {id: ops}\nspec:\n  url: ftp://127.0.0.1/x\n  timeout: soon\n  colour: red\n  secrets: whsec_c2VjcmV0LXNlY3JldC1zZWNyZXQ=\n  auth: {type: bearer, token: [whsk_hidden]}\n";
        let (loaded, errors) = crate::document::parse_str(text, std::path::Path::new("w.yaml"));
        assert!(loaded.is_empty());
        let fields: Vec<(&str, Option<usize>)> =
            errors.iter().map(|e| (e.field.as_str(), e.line)).collect();
        assert_eq!(
            fields,
            [
                ("spec.url", Some(5)),
                ("spec.timeout", Some(6)),
                ("spec.colour", Some(7)),
                ("spec.secrets", Some(8)),
                ("spec.auth", Some(9)),
            ],
            "{errors:?}"
        );
        let shown: Vec<String> = errors.iter().map(ToString::to_string).collect();
        assert!(
            shown[1].starts_with("w.yaml:6: spec.timeout: "),
            "{shown:?}"
        );
        for e in &shown {
            assert!(!e.contains("whsec_") && !e.contains("whsk_"), "{e}");
        }

        // No `secrets` is no error (the server keeps or makes them); `********` keeps one.
        let text = "apiVersion: vedette.dev/v1\nkind: WebhookEndpoint\nmetadata: {id: ops}\nspec:\n  url: http://127.0.0.1/x\n---\napiVersion: vedette.dev/v1\nkind: WebhookEndpoint\nmetadata: {id: kept}\nspec:\n  url: http://127.0.0.1/x\n  secrets: [{secret: '********'}]\n";
        let (loaded, errors) = crate::document::parse_str(text, std::path::Path::new("w.yaml"));
        assert!(errors.is_empty(), "{errors:?}");
        let Resource::WebhookEndpoint { spec, .. } = &loaded[1].resource else {
            panic!("{loaded:?}");
        };
        assert_eq!(spec["secrets"][0]["secret"], "********");
    }
}

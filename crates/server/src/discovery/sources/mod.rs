//! The gateways, one file each behind [`GatewaySource`]; [`list`] picks the one of a source's
//! type.

pub mod envoy;
pub mod istio;
pub mod kong;
pub mod traefik;
pub mod traefik_rule;

use vedette_model::discovery::{GatewayType, Route};

use super::source::{Gateway, GatewaySource, ListError};

/// Every route of the gateway of type `gateway`.
pub async fn list(gateway: GatewayType, api: &Gateway) -> Result<Vec<Route>, ListError> {
    match gateway {
        GatewayType::Envoy => envoy::Envoy.list(api).await,
        GatewayType::Kong => kong::Kong.list(api).await,
        GatewayType::Istio => istio::Istio.list(api).await,
        GatewayType::Traefik => traefik::Traefik.list(api).await,
        other => Err(ListError::Unsupported(other.as_str())),
    }
}

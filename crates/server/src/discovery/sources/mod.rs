//! The gateways, one file each behind [`GatewaySource`]; [`list`] picks the one of a source's
//! type.

pub mod aws;
pub mod envoy;
pub mod istio;
pub mod kong;
pub mod nginx;
pub mod nginx_conf;
pub mod nginx_plus;
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
        GatewayType::AwsApigateway => aws::AwsApiGateway.list(api).await,
        GatewayType::Nginx => nginx::Nginx.list(api).await,
        GatewayType::NginxPlus => nginx_plus::NginxPlus.list(api).await,
        GatewayType::Traefik => traefik::Traefik.list(api).await,
    }
}

//! NGINX open source, from the output of `nginx -T` saved to a file (`connection.url:
//! file:///...`): every `server` of the `http` block, for each of its names (or its listen
//! address when it has none) and each `location` with a prefix (`/api`, `^~ /static`) or an
//! exact path (`= /health`), nested locations included. Regex (`~`, `~*`) and named (`@x`)
//! locations give no URL and are skipped; a server without locations is served at `/`. The
//! scheme is `https` when the first `listen` has `ssl`; `{base}` is that listen address (its
//! port, at the server's name when it listens on every address). `{service}` is the upstream a
//! location's `proxy_pass` names. `set $vedette off;` (or `on`) in a server or location gives
//! its routes the tag `vedette:off` (`vedette:on`). NGINX reports no upstream health here.

use vedette_model::discovery::Route;

use super::nginx_conf::{Directive, parse};
use crate::discovery::source::{Gateway, GatewaySource, ListError};

/// The NGINX OSS source.
pub struct Nginx;

impl GatewaySource for Nginx {
    async fn list(&self, gateway: &Gateway) -> Result<Vec<Route>, ListError> {
        let text = gateway.read_file().await?;
        let conf =
            parse(&text).map_err(|e| ListError::malformed("nginx -T output", e.to_string()))?;
        Ok(routes(&conf))
    }
}

/// Where a server listens: scheme, and the address clients reach it at (`None`: every
/// address, reached at the server's name) with the port.
struct Listen {
    scheme: &'static str,
    addr: Option<String>,
    port: u16,
}

fn listen(server: &[Directive]) -> Option<Listen> {
    let Some(d) = server.iter().find(|d| d.name == "listen") else {
        return Some(Listen {
            scheme: "http",
            addr: None,
            port: 80,
        });
    };
    let spot = d.args.first()?;
    if spot.starts_with("unix:") {
        return None;
    }
    let scheme = if d.args.iter().any(|a| a == "ssl") {
        "https"
    } else {
        "http"
    };
    let (addr, port) = if let Some(rest) = spot.strip_prefix('[') {
        let (host, tail) = rest.split_once(']')?;
        let port = tail
            .strip_prefix(':')
            .map_or(Some(80), |p| p.parse().ok())?;
        (format!("[{host}]"), port)
    } else if let Ok(port) = spot.parse::<u16>() {
        ("*".to_owned(), port)
    } else {
        match spot.rsplit_once(':') {
            Some((host, port)) => (host.to_owned(), port.parse().ok()?),
            None => (spot.clone(), if scheme == "https" { 443 } else { 80 }),
        }
    };
    let wildcard = matches!(addr.as_str(), "*" | "0.0.0.0" | "[::]");
    Some(Listen {
        scheme,
        addr: (!wildcard).then_some(addr),
        port,
    })
}

/// The tag `set $vedette on|off;` among `directives` gives.
fn opt_tag(directives: &[Directive]) -> Option<String> {
    directives.iter().find_map(|d| {
        (d.name == "set"
            && d.args.first().map(String::as_str) == Some("$vedette")
            && matches!(d.args.get(1).map(String::as_str), Some("on" | "off")))
        .then(|| format!("vedette:{}", d.args[1]))
    })
}

/// The upstream `proxy_pass http://backend/...` names (`backend`).
fn upstream(directives: &[Directive]) -> Option<String> {
    let target = directives
        .iter()
        .find(|d| d.name == "proxy_pass")?
        .args
        .first()?;
    let rest = target.split_once("://").map_or(target.as_str(), |(_, r)| r);
    Some(rest.split('/').next().unwrap_or(rest).to_owned())
}

/// Locations of `directives` (nested ones too) as (modifier, path, service, tag).
fn locations(
    directives: &[Directive],
    inherited: Option<&str>,
    out: &mut Vec<(String, String, Option<String>, Option<String>)>,
) {
    for d in directives.iter().filter(|d| d.name == "location") {
        let Some(block) = &d.block else { continue };
        let (modifier, path) = match d.args.as_slice() {
            [path] => ("", path.as_str()),
            [m, path] => (m.as_str(), path.as_str()),
            _ => continue,
        };
        let tag = opt_tag(block).or(inherited.map(str::to_owned));
        if matches!(modifier, "" | "=" | "^~") && path.starts_with('/') {
            let kind = if modifier == "=" { "exact" } else { "prefix" };
            out.push((
                kind.to_owned(),
                path.to_owned(),
                upstream(block),
                tag.clone(),
            ));
        }
        locations(block, tag.as_deref(), out);
    }
}

/// The routes of the configuration `conf`.
pub fn routes(conf: &[Directive]) -> Vec<Route> {
    let mut out = Vec::new();
    let servers = conf
        .iter()
        .filter(|d| d.name == "http")
        .filter_map(|d| d.block.as_ref())
        .flatten()
        .filter(|d| d.name == "server")
        .filter_map(|d| d.block.as_ref());
    for server in servers {
        let Some(listen) = listen(server) else {
            continue;
        };
        let names: Vec<&str> = server
            .iter()
            .filter(|d| d.name == "server_name")
            .flat_map(|d| d.args.iter())
            .map(String::as_str)
            .filter(|n| {
                !n.is_empty()
                    && *n != "_"
                    && !n.contains('*')
                    && !n.starts_with('~')
                    && !n.contains('$')
            })
            .collect();
        let names = if names.is_empty() {
            match &listen.addr {
                Some(addr) => vec![addr.as_str()],
                None => vec!["localhost"],
            }
        } else {
            names
        };
        let server_tag = opt_tag(server);
        let mut found = Vec::new();
        locations(server, server_tag.as_deref(), &mut found);
        if found.is_empty() {
            found.push((
                "prefix".into(),
                "/".into(),
                upstream(server),
                server_tag.clone(),
            ));
        }
        let default_port = if listen.scheme == "https" { 443 } else { 80 };
        for name in &names {
            let at = listen.addr.as_deref().unwrap_or(name);
            let base = if listen.port == default_port {
                format!("{}://{at}", listen.scheme)
            } else {
                format!("{}://{at}:{}", listen.scheme, listen.port)
            };
            for (kind, path, service, tag) in &found {
                let key = format!("{}:{}/{name}/{kind}:{path}", at, listen.port);
                let mut route = Route::new(&key, listen.scheme, name, path);
                route.base = Some(base.clone());
                route.service = service.clone();
                route.tags = tag.iter().cloned().collect();
                out.push(route);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn servers_and_locations_become_routes() {
        let conf = parse(
            "# configuration file /etc/nginx/nginx.conf:
http {
  upstream shop { server 127.0.0.1:9000; }
  server {
    listen 127.0.0.1:8080;
    server_name shop.test _;
    location /orders { proxy_pass http://shop/v1; location = /orders/ping { } }
    location ~ \\.php$ { }
    location @fallback { }
    location ^~ /internal { set $vedette off; }
  }
  server { listen 443 ssl; server_name secure.test; }
  server { listen unix:/run/x.sock; }
}
",
        )
        .unwrap();
        let got: Vec<(String, String, Option<String>, Vec<String>)> = routes(&conf)
            .into_iter()
            .map(|r| {
                (
                    r.key.clone(),
                    format!("{}{}", r.base.unwrap(), r.path),
                    r.service,
                    r.tags,
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                (
                    "127.0.0.1:8080/shop.test/prefix:/orders".to_owned(),
                    "http://127.0.0.1:8080/orders".to_owned(),
                    Some("shop".to_owned()),
                    vec![],
                ),
                (
                    "127.0.0.1:8080/shop.test/exact:/orders/ping".to_owned(),
                    "http://127.0.0.1:8080/orders/ping".to_owned(),
                    None,
                    vec![],
                ),
                (
                    "127.0.0.1:8080/shop.test/prefix:/internal".to_owned(),
                    "http://127.0.0.1:8080/internal".to_owned(),
                    None,
                    vec!["vedette:off".to_owned()],
                ),
                (
                    "secure.test:443/secure.test/prefix:/".to_owned(),
                    "https://secure.test/".to_owned(),
                    None,
                    vec![],
                ),
            ]
        );
    }
}

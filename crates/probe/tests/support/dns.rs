//! An authoritative DNS server (hickory-server, in-memory zone `example.test.`) on UDP and TCP
//! at the same 127.0.0.1 port. Names outside the zone's records answer NXDOMAIN.

use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use hickory_server::Server;
use hickory_server::proto::rr::rdata::{A, AAAA, CNAME, MX, NS, SOA, SRV, TXT};
use hickory_server::proto::rr::{LowerName, Name, RData, Record};
use hickory_server::store::in_memory::InMemoryZoneHandler;
use hickory_server::zone_handler::{AxfrPolicy, Catalog, ZoneType};
use tokio::net::{TcpListener, UdpSocket};

/// The zone's serial.
pub const SERIAL: u32 = 2024010101;

/// A running DNS server; stops when dropped.
pub struct DnsServer {
    /// UDP and TCP address.
    pub addr: SocketAddr,
    _server: Server<Catalog>,
}

fn name(s: &str) -> Name {
    Name::from_str(s).expect("name")
}

fn zone() -> InMemoryZoneHandler {
    let origin = name("example.test.");
    let mut zone = InMemoryZoneHandler::empty(origin.clone(), ZoneType::Primary, AxfrPolicy::Deny);
    let records = [
        (
            "example.test.",
            RData::SOA(SOA::new(
                name("ns1.example.test."),
                name("admin.example.test."),
                SERIAL,
                3600,
                600,
                86400,
                300,
            )),
        ),
        ("example.test.", RData::NS(NS(name("ns1.example.test.")))),
        (
            "example.test.",
            RData::MX(MX::new(10, name("mail.example.test."))),
        ),
        (
            "example.test.",
            RData::TXT(TXT::new(vec!["v=spf1 ".to_owned(), "-all".to_owned()])),
        ),
        (
            "www.example.test.",
            RData::A(A(Ipv4Addr::new(192, 0, 2, 1))),
        ),
        (
            "www.example.test.",
            RData::A(A(Ipv4Addr::new(192, 0, 2, 2))),
        ),
        (
            "www.example.test.",
            RData::AAAA(AAAA(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1))),
        ),
        (
            "alias.example.test.",
            RData::CNAME(CNAME(name("www.example.test."))),
        ),
        (
            "_https._tcp.example.test.",
            RData::SRV(SRV::new(10, 5, 443, name("www.example.test."))),
        ),
        ("web.example.test.", RData::A(A(Ipv4Addr::LOCALHOST))),
        ("ns1.example.test.", RData::A(A(Ipv4Addr::LOCALHOST))),
    ];
    for (owner, data) in records {
        let inserted = zone.upsert_mut(Record::from_rdata(name(owner), 300, data), SERIAL);
        assert!(inserted, "insert {owner}");
    }
    zone
}

/// Starts the server on a free port (UDP and TCP on the same number).
pub async fn serve() -> DnsServer {
    let mut catalog = Catalog::new();
    catalog.upsert(
        LowerName::from(name("example.test.")),
        vec![Arc::new(zone())],
    );
    let mut server = Server::new(catalog);
    let mut bound = None;
    for _ in 0..20 {
        let udp = UdpSocket::bind("127.0.0.1:0").await.expect("bind udp");
        let addr = udp.local_addr().expect("addr");
        if let Ok(tcp) = TcpListener::bind(addr).await {
            bound = Some((udp, tcp, addr));
            break;
        }
    }
    let (udp, tcp, addr) = bound.expect("a port free for both UDP and TCP");
    server.register_socket(udp);
    server.register_listener(tcp, Duration::from_secs(5), 64);
    DnsServer {
        addr,
        _server: server,
    }
}

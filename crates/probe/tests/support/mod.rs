//! Real targets for the probe tests, all on 127.0.0.1: HTTP(S) servers, certificates made on the
//! spot, a DNS server, a TCP banner/echo server and closed ports.

pub mod certs;
pub mod dns;
pub mod http;
pub mod tcp;

use std::net::SocketAddr;

use tokio::task::JoinHandle;

/// Stops a background server task when the test drops it.
pub struct Task(pub JoinHandle<()>);

impl Drop for Task {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// A port on 127.0.0.1 that nothing listens on (bound, then released).
pub fn closed_port() -> SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    drop(listener);
    addr
}

//! A TCP server that greets with a banner, then echoes each line it gets back upper-cased.

use std::net::SocketAddr;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

use super::Task;

/// The greeting the banner server sends first.
pub const BANNER: &str = "220 vedette-test ready\r\n";

/// A running TCP server.
pub struct TcpServer {
    /// Where it listens.
    pub addr: SocketAddr,
    _task: Task,
}

/// Sends [`BANNER`], then answers each line `x` with `ECHO X`.
pub async fn banner_echo() -> TcpServer {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let task = tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                let (read, mut write) = stream.into_split();
                if write.write_all(BANNER.as_bytes()).await.is_err() {
                    return;
                }
                let mut lines = BufReader::new(read).lines();
                while let Ok(Some(line)) = lines.next_line().await {
                    let reply = format!("ECHO {}\r\n", line.to_uppercase());
                    if write.write_all(reply.as_bytes()).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    TcpServer {
        addr,
        _task: Task(task),
    }
}

//! A throwaway single-member etcd for the tests that start a real kube-apiserver. The gateway
//! tests and the operator's end-to-end tests both include this one file with `#[path]`.

use std::path::Path;
use std::process::Command;

/// An unsynced etcd serving clients on 127.0.0.1:`client_port`, with its data in `data_dir`.
/// The caller adds where its output goes and spawns it.
pub fn etcd_command(tools: &Path, data_dir: &Path, client_port: u16, peer_port: u16) -> Command {
    let client = format!("http://127.0.0.1:{client_port}");
    let peer = format!("http://127.0.0.1:{peer_port}");
    let mut etcd = Command::new(tools.join("etcd"));
    etcd.args(["--name", "test", "--unsafe-no-fsync"])
        .arg(format!("--listen-client-urls={client}"))
        .arg(format!("--advertise-client-urls={client}"))
        .arg(format!("--listen-peer-urls={peer}"))
        .arg(format!("--initial-advertise-peer-urls={peer}"))
        .arg(format!("--initial-cluster=test={peer}"))
        .arg(format!("--data-dir={}", data_dir.display()));
    etcd
}

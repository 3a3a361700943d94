# Starts a throwaway Kubernetes control plane on 127.0.0.1 for tests: etcd (unsynced) and a real
# kube-apiserver with a static token file, RBAC and generated keys in a temp directory. There is
# no kubelet and no controller-manager: objects are stored and validated, pods never run.
#
#   source scripts/lib/kube-env.sh
#   kube_up            # sets KUBECONFIG, KUBE_DIR, KUBE_TOOLS, KUBE_ADMIN_TOKEN; kube_down on EXIT
#   "$KUBE_TOOLS/kubectl" get ns

kube_free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

kube_up() {
    KUBE_TOOLS="${KUBE_TOOLS:-$(scripts/kube-tools)}"
    KUBE_DIR="$(mktemp -d)"
    command -v openssl >/dev/null || { echo "kube-env: openssl is required" >&2; return 1; }
    local etcd_port peer_port api_port
    etcd_port=$(kube_free_port)
    peer_port=$(kube_free_port)
    api_port=$(kube_free_port)
    KUBE_ADMIN_TOKEN="admin-$(openssl rand -hex 16)"
    echo "$KUBE_ADMIN_TOKEN,admin,admin,system:masters" >"$KUBE_DIR/tokens.csv"
    openssl genrsa -out "$KUBE_DIR/sa.key" 2048 2>/dev/null
    openssl rsa -in "$KUBE_DIR/sa.key" -pubout -out "$KUBE_DIR/sa.pub" 2>/dev/null

    "$KUBE_TOOLS/etcd" --name test --data-dir "$KUBE_DIR/etcd" --unsafe-no-fsync \
        --listen-client-urls "http://127.0.0.1:$etcd_port" --advertise-client-urls "http://127.0.0.1:$etcd_port" \
        --listen-peer-urls "http://127.0.0.1:$peer_port" --initial-advertise-peer-urls "http://127.0.0.1:$peer_port" \
        --initial-cluster "test=http://127.0.0.1:$peer_port" >"$KUBE_DIR/etcd.log" 2>&1 &
    echo $! >"$KUBE_DIR/etcd.pid"
    "$KUBE_TOOLS/kube-apiserver" \
        --etcd-servers "http://127.0.0.1:$etcd_port" \
        --bind-address 127.0.0.1 --advertise-address 127.0.0.1 --secure-port "$api_port" \
        --cert-dir "$KUBE_DIR/certs" \
        --token-auth-file "$KUBE_DIR/tokens.csv" \
        --authorization-mode RBAC \
        --service-account-issuer https://kubernetes.default.svc \
        --service-account-key-file "$KUBE_DIR/sa.pub" \
        --service-account-signing-key-file "$KUBE_DIR/sa.key" \
        --service-cluster-ip-range 10.96.0.0/16 \
        --endpoint-reconciler-type none \
        --enable-priority-and-fairness=false \
        >"$KUBE_DIR/apiserver.log" 2>&1 &
    echo $! >"$KUBE_DIR/apiserver.pid"
    trap kube_down EXIT

    export KUBECONFIG="$KUBE_DIR/kubeconfig"
    cat >"$KUBECONFIG" <<KC
apiVersion: v1
kind: Config
clusters:
  - name: test
    cluster:
      server: https://127.0.0.1:$api_port
      insecure-skip-tls-verify: true
users:
  - name: admin
    user:
      token: $KUBE_ADMIN_TOKEN
contexts:
  - name: test
    context: {cluster: test, user: admin}
current-context: test
KC
    local i
    for i in $(seq 1 120); do
        if "$KUBE_TOOLS/kubectl" get --raw /readyz >/dev/null 2>&1; then
            export KUBE_DIR KUBE_TOOLS KUBE_ADMIN_TOKEN
            return 0
        fi
        if ! kill -0 "$(cat "$KUBE_DIR/apiserver.pid")" 2>/dev/null; then
            echo "kube-env: kube-apiserver exited; its log:" >&2
            tail -20 "$KUBE_DIR/apiserver.log" >&2
            return 1
        fi
        sleep 1
    done
    echo "kube-env: kube-apiserver not ready after 120 s; its log:" >&2
    tail -20 "$KUBE_DIR/apiserver.log" >&2
    return 1
}

# Kills the control plane at once (SIGKILL: nothing in it is worth keeping). A SIGTERM is not
# enough: a kube-apiserver that loses its store during its graceful shutdown waits for it
# forever, and an unbounded `wait` then hangs the whole suite.
kube_down() {
    [[ -n "${KUBE_DIR:-}" && -d "$KUBE_DIR" ]] || return 0
    local p pid
    for p in apiserver etcd; do
        [[ -f "$KUBE_DIR/$p.pid" ]] || continue
        pid="$(cat "$KUBE_DIR/$p.pid")"
        kill -KILL "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    rm -rf "$KUBE_DIR"
}

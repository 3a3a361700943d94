# Sourced by the suite scripts: `vedette_bin NAME` sets and exports VEDETTE_BIN, the vedette
# binary under test. scripts/test passes the one its cargo test built; run alone, a suite builds
# target/debug/vedette (a no-op when it is up to date). NAME prefixes the error messages.
vedette_repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"

vedette_bin() {
  if [[ -z "${VEDETTE_BIN:-}" ]]; then
    command -v cargo >/dev/null 2>&1 || { echo "$1: cargo is required to build vedette (or set VEDETTE_BIN)" >&2; exit 1; }
    (cd "$vedette_repo" && cargo build --locked -p vedette-cli >&2)
    VEDETTE_BIN="$vedette_repo/target/debug/vedette"
  fi
  [[ -x "$VEDETTE_BIN" ]] || { echo "$1: no vedette binary at $VEDETTE_BIN" >&2; exit 1; }
  export VEDETTE_BIN
}

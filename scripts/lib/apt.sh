# Sourced by the scripts that install a missing tool from Debian's packages:
# `apt_install WHO PACKAGE...` installs the packages with apt-get, reading the package lists
# again only when the first try fails, and exits with a message naming WHO when it cannot.
# apt-get's output goes to stderr, so a script's stdout stays its own.
apt_install() {
  local who="$1"
  shift
  command -v apt-get >/dev/null 2>&1 || { echo "$who: $* required (Debian packages) and there is no apt-get here" >&2; exit 1; }
  [[ "$(id -u)" -eq 0 ]] || { echo "$who: $* required (Debian packages) and installing them needs root" >&2; exit 1; }
  echo "$who: installing $* (Debian packages)" >&2
  export DEBIAN_FRONTEND=noninteractive
  { apt-get install -y -qq "$@" || { apt-get update -qq && apt-get install -y -qq "$@"; }; } >&2 \
    || { echo "$who: apt-get install $* failed" >&2; exit 1; }
}

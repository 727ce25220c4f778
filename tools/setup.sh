#!/usr/bin/env bash
# Installs what bohost needs on Debian 12, only where it is missing:
# OpenCV 4.6 development files, pkg-config and a C/C++ toolchain (apt), and
# Go 1.26 (from the Go module proxy's toolchain module when no Go >= 1.26 is
# on the machine). Safe to run again; prints what it does.
set -euo pipefail

GO_VERSION=1.26.8

# module_proxy sets proxy to the Go module proxy this machine is configured
# for: GOPROXY, else what a Go already installed here says (an older one);
# its first entry that is a URL. No address is written into this script.
module_proxy() {
  local proxies=${GOPROXY:-} g e entries
  if [ -z "$proxies" ]; then
    for g in go /usr/local/go/bin/go /usr/lib/go/bin/go; do
      if command -v "$g" >/dev/null 2>&1; then proxies=$("$g" env GOPROXY 2>/dev/null) && break; fi
    done
  fi
  proxy=""
  IFS=',|' read -ra entries <<<"$proxies"
  for e in "${entries[@]}"; do
    case "$e" in http://*|https://*|file://*) proxy=${e%/}; break ;; esac
  done
  if [ -z "$proxy" ]; then
    echo "setup: Go >= 1.26 is missing and no Go module proxy is known to fetch it from (GOPROXY='$proxies'):" >&2
    echo "setup: set GOPROXY (as for go itself) or install Go 1.26, then run make again" >&2
    exit 1
  fi
}
if [ "${1:-}" = "--print-proxy" ]; then module_proxy; echo "$proxy"; exit 0; fi

need_apt=()
pkg-config --exists opencv4 2>/dev/null || need_apt+=(libopencv-dev)
command -v pkg-config >/dev/null || need_apt+=(pkg-config)
{ command -v gcc >/dev/null && command -v g++ >/dev/null && command -v make >/dev/null; } || need_apt+=(build-essential)
command -v curl >/dev/null || need_apt+=(curl ca-certificates)
command -v unzip >/dev/null || need_apt+=(unzip)
# The test suite also checks that the committed PTX is what clang makes of the
# .cu sources (host/gpu): make test sets BOHOST_SETUP_TEST=1.
if [ "${BOHOST_SETUP_TEST:-}" = 1 ]; then command -v clang >/dev/null || need_apt+=(clang); fi
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "setup: installing ${need_apt[*]} with apt"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -q
  $SUDO apt-get -o DPkg::Lock::Timeout=600 install -y -q --no-install-recommends "${need_apt[@]}"
fi

go_ok() {
  command -v go >/dev/null || return 1
  local v; v=$(go env GOVERSION 2>/dev/null | sed 's/^go//')
  [ "$(printf '%s\n1.26\n' "$v" | sort -V | head -1)" = "1.26" ]
}
if ! go_ok && [ -x /usr/local/go/bin/go ]; then export PATH=/usr/local/go/bin:$PATH; fi
if ! go_ok; then
  dest=/usr/local/go${GO_VERSION}
  if [ ! -x "$dest/bin/go" ]; then
    module_proxy
    arch=$(dpkg --print-architecture 2>/dev/null || echo amd64)
    url="$proxy/golang.org/toolchain/@v/v0.0.1-go${GO_VERSION}.linux-${arch}.zip"
    echo "setup: fetching Go ${GO_VERSION} from $url"
    tmp=$(mktemp -d); curl -fsSL "$url" -o "$tmp/go.zip"; unzip -q "$tmp/go.zip" -d "$tmp"
    mkdir -p "$dest"; cp -a "$tmp"/golang.org/toolchain@*/. "$dest"/; rm -rf "$tmp"
  fi
  echo "setup: Go installed at $dest (the Makefile puts it on PATH)"
fi
echo "setup: ok ($(PATH=/usr/local/go${GO_VERSION}/bin:/usr/local/go/bin:$PATH go version), OpenCV $(pkg-config --modversion opencv4))"

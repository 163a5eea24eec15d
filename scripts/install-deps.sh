#!/usr/bin/env bash
# Installs the Debian packages the build needs, only when they are missing.
set -euo pipefail
missing=()
command -v pkg-config >/dev/null 2>&1 || missing+=(pkg-config)
if command -v pkg-config >/dev/null 2>&1; then
  pkg-config --exists libcurl || missing+=(libcurl4-openssl-dev)
  pkg-config --exists libcrypto || missing+=(libssl-dev)
  pkg-config --exists sqlite3 || missing+=(libsqlite3-dev)
  pkg-config --exists libpq || missing+=(libpq-dev)
else
  missing+=(libcurl4-openssl-dev libssl-dev libsqlite3-dev libpq-dev)
fi
command -v sqlite3 >/dev/null 2>&1 || missing+=(sqlite3)
# Test tooling: the report's task graphs (dot), the report checked in a real browser, and the
# metrics file checked by Prometheus' own Python parser.
command -v dot >/dev/null 2>&1 || missing+=(graphviz)
command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || missing+=(chromium)
command -v python3 >/dev/null 2>&1 || missing+=(python3 python3-pip)
# The PostgreSQL server the store, queue and several-hosts tests start (initdb in a temp dir).
command -v initdb >/dev/null 2>&1 || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing+=(postgresql)
if [ ${#missing[@]} -gt 0 ]; then
  echo "Installing build and test dependencies: ${missing[*]}" >&2
  sudo=""
  [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1 && sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq "${missing[@]}"
fi
if ! python3 -c 'import prometheus_client' >/dev/null 2>&1; then
  echo "Installing prometheus_client (Python) for the metrics test" >&2
  python3 -m pip install -q prometheus_client 2>/dev/null || python3 -m pip install -q --break-system-packages prometheus_client \
    || echo "could not install prometheus_client: the metrics test will say so" >&2
fi

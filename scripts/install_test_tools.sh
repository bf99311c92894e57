#!/usr/bin/env bash
# Test tools that are not Python packages: Debian's Chromium and ChromeDriver
# for the browser tests (browsers that tools download themselves do not work
# here), Debian's nginx for the production profile's balancer (scale-out test),
# and axe-core from npm for the accessibility checks.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -x /usr/bin/chromium ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "==> Installing Chromium for the browser tests (Debian packages)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq chromium chromium-driver >/dev/null
  else
    echo "error: the browser tests need Chromium: run 'sudo apt-get install chromium chromium-driver'." >&2
    exit 1
  fi
fi

if [ ! -x /usr/sbin/nginx ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "==> Installing nginx for the production profile's tests (Debian package)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq nginx >/dev/null
  else
    echo "error: the production profile's tests need nginx: run 'sudo apt-get install nginx'." >&2
    exit 1
  fi
fi

if [ ! -f node_modules/axe-core/axe.min.js ] || [ package-lock.json -nt node_modules/axe-core/axe.min.js ]; then
  command -v npm >/dev/null || { echo "error: npm not found: install Node.js (it brings npm) for axe-core." >&2; exit 1; }
  echo "==> Installing axe-core (npm ci)"
  npm ci --no-audit --no-fund --loglevel=error
  touch node_modules/axe-core/axe.min.js
fi

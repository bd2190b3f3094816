#!/usr/bin/env bash
# buf lint / buf breaking over the contracts. buf's registry is not reachable from here, so buf
# reads protoc-built images (with source info, for the comment rules) instead of resolving deps.
#   scripts/buf.sh lint               lint proto/
#   scripts/buf.sh breaking [REF]     compare proto/ with REF's (default: main)
set -euo pipefail
cd "$(dirname "$0")/.."
py=.venv/bin/python
buf=.venv/bin/buf
googleapis="$("$py" -c 'import google.api.annotations_pb2 as m, pathlib; print(pathlib.Path(m.__file__).parents[2])')"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

image() {  # image ROOT OUT: a descriptor image of ROOT/proto/parley/v1
  "$py" -m grpc_tools.protoc -I "$1/proto" -I "$googleapis" --include_imports --include_source_info \
    --descriptor_set_out="$2" "$1"/proto/parley/v1/*.proto
}

case "${1:-lint}" in
  lint)
    image . "$tmp/current.binpb"
    "$buf" lint "$tmp/current.binpb" --config buf.yaml
    echo "buf lint: clean"
    ;;
  breaking)
    ref="${2:-main}"
    mkdir -p "$tmp/against"
    if ! git archive "$ref" proto 2>/dev/null | tar -x -C "$tmp/against"; then
      echo "buf breaking: $ref has no proto/ yet; nothing to compare"
      exit 0
    fi
    image . "$tmp/current.binpb"
    image "$tmp/against" "$tmp/against.binpb"
    "$buf" breaking "$tmp/current.binpb" --against "$tmp/against.binpb" --config buf.yaml
    echo "buf breaking: no breaking change against $ref"
    ;;
  *) echo "usage: $0 lint|breaking [REF]" >&2; exit 2 ;;
esac

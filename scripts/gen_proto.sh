#!/usr/bin/env bash
# Generate the Python stubs (messages, gRPC, type stubs) into $1/sdk, Envoy's descriptor set
# into $1/envoy/descriptor.pb, the TypeScript SDK's code into $1/sdk-ts/src/gen and the JSON API's
# OpenAPI document into $1/envoy/openapi.json. `make proto` runs it on the repo; the drift test on a
# temp folder.
set -euo pipefail
out="${1:-.}"
here="$(cd "$(dirname "$0")/.." && pwd)"
venv_bin="$here/.venv/bin"
py="$venv_bin/python"
cd "$here"
# googleapis-common-protos ships google/api/*.proto beside its modules.
googleapis="$("$py" -c 'import google.api.annotations_pb2 as m, pathlib; print(pathlib.Path(m.__file__).parents[2])')"
protos=(proto/parley/v1/*.proto)
mkdir -p "$out/sdk" "$out/envoy"
PATH="$venv_bin:$PATH" "$py" -m grpc_tools.protoc -I proto -I "$googleapis" \
  --python_out="$out/sdk" --grpc_python_out="$out/sdk" \
  --mypy_out=quiet:"$out/sdk" --mypy_grpc_out=quiet:"$out/sdk" \
  "${protos[@]}"
# The transcoder needs every import and google.rpc's status/error_details (for error details).
"$py" -m grpc_tools.protoc -I proto -I "$googleapis" \
  --include_imports --include_source_info --descriptor_set_out="$out/envoy/descriptor.pb" \
  "${protos[@]}" google/rpc/status.proto google/rpc/error_details.proto
# The TypeScript SDK's messages and services: buf runs protobuf-es's plugin (sdk-ts/node_modules,
# `make sdk-ts`) over that descriptor set; google.protobuf's come with @bufbuild/protobuf.
rm -rf "$out/sdk-ts/src/gen"
"$venv_bin/buf" generate "$out/envoy/descriptor.pb#format=binpb" --template sdk-ts/buf.gen.yaml \
  --exclude-path google/rpc --exclude-path google/protobuf -o "$out"
# The OpenAPI document of the JSON API, from the protos' HTTP annotations (gnostic's
# protoc-gen-openapi and gojq, built by scripts/bootstrap.sh), finished by scripts/openapi.py.
tools="$here/.cache/bin"
openapi="$(mktemp -d)"
trap 'rm -rf "$openapi"' EXIT
mapping="$(printf 'M%s=parley/v1,' "${protos[@]#proto/}")"
"$py" -m grpc_tools.protoc -I proto -I "$googleapis" \
  --plugin=protoc-gen-openapi="$tools/protoc-gen-openapi" \
  --openapi_out="${mapping}naming=proto,title=Parley,version=v1,enum_type=string,default_response=true:$openapi" \
  "${protos[@]}"
"$tools/gojq" --yaml-input . "$openapi/openapi.yaml" > "$openapi/openapi.json"
"$py" scripts/openapi.py "$openapi/openapi.json" "$out/envoy/descriptor.pb" "$out/envoy/openapi.json"

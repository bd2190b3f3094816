#!/usr/bin/env bash
# Generate the Python stubs (messages, gRPC, type stubs) into $1/sdk and Envoy's descriptor set
# into $1/envoy/descriptor.pb. `make proto` runs it on the repo; the drift test on a temp folder.
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

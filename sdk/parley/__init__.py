"""Parley's Python SDK. `parley.v1` holds the generated protobuf messages and gRPC stubs."""

"""Generated code of the `parley.v1` protobuf package (`make proto`; do not edit by hand)."""

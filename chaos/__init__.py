"""`make chaos`: the fault suite of the local cluster (see `chaos.__main__`)."""

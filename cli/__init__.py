"""`parley`, the operator command line."""

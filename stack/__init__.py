"""The local stack: `make up` / `make down` / `make status`, and the test fixtures, share this code."""

"""The ingest service: the sources' webhooks into raw Kafka topics, and their translation."""

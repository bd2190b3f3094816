"""Shared runtime of the Parley services: settings, Kafka, Redis, ids, gRPC bootstrap, logging.

It holds no business logic; every service imports it and nothing else of the others.
"""

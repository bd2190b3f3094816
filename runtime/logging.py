"""One log format for every process: time, level, service, logger, message."""

from __future__ import annotations

import logging
import sys


def configure(service: str, level: str = "INFO") -> None:
    """Send this process's logs to stderr (the stack redirects it to `.data/logs/<service>.log`)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        logging.Formatter(f"%(asctime)s %(levelname)s {service} %(name)s: %(message)s")
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # aiokafka is chatty about coordinator elections during start-up; its warnings still show.
    logging.getLogger("aiokafka").setLevel(max(logging.WARNING, root.level))
    # httpx logs every request's full URL at INFO, and Graph API URLs carry the page token in
    # their query string: secrets are never logged.
    logging.getLogger("httpx").setLevel(max(logging.WARNING, root.level))

"""The JSON API's OpenAPI document (generated from the contracts by `make proto`), served by the
edge at /openapi.json to anyone: it describes every call of the API that is not a source's
webhook, with the token each needs."""

from __future__ import annotations

import json

import httpx

from auth.scopes import PACKAGE, Scopes
from stack.envoy import DESCRIPTOR, OPENAPI

#: The service of the sources' inbound webhooks, which the document leaves out.
WEBHOOKS = "IngestService"


def test_the_document_is_served_without_a_token_and_covers_the_api(base_url: str) -> None:
    reply = httpx.get(f"{base_url}/openapi.json", timeout=10)
    assert reply.status_code == 200
    assert reply.headers["content-type"] == "application/json"
    document = reply.json()
    assert document == json.loads(OPENAPI.read_text())
    assert document["openapi"].startswith("3.")

    scopes = Scopes.from_descriptor(DESCRIPTOR)
    documented = {(method.upper(), path) for path, operations in document["paths"].items()
                  for method in operations}
    api = {(method, path) for (method, path), route in scopes.routes.items()
           if route.rpc.startswith(f"{PACKAGE}.") and not path.startswith(f"/{PACKAGE}.")
           and f".{WEBHOOKS}." not in route.rpc}
    assert documented == api
    for method, path in documented:
        operation = document["paths"][path][method.lower()]
        needs_token = scopes.routes[(method, path)].scope is not None
        assert (operation.get("security") != []) == needs_token, (method, path)

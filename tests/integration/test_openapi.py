"""The JSON API's OpenAPI document (generated from the contracts by `make proto`), served by the
edge at /openapi.json to anyone: it describes every call of the API that is not a source's
webhook, with the token each needs; and schemathesis fuzzes every operation from it against the
running stack: no 5xx, every answer as the document says. The reference at /docs (Swagger UI)
renders it in Chromium."""

from __future__ import annotations

import json

import httpx
import schemathesis
from hypothesis import HealthCheck, given, settings
from playwright.sync_api import expect
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Ok
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance

from auth.scopes import PACKAGE, Scopes
from stack.envoy import DESCRIPTOR, OPENAPI
from tests.integration.browser import chromium
from tests.conftest import FAKE_APIS_PORT
from tests.integration.helpers import api_headers
from tests.integration.fake_source_apis import serving

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


#: Operations that are not fuzzed: the event streams never end (their requests are checked in
#: test_events).
STREAMED = r"^/(events\.subscribe|chatplugin\.stream)$"
#: Requests generated per operation (each fixed: the same on every run).
EXAMPLES = 12


def test_every_operation_fuzzed_from_the_document(base_url: str) -> None:
    """Requests made from each operation's schema (valid and not): no 5xx, and every answer is
    one the document describes (its status, media type and schema). The sources' APIs that
    lookups ask are the local fakes."""
    with serving(FAKE_APIS_PORT):
        _fuzz_every_operation(base_url)


def _fuzz_every_operation(base_url: str) -> None:
    schema = schemathesis.openapi.from_url(f"{base_url}/openapi.json").exclude(path_regex=STREAMED)
    failed: dict[str, str] = {}
    found = list(schema.get_all_operations())
    operations = [each.ok() for each in found if isinstance(each, Ok)]
    assert len(operations) == len(found), [each for each in found if not isinstance(each, Ok)]
    for operation in operations:
        @given(case=operation.as_strategy())
        @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))
        def fuzz(case: schemathesis.Case) -> None:
            case.call_and_validate(base_url=base_url, headers=api_headers(), checks=[
                not_a_server_error, response_schema_conformance, content_type_conformance])
        try:
            fuzz()
        except Exception as failure:  # noqa: BLE001 - each operation's failure is reported
            failed[operation.label] = str(failure)[:2000]
    assert len(operations) > 50
    assert failed == {}


def test_the_reference_at_docs_renders_the_document_in_a_browser(base_url: str) -> None:
    for path, media in (("/docs", "text/html"), ("/docs/swagger-ui-bundle.js",
                        "application/javascript"), ("/docs/swagger-ui.css", "text/css")):
        reply = httpx.get(f"{base_url}{path}", timeout=10)
        assert reply.status_code == 200 and reply.headers["content-type"].startswith(media)
    with chromium() as browser:
        page = browser.new_page()
        page.goto(f"{base_url}/docs")
        # Swagger UI lists the operations it read from /openapi.json, grouped by service.
        expect(page.locator(".opblock-summary-path").first).to_be_visible(timeout=20_000)
        paths = page.locator(".opblock-summary-path").all_inner_texts()
        assert "/messages.list" in [p.strip().replace("\u200b", "") for p in paths]
        assert page.locator(".info .title").inner_text().startswith("Parley")
        page.close()

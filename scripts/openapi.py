"""`python scripts/openapi.py IN DESCRIPTOR OUT`: finish the OpenAPI document protoc-gen-openapi
(gnostic) generates from the protos' HTTP annotations (IN, as JSON) into the one Envoy serves at
`/openapi.json` (OUT), with the routes of the descriptor set DESCRIPTOR. scripts/gen_proto.sh runs
it; nothing of the document is written by hand.

What it adds is what the annotations cannot say, taken from the same contracts:
- who may call what: every operation takes a bearer API token, except the calls that need none
  (`auth.scopes`: health, the chat plugin's visitor calls and a custom source's own calls, which
  take their own bearer tokens, say so in their descriptions);
- the sources' inbound webhooks are left out: their bodies are the sources' own formats, signed
  by them, not Parley's API;
- messages.send answers 202 (with the same message) when the conversation is not stored yet;
- the event streams' media types.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from auth.scopes import Scopes  # noqa: E402 - after the repository is importable

#: The tag of the sources' inbound webhooks (left out).
WEBHOOKS_TAG = "IngestService"
#: What the document says of itself.
DESCRIPTION = ("Parley's JSON API: every call is a POST of a JSON body (a few are GETs), "
               "answered with JSON; errors are `{code, message, details}` with the gRPC code. "
               "Generated from the protobuf contracts; the same calls speak gRPC on the same port.")
#: Media types of the event streams (`/events.subscribe`), by method.
STREAMS = {("get", "/events.subscribe"): ["text/event-stream"],
           ("post", "/events.subscribe"): ["application/json", "application/x-ndjson",
                                           "text/event-stream"],
           ("get", "/chatplugin.stream"): ["text/event-stream"]}


def _description(text: str) -> str:
    """A comment as prose: without the proto linter's directives, lines unindented."""
    lines = [line.strip() for line in text.splitlines()]
    return "\n".join(line for line in lines if not line.startswith("buf:lint:")).strip()


def finish(document: dict[str, Any], scopes: Scopes) -> dict[str, Any]:
    """The served document of gnostic's `document` (see the module's docstring)."""
    paths: dict[str, Any] = {}
    for path, operations in sorted(document["paths"].items()):
        kept = {}
        for method, operation in operations.items():
            if WEBHOOKS_TAG in operation.get("tags", []):
                continue
            route = scopes.route(method.upper(), path)
            if route is None:
                raise ValueError(f"{method.upper()} {path} is in no route of the contracts")
            operation["description"] = _description(operation.get("description", ""))
            if route.scope is None:
                operation["security"] = []
            else:
                operation["description"] += f"\n\nNeeds a token with scope `{route.scope}`."
            if (method, path) in STREAMS:
                schema = operation["responses"]["200"]["content"].popitem()[1]
                operation["responses"]["200"]["content"] = {
                    media: schema for media in STREAMS[(method, path)]}
            kept[method] = operation
        if kept:
            paths[path] = kept
    paths["/messages.send"]["post"]["responses"]["202"] = {
        **paths["/messages.send"]["post"]["responses"]["200"],
        "description": "Accepted: the conversation is not stored yet (looked for again for a "
                       "while, then the message fails with metadata.error)"}
    return {
        **document,
        "info": {**document["info"], "description": DESCRIPTION},
        "servers": [{"url": "/"}],
        "paths": paths,
        "tags": [t for t in document.get("tags", []) if t["name"] != WEBHOOKS_TAG],
        "components": {**document["components"], "securitySchemes": {
            "token": {"type": "http", "scheme": "bearer",
                      "description": "An API token (`parley token create`)"}}},
        "security": [{"token": []}],
    }


def main(argv: list[str]) -> int:
    """Finish the document at argv[0], by the descriptor set at argv[1], into argv[2]."""
    source, descriptor, target = map(Path, argv)
    document = finish(json.loads(source.read_text()), Scopes.from_descriptor(descriptor))
    target.write_text(json.dumps(document, indent=1, sort_keys=True) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

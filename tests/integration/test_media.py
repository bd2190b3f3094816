"""media.upload into the stack's own object store (SeaweedFS, started by `make up`), and the
files served back at /media/ for anyone: content-addressed names, types that cannot run script,
limits."""

from __future__ import annotations

import hashlib
import os
from typing import Any

import httpx

from runtime.settings import Settings
from tests.integration.helpers import api_headers
from tests.integration.test_auth import _name, _token

PNG = b"\x89PNG\r\n\x1a\n" + os.urandom(64)


def _upload(base_url: str, headers: dict[str, str] | None = None, **request: Any) -> httpx.Response:
    """POST /media.upload with the API token; `request` is httpx's (files, content, ...)."""
    return httpx.post(f"{base_url}/media.upload", headers={**api_headers(), **(headers or {})},
                      timeout=30, **request)


def test_an_uploaded_file_is_stored_under_its_hash_and_served_to_anyone(base_url: str) -> None:
    reply = _upload(base_url, files={"file": ("photo.png", PNG, "image/png")}, data={"note": "x"})
    assert reply.status_code == 200, reply.text
    uploaded = reply.json()
    name = f"{hashlib.sha256(PNG).hexdigest()}.png"
    assert uploaded == {"media_url": f"{base_url}/media/{name}", "name": name,
                        "content_type": "image/png", "size": len(PNG), "filename": "photo.png"}
    served = httpx.get(uploaded["media_url"], timeout=10)  # no token: a source fetches it so
    assert served.status_code == 200 and served.content == PNG
    assert served.headers["content-type"] == "image/png"
    assert served.headers["x-content-type-options"] == "nosniff"
    assert "sandbox" in served.headers["content-security-policy"]
    # The same file again is the same object.
    assert _upload(base_url, files={"file": ("again.png", PNG, "image/png")}).json()["name"] == name


def test_a_body_that_is_the_file_itself(base_url: str) -> None:
    audio = b"ID3" + os.urandom(32)
    reply = _upload(base_url, content=audio, headers={"content-type": "audio/mpeg"})
    assert reply.status_code == 200, reply.text
    assert reply.json()["name"].endswith(".mp3") and reply.json()["filename"] == ""
    assert httpx.get(reply.json()["media_url"], timeout=10).content == audio


def test_what_is_refused(live_stack: Settings, base_url: str) -> None:
    svg = _upload(base_url, files={"file": ("x.svg", b"<svg onload='alert(1)'/>", "image/svg+xml")})
    assert svg.status_code == 400 and "not taken" in svg.json()["message"]
    html = _upload(base_url, content=b"<script>alert(1)</script>", headers={"content-type": "text/html"})
    assert html.status_code == 400
    assert _upload(base_url, files={"file": ("e.png", b"", "image/png")}).status_code == 400
    no_file = _upload(base_url, files={"other": ("x.png", PNG, "image/png")})
    assert no_file.status_code == 400 and "'file'" in no_file.json()["message"]
    limit = live_stack.media.max_bytes
    over = _upload(base_url, content=b"x" * (limit + 1), headers={"content-type": "text/plain"})
    assert over.status_code == 400 and "PARLEY_MEDIA_MAX_BYTES" in over.json()["message"]
    far_over = _upload(base_url, content=b"x" * (limit + 200_000), headers={"content-type": "text/plain"})
    assert far_over.status_code == 413
    # A token is needed, one that may write; the bucket cannot be listed or written through /media/.
    assert httpx.post(f"{base_url}/media.upload", content=PNG, timeout=10,
                      headers={"content-type": "image/png"}).status_code == 401
    reader = _token(base_url, _name("reader"), "--scopes", "read")
    assert httpx.post(f"{base_url}/media.upload", content=PNG, timeout=10, headers={
        "content-type": "image/png", "authorization": f"Bearer {reader}"}).status_code == 403
    assert httpx.get(f"{base_url}/media/", timeout=10).status_code in (403, 404)
    assert httpx.put(f"{base_url}/media/evil.png", content=PNG, timeout=10).status_code == 404

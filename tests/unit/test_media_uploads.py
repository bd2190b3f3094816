"""What media.upload takes, as a pure function: a multipart form's `file` or a body that is the
file, of a type that cannot run script, named by its content."""

from __future__ import annotations

import hashlib

import httpx
import pytest

from media.uploads import upload_of
from runtime.errors import InvalidArgument

PNG = b"\x89PNG\r\n\x1a\n\x00binary\r\n--not-a-boundary\r\n"


def _form(files: dict[str, tuple[str, bytes, str]]) -> tuple[bytes, str]:
    """A multipart/form-data body as httpx (as a browser) encodes it, and its content type."""
    request = httpx.Request("POST", "http://parley.test/media.upload", files=files, data={"note": "hi"})
    return request.read(), request.headers["content-type"]


def test_the_file_of_a_form_keeps_its_bytes_type_and_name() -> None:
    upload = upload_of(*_form({"file": ("cat.png", PNG, "image/png")}))
    assert (upload.data, upload.content_type, upload.filename) == (PNG, "image/png", "cat.png")
    assert upload.object_name == f"{hashlib.sha256(PNG).hexdigest()}.png"


def test_a_body_that_is_the_file() -> None:
    upload = upload_of(b"hello", "text/plain; charset=utf-8")
    assert (upload.content_type, upload.filename, upload.object_name[-4:]) == ("text/plain", "", ".txt")


@pytest.mark.parametrize(("body", "content_type", "message"), [
    (b"<svg/>", "image/svg+xml", "not taken"),
    (b"<html/>", "text/html", "not taken"),
    (b"x", "", "not taken"),
    (b"", "image/png", "empty"),
    (*_form({"other": ("cat.png", PNG, "image/png")}), "no 'file' field"),
    (*_form({"file": ("x.svg", b"<svg/>", "image/svg+xml")}), "not taken"),
    (b"--x\r\nnot a form", "multipart/form-data; boundary=y", "could not be read|no 'file' field"),
])
def test_what_is_refused(body: bytes, content_type: str, message: str) -> None:
    with pytest.raises(InvalidArgument, match=message):
        upload_of(body, content_type)

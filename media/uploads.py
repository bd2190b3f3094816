"""What `media.upload` takes (pure): the file of a multipart form (its `file` field) or a body
that is the file itself, checked, and named by its content.

Objects are named by the SHA-256 of their bytes, with an extension of their type: the same file
uploaded twice is one object, and a name says nothing of who sent it. Only types a browser shows
without running anything are taken (images but SVG, audio, video, PDF, plain text): media URLs
are served from Parley's own origin, where an HTML or SVG file could run script.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from email.message import Message
from email.parser import BytesParser
from email.policy import HTTP

from runtime.errors import InvalidArgument

#: The types taken, with the extension their objects are named with.
EXTENSIONS = {
    "image/jpeg": "jpg", "image/png": "png", "image/gif": "gif", "image/webp": "webp",
    "audio/mpeg": "mp3", "audio/ogg": "ogg", "audio/wav": "wav", "audio/aac": "aac",
    "audio/mp4": "m4a", "audio/webm": "weba", "video/mp4": "mp4", "video/webm": "webm",
    "video/quicktime": "mov", "application/pdf": "pdf", "text/plain": "txt",
}
#: The form field that carries the file.
FILE_FIELD = "file"


@dataclass(frozen=True)
class Upload:
    """A file to store: its bytes, type and the name the sender gave it ("" : none)."""

    data: bytes = field(repr=False)
    content_type: str
    filename: str = ""

    @property
    def object_name(self) -> str:
        """Its content-addressed object name: `<sha256 hex>.<extension>`."""
        return f"{hashlib.sha256(self.data).hexdigest()}.{EXTENSIONS[self.content_type]}"


def _media_type(content_type: str) -> str:
    return content_type.split(";", 1)[0].strip().lower()


def _checked(data: bytes, content_type: str, filename: str) -> Upload:
    media_type = _media_type(content_type)
    if media_type not in EXTENSIONS:
        raise InvalidArgument(f"files of type {media_type or '(none)'!r} are not taken; "
                              f"types taken: {', '.join(sorted(EXTENSIONS))}")
    if not data:
        raise InvalidArgument("the file is empty")
    return Upload(data, media_type, filename)


def _form_file(body: bytes, content_type: str) -> Message:
    """The `file` part of a multipart/form-data body; InvalidArgument when there is none."""
    form = BytesParser(policy=HTTP).parsebytes(
        f"Content-Type: {content_type}\r\n\r\n".encode() + body)
    if not form.is_multipart():
        raise InvalidArgument("the multipart form could not be read (is its boundary right?)")
    for part in form.iter_parts():
        if part.get_param("name", header="content-disposition") == FILE_FIELD:
            return part
    raise InvalidArgument(f"the form has no {FILE_FIELD!r} field")


def upload_of(body: bytes, content_type: str) -> Upload:
    """The file `body` carries: the `file` field of a multipart/form-data body (with its own type
    and filename), else the body itself, of `content_type`. InvalidArgument for a form without a
    file, an empty file, or a type that is not taken."""
    if _media_type(content_type) != "multipart/form-data":
        return _checked(body, content_type, "")
    part = _form_file(body, content_type)
    data = part.get_payload(decode=True)
    return _checked(data if isinstance(data, bytes) else b"", part.get_content_type(),
                    part.get_filename() or "")

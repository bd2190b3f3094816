"""The S3-compatible object store media is kept in: objects written with AWS Signature V4
(botocore's signer) over httpx.

Any S3 endpoint works (`PARLEY_MEDIA_S3_*`). Without one, `make up` starts its own (SeaweedFS,
`stack.objectstore`) and keeps its keys in the data folder, where the services read them.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

import httpx
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from runtime.settings import MediaStore, Settings

#: Where the local store's keys are kept, in the data folder.
LOCAL_CREDENTIALS = Path("objectstore") / "credentials.json"


class StoreError(Exception):
    """The object store refused or failed a request; the message says how (never a key)."""


@dataclass(frozen=True)
class Keys:
    """An S3 access key and its secret."""

    access_key: str
    secret_key: str = field(repr=False)


def local_keys(data_dir: Path) -> Keys | None:
    """The keys of the local store, None before its first start."""
    path = data_dir / LOCAL_CREDENTIALS
    if not path.exists():
        return None
    found = json.loads(path.read_text())
    return Keys(found["access_key"], found["secret_key"])


def keys_of(settings: Settings) -> Keys | None:
    """The keys media is written with: the settings', else the local store's (None: neither)."""
    media = settings.media
    if media.access_key and media.secret_key:
        return Keys(media.access_key, media.secret_key)
    return local_keys(settings.data_dir) if media.local else None


class ObjectStore:
    """One bucket of an S3 endpoint."""

    def __init__(self, media: MediaStore, keys: Keys, http: httpx.AsyncClient) -> None:
        self.media = media
        self.credentials = Credentials(keys.access_key, keys.secret_key)
        self.http = http

    def _url(self, name: str = "") -> str:
        return f"{self.media.endpoint}/{quote(self.media.bucket)}" + (f"/{quote(name)}" if name else "")

    async def _send(self, method: str, url: str, body: bytes = b"",
                    headers: dict[str, str] | None = None) -> httpx.Response:
        """`method` `url` signed (payload hash included), answered; StoreError when it fails."""
        request = AWSRequest(method=method, url=url, data=body, headers={
            **(headers or {}), "x-amz-content-sha256": hashlib.sha256(body).hexdigest()})
        S3SigV4Auth(self.credentials, "s3", self.media.region).add_auth(request)
        try:
            return await self.http.request(method, url, content=body, headers=dict(request.headers.items()))
        except httpx.HTTPError as exc:
            raise StoreError(f"the object store did not answer: {type(exc).__name__}") from exc

    async def put(self, name: str, body: bytes, content_type: str) -> None:
        """Store `body` as object `name` of type `content_type`; StoreError when refused."""
        reply = await self._send("PUT", self._url(name), body, {"content-type": content_type})
        if reply.status_code != 200:
            raise StoreError(f"the object store answered {reply.status_code} to storing {name}")

    async def ensure_bucket(self) -> None:
        """Make the bucket unless it exists; StoreError when neither works."""
        if (await self._send("HEAD", self._url())).status_code == 200:
            return
        reply = await self._send("PUT", self._url())
        if reply.status_code not in (200, 409):  # 409: made meanwhile
            raise StoreError(f"the object store answered {reply.status_code} to making bucket "
                             f"{self.media.bucket}")

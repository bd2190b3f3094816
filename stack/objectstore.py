"""The local object store media is kept in (SeaweedFS, built by scripts/bootstrap.sh into
.cache/bin/weed), when `PARLEY_MEDIA_S3_URL` names none: master, volume, filer and S3 gateway in
one process on 127.0.0.1, the S3 API on `PARLEY_OBJECTSTORE_PORT`.

Its keys are made on the first start and kept in the data folder (mode 0600), where the services
read them (`media.objects.local_keys`). Anonymous callers may read the media bucket's objects,
nothing else (not even list them): Envoy serves them at `/media/`.
"""

from __future__ import annotations

import asyncio
import json
import secrets
from pathlib import Path

import httpx

from media import objects
from runtime.secret_files import write_secret
from runtime.settings import Settings
from stack import processes

NAME = "objectstore"
#: The ports after the S3 port: master, its gRPC, volume, its gRPC, filer, its gRPC, S3's gRPC.
PORTS_AFTER = 7


def ready(settings: Settings) -> bool:
    """True when the S3 API answers (403 to an anonymous listing of the buckets)."""
    try:
        return httpx.get(f"{settings.media.endpoint}/", timeout=2).status_code in (200, 403)
    except httpx.HTTPError:
        return False


def _keys(settings: Settings) -> objects.Keys:
    """The local store's keys, made on the first start."""
    found = objects.local_keys(settings.data_dir)
    if found is not None:
        return found
    made = objects.Keys("parley" + secrets.token_hex(8), secrets.token_urlsafe(30))
    write_secret(settings.data_dir / objects.LOCAL_CREDENTIALS,
                 json.dumps({"access_key": made.access_key, "secret_key": made.secret_key}))
    return made


def _identities(settings: Settings, keys: objects.Keys) -> str:
    """SeaweedFS's S3 identities: Parley's keys may do everything, anyone may read the bucket."""
    return json.dumps({"identities": [
        {"name": "parley", "credentials": [{"accessKey": keys.access_key,
                                            "secretKey": keys.secret_key}],
         "actions": ["Admin", "Read", "Write", "List", "Tagging"]},
        {"name": "anonymous", "actions": [f"Read:{settings.media.bucket}"]}]})


async def _make_bucket(settings: Settings, keys: objects.Keys) -> None:
    async with httpx.AsyncClient(timeout=10) as http:
        await objects.ObjectStore(settings.media, keys, http).ensure_bucket()


def start(settings: Settings, cache_dir: Path) -> str:
    """Start the local object store unless media goes elsewhere or it runs; make its bucket."""
    if not settings.media.local:
        return f"using the S3 endpoint at {settings.media.endpoint}"
    data = settings.data_dir
    keys = _keys(settings)
    if processes.running_pid(data, NAME) is None or not ready(settings):
        binary = cache_dir / "bin" / "weed"
        if not binary.exists():
            raise processes.StartError("objectstore: SeaweedFS is not built (run scripts/bootstrap.sh)")
        home = data / NAME
        (home / "data").mkdir(parents=True, exist_ok=True)
        config = home / "s3.json"
        write_secret(config, _identities(settings, keys))
        port = settings.media.objectstore_port
        master, volume, filer = port + 1, port + 3, port + 5
        processes.start(data, NAME, [
            str(binary), "server", f"-dir={home / 'data'}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
            f"-master.port={master}", f"-master.port.grpc={master + 1}",
            f"-volume.port={volume}", f"-volume.port.grpc={volume + 1}",
            "-filer", f"-filer.port={filer}", f"-filer.port.grpc={filer + 1}",
            "-s3", f"-s3.port={port}", f"-s3.port.grpc={port + PORTS_AFTER}", f"-s3.config={config}",
            "-s3.port.iceberg=0", "-s3.port.lance=0", "-metricsPort=0",
            # Small volumes: a local install's media, not a data lake's.
            "-master.volumeSizeLimitMB=64", "-volume.max=16"])
        processes.wait_until(lambda: ready(settings), "its S3 API", 60, data, NAME)
        what = f"started on {settings.media.endpoint} (pid {processes.running_pid(data, NAME)})"
    else:
        what = "already running"
    asyncio.run(_make_bucket(settings, keys))
    return what

"""MediaService: media.upload. Thin: what a body carries is `media.uploads`, where it goes
`media.objects`."""

from __future__ import annotations

from parley.v1 import media_pb2, media_pb2_grpc
from media.objects import ObjectStore, StoreError
from media.uploads import upload_of
from runtime.errors import FailedPrecondition, InvalidArgument, Unavailable
from runtime.server import Ctx


class MediaServicer(media_pb2_grpc.MediaServiceServicer):
    """Stores uploaded files and answers their public URLs."""

    def __init__(self, store: ObjectStore | None, public_url: str, max_bytes: int) -> None:
        #: None: no object store is configured (an S3 endpoint without keys).
        self.store = store
        self.public_url = public_url.rstrip("/")
        self.max_bytes = max_bytes

    async def UploadMedia(self, request: media_pb2.UploadMediaRequest, context: Ctx) -> media_pb2.UploadMediaResponse:
        upload = upload_of(request.body.data, request.body.content_type)
        if len(upload.data) > self.max_bytes:
            raise InvalidArgument(f"the file is {len(upload.data)} bytes; at most {self.max_bytes} "
                                  "are taken (PARLEY_MEDIA_MAX_BYTES)")
        if self.store is None:
            raise FailedPrecondition("no object store is configured for media "
                                     "(PARLEY_MEDIA_S3_ACCESS_KEY and _SECRET_KEY)")
        name = upload.object_name
        try:
            await self.store.put(name, upload.data, upload.content_type)
        except StoreError as exc:
            raise Unavailable(str(exc)) from exc
        return media_pb2.UploadMediaResponse(
            media_url=f"{self.public_url}/{name}", name=name, content_type=upload.content_type,
            size=len(upload.data), filename=upload.filename)

"""SourceLookupsService: conversations.refetch and channels.facebook.explore, which ask a source's
own API (`PARLEY_<SOURCE>_API_URL`) and answer with what it said.

A contact's profile is stored as the conversation's `metadata.contact` (through Kafka, answered
once projected), so it reaches the event stream and webhooks as any metadata change does.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from messaging.connectors import config_for
from parley.v1 import lookups_pb2, lookups_pb2_grpc
from runtime import ids, topics
from runtime.errors import FailedPrecondition, InvalidArgument, NotFound, Unavailable
from runtime.partitioning import metadata_key
from runtime.server import Ctx
from sources import REGISTRY, facebook
from sources.inbound import TranslationError
from sources.outbound import Rejected, json_body
from store.client import CommandWriter, StoreReads, metadata_record

#: How long one call of a source's API may take.
TIMEOUT_S = 10.0


async def _ask(http: httpx.AsyncClient, request: httpx.Request) -> dict[str, Any]:
    """The JSON object a Graph API call answers; FailedPrecondition with Graph's message when it
    refuses, Unavailable when it fails or does not answer."""
    try:
        response = await http.send(request)
    except httpx.HTTPError as exc:
        raise Unavailable(f"the source's API did not answer: {type(exc).__name__}") from exc
    body = json_body(response)
    if response.is_success:
        return body
    failure = facebook.graph_failure(response, body)
    if isinstance(failure, Rejected):
        raise FailedPrecondition(f"the source's API refused: {failure.error}")
    raise Unavailable(f"the source's API failed: {failure.error}")


class SourceLookupsServicer(lookups_pb2_grpc.SourceLookupsServiceServicer):
    """Profiles and Pages from the sources' APIs."""

    def __init__(self, reads: StoreReads, commands: CommandWriter, http: httpx.AsyncClient) -> None:
        self.reads = reads
        self.commands = commands
        self.http = http

    async def RefetchConversation(self, request: lookups_pb2.RefetchConversationRequest, context: Ctx) -> lookups_pb2.RefetchConversationResponse:
        cid = request.conversation_id
        if not cid:
            raise InvalidArgument("conversation_id is required")
        state = await self.reads.conversation(cid)
        if state is None:
            raise NotFound(f"conversation {cid} not found")
        channel = await self.reads.channel(state["channel_id"])
        source = REGISTRY.get(state.get("source", ""))
        if source is None or source.profile is None:
            raise FailedPrecondition(f"source {state.get('source')!r} has no profile API to refetch from")
        if channel is None or not channel.channel.connected:
            raise FailedPrecondition(f"channel {state['channel_id']} is disconnected")
        api_url = config_for(channel.channel.source).api_url
        body = await _ask(self.http, source.profile.request(
            api_url, state.get("contact_source_id", ""), dict(channel.secrets)))
        profile = source.profile.read(body)
        told = {k: v for k, v in (("display_name", profile.display_name),
                                  ("avatar_url", profile.avatar_url)) if v}
        if told:
            await self.commands.write(topics.METADATA, metadata_key("conversation", cid),
                                      metadata_record("conversation", cid, {"contact": told}))
        return lookups_pb2.RefetchConversationResponse(display_name=profile.display_name,
                                                       avatar_url=profile.avatar_url)

    async def ExploreFacebookPages(self, request: lookups_pb2.ExploreFacebookPagesRequest, context: Ctx) -> lookups_pb2.ExploreFacebookPagesResponse:
        if not request.auth_token:
            raise InvalidArgument("auth_token is required")
        api_url = config_for(facebook.NAME).api_url
        found: list[facebook.ManagedPage] = []
        after = ""
        for _ in range(facebook.MAX_PAGE_CALLS):
            body = await _ask(self.http, facebook.pages_request(api_url, request.auth_token, after))
            try:
                pages, after = facebook.read_pages(body)
            except TranslationError as exc:
                raise Unavailable(f"the source's API answered what Parley cannot read: {exc}") from exc
            found += pages
            if not after:
                break
        channels = await asyncio.gather(*(self.reads.channel(ids.channel_id(facebook.NAME, page.page_id))
                                          for page in found))
        return lookups_pb2.ExploreFacebookPagesResponse(data=[
            lookups_pb2.FacebookPage(page_id=page.page_id, name=page.name, image_url=page.image_url,
                                     connected=channel is not None and channel.channel.connected)
            for page, channel in zip(found, channels)])

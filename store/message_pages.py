"""`messages.list`: one page of a conversation's messages (see `store.pages` for the order)."""

from __future__ import annotations

from dataclasses import dataclass


from parley.v1 import resources_pb2
from runtime.errors import InvalidArgument, NotFound
from runtime.redis import Client, PipelinedScript, unpacked
from store import pages, views
from store.keys import StoreKeys


@dataclass(frozen=True)
class MessagePage:
    """A page of messages and the cursors around it."""

    messages: list[resources_pb2.Message]
    page: pages.Page


#: KEYS: a conversation's message index. ARGV: a span's start and stop (`pages.LexSpan`), "1" to
#: read it newest first, the page size, then the key prefixes of the partition's messages and
#: message metadata documents. Answers (msgpack) the index's size, the members read (up to one
#: more than a page), then the stored record and metadata document of each member of the page.
_PAGE = PipelinedScript("""
local command = ARGV[3] == '1' and 'ZREVRANGEBYLEX' or 'ZRANGEBYLEX'
local size = tonumber(ARGV[4])
local members = redis.call(command, KEYS[1], ARGV[1], ARGV[2], 'LIMIT', 0, size + 1)
local found = {redis.call('ZCARD', KEYS[1]), members}
for i = 1, math.min(#members, size) do
  local id = string.sub(members[i], string.find(members[i], ':', 1, true) + 1)
  found[#found + 1] = redis.call('GET', ARGV[5] .. id)
  found[#found + 1] = redis.call('GET', ARGV[6] .. id)
end
return cmsgpack.pack(found)
""")


async def list_messages(
    redis: Client, keys: StoreKeys, conversation_id: str, cursor: str, page_size: int
) -> MessagePage:
    """The page of `conversation_id` at `cursor` (newest page when empty); NotFound if unknown.
    One round trip: the page's members, records and metadata in one script."""
    if not conversation_id:
        raise InvalidArgument("conversation_id is required")
    span = pages.LexSpan.of(cursor, page_size)
    part = keys.of_conversation(conversation_id)
    [answer] = await _PAGE.run(redis, [(
        [part.conversation_messages(conversation_id)],
        [span.start, span.stop, "1" if span.newest_first else "0", span.size, part.message(""),
         part.metadata("message", "")])])
    total, members, *stored = unpacked(answer)
    if total == 0:
        raise NotFound(f"conversation {conversation_id} not found")
    texts = [m.decode() for m in members or ()]
    page = span.page(texts, total)
    read = dict(zip(texts, zip(stored[0::2], stored[1::2])))
    messages = []
    for member in page.members:
        blob, document = read[member]
        if blob is not None:  # removed since it was listed (an echo replaced)
            messages.append(views.stored_message(blob, document))
    return MessagePage(messages=messages, page=page)

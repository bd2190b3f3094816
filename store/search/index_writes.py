"""The writes that keep one partition's search indexes in step with its conversations.

The projection (`store.projection`) makes them as it applies a batch, among the batch's own
writes (one script, `store.batch_script`). The index sets are scored by the conversation's last
activity, like the unfiltered list, so a filter on one index pages straight from it
(`store.search.set_algebra`); the name trigram indexes hold membership only, and `created` is
scored by creation time, for ranges. The terms are those queries are planned with
(`store.search.terms`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from store.batch_script import Command
from store.keys import PartitionKeys
from store.search.terms import meta_term, metadata_terms, name_grams
from store.views import default_display_name


@dataclass(frozen=True)
class IndexWrites:
    """Index writes of partition `part`, queued on `writes` (the batch's, in order)."""

    part: PartitionKeys
    writes: list[Command]

    def message(self, cid: str, channel_id: str, activity: int, before: dict[str, str],
                conversation: dict[str, str], document: dict[str, Any], unread: bool) -> None:
        """After a message of conversation `cid` on `channel_id` (its hash `before` the message
        and now, its metadata `document`, now at `activity`): its creation time, its channel,
        source, metadata and name indexes; and the unread index, joined when `unread`."""
        if before.get("created_at_ms") != conversation["created_at_ms"]:
            self._write("ZADD", self.part.created(), "LT", int(conversation["created_at_ms"]), cid)
        indexes = [self.part.index("channel", channel_id),
                   self.part.index("source", conversation["source"]),
                   *self._metadata_indexes(document)]
        for index in indexes:
            self._write("ZADD", index, "GT", activity, cid)
        # The default name is known with the first message, and changes once the contact's id is.
        self._rename(cid, _display_name(document, before) if before else "",
                     _display_name(document, conversation))
        # Unread: joined by an unread contact message; a conversation already in it moves along.
        self._write("ZADD", self.part.index("unread"), *(() if unread else ("XX",)), "GT",
                    activity, cid)

    def metadata_values(self, before: dict[str, Any], after: dict[str, Any]) -> None:
        """Register the texts a conversation's metadata holds now and did not `before`, which
        `metadata.<path>` wildcards and ranges read (`ValueMatch`)."""
        for path, text in metadata_terms(after)[1] - metadata_terms(before)[1]:
            self._write("ZADD", self.part.meta_values(path), 0, text)

    def metadata(self, cid: str, conversation: dict[str, str], activity: int,
                 before: dict[str, Any], after: dict[str, Any], unread_count: int | None) -> None:
        """After the metadata of conversation `cid` (hash `conversation`, at `activity`) changed
        from `before` to `after`: its name, tag, state and metadata indexes; and the unread
        index when its read marker moved (`unread_count`: its messages unread after it)."""
        self._rename(cid, _display_name(before, conversation), _display_name(after, conversation))
        old, new = set(self._metadata_indexes(before)), set(self._metadata_indexes(after))
        for index in new - old:
            self._write("ZADD", index, "GT", activity, cid)
        for index in old - new:
            self._write("ZREM", index, cid)
        if unread_count is None:
            return
        if unread_count:
            self._write("ZADD", self.part.index("unread"), "GT", activity, cid)
        else:
            self._write("ZREM", self.part.index("unread"), cid)

    def _write(self, *command: str | bytes | int) -> None:
        self.writes.append(command)

    def _metadata_indexes(self, document: dict[str, Any]) -> list[str]:
        """The tag, state and metadata path and value indexes of a conversation with metadata
        `document`."""
        tags = document.get("tags")
        state = document.get("state")
        paths, terms = metadata_terms(document)
        return [self.part.index("tag", t) for t in (tags if isinstance(tags, dict) else {})] + (
            [self.part.index("state", state)] if isinstance(state, str) else []) + [
            self.part.index("has", p) for p in sorted(paths)] + [
            self.part.index("meta", meta_term(*t)) for t in sorted(terms)]

    def _rename(self, cid: str, old: str, new: str) -> None:
        """Move conversation `cid` from the trigram indexes of display name `old` ("": none) to
        those of `new`. They only narrow a search (the answer is checked and ordered afterwards),
        so membership matters, not their scores."""
        if old == new:  # most messages: the name is only compared
            return
        old_grams, new_grams = name_grams(old), name_grams(new)
        for gram in sorted(new_grams - old_grams):
            self._write("ZADD", self.part.index("gram", gram), 0, cid)
        for gram in sorted(old_grams - new_grams):
            self._write("ZREM", self.part.index("gram", gram), cid)


def _display_name(document: dict[str, Any], conversation: dict[str, str]) -> str:
    """The display name of a conversation with metadata `document` and hash `conversation`."""
    contact = document.get("contact")
    name = contact.get("display_name") if isinstance(contact, dict) else None
    if not isinstance(name, str):
        name = default_display_name(conversation.get("source", ""),
                                    conversation.get("contact_source_id", ""))
    return name

"""ContactsService: the contacts of the conversations, their details, and merging them.

Every conversation's contact exists from its first message on (the projector records it); what
operators set (`contacts.update`) and merges are `ContactRecord`s on `parley.contacts`.
"""

from __future__ import annotations

from typing import Any, Literal, get_args

from google.protobuf import json_format, struct_pb2

from parley.v1 import contacts_pb2, contacts_pb2_grpc, records_pb2, resources_pb2
from runtime import timestamps, topics
from runtime.errors import InvalidArgument, NotFound
from store import entities, pages, views
from store.commands import CommandWriter
from store.keys import StoreKeys
from store.pages import pagination
from store.metadata import deep_merge
from runtime.server import Ctx
from runtime.redis import Client, text

#: The contact's text fields an operator sets; "" removes one. Literals, as `HasField` takes them.
TextField = Literal["display_name", "avatar_url", "title", "timezone", "gender", "locale",
                    "organization_name"]
TEXT_FIELDS: tuple[TextField, ...] = get_args(TextField)
ObjectField = Literal["via", "address", "metadata"]
OBJECT_FIELDS: tuple[ObjectField, ...] = get_args(ObjectField)


class ContactsServicer(contacts_pb2_grpc.ContactsServiceServicer):
    """contacts.list, .info, .update and .merge."""

    def __init__(self, redis: Client, keys: StoreKeys, commands: CommandWriter) -> None:
        self.redis = redis
        self.keys = keys
        self.commands = commands

    async def _load(self, contact_ids: list[str]) -> list[resources_pb2.Contact]:
        """The served contacts (unknown ones left out), in the order of `contact_ids`."""
        pipe = self.redis.pipeline(transaction=False)
        for contact_id in contact_ids:
            pipe.zscore(self.keys.contacts(), contact_id)
            pipe.get(self.keys.entity("contact", contact_id))
            pipe.hgetall(self.keys.contact_conversations(contact_id))
        found = await pipe.execute()
        contacts = []
        for i, contact_id in enumerate(contact_ids):
            seen, blob, conversations = found[3 * i: 3 * i + 3]
            if seen is None:
                continue
            contact = resources_pb2.Contact()
            if blob is not None:
                contact.CopyFrom(records_pb2.ContactRecord.FromString(blob).contact)
            contact.id = contact_id
            contact.created_at = timestamps.format_ms(int(seen))
            contact.conversations.clear()
            contact.conversations.update({k.decode(): v.decode() for k, v in conversations.items()})
            contacts.append(contact)
        await self._default_names(contacts)
        return contacts

    async def _default_names(self, contacts: list[resources_pb2.Contact]) -> None:
        # A contact nobody named is called like its first conversation's contact.
        unnamed = {c.id: sorted(c.conversations)[0] for c in contacts
                   if not c.display_name and c.conversations}
        if not unnamed:
            return
        found = await views.load_conversations(self.redis, self.keys, list(unnamed.values()))
        names = {c.id: _contact_name(c) for c in found}
        for contact in contacts:
            if contact.id in unnamed:
                contact.display_name = names.get(unnamed[contact.id], "")

    async def _one(self, contact_id: str) -> resources_pb2.Contact:
        if not contact_id:
            raise InvalidArgument("id is required")
        found = await self._load([contact_id])
        if not found:
            raise NotFound(f"contact {contact_id} not found")
        return found[0]

    async def _write(self, contact: resources_pb2.Contact, deleted: bool = False) -> None:
        record = records_pb2.ContactRecord(contact=contact, deleted=deleted)
        await self.commands.write(topics.CONTACTS, contact.id, record)

    async def ListContacts(self, request: contacts_pb2.ListContactsRequest, context: Ctx) -> contacts_pb2.ListContactsResponse:
        page = await pages.newest_first_by_score(
            self.redis, [self.keys.contacts()], request.cursor, request.page_size)
        ids = [pages.member_id(m) for m in reversed(page.members)]
        return contacts_pb2.ListContactsResponse(data=await self._load(ids),
                                                 pagination_data=pagination(page))

    async def GetContact(self, request: contacts_pb2.GetContactRequest, context: Ctx) -> resources_pb2.Contact:
        if request.conversation_id:
            found = await self.redis.get(self.keys.contact_of(request.conversation_id))
            if found is None:
                raise NotFound(f"conversation {request.conversation_id} not found")
            return await self._one(text(found))
        return await self._one(request.id)

    async def UpdateContact(self, request: contacts_pb2.UpdateContactRequest, context: Ctx) -> resources_pb2.Contact:
        contact = await self._one(request.id)
        stored = await entities.load_one(self.redis, self.keys, "contact", contact.id,
                                         records_pb2.ContactRecord)
        updated = stored.contact if stored is not None else resources_pb2.Contact(id=contact.id)
        for name in TEXT_FIELDS:
            if request.HasField(name):
                setattr(updated, name, getattr(request, name))
        for field in OBJECT_FIELDS:
            if request.HasField(field):
                getattr(updated, field).CopyFrom(getattr(request, field))
        await self._write(updated)
        return await self._one(contact.id)

    async def MergeContacts(self, request: contacts_pb2.MergeContactsRequest, context: Ctx) -> resources_pb2.Contact:
        if request.source_id == request.destination_id:
            raise InvalidArgument("source_id and destination_id must differ")
        source, destination = await self._one(request.source_id), await self._one(request.destination_id)
        merged = merge(source, destination)
        await self._write(merged)
        await self._write(resources_pb2.Contact(id=source.id), deleted=True)
        return await self._one(destination.id)


def _contact_name(conversation: resources_pb2.Conversation) -> str:
    """The name a served conversation's metadata gives its contact: `store.views` always sets
    one, which a metadata update may have turned into something else than text ("" then)."""
    contact = conversation.metadata["contact"]
    name = contact["display_name"] if isinstance(contact, struct_pb2.Struct) else None
    return name if isinstance(name, str) else ""


def merge(source: resources_pb2.Contact, destination: resources_pb2.Contact) -> resources_pb2.Contact:
    """`destination` with `source` merged in (pure): destination's fields win, its empty ones are
    filled from the source, conversations are united, the source is kept in `merge_history`."""
    merged = resources_pb2.Contact()
    merged.CopyFrom(destination)
    for name in TEXT_FIELDS:
        if not getattr(merged, name):
            setattr(merged, name, getattr(source, name))
    for field in OBJECT_FIELDS:
        combined: dict[str, Any] = deep_merge(json_format.MessageToDict(getattr(source, field)),
                                              json_format.MessageToDict(getattr(destination, field)))
        getattr(merged, field).Clear()
        getattr(merged, field).update(combined)
    for cid, src in source.conversations.items():
        merged.conversations.setdefault(cid, src)
    history = merged.merge_history.add()
    history.update(json_format.MessageToDict(source, preserving_proto_field_name=True))
    return merged

"""ContactsService: the contacts of the conversations, their details, merging them, and contacts
made by hand.

Every conversation's contact exists from its first message on (the projector records it); what
operators set (`contacts.update`), merges, contacts they create and delete are `ContactRecord`s
on `parley.contacts`.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any, Literal, get_args

from google.protobuf import json_format, struct_pb2

from parley.v1 import contacts_pb2, contacts_pb2_grpc, messages_pb2, records_pb2, resources_pb2
from runtime import timestamps, topics
from runtime.errors import AlreadyExists, InvalidArgument, NotFound
from store import entities, message_pages, pages, views
from store.commands import CommandWriter
from store.keys import StoreKeys
from store.pages import pagination
from store.reads import StoreReads
from store.metadata import deep_merge
from runtime.server import Ctx
from runtime.redis import Client, text

#: The contact's text fields an operator sets; "" removes one. Literals, as `HasField` takes them.
TextField = Literal["display_name", "avatar_url", "title", "timezone", "gender", "locale",
                    "organization_name"]
TEXT_FIELDS: tuple[TextField, ...] = get_args(TextField)
ObjectField = Literal["via", "address", "metadata"]
OBJECT_FIELDS: tuple[ObjectField, ...] = get_args(ObjectField)
#: Most contacts one contacts.import takes.
MAX_IMPORT = 1000


class ContactsServicer(contacts_pb2_grpc.ContactsServiceServicer):
    """contacts.list, .info, .update and .merge."""

    def __init__(self, redis: Client, keys: StoreKeys, commands: CommandWriter) -> None:
        self.redis = redis
        self.keys = keys
        self.commands = commands
        self.reads = StoreReads(redis, keys)

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
        await self._write_all([records_pb2.ContactRecord(contact=contact, deleted=deleted)])

    async def _write_all(self, records: list[records_pb2.ContactRecord]) -> None:
        await self.commands.write_all(topics.CONTACTS, [(r.contact.id, r) for r in records])

    async def _created(self, contacts: list[resources_pb2.Contact]) -> list[resources_pb2.Contact]:
        """Create `contacts` (checked by `new_contact`): each absorbs the contacts of the
        conversations it names, as a merge would. All or nothing."""
        now = timestamps.format_ms(timestamps.now_ms())
        ids = [c.id for c in contacts]
        if len(set(ids)) != len(ids):
            raise InvalidArgument("the contacts' ids must differ")
        taken = await self._load(ids)
        if taken:
            raise AlreadyExists(f"contact {taken[0].id} exists already")
        named = [cid for c in contacts for cid in c.conversations]
        owners = await self.redis.mget([self.keys.contact_of(cid) for cid in named]) if named else []
        unknown = [cid for cid, owner in zip(named, owners) if owner is None]
        if unknown:
            raise NotFound(f"conversation {unknown[0]} not found")
        if len(set(named)) != len(named):
            raise InvalidArgument("a conversation may be named by one contact only")
        absorbed = await self._load(sorted({text(o) for o in owners}))
        owner_of = {cid: contact for contact in absorbed for cid in contact.conversations}
        absorbers = {owner_of[cid].id: c.id for c in contacts for cid in c.conversations}
        shared = [cid for c in contacts for cid in c.conversations if absorbers[owner_of[cid].id] != c.id]
        if shared:  # each would take all of that contact's conversations
            raise InvalidArgument(f"conversation {shared[0]} has the same contact as one another "
                                  "new contact names; name them in one contact")
        records: list[records_pb2.ContactRecord] = []
        for contact in contacts:
            made = resources_pb2.Contact()
            made.CopyFrom(contact)
            made.created_at = now
            made.conversations.clear()
            for absorbed_contact in {owner_of[cid].id: owner_of[cid] for cid in contact.conversations}.values():
                made = merge(absorbed_contact, made)
                records.append(records_pb2.ContactRecord(
                    contact=resources_pb2.Contact(id=absorbed_contact.id), deleted=True))
            records.append(records_pb2.ContactRecord(contact=made))
        await self._write_all(records)
        return await self._load(ids)

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

    async def CreateContact(self, request: contacts_pb2.CreateContactRequest, context: Ctx) -> resources_pb2.Contact:
        [created] = await self._created([new_contact(request.contact)])
        return created

    async def ImportContacts(self, request: contacts_pb2.ImportContactsRequest, context: Ctx) -> contacts_pb2.ImportContactsResponse:
        if not 1 <= len(request.contacts) <= MAX_IMPORT:
            raise InvalidArgument(f"contacts.import takes 1 to {MAX_IMPORT} contacts, "
                                  f"got {len(request.contacts)}")
        contacts = []
        for i, contact in enumerate(request.contacts):
            try:
                contacts.append(new_contact(contact))
            except InvalidArgument as exc:
                raise InvalidArgument(f"contacts[{i}]: {exc}") from exc
        return contacts_pb2.ImportContactsResponse(data=await self._created(contacts))

    async def DeleteContact(self, request: contacts_pb2.DeleteContactRequest, context: Ctx) -> contacts_pb2.DeleteContactResponse:
        contact = await self._one(request.id)
        records = [records_pb2.ContactRecord(contact=resources_pb2.Contact(id=contact.id), deleted=True)]
        # Each conversation goes back to the contact it was made with, as it was made.
        for cid, source in sorted(contact.conversations.items()):
            state = await self.reads.conversation(cid)
            if state is None:
                continue
            made_with = records_pb2.ContactRecord(contact=resources_pb2.Contact(
                id=state["contact_id"], conversations={cid: source},
                created_at=timestamps.format_ms(int(state["created_at_ms"]))))
            stored = await entities.load_one(self.redis, self.keys, "contact", state["contact_id"],
                                             records_pb2.ContactRecord)
            if stored is not None and state["contact_id"] != contact.id:
                made_with.contact.MergeFrom(stored.contact)
            records.append(made_with)
        await self._write_all(records)
        return contacts_pb2.DeleteContactResponse()

    async def ListRecentMessages(self, request: contacts_pb2.ListRecentMessagesRequest, context: Ctx) -> contacts_pb2.ListRecentMessagesResponse:
        if not request.contact_id:
            raise InvalidArgument("contact_id is required")
        contact = await self._one(request.contact_id)
        wanted = [cid for cid, source in sorted(contact.conversations.items())
                  if not request.include_sources or source in request.include_sources]
        found = await asyncio.gather(*(message_pages.list_messages(
            self.redis, self.keys, cid, request.cursors.get(cid, ""), request.page_size)
            for cid in wanted))
        return contacts_pb2.ListRecentMessagesResponse(conversations={
            cid: messages_pb2.ListMessagesResponse(data=page.messages,
                                                   pagination_data=pagination(page.page))
            for cid, page in zip(wanted, found)})

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


def new_contact(contact: resources_pb2.Contact) -> resources_pb2.Contact:
    """`contact` as contacts.create takes it (pure): with a UUID id (a new one when it has
    none); InvalidArgument when it is empty, its id is not a UUID, or it sets what Parley sets."""
    if contact.created_at or contact.merge_history:
        raise InvalidArgument("created_at and merge_history are Parley's to set")
    made = resources_pb2.Contact()
    made.CopyFrom(contact)
    made.ClearField("id")
    if made.ByteSize() == 0:
        raise InvalidArgument("a contact needs at least one field")
    try:
        made.id = str(uuid.UUID(contact.id)) if contact.id else str(uuid.uuid4())
    except ValueError as exc:
        raise InvalidArgument(f"id must be a UUID, got {contact.id!r}") from exc
    return made

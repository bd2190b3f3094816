"""Instagram Messaging webhooks (`object: "instagram"`), one channel per Instagram account.

The `entry[].messaging[]` items have Messenger's shape (IGSID instead of PSID; echoes come with the
`messages` field; `messaging_seen` names the message read), so `sources.meta` reads them.

Sending: Instagram messaging through the Messenger Platform: the same Graph Send API as Messenger.

Follows https://developers.facebook.com/docs/messenger-platform/instagram/features/send-message:
POST `/me/messages?access_token=<token of the Page linked to the Instagram account>` with
`{"recipient": {"id": IGSID}, "message": ...}`, answered `{"recipient_id", "message_id"}`, errors
as Graph errors. Request, answer and conversation key are Messenger's, so they are reused.
"""

from __future__ import annotations

from functools import partial

from sources import facebook, meta
from sources.settings import meta_app
from sources.spec import ChannelKind, Source, Webhook

NAME = "instagram"
#: The webhook body's `object` for Instagram subscriptions.
OBJECT = "instagram"

#: Meta signs every webhook with the app secret (`meta.verify_signature`).
verify = meta.verify_signature
#: The IGSID when the body concerns one user, else the account id; "" for garbage.
routing_key = partial(meta.messaging_routing_key, expected_object=OBJECT)
#: Instagram messaging events as normalized events; `TranslationError` if unreadable.
translate = partial(meta.translate_messaging, NAME, OBJECT)

SOURCE = Source(
    name=NAME,
    translate=translate,
    webhook=Webhook(rpc="Instagram", verify=verify, routing_key=routing_key, handshake=True),
    # Instagram's webhooks name the Instagram account (entry.id), so the account keys the
    # channel; its linked Page's token sends.
    channels=(ChannelKind(source=NAME, label="Instagram",
                          required=("page_id", "account_id", "page_token"),
                          channel_key=lambda request: request.account_id,
                          secrets=("page_id", "page_token")),),
    # An IGSID exists only once the person wrote to the account: nobody new to write to.
    connector=facebook.GRAPH_SEND_API,
    profile=meta.graph_profile("name,username,profile_pic",
                               lambda body: next(iter(meta.texts(body, "name", "username")), "")),
    settings=meta_app(NAME, "Instagram"),
)

"""Facebook Messenger Platform webhooks (`object: "page"`), one channel per Page.

Messages, echoes of the Page's own messages, postbacks, delivery and read receipts and reactions
arrive as `entry[].messaging[]` items; `sources.meta` reads them (shared with Instagram).

Sending: Facebook Messenger: the Graph API Send API, with the Page access token.

Follows https://developers.facebook.com/docs/messenger-platform/reference/send-api: POST
`/me/messages?access_token=<page token>` with `{"recipient": {"id": PSID}, "message": ...,
"messaging_type": "RESPONSE"}`, answered `{"recipient_id", "message_id"}`. Errors are Graph errors,
https://developers.facebook.com/docs/graph-api/guides/error-handling: `{"error": {"message",
"type", "code", "error_subcode", "fbtrace_id"}}`. `graph_failure` reads them for Instagram and
WhatsApp Cloud too, which answer the same way.

Looking up: a person's profile (`GET /{PSID}?fields=first_name,last_name,profile_pic`, with the
Page token: https://developers.facebook.com/docs/messenger-platform/identity/user-profile) and the
Pages a user token manages (`GET /me/accounts`, paged by `paging.cursors.after`).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Any

import httpx

from sources import meta
from sources.outbound import (ConnectorConfig, Delivered, Outbound, Outcome, Rejected, Retry,
                              by_status, json_body)
from sources.settings import meta_app
from sources.spec import ChannelKind, Connector, Source, Webhook

NAME = "facebook"
#: The webhook body's `object` for Page subscriptions.
OBJECT = "page"


#: Meta signs every webhook with the app secret (`meta.verify_signature`).
verify = meta.verify_signature
#: The PSID when the body concerns one user, else the Page id; "" for garbage.
routing_key = partial(meta.messaging_routing_key, expected_object=OBJECT)
#: Messenger events as normalized events; `TranslationError` for an unreadable body.
translate = partial(meta.translate_messaging, NAME, OBJECT)


# Sending.

DEFAULT_API_URL = "https://graph.facebook.com/v19.0"

#: Graph error codes Meta documents as "wait and retry": unknown/service errors (1, 2), app, user,
#: page and custom rate limits (4, 17, 32, 613, 341), and WhatsApp's throughput and pair limits
#: (80007, 130429, 131056). Meta answers some of them with HTTP 400, so the code decides.
_TRANSIENT_CODES = frozenset({1, 2, 4, 17, 32, 341, 613, 80007, 130429, 131056})


def conversation_key(recipient: str) -> str:
    """The PSID as given: ingest keys a Messenger conversation by the user's PSID as well."""
    return recipient


def request(outbound: Outbound, config: ConnectorConfig) -> httpx.Request:
    """POST `{api_url}/me/messages` answering the user (`messaging_type` RESPONSE).

    Content that is not an object is sent as text, so Graph gets a message it can read."""
    content = outbound.content
    message = content if isinstance(content, dict) else {"text": str(content)}
    return httpx.Request(
        "POST",
        f"{config.api_url}/me/messages",
        # A missing token is Graph's to refuse (a Rejected outcome); raising here would not end.
        params={"access_token": outbound.secrets.get("page_token", "")},
        json={"recipient": {"id": outbound.recipient}, "message": message,
              "messaging_type": "RESPONSE"},
    )


def outcome(response: httpx.Response) -> Outcome:
    """Delivered under the answer's `message_id`, else the Graph error."""
    body = json_body(response)
    message_id = body.get("message_id")
    if response.is_success and isinstance(message_id, str) and message_id:
        return Delivered(message_id)
    return graph_failure(response, body)


def graph_failure(response: httpx.Response, body: dict[str, Any]) -> Rejected | Retry:
    """A Graph API failure with Graph's own `error.message` (and WhatsApp's `error_data.details`),
    to retry when its status or its documented error code says it is transient."""
    error = body.get("error")
    error = error if isinstance(error, dict) else {}
    message = error.get("message")
    text = message if isinstance(message, str) else ""
    data = error.get("error_data")
    details = data.get("details") if isinstance(data, dict) else None
    if isinstance(details, str) and details and details not in text:
        text = f"{text}: {details}" if text else details
    failure = by_status(response, text)
    if isinstance(failure, Rejected) and error.get("code") in _TRANSIENT_CODES:
        return Retry(failure.error)
    return failure


# Exploring the Pages a user may connect (channels.facebook.explore).

#: Pages asked for per Graph call, and the most calls one exploration makes.
PAGES_PER_CALL = 100
MAX_PAGE_CALLS = 10


@dataclass(frozen=True)
class ManagedPage:
    """A Page a user token manages: its id, name and picture ("" : none)."""

    page_id: str
    name: str
    image_url: str


def pages_request(api_url: str, user_token: str, after: str = "") -> httpx.Request:
    """`GET {api_url}/me/accounts`: the Pages the user manages, from cursor `after`."""
    params = {"fields": "id,name,picture{url}", "limit": str(PAGES_PER_CALL),
              "access_token": user_token}
    return httpx.Request("GET", f"{api_url}/me/accounts", params={**params, "after": after}
                         if after else params)


def read_pages(body: dict[str, Any]) -> tuple[list[ManagedPage], str]:
    """The Pages of a `/me/accounts` answer, and the cursor of the next ones ("" : no more)."""
    pages = []
    for item in meta.dict_list(body.get("data", []), "data"):
        picture = item.get("picture")
        data = picture.get("data") if isinstance(picture, dict) else None
        url = data.get("url") if isinstance(data, dict) else None
        name = item.get("name")
        pages.append(ManagedPage(meta.text_id(item.get("id")), name if isinstance(name, str) else "",
                                 url if isinstance(url, str) else ""))
    paging = body.get("paging")
    paging = paging if isinstance(paging, dict) else {}
    cursors = paging.get("cursors")
    after = cursors.get("after") if isinstance(cursors, dict) and paging.get("next") else None
    return [page for page in pages if page.page_id], after if isinstance(after, str) else ""


#: Messenger's connector, which Instagram shares. A PSID exists only once the person wrote to the
#: Page, so there is nobody new to write to.
GRAPH_SEND_API = Connector(default_api_url=DEFAULT_API_URL, request=request, outcome=outcome,
                           conversation_key=conversation_key)

SOURCE = Source(
    name=NAME,
    translate=translate,
    webhook=Webhook(rpc="Facebook", verify=verify, routing_key=routing_key, handshake=True),
    channels=(ChannelKind(source=NAME, label="Facebook", required=("page_id", "page_token"),
                          channel_key=lambda request: request.page_id, secrets=("page_token",)),),
    connector=GRAPH_SEND_API,
    profile=meta.graph_profile("first_name,last_name,profile_pic",
                               lambda body: " ".join(meta.texts(body, "first_name", "last_name"))),
    settings=meta_app(NAME, "Messenger"),
)

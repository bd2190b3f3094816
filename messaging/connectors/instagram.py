"""Instagram messaging through the Messenger Platform: the same Graph Send API as Messenger.

Follows https://developers.facebook.com/docs/messenger-platform/instagram/features/send-message:
POST `/me/messages?access_token=<token of the Page linked to the Instagram account>` with
`{"recipient": {"id": IGSID}, "message": ...}`, answered `{"recipient_id", "message_id"}`, errors
as Graph errors. Request, answer and conversation key are Messenger's, so they are reused.
"""

from __future__ import annotations

from messaging.connectors.facebook import DEFAULT_API_URL, conversation_key, outcome, request

__all__ = ["CAN_START_CONVERSATIONS", "DEFAULT_API_URL", "SOURCES", "conversation_key",
           "outcome", "request"]

SOURCES = ("instagram",)
#: An IGSID exists only once the person wrote to the account.
CAN_START_CONVERSATIONS = False

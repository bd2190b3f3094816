"""Visitor and resume tokens: they name one conversation, expire, and are refused when tampered
with, signed with another key, or used as the other kind."""

from __future__ import annotations

import time

import jwt
import pytest

from gateway.visitor_tokens import RESUME, VISITOR, Visitor, VisitorTokens
from runtime.errors import Unauthenticated

TOKENS = VisitorTokens(b"install-key-of-at-least-32-bytes!", visitor_ttl_s=60, resume_ttl_s=3600)
VISITOR_1 = Visitor("channel-1", "site-1", "visitor-1", since="1700000000000-0")


def test_a_token_reads_back_as_its_visitor() -> None:
    now = int(time.time())
    read = TOKENS.read(TOKENS.issue(VISITOR_1, VISITOR, now_s=now), VISITOR)
    assert read == VISITOR_1 and read.expires_at_s == now + 60
    # A resume token carries no stream position: it starts new sessions.
    resumed = TOKENS.read(TOKENS.issue(VISITOR_1, RESUME), RESUME)
    assert resumed == Visitor("channel-1", "site-1", "visitor-1", since="")


@pytest.mark.parametrize(("token", "message"), [
    ("", "a visitor token is required"),
    ("not-a-jwt", "not valid"),
    (TOKENS.issue(VISITOR_1, VISITOR, now_s=time.time() - 120), "has expired"),
    (VisitorTokens(b"another-key-of-at-least-32-bytes").issue(VISITOR_1, VISITOR), "not valid"),
    (TOKENS.issue(VISITOR_1, RESUME), "not a resume token"),
    (jwt.encode({"typ": "visitor", "ch": "c", "sc": "s", "vi": "another-visitor",
                 "exp": int(time.time()) + 60}, "a-guessed-key-of-at-least-32-byte", algorithm="HS256"), "not valid"),
    (jwt.encode({"typ": "visitor", "ch": "c", "sc": "s", "vi": "v",
                 "exp": int(time.time()) + 60}, None, algorithm="none"), "not valid"),
])
def test_bad_tokens_are_unauthenticated(token: str, message: str) -> None:
    with pytest.raises(Unauthenticated, match=message):
        TOKENS.read(token, VISITOR)

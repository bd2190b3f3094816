"""The shared Meta checks: X-Hub-Signature-256, the GET handshake, the envelope readers."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from sources import meta
from sources.inbound import (
    SignatureInvalid,
    SignatureMissing,
    SourceConfig,
    TranslationError,
    WebhookRequest,
)

SECRET = "a3b1c5d7e9f10203a4b5c6d7e8f90a1b"
CONFIG = SourceConfig(app_secret=SECRET, verify_token="parley-verify-token")
BODY = b'{"object":"page","entry":[{"id":"682498302938465","time":1458692752478,"messaging":[]}]}'


def sign(body: bytes, secret: str = SECRET) -> str:
    """The X-Hub-Signature-256 value Meta sends for `body` (used by every Meta source's tests)."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def signed_request(body: bytes, signature: str | None) -> WebhookRequest:
    headers = {} if signature is None else {"x-hub-signature-256": signature}
    return WebhookRequest(body=body, headers=headers, url="https://parley.example.com/facebook")


def test_a_correct_signature_passes() -> None:
    meta.verify_signature(signed_request(BODY, sign(BODY)), CONFIG)


def test_a_signature_in_upper_case_hex_passes() -> None:
    signature = sign(BODY)
    meta.verify_signature(signed_request(BODY, "sha256=" + signature[7:].upper()), CONFIG)


@pytest.mark.parametrize("signature", [None, "", "   "])
def test_no_signature_is_missing(signature: str | None) -> None:
    with pytest.raises(SignatureMissing):
        meta.verify_signature(signed_request(BODY, signature), CONFIG)


@pytest.mark.parametrize(
    "signature",
    [
        sign(BODY, "another-secret"),  # wrong key
        sign(BODY + b" "),  # body changed by one byte
        sign(BODY)[7:],  # no sha256= prefix
        "sha1=" + hmac.new(SECRET.encode(), BODY, hashlib.sha1).hexdigest(),  # legacy header form
        "sha256=zz",
        "sha256=é" + "0" * 63,  # non-ASCII must not raise TypeError
    ],
)
def test_a_wrong_or_malformed_signature_is_invalid(signature: str) -> None:
    with pytest.raises(SignatureInvalid):
        meta.verify_signature(signed_request(BODY, signature), CONFIG)


def test_an_unconfigured_app_secret_rejects_even_a_signature_made_with_the_empty_key() -> None:
    with pytest.raises(SignatureInvalid):
        meta.verify_signature(signed_request(BODY, sign(BODY, "")), SourceConfig())


def test_the_handshake_returns_the_challenge() -> None:
    assert meta.verify_subscription("subscribe", "parley-verify-token", "1158201444", CONFIG) == (
        "1158201444"
    )


@pytest.mark.parametrize(
    ("mode", "token", "config"),
    [
        ("subscribe", "wrong-token", CONFIG),
        ("unsubscribe", "parley-verify-token", CONFIG),
        ("", "parley-verify-token", CONFIG),
        ("subscribe", "", SourceConfig(app_secret=SECRET)),  # empty configured token never matches
        ("subscribe", "é", CONFIG),
    ],
)
def test_the_handshake_refuses_a_wrong_mode_or_token(
    mode: str, token: str, config: SourceConfig
) -> None:
    with pytest.raises(SignatureInvalid):
        meta.verify_subscription(mode, token, "1158201444", config)


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"not json",
        b"\xff\xfe garbage",
        b"[]",
        b'{"object":"instagram","entry":[{"id":"1"}]}',  # another source's object
        b'{"object":"page"}',
        b'{"object":"page","entry":[]}',
        b'{"object":"page","entry":{"id":"1"}}',
        b'{"object":"page","entry":["1"]}',
        b"[" * 100_000,
    ],
)
def test_an_unreadable_envelope_is_a_translation_error(body: bytes) -> None:
    with pytest.raises(TranslationError):
        meta.load_entries(body, "page")


def test_big_integers_stay_exact_as_strings() -> None:
    entries = meta.load_entries(b'{"object":"page","entry":[{"id":5741311803571721087}]}', "page")
    assert meta.text_id(entries[0]["id"]) == "5741311803571721087"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1458692752478, 1458692752478),
        ("1504902988", 1504902988),
        (True, None),
        ("12a", None),
        (None, None),
        (1.5, None),
    ],
)
def test_as_int_reads_numbers_and_decimal_text(value: object, expected: int | None) -> None:
    assert meta.as_int(value) == expected

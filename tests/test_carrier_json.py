"""The JSON carriers (Telnyx, Bandwidth, Sinch, Vonage, and the Vonage SMS API's JSON variant) read a
webhook's body through ``WebhookRequest.json_body``.

The body is decoded once per request, however many of ``verify``, ``parse`` and ``parse_receipts``
read it (the webhook handler calls ``parse`` and ``parse_receipts`` both for carriers that post
messages and receipts to one URL); a message and a receipt parse as before; and a body that is not
JSON, not UTF-8 or not the JSON the carrier expects is refused with each carrier's own 400, the same
from every call.
"""

from __future__ import annotations

import codecs
import dataclasses
import json
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.carriers.base import DeliveryReceipt, JsonBodyError, WebhookError, WebhookRequest
from bot.carriers.vonage_sms import compute_signature as vonage_sms_signature
from bot.types import InboundMedia, InboundMessage
from tests.harness_carriers import ENV, JSON, NOW, adapters, inbound, receipt, sign

URL = "https://sms.example.com/webhooks/"
NAMES = ("bandwidth", "sinch", "telnyx", "vonage", "vonage-sms")
CARRIERS = {adapter.name: adapter.carrier for adapter in adapters() if adapter.name in NAMES}
# The Vonage adapters hand json.loads the bytes, as they always have (see WebhookRequest.json_body).
DETECTS = {"vonage", "vonage-sms"}
DEEP = b"[" * 100_000 + b"]" * 100_000


class CountingBody(bytes):
    """A request body that counts its decodes (json.loads of bytes decodes them too)."""

    decodes = 0

    def decode(self, encoding: str = "utf-8", errors: str = "strict") -> str:
        self.decodes += 1
        return super().decode(encoding, errors)


def body_of(name: str, kind: str) -> bytes:
    """The harness's example message or receipt; for Vonage SMS its parameters as a JSON object."""
    _, body = inbound(name) if kind == "inbound" else receipt(name)
    if name == "vonage-sms":
        body = json.dumps(dict(parse_qsl(body.decode()))).encode()
    return body


def signed(name: str, body: bytes, body_type: type[bytes] = bytes) -> WebhookRequest:
    if name == "vonage-sms":  # the harness signs its form variant; the JSON one carries sig and timestamp too
        params = {**json.loads(body), "timestamp": str(int(NOW))}
        params["sig"] = vonage_sms_signature(params, ENV["VONAGE_SMS_SIGNATURE_SECRET"], "md5hash")
        headers, body = {"Content-Type": JSON}, json.dumps(params).encode()
    else:
        headers, body = sign(name, URL + name, JSON, body, NOW)
    return WebhookRequest("POST", URL + name, headers, body_type(body), JSON, NOW)


def unsigned(name: str, body: bytes) -> WebhookRequest:
    return WebhookRequest("POST", URL + name, {}, body, JSON, NOW)


# -- WebhookRequest.json_body --------------------------------------------------------------------


def test_the_value_is_parsed_once_and_kept() -> None:
    request = WebhookRequest("POST", URL, {}, CountingBody(b'{"a": [1, {"b": "\\u00e9"}], "c": null}'), JSON, NOW)
    value = request.json_body()
    assert value == {"a": [1, {"b": "é"}], "c": None}
    assert request.json_body() is value  # the very object: not parsed again
    assert isinstance(request.body, CountingBody) and request.body.decodes == 1
    assert request == WebhookRequest("POST", URL, {}, request.body, JSON, NOW)  # the cache is no field
    assert "_json" not in repr(request)
    assert dataclasses.replace(request, body=b"[]").json_body() == []  # a copy reads its own body


def test_null_is_kept_too() -> None:
    request = WebhookRequest("POST", URL, {}, CountingBody(b"null"), JSON, NOW)
    assert request.json_body() is None and request.json_body() is None
    assert isinstance(request.body, CountingBody) and request.body.decodes == 1


@pytest.mark.parametrize("body", [codecs.BOM_UTF8 + b"[1]", "[1]".encode("utf-16"), "[1]".encode("utf-32-be")])
def test_strict_utf8_and_detected_encodings_are_kept_apart(body: bytes) -> None:
    """The default refuses what only json.loads's own detection reads; either order, on one request."""
    request = unsigned("any", body)
    for _ in range(2):
        with pytest.raises(JsonBodyError):
            request.json_body()
        value = request.json_body(detect_encoding=True)
        assert value == [1] and request.json_body(detect_encoding=True) is value


def test_a_refusal_says_why_and_is_not_kept() -> None:
    cases: list[tuple[bytes, int | None, bool]] = [(b'["\xed\xa0\x80"]', 2, False), (b"{", None, False),
                                                   (DEEP, None, True)]  # fmt: skip
    for body, undecodable_at, too_deep in cases:
        request = unsigned("any", body)
        for _ in range(2):
            with pytest.raises(JsonBodyError) as refused:
                request.json_body()
            assert (refused.value.undecodable_at, refused.value.too_deep) == (undecodable_at, too_deep)


def _reading(call: Callable[[], object]) -> tuple[str, str]:
    try:
        return "value", repr(call())
    except (ValueError, RecursionError) as exc:  # JsonBodyError is a ValueError
        return "refused", str(exc)


JSON_TEXT = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3),
    max_leaves=8,
).map(json.dumps)


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.binary(max_size=40), JSON_TEXT.map(str.encode), JSON_TEXT.map(lambda t: t.encode("utf-16")),
                 JSON_TEXT.map(lambda t: codecs.BOM_UTF8 + t.encode())))  # fmt: skip
def test_json_body_is_json_loads(body: bytes) -> None:
    """What json.loads gives (of the decoded text, or of the bytes), and where it refuses, the same reason."""
    request = unsigned("any", body)
    assert _reading(request.json_body) == _reading(lambda: json.loads(body.decode("utf-8")))
    assert _reading(lambda: request.json_body(detect_encoding=True)) == _reading(lambda: json.loads(body))


# -- each carrier: decoded once, per request ----------------------------------------------------

# A string of the parsed body that the carrier's result carries as is: the result holds that very
# object only if the carrier read the kept value (each json.loads makes new strings).
MESSAGE_FIELD: dict[str, tuple[Callable[[Any], object], str]] = {
    "bandwidth": (lambda value: value[0]["message"]["from"], "customer"),
    "sinch": (lambda value: value["to"], "business"),
    "telnyx": (lambda value: value["data"]["id"], "provider_id"),
    "vonage": (lambda value: value["message_uuid"], "provider_id"),
    "vonage-sms": (lambda value: value["messageId"], "provider_id"),
}
RECEIPT_ID: dict[str, Callable[[Any], object]] = {
    "bandwidth": lambda value: value[0]["message"]["id"],
    "sinch": lambda value: value["batch_id"],
    "telnyx": lambda value: value["data"]["payload"]["id"],
    "vonage": lambda value: value["message_uuid"],
    "vonage-sms": lambda value: value["messageId"],
}


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("kind", ["inbound", "receipt"])
def test_verify_parse_and_receipts_decode_the_body_once(name: str, kind: str) -> None:
    carrier = CARRIERS[name]
    request = signed(name, body_of(name, kind), CountingBody)
    carrier.verify(request)
    for _ in range(2):
        carrier.parse(request)
        carrier.parse_receipts(request)
    assert isinstance(request.body, CountingBody) and request.body.decodes == 1
    assert request.json_body(name in DETECTS) == json.loads(request.body)  # read, never changed


@pytest.mark.parametrize("name", NAMES)
def test_parse_and_parse_receipts_read_the_kept_value(name: str) -> None:
    carrier, detect = CARRIERS[name], name in DETECTS
    message_request, receipt_request = (unsigned(name, body_of(name, kind)) for kind in ("inbound", "receipt"))
    (message,) = carrier.parse(message_request)
    carrier.parse_receipts(message_request)
    where, attribute = MESSAGE_FIELD[name]
    assert getattr(message, attribute) is where(message_request.json_body(detect))
    (delivery,) = carrier.parse_receipts(receipt_request)
    carrier.parse(receipt_request)
    assert delivery.provider_id is RECEIPT_ID[name](receipt_request.json_body(detect))


MESSAGES = {
    "bandwidth": InboundMessage("bandwidth", "14762070468291:message-received", "+12345678901", "+12345678902",
                                "hi there", (InboundMedia("https://messaging.bandwidth.com/api/v2/users/1/media/bw.png",
                                                          "image/png"),)),
    "sinch": InboundMessage("sinch", "01FC66621V1", "+12345678901", "12345", "hi there",
                            (InboundMedia("https://sinch.example/a.jpg", "image/jpeg"),)),
    "telnyx": InboundMessage("telnyx", "b301ed3f-1", "+18665550001", "+18445550001", "hi there",
                             (InboundMedia("https://media.telnyx.com/1/photo.jpg", "image/jpeg"),)),
    "vonage": InboundMessage("vonage", "aaaaaaaa-bbbb-cccc-dddd-1", "+15555550123", "+15555550100", "hi there\nrouter",
                             (InboundMedia("https://api-us.nexmo.com/v3/media/0a1b.jpg", "image/jpeg"),
                              InboundMedia("https://x.example/v.mp4", "video/mp4"))),
    "vonage-sms": InboundMessage("vonage-sms", "0A001", "+15555550123", "+15555550100", "hi there"),
}  # fmt: skip
RECEIPTS = {
    "bandwidth": DeliveryReceipt("bandwidth", "1589228074636lm4k2je7j7jklbn2", "failed", "4432", False,
                                 "+12345678901", "+12345678902"),
    "sinch": DeliveryReceipt("sinch", "01FC66621XXXXX119Z8PMV1QPQ", "sent", "", False, "+12345678901", ""),
    "telnyx": DeliveryReceipt("telnyx", "40385f64-5717", "undelivered", "40300", True, "+18665550001",
                              "+18445550001"),
    "vonage": DeliveryReceipt("vonage", "cccccccc-bbbb-cccc-dddd-0123456789ab", "failed", "1320", False,
                              "+15555550123", "+15555550100"),
    "vonage-sms": DeliveryReceipt("vonage-sms", "0A0000000123ABCD2", "failed", "6", False, "+15555550123",
                                  "+15555550100"),
}  # fmt: skip


@pytest.mark.parametrize("name", NAMES)
def test_a_message_and_a_receipt_parse_as_before(name: str) -> None:
    """Each webhook in both call orders: the message from parse only, the receipt from parse_receipts only."""
    carrier = CARRIERS[name]
    for receipts_first in (False, True):
        message_request, receipt_request = (signed(name, body_of(name, kind)) for kind in ("inbound", "receipt"))
        for request in (message_request, receipt_request):
            carrier.verify(request)
            if receipts_first:
                carrier.parse_receipts(request)
        assert (list(carrier.parse(message_request)), list(carrier.parse_receipts(message_request))) == (
            [MESSAGES[name]], [])
        assert (list(carrier.parse(receipt_request)), list(carrier.parse_receipts(receipt_request))) == (
            [], [RECEIPTS[name]])


# -- malformed bodies: each carrier's own 400, from every call ------------------------------------


def _recursion_text() -> str:
    try:
        json.loads(DEEP)
    except RecursionError as exc:
        return str(exc)
    raise AssertionError("DEEP should be too deep for json.loads")


TOO_DEEP = _recursion_text()
BOM = "Unexpected UTF-8 BOM (decode using utf-8-sig): line 1 column 1 (char 0)"
NO_NAME = "Expecting property name enclosed in double quotes: line 1 column 2 (char 1)"
UNDECODABLE = "'utf-8' codec can't decode byte 0xff in position 0: invalid start byte"
MALFORMED = [  # (carrier, body, code, message)
    ("bandwidth", b"\xff", "invalid_encoding", "the body is not valid UTF-8 (byte 0)"),
    ("bandwidth", b'[{"type": "\xed\xa0\x80"}]', "invalid_encoding", "the body is not valid UTF-8 (byte 11)"),
    ("bandwidth", "[]".encode("utf-16"), "invalid_encoding", "the body is not valid UTF-8 (byte 0)"),
    ("bandwidth", b"[{]", "invalid_json", "the body is not valid JSON: Expecting property name enclosed in double "
                                          "quotes: line 1 column 3 (char 2)"),
    ("bandwidth", b"", "invalid_json", "the body is not valid JSON: Expecting value: line 1 column 1 (char 0)"),
    ("bandwidth", codecs.BOM_UTF8 + b"[]", "invalid_json", f"the body is not valid JSON: {BOM}"),
    ("bandwidth", DEEP, "invalid_json", "the JSON body is nested too deeply"),
    ("bandwidth", b"{}", "invalid_json", "the body should be a JSON array of Bandwidth events"),
    ("bandwidth", b"[1]", "invalid_field", "[0] should be a JSON object"),
    ("sinch", b"\x80", "invalid_encoding", "the body is not valid UTF-8 (byte 0)"),
    ("sinch", b"{", "invalid_json", f"the body is not valid JSON: {NO_NAME}"),
    ("sinch", codecs.BOM_UTF8 + b"{}", "invalid_json", f"the body is not valid JSON: {BOM}"),
    ("sinch", DEEP, "invalid_json", "the JSON body is nested too deeply"),
    ("sinch", b"[]", "invalid_field", "the body should be a JSON object"),
    ("sinch", b"null", "missing_field", "the body should be a JSON object"),
    ("telnyx", b"\xff\xfe", "invalid_encoding", "the body is not valid UTF-8 (byte 0)"),
    ("telnyx", b"{not json", "invalid_json", f"the body is not valid JSON: {NO_NAME}"),
    ("telnyx", DEEP, "invalid_json", "the JSON body is nested too deeply"),
    ("telnyx", b"[]", "invalid_field", "the body should be a JSON object"),
    ("telnyx", b'{"data": []}', "invalid_field", "data should be a JSON object"),
    ("vonage", b"\xff", "invalid_json", f"the body is not valid JSON: {UNDECODABLE}"),
    ("vonage", b"{", "invalid_json", f"the body is not valid JSON: {NO_NAME}"),
    ("vonage", DEEP, "invalid_json", f"the body is not valid JSON: {TOO_DEEP}"[:200]),
    ("vonage", b"[]", "invalid_json", "the body should be a JSON object"),
    ("vonage-sms", b"\xff", "invalid_body", f"the parameters could not be read: {UNDECODABLE}"),
    ("vonage-sms", b"{", "invalid_body", f"the parameters could not be read: {NO_NAME}"),
    ("vonage-sms", DEEP, "invalid_body", f"the parameters could not be read: {TOO_DEEP}"[:200]),
    ("vonage-sms", b"[]", "invalid_json", "the JSON body should be an object"),
    ("vonage-sms", b'{"data": {}}', "invalid_field", "parameter 'data' should be a string, not a JSON object or list"),
]  # fmt: skip


@pytest.mark.parametrize(("name", "body", "code", "message"), MALFORMED,
                         ids=[f"{name}-{body[:12]!r}" for name, body, _, _ in MALFORMED])  # fmt: skip
def test_a_malformed_body_is_the_carriers_own_400(name: str, body: bytes, code: str, message: str) -> None:
    carrier = CARRIERS[name]
    request = unsigned(name, body)
    calls = [carrier.parse, carrier.parse_receipts, carrier.parse]  # a refusal is not cached away
    if name == "vonage-sms":  # its parameters carry the signature, so verify reads them first
        calls.append(carrier.verify)
    for call in calls:
        with pytest.raises(WebhookError) as refused:
            call(request)
        assert (refused.value.status, refused.value.code, refused.value.message) == (400, code, message)


@pytest.mark.parametrize("name", sorted(DETECTS))
@pytest.mark.parametrize("encode", [lambda text: codecs.BOM_UTF8 + text.encode(), lambda text: text.encode("utf-16")])
def test_the_vonage_adapters_still_read_what_json_loads_reads(name: str, encode: Callable[[str], bytes]) -> None:
    """A UTF-8 BOM or UTF-16, which the other JSON carriers refuse, parses as it always has here."""
    body = encode(body_of(name, "inbound").decode())
    assert list(CARRIERS[name].parse(unsigned(name, body))) == [MESSAGES[name]]

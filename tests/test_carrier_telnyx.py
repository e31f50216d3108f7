"""Tests for bot.carriers.telnyx: Ed25519 vectors (carriers.md §5.2, §13), captured-shape
events, receipts, the REST request we build, send-response handling, and a fuzzed parser.

Signatures are made in the tests with ``cryptography``'s Ed25519 private keys (the RFC 8032
TEST 1 key for the derived vector, fresh keys otherwise), never with our verifier.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.carriers.base import WebhookError, WebhookRequest
from bot.carriers.telnyx import TIMESTAMP_TOLERANCE, TelnyxCarrier, load_public_key
from bot.types import InboundMedia, Reply

NOW = 1_700_000_000.0
MEDIA_BASE = "https://sms.example.com/media"
API_KEY = "KEY0123456789ABCDEF"
KEY = Ed25519PrivateKey.generate()

# RFC 8032 §7.1 TEST 1 and the [DERIVED] Telnyx vector made with its key (carriers.md §5.2).
RFC_SECRET = bytes.fromhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
RFC_PUBLIC_HEX = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"
RFC_EMPTY_SIGNATURE = bytes.fromhex(
    "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"
)
VECTORS = {
    "derived-rfc8032-test1": (
        "11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=",
        "1700000000",
        b'{"data":{"event_type":"message.received","id":"00000000-0000-0000-0000-000000000001",'
        b'"payload":{"text":"HELP"}}}',
        "GO6bDdcMRJu/vIOAZQkZnS+9fYjJJ2pDaIrbc5+6V/qpnhyptqL1QUU2+boP/vKT0KPhvd33elb8ayLm7sa3Ag==",
    ),
}

# Captured shape of an inbound SMS (apispec.telnyx.com example, §5.1), with the envelope's meta.
INBOUND_SMS: dict[str, Any] = {
    "data": {
        "event_type": "message.received",
        "id": "b301ed3f-1490-491f-995f-6e64e69674d4",
        "occurred_at": "2024-01-15T20:16:07.588+00:00",
        "payload": {
            "cc": [],
            "completed_at": None,
            "cost": None,
            "direction": "inbound",
            "encoding": "GSM-7",
            "errors": [],
            "from": {"carrier": "T-MOBILE USA, INC.", "line_type": "Wireless", "phone_number": "+18665550001"},
            "id": "7ee4241c-f127-47e5-9c34-3aac291f8058",
            "media": [],
            "messaging_profile_id": "740572b6-099c-44a1-89b9-6c92163bc68d",
            "organization_id": "47a530f8-4362-4526-829b-bcee17fd9f7a",
            "parts": 1,
            "received_at": "2024-01-15T20:16:07.503+00:00",
            "record_type": "message",
            "sent_at": None,
            "subject": "",
            "tags": [],
            "text": "Hello, World!",
            "to": [
                {
                    "carrier": "Telnyx",
                    "line_type": "Wireless",
                    "phone_number": "+18445550001",
                    "status": "webhook_delivered",
                }
            ],
            "type": "SMS",
            "valid_until": None,
            "webhook_failover_url": None,
            "webhook_url": "https://sms.example.com/webhooks/telnyx",
        },
        "record_type": "event",
    },
    "meta": {"attempt": 1, "delivered_to": "https://sms.example.com/webhooks/telnyx"},
}


def inbound_mms() -> dict[str, Any]:
    event: dict[str, Any] = json.loads(json.dumps(INBOUND_SMS))
    payload = event["data"]["payload"]
    payload.update(type="MMS", text="", encoding=None)
    payload["media"] = [
        {
            "url": "https://media.telnyx.com/1/ab12/photo.jpg",
            "content_type": "image/jpeg",
            "size": 104211,
            "hash_sha256": "9b74c9897bac770ffc029102a200c5de9f8f4ac0e6a7b7d4f2b7dc8b1a6d3a21",
        },
        {"url": "https://media.telnyx.com/1/ab12/note.txt", "content_type": None, "size": 12, "hash_sha256": None},
    ]
    return event


def receipt_event(event_type: str, status: str, errors: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {
        "data": {
            "event_type": event_type,
            "id": "4ee8c3a6-4995-4309-a3c6-38e3db9ea4be",
            "occurred_at": "2024-01-15T20:16:09.000+00:00",
            "payload": {
                "direction": "outbound",
                "errors": errors or [],
                "from": {"carrier": "Telnyx", "line_type": "Wireless", "phone_number": "+18445550001"},
                "id": "40385f64-5717-4562-b3fc-2c963f66afa6",
                "record_type": "message",
                "text": "Our hours are 9-5.",
                "to": [{"carrier": "T-MOBILE USA, INC.", "phone_number": "+18665550001", "status": status}],
                "type": "SMS",
            },
            "record_type": "event",
        },
        "meta": {"attempt": 1, "delivered_to": "https://sms.example.com/webhooks/telnyx"},
    }


def make_carrier(key: Ed25519PrivateKey = KEY, base: str = "https://api.telnyx.com") -> TelnyxCarrier:
    return TelnyxCarrier(key.public_key(), API_KEY, base)


def request(body: bytes, headers: Mapping[str, str] | None = None, now: float = NOW) -> WebhookRequest:
    url = "https://sms.example.com/webhooks/telnyx"
    return WebhookRequest("POST", url, headers or {}, body, "application/json", now)


def signed(body: bytes, timestamp: str = str(int(NOW)), key: Ed25519PrivateKey = KEY) -> WebhookRequest:
    signature = base64.b64encode(key.sign(timestamp.encode() + b"|" + body)).decode()
    return request(body, {"telnyx-signature-ed25519": signature, "telnyx-timestamp": timestamp})


def dumps(value: object) -> bytes:
    return json.dumps(value).encode()


def refused(call: Any, req: WebhookRequest) -> WebhookError:
    with pytest.raises(WebhookError) as info:
        call(req)
    return info.value


# -- vectors ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("public", "timestamp", "body", "signature"), VECTORS.values(), ids=VECTORS.keys())
def test_vector_verifies(public: str, timestamp: str, body: bytes, signature: str) -> None:
    carrier = TelnyxCarrier(load_public_key(public), API_KEY)
    headers = {"telnyx-signature-ed25519": signature, "telnyx-timestamp": timestamp}
    carrier.verify(request(body, headers, now=float(timestamp)))


@pytest.mark.parametrize(("public", "timestamp", "body", "signature"), VECTORS.values(), ids=VECTORS.keys())
@pytest.mark.parametrize("tamper", ["body", "timestamp", "signature", "key"])
def test_vector_tampered_is_refused(public: str, timestamp: str, body: bytes, signature: str, tamper: str) -> None:
    key = load_public_key(public) if tamper != "key" else KEY.public_key()
    if tamper == "body":
        body = body.replace(b"HELP", b"STOP")
    elif tamper == "timestamp":
        timestamp = str(int(timestamp) + 1)  # still inside the window: only the signature can catch it
    elif tamper == "signature":
        raw = bytearray(base64.b64decode(signature))
        raw[0] ^= 1
        signature = base64.b64encode(bytes(raw)).decode()
    headers = {"telnyx-signature-ed25519": signature, "telnyx-timestamp": timestamp}
    error = refused(TelnyxCarrier(key, API_KEY).verify, request(body, headers, now=1_700_000_000))
    assert (error.status, error.code) == (403, "bad_signature")


def test_rfc8032_test1_key_and_empty_message_signature() -> None:
    public = load_public_key(VECTORS["derived-rfc8032-test1"][0])
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    assert raw.hex() == RFC_PUBLIC_HEX
    public.verify(RFC_EMPTY_SIGNATURE, b"")  # raises InvalidSignature on mismatch
    # Ed25519 is deterministic: the RFC secret reproduces the derived Telnyx signature.
    timestamp, body, signature = VECTORS["derived-rfc8032-test1"][1:]
    own = Ed25519PrivateKey.from_private_bytes(RFC_SECRET).sign(timestamp.encode() + b"|" + body)
    assert base64.b64encode(own).decode() == signature


@pytest.mark.parametrize("value", ["", "not base64!", base64.b64encode(b"\x01" * 31).decode(), "  "])
def test_load_public_key_rejects_malformed(value: str) -> None:
    with pytest.raises(ValueError, match="TELNYX_PUBLIC_KEY"):
        load_public_key(value)


# -- verify with fresh keys -----------------------------------------------------------------------


@pytest.mark.parametrize("offset", [-TIMESTAMP_TOLERANCE, -1, 0, 1, TIMESTAMP_TOLERANCE])
def test_fresh_signature_inside_window_verifies(offset: int) -> None:
    make_carrier().verify(signed(dumps(INBOUND_SMS), str(int(NOW) + offset)))


@pytest.mark.parametrize("offset", [-TIMESTAMP_TOLERANCE - 1, TIMESTAMP_TOLERANCE + 1, -86_400, 86_400])
def test_timestamp_outside_window_is_stale(offset: int) -> None:
    error = refused(make_carrier().verify, signed(dumps(INBOUND_SMS), str(int(NOW) + offset)))
    assert (error.status, error.code) == (403, "stale_timestamp")


def test_headers_are_case_insensitive() -> None:
    req = signed(dumps(INBOUND_SMS))
    headers = {"Telnyx-Signature-Ed25519": req.headers["telnyx-signature-ed25519"], "Telnyx-Timestamp": str(int(NOW))}
    make_carrier().verify(request(req.body, headers))


def test_signature_from_another_key_is_refused() -> None:
    error = refused(make_carrier().verify, signed(dumps(INBOUND_SMS), key=Ed25519PrivateKey.generate()))
    assert (error.status, error.code) == (403, "bad_signature")


def test_body_reserialised_is_refused() -> None:
    # Telnyx signs the bytes it sent; the same JSON with other spacing is another message.
    req = signed(dumps(INBOUND_SMS))
    error = refused(make_carrier().verify, request(json.dumps(INBOUND_SMS, indent=1).encode(), req.headers))
    assert error.code == "bad_signature"


@pytest.mark.parametrize(
    ("headers", "code"),
    [
        ({}, "missing_signature"),
        ({"telnyx-timestamp": "1700000000"}, "missing_signature"),
        ({"telnyx-signature-ed25519": "AAAA"}, "missing_signature"),
        ({"telnyx-signature-ed25519": "AAAA", "telnyx-timestamp": "17e8"}, "bad_timestamp"),
        ({"telnyx-signature-ed25519": "AAAA", "telnyx-timestamp": "-1700000000"}, "bad_timestamp"),
        ({"telnyx-signature-ed25519": "not base64!", "telnyx-timestamp": "1700000000"}, "bad_signature"),
        ({"telnyx-signature-ed25519": "AAAA", "telnyx-timestamp": "1700000000"}, "bad_signature"),
        ({"telnyx-signature-ed25519": "é" * 88, "telnyx-timestamp": "1700000000"}, "bad_signature"),
    ],
)
def test_malformed_signature_headers_are_forbidden(headers: dict[str, str], code: str) -> None:
    error = refused(make_carrier().verify, request(dumps(INBOUND_SMS), headers))
    assert (error.status, error.code) == (403, code)


# -- inbound --------------------------------------------------------------------------------------


def test_inbound_sms() -> None:
    (message,) = make_carrier().parse(request(dumps(INBOUND_SMS)))
    assert message.channel == "telnyx"
    assert message.provider_id == "b301ed3f-1490-491f-995f-6e64e69674d4"  # data.id, the event (§12)
    assert (message.customer, message.business) == ("+18665550001", "+18445550001")
    assert message.text == "Hello, World!"
    assert message.media == ()


def test_inbound_mms() -> None:
    (message,) = make_carrier().parse(request(dumps(inbound_mms())))
    assert message.text == ""
    assert message.media == (
        InboundMedia("https://media.telnyx.com/1/ab12/photo.jpg", "image/jpeg"),
        InboundMedia("https://media.telnyx.com/1/ab12/note.txt", ""),
    )


def test_inbound_text_null_and_unicode() -> None:
    event = json.loads(json.dumps(INBOUND_SMS))
    event["data"]["payload"]["text"] = None
    assert make_carrier().parse(request(dumps(event)))[0].text == ""
    event["data"]["payload"]["text"] = "Café 👋"
    assert make_carrier().parse(request(json.dumps(event, ensure_ascii=False).encode()))[0].text == "Café 👋"


def test_other_events_carry_no_inbound_message_and_vice_versa() -> None:
    carrier = make_carrier()
    assert carrier.parse(request(dumps(receipt_event("message.finalized", "delivered")))) == ()
    assert carrier.parse_receipts(request(dumps(INBOUND_SMS))) == ()
    other = {"data": {"event_type": "number_order.complete", "id": "x", "payload": {}}}
    assert carrier.parse(request(dumps(other))) == ()


def _broken(path: tuple[str | int, ...], value: object) -> bytes:
    event = json.loads(json.dumps(INBOUND_SMS))
    node = event
    for step in path[:-1]:
        node = node[step]
    if value is KeyError:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return dumps(event)


@pytest.mark.parametrize(
    ("body", "code", "mentions"),
    [
        (b"\xff\xfe", "invalid_encoding", "UTF-8"),
        (b"{not json", "invalid_json", "JSON"),
        (b"[1, 2]", "invalid_field", "the body"),
        (b"{}", "missing_field", "data"),
        (b"[" * 100_000 + b"]" * 100_000, "invalid_json", "nested"),
        (_broken(("data", "event_type"), KeyError), "missing_field", "data.event_type"),
        (_broken(("data", "id"), KeyError), "missing_field", "data.id"),
        (_broken(("data", "id"), "has spaces"), "invalid_field", "data.id"),
        (_broken(("data", "payload", "from"), KeyError), "missing_field", "data.payload.from"),
        (_broken(("data", "payload", "from", "phone_number"), 15555550100), "invalid_field", "phone_number"),
        (_broken(("data", "payload", "to"), []), "missing_field", "data.payload.to"),
        (_broken(("data", "payload", "to"), "+18445550001"), "invalid_field", "data.payload.to"),
        (_broken(("data", "payload", "text"), ["HELP"]), "invalid_field", "data.payload.text"),
        (_broken(("data", "payload", "text"), "HE\x00LP"), "invalid_field", "NUL"),
        (_broken(("data", "payload", "text"), "\ud800"), "invalid_field", "surrogate"),
        (_broken(("data", "payload", "media"), [{"url": "ftp://x/y"}]), "invalid_field", "media[0].url"),
        (_broken(("data", "payload", "media"), [{"content_type": "image/png"}]), "missing_field", "media[0].url"),
    ],
)
def test_bad_inbound_is_a_clear_400(body: bytes, code: str, mentions: str) -> None:
    error = refused(make_carrier().parse, request(body))
    assert (error.status, error.code) == (400, code)
    assert mentions in error.message


# -- receipts -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("event_type", "status", "expected"),
    [
        ("message.sent", "sent", "sent"),
        ("message.sent", "queued", "queued"),
        ("message.finalized", "delivered", "delivered"),
        ("message.finalized", "delivery_unconfirmed", "sent"),
        ("message.finalized", "sending_failed", "failed"),
        ("message.finalized", "delivery_failed", "undelivered"),
        ("message.finalized", "some_new_status", "some_new_status"),
    ],
)
def test_receipt_statuses(event_type: str, status: str, expected: str) -> None:
    (receipt,) = make_carrier().parse_receipts(request(dumps(receipt_event(event_type, status))))
    assert receipt.channel == "telnyx"
    assert receipt.provider_id == "40385f64-5717-4562-b3fc-2c963f66afa6"  # the id the send returned
    assert receipt.status == expected
    assert (receipt.customer, receipt.business) == ("+18665550001", "+18445550001")
    assert receipt.error_code == ""


def test_failed_receipt_carries_error_code() -> None:
    errors = [{"code": "40008", "title": "Undeliverable", "detail": "The message could not be delivered."}]
    (receipt,) = make_carrier().parse_receipts(request(dumps(receipt_event("message.finalized", "delivery_failed",
                                                                            errors))))
    assert (receipt.status, receipt.error_code) == ("undelivered", "40008")


def test_stop_block_receipt_is_an_opt_out() -> None:
    errors = [{"code": "40300", "title": "Blocked due to STOP message"}]
    (receipt,) = make_carrier().parse_receipts(request(dumps(receipt_event("message.finalized", "sending_failed",
                                                                            errors))))
    assert (receipt.status, receipt.error_code, receipt.opted_out) == ("failed", "40300", True)


def test_receipt_without_status_is_400() -> None:
    event = receipt_event("message.finalized", "delivered")
    del event["data"]["payload"]["to"][0]["status"]
    error = refused(make_carrier().parse_receipts, request(dumps(event)))
    assert (error.status, error.code) == (400, "missing_field")


# -- outbound -------------------------------------------------------------------------------------


def test_outbound_sms_request() -> None:
    http = make_carrier().outbound_request("+18665550001", "+18445550001", Reply("Hi there"), MEDIA_BASE, "k-1")
    assert (http.method, http.url) == ("POST", "https://api.telnyx.com/v2/messages")
    assert http.headers["Authorization"] == f"Bearer {API_KEY}"
    assert http.headers["Content-Type"] == "application/json"
    assert "Idempotency-Key" not in http.headers  # /v2/messages declares none (module docstring)
    assert json.loads(http.body) == {"from": "+18445550001", "to": "+18665550001", "text": "Hi there"}


def test_outbound_mms_request_uses_absolute_media_urls_and_custom_base() -> None:
    carrier = make_carrier(base="http://127.0.0.1:8089/")
    reply = Reply("Here is the map", ("map 1.png", "https://cdn.example.com/a.jpg"))
    http = carrier.outbound_request("+18665550001", "+18445550001", reply, MEDIA_BASE, "k-2")
    assert http.url == "http://127.0.0.1:8089/v2/messages"
    assert json.loads(http.body)["media_urls"] == [f"{MEDIA_BASE}/map%201.png", "https://cdn.example.com/a.jpg"]
    media_only = carrier.outbound_request("+18665550001", "+18445550001", Reply("", ("a.png",)), MEDIA_BASE, "k")
    assert "text" not in json.loads(media_only.body)


def test_outbound_body_is_utf8_json() -> None:
    http = make_carrier().outbound_request("+18665550001", "+18445550001", Reply("Café ☕"), MEDIA_BASE, "k")
    assert json.loads(http.body.decode("utf-8"))["text"] == "Café ☕"


@pytest.mark.parametrize(
    ("status", "body", "ok", "provider_id", "retry", "mentions"),
    [
        (200, b'{"data":{"id":"40385f64-5717-4562-b3fc-2c963f66afa6","record_type":"message"}}', True,
         "40385f64-5717-4562-b3fc-2c963f66afa6", False, ""),
        (202, b'{"data":{"id":"abc"}}', True, "abc", False, ""),
        (200, b"<html>ok</html>", True, "", False, "no data.id"),
        (429, b'{"errors":[{"code":"10011","title":"Too many requests"}]}', False, "", True, "10011 Too many"),
        (500, b"", False, "", True, "HTTP 500"),
        (503, b"\xff", False, "", True, "HTTP 503"),
        (400, b'{"errors":[{"code":"40310","title":"Invalid to address","detail":"+1 is not valid"}]}', False, "",
         False, "40310 Invalid to address +1 is not valid"),
        (401, b'{"errors":[{"code":"10009","title":"Authentication failed"}]}', False, "", False, "10009"),
        (422, b'{"errors":"oops"}', False, "", False, "HTTP 422"),
    ],
)
def test_parse_send_response(status: int, body: bytes, ok: bool, provider_id: str, retry: bool, mentions: str) -> None:
    result = make_carrier().parse_send_response(status, body)
    assert (result.ok, result.provider_id, result.status, result.retry) == (ok, provider_id, status, retry)
    assert mentions in result.error
    assert not result.opted_out


def test_send_refused_for_stop_block_is_an_opt_out() -> None:
    body = dumps({"errors": [{"code": "40300", "title": "Blocked due to STOP message",
                              "detail": "Messages cannot be sent due to an existing block rule."}]})
    result = make_carrier().parse_send_response(400, body)
    assert (result.ok, result.retry, result.opted_out) == (False, False, True)
    assert "Blocked due to STOP message" in result.error


# -- configuration and acknowledgement -----------------------------------------------------------


def test_from_env() -> None:
    public = base64.b64encode(
        KEY.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    ).decode()
    assert TelnyxCarrier.from_env({}) is None
    assert TelnyxCarrier.from_env({"TELNYX_API_KEY": API_KEY}) is None
    carrier = TelnyxCarrier.from_env({"TELNYX_PUBLIC_KEY": public, "TELNYX_API_KEY": API_KEY})
    assert carrier is not None and (carrier.name, carrier.sync_replies) == ("telnyx", False)
    carrier.verify(signed(dumps(INBOUND_SMS)))
    custom = TelnyxCarrier.from_env(
        {"TELNYX_PUBLIC_KEY": public, "TELNYX_API_KEY": API_KEY, "TELNYX_API_BASE_URL": "http://fake:1/"}
    )
    assert custom is not None
    assert custom.outbound_request("+1", "+2", Reply("x"), MEDIA_BASE, "k").url == "http://fake:1/v2/messages"
    with pytest.raises(ValueError, match="TELNYX_API_KEY"):
        TelnyxCarrier.from_env({"TELNYX_PUBLIC_KEY": public})
    with pytest.raises(ValueError, match="TELNYX_PUBLIC_KEY"):
        TelnyxCarrier.from_env({"TELNYX_PUBLIC_KEY": "nope", "TELNYX_API_KEY": API_KEY})
    with pytest.raises(ValueError, match="TELNYX_API_BASE_URL"):
        TelnyxCarrier.from_env({"TELNYX_PUBLIC_KEY": public, "TELNYX_API_KEY": API_KEY, "TELNYX_API_BASE_URL": "x"})


def test_render_is_a_plain_acknowledgement() -> None:
    reply = make_carrier().render([Reply("ignored")], MEDIA_BASE)
    assert (reply.status, reply.body) == (200, "")


# -- fuzz: nothing but WebhookError, whatever arrives -------------------------------------------

LEAVES = (
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=12)
    | st.sampled_from(["\ud800", "a\udfff", "+15555550100", "https://x.example/a.png", "message.received",
                       "message.finalized", "delivered", ""])
)
JSON = st.recursive(LEAVES, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner,
                                                                                        max_size=3), max_leaves=12)


@st.composite
def mutated(draw: st.DrawFn, template: object) -> object:
    """``template`` with random subtrees replaced, dropped or kept: malformed but plausible."""
    if draw(st.integers(0, 7)) == 0:
        return draw(JSON)
    if isinstance(template, dict):
        return {k: draw(mutated(v)) for k, v in template.items() if draw(st.integers(0, 9))}
    if isinstance(template, list):
        return [draw(mutated(v)) for v in template]
    return template


def _only_webhook_errors(carrier: TelnyxCarrier, req: WebhookRequest) -> None:
    for call in (carrier.parse, carrier.parse_receipts):
        try:
            call(req)
        except WebhookError as exc:
            assert exc.status == 400 and exc.code and exc.message


FUZZ_CARRIER = make_carrier()


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200))
def test_fuzz_arbitrary_bytes(body: bytes) -> None:
    _only_webhook_errors(FUZZ_CARRIER, request(body))


@settings(max_examples=300, deadline=None)
@given(JSON)
def test_fuzz_arbitrary_json(value: object) -> None:
    _only_webhook_errors(FUZZ_CARRIER, request(dumps(value)))


@settings(max_examples=500, deadline=None)
@given(st.one_of(mutated(INBOUND_SMS), mutated(inbound_mms()), mutated(receipt_event("message.finalized", "sent"))))
def test_fuzz_mutated_events(value: object) -> None:
    _only_webhook_errors(FUZZ_CARRIER, request(dumps(value)))


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.sampled_from(["telnyx-signature-ed25519", "telnyx-timestamp", "Telnyx-Timestamp", "x"]),
                       st.text(max_size=100)), st.binary(max_size=50), st.floats(allow_nan=False, allow_infinity=False))
def test_fuzz_verify(headers: dict[str, str], body: bytes, now: float) -> None:
    try:
        FUZZ_CARRIER.verify(request(body, headers, now))
    except WebhookError as exc:
        assert exc.status == 403

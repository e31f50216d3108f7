"""Tests for bot.carriers.vonage: the JWT vectors of carriers.md §2.2 (§13), tokens signed with
PyJWT (an independent implementation, never our verifier), captured-shape webhooks, receipts,
the REST request we build, send-response handling, and fuzzed parsers.
"""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

import jwt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.carriers.base import WebhookError, WebhookRequest
from bot.carriers.vonage import LEEWAY, MAX_TOKEN_AGE, VonageCarrier, decode_jwt
from bot.types import InboundMedia, Reply

SECRET = "qwertyuiopasdfghjklzxcvbnm123456"  # the published vector's secret (§2.2)
NOW = 1_700_000_000.0
MEDIA_BASE = "https://sms.example.com/media"
URL = "https://sms.example.com/webhooks/vonage"

# Published (vonage-python-sdk jwt tests): a generic HS256 token, no payload_hash.
PUBLISHED_TOKEN = (
    "eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9.eyJpc3MiOiJPbmxpbmUgSldUIEJ1aWxkZXIiLCJpYXQiOjE2OTc2MzQ2ODAsImV4cCI6MzMy"
    "NTQ1NDA4MjgsImF1ZCI6IiIsInN1YiI6IiJ9.88vJc3I2HhuqEDixHXVhc9R30tA6U_HQHZTC29y6CGM"
)
PUBLISHED_CLAIMS = {"iss": "Online JWT Builder", "iat": 1697634680, "exp": 33254540828, "aud": "", "sub": ""}
# [DERIVED] Messages-style vector: the body, its SHA-256 and the JWT carrying it (§2.2).
DERIVED_BODY = (
    b'{"channel":"sms","message_uuid":"aaaaaaaa-bbbb-cccc-dddd-0123456789ab","to":"447700900000",'
    b'"from":"447700900001","timestamp":"2020-01-01T14:00:00.000Z","text":"Hello From Vonage!","message_type":"text"}'
)
DERIVED_HASH = "2c32eb56ca3bf46636effce369527e593bab4a65825b439f590fed4ea535b59a"
DERIVED_TOKEN = (
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpYXQiOjE1ODc0OTQ5NjIsImp0aSI6ImM1YmE4ZjI0LTFhMTQtNGMxMC1iZmRmLTNmYmU4Y2U1"
    "MTFiNSIsImlzcyI6IlZvbmFnZSIsInBheWxvYWRfaGFzaCI6IjJjMzJlYjU2Y2EzYmY0NjYzNmVmZmNlMzY5NTI3ZTU5M2JhYjRhNjU4MjViNDM5"
    "ZjU5MGZlZDRlYTUzNWI1OWEiLCJhcGlfa2V5IjoiYTFiMmMzZCJ9.qbr7MI4C43ulXUUEFs6D3C23p2tSqx2nF6W_vcJaGk8"
)
DERIVED_IAT = 1587494962

# Captured shape of an inbound SMS (§2.1, assembled from the Java SDK test stub).
INBOUND_SMS: dict[str, Any] = {
    "message_uuid": "aaaaaaaa-bbbb-cccc-dddd-0123456789ab", "to": "447700900000", "from": "447700900001",
    "timestamp": "2020-01-01T15:43:21Z", "channel": "sms", "message_type": "text", "text": "Hello, world!",
    "usage": {"currency": "EUR", "price": "0.0333"},
    "sms": {"num_messages": "2", "total_count": "3", "keyword": "HELLO"},
}  # fmt: skip
INBOUND_MMS: dict[str, Any] = {
    "message_uuid": "bbbbbbbb-bbbb-cccc-dddd-0123456789ab", "to": "15555550100", "from": "15555550123",
    "timestamp": "2024-05-01T10:00:00Z", "channel": "mms", "message_type": "image",
    "image": {"url": "https://api-us.nexmo.com/v3/media/0a1b2c3d.jpg", "caption": "my broken router"},
}  # fmt: skip
STATUS: dict[str, Any] = {
    "message_uuid": "cccccccc-bbbb-cccc-dddd-0123456789ab", "to": "15555550123", "from": "15555550100",
    "timestamp": "2024-05-01T10:00:05Z", "status": "delivered", "channel": "sms", "client_ref": "k1",
    "usage": {"currency": "EUR", "price": "0.0333"}, "sms": {"count_total": "1"},
}  # fmt: skip


def carrier(**overrides: str) -> VonageCarrier:
    args = {"signature_secret": SECRET, "api_key": "a1b2c3d", "api_secret": "s3cr3t"} | overrides
    return VonageCarrier(**args)


def sign(body: bytes, secret: str = SECRET, **claims: Any) -> str:
    """A token as Vonage makes one, signed by PyJWT."""
    payload = {"iat": int(NOW), "jti": "c5ba8f24", "iss": "Vonage", "api_key": "a1b2c3d",
               "payload_hash": hashlib.sha256(body).hexdigest()} | claims  # fmt: skip
    return jwt.encode({k: v for k, v in payload.items() if v is not None}, secret, algorithm="HS256")


def request(body: bytes, headers: dict[str, str] | None = None, now: float = NOW) -> WebhookRequest:
    return WebhookRequest("POST", URL, headers if headers is not None else {}, body, "application/json", now)


def signed(data: object, now: float = NOW, **claims: Any) -> WebhookRequest:
    body = json.dumps(data).encode()
    return request(body, {"Authorization": f"Bearer {sign(body, **claims)}"}, now)


def refused(req: WebhookRequest, code: str, status: int = 403) -> None:
    with pytest.raises(WebhookError) as info:
        carrier().verify(req)
    assert (info.value.status, info.value.code) == (status, code), info.value.message


# -- the published and derived vectors ----------------------------------------------------------


def test_published_generic_token_verifies_with_its_secret() -> None:
    assert decode_jwt(PUBLISHED_TOKEN, SECRET) == PUBLISHED_CLAIMS


def test_published_generic_token_fails_with_another_secret() -> None:
    with pytest.raises(WebhookError) as info:
        decode_jwt(PUBLISHED_TOKEN, "asdf")
    assert (info.value.status, info.value.code) == (403, "bad_signature")


def test_published_generic_token_is_no_webhook_signature() -> None:
    # Authentic, but it has no payload_hash, so it authenticates no body.
    refused(request(b"{}", {"Authorization": f"Bearer {PUBLISHED_TOKEN}"}, now=1697634680 + 5), "bad_token")


def test_derived_body_hash() -> None:
    assert hashlib.sha256(DERIVED_BODY).hexdigest() == DERIVED_HASH


def test_derived_messages_vector_verifies_and_parses() -> None:
    req = request(DERIVED_BODY, {"Authorization": f"Bearer {DERIVED_TOKEN}"}, now=DERIVED_IAT + 2)
    carrier().verify(req)
    [message] = carrier().parse(req)
    assert (message.provider_id, message.customer, message.business, message.text) == (
        "aaaaaaaa-bbbb-cccc-dddd-0123456789ab", "+447700900001", "+447700900000", "Hello From Vonage!")


@pytest.mark.parametrize("body", [DERIVED_BODY.replace(b'":"', b'": "'), DERIVED_BODY.replace(b"Hello", b"Hallo")])
def test_derived_vector_with_altered_body_is_refused(body: bytes) -> None:
    refused(request(body, {"Authorization": f"Bearer {DERIVED_TOKEN}"}, now=DERIVED_IAT + 2), "body_mismatch")


def test_derived_vector_is_stale_a_day_later() -> None:
    req = request(DERIVED_BODY, {"Authorization": f"Bearer {DERIVED_TOKEN}"}, now=DERIVED_IAT + MAX_TOKEN_AGE + 1)
    refused(req, "stale_token")


# -- authenticity with PyJWT-signed tokens ------------------------------------------------------


def test_pyjwt_signed_webhook_verifies_and_header_name_is_case_insensitive() -> None:
    body = json.dumps(INBOUND_SMS).encode()
    carrier().verify(request(body, {"authorization": f"bearer {sign(body)}"}))


def test_missing_authorization_asks_vonage_to_retry() -> None:
    # §2.2: Vonage may send unsigned webhooks after an internal error and retries them on a 5xx.
    refused(request(b"{}"), "unsigned_webhook", status=503)


@pytest.mark.parametrize("authorization", ["Basic YTpi", "Bearer", "Bearer a.b", "Bearer a.b.c.d", "Bearer !!.!!.!!"])
def test_malformed_authorization_is_forbidden(authorization: str) -> None:
    with pytest.raises(WebhookError) as info:
        carrier().verify(request(b"{}", {"Authorization": authorization}))
    assert info.value.status == 403


def test_token_signed_with_another_secret_is_forbidden() -> None:
    body = b"{}"
    refused(request(body, {"Authorization": f"Bearer {sign(body, secret='x' * 32)}"}), "bad_signature")


def test_tampered_token_signature_and_trailing_newline_are_forbidden() -> None:
    body = b"{}"
    token = sign(body)
    flipped = token[:-2] + ("A" if token[-2] != "A" else "B") + token[-1]
    refused(request(body, {"Authorization": f"Bearer {flipped}"}), "bad_signature")
    header, payload, signature = token.split(".")
    refused(request(body, {"Authorization": f"Bearer {header}.{payload}\n.{signature}"}), "bad_token")


@pytest.mark.parametrize("header", [{"alg": "none", "typ": "JWT"}, {"alg": "HS512", "typ": "JWT"},
                                    {"alg": "HS256", "crit": ["exp"]}])  # fmt: skip
def test_other_algorithms_and_critical_extensions_are_forbidden(header: dict[str, Any]) -> None:
    def part(value: object) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    body = b"{}"
    claims = {"iat": int(NOW), "payload_hash": hashlib.sha256(body).hexdigest()}
    real_signature = sign(body).split(".")[2]
    refused(request(body, {"Authorization": f"Bearer {part(header)}.{part(claims)}.{real_signature}"}), "bad_token")


def test_payload_hash_is_required() -> None:
    refused(signed({"a": 1}, payload_hash=None), "bad_token")
    refused(signed({"a": 1}, payload_hash="not-hex"), "bad_token")


def test_payload_hash_in_upper_case_hex_is_accepted() -> None:
    body = b'{"a":1}'
    token = sign(body, payload_hash=hashlib.sha256(body).hexdigest().upper())
    carrier().verify(request(body, {"Authorization": f"Bearer {token}"}))


@pytest.mark.parametrize(("claims", "ok"), [
    ({"iat": int(NOW - MAX_TOKEN_AGE + 60)}, True),
    ({"iat": int(NOW - MAX_TOKEN_AGE - 60)}, False),
    ({"iat": int(NOW + LEEWAY - 10)}, True),
    ({"iat": int(NOW + LEEWAY + 10)}, False),
    ({"iat": None}, False),
    ({"iat": True}, False),
    ({"iat": "1700000000"}, False),
    ({"iat": 10**40}, False),
    ({"exp": int(NOW - LEEWAY + 10)}, True),
    ({"exp": int(NOW - LEEWAY - 10)}, False),
    ({"nbf": int(NOW + LEEWAY - 10)}, True),
    ({"nbf": int(NOW + LEEWAY + 10)}, False),
    ({"exp": "soon"}, False),
])  # fmt: skip
def test_time_claims(claims: dict[str, Any], ok: bool) -> None:
    req = signed(INBOUND_SMS, **claims)
    if ok:
        carrier().verify(req)
    else:
        with pytest.raises(WebhookError) as info:
            carrier().verify(req)
        assert info.value.status == 403


# -- inbound ------------------------------------------------------------------------------------


def test_inbound_sms() -> None:
    [message] = carrier().parse(signed(INBOUND_SMS))
    assert message.channel == "vonage"
    assert message.provider_id == "aaaaaaaa-bbbb-cccc-dddd-0123456789ab"
    assert (message.customer, message.business, message.text) == ("+447700900001", "+447700900000", "Hello, world!")
    assert message.media == () and message.concat is None


def test_inbound_mms_image_with_caption() -> None:
    [message] = carrier().parse(signed(INBOUND_MMS))
    assert message.text == "my broken router"
    assert message.media == (InboundMedia("https://api-us.nexmo.com/v3/media/0a1b2c3d.jpg", "image/jpeg"),)
    assert message.customer == "+15555550123"


def test_inbound_mms_with_several_attachments() -> None:
    data = INBOUND_MMS | {"image": {"url": "https://m.example/x"}, "content": [
        {"type": "image", "url": "https://m.example/x"},  # the primary again: not doubled
        {"type": "video", "url": "https://m.example/clip.mp4", "caption": "see this"},
        {"type": "vcard", "url": "https://m.example/me.vcf"},
        {"type": "audio", "url": "https://m.example/voice"},
        {"type": "file", "url": "https://m.example/manual.pdf"},
    ]}  # fmt: skip
    [message] = carrier().parse(signed(data))
    assert message.text == "see this"
    assert [m.content_type for m in message.media] == ["image/*", "video/mp4", "text/vcard", "audio/*",
                                                       "application/pdf"]  # fmt: skip


def test_inbound_text_null_is_empty() -> None:
    [message] = carrier().parse(signed(INBOUND_SMS | {"text": None}))
    assert message.text == ""


@pytest.mark.parametrize(("data", "code"), [
    ({k: v for k, v in INBOUND_SMS.items() if k != "message_uuid"}, "missing_field"),
    (INBOUND_SMS | {"message_uuid": 7}, "missing_field"),
    (INBOUND_SMS | {"channel": "whatsapp"}, "unsupported_channel"),
    ({k: v for k, v in INBOUND_SMS.items() if k != "channel"}, "unsupported_channel"),
    (INBOUND_SMS | {"from": "<script>"}, "invalid_field"),
    (INBOUND_SMS | {"message_type": "location"}, "unsupported_message_type"),
    (INBOUND_SMS | {"text": "a\x00b"}, "invalid_field"),
    (INBOUND_SMS | {"text": "a\ud800"}, "invalid_field"),  # sent as the JSON escape "\ud800"
    (INBOUND_MMS | {"image": {"url": "https://m.example/a.jpg", "caption": "\udfff"}}, "invalid_field"),
    (INBOUND_SMS | {"text": "x" * 10_001}, "too_long"),
    (INBOUND_MMS | {"image": {"url": "ftp://m.example/a.jpg"}}, "invalid_field"),
    (INBOUND_MMS | {"image": "https://m.example/a.jpg"}, "invalid_field"),
    (INBOUND_MMS | {"content": {"type": "image"}}, "invalid_field"),
    (INBOUND_MMS | {"content": [{"type": "sticker", "url": "https://m.example/s"}]}, "invalid_field"),
])  # fmt: skip
def test_bad_inbound_is_a_clear_400(data: dict[str, Any], code: str) -> None:
    with pytest.raises(WebhookError) as info:
        carrier().parse(signed(data))
    assert (info.value.status, info.value.code) == (400, code), info.value.message
    assert info.value.message


@pytest.mark.parametrize("body", [b"", b"not json", b"[1, 2]", b'"text"', b"\xff\xfe", b"[" * 100_000])
def test_unreadable_body_is_400(body: bytes) -> None:
    for call in (carrier().parse, carrier().parse_receipts):
        with pytest.raises(WebhookError) as info:
            call(request(body))
        assert (info.value.status, info.value.code) == (400, "invalid_json")


def test_status_and_inbound_webhooks_can_share_a_url() -> None:
    assert carrier().parse(signed(STATUS)) == []
    assert carrier().parse_receipts(signed(INBOUND_SMS)) == []


# -- receipts -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("status", "expected"), [("submitted", "sent"), ("delivered", "delivered"),
                         ("rejected", "failed"), ("undeliverable", "undelivered"), ("read", "read"),
                         ("DELIVERED", "delivered"), ("something_new", "something_new")])  # fmt: skip
def test_receipt_statuses(status: str, expected: str) -> None:
    [receipt] = carrier().parse_receipts(signed(STATUS | {"status": status}))
    assert (receipt.channel, receipt.provider_id, receipt.status) == ("vonage", STATUS["message_uuid"], expected)
    assert (receipt.customer, receipt.business, receipt.error_code) == ("+15555550123", "+15555550100", "")


@pytest.mark.parametrize(("error", "code"), [
    ({"type": "https://developer.nexmo.com/api-errors/messages-olympus#1240", "title": "1240", "detail": "x"}, "1240"),
    ({"type": "https://developer.vonage.com/api-errors/messages#1300", "title": 1300}, "1300"),
    ({"type": "https://developer.vonage.com/api-errors/messages#1320"}, "1320"),
    ("weird", ""),
])  # fmt: skip
def test_receipt_error_code(error: object, code: str) -> None:
    [receipt] = carrier().parse_receipts(signed(STATUS | {"status": "rejected", "error": error}))
    assert (receipt.status, receipt.error_code) == ("failed", code)


def test_receipt_needs_message_uuid() -> None:
    with pytest.raises(WebhookError) as info:
        carrier().parse_receipts(signed({"status": "delivered"}))
    assert (info.value.status, info.value.code) == (400, "missing_field")


# -- outbound -----------------------------------------------------------------------------------


def outbound(reply: Reply, key: str = "turn-1", **overrides: str) -> tuple[str, dict[str, str], dict[str, Any]]:
    req = carrier(**overrides).outbound_request("+15555550123", "+15555550100", reply, MEDIA_BASE, key)
    assert req.method == "POST"
    return req.url, dict(req.headers), json.loads(req.body)


def test_outbound_sms_request() -> None:
    url, headers, body = outbound(Reply("Hi there ☃"))
    assert url == "https://api.nexmo.com/v1/messages"
    assert headers["Authorization"] == "Basic " + base64.b64encode(b"a1b2c3d:s3cr3t").decode()
    assert headers["Content-Type"] == "application/json"
    assert body == {"channel": "sms", "message_type": "text", "to": "15555550123", "from": "15555550100",
                    "text": "Hi there ☃", "client_ref": "turn-1"}  # fmt: skip


def test_outbound_mms_with_one_image_uses_the_caption() -> None:
    _, _, body = outbound(Reply("Your receipt", ("receipt.png",)), api_base_url="https://vonage.test/")
    assert body["channel"] == "mms" and body["message_type"] == "image"
    assert body["image"] == {"url": "https://sms.example.com/media/receipt.png", "caption": "Your receipt"}
    assert outbound(Reply("", ("a.mp4",)))[2]["video"] == {"url": f"{MEDIA_BASE}/a.mp4"}


def test_outbound_mms_with_several_media_is_a_content_message() -> None:
    _, _, body = outbound(Reply("Two", ("a.jpg", "https://cdn.example/doc")))
    assert body["message_type"] == "content"
    assert body["content"] == [{"type": "image", "url": f"{MEDIA_BASE}/a.jpg", "caption": "Two"},
                               {"type": "file", "url": "https://cdn.example/doc"}]  # fmt: skip


def test_outbound_custom_base_url_and_long_idempotency_key() -> None:
    key = "conversation-" + "x" * 100
    url, _, body = outbound(Reply("hi"), key, api_base_url="http://127.0.0.1:9999/")
    assert url == "http://127.0.0.1:9999/v1/messages"
    assert body["client_ref"] == hashlib.sha256(key.encode()).hexdigest()[:40]


@pytest.mark.parametrize(("status", "body", "ok", "provider_id", "retry", "mentions"), [
    (202, b'{"message_uuid":"aaaaaaaa-bbbb-cccc-dddd-0123456789ab"}', True, "aaaaaaaa-bbbb-cccc-dddd-0123456789ab",
     False, ""),
    (202, b"", True, "", False, ""),
    (429, b'{"title":"Rate Limit Hit","detail":"Please wait, then retry your request"}', False, "", True, "Rate"),
    (500, b"<html>oops</html>", False, "", True, "HTTP 500"),
    (503, b"", False, "", True, "HTTP 503"),
    (400, b'{"type":"https://developer.nexmo.com/api-errors/messages-olympus#1150","title":"Invalid params",'
          b'"detail":"The value of one or more parameters is invalid."}', False, "", False, "Invalid params: The"),
    (401, b'{"title":"Unauthorized"}', False, "", False, "Unauthorized"),
    (422, b"[1]", False, "", False, "HTTP 422"),
])  # fmt: skip
def test_parse_send_response(status: int, body: bytes, ok: bool, provider_id: str, retry: bool, mentions: str) -> None:
    result = carrier().parse_send_response(status, body)
    assert (result.ok, result.provider_id, result.status, result.retry) == (ok, provider_id, status, retry)
    assert mentions in result.error


# -- configuration and acknowledgement ----------------------------------------------------------


def test_from_env() -> None:
    assert VonageCarrier.from_env({}) is None
    assert VonageCarrier.from_env({"VONAGE_SIGNATURE_SECRET": "  ", "VONAGE_API_KEY": "k"}) is None
    with pytest.raises(ValueError, match="VONAGE_API_KEY"):
        VonageCarrier.from_env({"VONAGE_SIGNATURE_SECRET": SECRET})
    env = {"VONAGE_SIGNATURE_SECRET": SECRET, "VONAGE_API_KEY": "k", "VONAGE_API_SECRET": "s"}
    made = VonageCarrier.from_env(env)
    assert made is not None and made.api_base_url == "https://api.nexmo.com"
    assert (made.name, made.sync_replies) == ("vonage", False)
    custom = VonageCarrier.from_env(env | {"VONAGE_API_BASE_URL": "https://eu.example/"})
    assert custom is not None and custom.api_base_url == "https://eu.example"
    with pytest.raises(ValueError, match="VONAGE_API_BASE_URL"):
        VonageCarrier.from_env(env | {"VONAGE_API_BASE_URL": "api.nexmo.com"})


def test_render_is_an_empty_acknowledgement() -> None:
    reply = carrier().render([Reply("not sent here")], MEDIA_BASE)
    assert (reply.status, reply.body) == (204, "")


# -- fuzz: nothing but WebhookError, whatever arrives -------------------------------------------

LEAVES = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12) | st.sampled_from(
    ["\ud800", "sms", "mms", "image", "content", "text", "delivered", "447700900000", "https://m.example/a.jpg", ""])
JSON = st.recursive(LEAVES, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
    st.sampled_from(["channel", "message_uuid", "from", "to", "text", "message_type", "image", "url", "content",
                     "type", "caption", "status", "error", "title"]) | st.text(max_size=5), inner, max_size=5),
    max_leaves=15)  # fmt: skip


@st.composite
def mutated(draw: st.DrawFn, template: object) -> object:
    """``template`` with random subtrees replaced or dropped: malformed but plausible."""
    if draw(st.integers(0, 7)) == 0:
        return draw(JSON)
    if isinstance(template, dict):
        return {k: draw(mutated(v)) for k, v in template.items() if draw(st.integers(0, 9))}
    if isinstance(template, list):
        return [draw(mutated(v)) for v in template]
    return template


FUZZ = carrier()


def only_400s(body: bytes) -> None:
    for call in (FUZZ.parse, FUZZ.parse_receipts):
        try:
            events = call(request(body))
        except WebhookError as exc:
            assert exc.status == 400 and exc.code and exc.message
        else:  # whatever is accepted must be storable: valid UTF-8 throughout
            for event in events:
                json.dumps([str(value) for value in vars_of(event)], ensure_ascii=False).encode("utf-8")


def vars_of(event: object) -> list[object]:
    values = [getattr(event, name) for name in event.__slots__]  # type: ignore[attr-defined]
    return values + [m.url for m in getattr(event, "media", ())] + [m.content_type for m in getattr(event, "media", ())]


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200))
def test_fuzz_arbitrary_bytes(body: bytes) -> None:
    only_400s(body)


@settings(max_examples=300, deadline=None)
@given(JSON)
def test_fuzz_arbitrary_json(value: object) -> None:
    only_400s(json.dumps(value).encode())


@settings(max_examples=500, deadline=None)
@given(st.one_of(mutated(INBOUND_SMS), mutated(INBOUND_MMS), mutated(STATUS)))
def test_fuzz_mutated_webhooks(value: object) -> None:
    only_400s(json.dumps(value).encode())


CLAIMS = st.dictionaries(st.sampled_from(["iat", "exp", "nbf", "payload_hash"]), LEAVES)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200) | st.builds(lambda c: f"Bearer {jwt.encode(c, SECRET)}", CLAIMS),
       st.binary(max_size=50), st.floats(allow_nan=False))  # fmt: skip
def test_fuzz_verify(authorization: str, body: bytes, now: float) -> None:
    try:
        FUZZ.verify(request(body, {"Authorization": authorization}, now))
    except WebhookError as exc:
        assert exc.status in (403, 503) and exc.code and exc.message

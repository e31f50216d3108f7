"""Tests for bot.carriers.sinch: the published HMAC vectors (carriers.md §7.2, §13), captured-shape
callbacks (§7.1), delivery reports (§7.4), the batch request we build, send responses, and a fuzzed
parser. Fresh signatures are computed in the tests with ``hmac`` directly, not with ``sign``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Mapping
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.carriers.base import WebhookError, WebhookRequest
from bot.carriers.sinch import TIMESTAMP_TOLERANCE, SinchCarrier, sign
from bot.types import InboundMedia, Reply

NOW = 1_717_660_357.0
SECRET = "sms-callback-secret"
TOKEN = "api-token-0123456789"
PLAN = "a1b2c3d4e5f6"
MEDIA_BASE = "https://sms.example.com/media"

# Published (sinch-sdk-python conversation tests, re-verified in §7.2): (secret, nonce, timestamp, body, signature).
VECTORS = {
    "sdk-conversation-delivery-report": (
        "foo_secret1234",
        "01FJA8B4A7BM43YGWSG9GBV067",
        "1634579353",
        b'{"app_id":"01EB37HMH1M6SV18BSNS3G135H","accepted_time":"2020-11-17T15:09:11.659Z",'
        b'"project_id":"c36f3d3d-1513-2edd-ae42-11995557ff61","message_delivery_report":'
        b'{"message_id":"01EQBC1A3BEK731GY4YXEN0C2R","conversation_id":"01EPYATA64TMNZ1FV02JKF12JF",'
        b'"status":"QUEUED_ON_CHANNEL","contact_id":"01EXA07N79THJ20WSN6AS30TMW"}}',
        "Yc+3R1pIS78xLASybulhs8BsSo9BPB3Pr92QCUoczfk=",
    ),
}
# The Numbers API's different scheme (hex HMAC-SHA1 of the body alone), published in the same SDK.
NUMBERS_SECRET = "my-callback-secret"
NUMBERS_BODY = (
    b'{"eventId":"event_id","timestamp":"2025-04-08T10:38:04.854087603","projectId":"project-id",'
    b'"resourceId":"+1234567890","resourceType":"ACTIVE_NUMBER","eventType":"PROVISIONING_TO_VOICE_PLATFORM",'
    b'"status":"SUCCEEDED","failureCode":null,"internalFailureCode":null}'
)
NUMBERS_SIGNATURE = "d2107528d5d52897a97dc6e24e09a208036ccd83"

# Captured shapes: the SDK e2e mo_text values (§7.1), and an mo_media built on the same fields.
MO_TEXT: dict[str, Any] = {
    "id": "01W4FFL35P4NC4K35SMSBATCH8",
    "from": "12015555555",
    "to": "12017777777",
    "body": "Hello John! 👋",
    "type": "mo_text",
    "operator_id": "311071",
    "received_at": "2024-06-06T07:52:37.386Z",
}
MO_MEDIA: dict[str, Any] = {
    "id": "01W4FFL35P4NC4K35SMSBATCH9",
    "from": "12015555555",
    "to": "12017777777",
    "type": "mo_media",
    "received_at": "2024-06-06T07:53:02.114Z",
    "body": {
        "subject": "Photo",
        "message": "Is this the right part?",
        "media": [
            {"url": "https://mms.sinch.com/media/01W4FF/part.jpg", "content_type": "image/jpeg", "status": "Uploaded",
             "code": 0},
            {"content_type": "video/mp4", "status": "Failed", "code": 3},
        ],
    },
}
RECIPIENT_REPORT: dict[str, Any] = {
    "at": "2024-06-06T08:17:19.210Z",
    "batch_id": "01FC66621XXXXX119Z8PMV1QPQ",
    "client_reference": "outbox-17",
    "code": 0,
    "operator_status_at": "2024-06-06T08:17:00Z",
    "recipient": "12015555555",
    "status": "Delivered",
    "type": "recipient_delivery_report_sms",
}
BATCH_REPORT: dict[str, Any] = {
    "batch_id": "01FC66621XXXXX119Z8PMV1QPQ",
    "client_reference": "outbox-17",
    "statuses": [
        {"code": 0, "count": 1, "recipients": ["12015555555"], "status": "Delivered"},
        {"code": 402, "count": 2, "recipients": ["12015555556", "447700900123"], "status": "Failed"},
    ],
    "total_message_count": 3,
    "type": "delivery_report_sms",
}


def make_carrier(secret: str = SECRET, base: str = "https://us.sms.api.sinch.com") -> SinchCarrier:
    return SinchCarrier(secret, PLAN, TOKEN, base)


def request(body: bytes, headers: Mapping[str, str] | None = None, now: float = NOW) -> WebhookRequest:
    url = "https://sms.example.com/webhooks/sinch"
    return WebhookRequest("POST", url, headers or {}, body, "application/json", now)


def hmac_b64(secret: str, message: bytes) -> str:
    return base64.b64encode(hmac.new(secret.encode(), message, hashlib.sha256).digest()).decode()


def signed(body: bytes, timestamp: str = str(int(NOW)), nonce: str = "01HZX5T6K9Q2R8", secret: str = SECRET,
           **extra: str) -> WebhookRequest:
    headers = {
        "x-sinch-webhook-signature": hmac_b64(secret, body + f".{nonce}.{timestamp}".encode()),
        "x-sinch-webhook-signature-nonce": nonce,
        "x-sinch-webhook-signature-timestamp": timestamp,
        **extra,
    }
    return request(body, headers)


def dumps(value: object) -> bytes:
    return json.dumps(value).encode()


def refused(call: Any, req: WebhookRequest) -> WebhookError:
    with pytest.raises(WebhookError) as info:
        call(req)
    return info.value


# -- vectors ------------------------------------------------------------------------------------

VECTOR_ARGS = ("secret", "nonce", "timestamp", "body", "signature")


@pytest.mark.parametrize(VECTOR_ARGS, VECTORS.values(), ids=VECTORS.keys())
def test_sign_matches_vector(secret: str, nonce: str, timestamp: str, body: bytes, signature: str) -> None:
    assert sign(secret, body, nonce, timestamp) == signature


@pytest.mark.parametrize(VECTOR_ARGS, VECTORS.values(), ids=VECTORS.keys())
def test_vector_verifies(secret: str, nonce: str, timestamp: str, body: bytes, signature: str) -> None:
    headers = {
        "X-Sinch-Webhook-Signature": signature,
        "X-Sinch-Webhook-Signature-Nonce": nonce,
        "X-Sinch-Webhook-Signature-Timestamp": timestamp,
        "X-Sinch-Webhook-Signature-Algorithm": "HmacSHA256",
    }
    make_carrier(secret).verify(request(body, headers, now=float(timestamp)))


@pytest.mark.parametrize(VECTOR_ARGS, VECTORS.values(), ids=VECTORS.keys())
@pytest.mark.parametrize("tamper", ["body", "nonce", "timestamp", "secret"])
def test_vector_tampered_is_refused(secret: str, nonce: str, timestamp: str, body: bytes, signature: str,
                                    tamper: str) -> None:
    if tamper == "body":
        body = body.replace(b"QUEUED_ON_CHANNEL", b"DELIVERED")
    elif tamper == "nonce":
        nonce = nonce[:-1] + "8"
    elif tamper == "timestamp":
        timestamp = str(int(timestamp) + 1)
    else:
        secret += "x"
    headers = {
        "x-sinch-webhook-signature": signature,
        "x-sinch-webhook-signature-nonce": nonce,
        "x-sinch-webhook-signature-timestamp": timestamp,
    }
    error = refused(make_carrier(secret).verify, request(body, headers, now=1_634_579_353))
    assert (error.status, error.code) == (403, "bad_signature")


def test_numbers_api_scheme_is_not_accepted_for_sms() -> None:
    # Pin the published Numbers vector, then show that scheme cannot pass as an SMS signature.
    assert hmac.new(NUMBERS_SECRET.encode(), NUMBERS_BODY, hashlib.sha1).hexdigest() == NUMBERS_SIGNATURE
    headers = {
        "x-sinch-webhook-signature": NUMBERS_SIGNATURE,
        "x-sinch-webhook-signature-nonce": "n",
        "x-sinch-webhook-signature-timestamp": str(int(NOW)),
    }
    error = refused(make_carrier(NUMBERS_SECRET).verify, request(NUMBERS_BODY, headers))
    assert (error.status, error.code) == (403, "bad_signature")


# -- verify with fresh secrets --------------------------------------------------------------------


@pytest.mark.parametrize("offset", [-TIMESTAMP_TOLERANCE, 0, TIMESTAMP_TOLERANCE])
def test_fresh_signature_inside_window_verifies(offset: int) -> None:
    make_carrier().verify(signed(dumps(MO_TEXT), str(int(NOW) + offset)))


@pytest.mark.parametrize("offset", [-TIMESTAMP_TOLERANCE - 1, TIMESTAMP_TOLERANCE + 1, -86_400])
def test_stale_timestamp_is_refused(offset: int) -> None:
    error = refused(make_carrier().verify, signed(dumps(MO_TEXT), str(int(NOW) + offset)))
    assert (error.status, error.code) == (403, "stale_timestamp")


def test_algorithm_header_spellings() -> None:
    header = "x-sinch-webhook-signature-algorithm"
    for name in ("HmacSHA256", "HMAC-SHA256", "hmacsha256"):
        make_carrier().verify(signed(dumps(MO_TEXT), **{header: name}))
    error = refused(make_carrier().verify, signed(dumps(MO_TEXT), **{header: "HmacSHA1"}))
    assert (error.status, error.code) == (403, "bad_signature")


def test_forged_signature_is_refused() -> None:
    error = refused(make_carrier().verify, signed(dumps(MO_TEXT), secret="guessed"))
    assert (error.status, error.code) == (403, "bad_signature")


@pytest.mark.parametrize(
    ("drop", "replace", "code"),
    [
        ("x-sinch-webhook-signature", {}, "missing_signature"),
        ("x-sinch-webhook-signature-nonce", {}, "missing_signature"),
        ("x-sinch-webhook-signature-timestamp", {}, "missing_signature"),
        ("", {"x-sinch-webhook-signature-timestamp": "2024-06-06T07:52:37Z"}, "bad_timestamp"),
        ("", {"x-sinch-webhook-signature-nonce": "nonce with spaces"}, "bad_nonce"),
        ("", {"x-sinch-webhook-signature": "not base64!"}, "bad_signature"),
        ("", {"x-sinch-webhook-signature": "ü" * 44}, "bad_signature"),
    ],
)
def test_malformed_signature_headers_are_forbidden(drop: str, replace: dict[str, str], code: str) -> None:
    headers = {k: v for k, v in signed(dumps(MO_TEXT)).headers.items() if k != drop} | replace
    error = refused(make_carrier().verify, request(dumps(MO_TEXT), headers))
    assert (error.status, error.code) == (403, code)


# -- inbound --------------------------------------------------------------------------------------


def test_mo_text() -> None:
    (message,) = make_carrier().parse(request(dumps(MO_TEXT)))
    assert message.channel == "sinch"
    assert message.provider_id == "01W4FFL35P4NC4K35SMSBATCH8"
    # Sinch omits the "+"; textdesk stores E.164 everywhere.
    assert (message.customer, message.business) == ("+12015555555", "+12017777777")
    assert message.text == "Hello John! 👋"
    assert message.media == ()


def test_mo_media_keeps_stored_attachments_only() -> None:
    (message,) = make_carrier().parse(request(dumps(MO_MEDIA)))
    assert message.text == "Is this the right part?"
    assert message.media == (InboundMedia("https://mms.sinch.com/media/01W4FF/part.jpg", "image/jpeg"),)


def test_mo_media_subject_when_no_message() -> None:
    event = json.loads(json.dumps(MO_MEDIA))
    del event["body"]["message"]
    assert make_carrier().parse(request(dumps(event)))[0].text == "Photo"


def test_short_code_and_plus_numbers_are_kept() -> None:
    event = {**MO_TEXT, "from": "+447700900123", "to": "54321"}
    (message,) = make_carrier().parse(request(dumps(event)))
    assert (message.customer, message.business) == ("+447700900123", "54321")


def test_binary_and_reports_carry_no_inbound_message() -> None:
    binary = {**MO_TEXT, "type": "mo_binary", "body": "SGVsbG8=", "udh": "050003010201"}
    assert make_carrier().parse(request(dumps(binary))) == ()
    assert make_carrier().parse(request(dumps(RECIPIENT_REPORT))) == ()
    assert make_carrier().parse_receipts(request(dumps(MO_TEXT))) == ()


@pytest.mark.parametrize(
    ("body", "code", "mentions"),
    [
        (b"\x80", "invalid_encoding", "UTF-8"),
        (b"", "invalid_json", "JSON"),
        (b'"mo_text"', "invalid_field", "the body"),
        (dumps({k: v for k, v in MO_TEXT.items() if k != "type"}), "missing_field", "type"),
        (dumps({k: v for k, v in MO_TEXT.items() if k != "id"}), "missing_field", "id"),
        (dumps({**MO_TEXT, "from": None}), "missing_field", "from"),
        (dumps({**MO_TEXT, "to": "1 201 777 7777"}), "invalid_field", "to"),
        (dumps({**MO_TEXT, "body": {"message": "hi"}}), "invalid_field", "body"),
        (dumps({**MO_TEXT, "body": "nul\x00"}), "invalid_field", "NUL"),
        (dumps({**MO_MEDIA, "body": "just text"}), "invalid_field", "body"),
        (dumps({**MO_MEDIA, "body": {"media": [{"url": "file:///etc/passwd", "status": "Uploaded"}]}}),
         "invalid_field", "body.media[0].url"),
    ],
)
def test_bad_inbound_is_a_clear_400(body: bytes, code: str, mentions: str) -> None:
    error = refused(make_carrier().parse, request(body))
    assert (error.status, error.code) == (400, code)
    assert mentions in error.message


# -- receipts -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "code", "expected", "error_code"),
    [
        ("Queued", 400, "queued", ""),
        ("Dispatched", 401, "sent", ""),
        ("Delivered", 0, "delivered", ""),
        ("DELIVERED", 0, "delivered", ""),
        ("Failed", 402, "undelivered", "402"),
        ("Expired", 406, "undelivered", "406"),
        ("Rejected", 403, "failed", "403"),
        ("Aborted", 407, "failed", "407"),
        ("Unknown", 410, "unknown", "410"),
    ],
)
def test_recipient_report(status: str, code: int, expected: str, error_code: str) -> None:
    report = {**RECIPIENT_REPORT, "status": status, "code": code}
    (receipt,) = make_carrier().parse_receipts(request(dumps(report)))
    assert (receipt.channel, receipt.provider_id, receipt.customer) == (
        "sinch", "01FC66621XXXXX119Z8PMV1QPQ", "+12015555555")
    assert (receipt.status, receipt.error_code) == (expected, error_code)


def test_batch_report_one_receipt_per_recipient() -> None:
    receipts = make_carrier().parse_receipts(request(dumps(BATCH_REPORT)))
    assert [(r.customer, r.status, r.error_code) for r in receipts] == [
        ("+12015555555", "delivered", ""),
        ("+12015555556", "undelivered", "402"),
        ("+447700900123", "undelivered", "402"),
    ]


def test_summary_batch_report_without_recipients() -> None:
    statuses = [{"code": 0, "count": 1, "status": "Delivered"}]
    summary = {**BATCH_REPORT, "type": "delivery_report_mms", "statuses": statuses}
    (receipt,) = make_carrier().parse_receipts(request(dumps(summary)))
    assert (receipt.provider_id, receipt.status, receipt.customer) == ("01FC66621XXXXX119Z8PMV1QPQ", "delivered", "")


def test_report_without_batch_id_is_400() -> None:
    report = {k: v for k, v in RECIPIENT_REPORT.items() if k != "batch_id"}
    error = refused(make_carrier().parse_receipts, request(dumps(report)))
    assert (error.status, error.code) == (400, "missing_field")


# -- outbound -------------------------------------------------------------------------------------


def test_outbound_sms_batch() -> None:
    http = make_carrier().outbound_request("+12015555555", "+12017777777", Reply("Open 9-5"), MEDIA_BASE, "outbox-17")
    assert (http.method, http.url) == ("POST", f"https://us.sms.api.sinch.com/xms/v1/{PLAN}/batches")
    assert http.headers["Authorization"] == f"Bearer {TOKEN}"
    assert http.headers["Content-Type"] == "application/json"
    assert json.loads(http.body) == {
        "from": "+12017777777",
        "to": ["+12015555555"],
        "body": "Open 9-5",
        "delivery_report": "per_recipient",
        "client_reference": "outbox-17",
    }


def test_outbound_media_become_links() -> None:
    reply = Reply("Our map:", ("map.png", "https://cdn.example.com/x.jpg"))
    http = make_carrier(base="https://eu.sms.api.sinch.com/").outbound_request("+1", "+2", reply, MEDIA_BASE, "k")
    assert http.url == f"https://eu.sms.api.sinch.com/xms/v1/{PLAN}/batches"
    assert json.loads(http.body)["body"] == f"Our map:\n{MEDIA_BASE}/map.png\nhttps://cdn.example.com/x.jpg"
    only = make_carrier().outbound_request("+1", "+2", Reply("", ("map.png",)), MEDIA_BASE, "k")
    assert json.loads(only.body)["body"] == f"{MEDIA_BASE}/map.png"


@pytest.mark.parametrize(
    ("status", "body", "ok", "provider_id", "retry", "mentions"),
    [
        (201, b'{"id":"01FC66621XXXXX119Z8PMV1QPQ","to":["12015555555"],"from":"12017777777","canceled":false}',
         True, "01FC66621XXXXX119Z8PMV1QPQ", False, ""),
        (200, b'{"id":"abc"}', True, "abc", False, ""),
        (202, b"{}", True, "", False, "no id"),
        (429, b'{"code":"too_many_requests","text":"Slow down"}', False, "", True, "too_many_requests: Slow down"),
        (500, b"", False, "", True, "HTTP 500"),
        (400, b'{"code":"syntax_invalid_json","text":"The JSON input is invalid."}', False, "", False,
         "syntax_invalid_json: The JSON input is invalid."),
        (401, b"Unauthorized", False, "", False, "HTTP 401"),
    ],
)
def test_parse_send_response(status: int, body: bytes, ok: bool, provider_id: str, retry: bool, mentions: str) -> None:
    result = make_carrier().parse_send_response(status, body)
    assert (result.ok, result.provider_id, result.status, result.retry) == (ok, provider_id, status, retry)
    assert mentions in result.error


# -- configuration and acknowledgement -----------------------------------------------------------


def test_from_env() -> None:
    env = {"SINCH_WEBHOOK_SECRET": SECRET, "SINCH_SERVICE_PLAN_ID": PLAN, "SINCH_API_TOKEN": TOKEN}
    assert SinchCarrier.from_env({}) is None
    assert SinchCarrier.from_env({k: v for k, v in env.items() if k != "SINCH_WEBHOOK_SECRET"}) is None
    carrier = SinchCarrier.from_env(env)
    assert carrier is not None and (carrier.name, carrier.sync_replies) == ("sinch", False)
    carrier.verify(signed(dumps(MO_TEXT)))
    custom = SinchCarrier.from_env({**env, "SINCH_API_BASE_URL": "http://fake:2"})
    assert custom is not None
    assert custom.outbound_request("+1", "+2", Reply("x"), MEDIA_BASE, "k").url.startswith("http://fake:2/xms/v1/")
    with pytest.raises(ValueError, match="SINCH_API_TOKEN"):
        SinchCarrier.from_env({"SINCH_WEBHOOK_SECRET": SECRET, "SINCH_SERVICE_PLAN_ID": PLAN})
    with pytest.raises(ValueError, match="SINCH_API_BASE_URL"):
        SinchCarrier.from_env({**env, "SINCH_API_BASE_URL": "ftp://x"})


def test_render_is_a_plain_acknowledgement() -> None:
    reply = make_carrier().render([Reply("ignored")], MEDIA_BASE)
    assert (reply.status, reply.body) == (200, "")


# -- fuzz: nothing but WebhookError, whatever arrives -------------------------------------------

LEAVES = (
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=12)
    | st.sampled_from(["\ud800", "a\udfff", "12015555555", "https://x.example/a.png", "mo_text", "mo_media",
                       "recipient_delivery_report_sms", "delivery_report_sms", "Failed", ""])
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


FUZZ_CARRIER = make_carrier()


def _only_webhook_errors(req: WebhookRequest) -> None:
    for call in (FUZZ_CARRIER.parse, FUZZ_CARRIER.parse_receipts):
        try:
            call(req)
        except WebhookError as exc:
            assert exc.status == 400 and exc.code and exc.message


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200))
def test_fuzz_arbitrary_bytes(body: bytes) -> None:
    _only_webhook_errors(request(body))


@settings(max_examples=300, deadline=None)
@given(JSON)
def test_fuzz_arbitrary_json(value: object) -> None:
    _only_webhook_errors(request(dumps(value)))


@settings(max_examples=500, deadline=None)
@given(st.one_of(*(mutated(t) for t in (MO_TEXT, MO_MEDIA, RECIPIENT_REPORT, BATCH_REPORT))))
def test_fuzz_mutated_callbacks(value: object) -> None:
    _only_webhook_errors(request(dumps(value)))


HEADER_NAMES = ["x-sinch-webhook-signature", "x-sinch-webhook-signature-nonce", "x-sinch-webhook-signature-timestamp",
                "x-sinch-webhook-signature-algorithm", "X-Sinch-Webhook-Signature"]


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.sampled_from(HEADER_NAMES), st.text(max_size=60)), st.binary(max_size=50),
       st.floats(allow_nan=False, allow_infinity=False))
def test_fuzz_verify(headers: dict[str, str], body: bytes, now: float) -> None:
    try:
        FUZZ_CARRIER.verify(request(body, headers, now))
    except WebhookError as exc:
        assert exc.status == 403

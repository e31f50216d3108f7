"""Tests for bot.carriers.bandwidth: HTTP Basic callbacks (carriers.md §6.2), event batches
(§6.1), delivery events (§6.4), the REST request we build, send responses, and a fuzzed parser.

Bandwidth publishes no signature vectors (it signs nothing); the Basic credentials are checked
against the RFC 7617 examples instead.
"""

from __future__ import annotations

import base64
import contextlib
import hmac
import json
import mimetypes
from collections.abc import Mapping
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.carriers.bandwidth import BandwidthCarrier
from bot.carriers.base import WebhookError, WebhookRequest
from bot.types import InboundMedia, Reply

MEDIA_BASE = "https://sms.example.com/media"
USER, PASSWORD = "textdesk", "s3cret:with-colon"
ENV = {
    "BANDWIDTH_WEBHOOK_USERNAME": USER,
    "BANDWIDTH_WEBHOOK_PASSWORD": PASSWORD,
    "BANDWIDTH_ACCOUNT_ID": "9900000",
    "BANDWIDTH_APPLICATION_ID": "93de2206-9669-4e07-948d-329f4b722ee2",
    "BANDWIDTH_API_USERNAME": "api-user",
    "BANDWIDTH_API_PASSWORD": "api-pass",
}
# RFC 7617 §2 and §2.1 examples: (user, password, Authorization header).
RFC7617 = {
    "rfc7617-aladdin": ("Aladdin", "open sesame", "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ=="),
    "rfc7617-utf8": ("test", "123\u00a3", "Basic dGVzdDoxMjPCow=="),
}

# The docs' inbound example (§6.1), verbatim.
INBOUND_SMS: list[dict[str, Any]] = [
    {
        "type": "message-received",
        "time": "2016-09-14T18:20:16Z",
        "description": "Incoming message received",
        "to": "+12345678902",
        "message": {
            "id": "14762070468292kw2fuqty55yp2b2",
            "time": "2016-09-14T18:20:16Z",
            "to": ["+12345678902"],
            "from": "+12345678901",
            "text": "Hey, check this out!",
            "applicationId": "93de2206-9669-4e07-948d-329f4b722ee2",
            "media": ["https://messaging.bandwidth.com/api/v2/users/{accountId}/media/14762070468292kw2fuqty55yp2b2/0/bw.png"],
            "owner": "+12345678902",
            "direction": "in",
            "segmentCount": 1,
        },
    }
]


def inbound(message_id: str, text: str, media: list[str], owner: str = "+12345678902",
            to: list[str] | None = None) -> dict[str, Any]:
    event: dict[str, Any] = json.loads(json.dumps(INBOUND_SMS[0]))
    event["to"] = owner
    event["message"].update(id=message_id, text=text, media=media, owner=owner, to=to or [owner])
    return event


def receipt(kind: str, error_code: int | None = None, description: str = "ok") -> dict[str, Any]:
    event: dict[str, Any] = {
        "type": kind,
        "time": "2016-09-14T18:20:17Z",
        "description": description,
        "to": "+12345678901",
        "message": {
            "id": "1589228074636lm4k2je7j7jklbn2",
            "time": "2016-09-14T18:20:16Z",
            "to": ["+12345678901"],
            "from": "+12345678902",
            "text": "",
            "applicationId": "93de2206-9669-4e07-948d-329f4b722ee2",
            "owner": "+12345678902",
            "direction": "out",
            "segmentCount": 1,
            "tag": "outbox-17",
        },
    }
    if error_code is not None:
        event["errorCode"] = error_code
    return event


INBOUND_MMS = [
    inbound(
        "16372830274kz6m3hufm3jrtbe5",
        "",
        [
            "https://messaging.bandwidth.com/api/v2/users/9900000/media/16372830274kz6m3hufm3jrtbe5/0/IMG_0001.jpg",
            "https://messaging.bandwidth.com/api/v2/users/9900000/media/16372830274kz6m3hufm3jrtbe5/1/part.smil",
        ],
    )
]


def make_carrier(user: str = USER, password: str = PASSWORD) -> BandwidthCarrier:
    return BandwidthCarrier(user, password, "9900000", "93de2206-9669-4e07-948d-329f4b722ee2", "api-user", "api-pass")


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def request(body: bytes, headers: Mapping[str, str] | None = None) -> WebhookRequest:
    url = "https://sms.example.com/webhooks/bandwidth"
    return WebhookRequest("POST", url, headers or {}, body, "application/json; charset=utf-8", 1_700_000_000.0)


def dumps(value: object) -> bytes:
    return json.dumps(value).encode()


def refused(call: Any, req: WebhookRequest) -> WebhookError:
    with pytest.raises(WebhookError) as info:
        call(req)
    return info.value


# -- Basic auth -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("user", "password", "header"), RFC7617.values(), ids=RFC7617.keys())
def test_rfc7617_vectors(user: str, password: str, header: str) -> None:
    make_carrier(user, password).verify(request(b"[]", {"Authorization": header}))
    assert basic(user, password) == header  # our test helper agrees with the RFC too


@pytest.mark.parametrize(("user", "password", "header"), RFC7617.values(), ids=RFC7617.keys())
def test_rfc7617_vectors_refused_with_other_credentials(user: str, password: str, header: str) -> None:
    error = refused(make_carrier(user, password + "x").verify, request(b"[]", {"Authorization": header}))
    assert (error.status, error.code) == (403, "bad_credentials")


def test_right_credentials_pass_any_header_case() -> None:
    make_carrier().verify(request(b"[]", {"authorization": basic(USER, PASSWORD)}))
    make_carrier().verify(request(b"[]", {"AUTHORIZATION": "basic " + basic(USER, PASSWORD)[6:]}))


@pytest.mark.parametrize(
    ("headers", "code"),
    [
        ({}, "missing_credentials"),
        ({"Authorization": ""}, "missing_credentials"),
        ({"Authorization": basic("intruder", PASSWORD)}, "bad_credentials"),
        ({"Authorization": basic(USER, "guess")}, "bad_credentials"),
        ({"Authorization": basic("intruder", "guess")}, "bad_credentials"),
        ({"Authorization": basic(USER, PASSWORD.split(":")[0])}, "bad_credentials"),
        ({"Authorization": "Bearer " + basic(USER, PASSWORD)[6:]}, "bad_credentials"),
        ({"Authorization": "Basic not-base64!"}, "bad_credentials"),
        ({"Authorization": "Basic " + base64.b64encode(b"no-colon").decode()}, "bad_credentials"),
        ({"Authorization": "Basic ÿÿÿÿ"}, "bad_credentials"),
    ],
)
def test_wrong_or_missing_credentials_are_forbidden(headers: dict[str, str], code: str) -> None:
    error = refused(make_carrier().verify, request(dumps(INBOUND_SMS), headers))
    assert (error.status, error.code) == (403, code)


@pytest.mark.parametrize(("user", "password"), [("intruder", PASSWORD), (USER, "guess"), ("x", "y"), (USER, PASSWORD)])
def test_both_halves_are_always_compared(monkeypatch: pytest.MonkeyPatch, user: str, password: str) -> None:
    calls: list[int] = []
    real = hmac.compare_digest

    def counting(a: bytes, b: bytes) -> bool:
        calls.append(1)
        return real(a, b)

    # The adapter looks compare_digest up on the hmac module at call time.
    monkeypatch.setattr(hmac, "compare_digest", counting)
    with contextlib.suppress(WebhookError):
        make_carrier().verify(request(b"[]", {"Authorization": basic(user, password)}))
    assert len(calls) == 2


# -- inbound --------------------------------------------------------------------------------------


def test_inbound_docs_example() -> None:
    (message,) = make_carrier().parse(request(dumps(INBOUND_SMS)))
    assert message.channel == "bandwidth"
    assert message.provider_id == "14762070468292kw2fuqty55yp2b2:message-received"  # message.id + type (§12)
    assert (message.customer, message.business) == ("+12345678901", "+12345678902")
    assert message.text == "Hey, check this out!"
    # No content type in Bandwidth's events: it is guessed from the file name.
    assert message.media == (InboundMedia(INBOUND_SMS[0]["message"]["media"][0], "image/png"),)


def test_inbound_mms_without_text() -> None:
    (message,) = make_carrier().parse(request(dumps(INBOUND_MMS)))
    assert message.text == ""
    assert [item.url for item in message.media] == INBOUND_MMS[0]["message"]["media"]
    # Bandwidth sends bare URLs: the type comes from the file name, when it has one.
    assert [item.content_type for item in message.media] == [
        mimetypes.guess_type(url.split("?")[0])[0] or "" for url in INBOUND_MMS[0]["message"]["media"]
    ]


def test_batch_with_several_events_in_order() -> None:
    batch = [
        inbound("m1", "first", []),
        receipt("message-delivered"),
        inbound("m2", "second", [], owner="+12345678903"),
        {"type": "some-future-event", "message": {}},
    ]
    carrier = make_carrier()
    messages = carrier.parse(request(dumps(batch)))
    assert [(m.provider_id, m.text, m.business) for m in messages] == [
        ("m1:message-received", "first", "+12345678902"),
        ("m2:message-received", "second", "+12345678903"),
    ]
    assert [r.provider_id for r in carrier.parse_receipts(request(dumps(batch)))] == ["1589228074636lm4k2je7j7jklbn2"]


def test_retried_delivery_has_the_same_idempotency_key() -> None:
    first = make_carrier().parse(request(dumps(INBOUND_SMS)))
    again = make_carrier().parse(request(json.dumps(INBOUND_SMS, indent=2).encode()))
    assert first[0].provider_id == again[0].provider_id


def test_group_message_business_is_the_owner() -> None:
    event = inbound("g1", "hi all", [], owner="+12345678903", to=["+12345678902", "+12345678903", "+19195550000"])
    (message,) = make_carrier().parse(request(dumps([event])))
    assert message.business == "+12345678903"


def test_owner_falls_back_to_event_to_then_message_to() -> None:
    event = inbound("o1", "hi", [])
    del event["message"]["owner"]
    assert make_carrier().parse(request(dumps([event])))[0].business == "+12345678902"
    del event["to"]
    event["message"]["to"] = ["+12345678909"]
    assert make_carrier().parse(request(dumps([event])))[0].business == "+12345678909"


def test_own_outbound_message_is_never_treated_as_inbound() -> None:
    event = inbound("loop", "echo", [])
    event["message"]["direction"] = "out"
    assert make_carrier().parse(request(dumps([event]))) == ()


def test_empty_batch() -> None:
    assert make_carrier().parse(request(b"[]")) == ()
    assert make_carrier().parse_receipts(request(b"[]")) == ()


def _broken(key: str, value: object) -> bytes:
    event = inbound("b1", "text", [])
    if value is KeyError:
        del event["message"][key]
    else:
        event["message"][key] = value
    return dumps([event])


@pytest.mark.parametrize(
    ("body", "code", "mentions"),
    [
        (b"\xc3\x28", "invalid_encoding", "UTF-8"),
        (b"[{]", "invalid_json", "JSON"),
        (dumps(INBOUND_SMS[0]), "invalid_json", "JSON array"),
        (b"[42]", "invalid_field", "[0]"),
        (b'[{"message": {}}]', "missing_field", "[0].type"),
        (b'[{"type": "message-received"}]', "missing_field", "[0].message"),
        (_broken("id", KeyError), "missing_field", "[0].message.id"),
        (_broken("id", "bad id"), "invalid_field", "[0].message.id"),
        (_broken("from", KeyError), "missing_field", "[0].message.from"),
        (_broken("from", 12345678901), "invalid_field", "[0].message.from"),
        (_broken("text", 7), "invalid_field", "[0].message.text"),
        (_broken("text", "\ud83d"), "invalid_field", "surrogate"),
        (_broken("media", "https://x.example/a.png"), "invalid_field", "[0].message.media"),
        (_broken("media", ["javascript:alert(1)"]), "invalid_field", "[0].message.media[0]"),
        (_broken("media", [{"url": "https://x.example/a.png"}]), "invalid_field", "[0].message.media[0]"),
        # urlsplit refuses an unclosed IPv6 bracket: a 400 that names the field, never a 500.
        (_broken("media", ["https://[x/a.png"]), "invalid_field", "[0].message.media[0]"),
    ],
)
def test_bad_inbound_is_a_clear_400(body: bytes, code: str, mentions: str) -> None:
    error = refused(make_carrier().parse, request(body))
    assert (error.status, error.code) == (400, code)
    assert mentions in error.message


def test_one_bad_event_refuses_the_batch() -> None:
    # Bandwidth redelivers the whole batch; a half-processed batch would be worse than a retry.
    batch = [inbound("ok1", "fine", []), inbound("bad id", "broken", [])]
    assert refused(make_carrier().parse, request(dumps(batch))).status == 400


# -- receipts -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "error_code", "status", "expected_code"),
    [
        ("message-delivered", None, "delivered", ""),
        ("message-delivered", 0, "delivered", ""),
        ("message-sending", None, "sending", ""),
        ("message-failed", 4432, "failed", "4432"),
        ("message-failed", "4720", "failed", "4720"),
    ],
)
def test_receipts(kind: str, error_code: int | str | None, status: str, expected_code: str) -> None:
    event = receipt(kind, error_code if isinstance(error_code, int) else None)
    if isinstance(error_code, str):
        event["errorCode"] = error_code
    (got,) = make_carrier().parse_receipts(request(dumps([event])))
    assert (got.channel, got.provider_id, got.status, got.error_code) == (
        "bandwidth", "1589228074636lm4k2je7j7jklbn2", status, expected_code)
    assert (got.customer, got.business) == ("+12345678901", "+12345678902")


def test_carrier_reported_opt_out() -> None:
    event = receipt("message-failed", 4775, "destination-rejected-due-to-user-opt-out")
    (got,) = make_carrier().parse_receipts(request(dumps([event])))
    assert (got.status, got.error_code, got.opted_out) == ("failed", "4775", True)
    (other,) = make_carrier().parse_receipts(request(dumps([receipt("message-failed", 4432)])))
    assert not other.opted_out


def test_inbound_events_carry_no_receipts() -> None:
    assert make_carrier().parse_receipts(request(dumps(INBOUND_SMS))) == ()
    assert make_carrier().parse(request(dumps([receipt("message-failed", 4432)]))) == ()


# -- outbound -------------------------------------------------------------------------------------


def test_outbound_sms_request() -> None:
    http = make_carrier().outbound_request("+12345678901", "+12345678902", Reply("Hello"), MEDIA_BASE, "outbox-17")
    assert (http.method, http.url) == ("POST", "https://messaging.bandwidth.com/api/v2/users/9900000/messages")
    assert http.headers["Authorization"] == "Basic " + base64.b64encode(b"api-user:api-pass").decode()
    assert http.headers["Content-Type"] == "application/json"
    assert json.loads(http.body) == {
        "applicationId": "93de2206-9669-4e07-948d-329f4b722ee2",
        "to": ["+12345678901"],
        "from": "+12345678902",
        "text": "Hello",
        "tag": "outbox-17",
    }


def test_outbound_mms_request() -> None:
    reply = Reply("", ("hours card.png", "https://cdn.example.com/b.gif"))
    http = make_carrier().outbound_request("+12345678901", "+12345678902", reply, MEDIA_BASE, "k")
    body = json.loads(http.body)
    assert body["media"] == [f"{MEDIA_BASE}/hours%20card.png", "https://cdn.example.com/b.gif"]
    assert "text" not in body


def test_outbound_uses_configured_base_url() -> None:
    carrier = BandwidthCarrier.from_env({**ENV, "BANDWIDTH_API_BASE_URL": "http://127.0.0.1:9/"})
    assert carrier is not None
    http = carrier.outbound_request("+1", "+2", Reply("x"), MEDIA_BASE, "k")
    assert http.url == "http://127.0.0.1:9/api/v2/users/9900000/messages"


@pytest.mark.parametrize(
    ("status", "body", "ok", "provider_id", "retry", "mentions"),
    [
        (202, b'{"id":"1589228074636lm4k2je7j7jklbn2","owner":"+12345678902","tag":"outbox-17"}', True,
         "1589228074636lm4k2je7j7jklbn2", False, ""),
        (200, b'{"id":"abc"}', True, "abc", False, ""),
        (202, b"", True, "", False, "no id"),
        (429, b'{"type":"max-message-queue-size-exceeded","description":"slow down"}', False, "", True,
         "max-message-queue-size-exceeded; slow down"),
        (500, b"Internal Server Error", False, "", True, "HTTP 500"),
        (400, b'{"type":"request-validation","description":"Your request could not be accepted.",'
              b'"fieldErrors":[{"fieldName":"to","description":"\'+1\' must be E164"}]}', False, "", False,
         "to: '+1' must be E164"),
        (403, b'{"type":"forbidden","description":"Access denied"}', False, "", False, "forbidden"),
    ],
)
def test_parse_send_response(status: int, body: bytes, ok: bool, provider_id: str, retry: bool, mentions: str) -> None:
    result = make_carrier().parse_send_response(status, body)
    assert (result.ok, result.provider_id, result.status, result.retry) == (ok, provider_id, status, retry)
    assert mentions in result.error


# -- configuration and acknowledgement -----------------------------------------------------------


def test_from_env() -> None:
    assert BandwidthCarrier.from_env({}) is None
    assert BandwidthCarrier.from_env({k: v for k, v in ENV.items() if "WEBHOOK" not in k}) is None
    carrier = BandwidthCarrier.from_env(ENV)
    assert carrier is not None and (carrier.name, carrier.sync_replies) == ("bandwidth", False)
    carrier.verify(request(b"[]", {"Authorization": basic(USER, PASSWORD)}))
    with pytest.raises(ValueError, match="BANDWIDTH_WEBHOOK_PASSWORD"):
        BandwidthCarrier.from_env({"BANDWIDTH_WEBHOOK_USERNAME": USER})
    with pytest.raises(ValueError, match="BANDWIDTH_APPLICATION_ID"):
        BandwidthCarrier.from_env({k: v for k, v in ENV.items() if k != "BANDWIDTH_APPLICATION_ID"})
    with pytest.raises(ValueError, match="BANDWIDTH_API_BASE_URL"):
        BandwidthCarrier.from_env({**ENV, "BANDWIDTH_API_BASE_URL": "messaging.bandwidth.com"})


def test_render_is_a_plain_acknowledgement() -> None:
    reply = make_carrier().render([Reply("ignored")], MEDIA_BASE)
    assert (reply.status, reply.body) == (200, "")


# -- fuzz: nothing but WebhookError, whatever arrives -------------------------------------------

LEAVES = (
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=12)
    | st.sampled_from(["\ud800", "a\udfff", "+15555550100", "https://x.example/a.png", "message-received",
                       "message-failed", "out", ""])
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
@given(mutated([*INBOUND_SMS, *INBOUND_MMS, receipt("message-failed", 4432), receipt("message-delivered")]))
def test_fuzz_mutated_batches(value: object) -> None:
    _only_webhook_errors(request(dumps(value)))


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.sampled_from(["Authorization", "authorization", "x"]),
                       st.one_of(st.text(max_size=60), st.builds(lambda b: "Basic " + base64.b64encode(b).decode(),
                                                                 st.binary(max_size=40)))))
def test_fuzz_verify(headers: dict[str, str]) -> None:
    try:
        FUZZ_CARRIER.verify(request(b"[]", headers))
    except WebhookError as exc:
        assert exc.status == 403

"""The form carriers (Twilio, Plivo, Vonage SMS) read a webhook's form through ``WebhookRequest.form``
(``query_form`` for a GET).

The body is decoded once per request, however many of ``verify``, ``parse`` and
``parse_receipts`` read it; each request has its own; and a malformed body is
refused with each carrier's own 400, the same from ``verify`` as from ``parse``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl, urlencode

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.carriers.base import Carrier, FormError, WebhookError, WebhookRequest
from bot.carriers.plivo import PlivoCarrier, signature_v3
from bot.carriers.twilio import TwilioCarrier
from bot.carriers.twilio_signature import compute_signature as twilio_signature
from bot.carriers.vonage_sms import VonageSmsCarrier
from bot.carriers.vonage_sms import compute_signature as vonage_sms_signature

FORM = "application/x-www-form-urlencoded"
URL = "https://sms.example.com/webhooks/carrier"
NOW = 1_700_000_000.0
TOKEN = "form-seam-token"
CUSTOMER, BUSINESS = "+15550001234", "+15555550100"
Signed = tuple[list[tuple[str, str]], dict[str, str]]  # a webhook's fields and its signature headers


class CountingBody(bytes):
    """A request body that counts its decodes: where parsing a form starts, whoever parses it."""

    decodes = 0

    def decode(self, encoding: str = "utf-8", errors: str = "strict") -> str:
        self.decodes += 1
        return super().decode(encoding, errors)


def _twilio(text: str, sid: str = "SM" + "a" * 32) -> Signed:
    fields = [("MessageSid", sid), ("From", CUSTOMER), ("To", BUSINESS), ("Body", text), ("NumMedia", "0")]
    return fields, {"X-Twilio-Signature": twilio_signature(TOKEN, URL, fields)}


def _plivo(text: str, sid: str = "3f6c1b04-8a2e-11ee-b9d1-0242ac120002") -> Signed:
    fields = [("From", CUSTOMER[1:]), ("To", BUSINESS[1:]), ("Text", text), ("Type", "sms"), ("MessageUUID", sid)]
    signature = signature_v3("POST", URL, fields, "98765", TOKEN)
    return fields, {"X-Plivo-Signature-V3": signature, "X-Plivo-Signature-V3-Nonce": "98765"}


def _vonage_sms(text: str, sid: str = "0A0000001234ABCD") -> Signed:
    params = {"msisdn": CUSTOMER[1:], "to": BUSINESS[1:], "messageId": sid, "text": text, "type": "text",
              "timestamp": str(int(NOW))}  # fmt: skip
    return [*params.items(), ("sig", vonage_sms_signature(params, TOKEN, "md5hash"))], {}


CARRIERS: dict[str, tuple[Callable[[], Carrier], Callable[..., Signed]]] = {
    "twilio": (lambda: TwilioCarrier(TOKEN), _twilio),
    "plivo": (lambda: PlivoCarrier("MA1", TOKEN), _plivo),
    "vonage-sms": (lambda: VonageSmsCarrier(TOKEN, "md5hash", "key", "secret"), _vonage_sms),
}
SIDS = {"twilio": "SM" + "b" * 32, "plivo": "5a7c2e10-8a2e-11ee-b9d1-0242ac120002", "vonage-sms": "0B0000001234ABCD"}


def signed_request(name: str, text: str, body_type: type[bytes] = bytes, **kwargs: Any) -> WebhookRequest:
    fields, headers = CARRIERS[name][1](text, **kwargs)
    return WebhookRequest("POST", URL, headers, body_type(urlencode(fields).encode()), FORM, NOW)


# -- parsed once, per request ---------------------------------------------------------------------


@pytest.mark.parametrize("name", CARRIERS)
def test_verify_then_parse_decodes_the_body_once(name: str) -> None:
    carrier = CARRIERS[name][0]()
    request = signed_request(name, "a+b é & c=d", CountingBody)
    carrier.verify(request)
    (message,) = carrier.parse(request)
    carrier.parse(request)
    if name != "twilio":  # Twilio's receipts come to their own URL; the others' may come here
        carrier.parse_receipts(request)
    assert message.text == "a+b é & c=d"  # "+", "%2B", "&" and UTF-8 escapes came through decoded
    assert (message.customer, message.business) == (CUSTOMER, BUSINESS)
    assert isinstance(request.body, CountingBody) and request.body.decodes == 1


@pytest.mark.parametrize("name", CARRIERS)
def test_each_request_reads_its_own_form(name: str) -> None:
    carrier = CARRIERS[name][0]()
    first, second = signed_request(name, "one"), signed_request(name, "two", sid=SIDS[name])
    carrier.verify(first)
    carrier.verify(second)
    assert [m.text for m in carrier.parse(first)] == ["one"]
    assert [m.text for m in carrier.parse(second)] == ["two"]


@pytest.mark.parametrize("name", CARRIERS)
def test_a_copy_with_a_tampered_body_is_parsed_again_and_refused(name: str) -> None:
    carrier = CARRIERS[name][0]()
    good = signed_request(name, "hours?")
    carrier.verify(good)
    tampered = dataclasses.replace(good, body=good.body.replace(b"hours", b"STOP!"))
    with pytest.raises(WebhookError) as refused:
        carrier.verify(tampered)
    assert refused.value.status == 403
    assert [m.text for m in carrier.parse(tampered)] == ["STOP!?"]


def test_the_pairs_are_shared_and_immutable() -> None:
    request = WebhookRequest("POST", URL, {}, b"a=1&b=%41+B&a=1&c", FORM, NOW)
    pairs = request.form(100)
    assert pairs == (("a", "1"), ("b", "A B"), ("a", "1"), ("c", ""))
    assert isinstance(pairs, tuple) and request.form(100) is pairs
    assert request == WebhookRequest("POST", URL, {}, b"a=1&b=%41+B&a=1&c", FORM, NOW)  # the cache is no field


def test_another_field_limit_is_checked_again() -> None:
    request = WebhookRequest("POST", URL, {}, b"&".join([b"f=x"] * 150), FORM, NOW)
    assert len(request.form(200)) == 150
    with pytest.raises(FormError, match="Max number of fields exceeded"):
        request.form(100)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.text(st.sampled_from("ab+=&%;2FCe\u00e9\x00 "), max_size=12), max_size=30).map("&".join),
    st.sampled_from([3, 100, 200]),
)
def test_form_is_parse_qsl(text: str, limit: int) -> None:
    """What parse_qsl gives, and where it refuses, the same reason."""
    request = WebhookRequest("POST", URL, {}, text.encode("utf-8"), FORM, NOW)
    try:
        expected = parse_qsl(text, keep_blank_values=True, max_num_fields=limit, errors="strict")
    except ValueError as exc:  # UnicodeDecodeError is a ValueError
        with pytest.raises(FormError) as refused:
            request.form(limit)
        assert str(refused.value) == str(exc)
        return
    assert list(request.form(limit)) == expected


# -- malformed bodies: each carrier's own 400, from verify and from parse --------------------------

UNDECODABLE = "'utf-8' codec can't decode byte 0xff in position 0: invalid start byte"
TOO_MANY = "Max number of fields exceeded"
MALFORMED = [  # (carrier, body, code, message)
    ("twilio", b"\xff", "invalid_encoding", "the form body is not valid UTF-8 (byte 0)"),
    ("twilio", b"x=\xed\xa0\x80", "invalid_encoding", "the form body is not valid UTF-8 (byte 2)"),
    ("twilio", b"Body=%ff", "invalid_form", f"the form body could not be parsed: {UNDECODABLE}"),
    ("twilio", b"a=1" + b"&" * 200, "invalid_form", f"the form body could not be parsed: {TOO_MANY}"),
    ("twilio", b"\xff" + b"&" * 300, "invalid_encoding", "the form body is not valid UTF-8 (byte 0)"),
    ("twilio", b"a=%ff" + b"&" * 300, "invalid_form", f"the form body could not be parsed: {TOO_MANY}"),
    ("plivo", b"\xff", "invalid_form", f"the parameters could not be read: {UNDECODABLE}"),
    ("plivo", b"Text=%ff", "invalid_form", f"the parameters could not be read: {UNDECODABLE}"),
    ("plivo", b"a=1" + b"&" * 100, "invalid_form", f"the parameters could not be read: {TOO_MANY}"),
    ("plivo", b"\xff" + b"&" * 300, "invalid_form", f"the parameters could not be read: {UNDECODABLE}"),
    ("vonage-sms", b"\xff", "invalid_body", f"the parameters could not be read: {UNDECODABLE}"),
    ("vonage-sms", b"text=%ff", "invalid_body", f"the parameters could not be read: {UNDECODABLE}"),
    ("vonage-sms", b"a=1" + b"&" * 100, "invalid_body", f"the parameters could not be read: {TOO_MANY}"),
    ("vonage-sms", b"a=%ff" + b"&" * 300, "invalid_body", f"the parameters could not be read: {TOO_MANY}"),
]


@pytest.mark.parametrize(("name", "body", "code", "message"), MALFORMED)
def test_a_malformed_body_is_the_carriers_own_400(name: str, body: bytes, code: str, message: str) -> None:
    carrier = CARRIERS[name][0]()
    request = WebhookRequest("POST", URL, {}, body, FORM, NOW)
    for call in (carrier.verify, carrier.parse, carrier.verify):  # a refusal is not cached away
        with pytest.raises(WebhookError) as refused:
            call(request)
        assert (refused.value.status, refused.value.code, refused.value.message) == (400, code, message)


@pytest.mark.parametrize("name", CARRIERS)
def test_the_field_limit_is_the_carriers_own(name: str) -> None:
    carrier, limit = CARRIERS[name][0](), 200 if name == "twilio" else 100
    fields, _ = CARRIERS[name][1]("hi")
    request = WebhookRequest("POST", URL, {}, urlencode(fields).encode() + b"&" * (limit - len(fields)), FORM, NOW)
    assert [m.text for m in carrier.parse(request)] == ["hi"]  # exactly the limit: accepted
    over = dataclasses.replace(request, body=request.body + b"&")
    with pytest.raises(WebhookError, match=TOO_MANY):
        carrier.parse(over)


@pytest.mark.parametrize("name", CARRIERS)
def test_a_repeated_field_must_repeat_its_value(name: str) -> None:
    carrier = CARRIERS[name][0]()
    fields, _ = CARRIERS[name][1]("hi")
    again = WebhookRequest("POST", URL, {}, urlencode([*fields, fields[1]]).encode(), FORM, NOW)
    assert [m.text for m in carrier.parse(again)] == ["hi"]
    other = WebhookRequest("POST", URL, {}, urlencode([*fields, (fields[1][0], "15550009999")]).encode(), FORM, NOW)
    with pytest.raises(WebhookError) as refused:
        carrier.parse(other)
    assert (refused.value.status, refused.value.code) == (400, "duplicate_field")


# -- GET: the form is the URL query -----------------------------------------------------------------


def test_the_query_pairs_are_kept_per_request() -> None:
    request = WebhookRequest("GET", f"{URL}?a=1&b=%41+B&a=1&c", {}, b"", "", NOW)
    pairs = request.query_form(100)
    assert pairs == (("a", "1"), ("b", "A B"), ("a", "1"), ("c", ""))
    assert isinstance(pairs, tuple) and request.query_form(100) is pairs  # the very tuple: not parsed again
    assert request == WebhookRequest("GET", f"{URL}?a=1&b=%41+B&a=1&c", {}, b"", "", NOW)  # the cache is no field
    assert request.form(100) == ()  # the body's form is another thing, kept apart
    assert dataclasses.replace(request, url=f"{URL}?z=9").query_form(100) == (("z", "9"),)  # a copy reads its own


def test_a_query_refusal_is_not_kept() -> None:
    request = WebhookRequest("GET", URL + "?" + "&".join(["f=x"] * 150), {}, b"", "", NOW)
    pairs = request.query_form(200)
    for _ in range(2):
        with pytest.raises(FormError, match=TOO_MANY):
            request.query_form(100)
    assert request.query_form(200) is pairs
    unsplittable = WebhookRequest("GET", "https://[::1/webhooks/carrier?a=1", {}, b"", "", NOW)
    for _ in range(2):
        with pytest.raises(ValueError, match="Invalid IPv6 URL") as refused:
            unsplittable.query_form(100)
        assert not isinstance(refused.value, FormError)  # what urlsplit raises, as before


TEXT_FIELDS = {"twilio": "Body", "plivo": "Text", "vonage-sms": "text"}


@pytest.mark.parametrize("name", CARRIERS)
def test_a_get_reads_its_query_once(name: str) -> None:
    carrier, limit = CARRIERS[name][0](), 200 if name == "twilio" else 100
    fields, _ = CARRIERS[name][1]("a+b é & c=d")
    request = WebhookRequest("GET", f"{URL}?{urlencode(fields)}", {}, b"", "", NOW)
    if name == "vonage-sms":  # its sig is a parameter, so a GET is signed as a POST is
        carrier.verify(request)
    (message,) = carrier.parse(request)
    carrier.parse(request)
    if name != "twilio":  # Twilio's receipts come to their own URL; the others' may come here
        carrier.parse_receipts(request)
    assert message.text == "a+b é & c=d"
    # The very string the first parse made (unquoting makes a new one each time): the query was read once.
    assert message.text is dict(request.query_form(limit))[TEXT_FIELDS[name]]


GET_MALFORMED = [  # (carrier, query, code, message)
    ("twilio", "Body=%ff", "invalid_form", f"the query string could not be parsed: {UNDECODABLE}"),
    ("twilio", "a=1" + "&" * 200, "invalid_form", f"the query string could not be parsed: {TOO_MANY}"),
    # A raw non-UTF-8 byte in the URL reaches us as a lone surrogate (aiohttp's surrogateescape).
    ("twilio", "Body=\udcff", "invalid_encoding", "the query string is not valid UTF-8"),
    ("plivo", "Text=%ff", "invalid_form", f"the parameters could not be read: {UNDECODABLE}"),
    ("plivo", "a=1" + "&" * 100, "invalid_form", f"the parameters could not be read: {TOO_MANY}"),
    ("vonage-sms", "text=%ff", "invalid_body", f"the parameters could not be read: {UNDECODABLE}"),
    ("vonage-sms", "a=1" + "&" * 100, "invalid_body", f"the parameters could not be read: {TOO_MANY}"),
]


@pytest.mark.parametrize(("name", "query", "code", "message"), GET_MALFORMED, ids=lambda v: str(v)[:16])
def test_a_get_whose_query_is_no_form_is_refused_for_its_query(name: str, query: str, code: str, message: str) -> None:
    """A GET has no body: its refusal names the query (Twilio) or the parameters (the others), never a body."""
    carrier = CARRIERS[name][0]()
    request = WebhookRequest("GET", f"{URL}?{query}", {}, b"", "", NOW)
    calls = [carrier.parse, carrier.parse_receipts, carrier.parse]  # a refusal is not cached away
    if name != "twilio":  # Twilio signs a GET's URL whole, so its verify reads no parameters
        calls.append(carrier.verify)
    for call in calls:
        with pytest.raises(WebhookError) as refused:
            call(request)
        assert (refused.value.status, refused.value.code, refused.value.message) == (400, code, message)
        assert "body" not in refused.value.message


def test_a_twilio_get_whose_url_cannot_be_split_is_a_400() -> None:
    carrier = CARRIERS["twilio"][0]()
    request = WebhookRequest("GET", "https://[::1/webhooks/twilio?Body=hi", {}, b"", "", NOW)
    with pytest.raises(WebhookError) as refused:
        carrier.parse(request)
    assert (refused.value.status, refused.value.code) == (400, "invalid_form")
    assert refused.value.message.startswith("the query string could not be parsed")

"""Tests for bot.carriers.vonage_sms: every published ``sig`` vector V1–V20 of carriers.md §3.2
(§13), each also verified end to end as a webhook; captured-shape inbound messages as GET,
form and JSON; concatenated parts; receipts; the REST request; send answers; fuzzed parsers.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs, urlencode

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.carriers.base import WebhookError, WebhookRequest
from bot.carriers.vonage_sms import TIMESTAMP_WINDOW, VonageSmsCarrier, compute_signature
from bot.types import Reply

URL = "https://sms.example.com/webhooks/vonage-sms"
MEDIA_BASE = "https://sms.example.com/media"
FORM = "application/x-www-form-urlencoded"

P_V1 = {"a": "1", "b": "2", "timestamp": "1461605396"}
P_V6 = {"message-timestamp": "2013-11-21 15:27:30", "messageId": "020000001B0FE827", "msisdn": "14843472194",
        "text": "Test again", "timestamp": "1385047698", "to": "13239877404", "type": "text"}  # fmt: skip
P_V11 = {"a": "alphabet", "b": "bananas", "timestamp": "2100"}
P_V17 = {"param1": "value1", "param2": "value2", "timestamp": "1234567890"}
# (secret, params, method, published sig), carriers.md §3.2.
VECTORS: dict[str, tuple[str, dict[str, str], str, str]] = {
    "V1": ("secret", P_V1, "md5hash", "6af838ef94998832dbfc29020b564830"),
    "V2": ("secret", P_V1, "md5", "c15c21ced558c93a226c305f58f902f2"),
    "V3": ("secret", P_V1, "sha1", "3e19a4e6880fdc2c1426bfd0587c98b9532f0210"),
    "V4": ("secret", P_V1, "sha256", "a321e824b9b816be7c3f28859a31749a098713d39f613c80d455bbaffae1cd24"),
    "V5": ("secret", P_V1, "sha512", "812a18f76680fa0fe1b8bd9ee1625466ceb1bd96242e4d050d2cfd9a7b40166c63ed26ec9702168"
                                     "781b6edcf1633db8ff95af9341701004eec3fcf9550572ee8"),
    "V6": ("my_secret_key_for_testing", P_V6, "md5hash", "d2e7b1dc968737c5998ad624e02f90b7"),
    "V7": ("my_secret_key_for_testing", P_V6, "md5", "DDEBD46008C2D4E93CCE578A332A52D5"),
    "V8": ("my_secret_key_for_testing", P_V6, "sha1", "27D0D05C2876C7CB1720DBCDBA4D492E1E55C09A"),
    "V9": ("my_secret_key_for_testing", P_V6, "sha256",
           "DDB8397C2B90AAC7F3882D306475C9A5058C92322EEF43C92B298B6E0FC0D330"),
    "V10": ("my_secret_key_for_testing", P_V6, "sha512", "E0D3C650F8C9D1A5C174D10DDDBFB003E561F59B265616208B0487C5D81"
            "9481CD3C311D59CF6165ECD1139622D5BA3A256C0D763AC4A9AD9144B5A426B94FE82"),
    "V11": ("abcde", P_V11, "md5hash", "7d43241108912b32cc315b48ce681acf"),
    "V12": ("abcde", P_V11, "md5", "e0afe267aefd6dd18a848c1681517a19"),
    "V13": ("abcde", P_V11, "sha1", "b7f749de27b4adcf736cc95c9a7e059a16c85127"),
    "V14": ("abcde", P_V11, "sha256", "8d1b0428276b6a070578225914c3502cc0687a454dfbbbb370c76a14234cb546"),
    "V15": ("abcde", P_V11, "sha512", "1c834a1f6a377d4473971387b065cb38e2ad6c4869ba77b7b53e207a344e87ba04b456dfc697b3"
            "71a2d1ce476d01dafd4394aa97525eff23badad39d2389a710"),
    "V16": ("abcde", {"a": "alphabet", "timestamp": "2100"}, "md5hash", "a3368bf718ba104dcb392d8877e8eb2b"),
    "V17": ("signature_secret", P_V17, "md5", "724c2bf6ca423c36e20631b11d1c5753"),
    "V18": ("signature_secret", {"param1": "value&1", "param2": "value=2", "timestamp": "1234567890"}, "md5",
            "2bbf0abafb2c55e5af6231513896a2ac"),
    "V19": ("signature_secret", P_V17, "sha256", "280c4320703dbc98bfa22db676655ed2acfbfe8792b062ff7622e67f1183c287"),
    "V20": ("signature_secret", {"param": "value", "timestamp": "1234567890"}, "md5",
            "655a4d0b7f064dff438defc52b012cf5"),
}  # fmt: skip
VECTOR_NAMES = [f"V{number}" for number in range(1, 21)]

SECRET, METHOD = "my_secret_key_for_testing", "sha256"
# Captured shape of an inbound SMS (the V6 message, from the node SDK's data set, §3.1).
INBOUND = dict(P_V6)
NOW = float(P_V6["timestamp"])
DLR = {"msisdn": "14843472194", "to": "13239877404", "network-code": "310260", "messageId": "0A0000001234ABCD",
       "price": "0.00570000", "status": "delivered", "scts": "2001011400", "err-code": "0", "api-key": "abcd1234",
       "client-ref": "turn-1", "message-timestamp": "2020-01-01 14:00:00", "timestamp": P_V6["timestamp"],
       "nonce": "ec11dd3e-1e7f-4db5-9467-82b02cd223b9"}  # fmt: skip


def carrier(method: str = METHOD, secret: str = SECRET, **overrides: str) -> VonageSmsCarrier:
    args = {"api_key": "abcd1234", "api_secret": "s3cr3t"} | overrides
    return VonageSmsCarrier(secret, method, **args)


def with_sig(params: dict[str, str], secret: str = SECRET, method: str = METHOD) -> dict[str, str]:
    return params | {"sig": compute_signature(params, secret, method)}


def get(params: dict[str, str], now: float = NOW) -> WebhookRequest:
    return WebhookRequest("GET", f"{URL}?{urlencode(params)}", {}, b"", "", now)


def form(params: dict[str, str], now: float = NOW) -> WebhookRequest:
    return WebhookRequest("POST", URL, {}, urlencode(params).encode(), FORM, now)


def as_json(params: dict[str, Any], now: float = NOW) -> WebhookRequest:
    return WebhookRequest("POST", URL, {}, json.dumps(params).encode(), "application/json; charset=utf-8", now)


def refused(req: WebhookRequest, code: str, method: str = METHOD, secret: str = SECRET) -> None:
    with pytest.raises(WebhookError) as info:
        carrier(method, secret).verify(req)
    assert (info.value.status, info.value.code) == (403, code), info.value.message


# -- vectors ------------------------------------------------------------------------------------


def test_all_twenty_vectors_are_listed() -> None:
    assert sorted(VECTORS) == sorted(VECTOR_NAMES)


@pytest.mark.parametrize("name", VECTOR_NAMES)
def test_published_vector(name: str) -> None:
    secret, params, method, expected = VECTORS[name]
    assert compute_signature(params, secret, method) == expected.lower()


@pytest.mark.parametrize("name", VECTOR_NAMES)
@pytest.mark.parametrize("make", [get, form], ids=["get", "form"])
def test_published_vector_verifies_as_a_webhook(name: str, make: Any) -> None:
    secret, params, method, expected = VECTORS[name]
    req = make(params | {"sig": expected}, now=float(params["timestamp"]) + 1)
    carrier(method, secret).verify(req)  # upper- and lower-case published hex both accepted


def test_java_sdk_drops_blank_values_v16() -> None:
    # V16 is the Java SDK signing a=alphabet, b="" (skipped), timestamp=2100: both forms verify.
    secret, params, method, expected = VECTORS["V16"]
    assert compute_signature(params | {"b": ""}, secret, method, skip_blank=True) == expected
    carrier(method, secret).verify(get(params | {"b": "", "sig": expected}, now=2100))
    keeps_blank = compute_signature(params | {"b": ""}, secret, method)
    carrier(method, secret).verify(get(params | {"b": "", "sig": keeps_blank}, now=2100))


@pytest.mark.parametrize("method", ["md5hash", "md5", "sha1", "sha256", "sha512"])
def test_wrong_method_or_secret_is_refused(method: str) -> None:
    other = "md5" if method != "md5" else "sha1"
    refused(get(with_sig(INBOUND, method=method)), "bad_signature", method=other)
    refused(get(with_sig(INBOUND, method=method)), "bad_signature", method=method, secret="other")


# -- authenticity -------------------------------------------------------------------------------


@pytest.mark.parametrize("make", [get, form, as_json], ids=["get", "form", "json"])
def test_signed_inbound_verifies_in_every_delivery_form(make: Any) -> None:
    carrier().verify(make(with_sig(INBOUND)))


def test_json_scalars_are_signed_as_written() -> None:
    signed = with_sig(INBOUND | {"concat": "true", "timestamp": P_V6["timestamp"]})
    body: dict[str, Any] = signed | {"concat": True, "timestamp": int(P_V6["timestamp"])}
    carrier().verify(as_json(body))


def test_tampered_text_is_refused() -> None:
    refused(form(with_sig(INBOUND) | {"text": "Test AGAIN"}), "bad_signature")


def test_missing_or_malformed_sig_is_refused() -> None:
    refused(form(INBOUND), "missing_signature")
    refused(form(INBOUND | {"sig": "zz" * 16}), "bad_signature")
    refused(form(INBOUND | {"sig": "é" * 32}), "bad_signature")


@pytest.mark.parametrize(("offset", "ok"), [(0, True), (TIMESTAMP_WINDOW - 1, True), (-TIMESTAMP_WINDOW + 1, True),
                                            (TIMESTAMP_WINDOW + 1, False), (-TIMESTAMP_WINDOW - 1, False)])  # fmt: skip
def test_timestamp_window(offset: float, ok: bool) -> None:
    req = get(with_sig(INBOUND), now=NOW + offset)
    if ok:
        carrier().verify(req)
    else:
        refused(req, "stale_signature")


def test_signed_request_without_timestamp_is_refused() -> None:
    params = {k: v for k, v in INBOUND.items() if k != "timestamp"}
    refused(form(with_sig(params)), "missing_timestamp")


# -- inbound ------------------------------------------------------------------------------------


@pytest.mark.parametrize("make", [get, form, as_json], ids=["get", "form", "json"])
def test_inbound_text(make: Any) -> None:
    [message] = carrier().parse(make(with_sig(INBOUND)))
    assert (message.channel, message.provider_id) == ("vonage-sms", "020000001B0FE827")
    assert (message.customer, message.business, message.text) == ("+14843472194", "+13239877404", "Test again")
    assert message.concat is None and message.media == ()


def test_inbound_unicode() -> None:
    [message] = carrier().parse(form(INBOUND | {"type": "unicode", "text": "Grüße ☃"}))
    assert message.text == "Grüße ☃"


def test_inbound_concatenated_part() -> None:
    part = INBOUND | {"concat": "true", "concat-ref": "108", "concat-total": "3", "concat-part": "2"}
    [message] = carrier().parse(form(part))
    assert message.concat == ("108", 3, 2)
    assert message.provider_id == "020000001B0FE827"


@pytest.mark.parametrize("fields", [
    {"concat": "true"},
    {"concat": "true", "concat-ref": "1", "concat-total": "2", "concat-part": "3"},
    {"concat": "true", "concat-ref": "1", "concat-total": "2", "concat-part": "0"},
    {"concat": "true", "concat-ref": "1", "concat-total": "x", "concat-part": "1"},
    {"concat": "true", "concat-ref": "1", "concat-total": "²", "concat-part": "1"},
    {"concat-ref": "1"},
])  # fmt: skip
def test_bad_concatenation_is_400(fields: dict[str, str]) -> None:
    with pytest.raises(WebhookError) as info:
        carrier().parse(form(INBOUND | fields))
    assert (info.value.status, info.value.code) == (400, "invalid_field")


def test_binary_messages_are_acknowledged_and_ignored() -> None:
    binary = {k: v for k, v in INBOUND.items() if k != "text"} | {"type": "binary", "data": "00", "udh": "050003"}
    assert carrier().parse(form(binary)) == []


@pytest.mark.parametrize(("req", "status", "code"), [
    (form({k: v for k, v in INBOUND.items() if k != "msisdn"}), 400, "missing_field"),
    (form(INBOUND | {"messageId": "a b"}), 400, "invalid_field"),
    (form(INBOUND | {"type": "vcard"}), 400, "invalid_field"),
    (form(INBOUND | {"text": "x" * 1601}), 400, "too_long"),
    (form(INBOUND | {"text": "a\x00"}), 400, "invalid_field"),
    (WebhookRequest("POST", URL, {}, b"msisdn=1&msisdn=2", FORM, NOW), 400, "duplicate_field"),
    (WebhookRequest("POST", URL, {}, b"text=%ff", FORM, NOW), 400, "invalid_body"),
    (WebhookRequest("POST", URL, {}, b"{", "application/json", NOW), 400, "invalid_body"),
    (WebhookRequest("POST", URL, {}, b"[]", "application/json", NOW), 400, "invalid_json"),
    (WebhookRequest("POST", URL, {}, b'{"text": {"a": 1}}', "application/json", NOW), 400, "invalid_field"),
    (WebhookRequest("POST", URL, {}, b'{"text": "\\ud800"}', "application/json", NOW), 400, "invalid_field"),
    (WebhookRequest("POST", URL, {}, b"<xml/>", "text/xml", NOW), 415, "unsupported_media_type"),
    (WebhookRequest("PUT", URL, {}, b"", FORM, NOW), 405, "method_not_allowed"),
])  # fmt: skip
def test_bad_inbound_is_a_clear_error(req: WebhookRequest, status: int, code: str) -> None:
    with pytest.raises(WebhookError) as info:
        carrier().parse(req)
    assert (info.value.status, info.value.code) == (status, code), info.value.message


def test_receipts_and_inbound_can_share_a_url() -> None:
    assert carrier().parse(form(DLR)) == []
    assert carrier().parse_receipts(form(INBOUND)) == []


# -- receipts -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("status", "error", "expected", "code"), [
    ("delivered", "0", "delivered", ""), ("accepted", "0", "sent", ""), ("buffered", "0", "sent", ""),
    ("expired", "2", "undelivered", "2"), ("failed", "6", "failed", "6"), ("rejected", "99", "failed", "99"),
    ("unknown", "1", "unknown", "1"),
])  # fmt: skip
def test_receipts(status: str, error: str, expected: str, code: str) -> None:
    [receipt] = carrier().parse_receipts(get(with_sig(DLR | {"status": status, "err-code": error})))
    assert (receipt.channel, receipt.provider_id, receipt.status, receipt.error_code) == (
        "vonage-sms", "0A0000001234ABCD", expected, code)
    assert (receipt.customer, receipt.business) == ("+14843472194", "+13239877404")


def test_signed_receipt_verifies() -> None:
    carrier().verify(form(with_sig(DLR)))


def test_receipt_needs_message_id() -> None:
    with pytest.raises(WebhookError) as info:
        carrier().parse_receipts(form({"status": "delivered"}))
    assert (info.value.status, info.value.code) == (400, "missing_field")


# -- outbound -----------------------------------------------------------------------------------


def outbound(reply: Reply, key: str = "turn-1", **overrides: str) -> tuple[str, dict[str, str], dict[str, list[str]]]:
    req = carrier(**overrides).outbound_request("+14843472194", "+13239877404", reply, MEDIA_BASE, key)
    assert req.method == "POST"
    assert req.headers["Content-Type"] == FORM
    return req.url, dict(req.headers), parse_qs(req.body.decode("ascii"), keep_blank_values=True)


def test_outbound_gsm7_text() -> None:
    url, _, fields = outbound(Reply("Your code costs €5 [today]"))
    assert url == "https://rest.nexmo.com/sms/json"
    assert fields == {"api_key": ["abcd1234"], "api_secret": ["s3cr3t"], "from": ["13239877404"], "to": ["14843472194"],
                      "text": ["Your code costs €5 [today]"], "client-ref": ["turn-1"]}  # fmt: skip


def test_outbound_unicode_text_sets_type() -> None:
    _, _, fields = outbound(Reply("Danke schön ☃"))
    assert fields["type"] == ["unicode"] and fields["text"] == ["Danke schön ☃"]


def test_outbound_media_become_links_and_long_keys_a_digest() -> None:
    url, _, fields = outbound(Reply("See", ("map.png", "https://cdn.example/a.pdf")), "k" * 41,
                              api_base_url="http://127.0.0.1:9/")  # fmt: skip
    assert url == "http://127.0.0.1:9/sms/json"
    assert fields["text"] == [f"See\n{MEDIA_BASE}/map.png\nhttps://cdn.example/a.pdf"]
    assert len(fields["client-ref"][0]) == 40 and fields["client-ref"] != ["k" * 40]
    assert outbound(Reply("", ("a.png",)))[2]["text"] == [f"{MEDIA_BASE}/a.png"]


def answer(*parts: tuple[str, str]) -> bytes:
    messages = [{"to": "14843472194", "message-id": mid, "status": code, "error-text": "Throttled" if code == "1" else
                 "Invalid" if code != "0" else "", "remaining-balance": "3.1", "network": "310260"}
                for mid, code in parts]  # fmt: skip
    return json.dumps({"message-count": str(len(parts)), "messages": messages}).encode()


@pytest.mark.parametrize(("status", "body", "ok", "provider_id", "retry", "mentions"), [
    (200, answer(("0A01", "0")), True, "0A01", False, ""),
    (200, answer(("0A01", "0"), ("0A02", "0")), True, "0A01", False, ""),
    (200, answer(("", "1")), False, "", True, "status 1: Throttled"),
    (200, answer(("0A01", "0"), ("", "1")), False, "0A01", False, "partly sent (1 of 2 parts)"),
    (200, answer(("", "2")), False, "", False, "status 2"),
    (200, answer(("", "1"), ("", "9")), False, "", False, "status 9"),
    (200, b'{"message-count":"0","messages":[]}', False, "", False, "no messages"),
    (200, b"garbage", True, "", False, "without a readable answer"),  # it may have been sent: never again
    (200, b'{"error":"?"}', True, "", False, "without a readable answer"),
    # A part without a readable status may have been sent: accepted, never sent again.
    (200, b'{"messages":[7]}', True, "", False, "1 of 1 parts unreadable"),
    (200, b'{"messages":[{"message-id":"0A01","status":"0"},{"status":null}]}', True, "0A01", False,
     "1 of 2 parts unreadable"),
    (200, b'{"messages":[{"status":"1"},{}]}', False, "", False, "status 1"),  # a refusal: not retried whole
    (429, b"", False, "", True, "HTTP 429"),
    (500, b"", False, "", True, "HTTP 500"),
    (401, b'{"status":"4","error-text":"Bad Credentials"}', False, "", False, "HTTP 401"),
    (400, b"garbage", False, "", False, "HTTP 400"),
])  # fmt: skip
def test_parse_send_response(status: int, body: bytes, ok: bool, provider_id: str, retry: bool, mentions: str) -> None:
    result = carrier().parse_send_response(status, body)
    assert (result.ok, result.provider_id, result.status, result.retry) == (ok, provider_id, status, retry)
    assert mentions in result.error


# -- configuration and acknowledgement ----------------------------------------------------------


def test_from_env() -> None:
    env = {"VONAGE_SMS_SIGNATURE_SECRET": "sec", "VONAGE_API_KEY": "k", "VONAGE_API_SECRET": "s"}
    assert VonageSmsCarrier.from_env({"VONAGE_API_KEY": "k", "VONAGE_API_SECRET": "s"}) is None
    made = VonageSmsCarrier.from_env(env)
    assert made is not None and (made.name, made.sync_replies) == ("vonage-sms", False)
    assert made.signature_method == "md5hash"
    assert made.api_base_url == "https://rest.nexmo.com"
    made = VonageSmsCarrier.from_env(env | {"VONAGE_SMS_SIGNATURE_METHOD": " SHA512 "})
    assert made is not None and made.signature_method == "sha512"
    with pytest.raises(ValueError, match="VONAGE_SMS_SIGNATURE_METHOD"):
        VonageSmsCarrier.from_env(env | {"VONAGE_SMS_SIGNATURE_METHOD": "hmac-sha256"})
    with pytest.raises(ValueError, match="VONAGE_API_KEY"):
        VonageSmsCarrier.from_env({"VONAGE_SMS_SIGNATURE_SECRET": "sec"})
    with pytest.raises(ValueError, match="VONAGE_SMS_API_BASE_URL"):
        VonageSmsCarrier.from_env(env | {"VONAGE_SMS_API_BASE_URL": "rest.nexmo.com"})
    with pytest.raises(ValueError, match="signature method"):
        VonageSmsCarrier("s", "sha384", "k", "s")


def test_render_is_an_empty_acknowledgement() -> None:
    reply = carrier().render([Reply("not here")], MEDIA_BASE)
    assert (reply.status, reply.body) == (204, "")


# -- fuzz: nothing but WebhookError, whatever arrives -------------------------------------------

NAMES = st.sampled_from([*INBOUND, *DLR, "concat", "concat-ref", "concat-total", "concat-part", "sig"]) | st.text(
    max_size=4)
VALUES = st.text(max_size=12) | st.sampled_from(["true", "0", "1", "2", "255", "\x00", "binary", "unicode", ""])
PARAMS = st.dictionaries(NAMES, VALUES, max_size=12)
LEAVES = st.none() | st.booleans() | st.integers() | st.floats() | VALUES | st.just("\ud800")
JSON = st.recursive(LEAVES, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(NAMES, inner, max_size=6),
                    max_leaves=12)  # fmt: skip
FUZZ = carrier()


def only_webhook_errors(req: WebhookRequest) -> None:
    for call, statuses in ((FUZZ.parse, (400, 405, 415)), (FUZZ.parse_receipts, (400, 405, 415)),
                           (FUZZ.verify, (400, 403, 405, 415))):  # fmt: skip
        try:
            call(req)
        except WebhookError as exc:
            assert exc.status in statuses and exc.code and exc.message


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200), st.sampled_from([FORM, "application/json", "text/plain", ""]))
def test_fuzz_arbitrary_bytes(body: bytes, content_type: str) -> None:
    only_webhook_errors(WebhookRequest("POST", URL, {}, body, content_type, NOW))


@settings(max_examples=300, deadline=None)
@given(JSON)
def test_fuzz_arbitrary_json(value: object) -> None:
    only_webhook_errors(as_json(value))  # type: ignore[arg-type]


@settings(max_examples=400, deadline=None)
@given(PARAMS, st.booleans(), st.text(max_size=30))
def test_fuzz_parameters(params: dict[str, str], use_get: bool, raw_query: str) -> None:
    only_webhook_errors(get(params) if use_get else form(params))
    only_webhook_errors(WebhookRequest("GET", f"{URL}?{raw_query}", {}, b"", "", NOW))

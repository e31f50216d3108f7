"""Tests for bot.carriers.plivo: the published vectors P1–P6 and the four derived V3 vectors of
carriers.md §4.2 (§13), each also checked end to end where it is a webhook; captured-shape
inbound SMS and MMS; receipts; Plivo XML; the REST request; send answers; fuzzed parsers.
"""

from __future__ import annotations

import base64
import json
import xml.etree.ElementTree as ET
from typing import Any
from urllib.parse import urlencode

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.carriers.base import WebhookError, WebhookRequest
from bot.carriers.plivo import PlivoCarrier, signature_v1, signature_v2, signature_v3
from bot.types import InboundMedia, Reply

TOKEN = "my_auth_token"
AUTH_ID = "MAXXXXXXXXXXXXXXXXXX"
NOW = 1_700_000_000.0
FORM = "application/x-www-form-urlencoded"
MEDIA_BASE = "https://sms.example.com/media"
Pairs = list[tuple[str, str]]

# P6's parameters: the legacy minimal inbound set of §4.1.
LEGACY: Pairs = [("To", "11234567896"), ("From", "11234567896"), ("Type", "sms"),
                 ("MessageUUID", "4ee368ae-25ed-11e3-a36e-xxxxxxxxxxxx"), ("Text", "Hello World")]  # fmt: skip
V3_PARAMS: Pairs = [("From", "14155550100"), ("To", "14155550123"), ("Text", "Hello"), ("Type", "sms"),
                    ("MessageUUID", "4ee368ae-25ed-11e3-a36e-0123456789ab")]  # fmt: skip
V2_VECTORS = {  # (url, nonce, token, signature)
    "P1": ("https://answer.url", "12345", "my_auth_token", "ehV3IKhLysWBxC1sy8INm0qGoQYdYsHwuoKjsX7FsXc="),
    "P2": ("https://answer.url:8000", "24725744043720739450", "my_auth_token",
           "LDphWoWimP4QM5AoWI1uwP6WmlWtt5ITPZjXIWYvCNU="),
    "P3": ("https://answer.url:8080", "123456", "my_auth_tokens", "xeV6S6BPIQJ/rgKCjCm/Fo2ve5zNe1fatQoHyRT8vxQ="),
}  # fmt: skip
V1_VECTORS: dict[str, tuple[str, str, Pairs, str]] = {  # (token, url, params, signature)
    "P4": ("MAXXXXXXXXXXXXXXXXXX", "http://foo.com/answer/",
           [("CallUUID", "97ceeb52-58b6-11e1-86da-77300b68f8bb"), ("Duration", "300")], "EJEt0ELanhr8hjMPIJnLNLex0dE="),
    "P5": ("MAXXXXXXXXXXXXXXXXXX", "http://foo.com/answer/", [("a", "1 2")], "n3Xfo4u+vRFyl3gsH8B0qDUIK5g="),
    "P6": ("MjFmMmJiODVlOGRiZDIyNzdhMTdhYjMw12345678", "http://localhost:13372/sms", LEGACY,
           "8Qk9ZxsfFhq8EhsADKfw6NtFFY8="),
}  # fmt: skip
V3_VECTORS: dict[str, tuple[str, str, Pairs, str]] = {  # (method, url, params, signature); token TOKEN, nonce 12345
    "post": ("POST", "https://example.com/plivo/sms", V3_PARAMS, "n5ijrrpudvZ1fWvKZ5kxFn3DTnhkkxaV8h9adfyVluw="),
    "post-query": ("POST", "https://example.com/plivo/sms?tenant=42&a=b", V3_PARAMS,
                   "JdGAHesnwp2TWMkfPJBxxHoGVmyY+Stsn28PIP+5IjU="),
    "get": ("GET", "https://example.com/plivo/sms", [("From", "14155550100"), ("Text", "Hello")],
            "PUcLRagql9pV0PQCChDnH0clgyisNUK4MWdajL4mFAU="),
    "post-empty": ("POST", "https://example.com/plivo/sms", [], "k6xcUwvVp8XEJXU6bSlvsBEwZj+804JRl7msE204JuY="),
}  # fmt: skip

URL = "https://sms.example.com/webhooks/plivo"
INBOUND_SMS: Pairs = [("From", "14155550100"), ("To", "14155550123"), ("Text", "When are you open?"),
                      ("Type", "sms"), ("MessageUUID", "3f6c1b04-8a2e-11ee-b9d1-0242ac120002"), ("Units", "1"),
                      ("TotalRate", "0.0055"), ("TotalAmount", "0.0055"), ("MessageIntent", ""),
                      ("PowerpackUUID", "")]  # fmt: skip
INBOUND_MMS: Pairs = [("From", "14155550100"), ("To", "14155550123"), ("Body", "my router"), ("Type", "mms"),
                      ("MessageUUID", "5a7c2e10-8a2e-11ee-b9d1-0242ac120002"), ("MediaCount", "2"),
                      ("Media0", "https://media.plivo.com/Account/MA1/Message/5a7c/Media/1.jpg"),
                      ("Media1", "https://media.plivo.com/Account/MA1/Message/5a7c/Media/2")]  # fmt: skip
STATUS: Pairs = [("MessageUUID", "db3ce55a-7f1d-11e1-8ea7-1231380bc196"), ("To", "14155550100"),
                 ("From", "14155550123"), ("Type", "sms"), ("Status", "delivered"), ("Units", "1"),
                 ("MCC", "310"), ("MNC", "260"), ("ErrorCode", ""), ("Sequence", "2")]  # fmt: skip


def carrier(**overrides: Any) -> PlivoCarrier:
    return PlivoCarrier(**({"auth_id": AUTH_ID, "auth_token": TOKEN} | overrides))


def post(pairs: Pairs, headers: dict[str, str] | None = None, url: str = URL) -> WebhookRequest:
    return WebhookRequest("POST", url, headers or {}, urlencode(pairs).encode(), FORM, NOW)


def v3_signed(pairs: Pairs, url: str = URL, nonce: str = "98765") -> WebhookRequest:
    signature = signature_v3("POST", url, pairs, nonce, TOKEN)
    return post(pairs, {"X-Plivo-Signature-V3": signature, "X-Plivo-Signature-V3-Nonce": nonce}, url)


def refused(req: WebhookRequest, code: str, token: str = TOKEN) -> None:
    with pytest.raises(WebhookError) as info:
        carrier(auth_token=token).verify(req)
    assert (info.value.status, info.value.code) == (403, code), info.value.message


# -- vectors ------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(V2_VECTORS))
def test_v2_vectors(name: str) -> None:
    url, nonce, token, expected = V2_VECTORS[name]
    assert signature_v2(url, nonce, token) == expected
    headers = {"X-Plivo-Signature-V2": expected, "X-Plivo-Signature-V2-Nonce": nonce}
    carrier(auth_token=token).verify(post(LEGACY, headers, url))


def test_v2_p1_with_another_token_or_port_is_refused() -> None:
    url, nonce, token, expected = V2_VECTORS["P1"]
    headers = {"X-Plivo-Signature-V2": expected, "X-Plivo-Signature-V2-Nonce": nonce}
    refused(post(LEGACY, headers, url), "bad_signature", token="my_auth_tokens")
    refused(post(LEGACY, headers, "https://answer.url:8000"), "bad_signature", token=token)  # the port is signed


def test_v2_drops_query_and_fragment() -> None:
    url, nonce, token, expected = V2_VECTORS["P1"]
    assert signature_v2(url + "/?a=1#frag", nonce, token) != expected  # the path "/" is kept
    assert signature_v2(url + "?a=1#frag", nonce, token) == expected


@pytest.mark.parametrize("name", sorted(V1_VECTORS))
def test_v1_vectors(name: str) -> None:
    token, url, params, expected = V1_VECTORS[name]
    assert signature_v1(url, params, token) == expected


def test_v1_p6_verifies_as_a_webhook() -> None:
    token, url, params, expected = V1_VECTORS["P6"]
    carrier(auth_token=token).verify(post(params, {"X-Plivo-Signature": expected}, url))
    refused(post([*params[:-1], ("Text", "Hello")], {"X-Plivo-Signature": expected}, url), "bad_signature", token)


@pytest.mark.parametrize("name", sorted(V3_VECTORS))
def test_v3_vectors(name: str) -> None:
    method, url, params, expected = V3_VECTORS[name]
    assert signature_v3(method, url, params, "12345", TOKEN) == expected


@pytest.mark.parametrize("name", sorted(V3_VECTORS))
def test_v3_vectors_verify_as_webhooks(name: str) -> None:
    method, url, params, expected = V3_VECTORS[name]
    headers = {"X-Plivo-Signature-V3": expected, "X-Plivo-Signature-V3-Nonce": "12345"}
    if method == "GET":
        req = WebhookRequest("GET", f"{url}?{urlencode(params)}", headers, b"", "", NOW)
    else:
        req = post(params, headers, url)
    carrier().verify(req)


def test_v3_covers_the_parameters() -> None:
    headers = {"X-Plivo-Signature-V3": V3_VECTORS["post"][3], "X-Plivo-Signature-V3-Nonce": "12345"}
    refused(post([*V3_PARAMS[:2], ("Text", "STOP"), *V3_PARAMS[3:]], headers, V3_VECTORS["post"][1]), "bad_signature")


def test_v2_does_not_cover_the_body() -> None:
    # Plivo's V2 signs URL and nonce only (§4.2): a changed body still verifies. V3 is the stronger one.
    url, nonce, token, expected = V2_VECTORS["P1"]
    headers = {"X-Plivo-Signature-V2": expected, "X-Plivo-Signature-V2-Nonce": nonce}
    carrier(auth_token=token).verify(post([("Text", "anything")], headers, url))


# -- authenticity -------------------------------------------------------------------------------


def test_v3_header_may_list_several_signatures_and_names_are_case_insensitive() -> None:
    req = v3_signed(INBOUND_SMS)
    good = req.headers["X-Plivo-Signature-V3"]
    headers = {"x-plivo-signature-v3": f"bm90IGl0, {good}", "x-plivo-signature-v3-nonce": "98765"}
    carrier().verify(post(INBOUND_SMS, headers))


def test_main_account_variants_are_accepted() -> None:
    v2 = signature_v2(URL, "555", TOKEN)
    carrier().verify(post(INBOUND_SMS, {"X-Plivo-Signature-Ma-V2": v2, "X-Plivo-Signature-V2-Nonce": "555",
                                        "X-Plivo-Signature-V2": "c3ViYWNjb3VudA=="}))  # fmt: skip
    v3 = signature_v3("POST", URL, INBOUND_SMS, "556", TOKEN)
    carrier().verify(post(INBOUND_SMS, {"X-Plivo-Signature-Ma-V3": v3, "X-Plivo-Signature-V3-Nonce": "556"}))


def test_forged_missing_or_nonceless_signatures_are_refused() -> None:
    refused(post(INBOUND_SMS), "missing_signature")
    refused(post(INBOUND_SMS, {"X-Plivo-Signature-V3": "Zm9yZ2Vk", "X-Plivo-Signature-V3-Nonce": "1"}),
            "bad_signature")  # fmt: skip
    good = v3_signed(INBOUND_SMS).headers["X-Plivo-Signature-V3"]
    refused(post(INBOUND_SMS, {"X-Plivo-Signature-V3": good}), "bad_signature")
    refused(post(INBOUND_SMS, {"X-Plivo-Signature-V3": good, "X-Plivo-Signature-V3-Nonce": "98765\udcff"}),
            "bad_signature")  # fmt: skip
    refused(v3_signed(INBOUND_SMS), "bad_signature", token="another_token")


def test_signed_for_another_url_is_refused() -> None:
    elsewhere = v3_signed(INBOUND_SMS, url="https://other.example/webhooks/plivo")
    refused(post(INBOUND_SMS, dict(elsewhere.headers)), "bad_signature")


# -- inbound ------------------------------------------------------------------------------------


def test_inbound_sms() -> None:
    req = v3_signed(INBOUND_SMS)
    carrier().verify(req)
    [message] = carrier().parse(req)
    assert (message.channel, message.provider_id) == ("plivo", "3f6c1b04-8a2e-11ee-b9d1-0242ac120002")
    assert (message.customer, message.business, message.text) == ("+14155550100", "+14155550123", "When are you open?")
    assert message.media == () and message.carrier_opt_out == ""


def test_legacy_minimal_inbound() -> None:
    [message] = carrier().parse(post(LEGACY))
    assert (message.text, message.customer) == ("Hello World", "+11234567896")


def test_inbound_mms_media_numbered_from_zero() -> None:
    [message] = carrier().parse(v3_signed(INBOUND_MMS))
    assert message.text == "my router"
    assert message.media == (InboundMedia("https://media.plivo.com/Account/MA1/Message/5a7c/Media/1.jpg", "image/jpeg"),
                             InboundMedia("https://media.plivo.com/Account/MA1/Message/5a7c/Media/2", ""))  # fmt: skip


def test_inbound_mms_media_numbered_from_one_keep_their_order() -> None:
    pairs = [p for p in INBOUND_MMS if not p[0].startswith("Media")]
    pairs += [("Media10", "https://m.example/c.gif"), ("Media2", "https://m.example/b.png"),
              ("Media1", "https://m.example/a.mp4")]  # fmt: skip
    [message] = carrier().parse(post([*pairs, ("MediaCount", "3")]))
    assert [m.url[-5:] for m in message.media] == ["a.mp4", "b.png", "c.gif"]
    assert [m.content_type for m in message.media] == ["video/mp4", "image/png", "image/gif"]


@pytest.mark.parametrize(("intent", "expected"), [("optout", "STOP"), ("OptIn", "START"), ("help", "HELP"),
                                                  ("", ""), ("future", "")])  # fmt: skip
def test_message_intent(intent: str, expected: str) -> None:
    pairs = [(k, intent if k == "MessageIntent" else v) for k, v in INBOUND_SMS]
    [message] = carrier().parse(post(pairs))
    assert message.carrier_opt_out == expected


def test_get_delivery_parses_the_query() -> None:
    [message] = carrier().parse(WebhookRequest("GET", f"{URL}?{urlencode(INBOUND_SMS)}", {}, b"", "", NOW))
    assert message.text == "When are you open?"


def replaced(pairs: Pairs, **changes: str | None) -> Pairs:
    """``pairs`` with some values changed; None removes the parameter."""
    changed = [(k, changes.get(k, v)) for k, v in pairs]
    return [(k, v) for k, v in changed if v is not None]


@pytest.mark.parametrize(("req", "status", "code"), [
    (post(replaced(INBOUND_SMS, MessageUUID=None)), 400, "missing_field"),
    (post(replaced(INBOUND_SMS, MessageUUID="a b")), 400, "invalid_field"),
    (post(replaced(INBOUND_SMS, From="<1>")), 400, "invalid_field"),
    (post(replaced(INBOUND_SMS, Type="whatsapp")), 400, "unsupported_type"),
    (post(replaced(INBOUND_SMS, Text="x" * 10_001)), 400, "too_long"),
    (post(replaced(INBOUND_SMS, Text="\x00")), 400, "invalid_field"),
    (post(replaced(INBOUND_MMS, MediaCount="3")), 400, "invalid_field"),
    (post(replaced(INBOUND_MMS, Media1="javascript:alert(1)")), 400, "invalid_field"),
    (post([*INBOUND_SMS, ("From", "14155550199")]), 400, "duplicate_field"),
    (WebhookRequest("POST", URL, {}, b"Text=%ff", FORM, NOW), 400, "invalid_form"),
    (WebhookRequest("POST", URL, {}, b'{"From": "1"}', "application/json", NOW), 415, "unsupported_media_type"),
    (WebhookRequest("DELETE", URL, {}, b"", "", NOW), 405, "method_not_allowed"),
])  # fmt: skip
def test_bad_inbound_is_a_clear_error(req: WebhookRequest, status: int, code: str) -> None:
    with pytest.raises(WebhookError) as info:
        carrier().parse(req)
    assert (info.value.status, info.value.code) == (status, code), info.value.message


def test_too_many_media_is_400() -> None:
    pairs = [p for p in INBOUND_MMS if not p[0].startswith("Media")] + [(f"Media{i}", "https://m.example/x")
                                                                       for i in range(11)]  # fmt: skip
    with pytest.raises(WebhookError, match="at most 10"):
        carrier().parse(post(pairs))


def test_receipts_and_inbound_can_share_a_url() -> None:
    assert carrier().parse(post(STATUS)) == []
    assert carrier().parse_receipts(post(INBOUND_SMS)) == []


# -- receipts -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("status", "error", "expected", "code"), [
    ("queued", "", "queued", ""), ("sent", "", "sent", ""), ("delivered", "000", "delivered", ""),
    ("undelivered", "200", "undelivered", "200"), ("failed", "420", "failed", "420"), ("rejected", "", "failed", ""),
    ("read", "", "read", ""), ("Delivered", "", "delivered", ""),
])  # fmt: skip
def test_receipts(status: str, error: str, expected: str, code: str) -> None:
    req = v3_signed(replaced(STATUS, Status=status, ErrorCode=error))
    carrier().verify(req)
    [receipt] = carrier().parse_receipts(req)
    assert (receipt.channel, receipt.provider_id, receipt.status, receipt.error_code) == (
        "plivo", "db3ce55a-7f1d-11e1-8ea7-1231380bc196", expected, code)
    assert (receipt.customer, receipt.business) == ("+14155550100", "+14155550123")


# -- Plivo XML ----------------------------------------------------------------------------------


def test_render_plivo_xml() -> None:
    reply = carrier().render([Reply("Open 9–5 & <weekends>"), Reply("Map:", ("map.png",))], MEDIA_BASE,
                             customer="+14155550100", business="+14155550123")  # fmt: skip
    assert (reply.status, reply.content_type) == (200, "application/xml")
    root = ET.fromstring(reply.body)
    assert root.tag == "Response"
    messages = root.findall("Message")
    assert [m.attrib for m in messages] == [{"src": "14155550123", "dst": "14155550100", "type": "sms"}] * 2
    assert [m.text for m in messages] == ["Open 9–5 & <weekends>", f"Map:\n{MEDIA_BASE}/map.png"]


def test_render_without_replies_and_in_rest_mode_only_acknowledges() -> None:
    assert ET.fromstring(carrier().render([], MEDIA_BASE).body).tag == "Response"
    rest = carrier(sync_replies=False).render([Reply("queued instead")], MEDIA_BASE)
    assert rest.body.endswith("<Response/>")


def test_render_needs_the_numbers_and_refuses_bulk_separators() -> None:
    with pytest.raises(ValueError, match="customer"):
        carrier().render([Reply("hi")], MEDIA_BASE)
    with pytest.raises(ValueError, match="phone number"):
        carrier().render([Reply("hi")], MEDIA_BASE, customer="1<2", business="14155550123")


def test_render_asks_for_delivery_reports_and_drops_xml_invalid_characters() -> None:
    made = carrier(status_url="https://sms.example.com/webhooks/plivo/status")
    body = made.render([Reply("a\x01b")], MEDIA_BASE, customer="1", business="2").body
    message = ET.fromstring(body).find("Message")
    assert message is not None and message.text == "ab"
    assert message.attrib["callbackUrl"] == "https://sms.example.com/webhooks/plivo/status"
    assert message.attrib["callbackMethod"] == "POST"


def test_render_keeps_carriage_returns() -> None:
    # An XML parser reads a literal CR or CRLF as LF; the text must arrive as written.
    body = carrier().render([Reply("Hours:\r\nMon-Fri\rSat")], MEDIA_BASE, customer="1", business="2").body
    message = ET.fromstring(body).find("Message")
    assert message is not None and message.text == "Hours:\r\nMon-Fri\rSat"


# -- outbound -----------------------------------------------------------------------------------


def test_outbound_sms_request() -> None:
    req = carrier().outbound_request("+14155550100", "+14155550123", Reply("Hi"), MEDIA_BASE, "turn-1")
    assert (req.method, req.url) == ("POST", f"https://api.plivo.com/v1/Account/{AUTH_ID}/Message/")
    assert req.headers["Authorization"] == "Basic " + base64.b64encode(f"{AUTH_ID}:{TOKEN}".encode()).decode()
    assert req.headers["Content-Type"] == "application/json"
    assert json.loads(req.body) == {"src": "14155550123", "dst": "14155550100", "text": "Hi", "type": "sms"}


def test_outbound_mms_request_with_status_url_and_custom_base() -> None:
    made = carrier(api_base_url="http://127.0.0.1:9/", status_url="https://sms.example.com/webhooks/plivo/status")
    req = made.outbound_request("+14155550100", "+14155550123", Reply("Map", ("map.png",)), MEDIA_BASE, "k")
    assert req.url == f"http://127.0.0.1:9/v1/Account/{AUTH_ID}/Message/"
    assert json.loads(req.body) == {"src": "14155550123", "dst": "14155550100", "text": "Map", "type": "mms",
                                    "media_urls": [f"{MEDIA_BASE}/map.png"], "method": "POST",
                                    "url": "https://sms.example.com/webhooks/plivo/status"}  # fmt: skip


@pytest.mark.parametrize(("status", "body", "ok", "provider_id", "retry", "mentions"), [
    (202, b'{"api_id":"db342550","message":"message(s) queued","message_uuid":["db3ce55a-7f1d-11e1-8ea7"]}', True,
     "db3ce55a-7f1d-11e1-8ea7", False, ""),
    (202, b"", True, "", False, ""),
    (400, b'{"api_id":"a","error":"invalid dst number"}', False, "", False, "invalid dst number"),
    (401, b'{"error":{"code":"unauthorized"}}', False, "", False, "unauthorized"),
    (429, b"Too Many Requests", False, "", True, "HTTP 429"),
    (500, b"", False, "", True, "HTTP 500"),
])  # fmt: skip
def test_parse_send_response(status: int, body: bytes, ok: bool, provider_id: str, retry: bool, mentions: str) -> None:
    result = carrier().parse_send_response(status, body)
    assert (result.ok, result.provider_id, result.status, result.retry) == (ok, provider_id, status, retry)
    assert mentions in result.error


# -- configuration ------------------------------------------------------------------------------


def test_from_env() -> None:
    assert PlivoCarrier.from_env({"PLIVO_AUTH_ID": AUTH_ID}) is None
    with pytest.raises(ValueError, match="PLIVO_AUTH_ID"):
        PlivoCarrier.from_env({"PLIVO_AUTH_TOKEN": TOKEN})
    env = {"PLIVO_AUTH_TOKEN": TOKEN, "PLIVO_AUTH_ID": AUTH_ID}
    made = PlivoCarrier.from_env(env)
    assert made is not None and (made.name, made.sync_replies, made.status_url) == ("plivo", True, "")
    assert made.api_base_url == "https://api.plivo.com"
    rest = PlivoCarrier.from_env(env | {"TEXTDESK_PLIVO_REPLIES": "REST", "PLIVO_STATUS_URL": "https://x.example/s"})
    assert rest is not None and (rest.sync_replies, rest.status_url) == (False, "https://x.example/s")
    for name, value in (("TEXTDESK_PLIVO_REPLIES", "twiml"), ("PLIVO_STATUS_URL", "x.example"),
                        ("PLIVO_API_BASE_URL", "ftp://x")):  # fmt: skip
        with pytest.raises(ValueError, match=name):
            PlivoCarrier.from_env(env | {name: value})


# -- fuzz: nothing but WebhookError, whatever arrives -------------------------------------------

NAMES = st.sampled_from([k for k, _ in INBOUND_MMS + INBOUND_SMS + STATUS] + ["Media3", "Media999", "MessageIntent",
                                                                              "Status"]) | st.text(max_size=4)
VALUES = st.text(max_size=12) | st.sampled_from(["sms", "mms", "2", "https://m.example/a.png", "optout", ""])
PAIRS = st.lists(st.tuples(NAMES, VALUES), max_size=12)
HEADERS = st.dictionaries(st.sampled_from(["X-Plivo-Signature-V3", "X-Plivo-Signature-V3-Nonce", "X-Plivo-Signature",
                                           "X-Plivo-Signature-V2", "X-Plivo-Signature-V2-Nonce"]),
                          st.text(max_size=40))  # fmt: skip
FUZZ = carrier()


def only_webhook_errors(req: WebhookRequest) -> None:
    for call, statuses in ((FUZZ.parse, (400,)), (FUZZ.parse_receipts, (400,)), (FUZZ.verify, (400, 403))):
        try:
            call(req)
        except WebhookError as exc:
            assert exc.status in statuses and exc.code and exc.message


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200))
def test_fuzz_arbitrary_bytes(body: bytes) -> None:
    only_webhook_errors(WebhookRequest("POST", URL, {}, body, FORM, NOW))


@settings(max_examples=500, deadline=None)
@given(PAIRS, HEADERS, st.booleans())
def test_fuzz_parameters(pairs: Pairs, headers: dict[str, str], use_get: bool) -> None:
    if use_get:
        only_webhook_errors(WebhookRequest("GET", f"{URL}?{urlencode(pairs)}", headers, b"", "", NOW))
    else:
        only_webhook_errors(post(pairs, headers))


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=60), HEADERS)
def test_fuzz_urls(url: str, headers: dict[str, str]) -> None:
    only_webhook_errors(WebhookRequest("GET", url, headers, b"", "", NOW))

"""Hostile input to the API: every refusal is a documented 4xx naming what was wrong, never a 500.

The real app on loopback with a real SQLite file (the harness's ``api`` fixture). Each
case also checks that the server logged no unexpected error and queued nothing.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest

from bot.web.keys import SERVICE
from tests.conftest import db_rows
from tests.harness_http import raw_request
from tests.test_api_harness import API_TOKEN, Api, check_against_spec

# The API fixtures (api, make_api, fake_twilio) live in the harness module.
pytest_plugins = ("tests.test_api_harness",)

AUTH = {"Authorization": f"Bearer {API_TOKEN}"}
JSON_HEADERS = {**AUTH, "Content-Type": "application/json"}
CUSTOMER = "+15550001234"


async def send_raw(api: Api, method: str, path: str, body: bytes = b"",
                   headers: dict[str, str] | None = None) -> tuple[int, Any]:
    """One request exactly as written; the answer must be JSON the OpenAPI document allows."""
    assert api.client.port is not None
    answer = await raw_request(api.client.port, method, path, JSON_HEADERS if headers is None else headers, body)
    data = answer.json()
    check_against_spec(method, path, answer.status, data)
    return answer.status, data


@pytest.fixture
def no_unexpected_errors(caplog: pytest.LogCaptureFixture, db_path: Path) -> Any:
    with caplog.at_level(logging.ERROR, logger="textdesk"):
        yield
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], caplog.text
    assert db_rows(db_path, "SELECT count(*) FROM outbound")[0][0] == 0


@pytest.mark.usefixtures("no_unexpected_errors")
@pytest.mark.parametrize(
    ("body", "expected"),
    [
        # Python's parser refuses integers over 4300 digits with a ValueError, not a JSONDecodeError.
        (b'{"to": "+15550001234", "length": 1' + b"0" * 5000 + b"}", "integer"),
        # Nesting deeper than the interpreter's recursion limit.
        (b"[" * 100_000 + b"]" * 100_000, "nested"),
        # Not JSON at all (RFC 8259), though Python's parser takes them by default.
        (b'{"to": "+15550001234", "variables": {"name": NaN}}', "NaN"),
        (b'{"to": "+15550001234", "length": Infinity}', "Infinity"),
        (b'{"to": "+15550001234", "length": -Infinity}', "-Infinity"),
        # Which "to" was meant? Refused rather than silently texting the last one.
        (b'{"to": "+15550001234", "to": "+15550009999"}', "'to'"),
    ],
    ids=["huge-integer", "deep-nesting", "NaN", "Infinity", "-Infinity", "duplicate-key"],
)
async def test_json_python_cannot_hold_or_that_is_ambiguous_is_invalid_json(
    api: Api, body: bytes, expected: str
) -> None:
    for path in ("/api/conversations", "/api/verifications", "/api/broadcasts"):
        status, data = await send_raw(api, "POST", path, body)
        assert (status, data["error"]["code"]) == (400, "invalid_json"), data
        assert expected in data["error"]["message"]
    assert api.fake.received == []


BROADCAST = "/api/broadcasts"
DEALS = "/api/audiences/deals/subscribers"


@pytest.mark.usefixtures("no_unexpected_errors")
@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        (BROADCAST, b'{"numbers": ["+15550001234"], "text": "hi \\ud800 there"}', "text"),
        (BROADCAST, b'{"numbers": ["+15550001234"], "text": "hi \\u0000 there"}', "text"),
        (BROADCAST, b'{"numbers": ["+15550001234"], "text": "x", "media": ["\\udc00.png"]}', "media"),
        (BROADCAST, b'{"numbers": ["+15550001234"], "text": "x", "media": ["pic\\u0000.png"]}', "media"),
        (BROADCAST, b'{"numbers": ["+15550001234"], "state": "order_ready", '
                    b'"variables": {"name": "\\udfff", "order": "1"}}', "variables"),
        ("/api/conversations", b'{"to": "+15550001234", "state": "order_ready", '
                               b'"variables": {"name": "A\\u0000", "order": "1"}}', "variables"),
        ("/api/conversations", b'{"to": "+15550001234", "state": "order_ready", '
                               b'"variables": {"name": "\\ud83d", "order": "1"}}', "variables"),
        (DEALS, b'{"numbers": ["+15550001234"], "source": "sign-up \\ud800"}', "source"),
        (DEALS, b'{"numbers": ["+15550001234"], "source": "sign-up \\u0000"}', "source"),
    ],
    ids=["text-surrogate", "text-nul", "media-surrogate", "media-nul", "broadcast-variable-surrogate",
         "variable-nul", "variable-half-emoji", "source-surrogate", "source-nul"],
)
async def test_text_that_cannot_be_stored_or_sent_is_refused_by_name(
    api: Api, db_path: Path, path: str, body: bytes, field: str
) -> None:
    status, data = await send_raw(api, "POST", path, body)
    assert (status, data["error"]["code"], data["error"]["field"]) == (400, "invalid_field", field), data
    # Says which of the two it found, in the words the webhooks use (bot.carriers.fields.string).
    found = "a NUL character" if b"\\u0000" in body else "an unpaired UTF-16 surrogate"
    assert f"'{field}' contains {found}" in data["error"]["message"], data
    for table in ("subscriptions", "broadcasts", "conversations"):
        assert db_rows(db_path, f"SELECT count(*) FROM {table}")[0][0] == 0


@pytest.mark.usefixtures("no_unexpected_errors")
@pytest.mark.parametrize("item", ["a" * 5000, "x/" * 3000 + "pic.png", "pic.png/" + "." * 300],
                         ids=["long-name", "long-path", "file-as-folder"])
async def test_media_names_the_filesystem_cannot_look_up_are_invalid(api: Api, item: str) -> None:
    status, data = await api.post(BROADCAST, {"numbers": [CUSTOMER], "text": "x", "media": [item]})
    assert (status, data["error"]["code"], data["error"]["field"]) == (400, "invalid_field", "media"), data


@pytest.mark.usefixtures("no_unexpected_errors")
@pytest.mark.parametrize("key", ["caf\xe9", "tab\there", "k" * 201], ids=["latin-1", "tab", "too-long"])
async def test_an_idempotency_key_of_other_than_visible_ascii_is_invalid(api: Api, key: str) -> None:
    body = b'{"numbers": ["+15550001234"], "text": "x"}'
    status, data = await send_raw(api, "POST", BROADCAST, body, {**JSON_HEADERS, "Idempotency-Key": key})
    assert (status, data["error"]["code"], data["error"]["field"]) == (400, "invalid_field", "Idempotency-Key")


@pytest.mark.usefixtures("no_unexpected_errors")
@pytest.mark.parametrize("token", [API_TOKEN[:-1] + "\xe9", "\xff" * len(API_TOKEN), API_TOKEN + "\xa0"],
                         ids=["last-char-latin-1", "all-latin-1", "trailing-nbsp"])
async def test_a_token_with_bytes_outside_ascii_is_invalid_not_a_500(api: Api, token: str) -> None:
    status, data = await send_raw(api, "GET", DEALS, headers={"Authorization": f"Bearer {token}"})
    assert (status, data["error"]["code"]) == (401, "invalid_token"), data


@pytest.mark.usefixtures("no_unexpected_errors")
@pytest.mark.parametrize("limit", ["%C2%B2", "%EF%BC%95", "9" * 5000, "+5", "%205", "5.0", "0x10"],
                         ids=["superscript-two", "fullwidth-five", "5000-digits", "plus", "space", "float", "hex"])
async def test_a_limit_that_is_not_plain_digits_is_invalid(api: Api, limit: str) -> None:
    status, data = await send_raw(api, "GET", f"{DEALS}?limit={limit}", headers=AUTH)
    assert (status, data["error"]["code"], data["error"]["field"]) == (400, "invalid_field", "limit"), data


@pytest.mark.usefixtures("no_unexpected_errors")
async def test_a_trailing_newline_does_not_make_a_valid_name(api: Api, db_path: Path) -> None:
    # Python's "$" also matches before a final newline: "deals\n" must not pass as "deals".
    status, data = await send_raw(api, "POST", "/api/audiences/deals%0A/subscribers",
                                  b'{"numbers": ["+15550001234"], "source": "form"}')
    assert (status, data["error"]["code"], data["error"]["field"]) == (400, "invalid_field", "audience"), data
    status, data = await send_raw(api, "GET", "/api/audiences/deals%0A/subscribers", headers=AUTH)
    assert (status, data["error"]["code"]) == (400, "invalid_field"), data
    assert db_rows(db_path, "SELECT count(*) FROM subscriptions")[0][0] == 0
    for body in ({"to": CUSTOMER, "variables": {"name\n": "x"}}, {"to": CUSTOMER, "flow": "shop\n"},
                 {"to": CUSTOMER, "state": "menu\n"}):
        status, data = await api.post("/api/conversations", body)
        assert (status, data["error"]["code"]) == (400, "invalid_field"), data
    status, data = await api.post(BROADCAST, {"audience": "deals\n", "text": "x"})
    assert (status, data["error"]["code"], data["error"]["field"]) == (400, "invalid_field", "audience"), data


@pytest.mark.usefixtures("no_unexpected_errors")
async def test_starting_a_state_without_the_variables_its_text_needs_is_refused(api: Api) -> None:
    # Else the customer gets "Hi , order  is ready." (unknown placeholders are filled with nothing).
    for path, body in (("/api/conversations", {"to": CUSTOMER, "state": "order_ready", "variables": {"name": "A"}}),
                       (BROADCAST, {"numbers": [CUSTOMER], "state": "order_ready"})):
        status, data = await api.post(path, body)
        assert (status, data["error"]["code"], data["error"]["field"]) == (400, "missing_field", "variables"), data
        assert "{order}" in data["error"]["message"]


async def test_a_region_that_is_not_a_country_names_the_field(api: Api) -> None:
    status, data = await api.post("/api/conversations", {"to": "5550001234", "region": "XX"})
    assert (status, data["error"]["code"], data["error"]["field"]) == (400, "invalid_field", "region"), data


@pytest.mark.usefixtures("no_unexpected_errors")
@pytest.mark.parametrize("text", ["", "   ", "\n\t "])
async def test_a_blank_broadcast_text_is_missing(api: Api, text: str) -> None:
    # Else the customers get a message that is only "Reply STOP to opt out."
    status, data = await api.post(BROADCAST, {"numbers": [CUSTOMER], "text": text})
    assert (status, data["error"]["code"], data["error"]["field"]) == (400, "missing_field", "text"), data


@pytest.mark.usefixtures("no_unexpected_errors")
@pytest.mark.parametrize("value", [b"1e400", b"-1e400"])
async def test_a_number_too_large_for_a_float_is_no_variable(api: Api, value: bytes) -> None:
    # Python reads 1e400 as infinity: the customer would have read "Hi inf, order 1 is ready."
    body = b'{"to": "+15550001234", "state": "order_ready", "variables": {"name": ' + value + b', "order": 1}}'
    status, data = await send_raw(api, "POST", "/api/conversations", body)
    assert (status, data["error"]["code"], data["error"]["field"]) == (400, "invalid_field", "variables"), data
    assert "'name'" in data["error"]["message"]


@pytest.mark.parametrize("number", ["9" * 100_000, "x" * 5_000, "+1" + "5" * 3_000], ids=["digits", "letters", "plus"])
async def test_a_huge_malformed_number_is_not_echoed_whole(api: Api, number: str) -> None:
    status, data = await api.post("/api/broadcasts", {"numbers": [number], "text": "hi"})
    assert (status, data["error"]["code"]) == (400, "malformed_number"), data
    message = data["error"]["message"]
    assert len(message) < 300 and f"({len(number)} characters)" in message, message[:300]


async def test_a_database_refusing_writes_is_a_documented_503(api: Api) -> None:
    # Api.call checks every answer against the OpenAPI document: a 503 from the
    # server's error middleware must be one it promises.
    from bot.web.app import SERVICE

    store = api.client.server.app[SERVICE].store
    await store.db.execute("PRAGMA query_only = ON")  # type: ignore[attr-defined]
    try:
        status, data = await api.post("/api/audiences/deals/subscribers", {"numbers": ["+15550001234"],
                                                                           "source": "test"})
    finally:
        await store.db.execute("PRAGMA query_only = OFF")  # type: ignore[attr-defined]
    assert (status, data["error"]["code"]) == (503, "storage_unavailable"), data


@pytest.mark.parametrize("host", ["x:99999", "x:abc", "a/b", "[::1", "a b", "%00", "@x", "x?y", "ex\u00e9mple", ""])
async def test_a_host_header_no_link_can_be_built_from_is_refused(make_api: Any, host: str) -> None:
    # Without --public-url the media links a queued message keeps are built from the
    # Host header: a bad port answered 500; the others stored links like http://a/b/media.
    api = await make_api(public_url="")
    body = b'{"numbers": ["+15550001234"], "text": "hi"}'
    status, data = await send_raw(api, "POST", "/api/broadcasts", body, {**JSON_HEADERS, "Host": host})
    assert (status, data["error"]["code"], data["error"]["field"]) == (400, "invalid_field", "Host"), data
    assert data["error"]["message"].startswith("the Host header should be the server's name or address (and "
                                               "port) as clients reach it")


@pytest.mark.parametrize(("host", "base"), [
    ("sms.example.com", "http://sms.example.com/media"),
    ("127.0.0.1:8080", "http://127.0.0.1:8080/media"),
    ("[::1]:8080", "http://[::1]:8080/media"),  # was http://::1:8080/media: no link at all
])  # fmt: skip
async def test_media_links_are_built_from_a_good_host_header(make_api: Any, host: str, base: str) -> None:
    api = await make_api(public_url="")
    body = b'{"numbers": ["+15550001234"], "text": "hi"}'
    status, data = await send_raw(api, "POST", "/api/broadcasts", body, {**JSON_HEADERS, "Host": host})
    assert status == 202, data
    spec = await api.client.server.app[SERVICE].store.broadcast(data["id"])
    assert spec is not None and spec.media_base == base


@pytest.mark.parametrize("encoding", ["gzip", "deflate"])
async def test_a_body_that_is_not_what_its_content_encoding_says_is_a_400(
    api: Api, encoding: str, no_unexpected_errors: None
) -> None:
    # aiohttp's RequestPayloadError reached the error middleware: a 500 and a traceback in the log.
    status, data = await send_raw(api, "POST", "/api/conversations", b'{"to": "+15550001234"}',
                                  {**JSON_HEADERS, "Content-Encoding": encoding})
    assert (status, data["error"]["code"]) == (400, "invalid_json"), data
    assert data["error"]["message"] == (f"the body could not be decoded as its 'Content-Encoding: {encoding}' "
                                        "says; send it as that header says, or without the header")


async def test_a_number_of_5000_digits_is_named_without_python_advice(api: Api) -> None:
    status, data = await send_raw(api, "POST", "/api/verifications",
                                  b'{"to": "+15550001234", "length": ' + b"9" * 5000 + b"}")
    assert (status, data["error"]["code"]) == (400, "invalid_json")
    assert data["error"]["message"] == "the body is not valid JSON: an integer in it has more than 4300 digits"

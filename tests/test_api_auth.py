"""The API's door: bearer tokens, not mounted without them, JSON errors, E.164 numbers."""

from __future__ import annotations

import io
from typing import Any

import pytest

from bot.api.auth import token_matches
from bot.api.numbers import NumberError, to_e164
from bot.api.openapi import OPENAPI
from bot.config import ConfigError, add_serve_arguments, config_from_args
from tests.conftest import AppFactory
from tests.test_api_harness import API_TOKEN, OTHER_TOKEN, Api, ApiFactory, check_against_spec

# The API fixtures (api, make_api, fake_twilio) live in the harness module.
pytest_plugins = ("tests.test_api_harness",)


async def test_api_is_not_mounted_without_tokens(make_api: ApiFactory) -> None:
    bare = await make_api(api_tokens=())
    response = await bare.client.post("/api/conversations", json={"to": "+15550001111"})
    assert response.status == 404
    assert (await response.json())["error"]["code"] == "not_found"
    assert (await bare.client.get("/api/openapi.json")).status == 404


@pytest.mark.parametrize(
    ("header", "code"),
    [
        (None, "missing_token"),
        ("Bearer wrong-token-0123456789", "invalid_token"),
        ("Bearer ", "invalid_token"),
        (f"Basic {API_TOKEN}", "invalid_token"),
        (f"Bearer {API_TOKEN}x", "invalid_token"),
    ],
)
async def test_requests_without_a_valid_token_are_refused(api: Api, header: str | None, code: str) -> None:
    headers = {} if header is None else {"Authorization": header}
    response = await api.client.post("/api/conversations", json={"to": "+15550001111"}, headers=headers)
    assert response.status == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert (await response.json())["error"]["code"] == code
    assert api.fake.received == []


async def test_every_configured_token_works(api: Api) -> None:
    for token in (API_TOKEN, OTHER_TOKEN):
        status, body = await api.post("/api/conversations", {"to": "+15550001111"}, token=token)
        assert status == 201, body


def test_token_compare_checks_all_tokens() -> None:
    assert token_matches("b" * 20, ["a" * 20, "b" * 20])
    assert not token_matches("b" * 19, ["a" * 20, "b" * 20])
    assert not token_matches("", ["a" * 20])


def test_tokens_come_from_the_environment_and_must_be_long(tmp_path: Any) -> None:
    import argparse

    parser = argparse.ArgumentParser()
    add_serve_arguments(parser, {})
    args = parser.parse_args(["--insecure-dev"])
    config = config_from_args(args, {"TEXTDESK_API_TOKENS": f" {API_TOKEN} ,{OTHER_TOKEN},"})
    assert config.api_tokens == (API_TOKEN, OTHER_TOKEN)
    assert config_from_args(args, {}).api_tokens == ()
    with pytest.raises(ConfigError, match="at least 16"):
        config_from_args(args, {"TEXTDESK_API_TOKENS": "short"})


@pytest.mark.parametrize(
    ("raw", "region", "expected"),
    [
        ("+15550001234", "", "+15550001234"),
        ("+1 (555) 000-1234", "", "+15550001234"),
        ("00447911123456", "", "+447911123456"),
        ("(415) 555-2671", "US", "+14155552671"),
        ("07911 123456", "GB", "+447911123456"),
    ],
)
def test_numbers_are_normalised_to_e164(raw: str, region: str, expected: str) -> None:
    assert to_e164(raw, region) == expected


@pytest.mark.parametrize("raw", ["5550001234", "+1555", "+1 555 000 12345 678", "call me", "+999123456"])
def test_impossible_numbers_are_refused(raw: str) -> None:
    with pytest.raises(NumberError):
        to_e164(raw)


@pytest.mark.parametrize(
    ("body", "code", "status"),
    [
        ({}, "missing_field", 400),
        ({"to": ""}, "missing_field", 400),
        ({"to": 15550001234}, "invalid_field", 400),
        ({"to": "not a number"}, "malformed_number", 400),
        ({"to": "5550001234"}, "malformed_number", 400),
        ({"to": "5550001234", "region": "XX"}, "invalid_field", 400),
        ({"to": "+15550001234", "flow": "nope"}, "unknown_flow", 422),
        ({"to": "+15550001234", "flow": "bad name!"}, "invalid_field", 400),
        ({"to": "+15550001234", "state": "nowhere"}, "unknown_state", 422),
        ({"to": "+15550001234", "channel": "vonage"}, "unknown_channel", 422),
        ({"to": "+15550001234", "flow": "shop", "from": "+15555550199"}, "flow_number_mismatch", 422),
        ({"to": "+15550001234", "variables": ["x"]}, "invalid_field", 400),
        ({"to": "+15550001234", "variables": {"bad name": "x"}}, "invalid_field", 400),
        ({"to": "+15550001234", "varaibles": {}}, "unknown_field", 400),
    ],
)
async def test_bad_conversation_requests_say_what_is_wrong(api: Api, body: Any, code: str, status: int) -> None:
    got, data = await api.post("/api/conversations", body)
    assert (got, data["error"]["code"]) == (status, code), data
    assert data["error"]["message"]
    assert api.fake.received == []


async def test_bodies_that_are_not_json_objects(api: Api) -> None:
    headers = {"Authorization": f"Bearer {API_TOKEN}"}
    cases = [
        ({"data": "to=+1555", "headers": {**headers, "Content-Type": "application/x-www-form-urlencoded"}},
         415, "unsupported_media_type"),
        ({"data": "{not json", "headers": {**headers, "Content-Type": "application/json"}}, 400, "invalid_json"),
        ({"json": ["+15550001234"], "headers": headers}, 400, "invalid_json"),
        ({"data": io.BytesIO(b'"' + b"x" * (5 * 1024 * 1024) + b'"'),
          "headers": {**headers, "Content-Type": "application/json"}}, 413, "body_too_large"),
    ]
    for kwargs, status, code in cases:
        response = await api.client.post("/api/conversations", **kwargs)
        assert response.status == status
        data = await response.json()
        assert data["error"]["code"] == code
        check_against_spec("POST", "/api/conversations", status, data)


async def test_unknown_api_paths_and_methods_are_json(api: Api) -> None:
    # aiohttp's own 404/405 were JSON with an undocumented code (method_not_allowed)
    # and a bare "404: Not Found"; ``api.call`` checks each against the document.
    status, data = await api.get("/api/nowhere")
    assert (status, data["error"]["code"]) == (404, "not_found")
    assert data["error"]["message"] == "no API operation GET /api/nowhere; /api/openapi.json lists them"
    for path in ("/api", "/api/", "/api/conversations/", "/api/openapi.json/"):
        status, data = await api.get(path)
        assert (status, data["error"]["code"]) == (404, "not_found"), path
    status, data = await api.get("/api/conversations")
    assert (status, data["error"]["code"]) == (405, "method_not_allowed")
    assert data["error"]["message"] == "GET is not allowed on /api/conversations; it takes POST"
    response = await api.client.put("/api/broadcasts/bc_0", headers={"Authorization": f"Bearer {API_TOKEN}"})
    assert response.status == 405 and response.headers["Allow"] == "GET, HEAD"
    data = await response.json()
    check_against_spec("PUT", "/api/broadcasts/bc_0", 405, data)
    assert data["error"]["message"] == "PUT is not allowed on /api/broadcasts/bc_0; it takes GET, HEAD"
    generic = OPENAPI["components"]["responses"]
    assert generic["MethodNotAllowed"]["x-error-codes"] == ["method_not_allowed"]
    assert "Allow" in generic["MethodNotAllowed"]["headers"]
    assert generic["NotFound"]["x-error-codes"] == ["not_found"]


async def test_openapi_needs_no_token(make_client: AppFactory, api: Api) -> None:
    response = await api.client.get("/api/openapi.json")
    assert response.status == 200
    assert (await response.json())["openapi"].startswith("3.1")

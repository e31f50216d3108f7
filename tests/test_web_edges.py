"""The HTTP edge as an operator's tools and carriers meet it: methods, paths, headers.

The real app on loopback (``make_client``): every answer is checked as a
client sees it, status, headers and body.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest
from aiohttp import web
from twilio.request_validator import RequestValidator

from bot.clock import VirtualClock
from bot.config import Config
from bot.flows import load_flows
from bot.store import SQLiteStore
from bot.web.app import create_app
from tests.conftest import FLOWS, PUBLIC, TOKEN, AppFactory, Phone, db_rows
from tests.harness_http import raw_request

API_TOKEN = "edge-test-token-0123456789"


@pytest.mark.parametrize(("method", "path", "allowed"), [
    ("POST", "/healthz", {"GET", "HEAD"}),
    ("OPTIONS", "/readyz", {"GET", "HEAD"}),
    ("DELETE", "/metrics", {"GET", "HEAD"}),
    ("PUT", "/media/size-chart.png", {"GET", "HEAD"}),
    ("GET", "/api/conversations", {"POST"}),
])
async def test_a_wrong_method_is_405_with_allow(make_client: AppFactory, method: str, path: str,
                                                 allowed: set[str]) -> None:
    client = await make_client(api_tokens=(API_TOKEN,))
    response = await client.request(method, path, headers={"Authorization": f"Bearer {API_TOKEN}"})
    assert response.status == 405
    # RFC 9110 15.5.6: a 405 MUST say which methods the resource takes.
    assert {m.strip() for m in response.headers.get("Allow", "").split(",")} == allowed, dict(response.headers)
    data = await response.json()
    assert data["error"]["code"] == "method_not_allowed"
    assert method in data["error"]["message"] and "GET" in data["error"]["message"], data


@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE", "OPTIONS", "HEAD"])
@pytest.mark.parametrize("path", ["/webhooks/twilio", "/webhooks/twilio/status"])
async def test_a_method_no_carrier_uses_is_405_even_signed(make_client: AppFactory, db_path: Path,
                                                             method: str, path: str) -> None:
    # Carriers call webhooks with POST (Twilio, Plivo and the Vonage SMS API
    # also with GET): a correctly signed PUT was handled as a text message.
    client = await make_client()
    phone = Phone(client, "+15550007001")
    params = phone.params("hours?")
    signature = RequestValidator(TOKEN).compute_signature(PUBLIC + path, params)
    response = await client.request(method, path, data=params, headers={"X-Twilio-Signature": signature})
    assert response.status == 405
    assert {m.strip() for m in response.headers["Allow"].split(",")} == {"GET", "POST"}
    if method != "HEAD":
        assert (await response.json())["error"]["code"] == "method_not_allowed"
    assert db_rows(db_path, "SELECT count(*) FROM inbound") == [(0,)]


async def test_a_webhook_url_with_a_trailing_slash_is_the_same_webhook(make_client: AppFactory, db_path: Path) -> None:
    # Pasted into a carrier's console with a slash, the URL was a 404 for every
    # message. The signature covers the URL as called, slash included.
    client = await make_client()
    phone = Phone(client, "+15550007002")
    params = phone.params("hours?")
    signature = RequestValidator(TOKEN).compute_signature(PUBLIC + "/webhooks/twilio/", params)
    response = await client.post("/webhooks/twilio/", data=params, headers={"X-Twilio-Signature": signature})
    assert response.status == 200 and "<Message>" in await response.text()
    params["MessageSid"] = "SM" + "f" * 32
    forged = RequestValidator(TOKEN).compute_signature(PUBLIC + "/webhooks/twilio", params)  # signed without it
    refused = await client.post("/webhooks/twilio/", data=params, headers={"X-Twilio-Signature": forged})
    assert refused.status == 403
    assert db_rows(db_path, "SELECT count(*) FROM inbound") == [(1,)]


# -- the Host header, when no --public-url says what the public address is ------------------------


@pytest.mark.parametrize("host", [
    'a"b.example.com', "a b", "evil.example/x", "evil.example?x", "evil.example#x",
    "user@evil.example", "%41.example", "a\\b", "a{b}", "a;b", "a,b", "a'b", "h.example:", "h.example:x",
])
async def test_an_odd_host_header_is_refused_when_it_would_build_links(make_client: AppFactory, db_path: Path,
                                                                        host: str) -> None:
    # Without --public-url the media links in MMS replies (and the URL signatures
    # cover) come from the Host header: a quote, a path or a userinfo there went
    # into the TwiML <Media> and into replies queued for the outbox.
    client = await make_client(token="", public_url="")
    params = Phone(client, "+15550007003").params("picture of the size chart")
    response = await client.post("/webhooks/twilio", data=params, headers={"Host": host})
    assert response.status == 400, await response.text()
    assert (await response.json())["error"]["code"] == "bad_host"
    assert db_rows(db_path, "SELECT count(*) FROM inbound") == [(0,)]


@pytest.mark.parametrize(("host", "base"), [
    ("sms.example.com", "http://sms.example.com"),
    ("SMS.Example.com:8443", "http://sms.example.com:8443"),
    ("sms.example.com:80", "http://sms.example.com"),
    ("[::1]:8080", "http://[::1]:8080"),  # the brackets stay: "http://::1:8080/media" is no URL
    ("10.0.0.7", "http://10.0.0.7"),
])
async def test_a_plain_host_header_builds_the_media_links(make_client: AppFactory, host: str, base: str) -> None:
    client = await make_client(token="", public_url="")
    params = Phone(client, "+15550007004").params("picture of the size chart")
    response = await client.post("/webhooks/twilio", data=params, headers={"Host": host})
    assert response.status == 200, await response.text()
    assert f"<Media>{base}/media/size-chart.png</Media>" in await response.text()


# -- Expect: 100-continue -------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/webhooks/twilio", "/webhooks/twilio/status", "/webhooks/twilio/"])
async def test_expect_continue_over_the_limit_is_refused_before_the_body(make_client: AppFactory, db_path: Path,
                                                                          path: str) -> None:
    # A client that asks first must not be told "100 Continue" for a body we
    # would refuse: it then uploads the whole of it for nothing.
    client = await make_client()
    response = await raw_request(client.port, "POST", path, headers={
        "Content-Type": "application/x-www-form-urlencoded", "Expect": "100-continue",
    }, content_length=64 * 1024 + 1)
    assert response.status == 413
    assert response.json()["error"]["code"] == "body_too_large"
    assert db_rows(db_path, "SELECT count(*) FROM inbound") == [(0,)]


async def test_expect_continue_within_the_limit_is_continued(make_client: AppFactory) -> None:
    client = await make_client()
    response = await raw_request(client.port, "POST", "/webhooks/twilio", headers={
        "Content-Type": "application/x-www-form-urlencoded", "Expect": "100-continue",
    }, content_length=64 * 1024)
    assert response.status == 100  # the body is never sent: only the interim answer is read


async def test_an_unknown_expectation_is_a_json_417(make_client: AppFactory) -> None:
    client = await make_client()
    response = await raw_request(client.port, "POST", "/webhooks/twilio", headers={
        "Content-Type": "application/x-www-form-urlencoded", "Expect": "something-else",
    }, content_length=0)
    assert response.status == 417
    assert response.json()["error"]["code"] == "expectation_failed"


# -- bodies that cannot be read -------------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["gzip", "deflate"])
@pytest.mark.parametrize("path", ["/webhooks/twilio", "/webhooks/twilio/status"])
async def test_a_body_that_does_not_decode_as_its_content_encoding_is_a_400(
    make_client: AppFactory, db_path: Path, caplog: pytest.LogCaptureFixture, encoding: str, path: str
) -> None:
    # aiohttp inflates a gzip or deflate body as it is read; garbage under that header
    # escaped the handler as an unexpected error: a 500 and a traceback in the log.
    client = await make_client()
    with caplog.at_level(logging.INFO, logger="textdesk.web"):
        response = await raw_request(client.port, "POST", path, headers={
            "Content-Type": "application/x-www-form-urlencoded", "Content-Encoding": encoding,
        }, body=b"MessageSid=not-" + encoding.encode())
    assert response.status == 400, response.body
    assert response.json()["error"]["code"] == "unreadable_body"
    # Ours only: aiohttp itself then logs the broken payload once more while it drains the
    # connection after our answer (aiohttp.server "Unhandled exception"), out of our reach.
    ours = [r for r in caplog.records if r.name == "textdesk.web"]
    assert [r.levelname for r in ours] == ["INFO"] and not any(r.exc_info for r in ours), caplog.text
    assert db_rows(db_path, "SELECT count(*) FROM inbound") == [(0,)]


async def test_a_client_gone_before_its_body_is_no_internal_error(db_path: Path, clock: VirtualClock,
                                                                   caplog: pytest.LogCaptureFixture) -> None:
    # A client that announces 1,000 bytes and hangs up after 10 left a traceback and an
    # "unexpected error" for the operator to chase; nobody is there to read an answer.
    # Run as `serve` runs it (web.run_app: handlers are not cancelled when the client
    # goes; aiohttp's TestServer cancels them, which would hide what happens).
    config = Config(flows_dir=FLOWS, db_path=db_path, public_url=PUBLIC, twilio_auth_token=TOKEN)
    runner = web.AppRunner(create_app(config, load_flows(FLOWS), SQLiteStore(db_path), clock))
    await runner.setup()
    logged = asyncio.Event()

    class Seen(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            logged.set()

    seen = Seen(level=logging.INFO)
    web_log = logging.getLogger("textdesk.web")
    web_log.addHandler(seen)
    try:
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = runner.addresses[0][1]
        with caplog.at_level(logging.INFO, logger="textdesk.web"):
            _reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(b"POST /webhooks/twilio HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                         b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\nMessageSid")
            await writer.drain()
            writer.close()
            await writer.wait_closed()
            await asyncio.wait_for(logged.wait(), 5)
    finally:
        web_log.removeHandler(seen)
        await runner.cleanup()
    assert "Traceback" not in caplog.text and "unexpected error" not in caplog.text, caplog.text
    assert "client_gone" in caplog.text


async def test_an_http_1_0_expect_header_is_ignored(make_client: AppFactory) -> None:
    # Expect is HTTP/1.1's (RFC 9110 §10.1.1): an HTTP/1.0 client sends its body anyway, and
    # the request is handled as any other (here refused for its missing signature, not 417).
    client = await make_client()
    reader, writer = await asyncio.open_connection("127.0.0.1", client.port)
    writer.write(b"POST /webhooks/twilio HTTP/1.0\r\nHost: 127.0.0.1\r\nExpect: something-else\r\n"
                 b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 0\r\n\r\n")
    await writer.drain()
    status_line = await asyncio.wait_for(reader.readline(), 5)
    writer.close()
    await writer.wait_closed()
    assert status_line.split()[1] == b"403", status_line

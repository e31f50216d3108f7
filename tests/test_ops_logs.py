"""The server's own log output (a real ``run.py`` process): numbers masked, no forged lines.

Requests carry phone numbers and line breaks where a client controls them (the
path, which the refusal line and the access log both print); every line the
server writes must still be one whole record with every number masked.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest

from bot.logjson import JsonFormatter
from bot.logtext import TextFormatter
from tests.harness_server import ROOT, free_port

NUMBER = "+15550009876"
FORGED = "2026-01-01 00:00:00,000 ERROR textdesk: forged"
LINE_START = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} [A-Z]+ [\w.]+: ")


@pytest.fixture(params=["text", "json"])
def server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, str, Path]]:
    port = free_port()
    log = tmp_path / "server.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TEXTDESK_", "TWILIO_"))}
    command = [sys.executable, "run.py", "--insecure-dev", "--port", str(port), "--db", str(tmp_path / "t.db"),
               "--access-log", "--log-format", request.param, "--reload-interval", "0"]
    with log.open("wb") as out:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        yield f"http://127.0.0.1:{port}", request.param, log
    finally:
        process.terminate()
        process.wait(timeout=20)


async def wait_ready(session: aiohttp.ClientSession, url: str) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            async with session.get(f"{url}/healthz") as answer:
                if answer.status == 200:
                    return
        except aiohttp.ClientError:
            pass
        await asyncio.sleep(0.05)
    raise AssertionError("server not ready")


async def test_client_controlled_paths_cannot_forge_lines_or_leak_numbers(server: tuple[str, str, Path]) -> None:
    url, form, log = server
    encoded_newline = "%0A" + FORGED.replace(" ", "%20")
    async with aiohttp.ClientSession() as session:
        await wait_ready(session, url)
        for path in (
            f"/webhooks/%2B{NUMBER[1:]}{encoded_newline}",  # refused: unknown carrier, path in the line
            f"/webhooks/{NUMBER}%1B[2J%0D",  # an ANSI escape and a carriage return
            f"/media/{NUMBER}.png",  # the access log prints the request line
            f"/media/%2B{NUMBER[1:]}.png",
        ):
            async with session.get(aiohttp.client.URL(url + path, encoded=True)) as answer:
                assert answer.status == 404
        async with session.post(f"{url}/webhooks/twilio", data={
            "MessageSid": "SM" + "0" * 31 + "1", "From": NUMBER, "To": "+15555550100", "Body": "1", "NumMedia": "0",
        }) as answer:
            assert answer.status == 200
    deadline = time.monotonic() + 10
    while "twilio" not in log.read_text() and time.monotonic() < deadline:
        time.sleep(0.05)  # the child writes its lines asynchronously to the file
    text = log.read_text(encoding="utf-8")
    assert NUMBER[1:] not in text, text
    lines = text.splitlines()
    assert len(lines) > 5
    for line in lines:
        if form == "json":
            json.loads(line)
        else:
            assert LINE_START.match(line), line
        assert not line.startswith(FORGED)
        assert "\x1b" not in line
    assert "+15*******76" in text  # the customer's per-message line, masked as before


async def test_numbers_without_plus_in_webhook_queries_are_masked_in_the_access_log(
    server: tuple[str, str, Path],
) -> None:
    # The Vonage SMS API calls its webhooks with GET by default, and Plivo can:
    # their numbers come without "+" (msisdn=447700900123), in the query that the
    # access log prints whole, whatever the answer (here 404: not configured).
    url, _form, log = server
    customer, business = "447700900123", "14155550187"
    async with aiohttp.ClientSession() as session:
        await wait_ready(session, url)
        for path in (
            f"/webhooks/vonage-sms?msisdn={customer}&to={business}&messageId=0A00000012345678&text=hi"
            "&type=text&keyword=HI&message-timestamp=2026-11-27+12%3A00%3A00",
            f"/webhooks/plivo/status?From={business}&To={customer}&MessageUUID=abc&Status=delivered",
            f"/webhooks/vonage-sms/status?MSISDN={customer}&TO={business}",
        ):
            async with session.get(aiohttp.client.URL(url + path, encoded=True)) as answer:
                assert answer.status == 404
    deadline = time.monotonic() + 10
    while log.read_text().count("/webhooks/") < 6 and time.monotonic() < deadline:
        time.sleep(0.05)  # the child writes its lines asynchronously to the file
    text = log.read_text(encoding="utf-8")
    assert text.count("aiohttp.access") >= 3, text
    assert customer not in text and business not in text, text
    assert f"msisdn=44{'*' * 8}23" in text and f"From=14{'*' * 7}87" in text, text  # as mask() shows them
    assert "messageId=0A00000012345678" in text  # ids are not numbers


@pytest.mark.parametrize("formatter", [TextFormatter(), JsonFormatter()], ids=["text", "json"])
def test_numbers_in_carrier_errors_and_tracebacks_are_masked(formatter: logging.Formatter) -> None:
    # What the outbox logs when Twilio refuses a send (error 21211 names the number).
    error = f"HTTP 400: The 'To' number {NUMBER} is not a valid phone number."
    record = logging.LogRecord("textdesk.outbox", logging.WARNING, __file__, 1, "outbox %s to %s failed: %s",
                               (7, "+15*******76", error), None)
    assert NUMBER[1:] not in formatter.format(record)
    try:
        raise ValueError(f"no conversation for {NUMBER}")
    except ValueError:
        record = logging.LogRecord("textdesk.web", logging.ERROR, __file__, 1, "unexpected error", (), sys.exc_info())
    line = formatter.format(record)
    assert "ValueError: no conversation for +15*******76" in line.replace("\\n", "\n")
    assert NUMBER[1:] not in line


# What str.splitlines() (and so many log viewers and shippers) reads as a line
# break, and what repaints or reorders a terminal: C1 controls (NEL, CSI), DEL,
# the line and paragraph separators, bidirectional overrides and isolates.
UNSAFE_UNESCAPED_BY_JSON = "\x85\x9b\x7f\u2028\u2029\u202e\u2066"


@pytest.mark.parametrize("formatter", [TextFormatter(), JsonFormatter()], ids=["text", "json"])
def test_line_breaks_and_terminal_controls_json_leaves_raw_are_escaped(formatter: logging.Formatter) -> None:
    # A request path is decoded before the refusal line prints it: %C2%85 is NEL.
    path = "/webhooks/x" + UNSAFE_UNESCAPED_BY_JSON + '{"level": "ERROR", "message": "forged"}'
    record = logging.LogRecord("textdesk.web", logging.INFO, __file__, 1, "refused %s %s: %s %s",
                               ("POST", path, 404, "unknown_carrier"), None)
    line = formatter.format(record)
    assert len(line.splitlines()) == 1, repr(line)
    assert not any(c in line for c in UNSAFE_UNESCAPED_BY_JSON), repr(line)
    if isinstance(formatter, JsonFormatter):
        assert json.loads(line)["message"] == f"refused POST {path}: 404 unknown_carrier"  # escaped, not lost

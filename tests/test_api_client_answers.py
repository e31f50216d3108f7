"""The API commands against servers that do not answer as textdesk does.

A wrong ``--url`` (another web app, a proxy's error page, a load balancer's
JSON) used to end in a traceback: the answer was not JSON, or its ``error`` was
not textdesk's object, or a 2xx lacked the fields the command prints. Each now
ends as one ``textdesk <command>: error:`` line naming the server, exit code 1.
Real aiohttp servers on loopback answer; the commands run in a thread.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from aiohttp import web

from bot.cli import main

pytestmark = pytest.mark.filterwarnings("error")

ANSWERS: dict[str, tuple[int, str, str]] = {
    "html-200": (200, "text/html", "<html><body>Welcome to nginx!</body></html>"),
    "html-502": (502, "text/html", "<html><body>502 Bad Gateway</body></html>"),
    "json-error-string-502": (502, "application/json", '{"error": "bad gateway"}'),
    "json-error-without-code-400": (400, "application/json", '{"error": {"message": "nope"}}'),
    "json-list-200": (200, "application/json", "[1, 2]"),
    "json-object-200": (200, "application/json", '{"status": "ok"}'),
    "empty-200": (200, "application/json", ""),
}


@pytest.fixture(params=sorted(ANSWERS))
async def other_server(request: pytest.FixtureRequest, aiohttp_server: Any) -> str:
    status, content_type, text = ANSWERS[request.param]

    async def answer(_: web.Request) -> web.Response:
        return web.Response(status=status, text=text, content_type=content_type)

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", answer)
    server = await aiohttp_server(app)
    return str(server.make_url("")).rstrip("/")


@pytest.mark.parametrize(
    "argv",
    [
        ("send", "+15550001111"),
        ("broadcast", "--audience", "deals", "--text", "hi", "--no-wait"),
        ("broadcast", "--status", "bc_0000000000000001"),
        ("subscribers", "list", "deals"),
        ("subscribers", "add", "deals", "+15550001111", "--source", "form"),
        ("subscribers", "remove", "deals", "+15550001111"),
    ],
    ids=lambda argv: "-".join(argv[:2]),
)
async def test_an_answer_textdesk_would_not_give_is_one_error_line(
    other_server: str, argv: tuple[str, ...], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEXTDESK_API_TOKEN", "api-token-0123456789abcdef")
    code = await asyncio.to_thread(main, [*argv, "--url", other_server])
    err = capsys.readouterr().err
    assert code == 1, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"textdesk {argv[0]}: error: "), err
    assert other_server in lines[0], err

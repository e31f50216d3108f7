"""A small real HTTP server on loopback that answers like a carrier's REST API.

It records every request it receives and replies from a script of statuses
(default: accept). Tests point a carrier's API base URL at it; no code of ours
is mocked.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def form(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for key, value in parse_qsl(self.body.decode()):
            out.setdefault(key, []).append(value)
        return out


@dataclass
class FakeTwilioApi:
    """Answers ``POST /2010-04-01/Accounts/<sid>/Messages.json`` like Twilio."""

    script: list[int] = field(default_factory=list)  # statuses to answer next; empty: 201
    received: list[Received] = field(default_factory=list)
    _ids: Any = field(default_factory=lambda: itertools.count(1))

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/2010-04-01/Accounts/{sid}/Messages.json", self.messages)
        return app

    async def messages(self, request: web.Request) -> web.Response:
        self.received.append(Received(request.method, request.path, dict(request.headers), await request.read()))
        status = self.script.pop(0) if self.script else 201
        if status == 201:
            sid = f"SM{next(self._ids):032x}"
            return web.json_response({"sid": sid, "status": "queued"}, status=201)
        if status == 400:
            body = {"code": 21610, "message": "Attempt to send to unsubscribed recipient", "status": 400}
            return web.json_response(body, status=400)
        return web.Response(status=status, text=json.dumps({"code": 20429, "message": "Too Many Requests"}))

    @property
    def bodies(self) -> list[str]:
        return [r.form["Body"][0] for r in self.received]

"""Shared test parts: the real app on loopback, a real SQLite file, a virtual clock.

``Phone`` plays a customer texting through Twilio: it signs each request with the
official SDK's ``RequestValidator`` (not with our own code) and parses the TwiML.
"""

from __future__ import annotations

import itertools
import sqlite3
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from twilio.request_validator import RequestValidator

from bot.clock import VirtualClock
from bot.config import Config
from bot.flows import load_flows
from bot.store import SQLiteStore
from bot.web.app import create_app

ROOT = Path(__file__).resolve().parent.parent
FLOWS = ROOT / "flows"
TOKEN = "test-auth-token-12345"
PUBLIC = "https://sms.example.com"
BUSINESS = "+15555550100"

_sids = itertools.count(1)


def new_sid() -> str:
    return f"SM{next(_sids):032x}"


@dataclass
class Sent:
    status: int
    text: str
    messages: list[tuple[str, list[str]]] = field(default_factory=list)

    @property
    def body(self) -> str:
        assert len(self.messages) == 1, self.text
        return self.messages[0][0]

    @property
    def media(self) -> list[str]:
        assert len(self.messages) == 1, self.text
        return self.messages[0][1]


def parse_twiml(text: str) -> list[tuple[str, list[str]]]:
    root = ET.fromstring(text)
    assert root.tag == "Response"
    out = []
    for message in root.findall("Message"):
        body = message.findtext("Body") or ""
        out.append((body, [m.text or "" for m in message.findall("Media")]))
    return out


class Phone:
    """A customer's phone texting the business through a signed Twilio webhook."""

    def __init__(self, client: TestClient[Any, Any], number: str, business: str = BUSINESS,
                 public: str | None = PUBLIC, token: str = TOKEN) -> None:
        self.client = client
        self.number = number
        self.business = business
        self.public = public
        self.token = token

    def url(self) -> str:
        if self.public is None:
            return str(self.client.make_url("/webhooks/twilio"))
        return self.public + "/webhooks/twilio"

    def params(self, text: str, sid: str | None = None, media: list[str] | None = None) -> dict[str, str]:
        params = {
            "MessageSid": sid or new_sid(),
            "AccountSid": "AC" + "0" * 32,
            "From": self.number,
            "To": self.business,
            "Body": text,
            "NumMedia": str(len(media or [])),
            "NumSegments": "1",
            "SmsStatus": "received",
            "ApiVersion": "2010-04-01",
        }
        for i, url in enumerate(media or []):
            params[f"MediaUrl{i}"] = url
            params[f"MediaContentType{i}"] = "image/jpeg"
        return params

    async def post(self, params: dict[str, str], signature: str | None = None) -> Sent:
        if signature is None:
            signature = RequestValidator(self.token).compute_signature(self.url(), params)
        response = await self.client.post(
            "/webhooks/twilio", data=params, headers={"X-Twilio-Signature": signature}
        )
        text = await response.text()
        sent = Sent(response.status, text)
        if response.status == 200:
            assert response.content_type == "text/xml"
            sent.messages = parse_twiml(text)
        return sent

    async def text(self, body: str, sid: str | None = None, media: list[str] | None = None) -> Sent:
        sent = await self.post(self.params(body, sid, media))
        assert sent.status == 200, sent.text
        return sent


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock()


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "textdesk.db"


@pytest.fixture
async def store(db_path: Path) -> AsyncIterator[SQLiteStore]:
    """An open SQLite store on a fresh file (a module may define its own ``store``)."""
    opened = SQLiteStore(db_path)
    await opened.open()
    try:
        yield opened
    finally:
        await opened.close()


AppFactory = Callable[..., Awaitable[TestClient[Any, Any]]]


@pytest.fixture
def make_client(aiohttp_client: Any, db_path: Path, clock: VirtualClock) -> AppFactory:
    async def make(flows_dir: Path = FLOWS, token: str = TOKEN, public_url: str = PUBLIC,
                   carriers: Any = None, **overrides: Any) -> TestClient[Any, Any]:
        # The virtual clock stands still unless a test moves it, so a whole
        # scripted conversation is one "burst": flood tests set their own limit.
        overrides.setdefault("flood_burst", 10_000)
        config = Config(
            flows_dir=flows_dir,
            db_path=db_path,
            public_url=public_url,
            twilio_auth_token=token,
            insecure_dev=not token,
            **overrides,
        )
        app: web.Application = create_app(config, load_flows(flows_dir), SQLiteStore(db_path), clock, carriers)
        client: TestClient[Any, Any] = await aiohttp_client(app)
        return client

    return make


def db_rows(db_path: Path, sql: str, *params: object) -> list[tuple[Any, ...]]:
    """Read the real database file directly, as an operator would."""
    with sqlite3.connect(db_path) as conn:
        return conn.execute(sql, params).fetchall()

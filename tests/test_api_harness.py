"""Shared parts of the API tests: a small flow, the real app with the API mounted,
a fake Twilio REST API on loopback, and a client that checks every answer it
receives (status, error code, required fields) against the OpenAPI document.

(Named test_api_* so it sits with the API tests; it defines no tests itself.)
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.api.errors import ERRORS
from bot.api.feeder import BroadcastFeeder
from bot.api.keys import FEEDER
from bot.api.openapi import OPENAPI, operation_errors
from bot.carriers.twilio import TwilioCarrier
from bot.outbox import Outbox
from bot.web.keys import OUTBOX
from tests.conftest import FLOWS, TOKEN, AppFactory, Phone
from tests.fake_carrier import FakeTwilioApi

API_TOKEN = "api-token-0123456789abcdef"
OTHER_TOKEN = "second-token-abcdefghijklmnop"
BUSINESS = "+15555550100"
OTHER_BUSINESS = "+15555550199"

SHOP = """\
flow: shop
default: true
numbers: ["+15555550100"]
start: menu
settings:
  brand: "Café Zoë ☕"
global:
  - keywords: [JOIN, DEALS]
    subscribe: deals
    say: "You're in! Deals from Café Zoë. Reply STOP to opt out."
  - keywords: [MENU]
    go: menu
states:
  menu:
    say: "Hi! Reply 1 for hours."
    choices:
      - keywords: ["1"]
        say: "Open 8-6."
  order_ready:
    say: "Hi {name}, order {order} is ready. Reply 1 for hours."
    media: [pic.png]
    choices:
      - keywords: ["1"]
        say: "Open 8-6."
"""
OTHER = """\
flow: other
numbers: ["+15555550199"]
start: hello
states:
  hello:
    say: "Other line here."
"""



def spec_route(method: str, path: str) -> str | None:
    """The OpenAPI path template that ``path`` matches for ``method``, if any."""
    for template, operations in OPENAPI["paths"].items():
        pattern = "^" + re.sub(r"\\{[a-z_]+\\}", "[^/]+", re.escape(template)) + "$"
        if method.lower() in operations and re.match(pattern, path.split("?")[0]):
            return str(template)
    return None


def check_against_spec(method: str, path: str, status: int, data: Any) -> None:
    """Every API answer a test receives must be one the OpenAPI document promises."""
    route = spec_route(method, path)
    if route is None:
        # An unknown path or method: one of the refusals the document gives any path.
        codes = {code: response for response in OPENAPI["components"]["responses"].values()
                 for code in response["x-error-codes"]}
        assert status >= 400 and data["error"]["code"] in codes, (method, path, status, data)
        assert ERRORS[data["error"]["code"]][0] == status
        assert isinstance(data["error"]["message"], str)
        return
    operation = OPENAPI["paths"][route][method.lower()]
    if status >= 400:
        code = data["error"]["code"]
        assert code in operation_errors(method, route), f"{method} {route}: undocumented error code {code}"
        assert ERRORS[code][0] == status, f"{code} answered with {status}, documented {ERRORS[code][0]}"
        assert code in operation["responses"][str(status)]["x-error-codes"]
        return
    documented = [int(s) for s in operation["responses"] if int(s) < 400]
    assert status in documented or (route == "/api/broadcasts" and status == 200), (method, route, status)
    schema = operation["responses"][str(documented[0])]["content"]["application/json"]["schema"]
    missing = [key for key in schema.get("required", []) if key not in data]
    assert not missing, f"{method} {route}: response lacks {missing}"


@dataclass
class Api:
    client: TestClient[Any, Any]
    fake: FakeTwilioApi
    token: str = API_TOKEN
    sent_at: list[float] = field(default_factory=list)

    async def call(self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None,
                   token: str | None = None) -> tuple[int, Any]:
        sent = {"Authorization": f"Bearer {token or self.token}", **(headers or {})}
        response = await self.client.request(method, path, json=body, headers=sent)
        data = await response.json()
        check_against_spec(method, path, response.status, data)
        return response.status, data

    async def post(self, path: str, body: Any = None, **kwargs: Any) -> tuple[int, Any]:
        return await self.call("POST", path, body, **kwargs)

    async def get(self, path: str, **kwargs: Any) -> tuple[int, Any]:
        return await self.call("GET", path, **kwargs)

    @property
    def outbox(self) -> Outbox:
        return self.client.server.app[OUTBOX]

    @property
    def feeder(self) -> BroadcastFeeder:
        return self.client.server.app[FEEDER]

    def phone(self, number: str) -> Phone:
        return Phone(self.client, number, business=BUSINESS)


def make_flows(tmp_path: Path) -> Path:
    flows = tmp_path / "flows"
    (flows / "media").mkdir(parents=True, exist_ok=True)
    shutil.copy(FLOWS / "media" / "size-chart.png", flows / "media" / "pic.png")
    (flows / "shop.yaml").write_text(SHOP, encoding="utf-8")
    (flows / "other.yaml").write_text(OTHER, encoding="utf-8")
    return flows


ApiFactory = Callable[..., Awaitable[Api]]


@pytest.fixture
async def fake_twilio(aiohttp_server: Any) -> tuple[FakeTwilioApi, TestServer]:
    fake = FakeTwilioApi()
    return fake, await aiohttp_server(fake.app())


@pytest.fixture
def make_api(make_client: AppFactory, fake_twilio: tuple[FakeTwilioApi, TestServer], tmp_path: Path) -> ApiFactory:
    async def make(**overrides: Any) -> Api:
        fake, server = fake_twilio
        # TwiML replies to texts (JOIN, STOP); business-initiated sends go through the REST API.
        carrier = TwilioCarrier(TOKEN, "AC" + "1" * 32, str(server.make_url("")), sync_replies=True)
        overrides.setdefault("send_rates", {"*": 10.0})
        overrides.setdefault("api_tokens", (API_TOKEN, OTHER_TOKEN))
        client = await make_client(flows_dir=make_flows(tmp_path), carriers={"twilio": carrier},
                                   outbox_worker=False, **overrides)
        return Api(client, fake)

    return make


@pytest.fixture
async def api(make_api: ApiFactory) -> Api:
    return await make_api()

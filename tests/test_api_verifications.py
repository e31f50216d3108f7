"""Verification codes: texted in the brand's GSM-7, stored hashed, limited attempts and rates."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestServer

from bot.api.keys import VERIFIER
from bot.api.verify import Verifier, code_message, gsm7_brand
from bot.carriers.twilio import TwilioCarrier
from bot.clock import VirtualClock
from bot.config import Config
from bot.flows import load_flows
from bot.sms import is_gsm7
from bot.store import SQLiteStore
from bot.web.app import create_app
from tests.conftest import PUBLIC, TOKEN, db_rows
from tests.fake_carrier import FakeTwilioApi
from tests.test_api_harness import API_TOKEN, Api, make_flows

CUSTOMER = "+15550006001"

# The API fixtures (api, make_api, fake_twilio) live in the harness module.
pytest_plugins = ("tests.test_api_harness",)


async def request_code(api: Api, to: str = CUSTOMER, **fields: Any) -> tuple[str, str]:
    """Ask for a code and read it from the text the fake carrier received."""
    status, data = await api.post("/api/verifications", {"to": to, **fields})
    assert status == 201, data
    before = len(api.fake.received)
    await api.outbox.run_once()
    assert len(api.fake.received) == before + 1
    body = api.fake.received[-1].form["Body"][0]
    code = re.search(r"code is (\d+)\.", body)
    assert code is not None, body
    return data["id"], code.group(1)


async def check(api: Api, code: str, to: str = CUSTOMER) -> tuple[int, Any]:
    return await api.post("/api/verifications/check", {"to": to, "code": code})


async def test_happy_path(api: Api, db_path: Path) -> None:
    verification_id, code = await request_code(api)
    body = api.fake.received[-1].form["Body"][0]
    assert body == f"Café Zoe: your verification code is {code}. It expires in 10 min. Do not share it with anyone."
    assert is_gsm7(body) and len(code) == 6
    (stored,) = db_rows(db_path, "SELECT code_hash, salt FROM verifications")
    assert code.encode() not in stored[0] and len(stored[0]) == 32  # only a salted hash is kept
    status, data = await check(api, code)
    assert (status, data["status"], data["id"]) == (200, "approved", verification_id)
    status, data = await check(api, code)  # a code works once
    assert (status, data["error"]["code"]) == (404, "verification_not_found")


async def test_wrong_code_then_right_code(api: Api) -> None:
    _, code = await request_code(api, length=4)
    wrong = "0000" if code != "0000" else "1111"
    status, data = await check(api, wrong)
    assert (status, data["error"]["code"], data["error"]["attempts_left"]) == (422, "wrong_code", 4)
    status, data = await check(api, code)
    assert (status, data["status"]) == (200, "approved")


async def test_too_many_attempts_kills_the_code(api: Api) -> None:
    _, code = await request_code(api)
    wrong = "000000" if code != "000000" else "111111"
    lefts = []
    for _ in range(4):
        status, data = await check(api, wrong)
        lefts.append((status, data["error"]["attempts_left"]))
    assert lefts == [(422, 4), (422, 3), (422, 2), (422, 1)]
    status, data = await check(api, wrong)
    assert (status, data["error"]["code"], data["error"]["attempts_left"]) == (429, "too_many_attempts", 0)
    status, data = await check(api, code)  # even the right code is refused now
    assert (status, data["error"]["code"]) == (429, "too_many_attempts")


async def test_expiry(api: Api, clock: VirtualClock) -> None:
    _, code = await request_code(api, expires_in=120)
    assert "expires in 2 min" in api.fake.received[-1].form["Body"][0]
    clock.advance(121)
    status, data = await check(api, code)
    assert (status, data["error"]["code"]) == (410, "verification_expired")


@dataclass
class SlowHashVerifier(Verifier):
    """The real hash, taking ``seconds`` on the virtual clock as scrypt takes real ones."""

    clock: VirtualClock = field(default_factory=VirtualClock)
    seconds: float = 0.0

    async def matches(self, code: str, salt: bytes, stored: bytes) -> bool:  # type: ignore[override]
        right = await Verifier.matches(code, salt, stored)
        self.clock.advance(self.seconds)
        return right


async def test_a_code_that_expires_while_it_is_hashed_is_not_accepted(
    aiohttp_client: Any, fake_twilio: tuple[FakeTwilioApi, TestServer], tmp_path: Path, db_path: Path,
    clock: VirtualClock,
) -> None:
    # Checked a second before it expires; the hash takes two: it was accepted, expired.
    fake, server = fake_twilio
    carrier = TwilioCarrier(TOKEN, "AC" + "1" * 32, str(server.make_url("")), sync_replies=True)
    config = Config(flows_dir=make_flows(tmp_path), db_path=db_path, public_url=PUBLIC, twilio_auth_token=TOKEN,
                    outbox_worker=False, send_rates={"*": 10.0}, api_tokens=(API_TOKEN,))
    app = create_app(config, load_flows(config.flows_dir), SQLiteStore(db_path), clock, {"twilio": carrier})
    app[VERIFIER] = SlowHashVerifier(clock=clock, seconds=2.0)
    api = Api(await aiohttp_client(app), fake)
    _, code = await request_code(api, expires_in=120)
    clock.advance(119)
    status, data = await check(api, code)
    assert (status, data["error"]["code"]) == (410, "verification_expired"), data
    assert db_rows(db_path, "SELECT status, attempts FROM verifications") == [("pending", 0)]
    status, data = await check(api, code)  # and it stays expired
    assert (status, data["error"]["code"]) == (410, "verification_expired")


async def test_a_new_code_replaces_the_open_one(api: Api, clock: VirtualClock) -> None:
    _, old = await request_code(api)
    clock.advance(31)
    _, new = await request_code(api)
    if old != new:
        _, data = await check(api, old)
        assert data["error"]["code"] == "wrong_code"
    assert (await check(api, new))[0] == 200


async def test_rate_limits_per_number(api: Api, clock: VirtualClock) -> None:
    await request_code(api)
    status, data = await api.post("/api/verifications", {"to": CUSTOMER})
    assert (status, data["error"]["code"]) == (429, "rate_limited")
    assert 1 <= data["error"]["retry_after"] <= 30
    for _ in range(4):
        clock.advance(31)
        await request_code(api)
    clock.advance(31)
    status, data = await api.post("/api/verifications", {"to": CUSTOMER})
    assert (status, data["error"]["code"]) == (429, "rate_limited")  # 5 per hour
    status, _ = await api.post("/api/verifications", {"to": "+15550006002"})  # another number is not held
    assert status == 201
    clock.advance(3600)
    assert (await api.post("/api/verifications", {"to": CUSTOMER}))[0] == 201


async def test_rate_limits_per_client(api: Api, clock: VirtualClock) -> None:
    for i in range(20):
        status, _ = await api.post("/api/verifications", {"to": f"+155500070{i:02d}"})
        assert status == 201
    status, data = await api.post("/api/verifications", {"to": "+15550007099"})
    assert (status, data["error"]["code"]) == (429, "rate_limited")
    clock.advance(3600)
    assert (await api.post("/api/verifications", {"to": "+15550007099"}))[0] == 201
    for _ in range(60):
        await check(api, "123456", to="+15550007099")
    status, data = await check(api, "123456", to="+15550007099")
    assert (status, data["error"]["code"]) == (429, "rate_limited")


async def test_opted_out_numbers_get_no_code(api: Api, db_path: Path) -> None:
    await api.phone(CUSTOMER).text("STOP")
    status, data = await api.post("/api/verifications", {"to": CUSTOMER})
    assert (status, data["error"]["code"]) == (409, "opted_out")
    assert db_rows(db_path, "SELECT count(*) FROM verifications") == [(0,)]


@pytest.mark.parametrize(
    ("path", "body", "status", "code"),
    [
        ("/api/verifications", {}, 400, "missing_field"),
        ("/api/verifications", {"to": "12"}, 400, "malformed_number"),
        ("/api/verifications", {"to": CUSTOMER, "length": 3}, 400, "invalid_field"),
        ("/api/verifications", {"to": CUSTOMER, "length": "6"}, 400, "invalid_field"),
        ("/api/verifications", {"to": CUSTOMER, "expires_in": 7200}, 400, "invalid_field"),
        ("/api/verifications", {"to": CUSTOMER, "flow": "nope"}, 422, "unknown_flow"),
        ("/api/verifications", {"to": CUSTOMER, "channel": "plivo"}, 422, "unknown_channel"),
        ("/api/verifications", {"to": CUSTOMER, "flow": "shop", "from": "+15555550199"}, 422,
         "flow_number_mismatch"),
        ("/api/verifications", {"to": CUSTOMER, "code": "1"}, 400, "unknown_field"),
        ("/api/verifications/check", {"to": CUSTOMER}, 400, "missing_field"),
        ("/api/verifications/check", {"to": CUSTOMER, "code": "12ab56"}, 400, "invalid_field"),
        ("/api/verifications/check", {"to": CUSTOMER, "code": "123456"}, 404, "verification_not_found"),
        ("/api/verifications/check", {"to": "+1", "code": "123456"}, 400, "malformed_number"),
        ("/api/verifications/check", {"to": CUSTOMER, "code": "123456", "flow": "x"}, 422, "unknown_flow"),
    ],
)
async def test_verification_errors(api: Api, path: str, body: Any, status: int, code: str) -> None:
    got, data = await api.post(path, body)
    assert (got, data["error"]["code"]) == (status, code), data


def test_messages_are_gsm7_whatever_the_brand() -> None:
    assert gsm7_brand("Café Zoë ☕") == "Café Zoe"  # é is GSM-7, ë is not
    assert gsm7_brand("Ünïcode “Store”") == "Ünicode \"Store\""
    assert gsm7_brand("東京ストア") == ""
    text = code_message("東京ストア", "123456", 600)
    assert text.startswith("your verification code is 123456.") and is_gsm7(text)

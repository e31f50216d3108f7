"""How the outbox classifies a carrier's answer to a send, through the real app and outbox.

The carrier API here is a real HTTP server on loopback that answers whatever a test
scripts (status, headers, raw body), including answers tests/fake_apis.py never gives:
a 2xx without an id, a body that is not JSON, a Retry-After header. The database is a
real SQLite file; time is a virtual clock; the outbox is driven pass by pass.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from email.utils import formatdate
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from bot.clock import VirtualClock
from tests.conftest import AppFactory
from tests.fake_apis import FakeCarrierApis
from tests.test_carriers_e2e import ASYNC, CUSTOMER, Desk, Driver, Plivo, Twilio

Scripted = tuple[int, dict[str, str], bytes]


@dataclass
class ScriptedApi:
    """Answers each send with the next scripted (status, headers, body); counts the sends."""

    script: list[Scripted] = field(default_factory=list)
    sends: int = 0

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/{path:.*}", self.handle)
        return app

    async def handle(self, request: web.Request) -> web.Response:
        await request.read()
        self.sends += 1
        status, headers, body = self.script.pop(0)
        return web.Response(status=status, headers=headers, body=body)


@pytest.fixture
def open_desk(make_client: AppFactory, aiohttp_server: Any, clock: VirtualClock, db_path: Path) -> Any:
    async def start(driver: Driver, app: web.Application) -> Desk:
        server = await aiohttp_server(app)
        carrier = driver.carrier(str(server.make_url("/")).rstrip("/"))
        client = await make_client(carriers={carrier.name: carrier}, outbox_worker=False, send_rates={"*": 100.0})
        return Desk(driver, client, FakeCarrierApis(), clock, db_path)

    return start


async def test_a_reply_the_carrier_cannot_address_is_given_up_and_the_pass_goes_on(open_desk: Any) -> None:
    """Plivo takes "1555-000-6002" as a sender (§4.1 allows it) but cannot send to it (§4.4)."""
    driver = Plivo(sync=False)
    apis = FakeCarrierApis()
    desk: Desk = await open_desk(driver, apis.app())
    odd = driver.inbound(driver.message_id(1), "1") | {"From": "1555-000-6002"}
    assert (await desk.deliver(odd)).status == driver.ack
    assert (await desk.deliver(driver.inbound(driver.message_id(2), "1"))).status == driver.ack
    assert await desk.outbox.run_once() == 1  # no exception: the row is settled, not left to stop every pass
    desk.clock.advance(1)  # the sender's pace (one number sends both replies)
    assert await desk.outbox.run_once() == 1
    rows = desk.rows("SELECT customer, status, last_error FROM outbound ORDER BY id")
    assert [(customer, status) for customer, status, _ in rows] == [("1555-000-6002", "failed"), (CUSTOMER, "sent")]
    assert "not a phone number" in rows[0][2]
    assert len(apis.of("plivo")) == 1


ACCEPTED_WITHOUT_ID = [
    pytest.param(201, b"", id="201-empty"),
    pytest.param(200, b"<html><body>OK</body></html>", id="200-html"),
    pytest.param(202, b'{"status": "queued"}', id="202-no-sid"),
    pytest.param(201, b"[" * 100_000, id="201-nested-too-deep"),
]


@pytest.mark.parametrize(("status", "body"), ACCEPTED_WITHOUT_ID)
async def test_twilio_2xx_without_a_sid_is_sent_once_not_failed(open_desk: Any, status: int, body: bytes) -> None:
    """A 2xx means Twilio took the message: marking it failed is wrong, sending it again doubles it."""
    driver = Twilio(sync=False)
    api = ScriptedApi([(status, {}, body)])
    desk: Desk = await open_desk(driver, api.app())
    await desk.deliver(driver.inbound(driver.message_id(1), "1"))
    await desk.outbox.run_once()
    desk.clock.advance(600)
    await desk.outbox.run_once()
    assert desk.rows("SELECT status, provider_id FROM outbound") == [("sent", "")]
    assert api.sends == 1


@pytest.mark.parametrize("driver", ASYNC, ids=lambda d: d.id)
@pytest.mark.parametrize(("status", "body"), [
    pytest.param(200, b"", id="200-empty"),
    pytest.param(200, b"<html><body>OK</body></html>", id="200-html"),
    pytest.param(200, b"[" * 100_000, id="200-nested-too-deep"),
    pytest.param(202, b"{}", id="202-empty-object"),
])
async def test_every_carrier_takes_an_unreadable_2xx_as_sent_once(open_desk: Any, driver: Driver, status: int,
                                                                   body: bytes) -> None:
    """The same rule for every adapter: a 2xx says the carrier may have taken the message.

    Marked failed, an operator would resend what the customer got; retried, the customer
    gets it twice. Accepted without an id is the one answer that keeps exactly-once. (The
    Vonage SMS API marked such a 200 failed, the others sent.)
    """
    api = ScriptedApi([(status, {}, body)])
    desk: Desk = await open_desk(driver, api.app())
    await desk.deliver(driver.inbound(driver.message_id(1), "1"))
    await desk.outbox.run_once()
    desk.clock.advance(600)
    await desk.outbox.run_once()
    assert desk.rows("SELECT status, provider_id FROM outbound") == [("sent", "")]
    assert api.sends == 1


@pytest.mark.parametrize("driver", ASYNC, ids=lambda d: d.id)
@pytest.mark.parametrize("status", [429, 503])
async def test_retry_after_is_honoured(open_desk: Any, driver: Driver, status: int) -> None:
    api = ScriptedApi([(status, {"Retry-After": "120"}, b"")])
    desk: Desk = await open_desk(driver, api.app())
    await desk.deliver(driver.inbound(driver.message_id(1), "1"))
    start = desk.clock.now()
    assert await desk.outbox.run_once() == 1
    ((next_at, status_now),) = desk.rows("SELECT next_attempt_at, status FROM outbound")
    assert status_now == "queued"
    assert next_at >= start + 120  # not the 1-2 s of the first backoff step
    desk.clock.advance(119)
    assert await desk.outbox.run_once() == 0
    assert api.sends == 1


async def test_retry_after_as_an_http_date(open_desk: Any) -> None:
    driver = Twilio(sync=False)
    desk: Desk
    api = ScriptedApi()
    desk = await open_desk(driver, api.app())
    api.script.append((429, {"Retry-After": formatdate(desk.clock.now() + 300, usegmt=True)}, b""))
    await desk.deliver(driver.inbound(driver.message_id(1), "1"))
    start = desk.clock.now()
    await desk.outbox.run_once()
    ((next_at,),) = desk.rows("SELECT next_attempt_at FROM outbound")
    assert start + 299 <= next_at <= start + 301


@pytest.mark.parametrize("value", ["soon", "-5", "", "1e9999"])
async def test_a_meaningless_retry_after_keeps_the_backoff(open_desk: Any, value: str) -> None:
    driver = Twilio(sync=False)
    api = ScriptedApi([(429, {"Retry-After": value}, b"")])
    desk: Desk = await open_desk(driver, api.app())
    await desk.deliver(driver.inbound(driver.message_id(1), "1"))
    start = desk.clock.now()
    await desk.outbox.run_once()
    ((next_at, status),) = desk.rows("SELECT next_attempt_at, status FROM outbound")
    assert status == "queued" and start < next_at <= start + 2


async def test_a_retry_after_beyond_max_age_still_lets_the_row_be_given_up(open_desk: Any) -> None:
    driver = Twilio(sync=False)
    api = ScriptedApi([(429, {"Retry-After": "9999999999"}, b"")])
    desk: Desk = await open_desk(driver, api.app())
    await desk.deliver(driver.inbound(driver.message_id(1), "1"))
    await desk.outbox.run_once()
    desk.clock.advance(3601)  # TEXTDESK_OUTBOX_MAX_AGE's default
    await desk.outbox.run_once()
    ((status, error),) = desk.rows("SELECT status, last_error FROM outbound")
    assert status == "failed" and error.startswith("gave up after 3600s")
    assert api.sends == 1

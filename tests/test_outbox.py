"""Replies through a carrier's REST API: the outbox, pacing, retries, receipts.

The carrier API is a real HTTP server on loopback (tests/fake_carrier.py); time
is a virtual clock; the outbox is driven pass by pass with ``run_once``.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.carriers.twilio import TwilioCarrier
from bot.clock import VirtualClock
from bot.outbox import Outbox, RateLimiter
from bot.store import SQLiteStore
from bot.web.keys import OUTBOX
from tests.conftest import TOKEN, AppFactory, Phone, db_rows
from tests.fake_carrier import FakeTwilioApi

EMPTY = '<?xml version="1.0" encoding="UTF-8"?><Response/>'


@pytest.fixture
async def api(aiohttp_server: Any) -> tuple[FakeTwilioApi, TestServer]:
    fake = FakeTwilioApi()
    server = await aiohttp_server(fake.app())
    return fake, server


@pytest.fixture
async def rest_client(make_client: AppFactory, api: tuple[FakeTwilioApi, TestServer]) -> TestClient[Any, Any]:
    _, server = api
    carrier = TwilioCarrier(TOKEN, "AC" + "1" * 32, str(server.make_url("")), sync_replies=False)
    return await make_client(carriers={"twilio": carrier}, outbox_worker=False, send_rates={"*": 100.0})


def outbox(client: TestClient[Any, Any]) -> Outbox:
    return client.server.app[OUTBOX]


async def test_reply_goes_through_the_rest_api(rest_client: TestClient[Any, Any], api: Any, db_path: Path) -> None:
    fake, _ = api
    phone = Phone(rest_client, "+15550005001")
    sent = await phone.text("wat r ur hrs")
    assert sent.text == EMPTY  # acknowledged at once; the reply waits in the outbox
    assert db_rows(db_path, "SELECT status FROM outbound") == [("queued",)]
    assert await outbox(rest_client).run_once() == 1
    (request,) = fake.received
    assert request.form["To"] == [phone.number] and request.form["From"] == [phone.business]
    assert "Mon-Sat" in request.form["Body"][0]
    assert request.headers["Authorization"].startswith("Basic ")
    assert db_rows(db_path, "SELECT status, provider_id FROM outbound") == [("sent", "SM" + "0" * 31 + "1")]
    assert await outbox(rest_client).run_once() == 0
    assert len(fake.received) == 1


async def test_mms_media_go_as_absolute_urls(
    rest_client: TestClient[Any, Any], api: Any, clock: VirtualClock
) -> None:
    fake, _ = api
    phone = Phone(rest_client, "+15550005002")
    await phone.text("4")
    await phone.text("1")
    await outbox(rest_client).run_once()
    clock.advance(1)
    await outbox(rest_client).run_once()
    assert fake.received[-1].form["MediaUrl"] == ["https://sms.example.com/media/traillite-jacket.png"]


async def test_429_then_success_with_backoff(
    rest_client: TestClient[Any, Any], api: Any, clock: VirtualClock, db_path: Path
) -> None:
    fake, _ = api
    fake.script = [429]
    phone = Phone(rest_client, "+15550005003")
    await phone.text("1")
    assert await outbox(rest_client).run_once() == 1
    assert db_rows(db_path, "SELECT status, attempts FROM outbound") == [("queued", 1)]
    assert await outbox(rest_client).run_once() == 0  # not due yet
    clock.advance(5)
    assert await outbox(rest_client).run_once() == 1
    assert db_rows(db_path, "SELECT status, attempts FROM outbound") == [("sent", 2)]
    assert len(fake.received) == 2


async def test_gives_up_after_max_age_and_records_error(
    rest_client: TestClient[Any, Any], api: Any, clock: VirtualClock, db_path: Path
) -> None:
    fake, _ = api
    fake.script = [500] * 50
    await Phone(rest_client, "+15550005004").text("1")
    for _ in range(30):
        await outbox(rest_client).run_once()
        clock.advance(300)
    (status, error), = db_rows(db_path, "SELECT status, last_error FROM outbound")
    assert status == "failed"
    assert error.startswith("gave up after 3600s")


async def test_message_queued_before_stop_is_never_sent(
    rest_client: TestClient[Any, Any], api: Any, db_path: Path
) -> None:
    fake, _ = api
    phone = Phone(rest_client, "+15550005005")
    await phone.text("1")  # queued, not yet sent
    await phone.text("STOP")
    await outbox(rest_client).run_once()
    # Only the opt-out confirmation went out.
    assert len(fake.bodies) == 1 and fake.bodies[0].startswith("Acme Outfitters: You are unsubscribed")
    assert db_rows(db_path, "SELECT kind, status FROM outbound ORDER BY id") == [
        ("flow", "suppressed"),
        ("compliance", "sent"),
    ]


async def test_compliance_reply_queued_before_a_stop_is_not_sent_after_it(
    rest_client: TestClient[Any, Any], api: Any, db_path: Path, clock: VirtualClock
) -> None:
    # START's "subscribed again" waits in the outbox; the customer texts STOP before it
    # goes. Only what is owed to an opted-out number may follow: the confirmation of
    # that STOP and HELP answers, not the earlier opt-in's confirmation.
    fake, _ = api
    phone = Phone(rest_client, "+15550005011")
    await phone.text("STOP")
    await outbox(rest_client).run_once()
    clock.advance(5)
    await phone.text("START")  # queued, not yet sent
    clock.advance(5)
    await phone.text("STOP")
    clock.advance(5)
    await phone.text("HELP")
    await outbox(rest_client).run_once()
    for _ in range(3):
        clock.advance(5)
        await outbox(rest_client).run_once()
    assert [body.split(":")[1].split(".")[0].strip() for body in fake.bodies] == [
        "You are unsubscribed and will receive no more messages from this number",
        "You are unsubscribed and will receive no more messages from this number",
        "reply AGENT for a person, call 555-0100 or email help@acmeoutfitters",
    ]
    assert db_rows(db_path, "SELECT status FROM outbound ORDER BY id") == [
        ("sent",), ("suppressed",), ("sent",), ("sent",)
    ]


async def test_a_repeated_stop_does_not_cancel_the_first_confirmation(
    rest_client: TestClient[Any, Any], api: Any, db_path: Path, clock: VirtualClock
) -> None:
    # The confirmation meets a 503 and waits to be retried; meanwhile the customer texts
    # STOP again (recorded, not answered). The first confirmation is still owed.
    fake, _ = api
    fake.script = [503]
    phone = Phone(rest_client, "+15550005012")
    await phone.text("STOP")
    await outbox(rest_client).run_once()
    clock.advance(5)
    await phone.text("stop")
    for _ in range(3):
        clock.advance(5)
        await outbox(rest_client).run_once()
    assert len(fake.bodies) == 2 and fake.bodies[0] == fake.bodies[1]  # the 503, then its retry
    assert fake.bodies[1].startswith("Acme Outfitters: You are unsubscribed")
    assert db_rows(db_path, "SELECT status FROM outbound ORDER BY id") == [("sent",)]


async def long_reply_client(make_client: AppFactory, api: Any, tmp_path: Path) -> tuple[TestClient[Any, Any], str]:
    """A flow whose one reply is split into many one-segment parts, replies through the fake REST API."""
    _, server = api
    flows = tmp_path / "flows"
    flows.mkdir()
    long_text = " ".join(f"Part sentence {i} tells you more about it." for i in range(12))
    (flows / "long.yaml").write_text(
        f"start: a\nsettings:\n  max_segments: 1\nstates:\n  a:\n    say: '{long_text}'\n    final: true\n"
    )
    carrier = TwilioCarrier(TOKEN, "AC1", str(server.make_url("")), sync_replies=False)
    client = await make_client(flows_dir=flows, carriers={"twilio": carrier}, outbox_worker=False,
                               send_rates={"*": 100.0})
    return client, long_text


@pytest.mark.parametrize(
    ("step", "passes"),
    [
        (10.0, 10),  # each pass comes after the retry's backoff
        (0.1, 400),  # many passes while the retry waits: the parts after it are due all along and must wait
    ],
)
async def test_parts_of_one_reply_stay_in_order_under_retry(
    make_client: AppFactory, api: Any, clock: VirtualClock, tmp_path: Path, step: float, passes: int
) -> None:
    fake, _ = api
    client, long_text = await long_reply_client(make_client, api, tmp_path)
    fake.script = [201, 503]
    await Phone(client, "+15550005006").text("hi")
    for _ in range(passes):
        await outbox(client).run_once()
        clock.advance(step)
    assert " ".join(fake.bodies[:1] + fake.bodies[2:]) == long_text  # the 503 was retried in place
    assert fake.bodies[1] == fake.bodies[2]


async def test_pacing_per_sender(make_client: AppFactory, api: Any, clock: VirtualClock) -> None:
    fake, server = api
    carrier = TwilioCarrier(TOKEN, "AC1", str(server.make_url("")), sync_replies=False)
    client = await make_client(carriers={"twilio": carrier}, outbox_worker=False, send_rates={"*": 1.0})
    for n in range(3):
        await Phone(client, f"+1555000510{n}").text("1")
    assert await outbox(client).run_once() == 1
    assert await outbox(client).run_once() == 0
    clock.advance(1)
    assert await outbox(client).run_once() == 1
    clock.advance(1)
    assert await outbox(client).run_once() == 1
    assert len(fake.received) == 3
    # Another sender number is not held back by the first one's pace.
    await Phone(client, "+15550005110", business="+15555550177").text("1")
    await Phone(client, "+15550005111").text("1")
    assert await outbox(client).run_once() == 1


async def test_restart_sends_pending_exactly_once(
    rest_client: TestClient[Any, Any], api: Any, db_path: Path, clock: VirtualClock
) -> None:
    fake, server = api
    await Phone(rest_client, "+15550005007").text("1")
    # A "restarted" worker: a new Outbox over the same database file.
    store = SQLiteStore(db_path)
    await store.open()
    try:
        carrier = TwilioCarrier(TOKEN, "AC1", str(server.make_url("")), sync_replies=False)
        async with aiohttp.ClientSession() as http:
            again = Outbox(store, {"twilio": carrier}, clock, http, RateLimiter({"*": 100.0}), rng=random.Random(1))
            assert await again.run_once() == 1
            assert await again.run_once() == 0
    finally:
        await store.close()
    assert await outbox(rest_client).run_once() == 0
    assert len(fake.received) == 1


async def test_send_refused_for_opted_out_recipient_updates_ledger(
    rest_client: TestClient[Any, Any], api: Any, db_path: Path
) -> None:
    fake, _ = api
    fake.script = [400]
    phone = Phone(rest_client, "+15550005008")
    await phone.text("1")
    await outbox(rest_client).run_once()
    assert db_rows(db_path, "SELECT status FROM outbound") == [("failed",)]
    assert db_rows(db_path, "SELECT opted_out FROM consent") == [(1,)]
    assert (await phone.text("hi")).text == EMPTY
    await outbox(rest_client).run_once()
    assert len(fake.received) == 1


async def status(phone: Phone, sid: str, message_status: str, error: str = "") -> int:
    params = {"MessageSid": sid, "MessageStatus": message_status, "To": phone.number, "From": phone.business}
    if error:
        params["ErrorCode"] = error
    url = "https://sms.example.com/webhooks/twilio/status"
    from twilio.request_validator import RequestValidator

    signature = RequestValidator(TOKEN).compute_signature(url, params)
    response = await phone.client.post("/webhooks/twilio/status", data=params,
                                       headers={"X-Twilio-Signature": signature})
    return response.status


async def test_delivery_receipts_in_any_order(rest_client: TestClient[Any, Any], api: Any, db_path: Path) -> None:
    phone = Phone(rest_client, "+15550005009")
    await phone.text("1")
    await outbox(rest_client).run_once()
    ((sid,),) = db_rows(db_path, "SELECT provider_id FROM outbound")
    assert await status(phone, sid, "delivered") == 200
    assert await status(phone, sid, "sent") == 200  # late and out of order
    assert db_rows(db_path, "SELECT delivery_status FROM outbound") == [("delivered",)]
    forged = await phone.client.post("/webhooks/twilio/status", data={"MessageSid": sid, "MessageStatus": "failed"},
                                     headers={"X-Twilio-Signature": "bad"})
    assert forged.status == 403
    assert db_rows(db_path, "SELECT delivery_status FROM outbound") == [("delivered",)]


async def test_receipt_saying_opted_out_updates_consent(
    rest_client: TestClient[Any, Any], api: Any, db_path: Path
) -> None:
    phone = Phone(rest_client, "+15550005010")
    await phone.text("1")
    await outbox(rest_client).run_once()
    ((sid,),) = db_rows(db_path, "SELECT provider_id FROM outbound")
    assert await status(phone, sid, "undelivered", "21610") == 200
    assert db_rows(db_path, "SELECT event, source FROM consent_events") == [
        ("opt_out", "carrier receipt error 21610")
    ]


async def test_unknown_carrier_is_404(rest_client: TestClient[Any, Any]) -> None:
    response = await rest_client.post("/webhooks/telnyx", data=b"{}")
    assert response.status == 404
    assert (await response.json())["error"]["code"] == "unknown_carrier"


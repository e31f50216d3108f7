"""Broadcasts: consent decides who is texted, the outbox paces, a restart resumes without duplicates."""

from __future__ import annotations

import itertools
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from twilio.request_validator import RequestValidator

from bot.clock import VirtualClock
from bot.web.keys import SERVICE
from tests.conftest import TOKEN, db_rows
from tests.test_api_harness import Api, ApiFactory

DEALS = "/api/audiences/deals/subscribers"

# The API fixtures (api, make_api, fake_twilio) live in the harness module.
pytest_plugins = ("tests.test_api_harness",)


async def drive(api: Api, clock: VirtualClock, broadcast_id: str, step: float = 0.1,
                limit: int = 10_000) -> list[float]:
    """Run feeder and outbox pass by pass on the virtual clock until the broadcast is done.

    Returns the virtual time of every send, in order.
    """
    times: list[float] = []
    for _ in range(limit):
        await api.feeder.run_once()
        before = len(api.fake.received)
        await api.outbox.run_once()
        times += [clock.now()] * (len(api.fake.received) - before)
        _, data = await api.get(f"/api/broadcasts/{broadcast_id}")
        if data["status"] == "done":
            return times
        clock.advance(step)
    raise AssertionError("the broadcast did not finish")


async def test_broadcast_to_1000_numbers_reaches_exactly_the_consenting_once_paced(
    api: Api, clock: VirtualClock
) -> None:
    numbers = [f"+1555001{i:04d}" for i in range(1000)]
    consenting: set[str] = set()
    api_subscribed = [n for i, n in enumerate(numbers) if i % 10 in (1, 2, 3, 4)]
    status, _ = await api.post(DEALS, {"numbers": api_subscribed, "source": "in-store sign-up sheet"})
    assert status == 200
    for i, number in enumerate(numbers):
        phone = api.phone(number)
        if i % 10 == 0:
            await phone.text("JOIN")  # opted in by text...
            if i % 20 == 0:
                await phone.text("STOP")  # ...and out again
            else:
                consenting.add(number)
        elif i % 10 == 1:
            await phone.text("stop texting me")  # subscribed through the API, then revoked
        elif i % 10 in (2, 3, 4):
            consenting.add(number)
        elif i % 10 == 5:
            if i % 20 == 5:
                await phone.text("STOP")
                await phone.text("START")  # lifts the opt-out, but was never consent to marketing
            else:
                await phone.text("START")  # ...and from a number never opted out it lifts nothing: no consent
        elif i % 10 == 9:
            await phone.text("what are your hours?")  # asking a question is not consent to marketing
    assert len(consenting) == 350
    shuffled = numbers[::-1]
    status, data = await api.post("/api/broadcasts", {
        "numbers": [*shuffled, shuffled[0]], "text": "Flash sale: 20% off today only!", "media": ["pic.png"],
    })
    assert status == 202, data
    assert data["status"] == "sending"
    assert data["counts"]["total"] == 1000 and data["counts"]["pending"] == 1000
    assert data["message"]["text"] == "Flash sale: 20% off today only!\nReply STOP to opt out."
    times = await drive(api, clock, data["id"])
    received = Counter(r.form["To"][0] for r in api.fake.received)
    assert set(received) == consenting and set(received.values()) == {1}
    assert {r.form["Body"][0] for r in api.fake.received} == {data["message"]["text"]}
    assert {r.form["MediaUrl"][0] for r in api.fake.received} == {"https://sms.example.com/media/pic.png"}
    # Paced at the configured 10 segments per second: never two sends within 0.1 s.
    gaps = [later - earlier for earlier, later in itertools.pairwise(times)]
    assert min(gaps) >= 0.1 - 1e-6
    # ...and it keeps up with the rate (the feeder keeps the outbox supplied).
    assert (len(times) - 1) * 0.1 - 1e-3 <= times[-1] - times[0] <= (len(times) - 1) * 0.1 * 1.25
    status, final = await api.get(f"/api/broadcasts/{data['id']}")
    assert final["status"] == "done"
    assert final["counts"] == {"total": 1000, "pending": 0, "queued": 0, "sent": 350, "delivered": 0, "failed": 0,
                               "skipped_opted_out": 150, "skipped_no_consent": 500}


async def test_restart_in_the_middle_resumes_without_duplicates(
    make_api: ApiFactory, clock: VirtualClock, db_path: Path
) -> None:
    first = await make_api()
    numbers = [f"+1555002{i:04d}" for i in range(120)]
    await first.post(DEALS, {"numbers": numbers[:100], "source": "import"})
    status, data = await first.post("/api/broadcasts", {"audience": "deals", "text": "Sale! Reply STOP to end."})
    assert status == 202 and data["counts"]["total"] == 100
    for _ in range(30):  # about 30 sent, and a window's worth queued but unsent
        await first.feeder.run_once()
        await first.outbox.run_once()
        clock.advance(0.1)
    sent_before = len(first.fake.received)
    queued = db_rows(db_path, "SELECT count(*) FROM outbound WHERE status = 'queued'")[0][0]
    assert 0 < sent_before < 100 and queued > 0
    await first.client.close()  # the server stops mid-broadcast

    second = await make_api()
    assert second.fake is first.fake
    await drive(second, clock, data["id"])
    received = Counter(r.form["To"][0] for r in second.fake.received)
    assert set(received) == set(numbers[:100]) and set(received.values()) == {1}
    status, final = await second.get(f"/api/broadcasts/{data['id']}")
    assert final["counts"]["sent"] == 100 and final["counts"]["total"] == 100


async def test_flow_start_broadcast_to_an_audience_and_late_opt_outs(
    api: Api, clock: VirtualClock, db_path: Path
) -> None:
    members = [f"+1555003{i:04d}" for i in range(5)]
    for number in members:
        await api.phone(number).text("JOIN")
    status, data = await api.post("/api/broadcasts", {
        "audience": "deals", "state": "order_ready", "variables": {"name": "friend", "order": "#9"},
    })
    assert status == 202, data
    await api.phone(members[0]).text("STOP")  # after the broadcast was created, before it was queued
    await api.feeder.run_once()
    await api.phone(members[1]).text("STOP")  # queued, not yet sent
    times = await drive(api, clock, data["id"])
    assert len(times) == 3
    assert sorted(r.form["To"][0] for r in api.fake.received) == members[2:]
    assert {r.form["Body"][0] for r in api.fake.received} == {"Hi friend, order #9 is ready. Reply 1 for hours."}
    states = db_rows(db_path, "SELECT customer, state FROM conversations ORDER BY customer")
    assert [s for c, s in states if c in members[2:]] == ["order_ready"] * 3
    answer = await api.phone(members[2]).text("1")
    assert answer.body == "Open 8-6."
    _, final = await api.get(f"/api/broadcasts/{data['id']}")
    assert (final["counts"]["sent"], final["counts"]["skipped_opted_out"]) == (3, 2)


async def receipt(api: Api, sid: str, to: str, status: str) -> None:
    params = {"MessageSid": sid, "MessageStatus": status, "To": to, "From": "+15555550100"}
    url = "https://sms.example.com/webhooks/twilio/status"
    signature = RequestValidator(TOKEN).compute_signature(url, params)
    response = await api.client.post("/webhooks/twilio/status", data=params,
                                     headers={"X-Twilio-Signature": signature})
    assert response.status == 200


async def test_delivery_receipts_and_failures_are_counted(api: Api, clock: VirtualClock, db_path: Path) -> None:
    numbers = [f"+1555004{i:04d}" for i in range(4)]
    await api.post(DEALS, {"numbers": numbers, "source": "import"})
    api.fake.script = [201, 201, 201, 400]  # the last one: Twilio 21610, unsubscribed recipient
    _, data = await api.post("/api/broadcasts", {"numbers": numbers, "text": "Hello STOP to end"})
    assert data["message"]["text"] == "Hello STOP to end"  # already says how to opt out
    await drive(api, clock, data["id"])
    sids = dict(db_rows(db_path, "SELECT customer, provider_id FROM outbound WHERE status = 'sent'"))
    await receipt(api, sids[numbers[0]], numbers[0], "delivered")
    await receipt(api, sids[numbers[1]], numbers[1], "undelivered")
    _, final = await api.get(f"/api/broadcasts/{data['id']}")
    assert final["counts"] == {"total": 4, "pending": 0, "queued": 0, "sent": 1, "delivered": 1, "failed": 2,
                               "skipped_opted_out": 0, "skipped_no_consent": 0}


async def test_idempotency_key_returns_the_first_broadcast(api: Api, clock: VirtualClock) -> None:
    await api.post(DEALS, {"numbers": ["+15550050001"], "source": "import"})
    body = {"numbers": ["+15550050001"], "text": "One time only"}
    first = await api.post("/api/broadcasts", body, headers={"Idempotency-Key": "promo-42"})
    again = await api.post("/api/broadcasts", body, headers={"Idempotency-Key": "promo-42"})
    assert (first[0], again[0]) == (202, 200) and first[1]["id"] == again[1]["id"]
    await drive(api, clock, first[1]["id"])
    assert len(api.fake.received) == 1


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"text": "hi"}, 400, "missing_field"),
        ({"numbers": [], "text": "hi"}, 400, "invalid_field"),
        ({"numbers": ["+15550001234"], "audience": "deals", "text": "hi"}, 400, "invalid_field"),
        ({"numbers": ["+15550001234"]}, 400, "missing_field"),
        ({"numbers": ["+15550001234", "+15550001235", "bad"], "text": "hi"}, 400, "malformed_number"),
        # A long list is parsed on a worker thread: its refusal is the same.
        ({"numbers": [f"+1555{n:07d}" for n in range(700)] + ["bad"], "text": "hi"}, 400, "malformed_number"),
        ({"numbers": ["+15550001234"], "text": "hi", "state": "menu"}, 400, "invalid_field"),
        ({"numbers": ["+15550001234"], "state": "gone"}, 422, "unknown_state"),
        ({"numbers": ["+15550001234"], "text": "hi", "variables": {"a": "b"}}, 400, "invalid_field"),
        ({"numbers": ["+15550001234"], "text": "hi", "media": ["../secret.txt"]}, 400, "invalid_field"),
        ({"numbers": ["+15550001234"], "text": "hi", "media": "pic.png"}, 400, "invalid_field"),
        ({"numbers": ["+15550001234"], "text": "x" * 1601}, 400, "invalid_field"),
        ({"audience": "nobody", "text": "hi"}, 422, "empty_audience"),
        ({"numbers": ["+15550001234"], "text": "hi", "flow": "nope"}, 422, "unknown_flow"),
        ({"numbers": ["+15550001234"], "text": "hi", "channel": "sinch"}, 422, "unknown_channel"),
        ({"numbers": ["+15550001234"], "text": "hi", "flow": "other", "from": "+15555550100"}, 422,
         "flow_number_mismatch"),
        ({"numbers": ["+15550001234"], "text": "hi", "priority": "high"}, 400, "unknown_field"),
    ],
)
async def test_broadcast_errors(api: Api, body: Any, status: int, code: str) -> None:
    got, data = await api.post("/api/broadcasts", body)
    assert (got, data["error"]["code"]) == (status, code), data
    if code == "malformed_number":
        assert data["error"]["field"] == f"numbers[{len(body['numbers']) - 1}]"


async def test_unknown_broadcast_is_404(api: Api) -> None:
    for broadcast_id in ("bc_0000000000000000", "nope"):
        status, data = await api.get(f"/api/broadcasts/{broadcast_id}")
        assert (status, data["error"]["code"]) == (404, "not_found")


async def test_a_broadcast_cut_short_while_written_is_never_sent_until_a_retry_finishes_it(
    api: Api, clock: VirtualClock, db_path: Path
) -> None:
    # Recipients go in chunks (bot.store.outreach); a failure between them (here the disk
    # fills up) leaves the broadcast "preparing": nothing of it is sent, and the client's
    # retry with the same Idempotency-Key writes the rest and sends each number once.
    numbers = [f"+1555008{i:04d}" for i in range(600)]
    subscribed = numbers[::50]
    assert (await api.post(DEALS, {"numbers": subscribed, "source": "web form"}))[0] == 200
    await api.phone(subscribed[1]).text("STOP")
    store = api.client.server.app[SERVICE].store
    store.broadcast_chunk = 20
    pages = int((await store.db.execute_fetchall("PRAGMA page_count"))[0][0])
    await store.db.execute(f"PRAGMA max_page_count = {pages + 2}")  # room for a chunk or two, not 30
    body = {"numbers": numbers, "text": "Flash sale"}
    headers = {"Authorization": f"Bearer {api.token}", "Idempotency-Key": "flash-1"}
    response = await api.client.post("/api/broadcasts", json=body, headers=headers)
    assert response.status == 503, await response.text()
    ((broadcast_id, written),) = db_rows(db_path, "SELECT broadcast_id, count(*) FROM broadcast_recipients")
    assert 0 < written < len(numbers)
    status, data = await api.get(f"/api/broadcasts/{broadcast_id}")
    assert (status, data["status"]) == (200, "preparing")
    assert await api.feeder.run_once() == 0
    await api.outbox.run_once()
    assert api.fake.received == []

    await store.db.execute("PRAGMA max_page_count = 1073741823")
    status, data = await api.post("/api/broadcasts", body, headers={"Idempotency-Key": "flash-1"})
    assert (status, data["id"], data["status"], data["counts"]["total"]) == (200, broadcast_id, "sending", 600)
    await drive(api, clock, broadcast_id)
    sent = Counter(r.form["To"][0] for r in api.fake.received)
    assert sent == Counter(n for n in subscribed if n != subscribed[1])


async def test_a_broadcast_cut_short_without_a_key_is_swept_by_the_feeder_once_old(
    api: Api, clock: VirtualClock, db_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # Without an Idempotency-Key no retry can finish it: it used to stay "preparing"
    # in the database for ever. The feeder deletes it once it is an hour old.
    numbers = [f"+1555009{i:04d}" for i in range(600)]
    assert (await api.post(DEALS, {"numbers": numbers[:5], "source": "web form"}))[0] == 200
    store = api.client.server.app[SERVICE].store
    store.broadcast_chunk = 20
    pages = int((await store.db.execute_fetchall("PRAGMA page_count"))[0][0])
    await store.db.execute(f"PRAGMA max_page_count = {pages + 2}")
    headers = {"Authorization": f"Bearer {api.token}"}
    response = await api.client.post("/api/broadcasts", json={"numbers": numbers, "text": "Sale"}, headers=headers)
    assert response.status == 503, await response.text()
    await store.db.execute("PRAGMA max_page_count = 1073741823")
    ((broadcast_id, written),) = db_rows(db_path, "SELECT broadcast_id, count(*) FROM broadcast_recipients")
    assert 0 < written < len(numbers)
    assert await api.feeder.run_once() == 0
    assert db_rows(db_path, "SELECT count(*) FROM broadcasts") == [(1,)]  # too young to be called abandoned
    clock.advance(3600)
    with caplog.at_level("WARNING", logger="textdesk.broadcast"):
        assert await api.feeder.run_once() == 0
    assert "removed 1 broadcast(s) a failure left half-written" in caplog.text
    assert db_rows(db_path, "SELECT count(*) FROM broadcasts") == [(0,)]
    assert db_rows(db_path, "SELECT count(*) FROM broadcast_recipients") == [(0,)]
    status, data = await api.get(f"/api/broadcasts/{broadcast_id}")
    assert (status, data["error"]["code"]) == (404, "not_found")
    await api.outbox.run_once()
    assert api.fake.received == []


async def test_start_after_stop_lifts_the_block_but_is_no_consent_to_broadcasts(
    api: Api, clock: VirtualClock, db_path: Path
) -> None:
    # START answers "Reply START to resubscribe": it lifts a block (replies, conversations and
    # codes reach the number again), but a keyword is no prior express written consent to
    # marketing (TCPA), and the STOP revoked whatever consent there was (FCC 24-24). Only a
    # subscription newer than the last STOP (JOIN again, or the API with its 'source') is.
    never, joined, rejoined = (api.phone(n) for n in ("+15550060001", "+15550060002", "+15550060003"))
    for phone in (never, joined, rejoined):
        if phone is not never:
            await phone.text("JOIN")
        await phone.text("STOP")
        await phone.text("START")
    await rejoined.text("JOIN")
    numbers = [never.number, joined.number, rejoined.number]
    status, data = await api.post("/api/broadcasts", {"numbers": numbers, "text": "Flash sale"})
    assert status == 202, data
    await drive(api, clock, data["id"])
    assert [r.form["To"][0] for r in api.fake.received] == [rejoined.number]
    _, final = await api.get(f"/api/broadcasts/{data['id']}")
    assert (final["counts"]["sent"], final["counts"]["skipped_no_consent"]) == (1, 2)
    # The block is lifted all the same: a one-to-one conversation reaches them.
    status, data = await api.post("/api/conversations", {"to": never.number})
    assert status == 201, data

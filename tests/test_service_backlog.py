"""A stuck conversation holds a bounded number of waiting requests.

Carriers whose webhook times out retry it (Telnyx after 2 s, Plivo after 8 s,
Bandwidth and Sinch for a day: carriers.md §4.3-7.3). While one turn of a
conversation is stuck, every retry and every new text of that customer waits
behind the conversation's lock, each holding a request, its body and a
connection. Past ``MAX_WAITING`` a new arrival is answered 503 at once, with
nothing recorded: the carrier retries it later, when the conversation moves.
Nothing already waiting is refused or reordered.

Real service and app, real flows, a real SQLite file, a virtual clock. The stuck
turn is the conversation's lock held by the test, as a turn or an API start holds it.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from pathlib import Path

import pytest

from bot.carriers.base import WebhookError
from bot.clock import VirtualClock
from bot.flood import FloodGate
from bot.flows import load_flows
from bot.service import MAX_WAITING, ConversationService, Handled
from bot.store import SQLiteStore
from bot.types import ConversationKey, InboundMessage
from bot.web.keys import SERVICE
from tests.conftest import FLOWS, AppFactory, Phone, db_rows, new_sid

BUSINESS = "+15555550100"
CUSTOMER = "+15550007001"
KEY = ConversationKey("twilio", CUSTOMER, BUSINESS)


def text(sid: str, body: str = "what are your hours?") -> InboundMessage:
    return InboundMessage("twilio", sid, CUSTOMER, BUSINESS, body)



def inbound_ids(path: str) -> list[str]:
    with sqlite3.connect(path) as conn:
        return [str(pid) for (pid,) in conn.execute("SELECT provider_id FROM inbound ORDER BY rowid")]


async def test_past_the_bound_a_request_is_refused_503_and_nothing_of_it_is_recorded(store: SQLiteStore) -> None:
    # The virtual clock stands still: a flood limit would throttle this burst.
    svc = ConversationService(load_flows(FLOWS), store, VirtualClock(), flood=FloodGate(burst=10_000))
    waiting: list[asyncio.Future[Handled]] = []
    async with svc.locks.hold(KEY):  # the stuck turn
        for n in range(MAX_WAITING):
            waiting.append(asyncio.ensure_future(svc.handle(text(f"SM{n}"))))
        await asyncio.sleep(0)  # each runs to the lock and queues there
        assert svc.locks.waiting(KEY) == MAX_WAITING
        extra = asyncio.ensure_future(svc.handle(text("SMextra")))
        await asyncio.sleep(0)
        # Answered while the conversation is still stuck, not queued behind it.
        assert extra.done() and svc.locks.waiting(KEY) == MAX_WAITING
        with pytest.raises(WebhookError) as refused:
            await extra
        assert refused.value.status == 503 and refused.value.code == "conversation_busy"
        # Another customer is not held up by this one's backlog.
        other = await svc.handle(InboundMessage("twilio", "SMother", "+15550007002", BUSINESS, "hi"))
        assert other.replies
    handled = await asyncio.gather(*waiting)
    assert all(h.replies and not h.duplicate for h in handled)
    # Every waiting message handled, in arrival order; the refused one never recorded.
    assert inbound_ids(store.path) == ["SMother", *(f"SM{n}" for n in range(MAX_WAITING))]
    # The carrier's retry of the refused message, once the conversation moves, is handled.
    retried = await svc.handle(text("SMextra"))
    assert retried.replies and not retried.duplicate
    assert inbound_ids(store.path)[-1] == "SMextra"
    assert len(svc.locks) == 0


async def test_the_webhook_answers_a_refused_request_503_at_once(make_client: AppFactory, db_path: Path) -> None:
    client = await make_client()
    svc: ConversationService = client.app[SERVICE]
    phone = Phone(client, CUSTOMER)
    sid = new_sid()
    async with svc.locks.hold(KEY):
        waiting = [asyncio.ensure_future(svc.handle(text(f"SMw{n}"))) for n in range(MAX_WAITING)]
        await asyncio.sleep(0)
        # Answered while the conversation is stuck (the timeout is reached only if it is not).
        refused = await asyncio.wait_for(phone.post(phone.params("hours?", sid)), timeout=30)
        assert refused.status == 503
        assert json.loads(refused.text)["error"]["code"] == "conversation_busy"
    await asyncio.gather(*waiting)
    assert db_rows(db_path, "SELECT count(*) FROM inbound WHERE provider_id = ?", sid) == [(0,)]
    assert (await phone.text("hours?", sid)).messages  # the carrier's retry

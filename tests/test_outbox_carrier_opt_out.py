"""A carrier's opt-out landing while a turn of that number is in flight.

The outbox (a send refused 21610) and delivery receipts record a carrier's
"recipient opted out" without the conversation's lock. The turn in flight has
read "not opted out" and then commits its reply after the opt-out: that reply
is still never sent, because every send checks the ledger right before it goes
(``owed_while_opted_out``), and a flow reply is never owed to an opted-out
number. (Taking the conversation's lock would change nothing here: the turn in
flight still answers, the opt-out only waits behind it and every turn queued
behind it, and the one outbox worker with it.)

The interleaving is made exact by holding the store's write lock while the
turn's read waits for its trip: the opt-out's write then goes in the next trip,
ahead of the turn's write.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient

from bot.service import ConversationService
from bot.store import ConsentChange, SQLiteStore
from bot.types import InboundMessage
from bot.web.keys import OUTBOX, SERVICE
from tests.conftest import BUSINESS, Phone, db_rows
from tests.fake_carrier import FakeTwilioApi
from tests.test_outbox import api, rest_client  # noqa: F401 - the fake Twilio API and a REST-mode app

CUSTOMER = "+15550005101"


async def test_a_reply_of_a_turn_in_flight_is_not_sent_after_a_carrier_opt_out(
    rest_client: TestClient[Any, Any], api: tuple[FakeTwilioApi, Any], db_path: Path  # noqa: F811
) -> None:
    fake, _ = api
    svc: ConversationService = rest_client.app[SERVICE]
    store = svc.store
    assert isinstance(store, SQLiteStore)
    await Phone(rest_client, CUSTOMER).text("hi")
    assert await rest_client.app[OUTBOX].run_once() == 1  # the greeting went out

    turn = asyncio.ensure_future(svc.handle(InboundMessage("twilio", "SMinflight", CUSTOMER, BUSINESS, "1"),
                                            queue=True))
    while not store.hops._reads:
        await asyncio.sleep(0)  # the turn's read is submitted
    async with store._write_lock:
        while store.hops._reads:
            await asyncio.sleep(0)  # its trip has taken it and waits for the lock
        # The carrier says the number opted out (as the outbox records a 21610).
        opt_out = asyncio.ensure_future(store.record_consent(
            CUSTOMER, BUSINESS, ConsentChange("opt_out", "carrier refused a send: 21610"), 0.0))
        while not store.hops._writes:
            await asyncio.sleep(0)
    handled = await turn
    await opt_out
    # The turn read "not opted out" and answered the menu choice...
    assert handled.kind == "flow" and handled.replies
    assert db_rows(db_path, "SELECT opted_out FROM consent") == [(1,)]
    # ...and its reply, queued after the opt-out, is dropped at send time.
    await rest_client.app[OUTBOX].run_once()
    assert len(fake.received) == 1
    assert db_rows(db_path, "SELECT status FROM outbound ORDER BY id") == [("sent",), ("suppressed",)]

"""A concatenated SMS joined by the service keeps its place in the conversation.

Its parts (the Vonage SMS API delivers each as its own webhook) are joined in
the store, and the joined text is handled as one message. The part that
completes it takes the conversation's place in the order it reached the
service, like any message: a text that arrived after it is not handled before
it. Two parts arriving together are both kept and make one message.

Real service, real flows, a real SQLite file, a virtual clock.
"""

from __future__ import annotations

import asyncio
import sqlite3

from bot.clock import VirtualClock
from bot.flood import FloodGate
from bot.flows import load_flows
from bot.service import ConversationService
from bot.store import SQLiteStore
from bot.types import InboundMessage
from tests.conftest import FLOWS

CHANNEL = "vonage-sms"
BUSINESS = "+15555550100"
CUSTOMER = "+15550008001"


def part(provider_id: str, total: int, number: int, text: str) -> InboundMessage:
    return InboundMessage(CHANNEL, provider_id, CUSTOMER, BUSINESS, text, concat=("7f", total, number))


def single(provider_id: str, text: str) -> InboundMessage:
    return InboundMessage(CHANNEL, provider_id, CUSTOMER, BUSINESS, text)



def service(store: SQLiteStore) -> ConversationService:
    return ConversationService(load_flows(FLOWS), store, VirtualClock(), flood=FloodGate(burst=10_000))


def logged(path: str) -> list[tuple[str, str]]:
    with sqlite3.connect(path) as conn:
        return [(str(p), str(b)) for p, b in conn.execute("SELECT provider_id, body FROM inbound ORDER BY rowid")]


async def test_the_part_that_completes_a_message_is_not_overtaken_by_a_later_text(store: SQLiteStore) -> None:
    svc = service(store)
    assert (await svc.handle(part("P1", 2, 1, "what are your "), queue=True)).kind == "partial"
    # The last part reaches the service, then the customer's next text, at once.
    last = asyncio.ensure_future(svc.handle(part("P2", 2, 2, "hours?"), queue=True))
    after = asyncio.ensure_future(svc.handle(single("S1", "returns"), queue=True))
    joined, following = await asyncio.gather(last, after)
    assert joined.replies and following.replies
    assert logged(store.path) == [("concat:P1", "what are your hours?"), ("S1", "returns")]


async def test_two_parts_arriving_together_make_one_message(store: SQLiteStore) -> None:
    svc = service(store)
    handled = await asyncio.gather(
        svc.handle(part("Q1", 2, 1, "what are your "), queue=True),
        svc.handle(part("Q2", 2, 2, "hours?"), queue=True),
    )
    assert sorted(h.kind for h in handled) == ["flow", "partial"]
    assert logged(store.path) == [("concat:Q1", "what are your hours?")]
    assert len(svc.locks) == 0

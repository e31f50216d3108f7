"""Parts of concatenated SMS (bot.store.concat) on a real SQLite file, no mocks.

The joined message is committed as a turn named ``concat:<part 1's id>``
(bot.service._join_parts); these tests commit it the same way.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.store import SQLiteStore
from bot.types import InboundMessage, Reply

CHANNEL = "vonage-sms"
CUSTOMER = "+15551230000"
BUSINESS = "+15550000000"
T0 = 1_800_000_000.0
DAY = 86_400.0


def part(provider_id: str, ref: str, total: int, number: int, text: str, customer: str = CUSTOMER) -> InboundMessage:
    return InboundMessage(CHANNEL, provider_id, customer, BUSINESS, text, concat=(ref, total, number))


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SQLiteStore]:
    s = SQLiteStore(tmp_path / "textdesk.db")
    await s.open()
    yield s
    await s.close()


async def commit_joined(store: SQLiteStore, joined: tuple[list[str], str], now: float) -> bool:
    """What the service does with a joined message: one turn under part 1's id."""
    texts, first_id = joined
    message = InboundMessage(CHANNEL, f"concat:{first_id}", CUSTOMER, BUSINESS, "".join(texts))
    return await store.commit_turn(message, None, (Reply("ok"),), "", now, queue=True)


async def test_parts_out_of_order_join_once_complete(store: SQLiteStore) -> None:
    assert await store.add_concat_part(part("B", "2C", 2, 2, "HOURS"), T0) is None
    assert await store.add_concat_part(part("A", "2C", 2, 1, "STORE "), T0 + 1) == (["STORE ", "HOURS"], "A")


async def test_the_last_part_retried_after_a_failed_turn_still_joins(store: SQLiteStore) -> None:
    # The joined turn's commit failed (503, or the process died): the carrier
    # retries the part it was not given a 2xx for. Part 1 was acknowledged.
    assert await store.add_concat_part(part("A", "2C", 2, 1, "STORE "), T0) is None
    assert await store.add_concat_part(part("B", "2C", 2, 2, "HOURS"), T0 + 1) is not None
    retried = await store.add_concat_part(part("B", "2C", 2, 2, "HOURS"), T0 + 30)
    assert retried == (["STORE ", "HOURS"], "A")  # was None: part 1 deleted, the text lost for good


async def test_a_part_retried_after_the_join_does_not_join_a_later_message(store: SQLiteStore) -> None:
    assert await store.add_concat_part(part("A", "2C", 2, 1, "STORE "), T0) is None
    joined = await store.add_concat_part(part("B", "2C", 2, 2, "HOURS"), T0)
    assert joined is not None and await commit_joined(store, joined, T0)
    retry = await store.add_concat_part(part("B", "2C", 2, 2, "HOURS"), T0 + 5)
    assert retry is None or not await commit_joined(store, retry, T0 + 5)  # a duplicate either way
    # A day and 256 long messages later the phone's reference is 0x2C again.
    assert await store.add_concat_part(part("C", "2C", 2, 1, "RETU"), T0 + DAY) is None  # was: "RETUHOURS"
    assert await store.add_concat_part(part("D", "2C", 2, 2, "RNS"), T0 + DAY) == (["RETU", "RNS"], "C")


async def test_a_part_that_never_came_does_not_join_a_later_message(store: SQLiteStore) -> None:
    assert await store.add_concat_part(part("A", "7", 2, 1, "OLD "), T0) is None  # part 2 never comes
    # The reference comes round again, its parts out of order.
    assert await store.add_concat_part(part("D", "7", 2, 2, "SECOND"), T0 + 2 * DAY) is None  # was: "OLD SECOND"
    assert await store.add_concat_part(part("C", "7", 2, 1, "FIRST "), T0 + 2 * DAY) == (["FIRST ", "SECOND"], "C")


async def test_a_reference_reused_with_another_total_starts_afresh(store: SQLiteStore) -> None:
    assert await store.add_concat_part(part("A", "9", 3, 1, "a"), T0) is None
    assert await store.add_concat_part(part("B", "9", 3, 2, "b"), T0) is None  # part 3 never comes
    assert await store.add_concat_part(part("C", "9", 2, 1, "x"), T0 + 60) is None
    assert await store.add_concat_part(part("D", "9", 2, 2, "y"), T0 + 60) == (["x", "y"], "C")  # was: None forever


async def test_two_customers_with_one_reference_do_not_mix(store: SQLiteStore) -> None:
    other = "+15559990000"
    assert await store.add_concat_part(part("A", "1", 2, 1, "mine "), T0) is None
    assert await store.add_concat_part(part("X", "1", 2, 2, "theirs", other), T0) is None
    assert await store.add_concat_part(part("B", "1", 2, 2, "too"), T0) == (["mine ", "too"], "A")


async def test_parts_are_not_kept_forever(store: SQLiteStore, tmp_path: Path) -> None:
    joined = None
    for i in range(20):  # joined and handled, or never completed
        joined = await store.add_concat_part(part(f"P{i}", str(i), 2, 1, "x", f"+1555000{i:04d}"), T0)
    assert joined is None
    await store.add_concat_part(part("late", "Z", 2, 1, "x"), T0 + 2 * DAY)
    conn = sqlite3.connect(tmp_path / "textdesk.db")
    try:
        assert conn.execute("SELECT provider_id FROM concat_parts").fetchall() == [("late",)]
    finally:
        conn.close()


async def test_a_part_cancelled_while_its_transaction_begins_leaves_none_open(store: SQLiteStore) -> None:
    # Cancelled while BEGIN IMMEDIATE is on SQLite's thread: the BEGIN still runs there,
    # and a transaction left open failed every later write on the shared connection.
    adding = asyncio.ensure_future(store.add_concat_part(part("A", "2C", 2, 1, "STORE "), T0))
    await asyncio.sleep(0)  # it holds the write lock and waits for its BEGIN
    adding.cancel()
    with pytest.raises(asyncio.CancelledError):
        await adding
    assert not store.db.in_transaction
    assert await store.add_concat_part(part("A", "2C", 2, 1, "STORE "), T0) is None
    assert await store.add_concat_part(part("B", "2C", 2, 2, "HOURS"), T0 + 1) == (["STORE ", "HOURS"], "A")


async def test_a_retried_part_answers_with_what_is_stored(store: SQLiteStore) -> None:
    assert await store.add_concat_part(part("A", "3C", 3, 1, "ONE "), T0) is None
    assert await store.add_concat_part(part("A", "3C", 3, 1, "ONE "), T0 + 1) is None  # retried, still one part
    assert await store.add_concat_part(part("C", "3C", 3, 3, "THREE"), T0 + 2) is None
    assert await store.add_concat_part(part("B", "3C", 3, 2, "TWO "), T0 + 3) == (["ONE ", "TWO ", "THREE"], "A")
    again = await store.add_concat_part(part("C", "3C", 3, 3, "THREE"), T0 + 4)  # a retry after the join
    assert again == (["ONE ", "TWO ", "THREE"], "A")

"""Every read of the store waits for other writers' open transactions.

The store has one aiosqlite connection, and coroutines sharing a connection
share its transaction: a read sent while an API transaction is open (awaiting
its next statement) sees that transaction's uncommitted rows. A rollback then
takes them back, but the reader already acted on them: the outbox sent a reply
nothing records (and whose row id the next insert reuses), a retry was answered
from a turn that never happened. The turn trips (bot.store.hops) read under the
write lock for this reason; these tests hold every other read to the same rule.

Real SQLite file; the uncommitted rows are a whole turn written by the store's
own turn job (claim, queued reply, session, opt-out) inside the API's transaction.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from bot.store import ConsentChange, SQLiteStore
from bot.store.hops import run_on_thread
from bot.store.turns import write_turn
from bot.types import Reply
from tests.test_store_sqlite import CHANNEL, T0, inbound, key_for, session_for

KEY = key_for("+15557770001")
MESSAGE = inbound("SMread1", KEY, text="STOP")

Reader = Callable[[SQLiteStore], Awaitable[Any]]

# Each reader, and what it answers while the turn above is not in the database.
READERS: dict[str, tuple[Reader, Any]] = {
    "get_session": (lambda s: s.get_session(KEY), None),
    "processed": (lambda s: s.processed(CHANNEL, MESSAGE.provider_id), None),
    "processed_replies": (lambda s: s.processed_replies(CHANNEL, MESSAGE.provider_id), None),
    "is_opted_out": (lambda s: s.is_opted_out(KEY.customer, KEY.business), False),
    "owed_while_opted_out": (lambda s: s.owed_while_opted_out(1), None),
    "due_outbox": (lambda s: s.due_outbox(T0 + 1), []),
    "outbox_depth": (lambda s: s.outbox_depth(), 0),
    "consent_history": (lambda s: s.consent_history(KEY.customer, KEY.business), []),
    "messages": (lambda s: s.messages(KEY), []),
    "conversation_states": (lambda s: s.conversation_states(), []),
    "queued_count": (lambda s: s.queued_count(""), 0),  # the API's reads (bot.store.api_base._rows)
}


def _turn() -> Callable[[Any], bool]:
    return write_turn(
        MESSAGE, session_for(KEY, "menu"), (Reply("You are unsubscribed."),), "compliance", T0,
        kind="flow", consent=ConsentChange("opt_out", "keyword STOP"), forget_session=False, queue=True,
    )


class _Abandoned(Exception):
    pass



@pytest.mark.parametrize("name", sorted(READERS))
async def test_a_read_never_sees_another_writers_uncommitted_transaction(store: SQLiteStore, name: str) -> None:
    reader, unseen = READERS[name]
    read: asyncio.Future[Any] | None = None
    with pytest.raises(_Abandoned):
        async with store._transaction() as db:  # an API write, several awaited statements
            assert await run_on_thread(db, _turn()) is True
            read = asyncio.ensure_future(reader(store))
            for _ in range(3):
                await asyncio.sleep(0)  # the read goes to SQLite's thread now, if it may
            await db.execute("SELECT 1")  # behind it in aiosqlite's queue: the read, if sent, ran
            raise _Abandoned  # the API client gone, a failed statement: all of it rolled back
    assert read is not None
    assert await read == unseen


@pytest.mark.parametrize("name", sorted(READERS))
async def test_each_reader_sees_the_turn_once_committed(store: SQLiteStore, name: str) -> None:
    # What makes the test above able to fail: every reader does see these rows.
    reader, unseen = READERS[name]
    async with store._transaction() as db:
        assert await run_on_thread(db, _turn()) is True
    assert await reader(store) != unseen

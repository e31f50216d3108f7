"""A failure is final: no later receipt word (``read`` included) hides it.

Real receipts go delivered -> read, or end in a failure; ``read`` never
follows a failure, and an operator acts on the failure. A real SQLite file;
time is the caller's (virtual) clock, passed in as ``now``.
"""

from __future__ import annotations

import pytest

from bot.store import SQLiteStore
from bot.types import Reply
from tests.conftest import db_rows
from tests.test_store_sqlite import CHANNEL, T0, inbound, key_for, session_for


async def sent_reply(store: SQLiteStore, provider_id: str) -> int:
    key = key_for("+15556001234")
    message = inbound("SMin-" + provider_id, key)
    await store.load_turn(message)
    await store.commit_turn(message, session_for(key, "menu"), (Reply("hi"),), "", T0, queue=True)
    (item,) = await store.due_outbox(T0)
    await store.mark_sent(item.id, provider_id, T0)
    return item.id


def delivery(store: SQLiteStore) -> list[tuple[str, str]]:
    return [(str(s), str(e)) for s, e in db_rows(store.path, "SELECT delivery_status, delivery_error FROM outbound")]


@pytest.mark.parametrize("failure", ["rejected", "failed", "undelivered", "expired", "canceled"])
async def test_read_after_a_failure_does_not_hide_it(store: SQLiteStore, failure: str) -> None:
    await sent_reply(store, "out-1")
    await store.record_receipt(CHANNEL, "out-1", failure, "1360", T0 + 1)
    outcome = await store.record_receipt(CHANNEL, "out-1", "read", "", T0 + 2)
    assert delivery(store) == [(failure, "1360")]
    assert outcome is not None and outcome.status == failure and not outcome.updated


async def test_delivered_then_read_moves_on(store: SQLiteStore) -> None:
    await sent_reply(store, "out-2")
    await store.record_receipt(CHANNEL, "out-2", "delivered", "", T0 + 1)
    await store.record_receipt(CHANNEL, "out-2", "read", "", T0 + 2)
    assert delivery(store) == [("read", "")]


async def test_expired_is_final_like_the_other_failures(store: SQLiteStore) -> None:
    await sent_reply(store, "out-3")
    await store.record_receipt(CHANNEL, "out-3", "expired", "", T0 + 1)
    await store.record_receipt(CHANNEL, "out-3", "delivered", "", T0 + 2)
    assert delivery(store) == [("expired", "")]


async def test_an_early_failure_wins_over_an_early_read(store: SQLiteStore) -> None:
    # Both beat the send's id into the database: the failure is what is kept.
    await store.record_receipt(CHANNEL, "out-4", "rejected", "1360", T0)
    await store.record_receipt(CHANNEL, "out-4", "read", "", T0 + 0.5)
    await sent_reply(store, "out-4")
    assert delivery(store) == [("rejected", "1360")]

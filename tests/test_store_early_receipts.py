"""Receipts that arrive before the send's id was recorded are kept a day, not forever.

A real SQLite file; time is whatever the caller's (virtual) clock says, passed in as ``now``.
"""

from __future__ import annotations

from bot.store import SQLiteStore
from bot.store.outbox import EARLY_RECEIPT_TTL
from bot.types import Reply
from tests.conftest import db_rows
from tests.test_store_sqlite import T0, inbound, key_for, session_for

DAY = 86_400.0



def early(store: SQLiteStore) -> list[tuple[str, str]]:
    return [(str(c), str(p)) for c, p in db_rows(store.path, "SELECT channel, provider_id FROM early_receipts")]


def test_the_ttl_is_a_day() -> None:
    assert EARLY_RECEIPT_TTL == DAY  # carriers retry receipts for up to ~24 h (carriers.md §12)


async def test_receipts_nothing_ever_claims_are_dropped_after_a_day(store: SQLiteStore) -> None:
    # Receipts for ids no send of ours will ever have (another app on the same account, a send
    # that crashed before its id was written): each is kept in case the send's id is on its way.
    for n in range(5):
        assert await store.record_receipt("vonage-sms", f"0Astray{n}", "delivered", "", T0 + n) is None
    assert len(early(store)) == 5
    await store.record_receipt("telnyx", "fresh-1", "sent", "", T0 + DAY - 1)
    assert len(early(store)) == 6  # none is a day old yet
    await store.record_receipt("telnyx", "fresh-2", "sent", "", T0 + DAY + 2.5)
    # Older than a day: gone, whatever their channel; the recent ones stay.
    assert sorted(early(store)) == [("telnyx", "fresh-1"), ("telnyx", "fresh-2"), ("vonage-sms", "0Astray3"),
                                    ("vonage-sms", "0Astray4")]  # fmt: skip


async def test_a_receipt_within_the_day_still_reaches_its_send(store: SQLiteStore) -> None:
    key = key_for("+15556001234")
    message = inbound("SMin1", key)
    await store.load_turn(message)
    await store.commit_turn(message, session_for(key, "menu"), (Reply("hi"),), "", T0, queue=True)
    (item,) = await store.due_outbox(T0)
    await store.record_receipt("twilio", "SMout1", "delivered", "", T0 + 1)
    await store.record_receipt("twilio", "SMother", "sent", "", T0 + DAY - 10)  # prunes nothing younger
    await store.mark_sent(item.id, "SMout1", T0 + DAY - 5)
    assert db_rows(store.path, "SELECT delivery_status FROM outbound") == [("delivered",)]
    assert early(store) == [("twilio", "SMother")]

"""The outbox and delivery receipts on SQLite (mixed into ``SQLiteStore``).

A reply for an async carrier is written as an ``outbound`` row with status
``queued`` in the same transaction as its turn; the worker (bot.outbox) sends
due rows in id order and records the outcome here. Statuses of a row:
``queued`` -> ``sent`` (the carrier accepted it) or ``failed`` (given up) or
``suppressed`` (the customer opted out before it went). Receipts then set
``delivery_status``, never letting a late ``sent`` overwrite ``delivered``.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3

import aiosqlite

from bot.store.base import OutboxItem, ReceiptOutcome, StoreError

__all__ = ["DELIVERY_RANK", "DUE_OUTBOX", "EARLY_RECEIPT_TTL", "OutboxMixin"]

# How long a receipt for an id no send has (yet) is kept for that send. A send
# records its id within seconds of the carrier's answer; the rest are receipts
# nothing will claim (another app on the same account, a send that crashed
# before its id was written), and a day covers the longest carrier receipt
# retries (carriers.md §12). Swept whenever another such receipt arrives, so
# the table holds at most a day of them.
EARLY_RECEIPT_TTL = 86_400.0

# How far along a message is; a receipt only moves it forward. Final states
# share the top rank, so the first final word stands.
DELIVERY_RANK: dict[str, int] = {
    "": 0,
    "queued": 1,
    "accepted": 1,
    "scheduled": 1,
    "sending": 2,
    "submitted": 2,
    "sent": 3,
    "delivered": 5,
    "undelivered": 5,
    "failed": 5,
    "rejected": 5,
    "canceled": 5,
    "read": 6,
}


# INDEXED BY: left to itself, SQLite walks the whole outbound table in id
# order to skip the sort (measured: 7.5 ms at 25k rows, every poll, growing
# with every message ever sent); the partial index holds only queued rows, so
# the cost follows the queue, not the history.
# NOT EXISTS: a message is not due while an earlier one to the same customer
# waits out a retry: parts of a reply, and replies, arrive in order. (An
# earlier one that is due comes first in this same id order.)
DUE_OUTBOX = (
    "SELECT id, channel, customer, business, body, media, attempts, created_at, kind FROM outbound AS o "
    "INDEXED BY outbox_due WHERE status = 'queued' AND next_attempt_at <= ?1 "
    "AND NOT EXISTS (SELECT 1 FROM outbound AS e WHERE e.status = 'queued' AND e.channel = o.channel "
    "AND e.customer = o.customer AND e.business = o.business AND e.id < o.id AND e.next_attempt_at > ?1) "
    "ORDER BY id LIMIT ?2"
)


class OutboxMixin:
    """Needs ``self.db`` (aiosqlite connection) and ``self._write_lock``."""

    _write_lock: asyncio.Lock

    @property
    def db(self) -> aiosqlite.Connection:  # provided by SQLiteStore
        raise NotImplementedError

    async def due_outbox(self, now: float, limit: int = 100) -> list[OutboxItem]:
        """Queued rows whose next attempt is due, oldest first."""
        try:
            rows = await self.db.execute_fetchall(DUE_OUTBOX, (now, limit))
        except sqlite3.Error as exc:
            raise StoreError(str(exc)) from exc
        return [
            OutboxItem(int(i), c, cu, b, body, tuple(json.loads(media)), int(a), float(at), str(k))
            for i, c, cu, b, body, media, a, at, k in rows
        ]

    async def outbox_depth(self) -> int:
        try:
            rows = await self.db.execute_fetchall("SELECT count(*) FROM outbound WHERE status = 'queued'")
        except sqlite3.Error as exc:
            raise StoreError(str(exc)) from exc
        return sum(int(count) for (count,) in rows)

    async def _update(self, sql: str, params: tuple[object, ...]) -> None:
        async with self._write_lock:
            try:
                await self.db.execute(sql, params)
            except sqlite3.Error as exc:
                raise StoreError(str(exc)) from exc

    async def mark_sent(self, item_id: int, provider_id: str, now: float) -> None:
        async with self._write_lock:
            try:
                await self.db.execute("BEGIN IMMEDIATE")
                try:
                    await self.db.execute(
                        "UPDATE outbound SET status = 'sent', provider_id = ?, sent_at = ?, "
                        "attempts = attempts + 1, last_error = '' WHERE id = ? AND status = 'queued'",
                        (provider_id, now, item_id),
                    )
                    await self._apply_early_receipts(item_id, provider_id)
                    await self.db.execute("COMMIT")
                except BaseException:
                    await asyncio.shield(self.db.rollback())
                    raise
            except sqlite3.Error as exc:
                raise StoreError(str(exc)) from exc

    async def _apply_early_receipts(self, item_id: int, provider_id: str) -> None:
        """Receipts that beat the send's id into the database: the furthest one wins."""
        rows = await self.db.execute_fetchall(
            "SELECT e.channel, e.status, e.error, e.at FROM early_receipts e JOIN outbound o "
            "ON o.channel = e.channel WHERE o.id = ? AND e.provider_id = ?",
            (item_id, provider_id),
        )
        found = [tuple(row) for row in rows]
        if not found:
            return
        channel, status, error, at = max(found, key=lambda r: DELIVERY_RANK.get(str(r[1]), 4))
        await self.db.execute(
            "UPDATE outbound SET delivery_status = ?, delivery_error = ?, delivery_at = ? WHERE id = ?",
            (status, error, at, item_id),
        )
        await self.db.execute(
            "DELETE FROM early_receipts WHERE channel = ? AND provider_id = ?", (channel, provider_id)
        )

    async def mark_retry(self, item_id: int, error: str, next_attempt_at: float) -> None:
        await self._update(
            "UPDATE outbound SET attempts = attempts + 1, last_error = ?, next_attempt_at = ? "
            "WHERE id = ? AND status = 'queued'",
            (error, next_attempt_at, item_id),
        )

    async def mark_failed(self, item_id: int, error: str, status: str = "failed") -> None:
        await self._update(
            "UPDATE outbound SET status = ?, last_error = ?, attempts = attempts + 1 "
            "WHERE id = ? AND status = 'queued'",
            (status, error, item_id),
        )

    async def record_receipt(
        self, channel: str, provider_id: str, status: str, error: str, now: float
    ) -> ReceiptOutcome | None:
        """Apply a delivery receipt; ``None`` when no outbound message has that id."""
        async with self._write_lock:
            try:
                # ``provider_id != ''`` repeats the partial index's condition so
                # SQLite may use it; without it every receipt walked all of the
                # channel's outbound rows (tests/test_store_plans.py).
                rows = await self.db.execute_fetchall(
                    "SELECT id, customer, business, delivery_status FROM outbound "
                    "WHERE channel = ? AND provider_id = ? AND provider_id != '' ORDER BY id LIMIT 1",
                    (channel, provider_id),
                )
                found = [tuple(row) for row in rows]
                if not found:
                    # Possibly earlier than our record of the send: keep it for mark_sent,
                    # and drop those kept a day in vain (the index on ``at`` makes it a seek).
                    await self.db.execute("DELETE FROM early_receipts WHERE at < ?", (now - EARLY_RECEIPT_TTL,))
                    await self.db.execute(
                        "INSERT INTO early_receipts (channel, provider_id, status, error, at) VALUES (?, ?, ?, ?, ?) "
                        "ON CONFLICT DO NOTHING",
                        (channel, provider_id, status, error, now),
                    )
                    return None
                row_id, customer, business, current = found[0]
                moves = DELIVERY_RANK.get(status, 4) > DELIVERY_RANK.get(str(current), 4)
                if moves:
                    await self.db.execute(
                        "UPDATE outbound SET delivery_status = ?, delivery_error = ?, delivery_at = ? WHERE id = ?",
                        (status, error, now, row_id),
                    )
            except sqlite3.Error as exc:
                raise StoreError(str(exc)) from exc
        return ReceiptOutcome(str(customer), str(business), status if moves else str(current), moves)

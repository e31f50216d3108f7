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
import contextlib
import json
import sqlite3
from collections.abc import AsyncIterator, Sequence

import aiosqlite

from bot.store.base import OutboxItem, ReceiptOutcome, StoreError
from bot.store.hops import Hops

__all__ = ["DELIVERY_RANK", "DUE_OUTBOX", "EARLY_RECEIPT_TTL", "FAILED_STATUSES", "OutboxMixin", "combined_status"]

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
    "expired": 5,
    "read": 6,
}
# Final words that mean the customer did not get the message (whole).
FAILED_STATUSES = frozenset({"failed", "undelivered", "rejected", "canceled", "expired"})


def _rank(status: str) -> int:
    return DELIVERY_RANK.get(status, 4)  # an unknown word: past "sent", short of final


def _moves(status: str, current: str) -> bool:
    """Whether a receipt's word replaces the stored one: only forward, and never off a failure.

    A failure is final and is what an operator acts on; ``read`` (ranked past
    ``delivered``) never truly follows one, and must not hide it.
    """
    return current not in FAILED_STATUSES and _rank(status) > _rank(current)


def combined_status(parts: Sequence[tuple[str, str, float]]) -> tuple[str, str, float]:
    """``(status, error, at)`` of a reply sent as several messages, from its parts' in order.

    What a Twilio user reads for one long message: a failed part fails the
    whole, since the customer got it incomplete (the first failed part's
    word and error); otherwise the least advanced part's, so ``delivered``
    only once every part is, and nothing ("") while a part is unheard of.
    """
    for status, error, at in parts:
        if status in FAILED_STATUSES:
            return status, error, at
    return min(parts, key=lambda part: _rank(part[0]), default=("", "", 0.0))


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
    """Needs ``self.db`` (aiosqlite connection), ``self._write_lock`` and ``self.hops``.

    Reads outside a write go through ``hops.fetch`` (under the write lock): read
    inside an API transaction, a queued row that its rollback takes back would be
    sent, and its id, reused by the next insert, marked sent for another reply.
    """

    _write_lock: asyncio.Lock
    hops: Hops

    @property
    def db(self) -> aiosqlite.Connection:  # provided by SQLiteStore
        raise NotImplementedError

    async def due_outbox(self, now: float, limit: int = 100) -> list[OutboxItem]:
        """Queued rows whose next attempt is due, oldest first."""
        rows = await self.hops.fetch(DUE_OUTBOX, (now, limit))
        return [
            OutboxItem(int(i), c, cu, b, body, tuple(json.loads(media)), int(a), float(at), str(k))
            for i, c, cu, b, body, media, a, at, k in rows
        ]

    async def outbox_depth(self) -> int:
        rows = await self.hops.fetch("SELECT count(*) FROM outbound WHERE status = 'queued'")
        return sum(int(count) for (count,) in rows)

    async def _update(self, sql: str, params: tuple[object, ...]) -> None:
        async with self._write_lock:
            try:
                await self.db.execute(sql, params)
            except sqlite3.Error as exc:
                raise StoreError(str(exc)) from exc

    @contextlib.asynccontextmanager
    async def _immediate(self) -> AsyncIterator[aiosqlite.Connection]:
        """One write transaction under the write lock; a SQLite error becomes ``StoreError``."""
        async with self._write_lock:
            try:
                await self.db.execute("BEGIN IMMEDIATE")
                try:
                    yield self.db
                    await self.db.execute("COMMIT")
                except BaseException:
                    await asyncio.shield(self.db.rollback())
                    raise
            except sqlite3.Error as exc:
                raise StoreError(str(exc)) from exc

    async def mark_sent(self, item_id: int, provider_id: str, now: float) -> None:
        async with self._immediate() as db:
            # No RETURNING: SQLite before 3.35 (still in long-term distributions) lacks it.
            rows = await db.execute_fetchall(
                "SELECT channel FROM outbound WHERE id = ? AND status = 'queued'", (item_id,)
            )
            found = [str(channel) for (channel,) in rows]
            await db.execute(
                "UPDATE outbound SET status = 'sent', provider_id = ?, sent_at = ?, "
                "attempts = attempts + 1, last_error = '' WHERE id = ? AND status = 'queued'",
                (provider_id, now, item_id),
            )
            early = await self._claim_early(found[0], provider_id) if found and provider_id else None
            if early is not None:
                await db.execute(
                    "UPDATE outbound SET delivery_status = ?, delivery_error = ?, delivery_at = ? WHERE id = ?",
                    (*early, item_id),
                )

    async def chunks_sent(self, item_id: int) -> int:
        """How many requests of a row's send the carrier has accepted (``mark_parts_sent``)."""
        rows = await self.hops.fetch(
            "SELECT coalesce(max(chunk) + 1, 0) FROM outbound_parts WHERE outbound_id = ?", (item_id,)
        )
        return sum(int(count) for (count,) in rows)

    async def mark_parts_sent(
        self, item_id: int, chunk: int, provider_ids: Sequence[str], now: float, *, done: bool, error: str = ""
    ) -> None:
        """Request ``chunk`` of the row's send was accepted as messages ``provider_ids``.

        Each id becomes a part with receipts of its own. ``done``: that was the
        last request, and the row is sent, under its first part's id; or, with
        ``error``, failed with that error (accepted in part, never to be resent).
        """
        async with self._immediate() as db:
            rows = await db.execute_fetchall(
                "SELECT channel, (SELECT coalesce(max(part) + 1, 0) FROM outbound_parts WHERE outbound_id = ?1) "
                "FROM outbound WHERE id = ?1 AND status = 'queued'",
                (item_id,),
            )
            found = [(str(channel), int(first)) for channel, first in rows]
            if not found:
                return  # settled meanwhile (as mark_sent, it never touches a row that is not queued)
            channel, first = found[0]
            # An empty id (a 2xx without one) is kept too: the part marks its chunk as sent.
            for part, provider_id in enumerate(provider_ids or ("",), first):
                early = await self._claim_early(channel, provider_id) if provider_id else None
                status, part_error, at = early or ("", "", 0.0)
                await db.execute(
                    "INSERT INTO outbound_parts (outbound_id, part, chunk, channel, provider_id, delivery_status, "
                    "delivery_error, delivery_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (item_id, part, chunk, channel, provider_id, status, part_error, at),
                )
            if done:
                # sent_at: when the carrier took (the first of) it, failed or not.
                await db.execute(
                    "UPDATE outbound SET status = ?3, sent_at = ?2, attempts = attempts + 1, last_error = ?4, "
                    "provider_id = coalesce((SELECT provider_id FROM outbound_parts WHERE outbound_id = ?1 "
                    "ORDER BY part LIMIT 1), '') WHERE id = ?1",
                    (item_id, now, "failed" if error else "sent", error),
                )
                await self._combine(item_id)

    async def _claim_early(self, channel: str, provider_id: str) -> tuple[str, str, float] | None:
        """The furthest receipt that beat this id into the database (then forgotten), if any."""
        key = (channel, provider_id)
        rows = await self.db.execute_fetchall(
            "SELECT status, error, at FROM early_receipts WHERE channel = ? AND provider_id = ?", key
        )
        found = [(str(status), str(error), float(at)) for status, error, at in rows]
        if not found:
            return None
        await self.db.execute("DELETE FROM early_receipts WHERE channel = ? AND provider_id = ?", key)
        return max(found, key=lambda r: (r[0] in FAILED_STATUSES, _rank(r[0])))  # a failure is final

    async def _combine(self, item_id: int) -> ReceiptOutcome:
        """Set a sent row's delivery status from its parts' (``combined_status``), only ever forward."""
        parts = await self.db.execute_fetchall(
            "SELECT delivery_status, delivery_error, delivery_at FROM outbound_parts WHERE outbound_id = ? "
            "ORDER BY part",
            (item_id,),
        )
        ((customer, business, current, sent),) = await self.db.execute_fetchall(
            "SELECT customer, business, delivery_status, status = 'sent' FROM outbound WHERE id = ?", (item_id,)
        )
        status, error, at = combined_status([(str(s), str(e), float(a)) for s, e, a in parts])
        # A row still sending its later requests has no status of its own yet.
        moves = bool(sent) and _moves(status, str(current))
        if moves:
            await self.db.execute(
                "UPDATE outbound SET delivery_status = ?, delivery_error = ?, delivery_at = ? WHERE id = ?",
                (status, error, at, item_id),
            )
        return ReceiptOutcome(str(customer), str(business), status if moves else str(current), moves)

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
        async with self._immediate() as db:
            part = await db.execute_fetchall(
                "SELECT outbound_id, part, delivery_status FROM outbound_parts WHERE channel = ? AND provider_id = ? "
                "AND provider_id != '' LIMIT 1",
                (channel, provider_id),
            )
            for row_id, number, current in part:  # one part of a reply sent as several messages
                if _moves(status, str(current)):
                    await db.execute(
                        "UPDATE outbound_parts SET delivery_status = ?, delivery_error = ?, delivery_at = ? "
                        "WHERE outbound_id = ? AND part = ?",
                        (status, error, now, row_id, number),
                    )
                return await self._combine(int(row_id))
            # ``provider_id != ''`` repeats the partial index's condition so
            # SQLite may use it; without it every receipt walked all of the
            # channel's outbound rows (tests/test_store_plans.py).
            rows = await db.execute_fetchall(
                "SELECT id, customer, business, delivery_status FROM outbound "
                "WHERE channel = ? AND provider_id = ? AND provider_id != '' ORDER BY id LIMIT 1",
                (channel, provider_id),
            )
            found = [tuple(row) for row in rows]
            if not found:
                # Possibly earlier than our record of the send: keep it for mark_sent,
                # and drop those kept a day in vain (the index on ``at`` makes it a seek).
                await db.execute("DELETE FROM early_receipts WHERE at < ?", (now - EARLY_RECEIPT_TTL,))
                await db.execute(
                    "INSERT INTO early_receipts (channel, provider_id, status, error, at) VALUES (?, ?, ?, ?, ?) "
                    "ON CONFLICT DO NOTHING",
                    (channel, provider_id, status, error, now),
                )
                return None
            row_id, customer, business, current = found[0]
            moves = _moves(status, str(current))
            if moves:
                await db.execute(
                    "UPDATE outbound SET delivery_status = ?, delivery_error = ?, delivery_at = ? WHERE id = ?",
                    (status, error, now, row_id),
                )
        return ReceiptOutcome(str(customer), str(business), status if moves else str(current), moves)

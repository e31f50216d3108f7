"""What the API store's mixins share: the write transaction they run in, and
the consent verdict taken inside it. (The parts of concatenated SMS,
bot.store.concat, are written in the same kind of transaction.)

Why it is built this way:
- Consent is decided inside the write transaction that queues a message, so a
  STOP committed a moment earlier always wins; the outbox checks again before
  each send.
- "Opted in" (consent to broadcasts) means an active audience subscription
  whose ledger event is newer than the last opt-out: a keyword route with
  ``subscribe:`` (JOIN) or the API with the ``source`` of the consent. Event
  ids, not times, order the ledger, because many events can share one (virtual
  or coarse) timestamp. A STOP therefore ends every subscription.
- START (UNSTOP, YES) after a STOP lifts the block, as at Twilio: replies,
  conversations and codes reach the number again. It is no consent to
  broadcasts: it used to count as one, so a customer who had only ever asked
  questions, texted STOP and then START got promotions. A keyword is not the
  prior express written consent marketing texts need (TCPA), the STOP revoked
  whatever consent there was (FCC 24-24: a revocation covers every kind of
  message), and START renews no subscription; so only a new subscription is.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import AsyncIterator, Sequence
from typing import Any

import aiosqlite

from bot.store.base import StoreError
from bot.store.hops import Hops

__all__ = [
    "ALREADY", "NOT_SUBSCRIBED", "NO_CONSENT", "OPTED_IN", "OPTED_OUT", "QUEUED", "REMOVED", "SUBSCRIBED",
    "ApiMixinBase", "consent",
    "consent_on_thread",
]

# Consent verdicts (``consent``) and outcomes of the API store's writes.
OPTED_IN, OPTED_OUT, NO_CONSENT = "opted_in", "opted_out", "no_consent"
QUEUED, SUBSCRIBED, ALREADY = "queued", "subscribed", "already"
REMOVED, NOT_SUBSCRIBED = "removed", "not_subscribed"  # Store.unsubscribe


class ApiMixinBase:
    """Needs ``self.db`` (aiosqlite connection), ``self._write_lock`` and ``self.hops``."""

    _write_lock: asyncio.Lock
    hops: Hops

    @property
    def db(self) -> aiosqlite.Connection:  # provided by SQLiteStore
        raise NotImplementedError

    @contextlib.asynccontextmanager
    async def _transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        async with self._write_lock:
            db = self.db
            try:
                try:
                    await db.execute("BEGIN IMMEDIATE")
                    yield db
                    await db.execute("COMMIT")
                except BaseException:
                    # Also on cancellation, even of the BEGIN (which SQLite's thread still
                    # runs, before this): never leave the shared connection in a transaction.
                    # Without one, rollback() does nothing.
                    await asyncio.shield(db.rollback())
                    raise
            except sqlite3.Error as exc:
                raise StoreError(str(exc)) from exc

    async def _rows(self, sql: str, params: Sequence[object] = ()) -> list[tuple[Any, ...]]:
        """A read outside any write: under the write lock, as the turns read (bot.store.hops)."""
        return [tuple(row) for row in await self.hops.fetch(sql, params)]


def _consent_query(customer: str, business: str, audience: str | None) -> tuple[str, tuple[str, ...]]:
    # ``audience=None`` (a broadcast to a list of numbers) takes a subscription to any audience.
    subscribed = (
        "SELECT max(event_id) FROM subscriptions WHERE customer = ?1 AND business = ?2 AND active = 1"
        + ("" if audience is None else " AND audience = ?3")
    )
    sql = (
        "SELECT (SELECT opted_out FROM consent WHERE customer = ?1 AND business = ?2), "
        "(SELECT max(id) FROM consent_events WHERE customer = ?1 AND business = ?2 AND event = 'opt_out'), "
        f"({subscribed})"
    )
    return sql, (customer, business) if audience is None else (customer, business, audience)


def _verdict(row: Sequence[Any]) -> str:
    opted_out, last_out, newest_subscription = row
    if opted_out:
        return OPTED_OUT
    return OPTED_IN if int(newest_subscription or 0) > int(last_out or 0) else NO_CONSENT


async def consent(db: aiosqlite.Connection, customer: str, business: str, audience: str | None) -> str:
    sql, params = _consent_query(customer, business, audience)
    try:
        rows = [tuple(row) for row in await db.execute_fetchall(sql, params)]
    except sqlite3.Error as exc:
        raise StoreError(str(exc)) from exc
    return _verdict(rows[0])


def consent_on_thread(conn: sqlite3.Connection, customer: str, business: str, audience: str | None) -> str:
    """``consent`` for work already on SQLite's thread (``bot.store.hops.run_on_thread``)."""
    sql, params = _consent_query(customer, business, audience)
    return _verdict(tuple(conn.execute(sql, params).fetchone()))

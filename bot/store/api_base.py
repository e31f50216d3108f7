"""What the API store's mixins share: the write transaction they run in, and
the consent verdict taken inside it. (The parts of concatenated SMS,
bot.store.concat, are written in the same kind of transaction.)

Why it is built this way:
- Consent is decided inside the write transaction that queues a message, so a
  STOP committed a moment earlier always wins; the outbox checks again before
  each send.
- "Opted in" means a ledger event newer than the last opt-out: an ``opt_in``
  (START) or an active audience subscription. Event ids, not times, order the
  ledger, because many events can share one (virtual or coarse) timestamp. A
  STOP therefore ends every subscription; START restores general consent only.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import AsyncIterator, Sequence
from typing import Any

import aiosqlite

from bot.store.base import StoreError

__all__ = [
    "ALREADY", "NO_CONSENT", "OPTED_IN", "OPTED_OUT", "QUEUED", "SUBSCRIBED", "ApiMixinBase", "consent",
    "consent_on_thread",
]

# Consent verdicts (``consent``) and outcomes of the API store's writes.
OPTED_IN, OPTED_OUT, NO_CONSENT = "opted_in", "opted_out", "no_consent"
QUEUED, SUBSCRIBED, ALREADY = "queued", "subscribed", "already"


class ApiMixinBase:
    """Needs ``self.db`` (aiosqlite connection) and ``self._write_lock``."""

    _write_lock: asyncio.Lock

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
        try:
            return [tuple(row) for row in await self.db.execute_fetchall(sql, params)]
        except sqlite3.Error as exc:
            raise StoreError(str(exc)) from exc


def _consent_query(customer: str, business: str, audience: str | None) -> tuple[str, tuple[str, ...]]:
    # The subscription query for ``audience=None`` looks for any active audience.
    subscribed = (
        "SELECT max(event_id) FROM subscriptions WHERE customer = ?1 AND business = ?2 AND active = 1"
        + ("" if audience is None else " AND audience = ?3")
    )
    opt_in = "" if audience is not None else (
        ", (SELECT max(id) FROM consent_events WHERE customer = ?1 AND business = ?2 AND event = 'opt_in')"
    )
    sql = (
        "SELECT (SELECT opted_out FROM consent WHERE customer = ?1 AND business = ?2), "
        "(SELECT max(id) FROM consent_events WHERE customer = ?1 AND business = ?2 AND event = 'opt_out'), "
        f"({subscribed}){opt_in}"
    )
    return sql, (customer, business) if audience is None else (customer, business, audience)


def _verdict(row: Sequence[Any]) -> str:
    opted_out, last_out, *ins = row
    if opted_out:
        return OPTED_OUT
    newest_in = max((int(value) for value in ins if value is not None), default=0)
    return OPTED_IN if newest_in > int(last_out or 0) else NO_CONSENT


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

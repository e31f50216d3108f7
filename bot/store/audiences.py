"""Audience subscriptions on SQLite (part of ``ApiStoreMixin``).

A subscription is a consent event: each subscribe and unsubscribe is written
to the ledger in the same transaction as the subscription row, and the row
keeps the id of the event that made it active, which is how the consent
verdict (bot.store.api_base) orders it against the last opt-out.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from functools import partial

from bot.store.api_base import (
    ALREADY,
    NOT_SUBSCRIBED,
    OPTED_IN,
    OPTED_OUT,
    REMOVED,
    SUBSCRIBED,
    ApiMixinBase,
    consent,
    consent_on_thread,
)
from bot.store.hops import run_on_thread
from bot.store.records import Subscriber

__all__ = ["AudiencesMixin"]


class AudiencesMixin(ApiMixinBase):
    # Subscriptions written per transaction (``subscribe_many``): a few milliseconds of the
    # write lock each, so webhooks' turns get in between the chunks of a large import.
    subscribe_chunk = 500

    async def subscribe(
        self, audience: str, customer: str, business: str, source: str, now: float,
        origin: tuple[str, str, str] = ("", "", ""),
    ) -> str:
        """Add a subscriber: ``subscribed``, ``already`` or ``opted_out`` (refused: STOP wins)."""
        async with self._transaction() as db:
            return await run_on_thread(db, partial(_subscribe, audience=audience, customer=customer,
                                                   business=business, source=source, now=now, origin=origin))

    async def subscribe_many(
        self, audience: str, customers: Sequence[str], business: str, source: str, now: float
    ) -> list[str]:
        """``subscribe`` for each number, in order: ``subscribe_chunk`` numbers per transaction.

        Each subscription is decided and written exactly as ``subscribe`` does (its
        consent verdict, its own ledger event), so a retry after a failure part-way
        finds the numbers already written ``already`` and writes only the rest.
        """
        outcomes: list[str] = []
        for start in range(0, len(customers), self.subscribe_chunk):
            chunk = customers[start:start + self.subscribe_chunk]
            async with self._transaction() as db:
                outcomes += await run_on_thread(db, partial(_subscribe_all, audience=audience, customers=chunk,
                                                            business=business, source=source, now=now))
        return outcomes

    async def unsubscribe(self, audience: str, customer: str, business: str, source: str, now: float) -> str:
        """Remove a subscriber (recorded in the ledger): ``removed``, else ``not_subscribed`` or ``opted_out``.

        A subscriber is a subscription newer than the number's last STOP. The
        verdict is taken in the removal's transaction, so a STOP committed a
        moment earlier is seen: it already ended the subscription, and nothing
        is written then.
        """
        async with self._transaction() as db:
            verdict = await consent(db, customer, business, audience)
            if verdict != OPTED_IN:
                return OPTED_OUT if verdict == OPTED_OUT else NOT_SUBSCRIBED
            cursor = await db.execute(
                "UPDATE subscriptions SET active = 0, updated_at = ? "
                "WHERE audience = ? AND business = ? AND customer = ? AND active = 1",
                (now, audience, business, customer),
            )
            if cursor.rowcount == 0:
                return NOT_SUBSCRIBED
            await db.execute(
                "INSERT INTO consent_events (customer, business, event, source, at) "
                "VALUES (?, ?, 'unsubscribe', ?, ?)",
                (customer, business, f"{source} (audience {audience})", now),
            )
            return REMOVED

    async def subscribers(self, audience: str, business: str, limit: int = 100, after: str = "") -> list[Subscriber]:
        """Current subscribers (not opted out since), ordered by number, after the cursor ``after``."""
        rows = await self._rows(
            "SELECT s.customer, s.source, e.at FROM subscriptions AS s "
            "JOIN consent_events AS e ON e.id = s.event_id "
            "WHERE s.audience = ? AND s.business = ? AND s.active = 1 AND s.customer > ? "
            "AND s.event_id > coalesce((SELECT max(id) FROM consent_events AS o WHERE o.customer = s.customer "
            "AND o.business = s.business AND o.event = 'opt_out'), 0) ORDER BY s.customer LIMIT ?",
            (audience, business, after, limit),
        )
        return [Subscriber(str(c), business, audience, str(s), float(at)) for c, s, at in rows]


def _subscribe(
    conn: sqlite3.Connection, *, audience: str, customer: str, business: str, source: str, now: float,
    origin: tuple[str, str, str] = ("", "", ""),
) -> str:
    status = consent_on_thread(conn, customer, business, audience)
    if status == OPTED_OUT:
        return OPTED_OUT
    if status == OPTED_IN:
        return ALREADY
    channel, provider_id, text = origin
    cursor = conn.execute(
        "INSERT INTO consent_events (customer, business, event, source, channel, provider_id, body, at) "
        "VALUES (?, ?, 'subscribe', ?, ?, ?, ?, ?)",
        (customer, business, f"{source} (audience {audience})", channel, provider_id, text, now),
    )
    conn.execute(
        "INSERT INTO subscriptions (audience, business, customer, active, event_id, source, updated_at) "
        "VALUES (?, ?, ?, 1, ?, ?, ?) ON CONFLICT (audience, business, customer) DO UPDATE SET "
        "active = 1, event_id = excluded.event_id, source = excluded.source, updated_at = excluded.updated_at",
        (audience, business, customer, cursor.lastrowid, source, now),
    )
    return SUBSCRIBED


def _subscribe_all(
    conn: sqlite3.Connection, *, audience: str, customers: Sequence[str], business: str, source: str, now: float
) -> list[str]:
    return [_subscribe(conn, audience=audience, customer=customer, business=business, source=source, now=now)
            for customer in customers]

"""Business-initiated messages on SQLite (mixed into ``SQLiteStore``): audiences,
broadcasts, conversation starts and verification codes.

Why it is built this way:
- Consent is decided inside the write transaction that queues a message, so a
  STOP committed a moment earlier always wins; the outbox checks again before
  each send.
- "Opted in" means a ledger event newer than the last opt-out: an ``opt_in``
  (START) or an active audience subscription. Event ids, not times, order the
  ledger, because many events can share one (virtual or coarse) timestamp. A
  STOP therefore ends every subscription; START restores general consent only.
- Every message queued here carries an ``origin`` (``broadcast:<id>``,
  ``conversation``, ``verification:<id>``); a broadcast's progress is read back
  from its outbound rows, so there is one source of truth for what was sent.
- A broadcast recipient moves from ``pending`` exactly once, in the same
  transaction that writes its outbound rows: a restart resumes from the
  pending rows and can never queue a number twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sqlite3
from collections.abc import AsyncIterator, Sequence
from typing import Any

import aiosqlite

from bot.store.base import StoreError
from bot.store.records import Broadcast, BroadcastProgress, Subscriber, Verification
from bot.store.turns import UPSERT_SESSION, session_row
from bot.types import Reply, Session

__all__ = ["ApiStoreMixin", "Broadcast", "BroadcastProgress", "Subscriber", "Verification"]

# Consent verdicts (``_consent``) and outcomes of the writes below.
OPTED_IN, OPTED_OUT, NO_CONSENT = "opted_in", "opted_out", "no_consent"
QUEUED, SUBSCRIBED, ALREADY = "queued", "subscribed", "already"
_FAILED_DELIVERY = "('failed', 'undelivered', 'rejected', 'canceled')"


class ApiStoreMixin:
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
                await db.execute("BEGIN IMMEDIATE")
                try:
                    yield db
                    await db.execute("COMMIT")
                except BaseException:
                    # Also on cancellation: never leave the shared connection in a transaction.
                    await asyncio.shield(db.rollback())
                    raise
            except sqlite3.Error as exc:
                raise StoreError(str(exc)) from exc

    async def _rows(self, sql: str, params: Sequence[object] = ()) -> list[tuple[Any, ...]]:
        try:
            return [tuple(row) for row in await self.db.execute_fetchall(sql, params)]
        except sqlite3.Error as exc:
            raise StoreError(str(exc)) from exc

    # -- consent -----------------------------------------------------------

    async def subscribe(
        self, audience: str, customer: str, business: str, source: str, now: float,
        origin: tuple[str, str, str] = ("", "", ""),
    ) -> str:
        """Add a subscriber: ``subscribed``, ``already`` or ``opted_out`` (refused: STOP wins)."""
        async with self._transaction() as db:
            status = await _consent(db, customer, business, audience)
            if status == OPTED_OUT:
                return OPTED_OUT
            if status == OPTED_IN:
                return ALREADY
            channel, provider_id, text = origin
            cursor = await db.execute(
                "INSERT INTO consent_events (customer, business, event, source, channel, provider_id, body, at) "
                "VALUES (?, ?, 'subscribe', ?, ?, ?, ?, ?)",
                (customer, business, f"{source} (audience {audience})", channel, provider_id, text, now),
            )
            await db.execute(
                "INSERT INTO subscriptions (audience, business, customer, active, event_id, source, updated_at) "
                "VALUES (?, ?, ?, 1, ?, ?, ?) ON CONFLICT (audience, business, customer) DO UPDATE SET "
                "active = 1, event_id = excluded.event_id, source = excluded.source, updated_at = excluded.updated_at",
                (audience, business, customer, cursor.lastrowid, source, now),
            )
            return SUBSCRIBED

    async def unsubscribe(self, audience: str, customer: str, business: str, source: str, now: float) -> bool:
        """Remove a subscriber (recorded in the ledger); False when not subscribed."""
        async with self._transaction() as db:
            cursor = await db.execute(
                "UPDATE subscriptions SET active = 0, updated_at = ? "
                "WHERE audience = ? AND business = ? AND customer = ? AND active = 1",
                (now, audience, business, customer),
            )
            if cursor.rowcount == 0:
                return False
            await db.execute(
                "INSERT INTO consent_events (customer, business, event, source, at) "
                "VALUES (?, ?, 'unsubscribe', ?, ?)",
                (customer, business, f"{source} (audience {audience})", now),
            )
            return True

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

    # -- queueing ------------------------------------------------------------

    async def queue_messages(
        self,
        channel: str,
        customer: str,
        business: str,
        replies: Sequence[Reply],
        now: float,
        *,
        kind: str,
        origin: str,
        session: Session | None = None,
        audience: str | None = None,
        require_opt_in: bool = False,
        recipient_of: str = "",
    ) -> str:
        """Queue replies (and start ``session``) unless consent forbids; one transaction.

        Returns ``queued``, ``opted_out``, ``no_consent`` (only with
        ``require_opt_in``) or ``already`` (``recipient_of`` names a broadcast
        whose recipient was handled before). Nothing is written unless ``queued``,
        except a broadcast recipient's skip.
        """
        async with self._transaction() as db:
            if recipient_of:
                rows = await db.execute_fetchall(
                    "SELECT status FROM broadcast_recipients WHERE broadcast_id = ? AND customer = ?",
                    (recipient_of, customer),
                )
                if [tuple(r) for r in rows] != [("pending",)]:
                    return ALREADY
            status = await _consent(db, customer, business, audience)
            if status == OPTED_OUT or (status == NO_CONSENT and require_opt_in):
                if recipient_of:
                    await _set_recipient(db, recipient_of, customer, f"skipped_{status}")
                return status
            await db.executemany(
                "INSERT INTO outbound (channel, customer, business, body, media, created_at, status, "
                "next_attempt_at, kind, origin) VALUES (?, ?, ?, ?, ?, ?, 'queued', ?, ?, ?)",
                [
                    (channel, customer, business, r.text, json.dumps(list(r.media)), now, now, kind, origin)
                    for r in replies
                ],
            )
            if session is not None:
                await db.execute(UPSERT_SESSION, session_row(session))
            if recipient_of:
                await _set_recipient(db, recipient_of, customer, QUEUED)
            return QUEUED

    async def queued_count(self, origin: str) -> int:
        rows = await self._rows("SELECT count(*) FROM outbound WHERE origin = ? AND status = 'queued'", (origin,))
        return int(rows[0][0]) if rows else 0

    # -- broadcasts ------------------------------------------------------------

    async def create_broadcast(self, spec: Broadcast, numbers: Sequence[str], idempotency_key: str = "") -> Broadcast:
        """Record a broadcast and its recipients; with a key already used, the earlier broadcast."""
        async with self._transaction() as db:
            if idempotency_key:
                rows = await db.execute_fetchall(
                    "SELECT id FROM broadcasts WHERE idempotency_key = ?", (idempotency_key,)
                )
                for (existing,) in rows:
                    found = await _broadcast(db, str(existing))
                    assert found is not None
                    return found
            await db.execute(
                "INSERT INTO broadcasts (id, channel, business, flow, audience, text, media, state, variables, "
                "media_base, idempotency_key, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    spec.id, spec.channel, spec.business, spec.flow, spec.audience, spec.text,
                    json.dumps(list(spec.media)), spec.state, json.dumps(spec.variables), spec.media_base,
                    idempotency_key or None, spec.created_at,
                ),
            )
            await db.executemany(
                "INSERT INTO broadcast_recipients (broadcast_id, customer, position) VALUES (?, ?, ?) "
                "ON CONFLICT DO NOTHING",
                [(spec.id, number, position) for position, number in enumerate(numbers)],
            )
        return spec

    async def broadcast(self, broadcast_id: str) -> Broadcast | None:
        try:
            return await _broadcast(self.db, broadcast_id)
        except sqlite3.Error as exc:
            raise StoreError(str(exc)) from exc

    async def pending_recipients(self, broadcast_id: str, limit: int) -> list[str]:
        rows = await self._rows(
            "SELECT customer FROM broadcast_recipients WHERE broadcast_id = ? AND status = 'pending' "
            "ORDER BY position LIMIT ?",
            (broadcast_id, limit),
        )
        return [str(customer) for (customer,) in rows]

    async def unfinished_broadcasts(self) -> list[str]:
        """Broadcasts with recipients still pending, oldest first (resumed after a restart)."""
        rows = await self._rows(
            "SELECT b.id FROM broadcasts AS b WHERE EXISTS (SELECT 1 FROM broadcast_recipients AS r "
            "WHERE r.broadcast_id = b.id AND r.status = 'pending') ORDER BY b.created_at, b.id"
        )
        return [str(broadcast_id) for (broadcast_id,) in rows]

    async def broadcast_progress(self, broadcast_id: str) -> BroadcastProgress:
        counts: dict[str, int] = {}
        for status, count in await self._rows(
            "SELECT status, count(*) FROM broadcast_recipients WHERE broadcast_id = ? GROUP BY status",
            (broadcast_id,),
        ):
            counts[str(status)] = int(count)
        # A queued recipient's state is its outbound rows' (a long text may be several).
        rows = await self._rows(
            "SELECT max(status = 'suppressed'), max(status = 'failed' OR delivery_status IN "
            f"{_FAILED_DELIVERY}), max(status = 'queued'), min(delivery_status IN ('delivered', 'read')) "
            "FROM outbound WHERE origin = ? GROUP BY customer",
            (f"broadcast:{broadcast_id}",),
        )
        by_state = {"skipped_opted_out": 0, "failed": 0, "queued": 0, "delivered": 0, "sent": 0}
        for suppressed, failed, queued, delivered in rows:
            state = "skipped_opted_out" if suppressed else "failed" if failed else "queued" if queued else (
                "delivered" if delivered else "sent")
            by_state[state] += 1
        return BroadcastProgress(
            total=sum(counts.values()),
            pending=counts.get("pending", 0),
            skipped_no_consent=counts.get("skipped_no_consent", 0),
            **{**by_state, "skipped_opted_out": by_state["skipped_opted_out"] + counts.get("skipped_opted_out", 0)},
        )

    # -- verification codes ------------------------------------------------------

    async def create_verification(self, record: Verification, reply: Reply, now: float) -> str:
        """Store a code (hashed) and queue its text; ``opted_out`` writes nothing.

        An earlier pending code for the same number is cancelled: only the
        latest code texted can be the right one.
        """
        async with self._transaction() as db:
            if await _consent(db, record.customer, record.business, None) == OPTED_OUT:
                return OPTED_OUT
            await db.execute(
                "UPDATE verifications SET status = 'canceled' WHERE customer = ? AND business = ? "
                "AND status = 'pending'",
                (record.customer, record.business),
            )
            await db.execute(
                "INSERT INTO verifications (id, channel, customer, business, code_hash, salt, created_at, "
                "expires_at, max_attempts) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (record.id, record.channel, record.customer, record.business, record.code_hash, record.salt,
                 record.created_at, record.expires_at, record.max_attempts),
            )
            await db.execute(
                "INSERT INTO outbound (channel, customer, business, body, media, created_at, status, "
                "next_attempt_at, kind, origin) VALUES (?, ?, ?, ?, '[]', ?, 'queued', ?, 'verification', ?)",
                (record.channel, record.customer, record.business, reply.text, now, now, f"verification:{record.id}"),
            )
            return QUEUED

    async def verifications_since(self, customer: str, business: str, since: float) -> int:
        rows = await self._rows(
            "SELECT count(*) FROM verifications WHERE customer = ? AND business = ? AND created_at >= ?",
            (customer, business, since),
        )
        return int(rows[0][0]) if rows else 0

    async def latest_verification(self, customer: str, business: str) -> Verification | None:
        rows = await self._rows(
            "SELECT id, channel, customer, business, code_hash, salt, created_at, expires_at, max_attempts, "
            "attempts, status FROM verifications WHERE customer = ? AND business = ? "
            "ORDER BY created_at DESC, rowid DESC LIMIT 1",
            (customer, business),
        )
        return Verification(*rows[0]) if rows else None

    async def record_attempt(self, verification_id: str, approved: bool) -> bool:
        """Count one check; False when the code was no longer open (raced, used up, decided)."""
        async with self._transaction() as db:
            cursor = await db.execute(
                "UPDATE verifications SET attempts = attempts + 1, status = CASE WHEN ? THEN 'approved' "
                "WHEN attempts + 1 >= max_attempts THEN 'failed' ELSE 'pending' END "
                "WHERE id = ? AND status = 'pending' AND attempts < max_attempts",
                (approved, verification_id),
            )
            return cursor.rowcount == 1


async def _consent(db: aiosqlite.Connection, customer: str, business: str, audience: str | None) -> str:
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
    params: tuple[str, ...] = (customer, business) if audience is None else (customer, business, audience)
    try:
        rows = [tuple(row) for row in await db.execute_fetchall(sql, params)]
    except sqlite3.Error as exc:
        raise StoreError(str(exc)) from exc
    opted_out, last_out, *ins = rows[0]
    if opted_out:
        return OPTED_OUT
    newest_in = max((int(value) for value in ins if value is not None), default=0)
    return OPTED_IN if newest_in > int(last_out or 0) else NO_CONSENT


async def _set_recipient(db: aiosqlite.Connection, broadcast_id: str, customer: str, status: str) -> None:
    await db.execute(
        "UPDATE broadcast_recipients SET status = ? WHERE broadcast_id = ? AND customer = ?",
        (status, broadcast_id, customer),
    )


async def _broadcast(db: aiosqlite.Connection, broadcast_id: str) -> Broadcast | None:
    rows = await db.execute_fetchall(
        "SELECT id, channel, business, flow, created_at, audience, text, media, state, variables, media_base "
        "FROM broadcasts WHERE id = ?",
        (broadcast_id,),
    )
    for bid, channel, business, flow, created, audience, text, media, state, variables, base in rows:
        return Broadcast(
            str(bid), str(channel), str(business), str(flow), float(created), str(audience), str(text),
            tuple(json.loads(media)), str(state), dict(json.loads(variables)), str(base),
        )
    return None

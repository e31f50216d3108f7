"""Business-initiated sends on SQLite (part of ``ApiStoreMixin``): queueing a
message or a flow start for one customer, and broadcasts, which queue one such
send per recipient.

Why it is built this way:
- A broadcast recipient moves from ``pending`` exactly once, in the same
  transaction that writes its outbound rows: a restart resumes from the
  pending rows and can never queue a number twice.
- A broadcast's progress is read back from its outbound rows (found by their
  ``origin``), so there is one source of truth for what was sent.
- A broadcast whose recipients a failure left half-written stays ``preparing``
  (never sent). Without an Idempotency-Key nothing can finish it (its client got
  an error, never its id), so ``sweep_abandoned_broadcasts`` deletes it once it
  is ``ABANDONED_AFTER`` old; with a key, a retry can finish it, so it waits
  ``KEYED_ABANDONED_AFTER`` (a day, as long as payment APIs keep keys). One this
  process is still writing is never swept, however old: ``_writing`` counts them.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import replace
from typing import Any

import aiosqlite

from bot.store.api_base import ALREADY, NO_CONSENT, OPTED_OUT, QUEUED, ApiMixinBase, consent
from bot.store.records import Broadcast, BroadcastProgress
from bot.store.turns import UPSERT_SESSION, session_row
from bot.types import Reply, Session

__all__ = ["ABANDONED_AFTER", "KEYED_ABANDONED_AFTER", "OutreachMixin"]

ABANDONED_AFTER = 3600.0  # seconds before a half-written broadcast without a key is swept
KEYED_ABANDONED_AFTER = 86_400.0  # ... and one with a key, which a retry could still finish
_FAILED_DELIVERY = "('failed', 'undelivered', 'rejected', 'canceled')"


class OutreachMixin(ApiMixinBase):
    # Recipients written per transaction: 15-20 ms of the write lock here (100,000 in one: 0.3-0.37 s).
    broadcast_chunk = 5_000
    # Ids of broadcasts whose recipients this process is writing, with how many writers
    # (two retries with one key can finish the same one): never swept.
    _writing: Counter[str]

    def _writers(self) -> Counter[str]:
        try:
            return self._writing
        except AttributeError:  # a mixin has no __init__ of its own
            self._writing = Counter()
            return self._writing

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
            status = await consent(db, customer, business, audience)
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
        """Record a broadcast and its recipients; with a key already used, the earlier broadcast.

        Recipients go in ``broadcast_chunk`` at a time, each chunk its own
        transaction: 100,000 in one held the write lock (and every webhook's
        turn) for about 0.3 s. The broadcast is ``preparing`` until the last
        chunk, which makes it ready in the same transaction, so the feeder never
        sends part of one; a crash leaves it preparing (never sent), and a retry
        with the same key and the same request (``Broadcast.differences``) writes
        what is missing. Recipients are keyed by (broadcast, number): written
        twice, still texted once.
        """
        chunks = [numbers[i:i + self.broadcast_chunk] for i in range(0, len(numbers), self.broadcast_chunk)] or [[]]
        target = spec
        writers = self._writers()
        writing = ""
        try:
            for index, chunk in enumerate(chunks):
                last = index == len(chunks) - 1
                async with self._transaction() as db:
                    if index == 0:
                        found = await _broadcast_by_key(db, idempotency_key) if idempotency_key else None
                        if found is not None and (found.ready or found.differences(spec)):
                            return found  # a retry of a finished one, or another request under its key
                        if found is not None:
                            target = found  # finish what the first request began
                        else:
                            await _insert_broadcast(db, spec, idempotency_key, preparing=not last)
                        # Counted while the write lock is held: a sweep never sees it unclaimed.
                        writing = target.id
                        writers[writing] += 1
                    await db.executemany(
                        "INSERT INTO broadcast_recipients (broadcast_id, customer, position) VALUES (?, ?, ?) "
                        "ON CONFLICT DO NOTHING",
                        [(target.id, number, index * self.broadcast_chunk + n) for n, number in enumerate(chunk)],
                    )
                    if last:
                        await db.execute("UPDATE broadcasts SET preparing = 0 WHERE id = ? AND preparing",
                                         (target.id,))
        finally:
            if writing:
                writers[writing] -= 1
                if writers[writing] <= 0:
                    del writers[writing]
        return replace(target, ready=True)

    async def sweep_abandoned_broadcasts(self, now: float) -> int:
        """Delete broadcasts a failure left half-written (never sent, never to be); return how many.

        ``preparing`` ones created ``ABANDONED_AFTER`` before ``now`` (without an
        Idempotency-Key) or ``KEYED_ABANDONED_AFTER`` (with one), except those this
        process is still writing. They are first marked abandoned (``preparing = 2``)
        and lose their key, in one transaction, so no retry can resume one while its
        recipients are deleted, ``broadcast_chunk`` per transaction like their writing.
        """
        async with self._transaction() as db:
            rows = await db.execute_fetchall(
                # "preparing AND": what lets SQLite use the partial index broadcasts_preparing.
                "SELECT id FROM broadcasts WHERE preparing AND preparing = 1 AND created_at <= ?1 - ?2 "
                "AND (idempotency_key IS NULL OR created_at <= ?1 - ?3)",
                (now, ABANDONED_AFTER, KEYED_ABANDONED_AFTER),
            )
            writing = self._writers()
            abandoned = [str(bid) for (bid,) in rows if str(bid) not in writing]
            await db.executemany("UPDATE broadcasts SET preparing = 2, idempotency_key = NULL WHERE id = ?",
                                 [(bid,) for bid in abandoned])
        # Also those a sweep cut short before (a crash, a failed write).
        for (bid,) in await self._rows("SELECT id FROM broadcasts WHERE preparing AND preparing = 2"):
            while True:
                async with self._transaction() as db:
                    cursor = await db.execute(
                        "DELETE FROM broadcast_recipients WHERE broadcast_id = ?1 AND customer IN (SELECT customer "
                        "FROM broadcast_recipients WHERE broadcast_id = ?1 LIMIT ?2)",
                        (bid, self.broadcast_chunk),
                    )
                    if cursor.rowcount == 0:
                        await db.execute("DELETE FROM broadcasts WHERE id = ? AND preparing = 2", (bid,))
                        break
        return len(abandoned)

    async def broadcast(self, broadcast_id: str) -> Broadcast | None:
        return _first(await self._rows(f"{_BROADCAST} WHERE id = ?", (broadcast_id,)))

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
            "WHERE r.broadcast_id = b.id AND r.status = 'pending') AND NOT b.preparing ORDER BY b.created_at, b.id"
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


async def _set_recipient(db: aiosqlite.Connection, broadcast_id: str, customer: str, status: str) -> None:
    await db.execute(
        "UPDATE broadcast_recipients SET status = ? WHERE broadcast_id = ? AND customer = ?",
        (status, broadcast_id, customer),
    )


async def _insert_broadcast(db: aiosqlite.Connection, spec: Broadcast, idempotency_key: str, preparing: bool) -> None:
    await db.execute(
        "INSERT INTO broadcasts (id, channel, business, flow, audience, text, media, state, variables, "
        "media_base, idempotency_key, created_at, recipients, preparing) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            spec.id, spec.channel, spec.business, spec.flow, spec.audience, spec.text, json.dumps(list(spec.media)),
            spec.state, json.dumps(spec.variables), spec.media_base, idempotency_key or None, spec.created_at,
            spec.recipients, preparing,
        ),
    )


_BROADCAST = (
    "SELECT id, channel, business, flow, created_at, audience, text, media, state, variables, media_base, "
    "recipients, preparing FROM broadcasts"
)


async def _broadcast_by_key(db: aiosqlite.Connection, idempotency_key: str) -> Broadcast | None:
    return _first(await db.execute_fetchall(f"{_BROADCAST} WHERE idempotency_key = ?", (idempotency_key,)))


def _first(rows: Iterable[Sequence[Any]]) -> Broadcast | None:
    for bid, channel, business, flow, created, audience, text, media, state, variables, base, *rest in rows:
        recipients, preparing = rest
        return Broadcast(
            str(bid), str(channel), str(business), str(flow), float(created), str(audience), str(text),
            tuple(json.loads(media)), str(state), dict(json.loads(variables)), str(base), str(recipients),
            not preparing,
        )
    return None

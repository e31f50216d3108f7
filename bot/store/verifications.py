"""Verification codes on SQLite (part of ``ApiStoreMixin``); the rules (hashing,
attempts, limits) are bot.api.verify's.

A code and its text are written in one transaction that decides consent first
(bot.store.api_base), so no code is stored for a number that cannot get it.
"""

from __future__ import annotations

from collections.abc import Callable

from bot.store.api_base import OPTED_OUT, QUEUED, ApiMixinBase, consent
from bot.store.records import Verification
from bot.types import Reply

__all__ = ["VerificationsMixin"]


class VerificationsMixin(ApiMixinBase):
    async def create_verification(self, record: Verification, reply: Reply, now: float) -> str:
        """Store a code (hashed) and queue its text; ``opted_out`` writes nothing.

        An earlier pending code for the same number is cancelled: only the
        latest code texted can be the right one.
        """
        async with self._transaction() as db:
            if await consent(db, record.customer, record.business, None) == OPTED_OUT:
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

    async def record_attempt(self, verification_id: str, approved: bool, now: Callable[[], float]) -> bool:
        """Count one check; False when the code was no longer open (raced, used up, decided, expired).

        ``now`` is read once the write lock is held: a check that waited for it
        (behind a broadcast's chunk, say) is judged at the time it is written,
        so a code that expired meanwhile is never approved.
        """
        async with self._transaction() as db:
            cursor = await db.execute(
                "UPDATE verifications SET attempts = attempts + 1, status = CASE WHEN ? THEN 'approved' "
                "WHEN attempts + 1 >= max_attempts THEN 'failed' ELSE 'pending' END "
                "WHERE id = ? AND status = 'pending' AND attempts < max_attempts AND expires_at > ?",
                (approved, verification_id, now()),
            )
            return cursor.rowcount == 1

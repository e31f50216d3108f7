"""Parts of concatenated SMS that a carrier delivers one by one (Vonage SMS API).

Each part is stored as it arrives (a retried part is ignored: the key includes
the part number); when the last missing part lands, the parts are returned in
order and textdesk handles the joined text as one message. Parts are kept
with the conversation's numbers so two customers' references never mix.
"""

from __future__ import annotations

import asyncio
import sqlite3

import aiosqlite

from bot.store.base import StoreError
from bot.types import InboundMessage

__all__ = ["ConcatMixin"]


class ConcatMixin:
    _write_lock: asyncio.Lock

    @property
    def db(self) -> aiosqlite.Connection:  # provided by SQLiteStore
        raise NotImplementedError

    async def add_concat_part(self, message: InboundMessage, now: float) -> list[str] | None:
        """Store one part; return all parts' texts in order once every part is in."""
        assert message.concat is not None
        reference, total, part = message.concat
        key = (message.channel, message.customer, message.business, reference)
        async with self._write_lock:
            try:
                await self.db.execute(
                    "INSERT INTO concat_parts (channel, customer, business, reference, total, part, provider_id, "
                    "body, received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                    (*key, total, part, message.provider_id, message.text, now),
                )
                rows = await self.db.execute_fetchall(
                    "SELECT part, body FROM concat_parts WHERE channel = ? AND customer = ? AND business = ? "
                    "AND reference = ? ORDER BY part",
                    key,
                )
            except sqlite3.Error as exc:
                raise StoreError(str(exc)) from exc
        parts = {int(number): str(body) for number, body in rows}
        if set(parts) != set(range(1, total + 1)):
            return None
        return [parts[number] for number in range(1, total + 1)]

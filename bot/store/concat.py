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

    async def add_concat_part(self, message: InboundMessage, now: float) -> tuple[list[str], str] | None:
        """Store one part; once every part is in, return their texts in order and part 1's id.

        The parts are then deleted: a phone reuses its small reference numbers,
        and a later message with the same reference must start afresh. The
        joined message is known by part 1's own carrier id, unique per message.
        """
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
                    "SELECT part, body, provider_id FROM concat_parts WHERE channel = ? AND customer = ? "
                    "AND business = ? AND reference = ? ORDER BY part",
                    key,
                )
                parts = {int(number): (str(body), str(pid)) for number, body, pid in rows}
                if set(parts) != set(range(1, total + 1)):
                    return None
                await self.db.execute(
                    "DELETE FROM concat_parts WHERE channel = ? AND customer = ? AND business = ? AND reference = ?",
                    key,
                )
            except sqlite3.Error as exc:
                raise StoreError(str(exc)) from exc
        return [parts[number][0] for number in range(1, total + 1)], parts[1][1]

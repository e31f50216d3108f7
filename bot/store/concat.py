"""Parts of concatenated SMS that a carrier delivers one by one (Vonage SMS API).

Each part is stored as it arrives (a retried part is ignored: the key includes
the part number); when the last missing part lands, the parts are returned in
order and textdesk handles the joined text as one message. Parts are kept
with the conversation's numbers so two customers' references never mix.

Why parts outlive the join: the joined turn is committed afterwards, in its
own transaction (bot.service._join_parts). Had the parts gone at the join, a
failed or interrupted commit would leave the carrier retrying only the last
part, and the parts it was already given a 2xx for would be lost. So parts go
once they cannot belong to the message arriving now (a retried part, known by
its carrier id, changes nothing):
- all of a reference's parts, once their joined turn is recorded
  (``concat:<part 1's id>``, bot.service's name): a phone reuses its 8-bit
  references, and a new message must never be joined with an older one's parts;
- a part stored with another total, or under this part number with another
  carrier id: an older message's, for the same reason;
- parts older than ``PARTS_KEPT`` (a part that never came, a part retried
  after the join's parts went): swept on every part, by index.
"""

from __future__ import annotations

import aiosqlite

from bot.store.api_base import ApiMixinBase
from bot.types import InboundMessage

__all__ = ["JOINED_PREFIX", "PARTS_KEPT", "ConcatMixin"]

# The parts of one SMS leave the phone together; a day covers a carrier's
# retries of a webhook we answered with 503, and a phone needs 256 more long
# messages before it reuses a reference.
PARTS_KEPT = 86_400.0
# How bot.service._join_parts names the joined message (part 1's carrier id after it).
JOINED_PREFIX = "concat:"

_KEY = "channel = ?1 AND customer = ?2 AND business = ?3 AND reference = ?4"


class ConcatMixin(ApiMixinBase):
    async def add_concat_part(self, message: InboundMessage, now: float) -> tuple[list[str], str] | None:
        """Store one part; once every part is in, return their texts in order and part 1's id.

        A part arriving again once they are all in (a retry) returns them again:
        the joined id then finds the turn already recorded, or records it now.
        """
        assert message.concat is not None
        reference, total, part = message.concat
        key = (message.channel, message.customer, message.business, reference)
        async with self._transaction() as db:
            await db.execute("DELETE FROM concat_parts WHERE received_at < ?", (now - PARTS_KEPT,))
            # The reference's parts, read once: what this part changes is known here.
            parts = {
                int(number): (int(of), str(body), str(pid))
                for number, of, body, pid in await db.execute_fetchall(
                    f"SELECT part, total, body, provider_id FROM concat_parts WHERE {_KEY}", key
                )
            }
            if message.provider_id not in {pid for _, _, pid in parts.values()}:  # a retry changes nothing
                first = parts[1][2] if 1 in parts else ""
                if await _drop_stale(db, key, total, part, first):
                    parts.clear()
                else:
                    parts = {number: p for number, p in parts.items() if p[0] == total and number != part}
            cursor = await db.execute(
                "INSERT INTO concat_parts (channel, customer, business, reference, total, part, provider_id, "
                "body, received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                (*key, total, part, message.provider_id, message.text, now),
            )
            if cursor.rowcount == 1:
                parts[part] = (total, message.text, message.provider_id)
        if set(parts) != set(range(1, total + 1)):
            return None
        return [parts[number][1] for number in range(1, total + 1)], parts[1][2]


async def _drop_stale(db: aiosqlite.Connection, key: tuple[str, ...], total: int, part: int, first: str) -> bool:
    """Drop the parts of this reference that cannot belong with a new part ``part`` of ``total``.

    True when that was all of them: part 1 (``first``, its carrier id) made a message already recorded.
    """
    if first:
        handled = await db.execute_fetchall(
            "SELECT 1 FROM inbound WHERE channel = ? AND provider_id = ?", (key[0], JOINED_PREFIX + first)
        )
        if handled:  # the message these parts made is recorded: this one reuses its reference
            await db.execute(f"DELETE FROM concat_parts WHERE {_KEY}", key)
            return True
    await db.execute(f"DELETE FROM concat_parts WHERE {_KEY} AND (total != ?5 OR part = ?6)", (*key, total, part))
    return False

"""Business-initiated messages on SQLite (mixed into ``SQLiteStore``): audiences,
broadcasts, conversation starts and verification codes.

One mixin per thing the API serves, over what they share:
- bot.store.api_base: the write transaction, and the consent verdict taken in
  it (a STOP committed a moment earlier always wins; what "opted in" means);
- bot.store.audiences: audience subscriptions;
- bot.store.outreach: queueing a message or flow start, and broadcasts;
- bot.store.verifications: verification codes.

Every message queued here carries an ``origin`` (``broadcast:<id>``,
``conversation``, ``verification:<id>``), so what was sent for what can be
read back from the outbound rows.
"""

from __future__ import annotations

from bot.store.audiences import AudiencesMixin
from bot.store.outreach import OutreachMixin
from bot.store.records import Broadcast, BroadcastProgress, Subscriber, Verification
from bot.store.verifications import VerificationsMixin

__all__ = ["ApiStoreMixin", "Broadcast", "BroadcastProgress", "Subscriber", "Verification"]


class ApiStoreMixin(AudiencesMixin, OutreachMixin, VerificationsMixin):
    """Every API-facing store operation; needs ``self.db`` (aiosqlite connection) and ``self._write_lock``."""

"""The values the store takes and returns: frozen dataclasses, no I/O.

They live apart from the interface (bot.store.base) so that the interface,
its SQLite implementation and the API can all import them without importing
each other: the API's records used to sit beside their SQLite code, which
imports the interface, and the interface could only name them for the type
checker.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field

from bot.types import Reply, Session

__all__ = [
    "Broadcast",
    "BroadcastProgress",
    "ConsentChange",
    "ConsentEvent",
    "LoggedMessage",
    "OutboxItem",
    "ProcessedTurn",
    "ReceiptOutcome",
    "Subscriber",
    "TurnState",
    "Verification",
]

# -- turns, the message log and the outbox ------------------------------------


@dataclass(frozen=True, slots=True)
class LoggedMessage:
    """One row of a conversation's message log, inbound or outbound."""

    direction: str  # "in" | "out"
    provider_id: str
    text: str
    media: tuple[str, ...]
    at: float


@dataclass(frozen=True, slots=True)
class ConsentChange:
    """A consent event to record with a turn: ``opt_out`` or ``opt_in``, and why."""

    event: str
    source: str  # e.g. "keyword STOP", "carrier OptOutType STOP", "api"


@dataclass(frozen=True, slots=True)
class ConsentEvent:
    """One row of the consent ledger."""

    event: str
    source: str
    channel: str
    provider_id: str
    text: str
    at: float


@dataclass(frozen=True, slots=True)
class ProcessedTurn:
    """What an already-handled carrier message id was answered with."""

    replies: tuple[Reply, ...]
    kind: str  # "flow" | "compliance" | "suppressed"


@dataclass(frozen=True, slots=True)
class OutboxItem:
    """A queued reply waiting for the outbox worker."""

    id: int
    channel: str
    customer: str
    business: str
    text: str
    media: tuple[str, ...]
    attempts: int
    created_at: float
    kind: str = "flow"  # "compliance": an opt-out/opt-in/HELP reply, sent even to an opted-out number


@dataclass(frozen=True, slots=True)
class ReceiptOutcome:
    """What a receipt did: the outbound row it matched, and whether it moved."""

    customer: str
    business: str
    status: str
    updated: bool


@dataclass(frozen=True, slots=True)
class TurnState:
    """What a turn reads before deciding: an earlier claim, consent, the session."""

    processed: ProcessedTurn | None
    opted_out: bool
    session: Session | None


# -- business-initiated messages (API; see bot.store.api_store) ----------------


@dataclass(frozen=True, slots=True)
class Subscriber:
    customer: str
    business: str
    audience: str
    source: str
    subscribed_at: float


@dataclass(frozen=True, slots=True)
class Broadcast:
    """What a broadcast sends: a message (``text``/``media``) or a flow start (``state``)."""

    id: str
    channel: str
    business: str
    flow: str
    created_at: float
    audience: str = ""
    text: str = ""
    media: tuple[str, ...] = ()
    state: str = ""
    variables: dict[str, str] = field(default_factory=dict)
    media_base: str = ""  # absolute URL of the media folder, for sends away from any request
    # ``digest`` of the numbers requested; "" for an audience (its members are read anew
    # by a retry) and for broadcasts stored before it was kept.
    recipients: str = ""
    # False while its recipients are still being written (bot.store.outreach): never fed.
    ready: bool = True

    @staticmethod
    def digest(numbers: Iterable[str]) -> str:
        """The recipients as a set (a retry may list them in another order)."""
        return hashlib.sha256("\n".join(sorted(set(numbers))).encode()).hexdigest()

    def differences(self, other: Broadcast) -> list[str]:
        """What a request for ``other`` asks differently from this one (API field names).

        Ids, times and the media folder's URL (the Host a retry came through) are no part of it.
        """
        fields = {
            "flow": (self.flow, other.flow), "from": (self.business, other.business),
            "channel": (self.channel, other.channel), "audience": (self.audience, other.audience),
            "state": (self.state, other.state), "text": (self.text, other.text), "media": (self.media, other.media),
            "variables": (self.variables, other.variables),
            # Only when both are known (see ``recipients``).
            "numbers": (self.recipients, other.recipients) if self.recipients and other.recipients else ("", ""),
        }
        return [name for name, (mine, theirs) in fields.items() if mine != theirs]


@dataclass(frozen=True, slots=True)
class BroadcastProgress:
    """Recipients by where they are; the counts add up to ``total``."""

    total: int = 0
    pending: int = 0  # not yet queued (waiting for the pacing window)
    queued: int = 0
    sent: int = 0
    delivered: int = 0
    failed: int = 0
    skipped_opted_out: int = 0
    skipped_no_consent: int = 0


@dataclass(frozen=True, slots=True)
class Verification:
    id: str
    channel: str
    customer: str
    business: str
    code_hash: bytes
    salt: bytes
    created_at: float
    expires_at: float
    max_attempts: int
    attempts: int = 0
    status: str = "pending"  # pending | approved | canceled | failed

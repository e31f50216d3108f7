"""The storage interface every backend implements (SQLite now, PostgreSQL later).

One inbound message is one *turn*: the engine's outcome is written by
``commit_turn`` in a single transaction (the claim on the carrier's message id,
the inbound log row, the outbound replies and the new session), so after a
crash either all of it is there or none of it, and a carrier retry of the same
message id finds the stored replies instead of advancing the conversation.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence

# The value types are defined in bot.store.records; they are re-exported here,
# where the store's modules and callers have always imported them from.
from bot.store.records import (
    Broadcast,
    BroadcastProgress,
    ConsentChange,
    ConsentEvent,
    LoggedMessage,
    OutboxItem,
    ProcessedTurn,
    ReceiptOutcome,
    Subscriber,
    TurnState,
    Verification,
)
from bot.types import ConversationKey, InboundMessage, Reply, Session

__all__ = [
    "ConsentChange",
    "ConsentEvent",
    "LoggedMessage",
    "OutboxItem",
    "ProcessedTurn",
    "ReceiptOutcome",
    "Store",
    "StoreError",
    "TurnState",
]


class StoreError(Exception):
    """The store cannot serve right now (locked, full, read-only, closed)."""


class Store(ABC):
    """Conversations, the message log and idempotency claims."""

    @abstractmethod
    async def open(self) -> None:
        """Connect and bring the schema up to date."""

    @abstractmethod
    async def close(self) -> None:
        """Flush and close; safe to call twice."""

    @abstractmethod
    async def ping(self) -> None:
        """Raise ``StoreError`` unless the store can answer a query now."""

    @abstractmethod
    async def ping_write(self) -> None:
        """Raise ``StoreError`` unless the store can take a write now."""

    @abstractmethod
    async def load_turn(self, message: InboundMessage) -> TurnState:
        """``processed``, ``is_opted_out`` and ``get_session`` for one message, read together."""

    @abstractmethod
    async def get_session(self, key: ConversationKey) -> Session | None:
        """The stored conversation, or ``None`` when there is none."""

    @abstractmethod
    async def processed(self, channel: str, provider_id: str) -> ProcessedTurn | None:
        """How this carrier message id was already handled, or ``None`` if unseen."""

    async def processed_replies(self, channel: str, provider_id: str) -> tuple[Reply, ...] | None:
        """The replies already given to this carrier message id, or ``None`` if unseen."""
        turn = await self.processed(channel, provider_id)
        return None if turn is None else turn.replies

    @abstractmethod
    async def is_opted_out(self, customer: str, business: str) -> bool:
        """Whether the customer has opted out of messages from this business number."""

    @abstractmethod
    async def owed_while_opted_out(self, item_id: int) -> bool | None:
        """For a queued outbound row: ``None`` if its recipient is not opted out; else
        whether it is owed anyway (the confirmation of the current opt-out, or a
        compliance reply such as HELP queued after it)."""

    @abstractmethod
    async def consent_history(self, customer: str, business: str) -> list[ConsentEvent]:
        """The consent ledger for one customer and business number, oldest first."""

    @abstractmethod
    async def commit_turn(
        self,
        message: InboundMessage,
        session: Session | None,
        replies: tuple[Reply, ...],
        decision: str,
        now: float,
        *,
        kind: str = "flow",
        consent: ConsentChange | None = None,
        forget_session: bool = False,
        queue: bool = False,
    ) -> bool:
        """Record one handled message atomically.

        Returns ``False`` (and writes nothing) when the message id was already
        claimed: the caller then answers with ``processed``.
        ``session`` is ``None`` when the conversation did not change;
        ``forget_session`` deletes it (the next message starts afresh).
        ``consent`` is written to the ledger in the same transaction.
        ``queue`` puts the replies in the outbox (async carriers) instead of
        marking them as answered in the webhook response.
        """

    @abstractmethod
    async def messages(self, key: ConversationKey, limit: int = 100) -> list[LoggedMessage]:
        """The conversation's log, oldest first (at most ``limit`` newest rows)."""

    # -- outbox and receipts (see bot.outbox) ------------------------------

    @abstractmethod
    async def due_outbox(self, now: float, limit: int = 100) -> list[OutboxItem]:
        """Queued replies whose next attempt is due, oldest first."""

    @abstractmethod
    async def outbox_depth(self) -> int:
        """How many replies wait in the outbox."""

    @abstractmethod
    async def mark_sent(self, item_id: int, provider_id: str, now: float) -> None:
        """The carrier accepted the message and gave it ``provider_id``."""

    @abstractmethod
    async def chunks_sent(self, item_id: int) -> int:
        """How many requests of a row's send the carrier has accepted (``mark_parts_sent``), 0 if none."""

    @abstractmethod
    async def mark_parts_sent(
        self, item_id: int, chunk: int, provider_ids: Sequence[str], now: float, *, done: bool, error: str = ""
    ) -> None:
        """Request ``chunk`` of a row's send was accepted as the messages ``provider_ids``.

        For a reply the carrier takes in several requests (``ChunkedSends``) or sends as
        several messages with receipts of their own (the Vonage SMS API's parts): each id
        is a part whose receipts ``record_receipt`` combines into the row's status. An
        empty id still records the request as accepted. ``done``: that was the last
        request, and the row is sent; with ``error`` it is failed instead (the carrier
        accepted only these parts), in the same transaction. A row no longer queued is
        left as it is.
        """

    @abstractmethod
    async def mark_retry(self, item_id: int, error: str, next_attempt_at: float) -> None:
        """A send failed in a way worth retrying at ``next_attempt_at``."""

    @abstractmethod
    async def mark_failed(self, item_id: int, error: str, status: str = "failed") -> None:
        """Give up on a message (``failed``) or drop it for an opted-out number (``suppressed``)."""

    @abstractmethod
    async def record_receipt(
        self, channel: str, provider_id: str, status: str, error: str, now: float
    ) -> ReceiptOutcome | None:
        """Apply a delivery receipt; ``None`` when no outbound message has that id."""

    @abstractmethod
    async def record_consent(self, customer: str, business: str, change: ConsentChange, now: float) -> None:
        """Write a consent event that did not come with an inbound message (receipts, API)."""

    @abstractmethod
    async def add_concat_part(self, message: InboundMessage, now: float) -> tuple[list[str], str] | None:
        """Store one part of a concatenated SMS; once complete, the texts in order and part 1's id."""

    # -- flow versions (hot reload, `lint --against`) -----------------------

    @abstractmethod
    async def save_flow_version(self, flow: str, version: str, path: str, source: str, now: float) -> None:
        """Remember a flow version's source the first time it is served."""

    @abstractmethod
    async def flow_source(self, flow: str, version: str) -> str | None:
        """The source of a flow version served before, if recorded."""

    @abstractmethod
    async def conversation_states(self) -> list[tuple[str, str, str, int]]:
        """(flow, flow version, state, count) of the stored conversations."""

    # -- business-initiated messages (API; see bot.store.api_store) ---------

    @abstractmethod
    async def subscribe(
        self, audience: str, customer: str, business: str, source: str, now: float,
        origin: tuple[str, str, str] = ("", "", ""),
    ) -> str:
        """Subscribe (ledger-recorded): ``subscribed``, ``already`` or ``opted_out`` (refused)."""

    @abstractmethod
    async def subscribe_many(
        self, audience: str, customers: Sequence[str], business: str, source: str, now: float
    ) -> list[str]:
        """``subscribe`` for each number, outcomes in order; written in chunks, each its own
        transaction, so turns get the database in between and a retry writes only what is missing."""

    @abstractmethod
    async def unsubscribe(self, audience: str, customer: str, business: str, source: str, now: float) -> str:
        """Unsubscribe (ledger-recorded): ``removed``; ``not_subscribed``, or ``opted_out`` when
        a STOP newer than the subscription ended it (nothing written then). Decided in the
        removal's own transaction."""

    @abstractmethod
    async def subscribers(self, audience: str, business: str, limit: int = 100, after: str = "") -> list[Subscriber]:
        """Current subscribers ordered by number, after the cursor ``after``."""

    @abstractmethod
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
        """Queue business-initiated replies (and a session) unless consent forbids, atomically."""

    @abstractmethod
    async def queued_count(self, origin: str) -> int:
        """Outbound rows of this origin still waiting in the outbox."""

    @abstractmethod
    async def create_broadcast(self, spec: Broadcast, numbers: Sequence[str], idempotency_key: str = "") -> Broadcast:
        """Record a broadcast and its recipients (or return the one made with the same key)."""

    @abstractmethod
    async def broadcast(self, broadcast_id: str) -> Broadcast | None:
        """A broadcast by id."""

    @abstractmethod
    async def pending_recipients(self, broadcast_id: str, limit: int) -> list[str]:
        """Recipients not yet queued nor skipped, in list order."""

    @abstractmethod
    async def unfinished_broadcasts(self) -> list[str]:
        """Ids of broadcasts with pending recipients, oldest first."""

    @abstractmethod
    async def sweep_abandoned_broadcasts(self, now: float) -> int:
        """Delete broadcasts a failure left ``preparing`` (never to be sent) once old enough,
        never one still being written; return how many."""

    @abstractmethod
    async def broadcast_progress(self, broadcast_id: str) -> BroadcastProgress:
        """Recipients counted by state (pending, queued, sent, delivered, failed, skipped)."""

    @abstractmethod
    async def create_verification(self, record: Verification, reply: Reply, now: float) -> str:
        """Store a hashed code and queue its text: ``queued`` or ``opted_out`` (nothing written)."""

    @abstractmethod
    async def verifications_since(self, customer: str, business: str, since: float) -> int:
        """How many codes were created for this number since ``since``."""

    @abstractmethod
    async def latest_verification(self, customer: str, business: str) -> Verification | None:
        """The newest code for this number, whatever its status."""

    @abstractmethod
    async def record_attempt(self, verification_id: str, approved: bool, now: Callable[[], float]) -> bool:
        """Count one check of an open, unexpired code at ``now()`` (read when the write is made);
        False when it was no longer open."""

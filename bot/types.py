"""Carrier-neutral types shared by the engine, the store and the carriers.

Nothing here knows a carrier's field names: each adapter under ``bot.carriers``
translates its wire format into these objects and back.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["ConversationKey", "InboundMedia", "InboundMessage", "Reply", "Session"]


@dataclass(frozen=True, slots=True)
class InboundMedia:
    """One attachment of an inbound MMS, as the carrier announced it."""

    url: str
    content_type: str = ""


@dataclass(frozen=True, slots=True)
class InboundMessage:
    """A customer's text (and media) as every carrier adapter produces it.

    ``provider_id`` is the carrier's own message id; together with ``channel``
    it is the idempotency key, so a carrier retry never advances a conversation.
    """

    channel: str
    provider_id: str
    customer: str
    business: str
    text: str
    media: tuple[InboundMedia, ...] = ()
    # A carrier-side compliance verdict (e.g. Twilio Advanced Opt-Out's
    # ``OptOutType``): "STOP", "START", "HELP" or "" when the carrier said nothing.
    carrier_opt_out: str = ""
    # One part of a concatenated SMS that the carrier did not reassemble
    # (Vonage SMS API): (reference, total parts, this part's number from 1).
    # textdesk joins the parts before the flow sees the message.
    concat: tuple[str, int, int] | None = None


@dataclass(frozen=True, slots=True)
class Reply:
    """One outgoing message: a body and, for MMS, media references.

    A media reference is either a file name relative to the flows' media folder
    (served by textdesk at ``<public-url>/media/<name>``) or an absolute
    ``https://`` URL; carriers turn both into absolute URLs when rendering.
    """

    text: str
    media: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {"text": self.text, "media": list(self.media)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Reply:
        return cls(text=str(data.get("text", "")), media=tuple(str(m) for m in data.get("media", ())))


@dataclass(frozen=True, slots=True)
class ConversationKey:
    """A conversation is one customer talking to one business number on one channel."""

    channel: str
    customer: str
    business: str


@dataclass(frozen=True, slots=True)
class Session:
    """Everything the engine needs to continue a conversation.

    Immutable: the engine returns a new ``Session`` instead of mutating, so a
    failed write can never leave a half-updated conversation in memory.
    """

    key: ConversationKey
    flow: str
    flow_version: str
    state: str
    variables: dict[str, str] = field(default_factory=dict)
    # FAQ ids offered in a pending "Did you mean: 1) ... 2) ..." question.
    pending: tuple[str, ...] = ()
    created_at: float = 0.0
    updated_at: float = 0.0

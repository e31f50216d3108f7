"""What every handled message leaves behind: one log line and the metrics.

Kept apart from the service (which decides what to answer) because it is the
operators' contract: the log event's fields and the metric names are what
dashboards and alerts read. Phone numbers are masked; the conversation id is a
hash, stable and safe to log.
"""

from __future__ import annotations

import functools
import hashlib
import logging
from typing import TYPE_CHECKING

from bot.logmask import mask
from bot.metrics import Metrics
from bot.sms import analyze
from bot.types import InboundMessage

if TYPE_CHECKING:
    from bot.service import Handled

__all__ = ["conversation_id", "observe"]

log = logging.getLogger("textdesk.conversation")


def conversation_id(message: InboundMessage) -> str:
    """A stable, non-reversible id for a conversation, safe to log."""
    return _conversation_id(message.channel, message.customer, message.business)


@functools.lru_cache(maxsize=4096)
def _conversation_id(channel: str, customer: str, business: str) -> str:
    # Conversations go on for several turns, and the hash was a tenth of this
    # module's time per message: the latest conversations' ids are kept.
    return hashlib.sha256(f"{channel}|{customer}|{business}".encode()).hexdigest()[:16]


@functools.lru_cache(maxsize=4096)
def _logged(channel: str, customer: str, business: str) -> tuple[str, str, str]:
    """The conversation as its log line names it: masked numbers and its id.

    One memo lookup per message instead of three calls (the same conversations
    come back turn after turn, and the line is on every message's path)."""
    return mask(customer), mask(business), _conversation_id(channel, customer, business)


@functools.lru_cache(maxsize=4096)
def _segments(text: str) -> int:
    """SMS segments of a reply, for the log line. Flow replies repeat (the menu,
    the FAQ answers; ``bot.replies`` memoises preparing them too), and the
    analysis is a pure function of the text."""
    return analyze(text).segments


def observe(metrics: Metrics, message: InboundMessage, handled: Handled, elapsed: float, queue: bool) -> None:
    """One log line and the metrics for every handled message."""
    outcome = "duplicate" if handled.duplicate else handled.kind
    metrics.child(metrics.messages_in, message.channel, outcome).inc()
    metrics.latency.observe(elapsed)
    if not handled.duplicate and handled.replies:
        replied = "queued" if queue else "replied"
        metrics.child(metrics.messages_out, message.channel, replied).inc(len(handled.replies))
    decision = handled.decision
    if handled.faq_result and not handled.duplicate:
        metrics.child(metrics.faq, handled.faq_result).inc()
    if handled.consent_event and not handled.duplicate:
        metrics.child(metrics.consent, handled.consent_event).inc()
    if handled.kind == "throttled":
        metrics.throttled.inc()
    if not log.isEnabledFor(logging.INFO):
        return  # e.g. --log-level WARNING: nobody reads the event, do not build it
    customer, business, conversation = _logged(message.channel, message.customer, message.business)
    event = {
        "carrier": message.channel,
        "message_id": message.provider_id,
        "customer": customer,
        "business": business,
        "conversation": conversation,
        "flow": handled.flow,
        "outcome": outcome,
        "state_before": decision.state_from if decision else "",
        "state_after": decision.state_to if decision else "",
        "decision": decision.kind if decision else "",
        "faq": decision.faq_id if decision else "",
        "score": decision.score if decision else None,
        "reply_segments": [_segments(r.text) for r in handled.replies],
        "latency_ms": round(elapsed * 1000, 3),
    }
    log.info(
        "%s %s from %s: %s %s",
        message.channel,
        message.provider_id,
        customer,
        outcome,
        handled.explained,
        extra={"event": event},
    )

"""What every carrier's sending shares: which answers to retry, and replies sent in chunks.

The outbox (bot.outbox) applies both to whichever carrier it sends through,
so they live apart from any one adapter.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from bot.types import Reply

__all__ = ["ChunkedSends", "retryable_status"]


def retryable_status(status: int) -> bool:
    """Whether a carrier REST answer with this HTTP status is worth sending again.

    The one rule for every carrier, so no adapter is stricter than another by
    accident: 408 (the carrier timed our request out), 429 (throttled) and any
    5xx say "try again later"; below 100 means no HTTP answer at all (a send
    that never got one). Every other status is the carrier refusing this
    request, and the same request would be refused again. An adapter may
    retry more (an error in a 200 body, as the Vonage SMS API's "throttled"),
    never less: the outbox applies this rule to every answer.
    """
    return status < 100 or status in (408, 429) or status >= 500


@runtime_checkable
class ChunkedSends(Protocol):
    """A carrier whose send API takes less text than a prepared reply may hold.

    The Vonage Messages API takes 1,000 characters of SMS text, and a reply of
    ``max_segments: 10`` has up to 1,530. The outbox sends such a reply as the
    messages ``chunks`` gives, in order, recording each accepted one, so that a
    retry sends only what was not accepted (bot.outbox).
    """

    def chunks(self, reply: Reply) -> tuple[Reply, ...]:
        """``reply`` as messages the API takes, in order; ``(reply,)`` when it fits."""
        ...

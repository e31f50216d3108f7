"""The broadcast feeder: moves recipients into the outbox a few at a time.

Why not queue a whole broadcast at once: the outbox sends in id order and
paces each sender number, so 10,000 queued promotions would hold back every
support reply from that number for hours. The feeder keeps only about two
seconds' worth of a broadcast (at the sender's rate) waiting in the outbox;
replies to customers slip in between, and pacing stays the outbox's job.

Each recipient is decided once, in one transaction that checks consent and
writes its outbound rows (``Store.queue_messages`` with ``recipient_of``), so
a restart resumes from the recipients still ``pending`` and never queues a
number twice. ``run_once`` is what tests drive with a virtual clock.

Each pass (at most once a minute on the service's clock) also sweeps broadcasts
a failure left half-written, which nothing would ever send nor finish
(``Store.sweep_abandoned_broadcasts``: old enough, and not being written).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math

from bot.api.outreach import send_message, start_conversation
from bot.flows import Flow, FlowSet
from bot.outbox import RateLimiter
from bot.service import ConversationService
from bot.store.api_store import Broadcast
from bot.types import Reply

__all__ = ["BroadcastFeeder", "broadcast_flow", "waiting_reason"]

log = logging.getLogger("textdesk.broadcast")


def broadcast_flow(spec: Broadcast, flows: FlowSet) -> Flow:
    """The flow a broadcast sends with now; renamed since, the default flow (its settings)."""
    return flows.flows.get(spec.flow, flows.default)


def waiting_reason(spec: Broadcast, flows: FlowSet) -> str | None:
    """Why the feeder holds ``spec`` back (None: it does not).

    An editor removed the state a flow-start broadcast starts at: the feeder
    sends nothing rather than the wrong thing, and resumes when the state is
    back. ``GET /api/broadcasts/{id}`` says so, or a client would wait forever.
    """
    flow = broadcast_flow(spec, flows)
    if not spec.state or spec.state in flow.states:
        return None
    if flow.name != spec.flow:
        return (f"flow '{spec.flow}' is gone (removed or renamed), and the default flow '{flow.name}' has no state "
                f"'{spec.state}'; nothing more is sent until a flow named '{spec.flow}' has it again")
    return (f"flow '{flow.name}' has no state '{spec.state}' (removed since the broadcast was created); "
            "nothing more is sent until the flow has it again")


class BroadcastFeeder:
    def __init__(
        self, service: ConversationService, limiter: RateLimiter, ahead: float = 2.0, minimum: int = 10
    ) -> None:
        self.service = service
        self.limiter = limiter
        self.ahead = ahead  # seconds of sending to keep queued per broadcast
        self.minimum = minimum
        self.running = False
        self.sweep_every = 60.0  # seconds between sweeps of half-written broadcasts
        self._next_sweep = -math.inf
        self._waiting: set[str] = set()  # broadcast ids already logged as waiting (logged once, not every pass)

    def window(self, channel: str) -> int:
        return max(self.minimum, math.ceil(self.limiter.rate_for(channel) * self.ahead))

    async def run_once(self) -> int:
        """Top up every unfinished broadcast's share of the outbox; return recipients decided."""
        await self.sweep()
        decided = 0
        store = self.service.store
        for broadcast_id in await store.unfinished_broadcasts():
            spec = await store.broadcast(broadcast_id)
            if spec is None:  # pragma: no cover - listed a moment ago
                continue
            flow = broadcast_flow(spec, self.service.flows)
            reason = waiting_reason(spec, self.service.flows)
            if reason is not None:
                if spec.id not in self._waiting:
                    log.warning("broadcast %s waits: %s", spec.id, reason)
                    self._waiting.add(spec.id)
                continue
            if spec.id in self._waiting:
                log.warning("broadcast %s goes on: state '%s' is back in flow '%s'", spec.id, spec.state, flow.name)
                self._waiting.discard(spec.id)
            room = self.window(spec.channel) - await store.queued_count(f"broadcast:{spec.id}")
            while room > 0:
                batch = await store.pending_recipients(spec.id, room)
                if not batch:
                    break
                for customer in batch:
                    status = await self._one(spec, flow, customer)
                    decided += 1
                    room -= status == "queued"
        return decided

    async def sweep(self) -> int:
        """Delete half-written broadcasts that nothing can finish (not more than once per ``sweep_every``)."""
        now = self.service.clock.now()
        if now < self._next_sweep:
            return 0
        self._next_sweep = now + self.sweep_every
        removed = await self.service.store.sweep_abandoned_broadcasts(now)
        if removed:
            log.warning("removed %d broadcast(s) a failure left half-written (none of it was sent)", removed)
        return removed

    async def _one(self, spec: Broadcast, flow: Flow, customer: str) -> str:
        # An audience broadcast needs a current subscription to that audience;
        # a list of numbers, a current subscription to any audience (bot.store.api_base).
        audience = spec.audience or None
        origin = f"broadcast:{spec.id}"
        if not spec.state:
            return await send_message(
                self.service, flow, Reply(spec.text, spec.media), spec.channel, customer, spec.business,
                spec.media_base, origin=origin, kind="broadcast", require_opt_in=True, audience=audience,
                recipient_of=spec.id,
            )
        status, _ = await start_conversation(
            self.service, flow, spec.state, spec.channel, customer, spec.business, spec.variables,
            spec.media_base, origin=origin, kind="broadcast", require_opt_in=True, audience=audience,
            recipient_of=spec.id,
        )
        return status

    async def run(self, stop: asyncio.Event, interval: float = 0.5) -> None:
        """Feed until ``stop`` is set; errors are logged, never fatal."""
        self.running = True
        try:
            while not stop.is_set():
                try:
                    await self.run_once()
                except Exception:
                    log.exception("broadcast feeder pass failed; retrying")
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), interval)
        finally:
            self.running = False

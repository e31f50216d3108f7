"""Handling one inbound message end to end, carrier-neutral.

The order matters and is the same for every carrier:
1. take the conversation's lock (one message per customer at a time, FIFO);
2. a message id already handled returns its stored replies (carrier retry);
3. load the session, run the pure engine, then write everything in one
   transaction; only after COMMIT are the replies handed back to the carrier,
   so an acknowledged message is always a recorded one.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from bot.clock import Clock
from bot.engine import FlowEngine
from bot.flows import Flow, FlowSet
from bot.locks import KeyedLocks
from bot.logmask import mask
from bot.store import Store
from bot.types import ConversationKey, InboundMessage, Reply

__all__ = ["ConversationService", "Handled"]

log = logging.getLogger("textdesk.conversation")


@dataclass(frozen=True, slots=True)
class Handled:
    replies: tuple[Reply, ...]
    duplicate: bool = False
    flow: str = ""


class ConversationService:
    """Routes messages to flows and keeps conversations in the store."""

    def __init__(self, flows: FlowSet, store: Store, clock: Clock) -> None:
        self.store = store
        self.clock = clock
        self.locks = KeyedLocks()
        self.flows = flows
        self.engines = {flow.name: FlowEngine(flow) for flow in flows}

    def flow_for(self, business_number: str) -> Flow:
        return self.flows.for_number(business_number)

    async def handle(self, message: InboundMessage) -> Handled:
        key = ConversationKey(message.channel, message.customer, message.business)
        async with self.locks.hold(key):
            earlier = await self.store.processed_replies(message.channel, message.provider_id)
            if earlier is not None:
                log.info("duplicate %s %s: returning stored replies", message.channel, message.provider_id)
                return Handled(earlier, duplicate=True)
            flow = self.flow_for(message.business)
            engine = self.engines[flow.name]
            session = await self.store.get_session(key)
            if session is not None and session.flow != flow.name:
                session = None  # the number moved to another flow: start that flow afresh
            now = self.clock.now()
            outcome = engine.handle(key, session, message.text, now)
            explained = outcome.decision.explain()
            if outcome.faq_match is not None and outcome.decision.kind in ("faq", "ambiguous", "fallback"):
                explained += f" [{outcome.faq_match.explain()}]"
            stored = await self.store.commit_turn(message, outcome.session, outcome.replies, explained, now)
            if not stored:  # pragma: no cover - only another process could have claimed it
                return Handled(await self.store.processed_replies(message.channel, message.provider_id) or ())
            log.info(
                "%s %s from %s to %s flow=%s %s",
                message.channel,
                message.provider_id,
                mask(message.customer),
                mask(message.business),
                flow.name,
                explained,
            )
            return Handled(outcome.replies, flow=flow.name)

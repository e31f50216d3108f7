"""Handling one inbound message end to end, carrier-neutral.

The order matters and is the same for every carrier:
1. take the conversation's lock (one message per customer at a time, FIFO;
   past ``MAX_WAITING`` waiting, a new one is refused 503 and recorded nowhere);
   the parts of a concatenated SMS are joined under it, in their turn;
2. a message id already handled returns its stored replies (a carrier retry),
   unless the customer has opted out since: nothing is sent to an opted-out
   number by any path;
3. the compliance layer (STOP, START, HELP; bot.compliance) runs before any
   flow logic and may answer on its own;
4. otherwise the pure engine runs on the loaded session;
5. replies are prepared (smart encoding, splitting, MMS fallback) and the whole
   turn — claim, log, replies, session, consent — is written in one
   transaction; only after COMMIT are replies handed back to the carrier, so an
   acknowledged message is always a recorded one.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace

from bot.carriers.base import Carrier, WebhookError
from bot.clock import Clock
from bot.compliance.keywords import ComplianceKeywords, Intent
from bot.compliance.policy import ComplianceDecision, ComplianceTexts, decide
from bot.compliance.texts import keywords_for, texts_for
from bot.engine import Decision, FlowEngine
from bot.flood import FloodGate
from bot.flows import Flow, FlowSet
from bot.locks import Busy, KeyedLocks
from bot.matching.normalize import normalize
from bot.metrics import Metrics
from bot.observe import observe
from bot.replies import media_url, prepare
from bot.store import ConsentChange, Store, StoreError
from bot.store.base import TurnState
from bot.store.concat import JOINED_PREFIX
from bot.types import ConversationKey, InboundMessage, Reply

__all__ = [
    "MAX_WAITING", "OFFLOAD_WORK", "ConversationService", "Handled", "MmsPolicy", "carried_media", "mms_by_prefix",
]

# Phrasings x characters from which a text is matched off the event loop:
# about 2 ms of matching (10k phrasings x 200 characters). Below it a thread
# hand-off costs more than it saves; the example flow (179 phrasings) never
# reaches it, even at 1,600 characters.
OFFLOAD_WORK = 2_000_000

# Requests one conversation may have waiting behind its lock, its turn in
# progress not counted; past it a new one is refused 503. A burst of texts sent
# at once still fits whole (recorded, the surplus throttled, bot.flood); what
# gathers beyond it is a stuck turn's carrier retries, each one a request (up to
# 64 KiB of body) and a connection held open: at most about 4 MiB here.
MAX_WAITING = 64

MmsPolicy = Callable[[str, str], bool]  # (channel, customer number) -> can receive MMS

# A FAQ match's verdict as the faq metric and Handled.faq_result count it (others: "miss").
_FAQ_RESULTS = {"answer": "hit", "ambiguous": "ambiguous"}


def mms_by_prefix(prefixes: dict[str, tuple[str, ...]]) -> MmsPolicy:
    """MMS allowed when the customer's number starts with a listed prefix.

    ``prefixes`` maps a channel (or ``"*"`` for all) to number prefixes;
    by default only US/Canada numbers (``+1``) get MMS, as carriers deliver it.
    """

    # As tuples: str.startswith tries them all in one call (asked for every
    # message whose replies are prepared, a generator per call otherwise).
    table = {channel: tuple(listed) for channel, listed in prefixes.items()}
    default = table.get("*", ())

    def allowed(channel: str, customer: str) -> bool:
        return customer.startswith(table.get(channel, default))

    return allowed


def carried_media(policy: MmsPolicy, carriers: Mapping[str, Carrier]) -> MmsPolicy:
    """``policy``, but never MMS on a channel whose carrier writes media as links.

    Sinch's and Vonage's SMS APIs and Plivo XML put media in the text as links
    after the reply is prepared: prepared as MMS, a reply at its segment budget
    would go over it by the links' length.
    """

    def allowed(channel: str, customer: str) -> bool:
        carrier = carriers.get(channel)
        return (carrier is None or carrier.carries_media) and policy(channel, customer)

    return allowed


@dataclass(frozen=True, slots=True)
class Handled:
    """The outcome of one inbound message, as the carrier layer needs it."""

    replies: tuple[Reply, ...]
    duplicate: bool = False
    flow: str = ""
    kind: str = "flow"  # flow | compliance | suppressed | throttled | partial
    decision: Decision | None = None
    entered: tuple[str, ...] = ()
    explained: str = ""  # the decision in words, as logged
    consent_event: str = ""  # "opt_out" | "opt_in" when this message changed consent
    faq_result: str = ""  # "hit" | "miss" | "ambiguous" when the FAQs were consulted


@dataclass(frozen=True, slots=True)
class _FlowRuntime:
    flow: Flow
    engine: FlowEngine
    keywords: ComplianceKeywords
    texts: ComplianceTexts


def _runtimes(flows: FlowSet) -> dict[str, _FlowRuntime]:
    return {flow.name: _FlowRuntime(flow, FlowEngine(flow), keywords_for(flow), texts_for(flow)) for flow in flows}


class ConversationService:
    """Routes messages to flows and keeps conversations in the store."""

    def __init__(
        self,
        flows: FlowSet,
        store: Store,
        clock: Clock,
        mms: MmsPolicy | None = None,
        metrics: Metrics | None = None,
        flood: FloodGate | None = None,
    ) -> None:
        self.store = store
        self.clock = clock
        self.metrics = metrics or Metrics()
        self.flood = flood if flood is not None else FloodGate()  # an empty gate is falsy (len 0)
        self.locks = KeyedLocks()
        self.mms = mms or mms_by_prefix({"*": ("+1",)})
        self.flows = flows
        self._runtimes = _runtimes(flows)

    def swap(self, flows: FlowSet) -> None:
        """Serve ``flows`` from now on (hot reload).

        Everything is built first and then swapped in two assignments with no
        await between them: a message being handled keeps the runtime it
        started with, and the next one sees the new version whole.
        """
        runtimes = _runtimes(flows)
        self.flows, self._runtimes = flows, runtimes

    async def handle(self, message: InboundMessage, media_base: str = "", queue: bool = False) -> Handled:
        """Handle one message.

        Args:
            message: the carrier-neutral inbound message.
            media_base: the public URL of the media folder, for media links.
            queue: True for carriers that take replies through their REST API:
                the replies go to the outbox in the turn's transaction.
        """
        started = time.perf_counter()
        handled = await self._handle(message, media_base, queue)
        elapsed = time.perf_counter() - started
        observe(self.metrics, message, handled, elapsed, queue)
        return handled

    async def _handle(self, message: InboundMessage, media_base: str, queue: bool) -> Handled:
        key = ConversationKey(message.channel, message.customer, message.business)
        try:
            async with self.locks.hold(key, MAX_WAITING):
                if message.concat is not None:
                    # Joined under the lock: the part that completes a message holds
                    # the place it reached the lock in. Joined before it, a text that
                    # came meanwhile took the lock first and was answered first.
                    joined = await self._join_parts(message)
                    if joined is None:
                        return Handled((), kind="partial")
                    message = joined
                return await self._turn(message, key, media_base, queue)
        except Busy:
            # Nothing of this message is recorded: the carrier's retry (5xx is
            # retried by every carrier but Twilio, carriers.md) finds it unseen.
            raise WebhookError(
                503, "conversation_busy",
                f"{MAX_WAITING} messages of this conversation already wait to be handled; retry later",
            ) from None

    async def _turn(self, message: InboundMessage, key: ConversationKey, media_base: str, queue: bool) -> Handled:
        """One message under its conversation's lock."""
        # Read under the lock: nothing else can change this conversation now.
        loaded = await self.store.load_turn(message)
        if loaded.processed is not None:
            return self._retry(message, loaded)
        flows, runtimes = self.flows, self._runtimes  # one consistent version for this message
        runtime = runtimes[flows.for_number(message.business).name]
        now = self.clock.now()
        opted_out = loaded.opted_out
        verdict = decide(runtime.keywords, runtime.texts, message.text, message.carrier_opt_out, opted_out)
        if verdict.handled:
            return await self._compliance_turn(message, runtime, verdict, now, media_base, queue)
        # A tuple of strings, not the ConversationKey: kept long, and untracked by the GC (bot/flood.py).
        gate = (key.channel, key.customer, key.business)
        if not self.flood.allow(gate, now):
            if not await self.store.commit_turn(message, None, (), "throttled: burst over the flood limit", now,
                                                kind="throttled"):
                return await self._claimed_elsewhere(message)
            return Handled((), flow=runtime.flow.name, kind="throttled")
        try:
            session = loaded.session
            if session is not None and session.flow != runtime.flow.name:
                session = None  # the number moved to another flow: start that flow afresh
            media_types = tuple(m.content_type for m in message.media) if message.media else ()
            index = runtime.engine.faq_index
            if len(index) * len(message.text) >= OFFLOAD_WORK:
                # A long text against a big FAQ set takes tens of milliseconds
                # to match (measured: 51-88 ms for 1,300-1,600 characters at 10k
                # phrasings), every other conversation waiting meanwhile. Match
                # on a worker thread instead; the engine then finds the result
                # in the index's memo (a pure function of the text).
                await asyncio.to_thread(index.match, normalize(message.text))
            outcome = runtime.engine.handle(key, session, message.text, now, media_types)
            explained = outcome.decision.explain()
            if outcome.faq_match is not None and outcome.decision.kind in ("faq", "ambiguous", "fallback"):
                explained += f" [{outcome.faq_match.explain()}]"
            replies = self._prepare(outcome.replies, runtime.flow, message, media_base, queue)
            for audience in outcome.subscribe:
                # Before the turn's commit: a confirmation never goes out for a
                # subscription that was not recorded (a retry re-subscribes idempotently).
                source = f"flow {runtime.flow.name} {outcome.decision.route_id}"
                origin = (message.channel, message.provider_id, message.text)
                await self.store.subscribe(audience, message.customer, message.business, source, now, origin)
            if not await self.store.commit_turn(message, outcome.session, replies, explained, now, queue=queue):
                retry = await self._claimed_elsewhere(message)
                self.flood.refund(gate, now)  # a retry is not charged (after: the except refunds once)
                return retry
            faq_result = ""
            if outcome.decision.kind == "picked":
                faq_result = "hit"
            elif outcome.faq_match is not None:
                faq_result = _FAQ_RESULTS.get(outcome.faq_match.verdict, "miss")
            return Handled(
                replies,
                flow=runtime.flow.name,
                decision=outcome.decision,
                entered=outcome.entered,
                explained=explained,
                faq_result=faq_result,
            )
        except BaseException:
            # Not recorded (a store error, answered 503; cancelled): the
            # carrier's retry is this message again, not one more of a burst.
            self.flood.refund(gate, now)
            raise

    async def _compliance_turn(
        self,
        message: InboundMessage,
        runtime: _FlowRuntime,
        verdict: ComplianceDecision,
        now: float,
        media_base: str,
        queue: bool,
    ) -> Handled:
        kind = "compliance" if verdict.intent is not None else "suppressed"
        consent = ConsentChange(verdict.ledger, f"{verdict.source}: {verdict.reason}") if verdict.ledger else None
        replies = self._prepare(verdict.replies, runtime.flow, message, media_base, queue)
        explained = f"compliance {verdict.intent.name if verdict.intent else 'none'}: {verdict.reason}"
        claimed = await self.store.commit_turn(
            message,
            None,
            replies,
            explained,
            now,
            kind=kind,
            consent=consent,
            forget_session=verdict.restart,
            queue=queue,
        )
        if not claimed:
            return await self._claimed_elsewhere(message)
        return Handled(
            replies, flow=runtime.flow.name, kind=kind, explained=explained, consent_event=verdict.ledger
        )

    def _retry(self, message: InboundMessage, loaded: TurnState) -> Handled:
        """A message id already handled: its stored replies, as a carrier retry gets them."""
        earlier = loaded.processed
        assert earlier is not None
        replies = earlier.replies
        if loaded.opted_out and (earlier.kind != "compliance" or self._opts_in(message)):
            # Opted out since: a retry must not send anything either,
            # except the HELP text or the opt-out's own confirmation.
            replies = ()
        return Handled(replies, duplicate=True, kind=earlier.kind)

    async def _claimed_elsewhere(self, message: InboundMessage) -> Handled:
        """The turn's claim lost: this message id was recorded meanwhile by another
        process on the same database (the conversation lock is per process).
        Nothing of this turn was written; answer as a retry, with what was stored.
        """
        loaded = await self.store.load_turn(message)
        if loaded.processed is None:  # never: a claim is not taken back
            raise StoreError(f"message {message.provider_id} was claimed and is not found")
        return self._retry(message, loaded)

    def _opts_in(self, message: InboundMessage) -> bool:
        """Whether a message is an opt-in (START, UNSTOP, YES, or the carrier said so).

        A stored compliance reply does not say which intent it answered; a
        retry carries the same text, so classifying it again tells. An opt-in
        retried after a later STOP must not send "subscribed again".
        """
        if message.carrier_opt_out:
            return message.carrier_opt_out == Intent.OPT_IN.value
        runtime = self._runtimes[self.flows.for_number(message.business).name]
        return runtime.keywords.classify(message.text) is Intent.OPT_IN

    def _prepare(
        self, replies: tuple[Reply, ...], flow: Flow, message: InboundMessage, media_base: str, queue: bool
    ) -> tuple[Reply, ...]:
        prepared = prepare(replies, flow.settings, self.mms(message.channel, message.customer), media_base)
        if not queue:
            return prepared
        # Queued replies are sent later, away from any request: store absolute URLs.
        return tuple(Reply(r.text, tuple(media_url(m, media_base) for m in r.media)) for r in prepared)

    async def _join_parts(self, message: InboundMessage) -> InboundMessage | None:
        """Join the parts of a concatenated SMS; ``None`` until every part is in."""
        assert message.concat is not None
        joined = await self.store.add_concat_part(message, self.clock.now())
        if joined is None:
            return None
        parts, first_id = joined
        # One id for the joined message, whichever part completed it: part 1's
        # own carrier id, unique per message even when a phone reuses references.
        return replace(message, provider_id=JOINED_PREFIX + first_id, text="".join(parts), concat=None)

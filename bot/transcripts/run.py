"""Run transcripts through the real service: compliance, engine, replies and SQLite.

Nothing is simulated but the carrier and the clock, and flood control is off
(a test's texts all arrive at one virtual instant). ``Runner`` opens one
throw-away SQLite file (WAL, migrations, the very ``SQLiteStore`` the server
uses) and one ``ConversationService``; each case is a brand-new customer
number, so no case can see another's conversation or consent. Time is a
``VirtualClock`` that only ``wait:`` moves, a fresh one per case: an idle
expiry test takes no time, and no case's waits shift another's.

A case stops at its first failing step: later steps were written for the
conversation the failed step should have produced, so their failures would
only be noise.
"""

from __future__ import annotations

import itertools
from pathlib import Path
from types import TracebackType

from bot.clock import VirtualClock
from bot.flood import FloodGate
from bot.flows import Flow, FlowSet
from bot.service import ConversationService
from bot.store import SQLiteStore
from bot.transcripts.expect import check_step
from bot.transcripts.model import Case, Transcript
from bot.transcripts.results import CaseResult, Mismatch, StepFailure, Touched
from bot.types import ConversationKey, InboundMessage, Session

__all__ = [
    "CHANNEL",
    "MEDIA_BASE",
    "CaseResult",
    "Mismatch",
    "Runner",
    "StepFailure",
    "Touched",
    "business_number",
    "flow_of",
]

CHANNEL = "test"
# Media links (for customers who cannot get MMS) point here; nothing is fetched.
MEDIA_BASE = "https://textdesk.test/media"
DEFAULT_CUSTOMER = "+15550100001"
# A business number no flow lists, for a default flow without numbers.
UNLISTED_BUSINESS = "+15550000000"


def flow_of(transcript: Transcript, flows: FlowSet) -> Flow:
    """The flow a transcript tests (checked to exist by ``check_transcript``)."""
    return flows.default if transcript.flow is None else flows.flows[transcript.flow]


class Runner:
    """One throw-away store, clock and service; cases run one after another.

    Use as ``async with Runner(flows, tmp / "run.db") as runner:``.
    """

    def __init__(self, flows: FlowSet, db_path: str | Path) -> None:
        self.flows = flows
        self.clock = VirtualClock()
        self.store = SQLiteStore(db_path)
        # A test is a conversation, not a burst: the virtual clock stands still
        # between steps, so all of a test's texts arrive at one instant and the
        # server's flood limit (10 in 10 s) would silence its 11th step. A gate
        # whose window is empty never throttles.
        self.service = ConversationService(flows, self.store, self.clock, flood=FloodGate(window=0.0))
        self._ids = itertools.count(1)
        self._customers: set[str] = set()

    async def __aenter__(self) -> Runner:
        await self.store.open()
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.store.close()

    async def run_case(self, transcript: Transcript, case: Case) -> CaseResult:
        # Every case starts at the same instant: what one case's 'wait:' did
        # cannot change another's times, whatever the order of cases and files.
        self.clock = VirtualClock()
        self.service.clock = self.clock
        flow = flow_of(transcript, self.flows)
        key = ConversationKey(CHANNEL, self._customer(transcript.customer), business_number(flow, self.flows))
        touched = Touched()
        if case.start is not None:
            await self._begin(key, flow, case)
        for number, step in enumerate(case.steps, start=1):
            if step.wait:
                self.clock.advance(step.wait)
            if step.text is None:
                continue
            message = InboundMessage(CHANNEL, f"TEST{next(self._ids):08d}", key.customer, key.business, step.text,
                                     step.media)
            try:
                handled = await self.service.handle(message, MEDIA_BASE)
                session = await self.store.get_session(key)
            except Exception as exc:  # a bug in textdesk: report it as this step's failure
                failure = StepFailure(number, step, (), error=f"{type(exc).__name__}: {exc}")
                return CaseResult(transcript, case, flow.name, key.customer, touched, failure)
            touched.record(handled)
            mismatches = tuple(check_step(step, handled, session, MEDIA_BASE))
            if mismatches:
                explained = handled.decision.explain() if handled.decision else handled.kind
                failure = StepFailure(number, step, mismatches, handled.replies, explained)
                return CaseResult(transcript, case, flow.name, key.customer, touched, failure)
        return CaseResult(transcript, case, flow.name, key.customer, touched)

    async def _begin(self, key: ConversationKey, flow: Flow, case: Case) -> None:
        """Write the case's starting state through the store, as a finished turn would."""
        assert case.start is not None
        now = self.clock.now()
        session = Session(key, flow.name, flow.version, case.start.state, dict(case.start.variables),
                          created_at=now, updated_at=now)
        setup = InboundMessage(CHANNEL, f"START{next(self._ids):08d}", key.customer, key.business, "")
        await self.store.commit_turn(setup, session, (), f"transcript start in {case.start.state}", now)

    def _customer(self, wanted: str | None) -> str:
        """A number no earlier case used: ``wanted`` (or the default), counting up."""
        number = wanted or DEFAULT_CUSTOMER
        while number in self._customers:
            number = "+" + str(int(number[1:]) + 1)
        self._customers.add(number)
        return number


def business_number(flow: Flow, flows: FlowSet) -> str:
    """The flow's first number; for a default flow without numbers, one no flow lists."""
    if flow.numbers:
        return flow.numbers[0]
    number = UNLISTED_BUSINESS
    while number in flows.by_number:
        number = "+" + str(int(number[1:]) + 1)
    return number

"""Run transcripts through the real service: compliance, engine, replies and SQLite.

Nothing is simulated but the carrier and the clock. ``Runner`` opens one
throw-away SQLite file (WAL, migrations, the very ``SQLiteStore`` the server
uses) and one ``ConversationService``; each case is a brand-new customer
number, so no case can see another's conversation or consent. Time is a
``VirtualClock`` that only ``wait:`` moves: an idle expiry test takes no time.

A case stops at its first failing step: later steps were written for the
conversation the failed step should have produced, so their failures would
only be noise.
"""

from __future__ import annotations

import itertools
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

from bot.clock import VirtualClock
from bot.engine import Decision
from bot.flows import Flow, FlowSet, Pos
from bot.service import ConversationService, Handled
from bot.sms import analyze, smart_encode
from bot.store import SQLiteStore
from bot.transcripts.model import Case, Step, Transcript
from bot.types import ConversationKey, InboundMessage, Reply, Session

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
# Decision kinds that took a route the editor wrote (``restart`` is the engine's own).
ROUTE_KINDS = frozenset({"keyword", "choice", "pattern", "option", "media", "otherwise"})
FAQ_KINDS = frozenset({"faq", "picked"})


@dataclass(frozen=True, slots=True)
class Mismatch:
    """One expectation of a step that did not hold.

    ``expected_text`` and ``got_text`` say which side is a message text (shown
    quoted, or as a block when it spans lines) rather than a description.
    """

    check: str
    pos: Pos
    expected: str
    got: str
    expected_text: bool = False
    got_text: bool = False
    hint: str = ""


@dataclass(frozen=True, slots=True)
class StepFailure:
    number: int  # 1-based, as editors count
    step: Step
    mismatches: tuple[Mismatch, ...]
    replies: tuple[Reply, ...] = ()
    explained: str = ""  # what the engine decided, for the report
    error: str = ""  # the service raised: a bug, reported instead of crashing the run


@dataclass(slots=True)
class Touched:
    """What a run reached in one flow: states entered, routes taken, FAQs answered."""

    states: set[str] = field(default_factory=set)
    routes: set[str] = field(default_factory=set)
    faqs: set[str] = field(default_factory=set)

    def record(self, handled: Handled) -> None:
        self.states.update(handled.entered)
        decision = handled.decision
        if decision is None:
            return
        if decision.kind in ROUTE_KINDS and decision.route_id:
            self.routes.add(decision.route_id)
        if decision.kind in FAQ_KINDS and decision.faq_id:
            self.faqs.add(decision.faq_id)

    def update(self, other: Touched) -> None:
        self.states |= other.states
        self.routes |= other.routes
        self.faqs |= other.faqs


@dataclass(frozen=True, slots=True)
class CaseResult:
    transcript: Transcript
    case: Case
    flow: str
    customer: str
    touched: Touched
    failure: StepFailure | None = None

    @property
    def passed(self) -> bool:
        return self.failure is None


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
        self.service = ConversationService(flows, self.store, self.clock)
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
            mismatches = tuple(_check(step, handled, session))
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


def _check(step: Step, handled: Handled, session: Session | None) -> list[Mismatch]:
    out: list[Mismatch] = []
    at = step.checks
    replies = handled.replies
    text = "\n".join(r.text for r in replies)
    shown = text if replies else "(no reply)"
    if step.no_reply is True and replies:
        out.append(Mismatch("no_reply", at["no_reply"], "no reply", text, got_text=True))
    if step.no_reply is False and not replies:
        out.append(Mismatch("no_reply", at["no_reply"], "a reply", "(no reply)"))
    if step.reply is not None and step.reply.strip() != text.strip():
        hint = _reply_hint(step.reply, text)
        out.append(Mismatch("reply", at["reply"], step.reply.strip(), shown, True, True, hint))
    for wanted in step.contains:
        if _loose(wanted) not in _loose(text):
            out.append(Mismatch("contains", at["contains"], f"a reply containing {_quote(wanted)}", shown,
                                got_text=True))
    for unwanted in step.not_contains:
        if _loose(unwanted) in _loose(text):
            out.append(Mismatch("not_contains", at["not_contains"], f"a reply without {_quote(unwanted)}", shown,
                                got_text=True))
    for pattern in step.regex:
        if pattern.search(text) is None:
            out.append(Mismatch("regex", at["regex"], f"a reply matching {_quote(pattern.pattern)}", shown,
                                got_text=True))
    if step.has_media is not None:
        media = [item for reply in replies for item in reply.media]
        if bool(media) != step.has_media:
            got = ", ".join(media) if media else "no media"
            out.append(Mismatch("media", at["media"], "media" if step.has_media else "no media", got))
    if step.segments_at_most is not None:
        out.extend(_segments(step.segments_at_most, at["segments_at_most"], replies))
    if step.state is not None:
        got_state = session.state if session is not None else "(no conversation: it starts over)"
        if got_state != step.state:
            out.append(Mismatch("state", at["state"], step.state, got_state))
    for name, value in step.variables.items():
        have = session.variables.get(name) if session is not None else None
        if have != value:
            out.append(Mismatch(f"variable {name}", at["vars"], _var(value), _var(have)))
    if step.faq is not None:
        answered = _faq(handled.decision)
        if answered != step.faq:
            out.append(Mismatch("faq", at["faq"], step.faq, answered or _no_faq(handled)))
    return out


def _segments(limit: int, pos: Pos, replies: tuple[Reply, ...]) -> list[Mismatch]:
    out: list[Mismatch] = []
    for index, reply in enumerate(replies, start=1):
        if reply.media:
            continue  # an MMS body is not cut into segments
        info = analyze(reply.text)
        if info.segments > limit:
            got = f"message {index} is {info.segments} segments ({info.encoding}, {info.units} units)"
            hint = ""
            if info.ucs2_chars:
                hint = "these characters force UCS-2: " + " ".join(repr(c) for c in info.ucs2_chars)
            out.append(Mismatch("segments_at_most", pos, f"at most {limit} per message", got, hint=hint))
    return out


def _quote(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def _loose(text: str) -> str:
    """Case and runs of spaces or line breaks do not matter to ``contains``."""
    return " ".join(text.casefold().split())


def _var(value: str | None) -> str:
    return "(not set)" if value is None else _quote(value)


def _faq(decision: Decision | None) -> str:
    if decision is not None and decision.kind in FAQ_KINDS:
        return decision.faq_id
    return ""


def _no_faq(handled: Handled) -> str:
    decision = handled.decision
    if decision is None:
        return f"no FAQ (the {handled.kind} layer answered)"
    if decision.kind == "ambiguous":
        return f"no FAQ yet: 'Did you mean' between {decision.faq_id.replace(',', ' and ')}"
    what = f"{decision.kind} {decision.route_id}".strip()
    return f"no FAQ ({what})"


def _reply_hint(expected: str, got: str) -> str:
    """Point at the first difference of two long or multi-line texts."""
    want, have = expected.strip(), got.strip()
    if "\n" not in want + have and max(len(want), len(have)) <= 60:
        return ""  # short texts: the difference is plain to see
    if re.sub(r"\s+", " ", want) == re.sub(r"\s+", " ", have):
        return "only spaces or line breaks differ"
    if want.casefold() == have.casefold():
        return "only capital letters differ"
    if smart_encode(want) == have:
        return "replies are sent with smart encoding: curly quotes and dashes become plain ones"
    index = next((i for i, (a, b) in enumerate(zip(want, have, strict=False)) if a != b), min(len(want), len(have)))
    before = want[:index]
    line = before.count("\n") + 1
    col = index - (before.rfind("\n") + 1) + 1
    return f"first difference at line {line}, column {col} of the text"

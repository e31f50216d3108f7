"""What a transcript run produces: per case, the first failing step and what the run reached.

Plain values shared by the runner (bot.transcripts.run), the step checks
(bot.transcripts.expect), the reports and the coverage figures: those import
the types from here, not from the module that runs the service.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.flows import Pos
from bot.service import Handled
from bot.transcripts.model import Case, Step, Transcript
from bot.types import Reply

__all__ = ["FAQ_KINDS", "ROUTE_KINDS", "CaseResult", "Mismatch", "StepFailure", "Touched"]

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
    # Left out of the repr: every result holds the same whole file, and asyncio
    # reprs a finished run's result (quadratic in the number of tests).
    transcript: Transcript = field(repr=False)
    case: Case
    flow: str
    customer: str
    touched: Touched
    failure: StepFailure | None = None

    @property
    def passed(self) -> bool:
        return self.failure is None

"""The typed, validated form of a flow file.

Objects here are immutable and carry the ``Pos`` of the YAML node they came
from, so every later tool (engine logs, lint, diagrams, coverage) can point an
editor at the exact line. Matching forms (normalised keywords and phrasings)
are computed once at load, never per message.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from bot.flows.errors import Pos

__all__ = ["Compliance", "Faq", "Flow", "Route", "Settings", "State"]


@dataclass(frozen=True, slots=True)
class Route:
    """A way out of a state: what must match, what to say, where to go.

    ``route_id`` is stable and human-readable (``menu/choice 2``,
    ``global/keywords MENU``) for logs and test coverage.
    """

    route_id: str
    pos: Pos
    keywords: tuple[str, ...] = ()  # as written, for display
    keys: frozenset[str] = frozenset()  # squeezed normalised forms, for exact matching
    option: str = ""  # as written
    option_norm: str = ""
    pattern: re.Pattern[str] | None = None
    go: str | None = None
    say: str = ""
    media: tuple[str, ...] = ()
    # Matches when the customer's message carries an attachment of this kind:
    # "photo", "video", "audio" or "media" (any). Empty: not a media route.
    sent: str = ""
    # The audience this route subscribes the customer to (e.g. JOIN -> "deals"),
    # recorded in the consent ledger with the text that asked for it.
    subscribe: str = ""


@dataclass(frozen=True, slots=True)
class State:
    name: str
    pos: Pos
    say: str = ""
    media: tuple[str, ...] = ()
    choices: tuple[Route, ...] = ()
    otherwise: Route | None = None
    final: bool = False


@dataclass(frozen=True, slots=True)
class Faq:
    faq_id: str
    pos: Pos
    question: str
    phrasings: tuple[str, ...]  # the question first, then every ``also``
    answer: str
    media: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Settings:
    brand: str = ""
    match_threshold: int = 80
    ambiguity_margin: int = 5
    idle_timeout: float = 30 * 60.0  # seconds
    welcome_back: str = "Welcome back!"
    fallback: str = "Sorry, I didn't understand that."
    help: str = ""  # empty: built from the brand (see bot.compliance.texts)
    did_you_mean: str = "Did you mean:"
    opt_out_reply: str = ""  # empty: built from the brand
    opt_in_reply: str = ""  # empty: built from the brand
    # Segments: at most ``max_segments`` per sent message (longer replies are
    # split into several messages) and at most ``segment_budget`` in all for
    # one reply; the loader rejects a reply that cannot fit the budget.
    max_segments: int = 3
    segment_budget: int = 6
    smart_encoding: bool = True
    # Where a conversation goes when its saved state no longer exists after an
    # edit (empty: the start state), and the short notice it gets.
    lost_state: str = ""
    lost_notice: str = "We've updated our menu since your last message."
    # Where each setting was written, for findings about its value.
    positions: dict[str, Pos] = field(default_factory=dict, compare=False)


@dataclass(frozen=True, slots=True)
class Compliance:
    """A flow's additions to the opt-out, opt-in and HELP keywords (never removals)."""

    opt_out: tuple[str, ...] = ()
    opt_in: tuple[str, ...] = ()
    help: tuple[str, ...] = ()
    revocation_patterns: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Flow:
    """One loaded flow file.

    ``version`` is a digest of the file's bytes: a conversation records the
    version it last ran on, so a changed flow can be detected per session.
    """

    name: str
    path: str
    version: str
    pos: Pos
    start: str
    states: dict[str, State]
    settings: Settings = field(default_factory=Settings)
    default: bool = False
    numbers: tuple[str, ...] = ()
    global_routes: tuple[Route, ...] = ()
    faqs: tuple[Faq, ...] = ()
    media_dir: str = ""
    compliance: Compliance = field(default_factory=Compliance)
    # Declared longest values of template variables (``variables:``), used to
    # cost replies at load time; undeclared ones are derived from patterns.
    variable_lengths: dict[str, int] = field(default_factory=dict)
    # The file's text as loaded: kept so the store can record each version
    # served, and `textdesk lint --against DB` can compare states across versions.
    source: str = field(default="", repr=False, compare=False)

    def faq(self, faq_id: str) -> Faq | None:
        for faq in self.faqs:
            if faq.faq_id == faq_id:
                return faq
        return None

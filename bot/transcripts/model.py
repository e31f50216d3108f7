"""The typed form of a transcript file (``flows/tests/*.yaml``).

A transcript is a list of named conversations (``Case``) against one flow; a
case is a list of ``Step`` objects, each a customer's text and what the reply,
the state and the variables should be afterwards. Everything carries the
``Pos`` it was written at, so a failing step points the editor at its line.
Objects are immutable: a run never changes what was loaded.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from bot.flows.errors import Pos
from bot.types import InboundMedia

__all__ = ["Case", "Start", "Step", "Transcript"]


@dataclass(frozen=True, slots=True)
class Step:
    """One thing the customer does, and what must be true afterwards.

    Every expectation is optional; ``None`` (or an empty tuple) means "not
    checked". ``checks`` maps each expectation written to its position, so a
    failed check can name the line it was written on.
    """

    pos: Pos
    text: str | None = None  # None: a step that only waits
    media: tuple[InboundMedia, ...] = ()  # attachments the customer sends
    wait: float = 0.0  # seconds the virtual clock moves before the text is sent
    wait_written: str = ""  # as written (``31m``), for messages
    reply: str | None = None
    contains: tuple[str, ...] = ()
    not_contains: tuple[str, ...] = ()
    regex: tuple[re.Pattern[str], ...] = ()
    has_media: bool | None = None
    segments_at_most: int | None = None
    no_reply: bool | None = None
    state: str | None = None
    # None as a value: the variable must not be set.
    variables: dict[str, str | None] = field(default_factory=dict)
    faq: str | None = None
    checks: dict[str, Pos] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Start:
    """Where a case begins instead of a brand-new conversation."""

    pos: Pos
    state: str
    variables: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Case:
    """One named conversation: its own customer number, store and clock."""

    name: str
    pos: Pos
    steps: tuple[Step, ...]
    start: Start | None = None


@dataclass(frozen=True, slots=True)
class Transcript:
    """One transcript file: the flow it tests and its cases.

    ``flow`` is ``None`` for the default flow; ``customer`` is ``None`` when
    each case gets a generated number.
    """

    path: str
    pos: Pos
    cases: tuple[Case, ...]
    flow: str | None = None
    flow_pos: Pos | None = None
    customer: str | None = None

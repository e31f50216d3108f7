"""Coverage of a flow by its transcripts: states entered, routes taken, FAQs answered.

Three separate figures, because each answers a different editor's question:
"is there a screen no test ever shows?" (states), "is there a menu choice or
keyword no test presses?" (routes) and "is there an answer no test asks
for?" (FAQs). The overall figure is the lowest of the three, so a flow
cannot reach 90% on its FAQs alone while half its menu goes untested; that
is what ``--min-coverage`` compares with. An empty part (a flow without
FAQs) counts as fully covered: there is nothing left to test.

What counts:
- a state when a conversation entered it (its message was sent); a test's
  ``start:`` puts the conversation there without entering it;
- a route (``menu/choice 2``, ``global/1``, ``order_ask/otherwise``) when a
  text was handled by it; the engine's own restart is not a route;
- an FAQ when it was the answer, directly or picked after "Did you mean".
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from bot.flows import Flow, Pos
from bot.transcripts.results import Touched

__all__ = ["FlowCoverage", "Part", "flow_coverage"]


@dataclass(frozen=True, slots=True)
class Part:
    """One of the three figures: every item of the flow, and those reached."""

    name: str  # "states" | "routes" | "FAQs"
    items: tuple[tuple[str, Pos], ...]
    covered: frozenset[str]

    @property
    def total(self) -> int:
        return len(self.items)

    @property
    def reached(self) -> int:
        return sum(1 for name, _ in self.items if name in self.covered)

    @property
    def missing(self) -> tuple[tuple[str, Pos], ...]:
        return tuple((name, pos) for name, pos in self.items if name not in self.covered)

    @property
    def percent(self) -> float:
        return 100.0 if not self.items else 100.0 * self.reached / self.total


@dataclass(frozen=True, slots=True)
class FlowCoverage:
    flow: Flow
    parts: tuple[Part, ...]

    @property
    def overall(self) -> float:
        """The lowest of the parts' percentages."""
        return min(part.percent for part in self.parts)

    @property
    def weakest(self) -> Part:
        return min(self.parts, key=lambda part: part.percent)


def flow_coverage(flow: Flow, touched: Iterable[Touched]) -> FlowCoverage:
    """How much of ``flow`` the given runs reached."""
    seen = Touched()
    for item in touched:
        seen.update(item)
    states = tuple((name, state.pos) for name, state in flow.states.items())
    routes = [(route.route_id, route.pos) for route in flow.global_routes]
    for state in flow.states.values():
        routes.extend((route.route_id, route.pos) for route in state.choices)
        if state.otherwise is not None:
            routes.append((state.otherwise.route_id, state.otherwise.pos))
    faqs = tuple((faq.faq_id, faq.pos) for faq in flow.faqs)
    return FlowCoverage(
        flow,
        (
            Part("states", states, frozenset(seen.states)),
            Part("routes", tuple(routes), frozenset(seen.routes)),
            Part("FAQs", faqs, frozenset(seen.faqs)),
        ),
    )

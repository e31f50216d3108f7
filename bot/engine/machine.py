"""One ``transitions`` machine per flow, built once and shared by every conversation.

Why this shape:
- ``Machine(model=None)``: no conversation is ever attached. Attaching costs
  memory per session and ``add_model`` is O(n); instead each message gets a
  throw-away ``Turn`` and we fire ``machine.events[name].trigger(turn)``.
- ``auto_transitions=False``: only the routes the editor wrote exist.
- Callbacks are Python callables, never strings. ``transitions`` imports dotted
  callback *names* as modules; with callables only, nothing in a flow file can
  name code to import or call.
- Callbacks only *record* reply intents on the ``Turn``; the engine's caller
  does all I/O after the trigger returns. Nothing inside a trigger awaits, so
  the synchronous ``Machine`` serves (~7 µs per trigger here).

Trigger names: every route's ``route_id`` (``menu/choice 1``, ``global/2``,
``order_ask/otherwise``), plus ``faq``, ``did_you_mean``, ``fallback`` and
``restart``, which are internal or go to the start state.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial
from typing import Any, cast

from transitions import EventData, Machine
from transitions import State as MachineState

from bot.flows.model import Flow, Route, State
from bot.types import Reply

__all__ = ["FALLBACK", "FAQ", "RELOCATE", "RESTART", "SAY", "Turn", "build_machine"]

FAQ = "faq"
SAY = "say"  # an internal transition that only records a reply (did-you-mean, fallback)
FALLBACK = "fallback"
RESTART = "restart"
RELOCATE = "relocate"  # a saved state vanished in an edited flow: go to settings.lost_state


@dataclass(slots=True)
class Turn:
    """The model for one trigger: the state, the variables and recorded replies."""

    state: str
    variables: dict[str, str]
    replies: list[Reply] = field(default_factory=list)
    entered: list[str] = field(default_factory=list)
    subscribe: list[str] = field(default_factory=list)  # audiences to join, recorded by the caller


def _record(reply_text: str, media: tuple[str, ...], event: EventData) -> None:
    if reply_text or media:
        cast(Turn, event.model).replies.append(Reply(reply_text, media))


def _on_enter(state: State, event: EventData) -> None:
    cast(Turn, event.model).entered.append(state.name)
    _record(state.say, state.media, event)


def _route_say(route: Route, event: EventData) -> None:
    _record(route.say, route.media, event)
    if route.subscribe:
        cast(Turn, event.model).subscribe.append(route.subscribe)


def _say_kwargs(event: EventData) -> None:
    reply: Reply = event.kwargs["reply"]
    _record(reply.text, reply.media, event)


def build_machine(flow: Flow) -> Machine:
    """Build the flow's shared machine. ``flow`` must already be validated."""
    states = [MachineState(name, on_enter=[partial(_on_enter, state)]) for name, state in flow.states.items()]
    transitions: list[dict[str, Any]] = []
    for route in flow.global_routes:
        transitions.append(_transition(route, "*"))
    for name, state in flow.states.items():
        routes = [*state.choices, *([state.otherwise] if state.otherwise else [])]
        transitions.extend(_transition(route, name) for route in routes)
    for trigger in (FAQ, SAY, FALLBACK):
        transitions.append({"trigger": trigger, "source": "*", "dest": None, "before": [_say_kwargs]})
    transitions.append({"trigger": RESTART, "source": "*", "dest": flow.start, "before": [_say_kwargs]})
    lost = flow.settings.lost_state or flow.start
    transitions.append({"trigger": RELOCATE, "source": "*", "dest": lost, "before": [_say_kwargs]})
    return Machine(
        model=None,
        states=states,
        transitions=transitions,
        initial=flow.start,
        auto_transitions=False,
        send_event=True,
        ignore_invalid_triggers=False,
    )


def _transition(route: Route, source: str) -> dict[str, Any]:
    # A route without ``go`` is an internal transition: its ``say`` is sent and
    # the state is not re-entered (so the state's own question is not repeated).
    return {"trigger": route.route_id, "source": source, "dest": route.go, "before": [partial(_route_say, route)]}

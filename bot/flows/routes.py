"""The ``states`` and ``global`` sections: states and the routes out of them.

A route is a state's choice, its ``otherwise``, or a global keyword; each is
read by ``_route`` with the keys its place allows. Every ``go`` is recorded on
the context and checked by the document builder once all states are known.
"""

from __future__ import annotations

import re

from yaml.nodes import Node

from bot.flows.context import LoadContext, name_problem, trim
from bot.flows.model import Route, State
from bot.flows.regexes import compile_regex
from bot.matching.normalize import normalize, squeeze

__all__ = ["OTHERWISE_KEYS", "ROUTE_KEYS", "SENT_KINDS", "STATE_KEYS", "read_global", "read_states"]

STATE_KEYS = ("say", "media", "choices", "otherwise", "final")
ROUTE_KEYS = ("keywords", "option", "pattern", "sent", "go", "say", "media", "subscribe")
SENT_KINDS = ("photo", "video", "audio", "media")
OTHERWISE_KEYS = ("say", "media", "go")


def read_global(ctx: LoadContext, node: Node) -> tuple[Route, ...]:
    routes: list[Route] = []
    for index, item in enumerate(ctx.reader.sequence(node, "'global'") or [], start=1):
        needs = "a global route needs 'keywords' (e.g. MENU)"
        route = _route(ctx, item, f"global/{index}", "a global route", ROUTE_KEYS, needs)
        if route is None:
            continue
        if route.pattern is not None or route.option:
            ctx.reader.error(item, "global routes match 'keywords' only, not 'pattern' or 'option'")
        routes.append(route)
    return tuple(routes)


def read_states(ctx: LoadContext, node: Node) -> dict[str, State]:
    """The states that could be read; each with an error inside is recorded as flawed."""
    states: dict[str, State] = {}
    for name, (key_node, value) in (ctx.reader.mapping(node, "'states'") or {}).items():
        before = ctx.errors()
        state = _state(ctx, name, key_node, value)
        if state is not None:
            states[name] = state
        if ctx.errors() > before:
            ctx.flawed_states.add(name)
    return states


def _state(ctx: LoadContext, name: str, key_node: Node, value: Node) -> State | None:
    r = ctx.reader
    problem = name_problem(name, "state name")
    if problem is not None:
        r.error(key_node, problem)
        ctx.broken_states.add(name)
        return None
    entries = r.mapping(value, f"state '{name}'", STATE_KEYS)
    if entries is None:
        ctx.broken_states.add(name)
        return None
    say = trim(r.text(entries["say"][1], f"'say' of state '{name}'")) if "say" in entries else ""
    media = ctx.media(entries["media"][1]) if "media" in entries else ()
    choices: list[Route] = []
    if "choices" in entries:
        items = r.sequence(entries["choices"][1], f"'choices' of state '{name}'") or []
        for index, item in enumerate(items, start=1):
            needs = "a choice needs 'keywords', 'option', 'pattern' or 'sent' to match"
            route = _route(ctx, item, f"{name}/choice {index}", "a choice", ROUTE_KEYS, needs)
            if route is not None:
                choices.append(route)
    otherwise = None
    if "otherwise" in entries:
        otherwise = _route(ctx, entries["otherwise"][1], f"{name}/otherwise", "'otherwise'", OTHERWISE_KEYS)
    final = bool("final" in entries and r.boolean(entries["final"][1], "'final'"))
    return State(
        name=name,
        pos=r.pos(key_node),
        say=say,
        media=media,
        choices=tuple(choices),
        otherwise=otherwise,
        final=final,
    )


def _route(
    ctx: LoadContext, node: Node, route_id: str, what: str, allowed: tuple[str, ...], needs: str = ""
) -> Route | None:
    """One route; ``needs`` is the error when it has nothing to match (choices, globals).

    "Needs something to match" and "does nothing" are only reported when the
    route's own keys and values had no error: a misspelt key or a bad pattern is
    already reported where it is, and "a choice needs 'pattern'" next to a
    pattern would send the editor looking for the wrong mistake.
    """
    r = ctx.reader
    before = len(r.findings)
    entries = r.mapping(node, what, allowed)
    if entries is None:
        return None
    unknown_keys = len(r.findings) > before
    before = len(r.findings)
    keywords: list[str] = []
    keys: set[str] = set()
    keyword_items = r.texts(entries["keywords"][1], "'keywords'") if "keywords" in entries else None
    for value, item in keyword_items or []:
        if not ctx.matchable(value, item, "keyword"):
            continue
        keywords.append(value)
        keys.add(squeeze(normalize(value)))
    option = r.text(entries["option"][1], "'option'") or "" if "option" in entries else ""
    if option and not ctx.matchable(option, entries["option"][1], "option"):
        option = ""
    pattern = None
    if "pattern" in entries:
        pattern = _pattern(ctx, entries["pattern"][1])
    sent = ""
    if "sent" in entries:
        sent_value = r.text(entries["sent"][1], "'sent'")
        if sent_value is not None and sent_value.strip().lower() not in SENT_KINDS:
            kinds = ", ".join(SENT_KINDS)
            r.error(entries["sent"][1], f"'sent' should be one of {kinds}, got '{sent_value}'")
        elif sent_value is not None:
            sent = sent_value.strip().lower()
    if needs and not (keys or option or pattern or sent) and not unknown_keys and len(r.findings) == before:
        r.error(node, needs)
    before = len(r.findings)
    go = None
    if "go" in entries:
        go = r.text(entries["go"][1], "'go'")
        if go is not None:
            ctx.gotos.append((go, entries["go"][1]))
    say = trim(r.text(entries["say"][1], "'say'")) if "say" in entries else ""
    media = ctx.media(entries["media"][1]) if "media" in entries else ()
    subscribe = ctx.name(entries["subscribe"][1], "audience name") or "" if "subscribe" in entries else ""
    if not (go or say or media or subscribe) and not unknown_keys and len(r.findings) == before:
        r.error(node, f"{what} does nothing; expected 'go', 'say' or 'media'")
    return Route(
        route_id=route_id,
        pos=r.pos(node),
        keywords=tuple(keywords),
        keys=frozenset(keys),
        option=option,
        option_norm=normalize(option),
        pattern=pattern,
        go=go,
        say=say,
        media=media,
        sent=sent,
        subscribe=subscribe,
    )


def _pattern(ctx: LoadContext, node: Node) -> re.Pattern[str] | None:
    source = ctx.reader.text(node, "'pattern'")
    if source is None:
        return None
    # Case-insensitive by default: customers do not care about case.
    compiled = compile_regex(source, re.IGNORECASE)
    if isinstance(compiled, str):
        ctx.reader.error(node, f"pattern {compiled}")
        ctx.broken_pattern(source)
        return None
    return compiled

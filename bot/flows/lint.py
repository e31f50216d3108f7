"""``textdesk lint``: every loader finding, plus checks on flows that load.

The loader answers "can this file run at all?"; lint also asks "does it do what
the editor meant?". A flow that loads may still strand or confuse customers, so
the checks below run on the very ``Flow`` objects the engine runs, and every
finding carries the ``Pos`` of the node it is about.

Severity: an *error* means the flow does not do what the file says (a keyword
that can never fire, a ``{name}`` that is always empty, a state with nothing to
answer). A *warning* means it works as written but is probably not what was
meant (a state nobody can reach, two FAQs competing for the same texts, a
keyword written twice with the same effect). ``textdesk lint`` exits 1 on errors
only, so warnings never block a deploy.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Sequence
from pathlib import Path

from bot.engine.templates import placeholders
from bot.flows.context import SOUND, Flaws
from bot.flows.errors import Finding, FlowLoadError, Pos, did_you_mean
from bot.flows.loader import read_flow
from bot.flows.model import Flow, Route, State
from bot.flows.overlaps import competing
from bot.flows.registry import flow_files, load_flows
from bot.matching.coverage import CoverageScore, specific_words
from bot.matching.normalize import match_form, normalize, squeeze

__all__ = ["lint_file", "lint_flow", "lint_flow_set", "lint_paths"]

PathLike = str | os.PathLike[str]


def lint_paths(paths: Sequence[PathLike] = ("flows",)) -> list[Finding]:
    """Lint flow files and folders of flow files; findings sorted by file, line, column.

    A folder is linted as the server loads it (``lint_flow_set``); a file on its
    own is linted alone, with media looked up in ``media/`` beside it. A file
    named twice (itself and through its folder) is reported once.
    """
    found: set[Finding] = set()
    for path in paths:
        if Path(path).is_dir():
            found.update(lint_flow_set(path))
        else:
            found.update(lint_file(path))
    return sorted(found)


def lint_flow_set(folder: PathLike) -> list[Finding]:
    """Lint a flows folder: each file, and the rules between files (names, numbers, default).

    Each file is loaded on its own first, so a broken file does not hide the
    checks of the others; the folder is then loaded as ``serve`` loads it for
    the rules that span files. Findings both passes report are kept once.
    """
    root = Path(folder)
    found: set[Finding] = set()
    if root.is_dir():
        for file in flow_files(root):
            found.update(lint_file(file, root / "media"))
    try:
        flows = load_flows(root)
    except FlowLoadError as exc:
        found.update(exc.findings)
    else:
        found.update(flows.warnings)
    return sorted(found)


def lint_file(path: PathLike, media_dir: PathLike | None = None) -> list[Finding]:
    """The loader's findings for one file, and ``lint_flow``'s on what of it could be read."""
    draft = read_flow(path, media_dir)
    if draft.flow is None:
        return draft.findings
    return sorted({*draft.findings, *lint_flow(draft.flow, draft.flaws)})


def lint_flow(flow: Flow, flaws: Flaws = SOUND) -> list[Finding]:
    """Every check below on one flow, sorted.

    ``flaws``: the parts of its file that had errors (the flow is then what
    could be read); a check that would read a broken part holds back there,
    so that it reports only mistakes of its own.
    """
    return sorted(
        [
            *(_unreachable(flow) if not flaws.routes else ()),
            *_dead_ends(flow, flaws.states),
            *_keyword_collisions(flow),
            *_unset_variables(flow, flaws.groups),
            *_not_placeholders(flow),
            *(_faq_overlaps(flow) if not flaws.setting("match_threshold") else ()),
        ]
    )


def _routes(state: State) -> tuple[Route, ...]:
    return (*state.choices, *((state.otherwise,) if state.otherwise is not None else ()))


def _unreachable(flow: Flow) -> Iterator[Finding]:
    # Global routes fire from any state, so their targets count as entry points
    # alongside ``start`` (every conversation is in some state once it began).
    todo = [flow.start, *(r.go for r in flow.global_routes if r.go)]
    seen: set[str] = set()
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        if name in flow.states:
            todo.extend(r.go for r in _routes(flow.states[name]) if r.go)
    for name, state in flow.states.items():
        if name not in seen:
            msg = f"state '{name}' is never reached: no route from the start state or a global keyword goes there"
            yield Finding(state.pos, "warning", msg)


def _dead_ends(flow: Flow, flawed: frozenset[str]) -> Iterator[Finding]:
    # Global keywords and FAQs work everywhere, so strictly no state is a trap
    # when the flow has any; counting them would make this check never fire.
    # What it catches is a state that answers *nothing* itself and was not
    # declared an ending: almost always forgotten choices or ``final: true``.
    # Choices that only ``say`` (no ``go``) are a deliberate loop, not a dead end.
    for name, state in flow.states.items():
        if not state.final and not state.choices and state.otherwise is None and name not in flawed:
            msg = f"state '{name}' has no way out; add choices or mark it 'final: true'"
            yield Finding(state.pos, "error", msg)


def _keys(route: Route) -> Iterator[tuple[str, str]]:
    """(matching key, keyword as written) for each distinct key of a route, in file order."""
    seen: set[str] = set()
    for written in route.keywords:
        key = squeeze(normalize(written))
        if key and key not in seen:
            seen.add(key)
            yield key, written


def _same_effect(a: Route, b: Route) -> bool:
    return (a.go, a.say, a.media) == (b.go, b.say, b.media)


def _shadowed(route: Route, what: str, written: str, winner: Route, winner_what: str, winner_written: str) -> Finding:
    """A keyword that can never fire because an earlier route takes the same text.

    Error when the route that wins does something else (the file promises a
    reply the customer never gets); warning when both do the same thing.
    """
    head = f"keyword '{written}' of {what} never fires: {winner_what} (line {winner.pos.line})"
    if winner_written != written:
        head += f" takes the same text with '{winner_written}'"
    else:
        head += " takes it first"
    if _same_effect(route, winner):
        return Finding(route.pos, "warning", f"{head}; both do the same, so this one can be removed")
    return Finding(route.pos, "error", head)


def _keyword_collisions(flow: Flow) -> Iterator[Finding]:
    # Matching order (engine): global keywords, then the state's choices in file
    # order; the first route holding the text's key wins, so any later holder of
    # the same key is unreachable for that keyword.
    globals_: dict[str, tuple[Route, str, str]] = {}
    for index, route in enumerate(flow.global_routes, start=1):
        what = f"global route {index}"
        for key, written in _keys(route):
            if key in globals_:
                yield _shadowed(route, what, written, *globals_[key])
            else:
                globals_[key] = (route, what, written)
    for name, state in flow.states.items():
        local: dict[str, tuple[Route, str, str]] = {}
        for index, route in enumerate(state.choices, start=1):
            what = f"choice {index} of state '{name}'"
            for key, written in _keys(route):
                if key in globals_:
                    yield _shadowed(route, what, written, *globals_[key])
                elif key in local:
                    yield _shadowed(route, what, written, *local[key])
                else:
                    local[key] = (route, what, written)


def _templates(flow: Flow) -> Iterator[tuple[Pos, str, str]]:
    """(position, what, text) for every text the engine fills ``{name}`` in."""
    for name, state in flow.states.items():
        yield state.pos, f"the 'say' of state '{name}'", state.say
        for index, route in enumerate(state.choices, start=1):
            yield route.pos, f"the 'say' of choice {index} of state '{name}'", route.say
        if state.otherwise is not None:
            yield state.otherwise.pos, f"the 'say' of 'otherwise' in state '{name}'", state.otherwise.say
    for index, route in enumerate(flow.global_routes, start=1):
        yield route.pos, f"the 'say' of global route {index}", route.say
    for faq in flow.faqs:
        yield faq.pos, f"the answer of FAQ '{faq.faq_id}'", faq.answer
    # A setting left at its default has no position; the flow's first line stands in.
    settings = flow.settings
    for key, text in (
        ("welcome_back", settings.welcome_back),
        ("fallback", settings.fallback),
        ("did_you_mean", settings.did_you_mean),
    ):
        yield settings.positions.get(key, flow.pos), f"setting '{key}'", text


def _unset_variables(flow: Flow, broken_groups: frozenset[str]) -> Iterator[Finding]:
    # A variable exists once a pattern's named group captured it, or when the
    # file declares it under ``variables:`` (given by the API when a flow is
    # started for a customer, e.g. ``{first_name}`` in an appointment reminder);
    # any other ``{name}`` is filled with nothing, so the customer reads e.g.
    # "Order AC-". Deliberately flow-wide, not per path: a variable set on one
    # branch and used on another is a design choice lint cannot judge without
    # false alarms.
    variables = set(broken_groups) | flow.variable_lengths.keys()  # broken: a pattern that does not compile yet
    for route in (*flow.global_routes, *(r for s in flow.states.values() for r in _routes(s))):
        if route.pattern is not None:
            variables.update(route.pattern.groupindex)
    for pos, what, text in _templates(flow):
        for name in sorted(placeholders(text)):
            if name not in variables:
                hint = did_you_mean(name, variables)
                msg = (
                    f"'{{{name}}}' in {what} is never set{hint}: no pattern in this flow has a group"
                    f" (?P<{name}>...) and 'variables:' does not declare it (declare it when the API gives it)"
                )
                yield Finding(pos, "error", msg)


# What editors write for a variable elsewhere: Twilio Studio and Liquid
# ``{{name}}``, a spaced ``{ name }``, a dotted ``{contact.name}``. None is a
# placeholder here, so the customer would read the braces (``{{name}}`` sends
# ``{Ann}``). Braces around anything else (``{1,2}``, ``{ }``) are left alone:
# they may be meant literally.
_DOUBLE = re.compile(r"\{\{\s*([A-Za-z_][\w.]*)\s*\}\}")
_LOOSE = re.compile(r"\{(?!\{)\s*([A-Za-z_][\w]*(?:\.[A-Za-z_]\w*)*)\s*\}")


def _not_placeholders(flow: Flow) -> Iterator[Finding]:
    for pos, what, text in _templates(flow):
        for found in (*_DOUBLE.finditer(text), *_LOOSE.finditer(_DOUBLE.sub("", text))):
            written, inner = found.group(0), found.group(1)
            name = inner.rsplit(".", 1)[-1]
            if written == f"{{{{{inner}}}}}" and "." not in inner:
                # The inner {name} is filled and the outer braces stay.
                yield Finding(pos, "error", f"'{written}' in {what} would send the braces around the value "
                              f"('{{Ann}}'): a variable takes single braces, '{{{name}}}'")
            elif written != f"{{{inner}}}" or "." in inner:
                yield Finding(pos, "error", f"'{written}' in {what} is sent as written: a variable is "
                              f"'{{{name}}}' (single braces; letters, digits and _, no spaces or dots)")


def _faq_overlaps(flow: Flow) -> Iterator[Finding]:
    # Two FAQs compete when a phrasing of one, texted by a customer, scores at
    # least ``match_threshold`` against a phrasing of the other: the customer may
    # then get the wrong answer or a "Did you mean" for a question the file
    # answers. Scored exactly as matching scores (the FAQ index's
    # ``CoverageScore`` of the match forms); only each pair of FAQs' best-scoring phrasings are
    # reported (one warning per pair, the first of equal scores in file order).
    # Only candidate pairs are scored (bot.flows.overlaps): a hot reload lints
    # every edit, and scoring all pairs took 65 s at 10,000 phrasings. Those
    # pairs are the ones whose token_set_ratio reaches the threshold, a superset:
    # the FAQ score is never higher (bot.matching.coverage), so each is scored
    # again with it.
    threshold = flow.settings.match_threshold
    owners: list[int] = []
    phrasings: list[str] = []
    forms: list[str] = []
    for k, faq in enumerate(flow.faqs):
        for phrasing in faq.phrasings:
            if norm := normalize(phrasing):
                owners.append(k)
                phrasings.append(phrasing)
                forms.append(match_form(norm))
    scorer = CoverageScore(specific_words((str(k), form) for k, form in zip(owners, forms, strict=True)))
    best: dict[tuple[int, int], tuple[float, int, int]] = {}  # (faq, later faq) -> (score, phrasing, phrasing)
    for i, j, _ in competing(forms, owners, threshold):
        score = scorer(forms[i], forms[j])
        if score < threshold:
            continue
        pair = (owners[i], owners[j])
        current = best.get(pair)
        # Pairs come in (i, j) order, so an equal score never replaces an earlier pair.
        if current is None or score > current[0]:
            best[pair] = (score, i, j)
    for (first_k, second_k), (score, i, j) in best.items():
        first, second = flow.faqs[first_k], flow.faqs[second_k]
        a, b = phrasings[i], phrasings[j]
        msg = (
            f"FAQ '{second.faq_id}' competes with FAQ '{first.faq_id}' (line {first.pos.line}): "
            f"'{b}' and '{a}' score {score:.0f} (match_threshold {threshold}); "
            f"customers may get the other answer or a 'Did you mean'"
        )
        yield Finding(second.pos, "warning", msg)

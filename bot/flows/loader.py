"""Turn one flow file into a validated ``Flow``, or report every problem in it.

Validation happens in two passes over the composed YAML: the first reads each
section into typed objects (recording unknown keys, wrong types, bad regexes,
missing media), the second checks references between them (every ``go`` and
``start`` names a state). Only a file with no errors becomes a ``Flow`` to
serve: a half-loaded flow would strand customers in states that do not exist.
Lint still checks what could be read of a file with errors (``read_flow``),
so an editor sees every independent mistake in one run, not one phase at a time.

This module reads the file and the document around the sections; the
sections themselves are read by bot.flows.routes (``states``, ``global``) and
bot.flows.sections (the rest), on one shared ``LoadContext``.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TypeVar

from yaml.nodes import Node

from bot.flows.checks import check_flow
from bot.flows.context import SOUND, Flaws, LoadContext
from bot.flows.errors import Finding, FlowLoadError, Pos, decode_utf8, did_you_mean
from bot.flows.model import Compliance, Flow, Settings
from bot.flows.routes import read_global, read_states
from bot.flows.sections import read_compliance, read_faqs, read_numbers, read_settings, read_variables
from bot.flows.yamlnodes import Reader, compose

__all__ = ["Draft", "load_flow", "load_flow_text", "read_flow", "read_flow_text"]

T = TypeVar("T")

TOP_KEYS = ("flow", "default", "numbers", "start", "settings", "global", "states", "faqs", "compliance", "variables")


@dataclass(frozen=True, slots=True)
class Draft:
    """What could be read of one flow file, errors or not.

    ``flow`` is ``None`` only when the file is not a flow at all (unreadable,
    bad YAML, not a mapping); with errors it holds every part read without
    one, for checks that do not depend on the broken parts (``flaws``).
    """

    flow: Flow | None
    findings: list[Finding]
    flaws: Flaws = SOUND

    @property
    def errors(self) -> bool:
        return any(f.severity == "error" for f in self.findings)


def load_flow(path: str | os.PathLike[str], media_dir: str | os.PathLike[str] | None = None) -> Flow:
    """Load and validate one flow file.

    Args:
        path: the YAML file.
        media_dir: where ``media`` file names are looked up; defaults to the
            ``media`` folder beside the file.

    Raises:
        FlowLoadError: with every finding, when the file has any error.
    """
    return _whole(read_flow(path, media_dir))


def load_flow_text(text: str, file: str, media_dir: str, version: str = "") -> Flow:
    """Validate flow text as if read from ``file``; see ``load_flow``."""
    return _whole(read_flow_text(text, file, media_dir, version))


def _whole(draft: Draft) -> Flow:
    if draft.flow is None or draft.errors:
        raise FlowLoadError(draft.findings)
    return draft.flow


def read_flow(path: str | os.PathLike[str], media_dir: str | os.PathLike[str] | None = None) -> Draft:
    """``load_flow`` without raising: the flow read so far, its findings and flaws."""
    file = Path(path)
    try:
        data = file.read_bytes()
    except OSError as exc:
        return Draft(None, [Finding(Pos(str(file), 1, 1), "error", f"cannot read file: {exc}")])
    text = decode_utf8(data, str(file))
    if isinstance(text, Finding):
        return Draft(None, [text])
    media = Path(media_dir) if media_dir is not None else file.parent / "media"
    return read_flow_text(text, str(file), str(media), version=hashlib.sha256(data).hexdigest()[:12])


def read_flow_text(text: str, file: str, media_dir: str, version: str = "") -> Draft:
    """See ``read_flow``."""
    node, findings = compose(text, file)
    if node is None:
        if not findings:
            findings = [Finding(Pos(file, 1, 1), "error", "the file is empty; expected a flow")]
        return Draft(None, findings)
    ctx = LoadContext(Reader(file), media_dir)
    flow = _build(ctx, node, default_name=Path(file).stem, version=version or _digest(text))
    if flow is None:
        return Draft(None, sorted(ctx.reader.findings))
    flow = replace(flow, source=text)
    # Whole-flow checks (compliance words, segment budgets, MMS limits) run on
    # the typed objects, also when other parts had errors: ``flaws`` tells
    # them which parts to leave alone.
    flaws = ctx.flaws()
    return Draft(flow, sorted([*ctx.reader.findings, *check_flow(flow, flaws)]), flaws)


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]


def _build(ctx: LoadContext, node: Node, default_name: str, version: str) -> Flow | None:
    """The document: its top-level keys, then every reference between its sections."""
    r = ctx.reader
    top = r.mapping(node, "the flow file", TOP_KEYS)
    if top is None:
        return None

    def section(key: str, read: Callable[[LoadContext, Node], T]) -> T | None:
        """A top-level section's value (``None`` when absent), recording it as flawed when reading it erred."""
        if key not in top:
            return None
        before = ctx.errors()
        value = read(ctx, top[key][1])
        if ctx.errors() > before:
            ctx.flawed_sections.add(key)
        return value

    name = section("flow", lambda c, n: c.name(n, "flow name")) or default_name
    default = bool(section("default", lambda c, n: c.reader.boolean(n, "'default'")))
    numbers = section("numbers", read_numbers) or ()
    settings = section("settings", read_settings) or Settings()
    global_routes = section("global", read_global) or ()
    states = section("states", read_states) or {}
    if "states" not in top:
        r.error(node, "the flow has no 'states'; expected at least the start state")
        ctx.flawed_sections.add("states")
    faqs = section("faqs", read_faqs) or ()
    compliance = section("compliance", read_compliance) or Compliance()
    lengths = section("variables", read_variables) or {}
    start = ""
    if "start" not in top:
        r.error(node, "the flow has no 'start'; expected the name of the first state")
        ctx.flawed_sections.add("start")
    else:
        start_node = top["start"][1]
        start = r.text(start_node, "'start'") or ""
        if start and start not in states and start not in ctx.broken_states:
            hint = did_you_mean(start, states)
            r.error(start_node, f"start state '{start}' does not exist{hint}")
        if start not in states:
            ctx.flawed_sections.add("start")
    for target, go_node in ctx.gotos:
        if target not in states:
            ctx.flawed_sections.add("go")
            if target not in ctx.broken_states:
                r.error(go_node, f"state '{target}' does not exist{did_you_mean(target, states)}")
    return Flow(
        name=name,
        path=r.file,
        version=version,
        pos=r.pos(node),
        start=start,
        states=states,
        settings=settings,
        default=default,
        numbers=numbers,
        global_routes=global_routes,
        faqs=faqs,
        media_dir=ctx.media_dir,
        compliance=compliance,
        variable_lengths=lengths,
    )

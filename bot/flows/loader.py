"""Turn one flow file into a validated ``Flow``, or report every problem in it.

Validation happens in two passes over the composed YAML: the first reads each
section into typed objects (recording unknown keys, wrong types, bad regexes,
missing media), the second checks references between them (every ``go`` and
``start`` names a state). Only a file with no errors becomes a ``Flow``: a
half-loaded flow would strand customers in states that do not exist.

This module reads the file and the document around the sections; the
sections themselves are read by bot.flows.routes (``states``, ``global``) and
bot.flows.sections (the rest), on one shared ``LoadContext``.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import replace
from pathlib import Path

from yaml.nodes import Node

from bot.flows.checks import check_flow
from bot.flows.context import LoadContext
from bot.flows.errors import Finding, FlowLoadError, Pos, decode_utf8, did_you_mean
from bot.flows.model import Compliance, Flow, Settings, State
from bot.flows.routes import read_global, read_states
from bot.flows.sections import read_compliance, read_faqs, read_numbers, read_settings, read_variables
from bot.flows.yamlnodes import Reader, compose

__all__ = ["load_flow", "load_flow_text"]

TOP_KEYS = ("flow", "default", "numbers", "start", "settings", "global", "states", "faqs", "compliance", "variables")


def load_flow(path: str | os.PathLike[str], media_dir: str | os.PathLike[str] | None = None) -> Flow:
    """Load and validate one flow file.

    Args:
        path: the YAML file.
        media_dir: where ``media`` file names are looked up; defaults to the
            ``media`` folder beside the file.

    Raises:
        FlowLoadError: with every finding, when the file has any error.
    """
    file = Path(path)
    try:
        data = file.read_bytes()
    except OSError as exc:
        raise FlowLoadError([Finding(Pos(str(file), 1, 1), "error", f"cannot read file: {exc}")]) from exc
    text = decode_utf8(data, str(file))
    if isinstance(text, Finding):
        raise FlowLoadError([text])
    media = Path(media_dir) if media_dir is not None else file.parent / "media"
    return load_flow_text(text, str(file), str(media), version=hashlib.sha256(data).hexdigest()[:12])


def load_flow_text(text: str, file: str, media_dir: str, version: str = "") -> Flow:
    """Validate flow text as if read from ``file``; see ``load_flow``."""
    node, findings = compose(text, file)
    if node is None:
        if not findings:
            findings = [Finding(Pos(file, 1, 1), "error", "the file is empty; expected a flow")]
        raise FlowLoadError(findings)
    ctx = LoadContext(Reader(file), media_dir)
    flow = _build(ctx, node, default_name=Path(file).stem, version=version or _digest(text))
    if flow is not None:
        flow = replace(flow, source=text)
    errors = [f for f in ctx.reader.findings if f.severity == "error"]
    if errors or flow is None:
        raise FlowLoadError(ctx.reader.findings)
    # Whole-flow checks (compliance words, segment budgets, MMS limits) need the
    # typed objects, so they run only once the structure is sound.
    checked = check_flow(flow)
    if any(f.severity == "error" for f in checked):
        raise FlowLoadError([*ctx.reader.findings, *checked])
    return flow


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]


def _build(ctx: LoadContext, node: Node, default_name: str, version: str) -> Flow | None:
    """The document: its top-level keys, then every reference between its sections."""
    r = ctx.reader
    top = r.mapping(node, "the flow file", TOP_KEYS)
    if top is None:
        return None
    name = default_name
    if "flow" in top:
        name = ctx.name(top["flow"][1], "flow name") or default_name
    default = bool("default" in top and r.boolean(top["default"][1], "'default'"))
    numbers = read_numbers(ctx, top["numbers"][1]) if "numbers" in top else ()
    settings = read_settings(ctx, top["settings"][1]) if "settings" in top else Settings()
    global_routes = read_global(ctx, top["global"][1]) if "global" in top else ()
    states: dict[str, State] = {}
    if "states" not in top:
        r.error(node, "the flow has no 'states'; expected at least the start state")
    else:
        states = read_states(ctx, top["states"][1])
    faqs = read_faqs(ctx, top["faqs"][1]) if "faqs" in top else ()
    compliance = read_compliance(ctx, top["compliance"][1]) if "compliance" in top else Compliance()
    lengths = read_variables(ctx, top["variables"][1]) if "variables" in top else {}
    start = ""
    if "start" not in top:
        r.error(node, "the flow has no 'start'; expected the name of the first state")
    else:
        start_node = top["start"][1]
        start = r.text(start_node, "'start'") or ""
        if start and start not in states and start not in ctx.broken_states:
            hint = did_you_mean(start, states)
            r.error(start_node, f"start state '{start}' does not exist{hint}")
    for target, go_node in ctx.gotos:
        if target not in states and target not in ctx.broken_states:
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

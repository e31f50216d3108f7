"""Plain-text reports: a failed case as a per-step diff, and a flow's coverage.

Written for content editors reading a CI log: the step's file:line first (so
editors and CI turn it into a link), what was sent, then each expectation as
"expected" over "got", aligned so the difference is seen at a glance. Texts
that span lines are shown as blocks with a ``|`` margin, exactly as sent.
"""

from __future__ import annotations

import json
import math

from bot.transcripts.coverage import FlowCoverage
from bot.transcripts.results import CaseResult, Mismatch, StepFailure

__all__ = ["format_coverage", "format_failure", "percent"]


def format_failure(result: CaseResult) -> str:
    """The report of one failed case (``result.failure`` must be set)."""
    failure = result.failure
    assert failure is not None
    step = failure.step
    lines = [f"FAIL {result.transcript.path}: {result.case.name}"]
    lines.append(f"  step {failure.number} at {step.pos}")
    rows: list[tuple[str, list[str]]] = [("sent", [_sent(failure)])]
    if failure.error:
        rows.append(("error", [failure.error]))
    shown: set[str] = set()
    for mismatch in failure.mismatches:
        # Several checks on one reply: print the reply once, then refer to it.
        again = mismatch.got_text and mismatch.got in shown
        rows.append((mismatch.check, _mismatch(mismatch, again)))
        if mismatch.got_text:
            shown.add(mismatch.got)
    if failure.explained:
        rows.append(("decided", [failure.explained]))
    width = max(len(label) for label, _ in rows) + 2
    for label, body in rows:
        lines.append(f"    {label + ':':<{width}}{body[0]}")
        lines.extend(f"    {'':<{width}}{line}" for line in body[1:])
    left = len(result.case.steps) - failure.number
    if left:
        lines.append(f"  ({left} later step{'s' if left != 1 else ''} not run)")
    return "\n".join(lines)


def format_coverage(coverage: FlowCoverage) -> str:
    flow = coverage.flow
    lowest = "" if coverage.overall >= 100 else f" (the lowest of the three: {coverage.weakest.name})"
    lines = [f"coverage of flow '{flow.name}' ({flow.path}): {percent(coverage.overall)} overall{lowest}"]
    for part in coverage.parts:
        lines.append(f"  {part.name:<7} {part.reached:>3} of {part.total:<3} {percent(part.percent):>6}")
    verbs = {"states": "never entered", "routes": "never taken", "FAQs": "never answered"}
    for part in coverage.parts:
        missing = part.missing
        if missing:
            lines.append(f"  {part.name} {verbs.get(part.name, 'not reached')}:")
            width = max(len(name) for name, _ in missing) + 2
            lines.extend(f"    {name:<{width}}{pos}" for name, pos in missing)
    return "\n".join(lines)


def percent(value: float) -> str:
    """Rounded down to one decimal, so 99.97% never shows as 100%."""
    floored = math.floor(value * 10) / 10
    return f"{floored:g}%"


def _sent(failure: StepFailure) -> str:
    step = failure.step
    parts = []
    if step.wait_written:
        parts.append(f"(after waiting {step.wait_written})")
    parts.append(_quote(step.text or ""))
    if step.media:
        parts.append("with " + ", ".join(m.content_type or m.url for m in step.media))
    return " ".join(parts)


def _mismatch(mismatch: Mismatch, again: bool = False) -> list[str]:
    expected = _text(mismatch.expected) if mismatch.expected_text else mismatch.expected
    got = _text(mismatch.got) if mismatch.got_text else mismatch.got
    if again:
        got = "(the reply shown above)"
    out = [f"expected {expected}", f"got      {got}"]
    if mismatch.expected_text and "\n" in mismatch.expected:
        out = ["expected", *_block(mismatch.expected), f"got      {got}"]
    if mismatch.got_text and "\n" in mismatch.got and not again:
        out = [*out[:-1], "got", *_block(mismatch.got)]
    if mismatch.hint:
        out.append(f"({mismatch.hint})")
    return out


def _block(text: str) -> list[str]:
    return [f"  | {line}".rstrip() for line in text.split("\n")]


def _text(value: str) -> str:
    # Only texts reach here ("(no reply)" and friends are descriptions, shown
    # bare by the caller), so a reply written in brackets is still quoted.
    return _quote(value)


def _quote(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)

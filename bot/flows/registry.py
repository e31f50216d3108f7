"""All the flows in a folder, and which one answers which business number.

Rules (each checked at load, with positions):
- flow names are unique across files;
- a business number is claimed by at most one flow;
- with several flows, exactly one says ``default: true``; a single flow is the
  default without saying so.
Any error in any file rejects the whole folder: a deploy never mixes a new flow
with a stale one.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from bot.flows.errors import Finding, FlowLoadError, Pos
from bot.flows.loader import read_flow
from bot.flows.model import Flow

__all__ = ["FlowSet", "flow_files", "is_litter", "load_flows", "yaml_files"]


@dataclass(frozen=True, slots=True)
class FlowSet:
    """The loaded flows and the number → flow routing table."""

    flows: dict[str, Flow]
    default: Flow
    by_number: dict[str, Flow] = field(default_factory=dict)
    warnings: tuple[Finding, ...] = ()

    def for_number(self, business_number: str) -> Flow:
        """The flow that answers ``business_number`` (the default when none lists it)."""
        return self.by_number.get(business_number, self.default)

    def __iter__(self) -> Iterator[Flow]:
        return iter(self.flows.values())


def is_litter(name: str) -> bool:
    """A file name that is never an editor's own file: hidden, or an editor's or OS's leftover.

    macOS writes ``._name.yaml`` (AppleDouble, binary) beside every file copied
    to a non-Mac disk or share, Emacs ``.#name.yaml`` (lock) and
    ``#name.yaml#`` (auto-save), many editors ``name.yaml~`` (backup), office
    suites ``~$name.yaml`` (lock). Read as flows or transcripts they would
    reject the whole folder, at a deploy or a hot reload, for a file nobody
    wrote; hidden files are skipped as the shell skips them.
    """
    return name.startswith((".", "#", "~")) or name.endswith(("~", "#"))


def yaml_files(folder: str | os.PathLike[str]) -> list[Path]:
    """The ``*.yaml``/``*.yml`` files directly in ``folder``, sorted, without ``is_litter`` ones.

    The extension in any case: Windows tools and exporters write ``Shop.YAML``,
    and a flow skipped for its capitals is missing with nothing said.
    """
    root = Path(folder)
    return sorted(
        p for p in root.iterdir() if p.suffix.lower() in (".yaml", ".yml") and not is_litter(p.name) and p.is_file()
    )


def flow_files(folder: str | Path) -> list[Path]:
    """The flow files directly in ``folder`` (sub-folders hold media and tests)."""
    return yaml_files(folder)


def load_flows(folder: str | Path, media_dir: str | Path | None = None) -> FlowSet:
    """Load every flow in ``folder``.

    Raises:
        FlowLoadError: with the findings of every file, when anything is wrong.
    """
    root = Path(folder)
    if not root.is_dir():
        raise FlowLoadError([Finding(Pos(str(root), 1, 1), "error", "flows folder not found; expected a directory")])
    media = Path(media_dir) if media_dir is not None else root / "media"
    findings: list[Finding] = []
    flows: list[Flow] = []
    # The rules between files are judged on what could be read of every file,
    # so a mistake in one file does not hide them; but a rule whose answer
    # depends on a part that did not read (which flow says 'default', what a
    # flow is named) is left until that part does.
    default_unsure = False  # some file may say 'default: true' in a part that did not read
    unnamed: set[str] = set()  # files whose 'flow:' did not read: named after the file for now
    for path in flow_files(root):
        draft = read_flow(path, media)
        findings.extend(draft.findings)
        if draft.flow is None:
            default_unsure = True
            continue
        flows.append(draft.flow)
        default_unsure = default_unsure or "default" in draft.flaws.sections
        if "flow" in draft.flaws.sections:
            unnamed.add(draft.flow.path)
    if not flows and not findings:
        findings.append(Finding(Pos(str(root), 1, 1), "error", "no flow files (*.yaml) in the flows folder"))
    by_name: dict[str, Flow] = {}
    by_number: dict[str, Flow] = {}
    for flow in flows:
        if flow.name in by_name:
            if flow.path not in unnamed and by_name[flow.name].path not in unnamed:
                first = by_name[flow.name].path
                findings.append(Finding(flow.pos, "error", f"flow name '{flow.name}' is also used by {first}"))
            continue
        by_name[flow.name] = flow
        for number in flow.numbers:
            if number in by_number:
                other = by_number[number].name
                msg = f"number {number} is also answered by flow '{other}'; a number belongs to one flow"
                findings.append(Finding(flow.pos, "error", msg))
            by_number[number] = flow
    defaults = [f for f in flows if f.default]
    if len(flows) > 1 and (len(defaults) > 1 or (not defaults and not default_unsure)):
        names = ", ".join(f.name for f in defaults) or "none"
        msg = f"exactly one flow must say 'default: true' (found: {names})"
        findings.append(Finding(Pos(str(root), 1, 1), "error", msg))
    errors = [f for f in findings if f.severity == "error"]
    if errors:
        raise FlowLoadError(findings)
    default = defaults[0] if defaults else flows[0]
    return FlowSet(flows=by_name, default=default, by_number=by_number, warnings=tuple(findings))

"""Reading YAML as positioned nodes, never as Python objects.

We only *compose* YAML (``yaml.compose`` with the safe loader), which builds a
tree of nodes with their source marks and never constructs Python objects: no
tags can create objects, and no value is coerced by the YAML 1.1 resolver.
That is what keeps ``yes``/``no``/``on``/``off`` keywords as text (YAML 1.1
would turn them into booleans) and gives every value a file:line:col.
Each accessor below records a ``Finding`` and returns ``None`` on bad input,
so one pass reports every problem instead of stopping at the first.
"""

from __future__ import annotations

import math

import yaml
import yaml.reader
from yaml.error import Mark
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from bot.flows.errors import Finding, Pos, did_you_mean

__all__ = ["MAX_DEPTH", "Reader", "compose"]

# The deepest a real flow nests is 7 (the file, states, a state, choices, a
# choice, keywords, a keyword). PyYAML composes nodes recursively, so a few
# hundred unclosed brackets would end in a RecursionError instead of a finding.
MAX_DEPTH = 32


class _TooDeep(Exception):
    def __init__(self, mark: Mark) -> None:
        super().__init__()
        self.mark = mark


class _Loader(yaml.SafeLoader):
    """The safe loader, refusing to compose past ``MAX_DEPTH`` levels."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent: Node | None, index: int) -> Node | None:
        if self._depth >= MAX_DEPTH:
            raise _TooDeep(self.peek_event().start_mark)  # type: ignore[no-untyped-call]
        self._depth += 1
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


def compose(text: str, file: str) -> tuple[Node | None, list[Finding]]:
    """Parse ``text`` into a node tree, or report the syntax error's position."""
    try:
        node = yaml.compose(text, Loader=_Loader)
    except _TooDeep as exc:
        msg = (
            f"the value here is nested more than {MAX_DEPTH} levels deep, the most a file may nest "
            "(a flow needs 7); look for brackets '[' or '{' that are never closed"
        )
        return None, [Finding(Pos(file, exc.mark.line + 1, exc.mark.column + 1), "error", msg)]
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        problem = exc.problem or "invalid YAML"
        # PyYAML's own order is context first ("expected a single document in
        # the stream, but found another document"); where the context began
        # (an unclosed quote or bracket) is often the real mistake.
        context = ""
        if exc.context:
            where = exc.context_mark
            started = ""
            if where is not None and mark is not None and (where.line, where.column) != (mark.line, mark.column):
                started = f" started at line {where.line + 1}, column {where.column + 1}"
            context = f"{exc.context}{started}, "
        msg = f"YAML syntax error: {context}{problem}{_tab_hint(text, line, col)}"
        return None, [Finding(Pos(file, line, col), "error", msg)]
    except yaml.reader.ReaderError as exc:
        # Control characters (e.g. a vertical tab pasted from a word processor):
        # ``position`` is the index in ``text``; report it as line and column.
        index: int = exc.position
        before = text[:index]
        line, col = before.count("\n") + 1, index - (before.rfind("\n") + 1) + 1
        code: int = exc.character if isinstance(exc.character, int) else ord(exc.character)
        msg = f"unacceptable character #x{code:04x} ({exc.reason}); delete or retype it"
        return None, [Finding(Pos(file, line, col), "error", msg)]
    except yaml.YAMLError as exc:  # pragma: no cover - no other error without a mark is raised for text
        return None, [Finding(Pos(file, 1, 1), "error", f"YAML error: {exc}")]
    findings = _unsendable(node, file) if node is not None else []
    return (None, findings) if findings else (node, [])


def _tab_hint(text: str, line: int, col: int) -> str:
    """What to do when a tab is the trouble (PyYAML only says it "cannot start any token").

    Editors that indent with tabs are the usual cause: YAML allows only spaces for
    indentation, and PyYAML also refuses a tab after ``key:``. The tab is the
    character at the error, or in the indentation before it.
    """
    lines = text.split("\n")
    if not 1 <= line <= len(lines):
        return ""
    before = lines[line - 1][:col]
    indentation = before[:len(before) - len(before.lstrip(" \t"))]
    if before[-1:] == "\t" or "\t" in indentation:
        return " (a tab: YAML takes spaces, not tabs; use spaces)"
    return ""


def _unsendable(root: Node, file: str) -> list[Finding]:
    """Scalars holding characters the YAML reader refuses when typed, let in by escapes.

    ``"\\ud83d\\ude00"`` (how JSON writes an emoji) is two lone surrogates in
    YAML, which no reply, log line or database row can encode; ``"\\0"`` is a
    NUL that the file system and carriers refuse. Walked without recursion and
    each node once: aliases share nodes, and an alias bomb must stay cheap.
    """
    findings: list[Finding] = []
    seen: set[int] = set()
    todo = [root]
    while todo:
        node = todo.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, MappingNode):
            todo.extend(part for pair in node.value for part in pair)
        elif isinstance(node, SequenceNode):
            todo.extend(node.value)
        elif isinstance(node, ScalarNode) and (bad := yaml.reader.Reader.NON_PRINTABLE.search(node.value)):
            code = ord(bad.group())
            if 0xD800 <= code <= 0xDFFF:
                what = "half of an emoji written as two escapes"
                fix = "write the emoji itself, or as one escape like \\U0001F600"
            elif code < 0x20 or 0x7F <= code <= 0x9F:
                what, fix = "a control character, written as an escape", "phones cannot show it: delete it"
            else:
                what, fix = "not a character, written as an escape", "delete it"
            mark = node.start_mark
            msg = f"this text holds character #x{code:04x} ({what}); {fix}"
            findings.append(Finding(Pos(file, mark.line + 1, mark.column + 1), "error", msg))
    return sorted(findings)


class Reader:
    """Typed access to composed nodes, collecting findings for one file."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.findings: list[Finding] = []

    def pos(self, node: Node) -> Pos:
        return Pos(self.file, node.start_mark.line + 1, node.start_mark.column + 1)

    def error(self, node: Node, message: str) -> None:
        self.findings.append(Finding(self.pos(node), "error", message))

    def warning(self, node: Node, message: str) -> None:
        self.findings.append(Finding(self.pos(node), "warning", message))

    def mapping(
        self, node: Node, what: str, allowed: tuple[str, ...] | None = None
    ) -> dict[str, tuple[ScalarNode, Node]] | None:
        """A mapping's entries by key, rejecting duplicate and unknown keys."""
        if not isinstance(node, MappingNode):
            self.error(node, f"{what} should be a mapping of 'key: value' lines, got {_kind(node)}")
            return None
        out: dict[str, tuple[ScalarNode, Node]] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, ScalarNode):
                self.error(key_node, f"keys in {what} must be plain words")
                continue
            key = key_node.value
            if key in out:
                first = self.pos(out[key][0])
                self.error(key_node, f"duplicate key '{key}' in {what} (first at line {first.line})")
                continue
            if allowed is not None and key not in allowed:
                hint = did_you_mean(key, allowed)
                expected = ", ".join(allowed)
                self.error(key_node, f"unknown key '{key}' in {what}{hint}; expected one of: {expected}")
                continue
            out[key] = (key_node, value_node)
        return out

    def text(self, node: Node, what: str, allow_empty: bool = False) -> str | None:
        if not isinstance(node, ScalarNode):
            self.error(node, f"{what} should be text, got {_kind(node)}")
            return None
        if node.tag == "tag:yaml.org,2002:null" and node.style is None and not allow_empty:
            self.error(node, f"{what} is empty; expected text")
            return None
        value: str = node.value
        if not value.strip() and not allow_empty:
            self.error(node, f"{what} is empty; expected text")
            return None
        return value

    def texts(self, node: Node, what: str) -> list[tuple[str, ScalarNode]] | None:
        """A list of texts; a single text is accepted as a one-item list."""
        if isinstance(node, ScalarNode):
            value = self.text(node, what)
            return None if value is None else [(value, node)]
        if not isinstance(node, SequenceNode):
            self.error(node, f"{what} should be a list of texts, got {_kind(node)}")
            return None
        out: list[tuple[str, ScalarNode]] = []
        for item in node.value:
            value = self.text(item, f"an item of {what}")
            if value is not None and isinstance(item, ScalarNode):
                out.append((value, item))
        return out

    def sequence(self, node: Node, what: str) -> list[Node] | None:
        if not isinstance(node, SequenceNode):
            self.error(node, f"{what} should be a list (lines starting with '- '), got {_kind(node)}")
            return None
        return list(node.value)

    def boolean(self, node: Node, what: str) -> bool | None:
        # Only true/false: yes/no/on/off are too easy to mean something else.
        value = self.text(node, what)
        if value is None:
            return None
        lowered = value.strip().lower()
        if lowered in ("true", "false"):
            return lowered == "true"
        self.error(node, f"{what} should be true or false, got '{value}'")
        return None

    def integer(self, node: Node, what: str, low: int, high: int) -> int | None:
        value = self.text(node, what)
        if value is None:
            return None
        try:
            number = int(value.strip())
        except ValueError:
            self.error(node, f"{what} should be a whole number from {low} to {high}, got '{value}'")
            return None
        if not low <= number <= high:
            self.error(node, f"{what} should be from {low} to {high}, got {number}")
            return None
        return number

    def duration(self, node: Node, what: str) -> float | None:
        """Durations like ``45s``, ``30m``, ``2h``, ``7d``: a unit is required."""
        value = self.text(node, what)
        if value is None:
            return None
        raw = value.strip().lower()
        units = {"s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
        if raw and raw[-1] in units:
            try:
                amount = float(raw[:-1])
            except ValueError:
                amount = -1.0
            seconds = amount * units[raw[-1]]
            # float() also accepts 'inf', and a finite amount can overflow to inf in seconds.
            if amount > 0 and math.isfinite(seconds):
                return seconds
        self.error(node, f"{what} should be a duration like 45s, 30m, 2h or 7d, got '{value}'")
        return None


def _kind(node: Node) -> str:
    if isinstance(node, MappingNode):
        return "a mapping"
    if isinstance(node, SequenceNode):
        return "a list"
    if node.tag == "tag:yaml.org,2002:null":
        return "nothing"
    return f"'{node.value}'"

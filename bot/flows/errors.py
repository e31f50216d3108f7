"""Findings about flow files: what was wrong, where, and what was expected.

Every problem a content editor can make is reported as a ``Finding`` with the
file, line and column (1-based, as editors count) so that any editor or CI log
can jump to it. A flow with one error is rejected whole: ``FlowLoadError``
carries every finding, not just the first, so one run shows all of them.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

__all__ = ["Finding", "FlowLoadError", "Pos", "closest", "decode_utf8", "did_you_mean", "typo_targets"]

Severity = Literal["error", "warning"]


@dataclass(frozen=True, slots=True, order=True)
class Pos:
    """A place in a flow file; line and column are 1-based."""

    file: str
    line: int
    col: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"


@dataclass(frozen=True, slots=True, order=True)
class Finding:
    """One problem in a flow file. Sorts by file, line, column."""

    pos: Pos
    severity: Severity
    message: str

    def __str__(self) -> str:
        return f"{self.pos}: {self.severity}: {self.message}"


class FlowLoadError(Exception):
    """Raised when flow files have errors; nothing from them is loaded."""

    def __init__(self, findings: Iterable[Finding]) -> None:
        self.findings: list[Finding] = sorted(findings)
        super().__init__("\n".join(str(f) for f in self.findings))


def closest(word: str, candidates: Iterable[str]) -> str | None:
    """The candidate ``word`` is most likely a typo of, if any is close enough."""
    close = difflib.get_close_matches(word, list(candidates), n=1, cutoff=0.6)
    return close[0] if close else None


def typo_targets(keys: Iterable[str], allowed: Sequence[str]) -> set[str]:
    """The ``allowed`` keys that some of ``keys`` (those not allowed) are likely typos of.

    A required key missing because it is misspelt is already reported with
    "did you mean" where the typo is; reporting it missing too would send the
    editor to add a key that is there.
    """
    return {close for key in keys if key not in allowed and (close := closest(key, allowed)) is not None}


def did_you_mean(word: str, candidates: Iterable[str]) -> str:
    """Return `` (did you mean 'x'?)`` for the closest candidate, or ``""``."""
    close = closest(word, candidates)
    return f" (did you mean '{close}'?)" if close is not None else ""


def decode_utf8(data: bytes, file: str) -> str | Finding:
    """A file's text, or the finding that points at its first byte that is not UTF-8."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        # Everything before the bad byte decoded, so its line and column can be counted.
        before = data[: exc.start].decode("utf-8")
        line, col = before.count("\n") + 1, len(before) - (before.rfind("\n") + 1) + 1
        msg = f"file is not UTF-8 text (byte {exc.start}); save it as UTF-8"
        return Finding(Pos(file, line, col), "error", msg)

"""Regular expressions written in flow files: compiled, or why they cannot be used.

A choice's ``pattern`` and a flow's ``revocation_patterns`` are editors' text.
``re.compile`` refuses bad ones with more than ``re.error``: ``ValueError`` for
incompatible flags (``(?a)(?u)``), ``OverflowError`` for a repeat count past
sre's limit (``a{99999999999}``), ``RecursionError`` for groups nested a
thousand deep. Every one of them is the editor's mistake, so every one is a
message for a finding, never an exception out of the loader.

A pattern that compiles can still be unusable: both kinds are searched in
customers' texts on the event loop, and Python's backtracking matcher has no
timeout, so ``(a+)+$`` against thirty a's and a "!" freezes every conversation
for minutes. The classic cause is a repeat inside a repeated group, where the
matcher tries every way of sharing the text between them; such patterns are
refused. An inner repeat of fixed width (``(?:\\d{3})+``), an optional part
(``(-?\\d)+``), or an atomic group or possessive repeat, which never give back
what they matched (``(?>a+)+``, ``(a++)+``), are left alone. Overlapping
alternatives (``(a|a)+``) and polynomial cases (``.*.*x``) are not detected:
the rule catches the usual mistake, not every slow regex.
"""

from __future__ import annotations

import re
from re import _constants as sre  # type: ignore[attr-defined]  # stdlib since 3.11, like _parser
from re import _parser  # type: ignore[attr-defined]
from typing import Any

__all__ = ["NESTED_REPEAT", "compile_regex"]

NESTED_REPEAT = (
    "can take exponential time on some texts, freezing every conversation while it runs: a repeated "
    "group holds a repeat of its own ('+', '*' or '{m,n}' inside '(...)+'); write it with one repeat, "
    "or make the inner one atomic: (?>...) or a possessive '++'"
)


def compile_regex(source: str, flags: int = 0) -> re.Pattern[str] | str:
    """``source`` compiled, or why not, to follow "pattern" in a finding."""
    try:
        compiled = re.compile(source, flags)
    except re.error as exc:
        return f"is not a valid regular expression: {exc.msg}" + (f" (at {exc.pos})" if exc.pos is not None else "")
    except OverflowError:
        return "is not a valid regular expression: a repeat count like {n} is too large"
    except RecursionError:
        return "is not a valid regular expression: groups are nested too deeply"
    except ValueError as exc:
        return f"is not a valid regular expression: {exc}"
    # It compiled, so it parses: the tree is what sre will run.
    return NESTED_REPEAT if _nested_repeat(_parser.parse(source, flags).data, False) else compiled


def _nested_repeat(items: Any, repeated: bool) -> bool:
    """Whether a variable repeat sits inside a repeat (``repeated``) that may backtrack into it."""
    for op, arg in items:
        if op in (sre.MAX_REPEAT, sre.MIN_REPEAT):
            low, high, body = arg
            if repeated and high > 1 and low != high:
                return True
            inner = [(body, repeated or high > 1)]
        elif op is sre.POSSESSIVE_REPEAT:
            inner = [(arg[2], False)]
        elif op is sre.ATOMIC_GROUP:
            inner = [(arg, False)]
        elif op is sre.SUBPATTERN:
            inner = [(arg[-1], repeated)]
        elif op in (sre.ASSERT, sre.ASSERT_NOT):
            inner = [(arg[1], repeated)]
        elif op is sre.BRANCH:
            inner = [(branch, repeated) for branch in arg[1]]
        elif op is sre.GROUPREF_EXISTS:
            inner = [(branch, repeated) for branch in arg[1:] if branch is not None]
        else:
            continue
        if any(_nested_repeat(part, within) for part, within in inner):
            return True
    return False

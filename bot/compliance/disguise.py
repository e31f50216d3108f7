"""Reading words written in disguise, so an opt-out written that way is still one.

Customers who want out and find that STOP "does not work" (or who fear a
filter, or just shout) write the keyword in ways no dictionary holds:
spelled out letter by letter ("S T O P", "s.t.o.p").
:func:`unmask` rewrites such words into the plain word in the normal form
(bot.compliance.clauses.normal_form), and the opt-out rules read the
rewritten text *in addition to* the text as written: a rewrite can only add
an opt-out, never take one away, and it does not bypass the rules either --
"Can I s.t.o.p my order?" reads as "Can I stop my order?" and is no opt-out,
"don't s t o p texting me" is negated, "S.T.O.P? what is that" is a question.

Opt-in and HELP never read the rewrite: they stay exact (see
bot.compliance.keywords for why), and a whole message spelled out
("H E L P") is the keyword already, since the whole-message rule joins words.

The search runs on every message the plain rules did not opt out, so each
rewrite is a single compiled regex that fails fast on ordinary text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["Unmasked", "unmask"]

# Three or more single letters in a row, separated by spaces (hyphens and
# underscores are spaces in the normal form), dots or asterisks: "s t o p",
# "s.t.o.p", "s. t. o. p", "s*t*o*p". Three: END is the shortest keyword, and
# two ("i c", "u r") are text speak. Each letter must stand alone (\b after
# it, a space before the first), so "stop u r" joins nothing. Commas are left
# out on purpose: "rows E, N, D" is a list of letters. The run is searched in
# the text with a space in front, so that the pattern starts with a literal
# space: sre then jumps from space to space, about 5 us for 700 characters,
# where a lookbehind or a class in front costs every position (15-35 us).
_SPELLED_OUT = re.compile(r" ([^\W\d_](?:[ .*]+[^\W\d_]\b){2,})")
_SPELLING_GAPS = re.compile(r"[ .*]+")


@dataclass(frozen=True, slots=True)
class Unmasked:
    """A message in normal form with its disguised words read as plain words."""

    text: str
    read: tuple[tuple[str, str], ...]  # (as written, as read), in text order

    def describe(self) -> str:
        """What was read how, for explain(): "'s t o p' as 'stop'"."""
        return ", ".join(f"{written!r} as {plain!r}" for written, plain in self.read)


def unmask(folded: str) -> Unmasked | None:
    """Read the disguised words of ``folded`` (in normal form); None when there are none."""
    spaced = " " + folded
    if _SPELLED_OUT.search(spaced) is None:
        return None
    read: list[tuple[str, str]] = []

    def join(match: re.Match[str]) -> str:
        written = match.group(1)
        plain = _SPELLING_GAPS.sub("", written)
        read.append((written, plain))
        return " " + plain

    return Unmasked(_SPELLED_OUT.sub(join, spaced)[1:], tuple(read))

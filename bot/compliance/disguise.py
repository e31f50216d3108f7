"""Reading words written in disguise, so an opt-out written that way is still one.

Customers who want out and find that STOP "does not work" (or who fear a
filter, or just shout) write the keyword in ways no dictionary holds:
spelled out letter by letter ("S T O P", "s.t.o.p"), or with digits and
symbols for letters ("ST0P", "$TOP", "unsubscr1be").
:func:`unmask` rewrites such words into the plain word in the normal form
(bot.compliance.clauses.normal_form), and the opt-out rules read the
rewritten text *in addition to* the text as written: a rewrite can only add
an opt-out, never take one away, and it does not bypass the rules either --
"Can I s.t.o.p my order?" reads as "Can I stop my order?" and is no opt-out,
"don't st0p texting me" is negated, "S.T.O.P? what is that" is a question.

Opt-in and HELP never read the rewrite: they stay exact (see
bot.compliance.keywords for why), and a whole message spelled out
("H E L P") is the keyword already, since the whole-message rule joins words.

The search runs on every message the plain rules did not opt out, so each
kind of rewrite is first looked for with one compiled regex that fails fast
on ordinary text; the Python work is done only around what it finds.
"""

from __future__ import annotations

import re
from collections.abc import Callable
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
# A digit or symbol that stands for a letter (below) may be one of them: "s t 0 p",
# "5 t o p" join to "st0p" and "5top", then read as such.
_SPELLED_OUT = re.compile(r" ((?:[^\W\d_]|[013457$@])(?:[ .*]+(?:[^\W\d_]|[013457$@])(?!\w)){2,})")
_SPELLING_GAPS = re.compile(r"[ .*]+")


# Digits and symbols typed for the letters they look like, inside a word that
# has letters: "st0p", "5top", "$top", "unsubscr1be", "c4ncel", "3nd". A "1"
# is an "i" or an "l" ("qu1t", "cance1"): both readings are tried.
_FOR_LETTERS = "013457$@"
_AS_I = str.maketrans(_FOR_LETTERS, "oieastsa")
_AS_L = str.maketrans(_FOR_LETTERS, "oleastsa")
# Where such a character touches a letter. The class comes first so that sre
# scans for it alone (a digit is rare in most texts); the letter is then
# checked on either side.
_SUBSTITUTED = re.compile(r"[013457$@](?:(?<=[^\W\d_].)|(?=[^\W\d_]))")
_WORD_TAIL = re.compile(r"[\w$@]*")
_NOT_FOR_LETTERS = frozenset("2689")


@dataclass(frozen=True, slots=True)
class Unmasked:
    """A message in normal form with its disguised words read as plain words."""

    text: str
    read: tuple[tuple[str, str], ...]  # (as written, as read), in text order

    def describe(self) -> str:
        """What was read how, for explain(): "'s t o p' as 'stop'"."""
        return ", ".join(f"{written!r} as {plain!r}" for written, plain in self.read)


def _spelled_out(folded: str, read: list[tuple[str, str]]) -> str:
    spaced = " " + folded
    if _SPELLED_OUT.search(spaced) is None:
        return folded

    def join(match: re.Match[str]) -> str:
        written = match.group(1)
        plain = _SPELLING_GAPS.sub("", written)
        read.append((written, plain))
        return " " + plain

    return _SPELLED_OUT.sub(join, spaced)[1:]


def _disguised_words(text: str) -> list[tuple[int, int]]:
    """The spans of the words in ``text`` written with digits or symbols for letters."""
    spans: list[tuple[int, int]] = []
    end = 0
    for hit in _SUBSTITUTED.finditer(text):
        if hit.start() < end:
            continue  # another character of the word just read
        start = hit.start()
        while start and (text[start - 1].isalnum() or text[start - 1] in "_$@"):
            start -= 1
        tail = _WORD_TAIL.match(text, hit.start())
        end = tail.end() if tail is not None else hit.end()
        word = text[start:end]
        # A word with another digit, or more digits than letters, is a code,
        # a time or a number ("ac123456", "10am", "2nd"), not a disguise.
        letters = sum(ch.isalpha() for ch in word)
        if any(ch in _NOT_FOR_LETTERS for ch in word) or letters < len(word) - letters:
            continue
        spans.append((start, end))
    return spans


def unmask(folded: str, wanted: Callable[[str], bool]) -> tuple[Unmasked, ...]:
    """Readings of ``folded`` (in normal form) with its disguised words read plainly.

    A reading is returned only when one of the words it reads is ``wanted``
    (an opt-out keyword, as the vocabulary decides): "3rd", "10am" or "a b c"
    read as "erd", "ioam", "abc" change nothing the rules could find, and
    each reading costs the rules a second pass over the whole text. () when
    there is none; two when a "1" may be an "i" or an "l".
    """
    read: list[tuple[str, str]] = []
    text = _spelled_out(folded, read)
    spans = _disguised_words(text) if _SUBSTITUTED.search(text) is not None else []
    if not spans and not read:
        return ()
    tables = (_AS_I, _AS_L) if any("1" in text[a:b] for a, b in spans) else (_AS_I,)
    readings = []
    for table in tables:
        pieces, words, last = [], list(read), 0
        for start, end in spans:
            plain = text[start:end].translate(table)
            words.append((text[start:end], plain))
            pieces += [text[last:start], plain]
            last = end
        # A spelled-out word may itself hold a digit ("s t 0 p" -> "st0p").
        if any(wanted(plain.translate(table)) for _, plain in words):
            readings.append(Unmasked("".join(pieces) + text[last:], tuple(words)))
    return tuple(readings)

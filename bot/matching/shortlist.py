"""Exact shortlisting for ``token_set_ratio``: score only what can win.

Scoring a text against every phrasing costs one ``token_set_ratio`` each
(tokenising, sorting and set arithmetic per pair). With thousands of phrasings
nearly all of that work is on phrasings that cannot be the answer. ``search``
scores a short list that provably holds every phrasing scoring at least the
second-best FAQ's score, so the best two FAQs, their best phrasings and every
tie between them come out exactly as from scoring everything.

Why it is exact. For the word sets Q (the query) and P (a phrasing), with
I = Q & P, A = Q - P, B = P - Q, ``s`` the length of I's words joined by
spaces and L_Q, L_P those of all of Q and of P, rapidfuzz's
``token_set_ratio`` is:

- 100 when I is not empty and A or B is (one side holds the other);
- ``ratio(join(Q), join(P))`` when I is empty;
- otherwise the best of ``ra = 200 s / (s + L_Q)`` (the shared words against
  the query), ``rb = 200 s / (s + L_P)`` (against the phrasing) and
  ``rab = 200 (s + 1 + LCS(join A, join B)) / (L_Q + L_P)``.

So a score is either *word-level* (100, ``ra``, ``rb``: fixed by which words
are shared, found through indexes below) or *character-level* (``rab``, or
the ratio when nothing is shared). Every character-level value counts a
common subsequence of two strings made of the same characters as join(Q) and
join(P), so it is at most the ``ratio`` of their characters sorted (the size
of the multiset intersection): one C-level ``fuzz.ratio`` pass over
pre-sorted characters (the "bag") bounds it, and with a cutoff keeps few.

The search walks a ladder of cutoffs c = 100, 95, ... down to the floor. At
each rung it scores every phrasing whose word-level score reaches c (two
indexes, below); once two FAQs score at least c, the second-best score so far
is a safe cutoff: a phrasing not yet scored has a word-level score below c and
can only beat that cutoff through its character-level score, so its bag must
too. The bag hits are scored best-first and the walk stops when the bag drops
below the second-best FAQ's score so far.

The two word-level indexes (weights: a word weighs its length plus one, its
space, so ``s`` is the shared weight minus one):

- ``ra >= c`` means ``s >= tau L_Q`` with ``tau = c / (200 - c)``: the query's
  words are combined (rarest first, intersecting their postings as we go)
  into every smallest set heavy enough; each set's phrasings qualify. That
  is, a phrasing qualifies when the query words it holds weigh enough
  together, so when the query words' postings are short each phrasing's
  shared weight is summed once per search and every rung takes the
  heaviest (``MAX_SUMMED_POSTINGS``).
- ``rb >= c`` means the phrasing's words missing from the query weigh at most
  ``(1 - tau) L_P``. Each phrasing is indexed under every set of its own words
  it keeps after dropping at most that weight (at the build floor), with the
  ``rb`` that set gives; the query looks up its own word sets.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterator, Sequence

from rapidfuzz import fuzz, process

__all__ = ["Scorer", "Shortlist"]

# A score of a query's match form against a phrasing's, never above their
# ``token_set_ratio``: every bound below is a bound on ``token_set_ratio``.
Scorer = Callable[[str, str], float]


def _token_set_ratio(query: str, choice: str) -> float:
    return float(fuzz.token_set_ratio(query, choice, processor=None))

# Slack wherever a bound meets a score: it only ever widens the shortlist.
# rapidfuzz's ``process.extract`` applies a fractional ``score_cutoff`` with a
# float error (it drops some pairs scoring exactly the cutoff, by ~1e-6), and a
# bound computed here may differ from rapidfuzz's score in the last place.
EPSILON = 0.01
# Phrasings with more content words than this are not put in the kept-words
# index (2**n sets); they are checked directly for every query instead.
MAX_INDEXED_WORDS = 10
LADDER = (100.0, 95.0, 90.0, 85.0, 80.0)
# A search sums each phrasing's shared weight once, over the postings of the
# query's words, when they hold at most this many entries; longer postings are
# intersected rung by rung instead (``_by_query``). Either finds the same sets.
MAX_SUMMED_POSTINGS = 400


def _ratio(shared: int, length: int) -> float:
    """rapidfuzz's shared-words ratio: ``100 - 100 (L - s) / (s + L)``."""
    return 100 - 100 * (length - shared) / (shared + length)


def _tau(cutoff: float) -> float:
    """The share ``s / L`` from which ``_ratio`` reaches ``cutoff``."""
    return cutoff / (200 - cutoff)


def _first(entry: tuple[float, int]) -> float:
    return entry[0]


def _weight(words: Sequence[str]) -> int:
    return sum(len(w) for w in words) + len(words)


def _kept_sets(words: tuple[str, ...], limit: float) -> Iterator[tuple[tuple[str, ...], int]]:
    """Every non-empty set of ``words`` left after dropping words weighing at most ``limit``, with its weight."""
    weights = [len(w) + 1 for w in words]
    total = sum(weights)
    yield words, total
    # Depth-first over the positions dropped (increasing), so each set comes once.
    stack: list[tuple[tuple[int, ...], int]] = [((j,), weights[j]) for j in range(len(words)) if weights[j] <= limit]
    while stack and len(words) > 1:
        dropped, weight = stack.pop()
        yield tuple(w for j, w in enumerate(words) if j not in dropped), total - weight
        if len(dropped) + 2 > len(words):
            continue
        for j in range(dropped[-1] + 1, len(words)):
            if weight + weights[j] <= limit:
                stack.append(((*dropped, j), weight + weights[j]))


class Shortlist:
    """Match forms of phrasings, indexed for exact best-first ``token_set_ratio`` search.

    Args:
        contents: each phrasing's match form: words separated by single spaces.
        floor: the lowest cutoff searches will use; the kept-words index is
            cut for it (a search with a lower floor rebuilds it).
        scorer: what a phrasing scores: ``token_set_ratio`` or any score never
            above it (``bot.matching.coverage``). A phrasing left unscored has
            a ``token_set_ratio`` below the cut, so its score is too.
    """

    def __init__(self, contents: Sequence[str], floor: float, scorer: Scorer = _token_set_ratio) -> None:
        self.contents = list(contents)
        self.scorer = scorer
        self._words = [tuple(sorted(set(c.split()))) for c in self.contents]
        self._sets = [frozenset(w) for w in self._words]
        self._lengths = [len(" ".join(w)) for w in self._words]
        postings: dict[str, list[int]] = {}
        for i, words in enumerate(self._words):
            for word in words:
                postings.setdefault(word, []).append(i)
        self._postings = {w: frozenset(ids) for w, ids in postings.items()}
        # Sorted characters of each phrasing's joined words, ordered by length
        # so that a length window is one slice.
        by_length = sorted(range(len(self.contents)), key=self._lengths.__getitem__)
        self._bag_ids = by_length
        self._bags = ["".join(sorted(" ".join(self._words[i]))) for i in by_length]
        self._bag_lengths = [self._lengths[i] for i in by_length]
        self._kept: dict[str, list[tuple[float, int]]] = {}
        self._kept_prefixes: set[str] = set()
        self._unindexed: list[int] = []
        self._kept_floor = floor
        self._build_kept(floor)

    def __len__(self) -> int:
        return len(self.contents)

    def _build_kept(self, floor: float) -> None:
        """Index each phrasing under the word sets it keeps with ``rb >= floor``."""
        kept: dict[str, list[tuple[float, int]]] = {}
        unindexed: list[int] = []
        droppable = 1 - _tau(floor) if floor < 100 else 0.0
        for i, words in enumerate(self._words):
            if len(words) > MAX_INDEXED_WORDS:
                unindexed.append(i)
                continue
            length = self._lengths[i]
            for keep, weight in _kept_sets(words, droppable * length + EPSILON):
                rb = 100.0 if len(keep) == len(words) else _ratio(weight - 1, length)
                key = " ".join(keep)
                entries = kept.get(key)
                if entries is None:
                    kept[key] = [(rb, i)]
                else:
                    entries.append((rb, i))
        for entries in kept.values():
            if len(entries) > 1:
                entries.sort(key=lambda e: (-e[0], e[1]))
        self._kept = kept
        # Every leading run of words of a key: the query's walk over its own
        # sorted words stops as soon as no key starts that way.
        prefixes: set[str] = set()
        for key in kept:
            end = key.find(" ")
            while end != -1:
                prefixes.add(key[:end])
                end = key.find(" ", end + 1)
            prefixes.add(key)
        self._kept_prefixes = prefixes
        self._unindexed = unindexed
        self._kept_floor = floor

    # -- the search ---------------------------------------------------------

    def search(self, query: str, floor: float, groups: Sequence[int]) -> list[tuple[float, int]]:
        """(score, phrasing) for a set of phrasings that decides the best two groups.

        Returns scores (``scorer``'s) of at least ``floor``, for a set
        holding every phrasing that scores at least the second-best group's
        score (a group per phrasing in ``groups``: its FAQ). Ranking these
        gives the same best two groups as ranking every phrasing.
        """
        words = frozenset(query.split())
        if not words or not self.contents or floor > 100:
            return []
        if floor < self._kept_floor:
            self._build_kept(floor)
        length = len(" ".join(words))
        postings = self._postings
        known = [w for w in words if w in postings]
        scores: dict[int, float] = {}
        best = _BestTwo(groups)
        contents = self.contents
        scorer = self.scorer

        def score(i: int) -> None:
            value = scorer(query, contents[i])
            scores[i] = value
            best.add(i, value)

        # rb: the query's own word sets, looked up once; (rb, phrasing), best first.
        kept_index = self._kept
        kept = [entry for key in self._keys(sorted(known)) for entry in kept_index.get(key, ())]
        kept.sort(key=_first, reverse=True)  # stable: equal rb keep their order, as before
        # ra: each phrasing's shared weight, summed once over the postings when
        # they are short (the ladder then takes the heaviest first, rung by
        # rung); else the smallest heavy-enough word sets, per rung.
        shared = self._shared_weights(known) if len(self._unindexed) + sum(
            len(postings[w]) for w in known) <= MAX_SUMMED_POSTINGS else None
        if shared is None:
            known.sort(key=lambda w: (len(postings[w]), w))
        else:
            unindexed = self._unindexed_ratios(words, length)
        taken = heavy = loose = 0
        for cutoff in (*(c for c in LADDER if c > floor), float(floor)):
            while taken < len(kept) and kept[taken][0] + EPSILON >= cutoff:
                if kept[taken][1] not in scores:
                    score(kept[taken][1])
                taken += 1
            if shared is None:
                for i in self._by_query(words, known, length, cutoff):
                    if i not in scores:
                        score(i)
            else:
                # Exactly the phrasings ``_by_query`` finds for this cutoff.
                need = _tau(cutoff) * length + 1 - EPSILON
                while heavy < len(shared) and shared[heavy][0] >= need:
                    if shared[heavy][1] not in scores:
                        score(shared[heavy][1])
                    heavy += 1
                while loose < len(unindexed) and unindexed[loose][0] + EPSILON >= cutoff:
                    if unindexed[loose][1] not in scores:
                        score(unindexed[loose][1])
                    loose += 1
            if best.second >= cutoff:
                break
        # Whatever is not scored yet scores below the last cutoff in words;
        # it can only matter through its characters, and the bag bounds those.
        # (A 100 is always word-level: with two FAQs at 100 nothing is left.)
        bar = max(floor, best.second)
        for i, bag in self._bag_hits(words, length, bar - EPSILON) if bar < 100 else ():
            if bag + EPSILON < max(floor, best.second):
                break
            if i not in scores:
                score(i)
        return [(value, i) for i, value in scores.items() if value >= floor]

    def _shared_weights(self, known: list[str]) -> list[tuple[int, int]]:
        """(weight of the query words it holds, phrasing) for every phrasing holding one, heaviest first.

        A phrasing is among ``_by_query``'s sets of heavy-enough query words
        exactly when all the query words it holds together are heavy enough.
        """
        shared: dict[int, int] = {}
        get = shared.get
        for word in known:
            weight = len(word) + 1
            for i in self._postings[word]:
                shared[i] = get(i, 0) + weight
        return sorted(((weight, i) for i, weight in shared.items()), key=_first, reverse=True)

    def _unindexed_ratios(self, words: frozenset[str], length: int) -> list[tuple[float, int]]:
        """(best of ra and rb, phrasing) for the unindexed phrasings sharing a word, best first."""
        out: list[tuple[float, int]] = []
        for i in self._unindexed:
            common = self._sets[i] & words
            if common:
                shared = _weight(tuple(common)) - 1
                out.append((max(_ratio(shared, length), _ratio(shared, self._lengths[i])), i))
        out.sort(key=_first, reverse=True)
        return out

    def _by_query(self, words: frozenset[str], known: list[str], length: int, cutoff: float) -> set[int]:
        """Phrasings whose ``ra`` reaches ``cutoff`` (and unindexed ones whose ``rb`` does)."""
        found: set[int] = set()
        # The smallest sets of query words heavy enough, rarest first.
        need = _tau(cutoff) * length + 1 - EPSILON
        weights = [len(w) + 1 for w in known]
        rest = [sum(weights[j:]) for j in range(len(known) + 1)]

        def combine(start: int, weight: int, ids: frozenset[int] | None) -> None:
            for j in range(start, len(known)):
                if weight + rest[j] < need:
                    return
                here = self._postings[known[j]] if ids is None else ids & self._postings[known[j]]
                if not here:
                    continue
                if weight + weights[j] >= need:
                    found.update(here)
                else:
                    combine(j + 1, weight + weights[j], here)

        combine(0, 0, None)
        for i in self._unindexed:
            common = self._sets[i] & words
            if common:
                shared = _weight(tuple(common)) - 1
                if max(_ratio(shared, length), _ratio(shared, self._lengths[i])) + EPSILON >= cutoff:
                    found.add(i)
        return found

    def _keys(self, words: list[str]) -> Iterator[str]:
        """Joins of the subsets of ``words`` (sorted) that start some kept-words key."""
        stack = [(0, "")]
        while stack:
            start, prefix = stack.pop()
            for j in range(start, len(words)):
                key = f"{prefix} {words[j]}" if prefix else words[j]
                if key in self._kept_prefixes:
                    yield key
                    stack.append((j + 1, key))

    def _bag_hits(self, words: frozenset[str], length: int, cutoff: float) -> list[tuple[int, float]]:
        """(phrasing, bag ratio) at or above ``cutoff``, best first."""
        cutoff = max(cutoff, 0.0)
        low, high = 0, len(self._bags)
        if cutoff > 0:
            # ratio <= 200 min(L_Q, L_P) / (L_Q + L_P): outside this window of
            # lengths the cutoff cannot be reached.
            low = bisect.bisect_left(self._bag_lengths, int(length * cutoff / (200 - cutoff)))
            high = bisect.bisect_right(self._bag_lengths, int(length * (200 - cutoff) / cutoff) + 1)
        bag = "".join(sorted(" ".join(sorted(words))))
        hits = process.extract(
            bag, self._bags[low:high], scorer=fuzz.ratio, processor=None, limit=None, score_cutoff=cutoff
        )
        return [(self._bag_ids[low + j], float(value)) for _, value, j in hits]


class _BestTwo:
    """The best score of the best group and of the runner-up group, as scores arrive."""

    def __init__(self, groups: Sequence[int]) -> None:
        self.groups = groups
        self.top_group = -1
        self.top = -1.0
        self.second = -1.0

    def add(self, index: int, score: float) -> None:
        group = self.groups[index]
        if group == self.top_group:
            self.top = max(self.top, score)
        elif score > self.top:
            self.top_group, self.top, self.second = group, score, self.top
        else:
            self.second = max(self.second, score)

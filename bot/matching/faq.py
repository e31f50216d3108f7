"""Deterministic, explainable fuzzy matching of customers' texts to FAQs.

Scorer: ``rapidfuzz.fuzz.token_set_ratio`` over *content words* (stop-words
removed, plurals stemmed, see ``bot.matching.normalize``), after unknown words
are spelled toward the FAQs' own vocabulary (``bot.matching.vocabulary``). Customers text fragments of the
question ("shipping cost?", "hrs sunday"), so a measure that rewards the
query's words being contained in a phrasing — in any order — fits better than
whole-string similarity. Dropping stop-words stops "you" or "what" from
scoring 100 against everything; and a single common word held in the other
side ("order" in "cancel my order") scores by how much of each side it covers
instead of 100 (``bot.matching.coverage``). The choice was measured on the
labelled noisy set in ``tests/data/retail_queries.yaml`` (see
``tests/test_matching.py``).

Every phrasing is normalised once, here, at load. Ties are broken by a
whole-string ``ratio`` and then by the FAQ's order in the file, so the same
text always gets the same answer.

Only phrasings that can still be among the best two FAQs are scored
(``bot.matching.shortlist``: an inverted index over the content words and
bounds that are proved, not tuned), so large FAQ sets stay fast; the answer,
the runner-up, their scores, phrasings and tie-breaks are exactly those of
scoring every phrasing (``FaqIndex.match_exhaustive``, kept as the reference).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from rapidfuzz import fuzz

from bot.flows.model import Faq
from bot.matching.coverage import CoverageScore, specific_words
from bot.matching.normalize import match_form, normalize
from bot.matching.shortlist import Shortlist
from bot.matching.vocabulary import Vocabulary

__all__ = ["MATCH_MEMO", "Candidate", "FaqIndex", "FaqMatch", "has_evidence", "score_text"]

Verdict = Literal["answer", "ambiguous", "none"]
MATCH_MEMO = 2048  # normalised texts whose match is remembered, per FAQ index


@dataclass(frozen=True, slots=True)
class Candidate:
    """The best phrasing of one FAQ for a text, with its score (0-100)."""

    faq_id: str
    score: float
    phrasing: str
    tie_break: float = 0.0


@dataclass(frozen=True, slots=True)
class FaqMatch:
    """The outcome for one text: answer, ask "did you mean", or no match."""

    verdict: Verdict
    candidates: tuple[Candidate, ...]

    @property
    def best(self) -> Candidate | None:
        return self.candidates[0] if self.candidates else None

    def explain(self) -> str:
        shown = ", ".join(f"{c.faq_id}={c.score:.0f} via '{c.phrasing}'" for c in self.candidates[:3])
        return f"faq {self.verdict}: {shown or 'no candidate'}"


def has_evidence(form: str) -> bool:
    """Whether a text (in ``match_form``) says enough to be matched fuzzily.

    ``token_set_ratio`` scores 100 whenever every word of the query is in a
    phrasing, so a lone letter or digit ("e", "4": a typo, a menu number sent
    in another state) answered whichever FAQ has that one-character word
    ("e-gift cards"). A match needs a word of two characters or more ("id",
    "tv" are questions; "e" is not).
    """
    return any(len(word) > 1 for word in form.split())


def score_text(query_norm: str, choice_norm: str) -> float:
    """Score two normalised texts the way option matching does (``token_set_ratio`` of their match forms).

    FAQs are scored by their index's ``CoverageScore``, which is never higher.
    """
    return float(fuzz.token_set_ratio(match_form(query_norm), match_form(choice_norm), processor=None))


class FaqIndex:
    """All phrasings of a flow's FAQs, ready to score a normalised text."""

    def __init__(self, faqs: Iterable[Faq], threshold: int, margin: int) -> None:
        self.threshold = threshold
        self.margin = margin
        self._faq_ids: list[str] = []
        self._phrasings: list[str] = []
        self._norms: list[str] = []
        self._contents: list[str] = []
        self._order: dict[str, int] = {}
        for order, faq in enumerate(faqs):
            self._order[faq.faq_id] = order
            for phrasing in faq.phrasings:
                norm = normalize(phrasing)
                if not norm:
                    continue
                self._faq_ids.append(faq.faq_id)
                self._phrasings.append(phrasing)
                self._norms.append(norm)
                self._contents.append(match_form(norm))
        self.vocabulary = Vocabulary(word for content in self._contents for word in content.split())
        self._groups = [self._order[faq_id] for faq_id in self._faq_ids]
        self.scorer = CoverageScore(specific_words(zip(self._faq_ids, self._contents, strict=True)))
        self._shortlist = Shortlist(self._contents, self.floor, self.scorer)
        self._memo = functools.lru_cache(maxsize=MATCH_MEMO)(self._match)

    def __len__(self) -> int:
        return len(self._phrasings)

    @property
    def floor(self) -> int:
        """The lowest score kept as a candidate: a close runner-up just under the threshold."""
        return max(0, self.threshold - self.margin)

    def query_form(self, query_norm: str) -> str:
        """What phrasings are scored against: content words, spelled toward the vocabulary."""
        return self.vocabulary.correct(match_form(query_norm))

    def match(self, query_norm: str) -> FaqMatch:
        """Match an already normalised text (``bot.matching.normalize``).

        Customers send the same short texts over and over ("hours", "where is
        my order"), and normalising folds case, punctuation and letter runs
        together, so the latest results are kept (``MATCH_MEMO`` texts, least
        recently used dropped first). A match is a pure function of the text
        and this index, which never changes after it is built (a hot reload
        builds a new one), so a remembered result is the computed one.
        """
        return self._memo(query_norm)

    def memo_info(self) -> functools._CacheInfo:
        """Hits, misses and size of the match memo (for tests and diagnostics)."""
        return self._memo.cache_info()

    def _match(self, query_norm: str) -> FaqMatch:
        if not query_norm or not self._contents:
            return FaqMatch("none", ())
        query = self.query_form(query_norm)
        if not has_evidence(query):
            return FaqMatch("none", ())
        hits = self._shortlist.search(query, self.floor, self._groups)
        hits.sort(key=lambda hit: (-hit[0], hit[1]))  # as process.extract orders them
        return self._rank(query_norm, hits)

    def match_exhaustive(self, query_norm: str) -> FaqMatch:
        """``match`` by scoring every phrasing: the reference the shortlist must equal."""
        if not query_norm or not self._contents:
            return FaqMatch("none", ())
        query = self.query_form(query_norm)
        if not has_evidence(query):
            return FaqMatch("none", ())
        # Every phrasing scored; the floor keeps only those that could be the
        # best or a close runner-up. By descending score, then file order.
        scorer, floor = self.scorer, self.floor
        hits = [(score, i) for i, content in enumerate(self._contents) if (score := scorer(query, content)) >= floor]
        hits.sort(key=lambda hit: (-hit[0], hit[1]))
        return self._rank(query_norm, hits)

    def _rank(self, query_norm: str, hits: list[tuple[float, int]]) -> FaqMatch:
        """Best phrasing per FAQ, FAQs ranked by (score, tie-break, file order).

        ``hits`` are (score, phrasing index) by descending score, then index:
        of equal (score, tie-break) phrasings of one FAQ the first is shown.
        """
        best: dict[str, Candidate] = {}
        for score, index in hits:
            faq_id = self._faq_ids[index]
            tie = float(fuzz.ratio(query_norm, self._norms[index], processor=None))
            current = best.get(faq_id)
            if current is None or (score, tie) > (current.score, current.tie_break):
                best[faq_id] = Candidate(faq_id, score, self._phrasings[index], tie)
        ranked = sorted(best.values(), key=lambda c: (-c.score, -c.tie_break, self._order[c.faq_id]))
        if not ranked or ranked[0].score < self.threshold:
            return FaqMatch("none", tuple(ranked[:2]))
        if len(ranked) > 1 and ranked[0].score - ranked[1].score < self.margin:
            return FaqMatch("ambiguous", tuple(ranked[:2]))
        return FaqMatch("answer", tuple(ranked[:2]))

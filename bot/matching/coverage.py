"""The FAQ score: ``token_set_ratio``, except that one common word is no match on its own.

``token_set_ratio`` scores 100 whenever one side's words are all in the other
(its subset rule). Over content words that made one word decide everything:
"where is my order" is just ``order``, so as a phrasing it scored 100 against
"I want to cancel my order" and "order a gift card", and as a text it scored
100 against every phrasing with "order" in it ("edit my order", "bulk
order"), a confident wrong answer or a "Did you mean" between two wrong ones.

So when the side held in the other is a single word, the score says how much
of each side that word covers: all of the one-word side, and of the longer
side its share, as ``token_set_ratio`` measures shares (``200 s / (s + L)``,
``s`` the word's length, ``L`` that of the longer side's words joined), half
and half::

    score = (100 + 200 s / (s + L)) / 2 = 50 + 100 s / (s + L)

"order" against "cancel order" scores 79.4, under the example flow's 80; a
longer, more specific word against one short extra word still answers
("shipping" against "shipping cost": 88.1).

Except for a *specific* word: one that only one FAQ's phrasings use. Such a
word names its FAQ whatever surrounds it, so it keeps the 100: "return" (only
the returns FAQ says it, once "item" is a stop-word) answers "i want to
return my backpack" as it answers "return", however long the product's name.
Which words are specific is a property of the FAQ set, so this score belongs
to one ``FaqIndex`` (``CoverageScore``), not to two texts alone.

The score is never above ``token_set_ratio`` (it only lowers some of its
100s), which is what keeps ``bot.matching.shortlist`` exact with it: the
shortlist's bounds are bounds on ``token_set_ratio``, hence on this score.
Measured on tests/data/retail_queries.yaml (tests/test_matching.py).
"""

from __future__ import annotations

from collections.abc import Iterable

from rapidfuzz import fuzz

__all__ = ["CoverageScore", "specific_words"]


def specific_words(forms: Iterable[tuple[str, str]]) -> frozenset[str]:
    """The words that only one FAQ uses, from (FAQ id, phrasing's match form) pairs."""
    owner: dict[str, str] = {}
    shared: set[str] = set()
    for faq_id, form in forms:
        for word in form.split():
            if owner.setdefault(word, faq_id) != faq_id:
                shared.add(word)
    return frozenset(owner.keys() - shared)


class CoverageScore:
    """The score of a text's match form against a phrasing's (0-100), for one FAQ set.

    Args:
        specific: the words one FAQ alone uses (``specific_words``): held in
            the other side, they keep ``token_set_ratio``'s 100.
    """

    def __init__(self, specific: frozenset[str]) -> None:
        self.specific = specific

    def __call__(self, query: str, choice: str) -> float:
        score = float(fuzz.token_set_ratio(query, choice, processor=None))
        if score < 100:
            return score  # not the subset rule: token_set_ratio's own measure stands
        q = set(query.split())
        p = set(choice.split())
        # The subset rule, where one side is a single word the other holds
        # (equal sets are a true 100, and a 100 of two longer sets is left alone:
        # two or more shared words say what the text is about).
        if len(q) == 1 and len(p) > 1:
            word, longer = next(iter(q)), p
        elif len(p) == 1 and len(q) > 1:
            word, longer = next(iter(p)), q
        else:
            return score
        if word not in longer or word in self.specific:
            return score
        length = sum(map(len, longer)) + len(longer) - 1  # the longer side's words joined by spaces
        return 50 + 100 * len(word) / (len(word) + length)

"""The FAQ score: one common word held in the other side is no longer a 100 (bot.matching.coverage)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from rapidfuzz import fuzz

from bot.flows.errors import Pos
from bot.flows.model import Faq
from bot.matching.coverage import CoverageScore, specific_words
from bot.matching.faq import FaqIndex
from bot.matching.normalize import normalize

POS = Pos("test", 1, 1)


def faq(faq_id: str, *phrasings: str) -> Faq:
    return Faq(faq_id, POS, phrasings[0], phrasings, f"answer {faq_id}")


# Three FAQs sharing "order", as a shop's do; "where is my order" is just
# "order" once its stop-words are dropped.
SHOP = [
    faq("track-order", "Where is my order?", "track my package"),
    faq("change-order", "Can I change or cancel my order?", "edit my order"),
    faq("gift-cards", "Do you sell gift cards?", "buy a gift card"),
    faq("bulk", "Do you do bulk orders?"),
]


def test_a_one_word_phrasing_does_not_answer_every_text_holding_its_word() -> None:
    index = FaqIndex(SHOP, 80, 5)
    # token_set_ratio scored "where is my order" 100 against both texts: a
    # "Did you mean" for the first and the order-status answer for the second.
    for text, expected in (("I want to cancel my order", "change-order"), ("order a gift card", "gift-cards")):
        match = index.match(normalize(text))
        assert match.verdict == "answer", (text, match.explain())
        assert match.best is not None and match.best.faq_id == expected, (text, match.explain())
        scores = {c.faq_id: c.score for c in match.candidates}
        assert scores.get("track-order", 0) < 80, (text, match.explain())
    # The phrasing itself still answers, exactly.
    match = index.match(normalize("where is my order??"))
    assert match.verdict == "answer" and match.best is not None and match.best.faq_id == "track-order"
    assert match.best.score == 100


def test_a_one_word_text_is_not_a_100_against_longer_phrasings() -> None:
    index = FaqIndex([faq("change-order", "edit my order"), faq("bulk", "bulk orders please")], 80, 5)
    match = index.match(normalize("order"))
    # Half for the text (all of it found), half for its share of the phrasing.
    assert [c.score for c in match.candidates] == [50 + 100 * 5 / (5 + len("edit order"))] * 2


def test_a_word_only_one_faq_uses_names_that_faq() -> None:
    scorer = CoverageScore(specific_words([("returns", "return"), ("sizes", "jacket fit"), ("prices", "jacket cost")]))
    assert scorer.specific == frozenset({"return", "fit", "cost"})
    # "return" is specific: held in a text, the subset rule's 100 stands however long the rest.
    assert scorer("return traillite rain jacket", "return") == 100
    # "jacket" is not: its share of each side decides.
    assert scorer("jacket", "jacket fit") == 50 + 100 * 6 / (6 + 10)
    # Two shared words, or equal sets, keep token_set_ratio's score.
    assert scorer("jacket fit", "jacket fit size") == 100
    assert scorer("jacket", "jacket") == 100


words = st.sampled_from("order cancel gift card return jacket fit size ship shipping e x".split())
form = st.lists(words, min_size=1, max_size=5).map(" ".join)


@settings(max_examples=500, deadline=None)
@given(query=form, choice=form, specific=st.frozensets(words))
def test_the_score_never_exceeds_token_set_ratio(query: str, choice: str, specific: frozenset[str]) -> None:
    """What keeps the shortlist exact: its bounds are token_set_ratio's."""
    score = CoverageScore(specific)(query, choice)
    assert 0 <= score <= fuzz.token_set_ratio(query, choice, processor=None)
    assert score == CoverageScore(specific)(choice, query)  # symmetric, as token_set_ratio is

"""Normalisation, vocabulary correction and FAQ matching, measured on noisy texts."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bot.flows import load_flow
from bot.matching.faq import FaqIndex
from bot.matching.normalize import content_words, match_form, normalize, squeeze, stem
from bot.matching.vocabulary import Vocabulary
from tests.conftest import FLOWS

QUERIES = Path(__file__).parent / "data" / "retail_queries.yaml"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("WAT R UR HRS??", "what are your hours"),
        ("What’s the return policy 🙏", "what is the return policy"),
        ("Café OPEN 2day?", "cafe open today"),
        ("helllooo", "helloo"),
        ("MENU!!!", "menu"),
        ("  spaced\tout\n", "spaced out"),
        ("🙂🙂", ""),
        ("ＡＢＣ１２３", "abc123"),
        ("don't", "do not"),
        ("111", "111"),
    ],
)
def test_normalize(text: str, expected: str) -> None:
    assert normalize(text) == expected


def test_squeeze_collapses_letter_runs_not_digits() -> None:
    assert squeeze(normalize("MENUUU")) == "menu"
    assert squeeze("11 bookkeeper") == "11 bokeper"


def test_content_words_and_stem() -> None:
    assert content_words("what are your hours") == "hours"
    assert content_words("what is it") == "what is it"  # all stop-words: kept whole
    assert [stem(w) for w in ("jackets", "policies", "dress", "status", "gas")] == [
        "jacket", "policy", "dress", "status", "gas"
    ]
    assert match_form(normalize("Do u sell GIFT CARDS?")) == "sell gift card"


def test_vocabulary_corrects_typos_and_run_together_words_only() -> None:
    vocab = Vocabulary(["shipping", "gift", "card", "refund", "policy"])
    assert vocab.correct("shippng cost") == "shipping cost"
    assert vocab.correct("giftcard") == "gift card"
    assert vocab.correct("refnd polcy") == "refund policy"
    assert vocab.correct("shp") == "shp"  # too short to guess
    assert vocab.correct("turtle") == "turtle"  # nothing close enough


def test_vocabulary_never_corrects_to_a_short_word() -> None:
    # As a short word is never corrected, no word is corrected into one: one
    # letter from a three-letter word is another word ("boots" is no "bot",
    # and answered "do you have boots" with "is this a bot"'s FAQ).
    vocab = Vocabulary(["bot", "gift", "card"])
    assert vocab.correct("boot") == "boot"
    assert vocab.correct("cardd") == "card"


@pytest.fixture(scope="module")
def index() -> FaqIndex:
    flow = load_flow(FLOWS / "retail.yaml")
    return FaqIndex(flow.faqs, flow.settings.match_threshold, flow.settings.ambiguity_margin)


def test_labelled_noisy_texts(index: FaqIndex) -> None:
    """The matcher's quality on 219 hand-labelled SMS-style texts.

    Recall is allowed to be imperfect (an unmatched text gets the fallback,
    which points to the menu); a confident wrong answer on an off-topic text
    is the failure customers notice, so none is allowed.
    """
    items = yaml.safe_load(QUERIES.read_text())
    assert len(items) >= 150
    good = wrong = off_topic_answered = 0
    for item in items:
        match = index.match(normalize(item["text"]))
        ids = [c.faq_id for c in match.candidates]
        if item["faq"] is None:
            if match.verdict != "none":
                off_topic_answered += 1
            else:
                good += 1
        elif (match.verdict == "answer" and ids[0] == item["faq"]) or (
            match.verdict == "ambiguous" and item["faq"] in ids
        ):
            good += 1
        elif match.verdict != "none":
            wrong += 1
    assert off_topic_answered == 0
    assert good / len(items) >= 0.80, (good, len(items))  # 189 of 219 when last measured
    assert wrong <= 3


def test_a_product_one_letter_from_a_short_faq_word_is_not_that_word(index: FaqIndex) -> None:
    assert index.match(normalize("do you have boots")).verdict == "none", index.match(normalize("do you have boots"))
    match = index.match(normalize("how do i exchange my boots for a bigger size"))
    assert match.verdict == "answer" and match.best is not None and match.best.faq_id == "exchanges", match.explain()


def test_clear_best_answers_and_explains(index: FaqIndex) -> None:
    match = index.match(normalize("do u ship to canada"))
    assert match.verdict == "answer"
    assert match.best is not None and match.best.faq_id == "international-shipping"
    assert "international-shipping=100" in match.explain()


def test_close_runner_up_is_ambiguous(index: FaqIndex) -> None:
    match = index.match(normalize("shipping"))
    assert match.verdict == "ambiguous"
    assert len(match.candidates) == 2
    assert match.candidates[0].score - match.candidates[1].score < index.margin


def test_off_topic_and_empty_texts_do_not_match(index: FaqIndex) -> None:
    for text in ("i like turtles", "lol", "", "🙂", "who won the game last night"):
        assert index.match(normalize(text)).verdict == "none", text


def test_a_lone_letter_or_digit_answers_no_faq(index: FaqIndex) -> None:
    # token_set_ratio's subset rule scored "e" 100 against "e-gift cards".
    for text in ("e", "E!", "4", "e 4", "k"):
        assert index.match(normalize(text)).verdict == "none", text
        assert index.match_exhaustive(normalize(text)).verdict == "none", text
    # Two characters can be a question; one real word still answers.
    assert index.match(normalize("gift")).best is not None
    assert index.match(normalize("gift")).best.faq_id == "gift-cards"  # type: ignore[union-attr]


def test_where_is_my_order_and_the_texts_around_it(index: FaqIndex) -> None:
    """The most common support text answers the order-status FAQ, and does not take others' texts.

    "where is my order" is just "order" in content words: without a phrasing
    of its own it offered "change or cancel" and "how long does shipping
    take"; as a one-word phrasing under token_set_ratio's subset rule it
    would have answered every text with "order" in it (bot.matching.coverage).
    """
    expected = {
        "where is my order": "track-order",
        "WHERES MY ORDER??": "track-order",
        "order status": "track-order",
        "I want to cancel my order": "change-order",
        "order a gift card": "gift-cards",
    }
    for text, faq_id in expected.items():
        match = index.match(normalize(text))
        assert match.verdict == "answer", (text, match.explain())
        assert match.best is not None and match.best.faq_id == faq_id, (text, match.explain())


def test_a_generic_verb_is_no_topic_and_a_product_stands_for_an_item(index: FaqIndex) -> None:
    # "find" was the one content word of "where do i find it", and took the
    # size chart through "how do i find my size".
    for text in ("where do i find it", "find"):
        assert index.match(normalize(text)).verdict == "none", index.match(normalize(text)).explain()
    # "can i return an item" is "return" + any product: the product's name
    # against "item" kept these under the threshold, whatever its length.
    for text in ("i want to return my jacket", "can i return my rain jacket", "return my backpack",
                 "i want to return my summit daypack"):
        match = index.match(normalize(text))
        assert match.verdict == "answer", (text, match.explain())
        assert match.best is not None and match.best.faq_id == "returns-window", (text, match.explain())


def test_no_two_faqs_of_the_example_flow_compete(index: FaqIndex) -> None:
    """No phrasing, texted as it is, scores the threshold against another FAQ's phrasing.

    As lint's overlap check means it (bot.flows.lint), with the FAQ score: the
    one-word phrasing "where is my order" is "order", which scored 83 against
    short "X order" phrasings of three other FAQs ("edit my order", "bulk
    order", "when will my order ship"), and "how long for my refund" 82
    against "how long do i have to return something".
    """
    contents, owners, phrasings = index._contents, index._faq_ids, index._phrasings
    competing = [
        (phrasings[i], phrasings[j], round(score, 1))
        for i in range(len(contents))
        for j in range(i + 1, len(contents))
        if owners[i] != owners[j] and (score := index.scorer(contents[i], contents[j])) >= index.threshold
    ]
    assert competing == []

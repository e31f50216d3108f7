"""The FAQ shortlist is exact: it never loses what scoring every phrasing would find.

``FaqIndex.match`` scores only a shortlist (``bot.matching.shortlist``);
``FaqIndex.match_exhaustive`` scores every phrasing. They must agree on the
verdict, the two candidates, their scores, phrasings and tie-breaks — for any
phrasings and any text, including typos that share no word with anything.
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rapidfuzz import fuzz

from bench.corpus import faq_set, queries
from bot.flows.errors import Pos
from bot.flows.model import Faq
from bot.matching import shortlist as shortlist_module
from bot.matching.coverage import CoverageScore, specific_words
from bot.matching.faq import FaqIndex
from bot.matching.normalize import normalize
from bot.matching.shortlist import MAX_INDEXED_WORDS, Scorer, Shortlist

POS = Pos("test", 1, 1)

# A small vocabulary with near neighbours ("ship"/"shop"/"shipping", "card"/
# "cart"), so word-level and character-level scores both decide cases.
WORDS = (
    "ship shop shipping shipped card cart gift return refund order orders hours store open "
    "jacket pack size sizes wash price cost free day days track lost box"
).split()


def typo(word: str, seed: int) -> str:
    i = seed % len(word)
    return [word[:i] + word[i + 1 :], word[:i] + "x" + word[i:], word + word[-1]][seed % 3] or word


word = st.one_of(
    st.sampled_from(WORDS),
    st.builds(typo, st.sampled_from(WORDS), st.integers(0, 30)),
    st.text(alphabet="abcdehiknoprst", min_size=1, max_size=7),
)
phrase = st.lists(word, min_size=1, max_size=6).map(" ".join)


def search(shortlist: Shortlist, query: str, floor: float, groups: list[int], summed: bool) -> list[tuple[float, int]]:
    """``Shortlist.search`` with shared weights summed over postings, or with word sets intersected per rung."""
    limit = shortlist_module.MAX_SUMMED_POSTINGS
    shortlist_module.MAX_SUMMED_POSTINGS = 10**9 if summed else -1
    try:
        return shortlist.search(query, floor, groups)
    finally:
        shortlist_module.MAX_SUMMED_POSTINGS = limit


def test_summed_and_intersected_word_sets_score_the_same_phrasings() -> None:
    """Both ways of finding heavy-enough shared words give one search, phrasing for phrasing."""
    faqs = faq_set(1500)
    index = FaqIndex(faqs, 80, 5)
    shortlist = index._shortlist
    for query in queries(faqs, 150, seed=4):
        form = index.query_form(normalize(query.text))
        for floor in (0, 60, 75, 95):
            summed = sorted(search(shortlist, form, floor, index._groups, True))
            assert summed == sorted(search(shortlist, form, floor, index._groups, False)), (form, floor)


def token_set_ratio(query: str, choice: str) -> float:
    return float(fuzz.token_set_ratio(query, choice, processor=None))


def exhaustive(query: str, contents: list[str], scorer: Scorer = token_set_ratio) -> list[float]:
    return [scorer(query, c) for c in contents]


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    contents=st.lists(phrase, min_size=1, max_size=40),
    query=phrase,
    floor=st.integers(0, 100),
    seed=st.integers(0, 10),
    build_floor=st.integers(0, 100),
    summed=st.booleans(),
    coverage=st.booleans(),
)
def test_shortlist_keeps_every_phrasing_that_can_decide(
    contents: list[str], query: str, floor: int, seed: int, build_floor: int, summed: bool, coverage: bool
) -> None:
    """Every phrasing scoring at least the second-best group's score is scored, exactly.

    With ``token_set_ratio`` itself and with the FAQ score (``CoverageScore``,
    never above it), whose 100s are fewer, so the search goes further down.
    """
    groups = [(i * 7 + seed) % 5 for i in range(len(contents))]
    scorer: Scorer = token_set_ratio
    if coverage:
        scorer = CoverageScore(specific_words((str(g), c) for g, c in zip(groups, contents, strict=True)))
    shortlist = Shortlist(contents, build_floor, scorer)  # a lower floor later rebuilds the index
    found = dict((i, score) for score, i in search(shortlist, query, floor, groups, summed))
    scores = exhaustive(query, contents, scorer)
    per_group: dict[int, float] = {}
    for i, score in enumerate(scores):
        per_group[groups[i]] = max(per_group.get(groups[i], -1.0), score)
    ranked = sorted(per_group.values(), reverse=True)
    second = ranked[1] if len(ranked) > 1 else -1.0
    for i, score in enumerate(scores):
        if score >= floor and score >= second:
            assert found.get(i) == score, (i, contents[i], score, second)
    for i, score in found.items():
        assert score == scores[i] and score >= floor
    # The brute-force best above the floor, in particular, is never lost.
    if scores and max(scores) >= floor:
        assert max(found.values()) == max(scores)


faq_phrasings = st.lists(st.lists(phrase, min_size=1, max_size=4), min_size=1, max_size=12)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(faqs=faq_phrasings, text=phrase, threshold=st.integers(40, 100), margin=st.integers(0, 15))
def test_match_equals_scoring_every_phrasing(faqs: list[list[str]], text: str, threshold: int, margin: int) -> None:
    index = FaqIndex(
        [Faq(f"faq-{n}", POS, ps[0], tuple(ps), "answer") for n, ps in enumerate(faqs)], threshold, margin
    )
    norm = normalize(text)
    assert index.match(norm) == index.match_exhaustive(norm)


def test_two_thousand_generated_phrasings() -> None:
    """The benchmark's generator at 2k phrasings: every text matched exactly as by brute force."""
    faqs = faq_set(2000)
    index = FaqIndex(faqs, 80, 5)
    assert len(index) == 2000
    verdicts = {"answer": 0, "ambiguous": 0, "none": 0}
    for query in queries(faqs, 400, seed=2):
        norm = normalize(query.text)
        match = index.match(norm)
        assert match == index.match_exhaustive(norm), query.text
        verdicts[match.verdict] += 1
    # The set exercises every outcome, so agreement is not agreement on "none".
    assert min(verdicts.values()) >= 20, verdicts


def test_lowering_the_threshold_after_building_stays_exact() -> None:
    faqs = faq_set(300)
    index = FaqIndex(faqs, 90, 2)
    index.threshold, index.margin = 60, 10  # the shortlist's index was cut for floor 88
    for query in queries(faqs, 100, seed=3):
        norm = normalize(query.text)
        assert index.match(norm) == index.match_exhaustive(norm), query.text


def test_long_phrasings_are_checked_without_the_index() -> None:
    long = " ".join(f"{w}{n}" for n, w in enumerate(WORDS[: MAX_INDEXED_WORDS + 3]))
    contents = [long, "ship card", "gift card"]
    shortlist = Shortlist(contents, 75)
    # All but one of its words and one it lacks: neither side holds the other,
    # and the phrasing-side ratio (rb) decides.
    query = " ".join(long.split()[:-1]) + " zzz"
    for summed in (True, False):
        found = {i: s for s, i in search(shortlist, query, 75, [0, 1, 2], summed)}
        assert found[0] == fuzz.token_set_ratio(query, long, processor=None) > 75

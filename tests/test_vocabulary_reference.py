"""``Vocabulary.correct`` returns exactly what the original algorithm returns.

The fast version only scores words of a length that can reach the cutoff,
checks cuts of run-together words against the strings that stem to known
words, and remembers corrections; the reference below is the original: try
every cut with ``stem``, then ``extractOne`` over the whole sorted vocabulary.
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rapidfuzz import fuzz, process

from bench.corpus import faq_set, queries
from bot.matching.faq import FaqIndex
from bot.matching.normalize import match_form, normalize, stem
from bot.matching.vocabulary import CUTOFF, MIN_LENGTH, WORD_MEMO, Vocabulary


def reference_correct(words: frozenset[str], text: str) -> str:
    """The original ``Vocabulary.correct``, kept slow and simple."""
    ordered = sorted(words)
    out: list[str] = []
    for word in text.split():
        if word in words or len(word) < MIN_LENGTH or word.isdigit():
            out.append(word)
            continue
        split = None
        for cut in range(2, len(word) - 1):
            left, right = stem(word[:cut]), stem(word[cut:])
            if left in words and right in words:
                split = (left, right)
                break
        if split is not None:
            out.extend(split)
            continue
        # Never corrected into a word under MIN_LENGTH ("boots" is no "bot").
        targets = [w for w in ordered if len(w) >= MIN_LENGTH]
        best = process.extractOne(word, targets, scorer=fuzz.ratio, processor=None, score_cutoff=CUTOFF)
        out.append(best[0] if best is not None else word)
    return " ".join(out)


# Near neighbours of every length, plurals in "s" and "ies", and ties: "card"
# and "cart" are both one edit from "carx".
LETTERS = "acdeiklnoprsty"
known_word = st.one_of(
    st.sampled_from("card cart care cards gift policy policies ship shop shipping ships stop store stores "
                    "shopping shapping day days size sizes price prices a ab abc abcd abcde".split()),
    st.text(alphabet=LETTERS, min_size=1, max_size=14),
)


def mangle(word: str, seed: int) -> str:
    i = seed % (len(word) + 1)
    kinds = [word[:i] + word[i + 1 :], word[:i] + "x" + word[i:], word[:i] + "x" + word[i + 1 :],
             word + word[-1:], word[::-1], word + "ies", "42"]
    return kinds[seed % len(kinds)] or word


query_word = st.one_of(
    known_word,
    st.builds(mangle, known_word, st.integers(0, 60)),
    st.builds(lambda a, b: a + b, known_word, known_word),  # run together
    st.text(alphabet=LETTERS + "0123456789", min_size=1, max_size=20),
)


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(vocabulary=st.lists(known_word, min_size=0, max_size=40), texts=st.lists(
    st.lists(query_word, min_size=1, max_size=6).map(" ".join), min_size=1, max_size=5))
def test_correct_equals_the_reference(vocabulary: list[str], texts: list[str]) -> None:
    vocab = Vocabulary(vocabulary)
    for text in texts * 2:  # the second time through, from the memo
        assert vocab.correct(text) == reference_correct(vocab.words, text), text


def test_correct_equals_the_reference_on_generated_faqs() -> None:
    faqs = faq_set(3000)
    vocab = FaqIndex(faqs, 80, 5).vocabulary
    for query in queries(faqs, 500, seed=5):
        form = match_form(normalize(query.text))
        assert vocab.correct(form) == reference_correct(vocab.words, form), query.text


def test_equal_scores_go_to_the_first_word_in_sorted_order() -> None:
    vocab = Vocabulary(["shopping", "shipping", "shapping"])
    assert fuzz.ratio("shxpping", "shipping") == fuzz.ratio("shxpping", "shopping") >= CUTOFF
    assert vocab.correct("shxpping") == "shapping" == reference_correct(vocab.words, "shxpping")


def test_the_word_memo_is_bounded() -> None:
    vocab = Vocabulary(["shipping", "gift", "card"])
    for n in range(WORD_MEMO + 500):
        vocab.correct(f"shippng{n} giftcard{n}")
    info = vocab._correct_word.cache_info()
    assert info.currsize == info.maxsize == WORD_MEMO
    assert vocab.correct("shippng giftcard") == "shipping gift card"

"""Reply splitting: where long replies are cut, and what is never lost or exceeded."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.sms import SMART_ENCODING_MAP, analyze, grapheme_clusters, split_reply

ITALY = "\U0001f1ee\U0001f1f9"
P1 = "Thanks for contacting Acme support. Our team answers texts from 9am to 6pm, Monday to Friday."
P2 = "Outside those hours, reply HELP for options. Reply STOP to opt out. Standard rates apply."


def test_short_reply_is_one_stripped_part() -> None:
    assert split_reply("  Hello there.\n", 1) == ["Hello there."]


@pytest.mark.parametrize("text", ["", " \n\t\u00a0 "])
def test_blank_reply_has_no_parts(text: str) -> None:
    assert split_reply(text, 1) == []


@pytest.mark.parametrize(("max_segments", "max_chars"), [(0, 1600), (1, 0), (-1, -1)])
def test_budgets_must_be_positive(max_segments: int, max_chars: int) -> None:
    with pytest.raises(ValueError, match="budgets must be >= 1"):
        split_reply("hi", max_segments, max_chars)


def test_paragraph_break_is_preferred() -> None:
    # 93 + 2 + 89 = 184 characters: a sentence end at 136 also fits the first window, but
    # the blank line at 93 is more than half way and wins.
    assert split_reply(P1 + "\n\n" + P2, 1) == [P1, P2]


def test_paragraph_break_too_early_is_skipped() -> None:
    sentences = (
        "Your parcel left our depot this morning. It should reach you by Thursday. "
        "Track it with the link we emailed. Reply AGENT to talk to a person at any time."
    )
    text = "Hi!\n\n" + sentences + " Thanks for waiting."
    # Cutting after "Hi!" would waste a whole SMS on three characters.
    assert split_reply(text, 1) == ["Hi!\n\n" + sentences, "Thanks for waiting."]


def test_sentence_end_is_preferred_to_a_later_word_break() -> None:
    first = "Your refund was approved today. It goes back to the card you paid with."
    second = "Banks usually take three to five working days to show it on your statement."
    third = "Thanks for your patience while we sort this out."
    text = f"{first} {second} {third}"
    # The window (160 characters) ends inside the third sentence, whose word boundary at 158
    # is later than the sentence end at 147; the sentence end wins.
    assert split_reply(text, 1) == [f"{first} {second}", third]


def test_line_break_counts_as_a_sentence_end() -> None:
    items = "\n".join(f"- Store {n}: Main St {n}00, open 9-5 daily" for n in range(1, 6))
    parts = split_reply(items, 1)
    assert parts == [
        "\n".join(f"- Store {n}: Main St {n}00, open 9-5 daily" for n in range(1, 5)),
        "- Store 5: Main St 500, open 9-5 daily",
    ]


def test_sentence_end_too_early_falls_back_to_word_wrap() -> None:
    text = "OK. " + " ".join(["abcdefgh"] * 30)
    # The window is text[:160]; the sentence end at 2 is far too early, so the cut goes at
    # the last word boundary, the space at 156.
    assert split_reply(text, 1) == [text[:156], text[157:]]


def test_word_wrap_without_punctuation() -> None:
    word = "abcdefgh"
    text = " ".join([word] * 40)
    assert split_reply(text, 1) == [" ".join([word] * 17), " ".join([word] * 17), " ".join([word] * 6)]


def test_only_an_over_long_word_is_hard_split() -> None:
    # "see" is not glued to the start of the URL-like word; that word alone needs two parts.
    assert split_reply("see " + "x" * 200, 1) == ["see", "x" * 160, "x" * 40]


def test_no_break_space_is_a_last_resort() -> None:
    assert split_reply("a" * 155 + " 10\u00a0kg", 1) == ["a" * 155, "10\u00a0kg"]
    assert split_reply("a" * 157 + "\u00a0kgkg", 1) == ["a" * 157, "kgkg"]


def test_extension_characters_count_two_septets() -> None:
    assert split_reply("{" * 100, 1) == ["{" * 80, "{" * 20]


def test_flags_are_never_cut_in_half() -> None:
    # A flag is 4 UTF-16 units, so 17 of them (68 units) fill a 70-unit SMS.
    assert split_reply(ITALY * 40, 1) == [ITALY * 17, ITALY * 17, ITALY * 6]


def test_ucs2_reply_uses_70_unit_parts() -> None:
    text = " ".join(["ça"] * 50)  # 149 characters, all UCS-2 because of "ç"
    parts = split_reply(text, 1)
    assert parts == [" ".join(["ça"] * 23), " ".join(["ça"] * 23), " ".join(["ça"] * 4)]
    assert [analyze(part).units for part in parts] == [68, 68, 11]


def test_each_part_is_measured_in_its_own_encoding() -> None:
    first = "Merci beaucoup, ça marche très bien!"  # 36 characters, UCS-2 because of "ç"
    gsm_tail = " ".join(["word"] * 31)  # 154 characters of plain GSM-7
    parts = split_reply(f"{first} {gsm_tail}", 1)
    # Measured as UCS-2 the tail would need three 70-unit messages; on its own it fits one.
    assert parts == [first, gsm_tail]
    assert analyze(parts[1]).encoding == "GSM-7"


def test_two_segment_budget() -> None:
    text = " ".join(["abcdefgh"] * 60)  # 539 characters
    parts = split_reply(text, 2)
    # Two concatenated GSM-7 parts carry 306 septets: 34 words (305 characters) fit.
    assert parts == [" ".join(["abcdefgh"] * 34), " ".join(["abcdefgh"] * 26)]
    assert [analyze(part).segments for part in parts] == [2, 2]


def test_max_chars_caps_parts() -> None:
    parts = split_reply(" ".join(["word"] * 100), 10, max_chars=50)
    assert parts == [" ".join(["word"] * 10)] * 10


# Text made of the things that make splitting hard: paragraph and line breaks, sentence
# ends, no-break spaces, extension characters, UCS-2 letters, emoji, flags and accents.
_PIECES = st.sampled_from(
    [*"abcdefghij", " ", "  ", "\n", "\n\n", ". ", "! ", "\u00a0", "€", "{", "ç", "😀", ITALY,
     "e\u0301", "word ", "longerword "]
)  # fmt: skip
_TEXTS = st.lists(_PIECES, max_size=300).map("".join) | st.text(max_size=300)


@given(_TEXTS, st.integers(1, 4), st.integers(1, 400))
def test_split_invariants(text: str, max_segments: int, max_chars: int) -> None:
    parts = split_reply(text, max_segments, max_chars)
    body = text.strip()
    cursor = 0
    for index, part in enumerate(parts):
        # Every part is non-empty, stripped and within both budgets.
        assert part and part == part.strip()
        assert len(part) <= max_chars
        assert analyze(part).segments <= max_segments
        # Parts are consecutive slices of the body separated only by dropped whitespace.
        gap_start = cursor
        while cursor < len(body) and body[cursor].isspace():
            cursor += 1
        assert body.startswith(part, cursor)
        if index and cursor == gap_start:
            # No whitespace at this cut: it is a hard split, allowed only when the word
            # being cut could not have fitted in one message by itself.
            word = _word_around(body, cursor)
            assert len(word) > max_chars or analyze(word).segments > max_segments
        cursor += len(part)
    assert cursor == len(body)


@given(st.lists(st.sampled_from(["alpha", "beta", "gamma.", "delta!", "\n\n", "ça"]), max_size=200))
def test_words_survive_when_every_word_fits(words: list[str]) -> None:
    text = " ".join(words)
    parts = split_reply(text, 1)
    assert " ".join(parts).split() == text.split()


def _word_around(text: str, index: int) -> str:
    """The maximal run of non-whitespace characters that contains ``text[index]``."""
    start = end = index
    while start > 0 and not text[start - 1].isspace():
        start -= 1
    while end < len(text) and not text[end].isspace():
        end += 1
    return text[start:end]


def test_cluster_too_big_for_one_message_is_cut_between_code_points() -> None:
    # 101 code points in one cluster: 101 UCS-2 units can never fit a 70-unit SMS whole.
    parts = split_reply("e" + "\u0301" * 100, 1)
    assert [len(part) for part in parts] == [70, 31]


def test_thai_sara_am_stays_with_its_syllable() -> None:
    # Thai has no spaces between words, so long Thai replies are hard-split; the cut must not
    # leave SARA AM (U+0E33, a SpacingMark) to open the next message without its consonant.
    water = "\u0e19\u0e49\u0e33"
    assert split_reply("\u0e01" * 68 + water, 1) == ["\u0e01" * 68, water]



# Words made of clusters that must stay whole, each starting with its base character, so no
# whitespace is ever the base of a cluster (a space followed by a combining mark is one).
_CLUSTERS = st.sampled_from(
    [
        *("a", "\u00e9", "e\u0301", "\U0001f44d\U0001f3fd", ITALY, "\U0001f468\u200d\U0001f469\u200d\U0001f467"),
        *("\u0e19\u0e49\u0e33", "1\ufe0f\u20e3", "\u20ac", "{", "\u1100\u1161\u11a8"),
    ]
)
_SEPARATORS = st.sampled_from([" ", "  ", "\n", "\n\n", ". ", "\u00a0", "\r\n"])
_CLUSTER_TEXTS = st.lists(st.tuples(st.lists(_CLUSTERS, min_size=1, max_size=40), _SEPARATORS), max_size=30).map(
    lambda words: "".join("".join(clusters) + separator for clusters, separator in words)
)


@settings(max_examples=200, deadline=None)
@given(_CLUSTER_TEXTS, st.integers(1, 3), st.sampled_from([20, 100, 1600]))
def test_parts_never_cut_a_grapheme_cluster(text: str, max_segments: int, max_chars: int) -> None:
    # Every cluster here fits one message on its own (at most 8 code points, 11 UTF-16 units),
    # so every cut, hard splits included, must fall between clusters.
    body = text.strip()
    boundaries = {0}
    for cluster in grapheme_clusters(body):
        boundaries.add(max(boundaries) + len(cluster))
    cursor = 0
    for part in split_reply(text, max_segments, max_chars):
        start = body.index(part, cursor)
        cursor = start + len(part)
        assert start in boundaries and cursor in boundaries, (part, body)


def test_smart_parts_are_measured_as_sent() -> None:
    # The emoji keeps the whole reply UCS-2; the messages without it are sent GSM-7 and so
    # hold 160 septets each, not 70 units.
    text = "It\u2019s " * 40 + "\U0001f642"
    parts = split_reply(text, 1, smart=True)
    assert parts == [" ".join(["It's"] * 32), " ".join(["It\u2019s"] * 8) + " \U0001f642"]
    assert [analyze(part).encoding for part in parts] == ["GSM-7", "UCS-2"]


_TWINS = str.maketrans(dict(SMART_ENCODING_MAP))
_SMART_TEXTS = st.lists(
    st.sampled_from(["We\u2019re", "open", "\u2013", "\u2026", "\U0001f642", "\u00e7a", "\n\n", "\u00a0", "\u200b"]),
    max_size=200,
).map(" ".join)


@settings(max_examples=150, deadline=None)
@given(_SMART_TEXTS, st.integers(1, 3), st.sampled_from([30, 1600]))
def test_smart_split_keeps_budgets_and_text(text: str, max_segments: int, max_chars: int) -> None:
    parts = split_reply(text, max_segments, max_chars, smart=True)
    for part in parts:
        assert part and part == part.strip()
        assert len(part) <= max_chars
        assert analyze(part).segments <= max_segments
    # The same text in the same order, each message as written or as its smart-encoded twin:
    # folded through the map (which leaves a twin as it is), both sides are equal.
    assert "".join(" ".join(parts).translate(_TWINS).split()) == "".join(text.translate(_TWINS).split())


@pytest.mark.parametrize("conjunct", ["\u0915\u094d\u0937", "\u101e\u1039\u1010", "\u179f\u17d2\u178f"],
                         ids=["devanagari", "myanmar", "khmer"])
def test_a_hard_split_keeps_conjuncts_whole(conjunct: str) -> None:
    # No whitespace: the 70-unit window ends inside the 23rd conjunct (2 + 3 x 22 + 2), so the
    # cut goes back to the end of the 22nd, never between a virama or coeng and its consonant.
    parts = split_reply("ab" + conjunct * 30, 1)
    assert parts == ["ab" + conjunct * 22, conjunct * 8]


def test_a_space_carrying_a_combining_mark_is_not_cut_from_it() -> None:
    # " \u0301" is one cluster (a spacing acute accent): the space is the mark's base, not a
    # word boundary, so the next message never opens with a lone combining mark.
    text = "x" * 60 + " \u0301" + "y" * 20
    parts = split_reply(text, 1)
    assert parts == ["x" * 60 + " \u0301" + "y" * 8, "y" * 12]
    text = "word " * 11 + "x" * 4 + " \u0301" + "y" * 20  # a real word boundary earlier wins
    assert split_reply(text, 1) == [("word " * 11).strip(), "x" * 4 + " \u0301" + "y" * 20]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(["a", "\u0915\u094d\u0937", "\u179f\u17d2\u178f", " \u0301", " ", "  \u0301",
                                 "\u00e9", "\u0938\u094d\u0924\u094d\u0930\u0940", "\n"]), max_size=120).map("".join),
       st.integers(1, 3), st.sampled_from([20, 100, 1600]))
def test_parts_never_cut_a_conjunct_or_a_marked_space(text: str, max_segments: int, max_chars: int) -> None:
    # Each of these clusters fits any message alone, so every cut, hard ones included, falls
    # between clusters of the text: never inside a conjunct, never between a space and its mark.
    boundaries = {0}
    for cluster in grapheme_clusters(text):
        boundaries.add(max(boundaries) + len(cluster))
    cursor = 0
    for part in split_reply(text, max_segments, max_chars):
        start = text.index(part, cursor)
        cursor = start + len(part)
        assert start in boundaries and cursor in boundaries, (part, text)
        assert len(part) <= max_chars and analyze(part).segments <= max_segments

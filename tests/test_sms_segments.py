"""Segment counting: the published calculator vectors, the GSM tables and the packing rules."""

from __future__ import annotations

import math
import types

import pytest
from hypothesis import given
from hypothesis import strategies as st

import bot.sms
from bot.sms import (
    GSM7_BASIC_CHARS,
    GSM7_BASIC_CODES,
    GSM7_EXTENSION_CHARS,
    GSM7_EXTENSION_CODES,
    SegmentInfo,
    analyze,
    grapheme_clusters,
    is_gsm7,
    septet_cost,
    split_segments,
)

DIGITS = "1234567890" * 40
ESCAPES = list("|^€{}[]~\\")
UCS2_LETTERS = list("ÁÚúçíÍóÓ")
RAINBOW = "\U0001f3f3\ufe0f\u200d\U0001f308"  # white flag, VS16, ZWJ, rainbow
ITALY = "\U0001f1ee\U0001f1f9"  # two regional indicators

# carriers.md §10.3, one row each: body, encoding, segments, units, messageSize, totalSize,
# and the calculator's "characters" (grapheme clusters) where the table gives them.
PUBLISHED = [
    ("160 digits", DIGITS[:160], "GSM-7", 1, 160, 1120, 1120, 160),
    ("161 digits", DIGITS[:161], "GSM-7", 2, 161, 1127, 1223, 161),
    ("307 digits", DIGITS[:307], "GSM-7", 3, 307, 2149, 2293, 307),
    ("wink + 68", "😜" + DIGITS[:68], "UCS-2", 1, 70, 1120, 1120, 69),
    ("wink + 69", "😜" + DIGITS[:69], "UCS-2", 2, 71, 1136, 1232, 70),
    ("wink + 133", "😜" + DIGITS[:133], "UCS-2", 3, 135, 2160, 2304, 134),
    ("italy + 66", ITALY + DIGITS[:66], "UCS-2", 1, 70, 1120, 1120, 67),
    ("italy + 67", ITALY + DIGITS[:67], "UCS-2", 2, 71, 1136, 1232, 68),
    ("rainbow + 64", RAINBOW + DIGITS[:64], "UCS-2", 1, 70, 1120, 1120, 65),
    ("rainbow + 65", RAINBOW + DIGITS[:65], "UCS-2", 2, 71, 1136, 1232, 66),
]


@pytest.mark.parametrize(
    ("body", "encoding", "segments", "units", "message_bits", "total_bits", "characters"),
    [pytest.param(*row[1:], id=row[0]) for row in PUBLISHED],
)
def test_published_vector(
    body: str,
    encoding: str,
    segments: int,
    units: int,
    message_bits: int,
    total_bits: int,
    characters: int,
) -> None:
    info = analyze(body)
    assert (info.encoding, info.segments, info.units) == (encoding, segments, units)
    assert (info.message_size_bits, info.total_size_bits) == (message_bits, total_bits)
    assert len(grapheme_clusters(body)) == characters


@pytest.mark.parametrize("escape", ESCAPES)
def test_published_escape_plus_158_digits(escape: str) -> None:
    info = analyze(escape + DIGITS[:158])
    assert info == SegmentInfo("GSM-7", 160, 1, (), 1120, 1120)


@pytest.mark.parametrize("escape", ESCAPES)
def test_published_escape_plus_159_digits(escape: str) -> None:
    info = analyze(escape + DIGITS[:159])
    assert info == SegmentInfo("GSM-7", 161, 2, (), 1127, 1223)


@pytest.mark.parametrize("letter", UCS2_LETTERS)
def test_published_70_accented_letters_fit_one_segment(letter: str) -> None:
    info = analyze(letter * 70)
    assert (info.encoding, info.segments, info.ucs2_chars) == ("UCS-2", 1, (letter,))


@pytest.mark.parametrize("letter", UCS2_LETTERS)
def test_published_71_accented_letters_need_two(letter: str) -> None:
    info = analyze(letter * 71)
    assert (info.encoding, info.segments, info.units) == ("UCS-2", 2, 71)


def test_published_extension_char_is_one_unit_in_ucs2() -> None:
    info = analyze("😀" + "]" * 68)
    assert (info.encoding, info.units, info.segments) == ("UCS-2", 70, 1)


def test_gsm_table_traps() -> None:
    assert GSM7_BASIC_CODES["@"] == 0x00
    assert GSM7_BASIC_CODES["$"] == 0x02
    assert GSM7_BASIC_CODES["Ç"] == 0x09
    assert GSM7_BASIC_CODES["¤"] == 0x24
    assert GSM7_BASIC_CODES["\u0394"] == 0x10  # Greek capital delta, not U+2206
    assert GSM7_BASIC_CODES["à"] == 0x7F
    assert GSM7_EXTENSION_CODES["€"] == 0x65
    assert len(GSM7_BASIC_CHARS) == 127 and len(GSM7_EXTENSION_CHARS) == 10
    assert not GSM7_BASIC_CHARS & GSM7_EXTENSION_CHARS


@pytest.mark.parametrize("char", ["ç", "`", "\x1b", "\u2206", "\u2126", "\t", "’", "\u0308"])
def test_not_gsm7(char: str) -> None:
    assert septet_cost(char) is None
    assert analyze("a" + char).ucs2_chars == (char,)


@pytest.mark.parametrize(("char", "cost"), [("a", 1), ("\n", 1), ("€", 2), ("\f", 2), ("\\", 2)])
def test_septet_cost(char: str, cost: int) -> None:
    assert septet_cost(char) == cost


def test_extension_chars_cost_two_septets() -> None:
    info = analyze("{x}")
    assert (info.encoding, info.units, info.message_size_bits) == ("GSM-7", 5, 35)


def test_ucs2_reasons_are_distinct_in_first_appearance_order() -> None:
    info = analyze("It’s ç ok’ 😀 ç €")
    assert info.ucs2_chars == ("’", "ç", "😀")
    assert info.units == 17  # "€" is one UTF-16 unit once the message is UCS-2


def test_empty_text_is_one_gsm7_segment() -> None:
    assert analyze("") == SegmentInfo("GSM-7", 0, 1, (), 0, 0)
    assert split_segments("") == [""]
    assert is_gsm7("")


def test_escape_pair_is_never_split() -> None:
    # 306 septets would be exactly two parts of 153, but "€" cannot straddle septets 153/154.
    text = "a" * 152 + "€" + "b" * 152
    assert analyze(text).units == 306
    assert split_segments(text) == ["a" * 152, "€" + "b" * 151, "b"]
    assert analyze(text).segments == 3


def test_extension_chars_pack_76_per_part() -> None:
    assert analyze("€" * 80).segments == 1
    assert [len(piece) for piece in split_segments("€" * 81)] == [76, 5]


def test_surrogate_pair_is_never_split() -> None:
    text = "a" * 66 + "😀" + "b" * 10
    assert split_segments(text) == ["a" * 66, "😀" + "b" * 10]


THAI_WATER = "\u0e19\u0e49\u0e33"  # NO NU, MAI THO, SARA AM: one syllable


@pytest.mark.parametrize("cluster", [ITALY, RAINBOW, "👍🏽", "e\u0301", "1\ufe0f\u20e3", THAI_WATER])
def test_grapheme_cluster_is_never_split(cluster: str) -> None:
    # One unit short of room for the cluster: it must move whole to the second part.
    prefix = "a" * (68 - _units(cluster, "UCS-2"))
    assert split_segments(prefix + cluster + "b" * 10) == [prefix, cluster + "b" * 10]


def test_oversized_cluster_falls_back_to_code_points() -> None:
    text = "e" + "\u0301" * 80
    assert [len(piece) for piece in split_segments(text)] == [67, 14]


def test_lone_surrogate_counts_one_unit() -> None:
    assert analyze("\ud800") == SegmentInfo("UCS-2", 1, 1, ("\ud800",), 16, 16)


@pytest.mark.parametrize(
    ("text", "clusters"),
    [
        ("\U0001f468\u200d\U0001f469\u200d\U0001f467ab", ["\U0001f468\u200d\U0001f469\u200d\U0001f467", "a", "b"]),
        ("\U0001f1fa\U0001f1f8\U0001f1ee\U0001f1f9\U0001f1eb", ["\U0001f1fa\U0001f1f8", ITALY, "\U0001f1eb"]),
        ("\r\n\n\r", ["\r\n", "\n", "\r"]),
        ("e\u0301\u0302x", ["e\u0301\u0302", "x"]),
        ("\u1100\u1161\u11a8\uac00", ["\u1100\u1161\u11a8", "\uac00"]),
        ("a\u200db", ["a\u200d", "b"]),  # ZWJ joins emoji only, not letters
        ("\U0001f3f4\U000e0067\U000e0062\U000e007f!", ["\U0001f3f4\U000e0067\U000e0062\U000e007f", "!"]),
        ("", []),
        # SARA AM and its Lao twin are letters (Lo) but SpacingMarks in UAX #29 (GB9a).
        (THAI_WATER + "\u0e01", [THAI_WATER, "\u0e01"]),
        ("\u0e99\u0eb3\u0e81", ["\u0e99\u0eb3", "\u0e81"]),
    ],
    ids=["family", "flags", "crlf", "accents", "hangul", "zwj-letters", "tag-flag", "empty", "thai-am", "lao-am"],
)  # fmt: skip
def test_grapheme_clusters(text: str, clusters: list[str]) -> None:
    assert grapheme_clusters(text) == clusters


@given(st.text(max_size=400) | st.text(alphabet="ab€{😀\u0301 ", max_size=400))
def test_split_segments_agrees_with_analyze(text: str) -> None:
    info = analyze(text)
    pieces = split_segments(text)
    assert "".join(pieces) == text
    assert len(pieces) == info.segments
    per_part = 153 if info.encoding == "GSM-7" else 67
    if info.segments > 1:
        assert all(_units(piece, info.encoding) <= per_part for piece in pieces)
        assert info.segments >= math.ceil(info.units / per_part)
    assert info.message_size_bits == info.units * (7 if info.encoding == "GSM-7" else 16)


def test_all_is_honest() -> None:
    public = {
        name
        for name, value in vars(bot.sms).items()
        if not name.startswith("_") and not isinstance(value, types.ModuleType)
    }
    assert set(bot.sms.__all__) == public


def _units(piece: str, encoding: str) -> int:
    if encoding == "GSM-7":
        return sum(septet_cost(char) or 0 for char in piece)
    return len(piece.encode("utf-16-le", "surrogatepass")) // 2


# Conjuncts: a consonant, a linker (virama, Myanmar's stacking virama, Khmer's coeng), and the
# next consonant are one user-perceived character. UAX #29 GB9c keeps them together for the six
# scripts whose viramas are Indic_Conjunct_Break=Linker (Unicode 15.1: Devanagari, Bengali,
# Gujarati, Oriya, Telugu, Malayalam; rows such as "÷ 0915 × 094D × 0924 ÷" of
# GraphemeBreakTest.txt); Myanmar's U+1039 and Khmer's U+17D2 stack the next consonant the
# same way, and a message cut there shows a dangling virama and a bare letter.
@pytest.mark.parametrize(
    ("text", "clusters"),
    [
        ("\u0915\u094d\u0924", ["\u0915\u094d\u0924"]),  # GraphemeBreakTest: ÷ 0915 × 094D × 0924 ÷
        ("\u0915\u094d\u094d\u0924", ["\u0915\u094d\u094d\u0924"]),  # ÷ 0915 × 094D × 094D × 0924 ÷
        ("\u0915\u093c\u094d\u0924", ["\u0915\u093c\u094d\u0924"]),  # ÷ 0915 × 093C × 094D × 0924 ÷ (nukta)
        ("\u0915\u094d\u200d\u0924", ["\u0915\u094d\u200d\u0924"]),  # ÷ 0915 × 094D × 200D × 0924 ÷
        ("\u0915\u093c\u200d\u094d\u0924", ["\u0915\u093c\u200d\u094d\u0924"]),  # ÷ 0915 × 093C × 200D × 094D × 0924 ÷
        ("\u0915\u094d\u0924\u094d\u092f", ["\u0915\u094d\u0924\u094d\u092f"]),  # ÷ 0915 × 094D × 0924 × 094D × 092F ÷
        ("\u0915\u094d\u0061", ["\u0915\u094d", "a"]),  # ÷ 0915 × 094D ÷ 0061 ÷: a Latin letter is no consonant
        ("\u0061\u094d\u0924", ["a\u094d", "\u0924"]),  # ÷ 0061 × 094D ÷ 0924 ÷: nothing to link from
        ("\u003f\u094d\u0924", ["?\u094d", "\u0924"]),  # ÷ 003F × 094D ÷ 0924 ÷
        ("\u0915\u094d \u0924", ["\u0915\u094d", " ", "\u0924"]),
        ("\u0938\u094d\u0924\u094d\u0930\u0940", ["\u0938\u094d\u0924\u094d\u0930\u0940"]),  # Hindi "stri"
        ("\u0995\u09cd\u09b7", ["\u0995\u09cd\u09b7"]),  # Bengali kssa
        ("\u0d15\u0d4d\u0d37", ["\u0d15\u0d4d\u0d37"]),  # Malayalam kssa
        ("\u101e\u1039\u1010", ["\u101e\u1039\u1010"]),  # Myanmar: sa over ta
        ("\u1781\u17d2\u1798\u17c2\u179a", ["\u1781\u17d2\u1798\u17c2", "\u179a"]),  # Khmer "khmae-r"
        ("\u179f\u17d2\u178f\u17d2\u179a\u17b8", ["\u179f\u17d2\u178f\u17d2\u179a\u17b8"]),  # Khmer "strei"
    ],
    ids=["ka-ta", "two-viramas", "nukta", "zwj", "nukta-zwj", "three", "latin-after", "latin-before",
         "punct-before", "space", "stri", "bengali", "malayalam", "myanmar", "khmer", "khmer-two-coengs"],
)  # fmt: skip
def test_conjuncts_are_one_cluster(text: str, clusters: list[str]) -> None:
    assert grapheme_clusters(text) == clusters


def test_a_segment_boundary_never_falls_inside_a_conjunct() -> None:
    # 2 + 30 x 3 = 92 UTF-16 units: two parts of at most 67; the first must end after a
    # whole conjunct (65 units), not after the virama of the 22nd (67).
    text = "ab" + "\u0915\u094d\u0937" * 30
    assert split_segments(text) == ["ab" + "\u0915\u094d\u0937" * 21, "\u0915\u094d\u0937" * 9]

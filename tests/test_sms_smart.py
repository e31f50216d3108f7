"""Smart encoding: the transcribed map, and the all-or-nothing replacement rule."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.sms import SMART_ENCODING_MAP, analyze, is_gsm7, smart_encode


def test_map_has_all_270_entries() -> None:
    assert len(SMART_ENCODING_MAP) == 270


def test_map_only_replaces_non_gsm7_with_gsm7() -> None:
    # A key that is already GSM-7 would be rewritten needlessly; a value that is not GSM-7
    # could never help a message become GSM-7.
    assert [key for key in SMART_ENCODING_MAP if is_gsm7(key)] == []
    assert [value for value in SMART_ENCODING_MAP.values() if not is_gsm7(value)] == []


@pytest.mark.parametrize(
    ("code_point", "replacement"),
    [
        (0x00AB, '"'),  # entry 1, the first of the table
        (0x201C, '"'),
        (0x201D, '"'),
        (0x2018, "'"),
        (0x2019, "'"),
        (0x0060, "'"),  # the grave accent is not GSM-7 itself
        (0x00BD, "1/2"),
        (0xFF3C, "\\"),
        (0x2223, "|"),
        (0xFF21, "A"),
        (0x1D00, "A"),
        (0xFF19, "9"),
        (0xFF5B, "{"),
        (0x00A0, "  "),  # quirk: NBSP becomes two spaces
        (0x3000, "  "),
        (0x0009, "       "),  # quirk: TAB becomes seven spaces
        (0x0000, ""),
        (0x2060, ""),
        (0x2014, "-"),
        (0x2013, "-"),
        (0x2039, ">"),  # quirk: reversed
        (0x203A, "<"),  # quirk: reversed
        (0x203C, "!!"),
        (0x2028, " "),
        (0x2026, "..."),
        (0x2001, " "),  # quirk: one space, where U+2000 gets two
        (0x200B, ""),
        (0x3001, ","),
        (0xFEFF, ""),
        (0x2022, "-"),  # entry 270, the last of the table
    ],
    ids=lambda value: f"U+{value:04X}" if isinstance(value, int) else None,
)
def test_map_entry(code_point: int, replacement: str) -> None:
    assert SMART_ENCODING_MAP[chr(code_point)] == replacement


@pytest.mark.parametrize("char", ["ç", "\u0301", "😀", "你", "Ж"])
def test_characters_not_in_map(char: str) -> None:
    assert char not in SMART_ENCODING_MAP


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("\u201cDon\u2019t\u201d", '"Don\'t"'),
        ("Open 9\u201317 \u2014 call us", "Open 9-17 - call us"),
        ("Wait\u2026", "Wait..."),
        ("10\u00a0kg", "10  kg"),
        ("\u2022 item\tone", "- item       one"),
        ("\uff5bcode\uff5d", "{code}"),
        ("a\u200bb\ufeff", "ab"),
        ("\u2039x\u203a", ">x<"),
        ("½ price", "1/2 price"),
    ],
    ids=["quotes", "dashes", "ellipsis", "nbsp", "bullet-tab", "braces", "zero-width", "angles", "half"],
)
def test_replaced_when_result_is_gsm7(text: str, expected: str) -> None:
    assert smart_encode(text) == expected
    assert analyze(expected).encoding == "GSM-7"


@pytest.mark.parametrize(
    "text",
    [
        "It\u2019s done \U0001f600",  # emoji keeps it UCS-2 anyway
        "\u201c\u4f60\u597d\u201d \u2014 hi",  # CJK
        "\u041f\u0440\u0438\u0432\u0435\u0442\u2026",  # Cyrillic
        "Fran\u00e7ois\u2019 order",  # lowercase c-cedilla has no look-alike in the map
        "cafe\u0301 \u2013 open",  # decomposed accent: U+0301 is not in the map
    ],
    ids=["emoji", "cjk", "cyrillic", "c-cedilla", "combining-accent"],
)
def test_left_alone_when_ucs2_remains(text: str) -> None:
    assert smart_encode(text) == text


@pytest.mark.parametrize("text", ["", "Plain GSM-7 text, €5 {ok} Ç", "line\r\nbreak"])
def test_gsm7_text_is_unchanged(text: str) -> None:
    assert smart_encode(text) == text


def test_smart_encoding_saves_segments() -> None:
    text = "We\u2019re open today \u2014 come by! " * 4
    assert analyze(text).segments == 2  # UCS-2: 112 units > 70
    assert analyze(smart_encode(text)).segments == 1  # GSM-7: 112 septets <= 160


_MIXED = st.text(alphabet=st.sampled_from([*SMART_ENCODING_MAP, "a", " ", "€", "😀", "ç"]))


@given(st.text() | _MIXED)
def test_result_is_original_or_gsm7_and_idempotent(text: str) -> None:
    encoded = smart_encode(text)
    assert encoded == text or is_gsm7(encoded)
    assert smart_encode(encoded) == encoded

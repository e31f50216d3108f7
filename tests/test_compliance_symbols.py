"""Symbols that Unicode spells with letters (™ -> "TM") stay symbols next to a keyword.

Compatibility decomposition, which turns "𝐒𝐓𝐎𝐏" and "ＳＴＯＰ" into "STOP",
also turns "™" into "TM", "℠" into "SM" and "㎏" into "kg": glued to the word
before them, "STOP™" read as "stoptm" and was not an opt-out. The rule: a
symbol (Unicode category S*) whose decomposition is one letter or digit,
bracketed or not ("Ⓢ", "🅂", "⒮"), is that letter; any other symbol whose
decomposition holds letters or digits ("™", "℃", "﷼") is a symbol like "®"
or an emoji.
"""

from __future__ import annotations

import sys
import unicodedata

import pytest

from bot.compliance import ComplianceKeywords, Intent
from bot.compliance.clauses import fold

KW = ComplianceKeywords()


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("STOP™", "keyword STOP"),
        ("Stop℠", "keyword STOP"),
        ("STOP™!", "keyword STOP"),
        ("™STOP", "keyword STOP"),
        ("UNSUBSCRIBE℡", "keyword UNSUBSCRIBE"),
        ("HELP™", "keyword HELP"),
        ("START™", "keyword START"),
        ("Thanks. STOP™", "keyword STOP as a sentence of its own"),
        ("⒮⒯⒪⒫", "keyword STOP"),  # parenthesized letters are letters
        ("🅂🅃🄾🄿", "keyword STOP"),
        ("Ⓢⓣⓞⓟ", "keyword STOP"),
    ],
)
def test_symbols_spelled_with_letters_do_not_glue_onto_a_keyword(text: str, reason: str) -> None:
    assert KW.explain(text)[1] == reason


def test_a_revocation_with_a_trademark_sign() -> None:
    assert KW.classify("please stop texting me™") is Intent.OPT_OUT
    assert KW.classify("Acme™ stop texting me") is Intent.OPT_OUT


def _letters(text: str) -> str:
    return "".join(ch for ch in text if ch.isalnum())


def test_every_symbol_spelled_with_letters_folds_to_no_letters_or_its_one_letter() -> None:
    wrong = []
    for cp in range(0x80, sys.maxunicode + 1):
        ch = chr(cp)
        if not unicodedata.category(ch).startswith("S"):
            continue
        decomposed = unicodedata.normalize("NFKD", ch)
        spelled = _letters(decomposed)
        if not spelled:
            continue
        bracketed = decomposed in (spelled, f"({spelled})", f"[{spelled}]", f"\u3014{spelled}\u3015")
        expected = spelled.casefold() if len(spelled) == 1 and bracketed else ""
        if _letters(fold(ch)) != expected:
            wrong.append((hex(cp), ch, fold(ch)))
    assert not wrong

"""Folding for compliance (bot.compliance.clauses.fold) and patterns without IGNORECASE.

Built-in revocation patterns are compiled without re.IGNORECASE (it doubles
their cost, and they run on every message). That is exact only because a
folded clause never holds a character IGNORECASE would equate with a
lowercase ASCII letter other than that letter: checked here for every code
point, and pattern by pattern on texts typed every way customers type them.
"""

from __future__ import annotations

import re
import string
import sys
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.compliance import REVOCATION_PATTERNS, ComplianceKeywords, Intent
from bot.compliance.clauses import fold, split_clauses
from bot.compliance.revocation import compile_pattern
from tests.test_compliance_keywords import NOT_REVOCATIONS, REVOCATIONS

KW = ComplianceKeywords()


def test_folded_text_has_no_other_case_of_an_ascii_letter() -> None:
    """No code point folds to a character IGNORECASE equates with a lowercase
    ASCII letter, except that letter itself: capitals ("𝐒" -> "S") and dotless
    "ı" are folded away, the Kelvin sign and long s by casefold."""
    letters = re.compile("[a-z]", re.IGNORECASE)
    offenders = {
        (hex(cp), folded)
        for cp in range(sys.maxunicode + 1)
        if not 0xD800 <= cp <= 0xDFFF
        for folded in fold(chr(cp))
        if letters.fullmatch(folded) and folded not in string.ascii_lowercase
    }
    assert not offenders


def test_fold_of_a_text_is_the_fold_of_its_characters() -> None:
    """The check above is per character; folding a whole text (NFKD reorders
    combining marks, which are dropped) gives the same as folding each."""
    for text in ("𝐒𝐓𝐎𝐏 𝐓𝐄𝐗𝐓𝐈𝐍𝐆", "ﬀ Ǆ ẞ İı ſK", "Arrêtéz", "ＳＴＯＰ", "ℍ𝔼𝕃ℙ me", "Ⓢⓣⓞⓟ"):
        assert fold(text) == "".join(fold(ch) for ch in text)


def test_every_built_in_pattern_is_compiled_without_ignorecase() -> None:
    for pattern in REVOCATION_PATTERNS:
        assert not compile_pattern(pattern).flags & re.IGNORECASE, pattern


@pytest.mark.parametrize(
    "pattern",
    ["STOP TEXTING", "[a-z]+ off", r"stop (\w+) \1", r"\Bstop", "(?P<what>stop) texting"],
)
def test_other_patterns_keep_ignorecase(pattern: str) -> None:
    assert compile_pattern(pattern).flags & re.IGNORECASE


def test_a_flows_capitalised_pattern_still_matches_any_casing() -> None:
    kw = ComplianceKeywords(extra_revocation_patterns=["DO NOT CONTACT"])
    assert kw.classify("pls do not contact me again") is Intent.OPT_OUT
    assert kw.classify("𝐃𝐎 𝐍𝐎𝐓 𝐂𝐎𝐍𝐓𝐀𝐂𝐓") is Intent.OPT_OUT


# Ways a phone can type the same letters: capitals, math alphabets (pasted from
# "font" apps), fullwidth, circled, a Turkish keyboard's dotless i, long s.
_STYLES = {
    "upper": str.upper,
    "bold": lambda t: "".join(
        unicodedata.lookup(f"MATHEMATICAL BOLD CAPITAL {c.upper()}") if c.isascii() and c.isalpha() else c
        for c in t
    ),
    "fullwidth": lambda t: "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in t),
    "circled": lambda t: "".join(
        unicodedata.lookup(f"CIRCLED LATIN SMALL LETTER {c.upper()}") if c.isascii() and c.isalpha() else c
        for c in t
    ),
    "dotless": lambda t: t.replace("i", "\u0131"),
    "long s": lambda t: t.replace("s", "\u017f"),
}
_TEXTS = REVOCATIONS + NOT_REVOCATIONS + ["STOP", "help", "unsubscribe", "i said stop texting me!!"]
_STYLED = [style(text) for text in _TEXTS for style in _STYLES.values()] + _TEXTS


def _reference(text: str) -> str | None:
    """The first pattern (in order) matching some clause with IGNORECASE, and what it matched."""
    clauses = split_clauses(text)
    for pattern in REVOCATION_PATTERNS:
        source = "".join(ch for ch in unicodedata.normalize("NFKD", pattern) if not unicodedata.combining(ch))
        compiled = re.compile(source, re.IGNORECASE)
        for clause in clauses:
            found = compiled.search(clause.text)
            if found is not None:
                return f"{pattern!r} {found.group(0)!r}"
    return None


def _ours(text: str) -> str | None:
    """The same search with the patterns as compiled for ComplianceKeywords."""
    clauses = split_clauses(text)
    for pattern in REVOCATION_PATTERNS:
        compiled = compile_pattern(pattern)
        for clause in clauses:
            found = compiled.search(clause.text)
            if found is not None:
                return f"{pattern!r} {found.group(0)!r}"
    return None


@pytest.mark.parametrize("text", _STYLED)
def test_patterns_match_as_with_ignorecase(text: str) -> None:
    assert _ours(text) == _reference(text)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from([*_TEXTS, "ı", "İ", "ſ", "K", "𝐒", "ß", " ", "."]), min_size=1, max_size=6))
def test_patterns_match_as_with_ignorecase_on_mixed_texts(parts: list[str]) -> None:
    text = " ".join(parts)
    assert _ours(text) == _reference(text)


@pytest.mark.parametrize(
    ("text", "intent", "reason"),
    [
        ("𝐒𝐓𝐎𝐏", Intent.OPT_OUT, "keyword STOP"),
        ("ℍ𝔼𝕃ℙ", Intent.HELP, "keyword HELP"),
        ("𝐔𝐍𝐒𝐓𝐎𝐏", Intent.OPT_IN, "keyword UNSTOP"),
        ("unsubscr\u0131be", Intent.OPT_OUT, "keyword UNSUBSCRIBE"),
        ("ＱＵＩＴ", Intent.OPT_OUT, "keyword QUIT"),
    ],
)
def test_keywords_in_any_alphabet(text: str, intent: Intent, reason: str) -> None:
    assert KW.explain(text) == (intent, reason)


def test_incompatible_flags_are_reported_with_the_pattern() -> None:
    with pytest.raises(ValueError, match=r"invalid revocation pattern '\(\?a\)\(\?u\)stop'"):
        compile_pattern("(?a)(?u)stop")

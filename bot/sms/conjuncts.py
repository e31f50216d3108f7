"""Conjuncts: consonant + linker + consonant is one grapheme cluster (UAX #29 GB9c, extended).

A virama between two consonants makes one written syllable of them ("\u0915\u094d\u0937",
KSSA): UAX #29 (Unicode 15.1) keeps them in one cluster for the six scripts whose viramas are
Indic_Conjunct_Break=Linker. Myanmar's invisible stacker (U+1039) and Khmer's coeng (U+17D2)
write the next consonant under the one before just the same, and CLDR's aksara clusters keep
those whole too: an SMS cut after the linker shows a dangling sign, then a bare letter.
Python's ``unicodedata`` has no Indic_Conjunct_Break property, hence the tables here.

``grapheme_clusters`` (bot.sms.segments) asks ``conjunct_role`` of each character and keeps
the state ``next_conjunct`` returns: a consonant joins the cluster before it when the state
is ``LINKED``.
"""

from __future__ import annotations

import unicodedata

__all__ = ["AFTER_CONSONANT", "CONJUNCT_EXTEND", "CONSONANT", "LINKED", "LINKER", "NONE", "conjunct_role",
           "next_conjunct"]

NONE, AFTER_CONSONANT, LINKED = 0, 1, 2
CONSONANT, LINKER, CONJUNCT_EXTEND = "C", "L", "E"
# Indic_Conjunct_Break=Linker (Unicode 15.1): the viramas of Devanagari, Bengali, Gujarati,
# Oriya, Telugu and Malayalam; then Myanmar's invisible stacker and Khmer's coeng.
_LINKERS = frozenset("\u094d\u09cd\u0acd\u0b4d\u0c4d\u0d4d\u1039\u17d2")
# Indic_Conjunct_Break=Consonant (Unicode 15.1) and the consonants Myanmar and Khmer stack.
_CONSONANT_RANGES: tuple[tuple[int, int], ...] = (
    (0x0915, 0x0939), (0x0958, 0x095F), (0x0978, 0x097F),  # Devanagari
    (0x0995, 0x09A8), (0x09AA, 0x09B0), (0x09B2, 0x09B2), (0x09B6, 0x09B9), (0x09DC, 0x09DD),
    (0x09DF, 0x09DF), (0x09F0, 0x09F1),  # Bengali
    (0x0A95, 0x0AA8), (0x0AAA, 0x0AB0), (0x0AB2, 0x0AB3), (0x0AB5, 0x0AB9), (0x0AF9, 0x0AF9),  # Gujarati
    (0x0B15, 0x0B28), (0x0B2A, 0x0B30), (0x0B32, 0x0B33), (0x0B35, 0x0B39), (0x0B5C, 0x0B5D),
    (0x0B5F, 0x0B5F), (0x0B71, 0x0B71),  # Oriya
    (0x0C15, 0x0C28), (0x0C2A, 0x0C39), (0x0C58, 0x0C5A),  # Telugu
    (0x0D15, 0x0D3A),  # Malayalam
    (0x1000, 0x1021), (0x103F, 0x103F), (0x1050, 0x1055), (0x105A, 0x105D), (0x1061, 0x1061),
    (0x1065, 0x1066), (0x106E, 0x1070), (0x1075, 0x1081), (0x108E, 0x108E),  # Myanmar
    (0x1780, 0x17A2),  # Khmer
)  # fmt: skip
_LAST_CONSONANT = _CONSONANT_RANGES[-1][1]


def conjunct_role(char: str) -> str:
    """Consonant, linker, extend (a mark that may sit inside a conjunct) or "" (ends one)."""
    if char in _LINKERS:
        return LINKER
    code = ord(char)
    if code <= _LAST_CONSONANT:  # emoji, quotes, CJK: past every range
        for low, high in _CONSONANT_RANGES:
            if low <= code <= high:
                return CONSONANT
    # Indic_Conjunct_Break=Extend: ZWJ and the combining marks with a combining class (a
    # nukta between consonant and virama); a vowel sign (class 0) ends the conjunct.
    if char == "\u200d" or unicodedata.combining(char):
        return CONJUNCT_EXTEND
    return ""


def next_conjunct(state: int, role: str) -> int:
    """The state after a character of ``role``: consonant (extend)* linker (extend)* is ``LINKED``."""
    if role == CONSONANT:
        return AFTER_CONSONANT
    if role == LINKER:
        return LINKED if state != NONE else NONE
    return state if role == CONJUNCT_EXTEND else NONE

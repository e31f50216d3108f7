"""Splitting a text message into normalised clauses, the unit compliance rules read.

A clause is what lies between punctuation, emoji or line breaks, normalised to
lowercase, accent-free words separated by single spaces; apostrophes are
dropped ("don't" -> "dont") and hyphens become spaces ("opt-out" -> "opt out").
Keywords and revocation patterns both see this form, so "STOP!!", "stop" and
"Stop 🛑" are the same message to every rule.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from bot.matching.normalize import visible

__all__ = [
    "LOOKALIKES", "SPELLED_SYMBOLS", "Clause", "clauses_of", "fold", "keyword_forms", "normal_form", "split_clauses",
    "strip_combining",
]

# Characters dropped inside a word, so "don't" and "don’t" both become "dont".
# A regex rather than str.translate: translate takes a Python step per
# character of a non-ASCII text (36 us for 700 characters, 2 with the regex).
_APOSTROPHES = re.compile("['\u2019\u2018\u02bc`\u00b4]")
# Characters that separate words but not clauses: "opt-out" is one phrase.
# That is hyphens, underscores and every whitespace character but line breaks
# (r"[-_\u2010\u2011]|[^\S\r\n]"), written as one class without the plain
# space, which needs no replacing: sre then tests one class per character
# instead of two alternatives, and a text's 100 spaces are not each replaced
# by a space (a 700-character text: 4 us instead of 22).
# tests/test_compliance_long_texts.py checks every code point against that
# definition.
_WORD_SEPARATORS = re.compile(
    "[-_\u2010\u2011\t\x0b\x0c\x1c-\x1f\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]"
)
# Anything else that is neither a word character nor a space ends a clause:
# punctuation, emoji, symbols and line breaks.
_CLAUSE_BREAK = re.compile(r"([^\w ]+)")


_BRACKETS = "()[]\u3014\u3015"


def _spelled_symbols() -> dict[int, str]:
    """Symbols whose compatibility decomposition holds letters or digits, for str.translate.

    NFKD spells "™" as "TM", "℠" as "SM", "㎏" as "kg", "№" as "No": glued to
    the word before, "STOP™" would read "stoptm". Such a symbol becomes U+FFFC
    (OBJECT REPLACEMENT CHARACTER, itself a symbol that NFKD leaves alone), so
    it ends a clause as "®" or an emoji does. A symbol that spells a single
    letter or digit, bracketed or not ("Ⓢ", "🅂", "⒮"), is that letter.
    tests/test_compliance_symbols.py checks every code point; these blocks
    hold them all.
    """
    table: dict[int, str] = {}
    for cp in (*range(0x20A8, 0x2500), *range(0x3200, 0x3400), 0xFDFC, *range(0x1F100, 0x1F300)):
        ch = chr(cp)
        spelled = unicodedata.normalize("NFKD", ch)
        if not unicodedata.category(ch).startswith("S") or not any(c.isalnum() for c in spelled):
            continue
        letters = spelled.strip(_BRACKETS)
        if len(letters) == 1 and letters.isalnum():
            if letters != spelled:
                table[cp] = letters  # "⒮" -> "s"; "Ⓢ" decomposes by itself
        else:
            table[cp] = "\ufffc"
    return table


SPELLED_SYMBOLS: dict[int, str] = _spelled_symbols()
# The blocks scanned above, searched for first as bot.matching.normalize.visible
# does: a search is much cheaper than str.translate, and almost no text holds
# one. Four ranges, not the table's 26: sre tries each range on every character.
_SPELLED_RE = re.compile("[\u20a8-\u24ff\u3200-\u33ff\ufdfc\U0001f100-\U0001f2ff]")


# Letters that look like a Latin letter, read as that letter: Cyrillic and Greek
# homoglyphs (both cases, so that "Т" and "т" agree as casefold needs, and
# what the uppercase looks like decides: "Н"/"н" is h, "Ν"/"ν" is n), small
# capitals and dotless "ı" (what "font" apps and Turkish keyboards produce),
# and the negative circled and squared letters ("🅢", "🆂"), which have no
# decomposition. What a letter looks like decides, not how it sounds:
# Cyrillic "С" is c, so "СТОР" reads "ctop". Revocation patterns are read
# through the same table (bot.compliance.revocation.compile_pattern).
_LOOKS_LIKE = {
    "a": "аАαΑᴀ", "b": "вВβΒʙ", "c": "сСᴄ", "d": "ԁԀᴅ", "e": "еЕεΕᴇ", "f": "ꜰ", "g": "ɢ",
    "h": "нНһҺηΗʜ", "i": "іІιΙɪı", "j": "јЈᴊ", "k": "кКκΚᴋ", "l": "ʟ", "m": "мМμΜᴍ", "n": "νΝɴ",
    "o": "оОοΟᴏ", "p": "рРρΡᴘ", "q": "ԛԚ", "r": "ʀ", "s": "ѕЅꜱ", "t": "тТτΤᴛ", "u": "ᴜ", "v": "ᴠ",
    "w": "ԝԜᴡ", "x": "хХχΧ", "y": "уУүҮυΥʏ", "z": "ζΖᴢ",
}  # fmt: skip
LOOKALIKES: dict[int, str] = {
    **{ord(ch): latin for latin, chars in _LOOKS_LIKE.items() for ch in chars},
    **{0x1F150 + n: chr(ord("a") + n) for n in range(26)},  # negative circled
    **{0x1F170 + n: chr(ord("a") + n) for n in range(26)},  # negative squared
}
_LOOKALIKE_RE = re.compile("[\u0131\u0250-\u02af\u0370-\u052f\u1d00-\u1d2b\ua730-\ua731\U0001f150-\U0001f189]")


def _combining_marks() -> tuple[re.Pattern[str], re.Pattern[str]]:
    """Regexes for the characters ``unicodedata.combining`` calls combining (accents).

    Returns a class of those in the Basic Multilingual Plane, and one range
    spanning those above it. Filtering character by character in Python cost
    35 us for a 700-character non-ASCII text; the class does it in under 2.
    sre tests a class with characters above U+FFFF range by range (70 us),
    so those few (historic scripts, musical symbols) are only searched for
    as one range, which emoji lie above. All lie below U+20000
    (tests/test_compliance_long_texts.py checks every code point); scanning
    those takes about 15 ms at import.
    """
    ranges: list[list[int]] = []
    for code in range(0x20000):
        if unicodedata.combining(chr(code)):
            if ranges and ranges[-1][1] == code - 1:
                ranges[-1][1] = code
            else:
                ranges.append([code, code])
    bmp = "".join(f"\\u{first:04x}-\\u{last:04x}" for first, last in ranges if last <= 0xFFFF)
    astral = [code for first, last in ranges if last > 0xFFFF for code in (first, last)]
    return re.compile(f"[{bmp}]"), re.compile(f"[\\U{min(astral):08x}-\\U{max(astral):08x}]")


_COMBINING, _ASTRAL_COMBINING_SPAN = _combining_marks()


def strip_combining(text: str) -> str:
    """``text`` without its combining characters (accents of a decomposed text)."""
    stripped = _COMBINING.sub("", text)
    if _ASTRAL_COMBINING_SPAN.search(stripped) is None:
        return stripped
    return "".join(ch for ch in stripped if not unicodedata.combining(ch))


@dataclass(frozen=True, slots=True)
class Clause:
    """One clause of a message: its words and whether it was asked as a question.

    ``text`` (words joined by spaces) and ``key`` (joined without) are computed
    once here: every rule reads them, the patterns once per pattern.
    """

    words: tuple[str, ...]
    question: bool
    text: str
    key: str


def fold(text: str) -> str:
    """Lowercase and strip accents, so "ARRÊT", "arret" and "Ａｒｒｅｔ" compare equal."""
    if text.isascii():
        # Most texts: NFKD leaves ASCII alone, it has no combining marks, and
        # casefold() of ASCII is lower(). Skips a Python loop over every character.
        return text.lower()
    # casefold first: it can itself produce combining marks ("İ" -> "i̇").
    # Invisible characters inside words ("S\u200bTOP") would split a keyword
    # into two clauses; see bot.matching.normalize.visible. Symbols spelled
    # with letters ("™") must not become letters; see SPELLED_SYMBOLS.
    text = visible(text)
    if _SPELLED_RE.search(text) is not None:
        text = text.translate(SPELLED_SYMBOLS)
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    stripped = strip_combining(decomposed)
    # Compatibility forms decompose to capitals casefold left alone ("𝐒𝐓𝐎𝐏",
    # "ℍ𝔼𝕃ℙ" -> "STOP", "HELP"), so fold again; and letters that look Latin
    # are read as Latin ("SТОР", "ꜱᴛᴏᴘ"; dotless "ı", a Turkish keyboard's
    # "i", is "i" as case-insensitive regex matching has it): LOOKALIKES. A
    # folded clause is then lowercase, and revocation patterns written in
    # lowercase ASCII need no IGNORECASE (bot.compliance.revocation).
    folded = stripped.casefold()
    return folded.translate(LOOKALIKES) if _LOOKALIKE_RE.search(folded) is not None else folded


def normal_form(text: str) -> str:
    """The message folded, apostrophes dropped and word separators made spaces, before clauses are cut.

    bot.compliance.disguise reads this form too: it still holds the
    punctuation between clauses ("s.t.o.p") that split_clauses drops.
    """
    return _WORD_SEPARATORS.sub(" ", _APOSTROPHES.sub("", fold(text)))


def split_clauses(text: str) -> tuple[Clause, ...]:
    """Split a message into normalised clauses (see the module docstring)."""
    return clauses_of(normal_form(text))


def clauses_of(folded: str) -> tuple[Clause, ...]:
    """Split a message already in :func:`normal_form` into clauses."""
    # re.split with a capturing group alternates text, separator, text, ...
    parts = _CLAUSE_BREAK.split(folded)
    clauses: list[Clause] = []
    for index in range(0, len(parts), 2):
        words = tuple(parts[index].split())
        if not words:
            continue
        terminator = parts[index + 1] if index + 1 < len(parts) else ""
        clauses.append(Clause(words, "?" in terminator, " ".join(words), "".join(words)))
    return tuple(clauses)


def keyword_forms(keyword: str) -> tuple[str, str, str]:
    """Return ``(key, spaced, display)``: ``"Opt-Out"`` -> ``("optout", "opt out", "OPT OUT")``.

    The key joins all words without spaces, so "opt out", "opt-out" and
    "OPTOUT" are the same keyword for matching and for conflict detection.

    Raises:
        ValueError: The keyword has no letters or digits.
    """
    words = [word for clause in split_clauses(keyword) for word in clause.words]
    if not words:
        raise ValueError(f"compliance keyword {keyword!r} has no letters or digits")
    return "".join(words), " ".join(words), " ".join(words).upper()



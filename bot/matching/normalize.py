"""Normalisation of customers' texts and of the flow's phrasings.

Customers text short, typo'd, all-caps messages with emoji and shorthand. Matching
compares *normalised* strings only, and phrasings are normalised once at load, so
the per-message cost is one pass over the customer's text.

The steps, in order (each chosen from real SMS habits):

1. Invisible format characters are dropped (a zero-width space becomes a
   space), then Unicode compatibility decomposition and accent stripping, so
   ``ME\u00adNU`` is ``MENU``, ``café`` and ``cafe`` match and full-width
   digits become ASCII digits.
2. Case folding (``HOURS`` -> ``hours``).
3. Apostrophes are dropped, not turned into spaces, so ``what's`` -> ``whats``
   (a single token that the shorthand table then expands).
4. Every other non-alphanumeric character (punctuation, emoji, symbols) becomes a
   space: ``hours??`` -> ``hours``, ``hi🙂`` -> ``hi``.
5. Runs of three or more of the same letter shrink to two (``sooo`` -> ``soo``):
   emphasis, not spelling. Digits are left alone: ``111`` is not ``11``.
6. Whole-word shorthand is expanded (``u`` -> ``you``, ``hrs`` -> ``hours``).
"""

from __future__ import annotations

import re
import unicodedata

__all__ = [
    "COURTESY", "INVISIBLE", "NUMBER_WORDS", "SHORTHAND", "STOPWORDS", "content_words", "keyword_core", "match_form",
    "normalize", "pattern_text", "squeeze", "stem", "visible",
]

# Characters a phone does not show, which copy-pasted text and some keyboards
# put inside words ("ME\u00adNU", "st\u200dop"): format characters (Unicode
# Cf) that join, break or mark direction. They are dropped, so the word is
# whole again, except the zero-width space, which separates words as a space
# does. For str.translate; every code point listed is outside ASCII, so
# ASCII texts need no pass. Shared with bot.compliance.clauses: a keyword must
# be recognised by the flow and by compliance alike.
INVISIBLE: dict[int, str | None] = {
    0x200B: " ",  # zero-width space
    **dict.fromkeys(
        [
            0x00AD,  # soft hyphen
            0x180E,  # Mongolian vowel separator (formerly a space, now invisible)
            *range(0x200C, 0x2010),  # zero-width (non-)joiner, left-to-right and right-to-left marks
            *range(0x202A, 0x202F),  # direction embeddings and overrides
            *range(0x2060, 0x2065),  # word joiner, invisible operators
            *range(0x2066, 0x2070),  # direction isolates, deprecated format characters
            0xFEFF,  # zero-width no-break space (byte-order mark)
            0xE0001,  # language tag
            *range(0xE0020, 0xE0080),  # tag characters (inside flag emoji)
        ]
    ),
}


def _char_class(codes: list[int]) -> str:
    """A regex character class of ``codes`` written as ranges (``[\\u200b-\\u200f...]``).

    Ranges, because sre tests a class of 150 listed characters (astral ones
    among them) twenty times slower than the same class as 10 ranges.
    """
    ranges: list[tuple[int, int]] = []
    for code in sorted(codes):
        if ranges and ranges[-1][1] == code - 1:
            ranges[-1] = (ranges[-1][0], code)
        else:
            ranges.append((code, code))
    return "[" + "".join(re.escape(chr(lo)) + ("-" + re.escape(chr(hi)) if hi > lo else "") for lo, hi in ranges) + "]"


# Searching for them first (~0.4 us for an SMS) is ten times cheaper than
# str.translate, which rebuilds the text even when, as in nearly every
# message, there is nothing to remove.
_INVISIBLE_RE = re.compile(_char_class(list(INVISIBLE)))


def visible(text: str) -> str:
    """``text`` without the characters of ``INVISIBLE`` (a zero-width space becomes a space)."""
    return text.translate(INVISIBLE) if _INVISIBLE_RE.search(text) is not None else text


class _PatternFold(dict[int, str]):
    """For ``str.translate``: full-width ASCII forms and every script's decimal digits as ASCII.

    Worked out per character on first sight (a table of all of Unicode would
    cost a third of a second at import), then remembered.
    """

    def __missing__(self, code: int) -> str:
        char = chr(code)
        if 0xFF01 <= code <= 0xFF5E:  # full-width forms of ASCII "!" .. "~"
            folded = chr(code - 0xFEE0)
        else:
            digit = unicodedata.decimal(char, None)
            folded = str(digit) if digit is not None else char
        self[code] = folded
        return folded


_PATTERN_FOLD = _PatternFold()


def pattern_text(text: str) -> str:
    """The text a flow's ``pattern`` is searched in.

    Phones type order numbers with Arabic-Indic, Devanagari or full-width
    digits (``٤٥٦``, ``４５６``), which ``[0-9]`` does not match and which,
    captured and echoed, would turn a reply into UCS-2 (half the characters
    per segment): digits and full-width forms are read as ASCII, invisible
    characters dropped (``R‍-1234``), everything else left as typed.
    """
    if text.isascii():
        return text
    return visible(text).translate(_PATTERN_FOLD)

# Whole-token expansions. Kept small and unambiguous on purpose: a wrong
# expansion silently changes meaning, a missing one only lowers a fuzzy score.
SHORTHAND: dict[str, str] = {
    "u": "you",
    "ya": "you",
    "ur": "your",
    "yr": "your",
    "r": "are",
    "pls": "please",
    "plz": "please",
    "pleas": "please",
    "thx": "thanks",
    "thnx": "thanks",
    "thanx": "thanks",
    "tx": "thanks",
    "ty": "thank you",
    "wat": "what",
    "wut": "what",
    "wht": "what",
    "whats": "what is",
    "wheres": "where is",
    "hows": "how is",
    "whens": "when is",
    "hrs": "hours",
    "hr": "hour",
    "abt": "about",
    "b4": "before",
    "bc": "because",
    "cuz": "because",
    "coz": "because",
    "2day": "today",
    "tmrw": "tomorrow",
    "tmr": "tomorrow",
    "2moro": "tomorrow",
    "msg": "message",
    "txt": "text",
    "pkg": "package",
    "addr": "address",
    "acct": "account",
    "amt": "amount",
    "ppl": "people",
    "nite": "night",
    "rn": "right now",
    "im": "i am",
    "ive": "i have",
    "cant": "cannot",
    "dont": "do not",
    "doesnt": "does not",
    "didnt": "did not",
    "wont": "will not",
    "isnt": "is not",
    "k": "ok",
    "kk": "ok",
    "okay": "ok",
    "y": "why",
    "n": "and",
    "w": "with",
    "wo": "without",
    "shipd": "shipped",
    "recieve": "receive",
    "recieved": "received",
}

# Words that carry no topic. ``content_words`` drops them so that a one-word
# text like "you" cannot score 100 against every phrasing containing "you".
# "find" is a verb of any question, like "get" or "know" ("where do i find
# it" took the size chart through "how do i find my size"). "item",
# "something", "thing" and "stuff" stand for whatever the customer names:
# "can i return an item" is "return" + any product, and kept as a word "item"
# made "i want to return my jacket" miss it (the product's name against
# "item" scored under the threshold).
STOPWORDS: frozenset[str] = frozenset(
    """a an the and or but if of to in on at by for from with without about as into
    is are was were be been being am do does did doing have has had having will would
    can could should may might must shall i me my mine we us our you your yours he she
    it its they them their this that these those there here what which who whom whose
    when where why how please thanks thank hi hello hey ok not no just so very really
    get got any some there im want need know tell like find
    item items something thing things stuff""".split()
)

_APOSTROPHES = re.compile("['\u2018\u2019\u02bc`\u00b4]")
_NON_WORD = re.compile(r"[^0-9a-z]+")
_LETTER_RUNS = re.compile(r"([a-z])\1{2,}")
_ALL_RUNS = re.compile(r"([a-z])\1+")


def normalize(text: str) -> str:
    """Return the matching form of ``text``: lower-case words separated by one space.

    Args:
        text: a customer's message or a phrasing from a flow file.

    Returns:
        The normalised text; empty when ``text`` has no letters or digits.
    """
    if text.isascii():
        stripped = text  # most texts: NFKD leaves ASCII alone and it has no combining marks
    else:
        decomposed = unicodedata.normalize("NFKD", visible(text))
        stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    folded = _APOSTROPHES.sub("", stripped.casefold())
    spaced = _NON_WORD.sub(" ", folded)
    calmed = _LETTER_RUNS.sub(r"\1\1", spaced)
    words: list[str] = []
    for word in calmed.split():
        words.append(SHORTHAND.get(word, word))
    return " ".join(words)


def squeeze(normalised: str) -> str:
    """Collapse every run of a repeated letter to one letter.

    Used for *exact* keyword comparison on both sides, so ``MENUUU`` equals
    ``menu`` and ``hellooo`` equals ``hello`` without a fuzzy step.
    """
    return _ALL_RUNS.sub(r"\1", normalised)


def content_words(normalised: str) -> str:
    """Drop stop-words from a normalised string; keep it whole if nothing is left.

    Keeping the original when every word is a stop-word means "what?" still has
    something to score, it just scores low against every real question.
    """
    kept = [w for w in normalised.split() if w not in STOPWORDS]
    return " ".join(kept) if kept else normalised


def stem(word: str) -> str:
    """A deliberately light English stem: plural endings only.

    ``jackets``/``jacket`` and ``policies``/``policy`` must meet; anything more
    aggressive (``-ing``, ``-ed``) merges words with different meanings in a
    support context (``shipping`` the topic vs ``ship``) for little gain.
    """
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def match_form(normalised: str) -> str:
    """Content words, stemmed: the form fuzzy scores are computed on."""
    return " ".join(stem(w) for w in content_words(normalised).split())


# Words customers wrap around a menu number or a keyword ("2 please", "option 3",
# "menu pls", "hi, agent please", "ok 2"): they say how, not what. Only
# ``keyword_core`` drops them, for a second exact comparison with keywords; FAQ
# and option scoring never see this form. Written squeezed (``squeeze``), as
# keywords are compared.
COURTESY: frozenset[str] = frozenset(
    "please thanks thank ok hi helo hey the option number nr num choice".split()
)
# Menu numbers spelled out: "two", "the first one", "3rd" (squeezed: "thre").
NUMBER_WORDS: dict[str, str] = {
    **{w: str(i) for i, w in enumerate("one two thre four five six seven eight nine".split(), start=1)},
    **{w: str(i) for i, w in enumerate("first second third fourth fifth sixth seventh eighth ninth".split(), start=1)},
    **{f"{i}{s}": str(i) for i, s in enumerate("st nd rd th th th th th th".split(), start=1)},
}
_ORDINALS = frozenset(w for w in NUMBER_WORDS if w not in {"one", "two", "thre", "four", "five", "six", "seven",
                                                           "eight", "nine"})


def keyword_core(squeezed: str) -> str:
    """What a text says once the courtesy around it is dropped: "2 please" -> "2".

    Takes and returns the squeezed form keywords are compared in
    (``squeeze(normalize(text))``, which the engine has already made). Drops
    ``COURTESY`` words (and "you" after "thank"), reads spelled-out numbers
    as digits ("two", "second" -> "2") and drops the pronoun "one" after an
    ordinal ("the first one" -> "1"). Every other word is kept, so "2 or 3",
    "not 2" or "i like turtles" stay what they are and match no keyword.
    Empty when nothing but courtesy is left ("thank you").
    """
    out: list[str] = []
    previous = ""
    words = squeezed.split()
    for index, word in enumerate(words):
        # "no" only as "No. 3": "no agent" and "no menu" say the opposite of the keyword.
        numbered = word == "no" and index + 1 < len(words) and words[index + 1].isdigit()
        dropped = word in COURTESY or numbered or (word == "you" and previous == "thank") or (
            word == "one" and previous in _ORDINALS
        )
        previous = word
        if not dropped:
            out.append(NUMBER_WORDS.get(word, word))
    return " ".join(out)

"""Classify an inbound text as an opt-out, opt-in or HELP request (US SMS compliance).

This module is pure: no I/O, no clock, no global state beyond compiled regexes.
The same text and configuration always give the same answer, and
:meth:`ComplianceKeywords.explain` names the rule that produced it.

Rules, tried in this order (the first that fires wins):

1. **Opt-out keyword, whole message.** The message, ignoring case, accents,
   whitespace, punctuation, emoji and the spaces or hyphens between words,
   *is* an opt-out keyword: ``"Stop!"``, ``" stop. "``, ``"STOP 🙏"``,
   ``"opt-out"``, ``"Opt Out"``, ``"stop all"``. A letter repeated three or
   more times counts once (``"STOPPPP"``), for opt-out keywords only.
2. **Opt-out keyword as a sentence of its own.** One clause of a longer text
   (clauses are split at punctuation, emoji and line breaks) is an opt-out
   keyword and is not a question: ``"Stop. Thank you"``, ``"Who is this? STOP"``.
3. **Revocation pattern.** A regular expression from :data:`REVOCATION_PATTERNS`
   (or a flow's extras) is found in a clause: ``"please stop texting me"``,
   ``"take me off your list"``.
4. **Opt-in or HELP keyword, whole message only** (``"yes"``, ``"Help?"``).

Why opt-out is broad but opt-in and HELP are narrow: the FCC's 2024 revocation
rule (47 CFR 64.1200(a)(10)) lets a consumer revoke consent "by any reasonable
means", and missing a revocation is a per-message TCPA violation, whereas a
wrongly detected opt-out costs one confirmation text and a ``START``. Opt-in is
the opposite risk: treating ``"yes I want the blue one"`` as consent would
silently re-subscribe someone who had opted out, so only an unambiguous
whole-message keyword counts, exactly as carriers (Twilio) match it. A longer
text that merely contains ``help`` is a support question for the flow to
answer, not a request for the compliance HELP text. Opt-out is checked first so
that no opt-in or HELP keyword can ever shadow a revocation.
"""

from __future__ import annotations

import enum
import functools
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

__all__ = [
    "BASE_HELP_KEYWORDS",
    "BASE_OPT_IN_KEYWORDS",
    "BASE_OPT_OUT_KEYWORDS",
    "REVOCATION_PATTERNS",
    "ComplianceKeywords",
    "Intent",
]


class Intent(enum.Enum):
    """What a compliance message asks for.

    The values deliberately equal Twilio Advanced Opt-Out's ``OptOutType``
    (and so :attr:`bot.types.InboundMessage.carrier_opt_out`), letting the
    engine compare our verdict with the carrier's without a mapping table.
    """

    OPT_OUT = "STOP"
    OPT_IN = "START"
    HELP = "HELP"


# Twilio's default list (incl. REVOKE and OPTOUT, added 2025-05-14) plus the
# FCC's per-se revocation words, of which "opt out" is the only one Twilio lacks.
BASE_OPT_OUT_KEYWORDS: tuple[str, ...] = (
    "STOP",
    "STOPALL",
    "UNSUBSCRIBE",
    "CANCEL",
    "END",
    "QUIT",
    "REVOKE",
    "OPTOUT",
    "OPT OUT",
)
BASE_OPT_IN_KEYWORDS: tuple[str, ...] = ("START", "UNSTOP", "YES")
BASE_HELP_KEYWORDS: tuple[str, ...] = ("HELP", "INFO")

# --- Revocation patterns -------------------------------------------------------
#
# Patterns are searched (case-insensitively) in one clause at a time. A clause
# is what lies between punctuation, emoji or line breaks, normalised to
# lowercase, accent-free words separated by single spaces; apostrophes are
# dropped ("don't" -> "dont") and hyphens become spaces ("opt-out" -> "opt out").
# Each pattern needs an unambiguous object ("texting me", "your list", "these
# texts") or a whole clause of politeness around the keyword, because the bare
# words have everyday meanings in a support chat ("bus stop", "cancel my order").

# Words that may precede a bare keyword without changing its meaning.
_LEAD = (
    r"(?:please|pls|plz|pleas|pretty please|just|ok|okay|k|so|oh|hey|hi|hello|no|nope|omg|"
    r"god|seriously|again|now|i said|i already said|i told you|i told u|i said to|can you|"
    r"can u|you can|u can|could you|could u|would you|will you|wrong number|for the last time|"
    r"not interested|im not interested|no thanks|no thank you|who is this|whos this)"
)
# Words that may follow a bare keyword without changing its meaning.
_TAIL = (
    r"(?:please|pls|plz|pleas|thanks|thank you|thank u|thanx|thx|ty|tysm|now|right now|"
    r"already|asap|immediately|seriously|again|all|it|this|that|them|these|those|for real|"
    r"lol|omg|forever|for good|permanently|ok|okay|k|sir|maam|stop)"
)
# Swearing between verb and object, which angry opt-outs often contain.
_INT = (
    r"(?:(?:fucking|fuckin|freaking|freakin|effing|frickin|friggin|damn|goddamn|bloody|"
    r"the hell|the fuck) )?"
)
# Determiners and adjectives between a verb and "texts"/"messages".
_DET = (
    r"(?:all|these|this|the|your|ur|any|those|more|of|my|them|such|further|future|stupid|"
    r"annoying|fucking|freaking|damn|spam|spammy|automated|random)"
)
# Nouns that can only mean the messages themselves.
_MSGS = (
    r"(?:(?:text|txt|sms|promo|promotional|marketing) )?(?:texts?|txts?|messages?|msgs?|"
    r"sms|spam|promos?|promotions?|ads|advertisements?|alerts?|notifications?|notifs|"
    r"offers?|reminders?)"
)
_VERBING = (
    r"(?:texting|txting|texing|textin|messaging|msging|messagin|contacting|spamming|"
    r"bothering|harassing|bugging|pestering|calling)"
)
_ME = r"(?:me|us|my number|this number|my phone|this phone|my cell|this cell)"
_LIST = (
    r"(?:list|lists|mailing list|texting list|text list|sms list|contact list|contacts|"
    r"distribution list|call list|database|system|records|texting)"
)

REVOCATION_PATTERNS: tuple[str, ...] = (
    # "stop please", "ok stop", "unsubscribe thanks", "stop it", "stop stop stop".
    rf"^(?:{_LEAD} )*(?:stop|stopall|unsubscribe|unsub|optout|opt out|revoke)(?: {_TAIL})*$",
    # "please stop texting me", "quit messaging me", "stop fucking texting".
    rf"\b(?:stop|quit|cease|halt) {_INT}{_VERBING}(?: {_ME}\b| {_TAIL}\b|$)",
    # "stop sending me messages", "stop these texts", "how do i stop getting texts".
    rf"\b(?:stop|quit|cease|halt) {_INT}(?:(?:sending|getting|receiving) (?:{_ME} )?)?"
    rf"(?:{_DET} )*{_MSGS}\b",
    # "please stop sending me these", "stop sending me this crap", "stop sending".
    rf"\b(?:stop|quit) sending(?: {_ME})?(?: (?:these|this|those|them|it|that|your|ur|all|any))*"
    rf"(?: (?:stuff|crap|junk|shit|garbage|trash|things|spam))?(?: {_TAIL})*$",
    # "cancel text alerts", "turn off sms", "end these messages".
    rf"\b(?:cancel|end|turn off|disable|unsubscribe from) (?:{_DET} )*(?:texts|txts|"
    r"text messages|text message|text alerts|text notifications|sms|sms alerts|sms messages|"
    r"sms notifications|texting|messages|msgs)\b",
    # "no more texts", "please no more messages" -- anchored: "i got no more
    # messages about my repair" is a delivery complaint, not a revocation.
    rf"^(?:{_LEAD} )*no more {_INT}(?:{_DET} )*(?:{_MSGS}|texting|txting|messaging)\b",
    # "dont text me anymore", "never message me again", "do not contact me".
    rf"\b(?:dont|do not|never|pls dont|please dont) (?:ever )?{_INT}(?:text|txt|message|msg|"
    rf"contact|sms|spam) {_ME}(?: (?:again|anymore|any more|ever|ever again|no more|please|"
    r"pls|plz|thanks|thx|ty|ok|okay|lol|seriously|period))*$",
    # "dont send me any more texts".
    rf"\b(?:dont|do not|never) send {_ME} (?:(?:any|anymore|any more|more|{_DET}) )*{_MSGS}\b",
    # "i dont want these texts", "no longer wish to receive messages".
    rf"\b(?:dont|do not|no longer|never) (?:want|wish|need|wanna)(?: to (?:receive|get|be sent))? "
    rf"(?:(?:any|anymore|any more|{_DET}) )*{_MSGS}\b",
    # "i dont want to be texted".
    r"\b(?:dont|do not|no longer|never) (?:want|wish|wanna) (?:to be |being )?"
    r"(?:texted|txted|messaged|contacted)\b",
    # "i want to opt out", "opt me out please", "opt out of these texts" -- but
    # not "can i opt out of the extended warranty".
    rf"\bopt (?:me )?out(?: (?:of|from) (?:{_DET} )*(?:{_MSGS}|{_LIST}|this number|your number|"
    rf"everything|all)\b|(?: {_TAIL})*$)",
    # "unsubscribe me", "how do i unsubscribe" -- unless the clause is about email.
    r"\bunsub(?:scribe)?\b(?!.*\b(?:e ?mails?|newsletters?|mailing list)\b)",
    # "take me off your list", "remove my number from your system".
    r"\b(?:take|get|remove|delete|drop|erase|scratch|cross) (?:me|us|my number|my phone number|"
    r"my cell|my phone|this number|my name|my info) (?:off|from|out of) (?:of )?"
    rf"(?:{_DET} )*(?:{_LIST}|{_MSGS})\b",
    # "please remove me", "delete my number".
    rf"^(?:{_LEAD} )*(?:remove|delete|unenroll|unregister|deregister) (?:me|my number|"
    rf"this number|my phone number)(?: {_TAIL})*$",
    # "take me off", "get me off this".
    rf"^(?:{_LEAD} )*(?:take|get) me off(?: (?:it|this|that|there|here))?(?: {_TAIL})*$",
    r"\bleave me alone\b",
    # "i revoke my consent", "withdraw permission".
    r"\b(?:revoke|revoking|withdraw|withdrawing|rescind|rescinding|retract) (?:my |all |any )?"
    r"(?:consent|permission|authorization|authorisation|opt in)\b",
    # "i never signed up for this", "i didnt ask for these texts".
    r"\b(?:never|didnt|did not) (?:agree|agreed|consent|consented|sign up|signed up|subscribe|"
    r"subscribed|opt in|opted in|ask|asked) (?:to|for) "
    rf"(?:(?:{_DET} )*{_MSGS}\b|texting\b|this$|these$|it$|that$)",
)
"""Built-in revocation phrases (regex source strings), matched per clause.

A flow may add more through ``extra_revocation_patterns`` but cannot remove
these. Patterns see the normalised clause described above, so write them in
lowercase, without apostrophes or punctuation (``dont text me``).
"""

# Characters dropped inside a word, so "don't" and "don’t" both become "dont".
_APOSTROPHES = str.maketrans("", "", "'\u2019\u2018\u02bc`\u00b4")
# Characters that separate words but not clauses: "opt-out" is one phrase.
_WORD_SEPARATORS = re.compile(r"[-_\u2010\u2011]|[^\S\r\n]")
# Anything else that is neither a word character nor a space ends a clause:
# punctuation, emoji, symbols and line breaks.
_CLAUSE_BREAK = re.compile(r"([^\w ]+)")
# A letter written three or more times in a row ("stooop"): emphasis.
_EMPHASIS = re.compile(r"([^\W\d_])\1{2,}")


@dataclass(frozen=True, slots=True)
class _Clause:
    """One clause of a message: its words and whether it was asked as a question.

    ``text`` (words joined by spaces) and ``key`` (joined without) are computed
    once here: every rule reads them, the patterns once per pattern.
    """

    words: tuple[str, ...]
    question: bool
    text: str
    key: str


def _fold(text: str) -> str:
    """Lowercase and strip accents, so "ARRÊT", "arret" and "Ａｒｒｅｔ" compare equal."""
    if text.isascii():
        # Most texts: NFKD leaves ASCII alone, it has no combining marks, and
        # casefold() of ASCII is lower(). Skips a Python loop over every character.
        return text.lower()
    # casefold first: it can itself produce combining marks ("İ" -> "i̇").
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def _clauses(text: str) -> tuple[_Clause, ...]:
    """Split a message into normalised clauses (see the module docstring)."""
    folded = _WORD_SEPARATORS.sub(" ", _fold(text).translate(_APOSTROPHES))
    # re.split with a capturing group alternates text, separator, text, ...
    parts = _CLAUSE_BREAK.split(folded)
    clauses: list[_Clause] = []
    for index in range(0, len(parts), 2):
        words = tuple(parts[index].split())
        if not words:
            continue
        terminator = parts[index + 1] if index + 1 < len(parts) else ""
        clauses.append(_Clause(words, "?" in terminator, " ".join(words), "".join(words)))
    return tuple(clauses)


def _keyword_forms(keyword: str) -> tuple[str, str, str]:
    """Return ``(key, spaced, display)``: ``"Opt-Out"`` -> ``("optout", "opt out", "OPT OUT")``.

    The key joins all words without spaces, so "opt out", "opt-out" and
    "OPTOUT" are the same keyword for matching and for conflict detection.

    Raises:
        ValueError: The keyword has no letters or digits.
    """
    words = [word for clause in _clauses(keyword) for word in clause.words]
    if not words:
        raise ValueError(f"compliance keyword {keyword!r} has no letters or digits")
    return "".join(words), " ".join(words), " ".join(words).upper()


@functools.cache
def _compile(pattern: str) -> re.Pattern[str]:
    """Compile a revocation pattern once per process, however many flows use it.

    Raises:
        ValueError: The pattern is not a valid regex, or it matches an empty
            clause (it would then opt out every message).
    """
    # Strip accents the same way clauses are, so "arrêtez" in a pattern still
    # matches; regex syntax is ASCII, so this never changes its meaning.
    source = "".join(
        ch for ch in unicodedata.normalize("NFKD", pattern) if not unicodedata.combining(ch)
    )
    try:
        compiled = re.compile(source, re.IGNORECASE)
    except re.error as exc:
        raise ValueError(f"invalid revocation pattern {pattern!r}: {exc}") from exc
    if compiled.search("") is not None:
        raise ValueError(f"revocation pattern {pattern!r} matches an empty message")
    return compiled


def _as_list(name: str, values: Iterable[str]) -> list[str]:
    # A bare string is an Iterable[str] of characters: extra_opt_out="ARRET"
    # would otherwise reserve "A", "R", "E" and "T" without any error.
    if isinstance(values, str):
        raise TypeError(f"{name} must be a collection of strings, not a single string")
    items = list(values)
    for item in items:
        if not isinstance(item, str):
            raise TypeError(f"{name} must contain strings, got {item!r}")
    return items


class ComplianceKeywords:
    """The opt-out, opt-in and HELP vocabulary of one flow.

    Built from the base keyword sets and :data:`REVOCATION_PATTERNS` plus the
    flow's extras. Extras can only add: the base words and patterns are always
    present, and an extra that would move a word to another intent, or make an
    opt-in/HELP keyword shadow an opt-out, is rejected.

    Example:
        >>> kw = ComplianceKeywords(extra_opt_out=["ARRET"])
        >>> kw.classify("Arrêt!")
        <Intent.OPT_OUT: 'STOP'>
        >>> kw.explain("please stop texting me")[0]
        <Intent.OPT_OUT: 'STOP'>
    """

    __slots__ = ("_displays", "_keywords", "_patterns", "_spaced")

    def __init__(
        self,
        *,
        extra_opt_out: Iterable[str] = (),
        extra_opt_in: Iterable[str] = (),
        extra_help: Iterable[str] = (),
        extra_revocation_patterns: Iterable[str] = (),
    ) -> None:
        """Build the vocabulary.

        Args:
            extra_opt_out: Additional whole-message opt-out keywords (e.g. "ARRET").
            extra_opt_in: Additional whole-message opt-in keywords.
            extra_help: Additional whole-message HELP keywords.
            extra_revocation_patterns: Additional regexes searched in each
                normalised clause (see :data:`REVOCATION_PATTERNS`).

        Raises:
            TypeError: An argument is a single string instead of a collection.
            ValueError: A keyword has no letters or digits, a keyword belongs to
                two intents, an opt-in/HELP keyword would itself be read as an
                opt-out, or a pattern is invalid or matches an empty message.
        """
        # key -> intent and key -> display form, for whole-message matching.
        self._keywords: dict[str, Intent] = {}
        self._displays: dict[str, str] = {}
        # Spaced form -> display form, so "opt out" explains as "OPT OUT" and
        # "optout" as "OPTOUT" although both share the key "optout".
        self._spaced: dict[str, str] = {}
        sources: tuple[tuple[Intent, str, tuple[str, ...], Iterable[str]], ...] = (
            (Intent.OPT_OUT, "extra_opt_out", BASE_OPT_OUT_KEYWORDS, extra_opt_out),
            (Intent.OPT_IN, "extra_opt_in", BASE_OPT_IN_KEYWORDS, extra_opt_in),
            (Intent.HELP, "extra_help", BASE_HELP_KEYWORDS, extra_help),
        )
        for intent, name, base, extra in sources:
            for keyword in (*base, *_as_list(name, extra)):
                self._add_keyword(intent, keyword)
        patterns = (
            *REVOCATION_PATTERNS,
            *_as_list("extra_revocation_patterns", extra_revocation_patterns),
        )
        # dict.fromkeys de-duplicates while keeping the order, which decides
        # which pattern explain() names when several match.
        self._patterns: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
            (pattern, _compile(pattern)) for pattern in dict.fromkeys(patterns)
        )
        # Opt-out is checked first, so such a keyword would silently never
        # fire; refusing it tells the flow author now instead.
        for key, intent in self._keywords.items():
            if intent is not Intent.OPT_OUT and self._opt_out_rule(_clauses(self._displays[key])):
                raise ValueError(
                    f"{intent.name} keyword {self._displays[key]!r} would be read as an opt-out"
                )

    def _add_keyword(self, intent: Intent, keyword: str) -> None:
        key, spaced, display = _keyword_forms(keyword)
        existing = self._keywords.get(key)
        if existing is not None and existing is not intent:
            raise ValueError(
                f"keyword {display!r} cannot be both {existing.name} and {intent.name}"
            )
        self._keywords[key] = intent
        self._displays.setdefault(key, display)
        self._spaced.setdefault(spaced, display)

    @property
    def reserved_words(self) -> tuple[str, ...]:
        """Every whole-message compliance keyword, uppercase, sorted.

        These are the words a flow must not use as a menu keyword. Longer
        phrases caught by revocation patterns are not listed (they are not
        enumerable); :meth:`is_reserved` checks those too.
        """
        return tuple(sorted(self._spaced.values()))

    @property
    def revocation_patterns(self) -> tuple[str, ...]:
        """The regex sources in force, built-ins first, in matching order."""
        return tuple(pattern for pattern, _ in self._patterns)

    def keywords(self, intent: Intent) -> tuple[str, ...]:
        """The whole-message keywords of one intent, uppercase, sorted.

        Args:
            intent: The intent whose keywords to list.

        Returns:
            For example ``("HELP", "INFO")`` for :attr:`Intent.HELP`.
        """
        return tuple(
            sorted(
                display
                for spaced, display in self._spaced.items()
                if self._keywords["".join(spaced.split())] is intent
            )
        )

    def is_reserved(self, word: str) -> bool:
        """Tell whether a flow keyword would be swallowed by compliance handling.

        A word is reserved when a message consisting of just that word is a
        compliance message: every keyword (in any casing or punctuation, so
        ``"Stop!"`` and ``"opt-out"`` too) and any phrase a revocation pattern
        catches (``"stop please"``). A flow using one as a menu keyword would
        never see it, so the loader should reject the flow.

        Args:
            word: A keyword as written in a flow file.

        Returns:
            True if the compliance layer would claim that message.
        """
        return self.classify(word) is not None

    def classify(self, text: str) -> Intent | None:
        """Classify an inbound text.

        Args:
            text: The message body as received.

        Returns:
            The compliance intent, or None when the text is not a compliance
            message and should go to the flow.
        """
        return self.explain(text)[0]

    def explain(self, text: str) -> tuple[Intent | None, str]:
        """Classify an inbound text and name the rule that decided.

        Args:
            text: The message body as received.

        Returns:
            ``(intent, reason)``, e.g. ``(Intent.OPT_OUT, "keyword STOP")``,
            ``(Intent.OPT_OUT, "keyword STOP as a sentence of its own")``,
            ``(Intent.OPT_OUT, "revocation pattern '...' matched 'stop texting me'")``
            or ``(None, "no compliance rule matched")``.
        """
        clauses = _clauses(text)
        opt_out = self._opt_out_rule(clauses)
        if opt_out is not None:
            return Intent.OPT_OUT, opt_out
        if not clauses:
            return None, "no letters or digits"
        whole = self._whole_message_keyword(clauses)
        if whole is not None:
            intent, display = whole
            return intent, f"keyword {display}"
        return None, "no compliance rule matched"

    def _whole_message_keyword(self, clauses: tuple[_Clause, ...]) -> tuple[Intent, str] | None:
        key = "".join(clause.key for clause in clauses)
        intent = self._keywords.get(key)
        if intent is None:
            return None
        spaced = " ".join(clause.text for clause in clauses)
        return intent, self._spaced.get(spaced, self._displays[key])

    def _opt_out_keyword(self, key: str, spaced: str) -> str | None:
        """Return the display form of the opt-out keyword ``key`` is, or None."""
        # "STOPPPP" and "stooop" are emphasis, not another word. Only opt-out
        # gets this leniency: a missed revocation is the costly mistake, while
        # opt-in and HELP stay exact.
        if self._keywords.get(key) is Intent.OPT_OUT:
            return self._spaced.get(spaced, self._displays[key])
        if _EMPHASIS.search(key) is None:
            return None  # no letter tripled: the candidates below would all be ``key`` again
        for candidate in (_EMPHASIS.sub(r"\1", key), _EMPHASIS.sub(r"\1\1", key)):
            if self._keywords.get(candidate) is Intent.OPT_OUT:
                return self._displays[candidate]
        return None

    def _opt_out_rule(self, clauses: tuple[_Clause, ...]) -> str | None:
        """Return the reason a message (as clauses) is an opt-out, or None."""
        if not clauses:
            return None
        whole = self._opt_out_keyword(
            "".join(clause.key for clause in clauses),
            " ".join(clause.text for clause in clauses),
        )
        if whole is not None:
            return f"keyword {whole}"
        for clause in clauses:
            # "Cancel? No, keep it" asks about the word rather than using it.
            if clause.question:
                continue
            display = self._opt_out_keyword(clause.key, clause.text)
            if display is not None:
                return f"keyword {display} as a sentence of its own"
        for source, pattern in self._patterns:
            for clause in clauses:
                match = pattern.search(clause.text)
                if match is not None:
                    return f"revocation pattern {source!r} matched {match.group(0)!r}"
        return None

    def __repr__(self) -> str:
        extra = len(self._patterns) - len(REVOCATION_PATTERNS)
        return (
            f"{type(self).__name__}(keywords={len(self._keywords)}, "
            f"extra_patterns={max(extra, 0)})"
        )


"""Classify an inbound text as an opt-out, opt-in or HELP request (US SMS compliance).

This module is pure: no I/O, no clock, no global state beyond compiled regexes.
The same text and configuration always give the same answer, and
:meth:`ComplianceKeywords.explain` names the rule that produced it.

Rules, tried in this order (the first that fires wins):

1. **Opt-out keyword, whole message.** The message, ignoring case, accents,
   whitespace, punctuation, emoji and the spaces or hyphens between words,
   *is* an opt-out keyword: ``"Stop!"``, ``" stop. "``, ``"STOP 🙏"``,
   ``"opt-out"``, ``"Opt Out"``, ``"stop all"``. A letter repeated three or
   more times counts once (``"STOPPPP"``), for opt-out keywords only, and so
   do a few misspellings of them (``"stpo"``, ``"stopp"``, ``"unsuscribe"``;
   see :func:`_misspellings`).
2. **Opt-out keyword as a sentence of its own.** One clause of a longer text
   (clauses are split at punctuation, emoji and line breaks) is an opt-out
   keyword: ``"Stop. Thank you"``, ``"Who is this? STOP"``, or keywords only,
   one of them an opt-out keyword (``"HELP STOP"``, ``"START STOP"``). A keyword clause
   asked as a question, in a text that says something else, asks about the
   word and is skipped by this rule and the next: ``"Stop? what do you
   mean"``, ``"Cancel? No, keep it"`` (but ``"Stop? Stop?"`` opts out).
3. **Revocation pattern.** A regular expression from :data:`REVOCATION_PATTERNS`
   (or a flow's extras) is found in a clause: ``"please stop texting me"``,
   ``"take me off your list"``, also in a request phrased as a question
   (``"can you stop texting me?"``).
   Rules 1-3, if none fired, read the message once more with its disguised
   words read plainly: ``"S-T-O-P please"`` as ``"stop please"``, ``"ST0P"``
   as ``"stop"``, ``"STOPSTOP"`` as ``"stop"`` (see
   :mod:`bot.compliance.disguise`).
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

import functools
import re
from collections.abc import Iterable

from bot.compliance.clauses import Clause, clauses_of, keyword_forms, normal_form, split_clauses
from bot.compliance.disguise import Disguises
from bot.compliance.intents import (
    BASE_HELP_KEYWORDS,
    BASE_OPT_IN_KEYWORDS,
    BASE_OPT_OUT_KEYWORDS,
    LIFT_ONLY_OPT_IN_KEYWORDS,
    Intent,
)
from bot.compliance.patterns import PatternSet
from bot.compliance.revocation import REVOCATION_PATTERNS, negated

__all__ = [
    "BASE_HELP_KEYWORDS",
    "BASE_OPT_IN_KEYWORDS",
    "BASE_OPT_OUT_KEYWORDS",
    "EXPLAIN_MEMO",
    "REVOCATION_PATTERNS",
    "ComplianceKeywords",
    "Intent",
]


# A letter written three or more times in a row ("stooop"): emphasis.
_EMPHASIS = re.compile(r"([^\W\d_])\1{2,}")


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

# Misspelt opt-out keywords that still opt out (as a whole message or a
# sentence of its own): a customer who wants out and mistypes STOP must not
# keep getting texts. Any single edit of a long keyword ("unsuscribe") is no
# other word; for a short one only a swap of neighbours ("stpo", "cancle") or
# a doubled letter ("stopp"), since its other edits are words ("step",
# "shop", "top", "spot"). Three letters or fewer (END): exact only.
_ANY_EDIT_LETTERS = 8
_SWAP_OR_DOUBLE_LETTERS = 4
_ALPHABET = "abcdefghijklmnopqrstuvwxyz"


def _misspellings(key: str) -> set[str]:
    """The misspellings of keyword ``key`` that count as the keyword (see above)."""
    if len(key) < _SWAP_OR_DOUBLE_LETTERS:
        return set()
    swaps = {key[:i] + key[i + 1] + key[i] + key[i + 2 :] for i in range(len(key) - 1)}
    doubles = {key[: i + 1] + key[i:] for i in range(len(key))}
    variants = swaps | doubles
    if len(key) >= _ANY_EDIT_LETTERS:
        variants |= {key[:i] + key[i + 1 :] for i in range(len(key))}
        variants |= {key[:i] + c + key[i + 1 :] for i in range(len(key)) for c in _ALPHABET}
        variants |= {key[:i] + c + key[i:] for i in range(len(key) + 1) for c in _ALPHABET}
    variants.discard(key)
    return variants


# Texts whose verdict is remembered, per vocabulary. Every inbound text is
# classified, and customers repeat themselves ("1", "yes", "hi", the menu's
# words, the same question twice); the verdict is a pure function of the text.
# Only texts of at most MEMO_CHARS characters are kept, so the memo stays small
# (an essay is rarely sent twice).
EXPLAIN_MEMO = 4096
MEMO_CHARS = 160
# Negated matches of one pattern in one clause looked past before giving up:
# "dont stop texting me" is said once or twice, not 3,000 times.
NEGATED_MATCHES = 8


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

    __slots__ = (
        "_disguises", "_displays", "_few_runs", "_keywords", "_lift_only", "_longest", "_memo", "_misspelt",
        "_opt_out_words", "_patterns", "_spaced",
    )

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
        self._memo = functools.lru_cache(maxsize=EXPLAIN_MEMO)(self._explain)
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
        self._patterns = PatternSet(patterns)
        self._longest = max(len(key) for key, intent in self._keywords.items() if intent is Intent.OPT_OUT)
        # At most _longest runs of one character (see _opt_out_keyword);
        # possessive, so a failed match gives nothing back to try again.
        self._few_runs = re.compile(rf"(?:(\w)\1*+){{1,{self._longest}}}")
        # Misspelt opt-out keywords -> display form (see _misspellings). Built
        # after every keyword is known: an exact keyword always wins.
        self._misspelt: dict[str, str] = {}
        for key, intent in self._keywords.items():
            if intent is Intent.OPT_OUT:
                for variant in _misspellings(key):
                    if variant not in self._keywords:
                        self._misspelt.setdefault(variant, self._displays[key])
        self._lift_only = frozenset(keyword_forms(word)[0] for word in LIFT_ONLY_OPT_IN_KEYWORDS)
        # The words a disguised word must read as for the rules to read the
        # text again (bot.compliance.disguise): the opt-out keywords, each
        # word of one ("0pt 0ut"), and UNSUB, which the patterns know.
        opt_outs = [spaced for spaced in self._spaced if self._keywords["".join(spaced.split())] is Intent.OPT_OUT]
        self._opt_out_words = frozenset({"unsub"} | {word for spaced in opt_outs for word in spaced.split()})
        self._disguises = Disguises(
            (form for spaced in opt_outs for form in (spaced, "".join(spaced.split()))), self._is_opt_out_word
        )
        # Opt-out is checked first, so such a keyword would silently never
        # fire; refusing it tells the flow author now instead.
        for key, intent in self._keywords.items():
            if intent is not Intent.OPT_OUT and self._opt_out_reason(normal_form(self._displays[key])):
                raise ValueError(
                    f"{intent.name} keyword {self._displays[key]!r} would be read as an opt-out"
                )

    def _add_keyword(self, intent: Intent, keyword: str) -> None:
        key, spaced, display = keyword_forms(keyword)
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
        """Every whole-message compliance keyword a flow may not use, uppercase, sorted.

        These are the words a flow must not use as a menu keyword (YES is not
        one: see :meth:`lifts_only`). Longer phrases caught by revocation
        patterns are not listed (they are not enumerable); :meth:`is_reserved`
        checks those too.
        """
        return tuple(sorted(d for s, d in self._spaced.items() if "".join(s.split()) not in self._lift_only))

    def lifts_only(self, text: str) -> bool:
        """Whether ``text`` is an opt-in keyword that acts only on an opted-out number (YES).

        From any other number such a message goes to the flow.
        """
        key = "".join(clause.key for clause in split_clauses(text))
        return key in self._lift_only and self._keywords.get(key) is Intent.OPT_IN

    @property
    def revocation_patterns(self) -> tuple[str, ...]:
        """The regex sources in force, built-ins first, in matching order."""
        return self._patterns.sources

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
            True if the compliance layer would claim that message from a
            number that is not opted out (YES it leaves to the flow).
        """
        intent = self.classify(word)
        return intent is not None and not (intent is Intent.OPT_IN and self.lifts_only(word))

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
        if len(text) > MEMO_CHARS:
            return self._explain(text)
        return self._memo(text)

    def _explain(self, text: str) -> tuple[Intent | None, str]:
        folded = normal_form(text)
        clauses = clauses_of(folded)
        opt_out = self._opt_out_reason(folded, clauses)
        if opt_out is not None:
            return Intent.OPT_OUT, opt_out
        if not clauses:
            return None, "no letters or digits"
        whole = self._whole_message_keyword(clauses)
        if whole is not None:
            intent, display = whole
            return intent, f"keyword {display}"
        return None, "no compliance rule matched"

    def _whole_message_keyword(self, clauses: tuple[Clause, ...]) -> tuple[Intent, str] | None:
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
        misspelt = self._misspelt.get(key)
        if misspelt is not None:
            return f"{misspelt} (misspelt)"
        # Collapsing emphasis keeps every run of one letter, so a key of more
        # runs than the longest opt-out keyword has letters is none of them.
        # Checked first on long keys: a clause of a long text fails after a
        # few dozen characters, where the emphasis search reads them all.
        if len(key) > self._longest and self._few_runs.fullmatch(key) is None:
            return None
        if _EMPHASIS.search(key) is None:
            return None  # no letter tripled: the candidates below would all be ``key`` again
        for candidate in (_EMPHASIS.sub(r"\1", key), _EMPHASIS.sub(r"\1\1", key)):
            if self._keywords.get(candidate) is Intent.OPT_OUT:
                return self._displays[candidate]
        return None

    def _among_keywords(self, words: tuple[str, ...]) -> str | None:
        """The display of the opt-out keyword in a run of keywords only ("HELP STOP"), or None.

        No opt-in or HELP keyword may shadow a revocation: a clause of keywords
        only that holds an opt-out keyword is one. Most clauses stop at the
        first word, which is no keyword.
        """
        if len(words) < 2:
            return None
        found = None
        for word in words:
            misspelt = self._misspelt.get(word)
            intent = Intent.OPT_OUT if misspelt is not None else self._keywords.get(word)
            if intent is None:
                return None
            if intent is Intent.OPT_OUT and found is None:
                found = misspelt or self._displays[word]
        return None if found is None else f"{found} (with other keywords)"

    def _opt_out_reason(self, folded: str, clauses: tuple[Clause, ...] | None = None) -> str | None:
        """Return the reason a message (in normal form) is an opt-out, or None.

        The rules read the text as written, then, if that is no opt-out, with
        its disguised words read plainly ("s.t.o.p", "st0p", "stopstop";
        bot.compliance.disguise).
        """
        reason = self._opt_out_rule(clauses_of(folded) if clauses is None else clauses)
        if reason is not None:
            return reason
        for unmasked in self._disguises.unmask(folded):
            reason = self._opt_out_rule(clauses_of(unmasked.text))
            if reason is not None:
                return f"{reason} (read {unmasked.describe()})"
        return None

    def _is_opt_out_word(self, word: str) -> bool:
        """Whether ``word`` is an opt-out keyword (or part of one), exact, misspelt or emphasised."""
        return word in self._opt_out_words or self._opt_out_keyword(word, word) is not None

    def _opt_out_rule(self, clauses: tuple[Clause, ...]) -> str | None:
        """Return the reason a message (as clauses) is an opt-out, or None."""
        if not clauses:
            return None
        whole = self._opt_out_keyword(
            "".join(clause.key for clause in clauses),
            " ".join(clause.text for clause in clauses),
        )
        if whole is not None:
            return f"keyword {whole}"
        displays = [
            self._opt_out_keyword(clause.key, clause.text) or self._among_keywords(clause.words)
            for clause in clauses
        ]
        # A keyword asked as a question in a text that says something else
        # ("Cancel? No, keep it", "Stop? what do you mean") asks about the
        # word rather than using it. Said twice ("Stop? Stop?") it is used.
        says_more = None in displays
        for clause, display in zip(clauses, displays, strict=True):
            if display is not None and not (clause.question and says_more):
                return f"keyword {display} as a sentence of its own"
        # Past here every keyword clause is such a question: no pattern may
        # read it either ("stop" alone would match the "stop please" one).
        texts = [clause.text for clause, display in zip(clauses, displays, strict=True) if display is None]
        # Only the patterns the text holds the trigger words of (PatternSet).
        for source, pattern, _ in self._patterns.candidates(texts):
            for text in texts:
                match = pattern.search(text)
                # "dont stop texting me": look on past a negated match, a few
                # times at most (a search can cost the rest of the clause).
                passed = 0
                while match is not None and negated(text, match.start()):
                    passed += 1
                    resume = max(match.end(), match.start() + 1)
                    match = pattern.search(text, resume) if passed <= NEGATED_MATCHES else None
                if match is not None:
                    return f"revocation pattern {source!r} matched {match.group(0)!r}"
        return None

    def __repr__(self) -> str:
        extra = len(self._patterns.sources) - len(REVOCATION_PATTERNS)
        return (
            f"{type(self).__name__}(keywords={len(self._keywords)}, "
            f"extra_patterns={max(extra, 0)})"
        )


"""Long texts: the check's work is bounded, and no opt-out in them is missed.

Every inbound text is checked, and a 700-character complaint used to cost
260-400 us: each of the 18 revocation patterns was searched in every clause,
trying the pattern at every position. The rule now: in a long text a pattern
is searched only if the text holds the literal words it cannot match without
(bot.compliance.revocation.REVOCATION_TRIGGERS), which a few substring tests
decide. The tests below check that this never changes a verdict: matches
generated from every pattern satisfy its triggers, and opt-outs anywhere in a
long text (first, in the middle, at the very end) are still found.
"""

from __future__ import annotations

import re
import time
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.compliance import ComplianceKeywords, Intent
from bot.compliance.clauses import _WORD_SEPARATORS, normal_form, strip_combining
from bot.compliance.patterns import GATED_CHARS
from bot.compliance.revocation import REVOCATION_PATTERNS, REVOCATION_TRIGGERS
from tests.test_compliance_keywords import NOT_REVOCATIONS, REVOCATIONS

KW = ComplianceKeywords()

COMPLAINT = (
    "I ordered the blue helmet three weeks ago and it still has not arrived, the tracking page says "
    "it left the warehouse on the 3rd but nothing has moved since then and nobody answers the phone at "
    "the store. I have asked twice already by text and got the same automatic answer about opening "
    "hours, which does not help me at all because I work during those hours and cannot come in. My "
    "order number is AC-123456 and I paid extra for faster shipping, which clearly did not happen. Can "
    "somebody please look into it and tell me where the parcel is, or refund the shipping at least? I "
    "would also like to know whether the helmet is still in stock, because if it was lost I want a "
    "replacement sent out today. Thanks for nothing so far, honestly very disappointed with this"
)


def test_the_complaint_is_long_and_no_opt_out() -> None:
    assert len(COMPLAINT) > 700 > GATED_CHARS
    assert KW.explain(COMPLAINT) == (None, "no compliance rule matched")


def test_every_built_in_pattern_has_triggers() -> None:
    assert len(REVOCATION_TRIGGERS) == len(REVOCATION_PATTERNS)
    for groups in REVOCATION_TRIGGERS:
        assert groups and all(group and all(t == t.lower() and t.isascii() for t in group) for group in groups)


@pytest.mark.parametrize(("pattern", "groups"), zip(REVOCATION_PATTERNS, REVOCATION_TRIGGERS, strict=True))
def test_every_match_of_a_pattern_holds_its_triggers(pattern: str, groups: tuple[tuple[str, ...], ...]) -> None:
    compiled = re.compile(pattern)

    @settings(max_examples=400, deadline=None)
    @given(st.from_regex(compiled, fullmatch=False))
    def check(text: str) -> None:
        match = compiled.search(text)
        assert match is not None
        for group in groups:
            assert any(trigger in match.group(0) for trigger in group), (group, match.group(0))

    check()


@pytest.mark.parametrize("revocation", REVOCATIONS)
@pytest.mark.parametrize("where", ["start", "middle", "end"])
def test_a_revocation_anywhere_in_a_long_text_opts_out(revocation: str, where: str) -> None:
    half = len(COMPLAINT) // 2
    text = {
        "start": f"{revocation}. {COMPLAINT}",
        "middle": f"{COMPLAINT[:half]}. {revocation}. {COMPLAINT[half:]}",
        "end": f"{COMPLAINT}. {revocation}",
    }[where]
    intent, reason = KW.explain(text)
    assert intent is Intent.OPT_OUT, reason


@pytest.mark.parametrize("text", NOT_REVOCATIONS)
def test_other_meanings_in_a_long_text_do_not_opt_out(text: str) -> None:
    assert KW.classify(f"{COMPLAINT}. {text}") is None


# Punctuated, or a request: a bare keyword that merely ends a sentence ("...
# and then I had to stop") is no opt-out in a text of any length.
@pytest.mark.parametrize(
    "ending", [". STOP", "! stop", " stop texting me", ". S T O P", ". ST0P", ". STOPSTOP", ", unsubscribe me",
               " stop stop stop", "\nSTOP", " \U0001f6d1 STOP"]
)
def test_a_long_complaint_ending_in_an_opt_out_opts_out(ending: str) -> None:
    intent, reason = KW.explain(COMPLAINT + ending)
    assert intent is Intent.OPT_OUT, reason


def test_a_flows_extra_pattern_is_always_searched() -> None:
    kw = ComplianceKeywords(extra_revocation_patterns=[r"\bbasta\b"])
    assert kw.classify(f"{COMPLAINT} basta") is Intent.OPT_OUT


def test_word_separators_are_hyphens_underscores_and_whitespace_but_line_breaks() -> None:
    # The definition the faster class in bot.compliance.clauses must equal.
    definition = re.compile(r"[-_\u2010\u2011]|[^\S\r\n]")
    for code in range(0x110000):
        ch = chr(code)
        expected = definition.fullmatch(ch) is not None and ch != " "
        assert (_WORD_SEPARATORS.fullmatch(ch) is not None) is expected, hex(code)


@pytest.mark.parametrize(
    "text",
    ["S" + "T" * 200 + "O" * 300 + "P", "u" + "n" * 50 + "subscribe" + "e" * 400, "Who is this?? " + "S" * 300 + "TOP"],
)
def test_a_long_emphasised_keyword_still_opts_out(text: str) -> None:
    intent, reason = KW.explain(text)
    assert intent is Intent.OPT_OUT, reason


# Worst cases for the disguise readings (bot.compliance.disguise): many
# disguised words, one endless one, endless repeats and spelled-out runs.
@pytest.mark.parametrize(
    "text",
    [
        pytest.param("a1 " * 10000, id="many-substitutions"),
        pytest.param("a" * 50000 + "1", id="one-long-substituted-word"),
        pytest.param("stop" * 20000 + "x", id="glued-repeats"),
        pytest.param("stopstop x " * 5000, id="many-glued-repeats"),
        pytest.param("dont stop stop stop " * 3000, id="negated-repeats"),
        pytest.param("s." * 30000, id="spelled-out"),
        pytest.param("s t 0 p $top$top stop stop stop " * 1000, id="everything"),
    ],
)
def test_long_disguised_texts_are_fast(text: str) -> None:
    started = time.perf_counter()
    KW.explain(text)
    assert time.perf_counter() - started < 1.0


def test_combining_characters_are_stripped_exactly_as_unicodedata_says() -> None:
    # bot.compliance.clauses strips accents with regexes built at import from
    # the code points below U+20000; every combining one must go, no other.
    for code in range(0x110000):
        ch = chr(code)
        assert strip_combining(f"a{ch}b") == ("ab" if unicodedata.combining(ch) else f"a{ch}b"), hex(code)


@pytest.mark.parametrize(
    "text",
    ["Arrêt", "ÉND", "S\u0301TOP", "don’t stop texting me", "I’ve had enough 😡 — STOP", "\U00011000\U0001d165 stop"],
)
def test_accents_and_apostrophes_fold_as_before(text: str) -> None:
    # The definition the faster fold in bot.compliance.clauses must equal.
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()
    expected = _WORD_SEPARATORS.sub(" ", "".join(ch for ch in stripped if ch not in "'\u2019\u2018\u02bc`\u00b4"))
    assert normal_form(text) == expected

"""A revocation the customer negates ("don't stop texting me") does not opt out.

The rule: a revocation phrase matched right after a negation of the
customer's own ("don't", "do not", "never", "didn't", "won't", "I don't want
to", optionally with "ever") is negated and does not count. A negation whose
subject is the business ("you never stop texting me", "why won't you stop")
is a complaint, and opts out as before. Another, un-negated revocation in the
same text still opts out.
"""

from __future__ import annotations

import time

import pytest

from bot.compliance import ComplianceKeywords, Intent

KW = ComplianceKeywords()


@pytest.mark.parametrize(
    "text",
    [
        "don't stop texting me",
        "Please don't stop texting me!",
        "please don’t stop",
        "please dont stop the texts",
        "Don't stop sending me texts, I love the deals",
        "never stop texting me",
        "do not stop messaging me",
        "dont ever stop sending me these texts",
        "please don't unsubscribe me",
        "dont take me off your list",
        "don't cancel my text alerts",
        "don't leave me alone",
        "I didn't unsubscribe, why am I not getting texts?",
        "I didnt opt out",
        "i dont want to unsubscribe",
        "I don't want to opt out, just fewer texts",
        "never opt me out",
        "I won't unsubscribe, the deals are great",
    ],
)
def test_a_negated_revocation_does_not_opt_out(text: str) -> None:
    assert KW.explain(text) == (None, "no compliance rule matched")


@pytest.mark.parametrize(
    "text",
    [
        "why dont you stop texting me",  # a request
        "why won't you stop texting me?",
        "you never stop texting me",  # complaints about the business
        "u wont stop texting me",
        "it won't stop messaging me",
        "don't stop texting me? no, STOP texting me",
        "dont stop texting me jk stop texting me",  # a second, un-negated match in the clause
        "dont stop texting me, never stop texting me, ok now stop texting me",
        "don't text me",  # the negation is the revocation itself
        "i dont want these texts",
        "Never text me again",
        "please stop texting me, don't text me again",
    ],
)
def test_revocations_around_a_negation_still_opt_out(text: str) -> None:
    intent, reason = KW.explain(text)
    assert intent is Intent.OPT_OUT, reason


def test_a_flows_pattern_is_negated_alike() -> None:
    kw = ComplianceKeywords(extra_revocation_patterns=[r"\bdrop me\b"])
    assert kw.classify("drop me") is Intent.OPT_OUT
    assert kw.classify("please don't drop me") is None


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("dont stop texting me " * 3000, id="dont-stop-texting-me"),
        pytest.param("never unsubscribe " * 5000, id="never-unsubscribe"),
    ],
)
def test_many_negated_matches_are_fast(text: str) -> None:
    started = time.perf_counter()
    assert KW.classify(text) is None
    assert time.perf_counter() - started < 1.0

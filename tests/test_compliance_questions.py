"""A bare opt-out keyword asked as a question, and requests phrased as questions.

The rule (README, "Compliance first"): a keyword that is the whole message
opts out however it is punctuated ("Stop?", "Cancel?"), as carriers read it.
In a longer text, a keyword standing alone as a question ("Stop? what do you
mean") asks about the word and does not opt out -- the same for every
opt-out keyword, whichever rule would otherwise have caught it. A request
phrased as a question ("can you stop texting me?", "how do I unsubscribe?")
still opts out.
"""

from __future__ import annotations

import pytest

from bot.compliance import BASE_OPT_OUT_KEYWORDS, ComplianceKeywords, Intent

KW = ComplianceKeywords()


@pytest.mark.parametrize("keyword", BASE_OPT_OUT_KEYWORDS)
@pytest.mark.parametrize("rest", ["what do you mean", "No, keep it", "I only asked about the fee"])
def test_a_keyword_asked_about_in_a_longer_text_does_not_opt_out(keyword: str, rest: str) -> None:
    # "Stop? what do you mean" used to opt out through the revocation pattern
    # "^...stop...$" while "Cancel? what do you mean" did not.
    text = f"{keyword.capitalize()}? {rest}"
    assert KW.explain(text) == (None, "no compliance rule matched")


@pytest.mark.parametrize("keyword", BASE_OPT_OUT_KEYWORDS)
def test_a_keyword_question_that_is_the_whole_message_opts_out(keyword: str) -> None:
    assert KW.explain(f"{keyword.lower()}?") == (Intent.OPT_OUT, f"keyword {keyword}")


@pytest.mark.parametrize("keyword", BASE_OPT_OUT_KEYWORDS)
def test_a_repeated_keyword_question_opts_out(keyword: str) -> None:
    # Nothing but the keyword, asked twice: there is nothing else it could be about.
    intent, reason = KW.explain(f"{keyword}? {keyword}?")
    assert intent is Intent.OPT_OUT, reason


@pytest.mark.parametrize(
    "text",
    [
        "Stop? what do you mean? I said STOP",  # the keyword used after asking about it
        "Stop? What? Stop.",
        "Cancel? no. STOP",
        "stop? please stop texting me",
        "can you stop?",  # requests phrased as questions
        "will you stop texting me?",
        "how do I unsubscribe?",
        "How do I stop getting these messages?",
        "Who is this? STOP",  # the question is something else
    ],
)
def test_requests_and_keywords_used_after_a_question_still_opt_out(text: str) -> None:
    intent, reason = KW.explain(text)
    assert intent is Intent.OPT_OUT, reason


def test_an_extra_keyword_follows_the_same_rule() -> None:
    kw = ComplianceKeywords(extra_opt_out=["ARRET"])
    assert kw.classify("Arrêt? c'est quoi") is None
    assert kw.classify("Arrêt?") is Intent.OPT_OUT
    assert kw.classify("Arrêt. merci") is Intent.OPT_OUT

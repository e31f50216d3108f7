"""Several compliance keywords in one message: an opt-out among them wins.

"STOP HELP", "HELP STOP", "START STOP", "END END" were no compliance message
at all (the whole text is no one keyword, and no pattern reads them), so a
customer who typed them kept receiving texts. The rule: a clause made of
keywords only (any intent, mistyped opt-out keywords included) that holds an
opt-out keyword is an opt-out, as "Start? No. STOP" already was: no opt-in
or HELP keyword may shadow a revocation. Keywords without an opt-out among
them ("HELP INFO", "yes yes") stay no compliance message, as before.
"""

from __future__ import annotations

import pytest

from bot.compliance import ComplianceKeywords, Intent

KW = ComplianceKeywords()


@pytest.mark.parametrize(
    "text",
    ["STOP HELP", "HELP STOP", "help stop!", "START STOP", "STOP START", "YES STOP", "stop end", "END END",
     "quit quit", "cancel stop", "Unsubscribe cancel", "info stpo", "Hi. HELP STOP"],
)
def test_an_opt_out_among_keywords_opts_out(text: str) -> None:
    intent, reason = KW.explain(text)
    assert intent is Intent.OPT_OUT, reason
    assert "with other keywords" in reason


def test_the_reason_names_the_opt_out_keyword() -> None:
    assert KW.explain("HELP STOP") == (Intent.OPT_OUT, "keyword STOP (with other keywords) as a sentence of its own")


@pytest.mark.parametrize("text", ["HELP INFO", "yes yes", "start yes", "stop sign", "help me stop", "end of season"])
def test_other_word_runs_are_not_this_rule(text: str) -> None:
    assert KW.classify(text) is not Intent.OPT_OUT, KW.explain(text)


def test_asked_about_with_something_else_said_it_is_a_question() -> None:
    assert KW.classify("Stop help? what is this") is None

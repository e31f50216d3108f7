"""An opt-out keyword said several times: run together ("STOPSTOP") or in a longer text ("stop stop stop who is this").

"stop stop stop" as the whole message, or as a clause of keywords only, was
already an opt-out (tests/test_compliance_several_keywords.py). Two gaps:

- Run together, "STOPSTOP" and "STOPSTOPSTOP" were no word at all. The rule:
  a word that is an opt-out keyword written twice or more with nothing between
  reads as the keyword ("STOPSTOP please" as "stop please"), also with digits
  for letters ("$TOP$TOP").
- Said three times or more in a row inside a longer clause ("stop stop stop
  who is this", "STOP STOP STOP I said") the keyword is used, not talked
  about: it is read as a sentence of its own, wherever it stands in the
  clause ("...very disappointed with this stop stop stop"), unless the
  customer negates it ("don't stop stop stop"). Twice inside a clause is not
  enough: "can I cancel cancel my order" is a doubled word.
"""

from __future__ import annotations

import pytest

from bot.compliance import ComplianceKeywords, Intent

KW = ComplianceKeywords()


@pytest.mark.parametrize(
    "text",
    [
        "STOPSTOP",
        "STOPSTOPSTOP",
        "stopstop!",
        "StopStopStopStop",
        "STOPSTOP please",
        "who is this? STOPSTOP",
        "stopstop texting me",
        "cancelcancel",
        "QUITQUIT",
        "endend",
        "unsubscribeunsubscribe",
        "$TOP$TOP",
        "st0pst0p",
        "S T O P S T O P",
    ],
)
def test_a_keyword_run_together_opts_out(text: str) -> None:
    intent, reason = KW.explain(text)
    assert intent is Intent.OPT_OUT, reason


def test_the_reason_says_how_it_was_read() -> None:
    assert KW.explain("STOPSTOP") == (Intent.OPT_OUT, "keyword STOP (read 'stopstop' as 'stop')")


@pytest.mark.parametrize(
    "text",
    [
        "stop stop stop",
        "Stop stop stop!!!",
        "stop stop stop who is this",
        "STOP STOP STOP I said",
        "STOP STOP STOP wrong number",
        "cancel cancel cancel please",
        "end end end please",
        "i said stop stop stop",
        "stop stop stop stop stop I mean it",
        "very disappointed with this stop stop stop",
        "you guys need to stop stop stop",
    ],
)
def test_a_keyword_said_three_times_in_a_longer_text_opts_out(text: str) -> None:
    intent, reason = KW.explain(text)
    assert intent is Intent.OPT_OUT, reason


@pytest.mark.parametrize(
    "text",
    [
        "don't stop stop stop",  # negated
        "can I cancel cancel my order",  # a doubled word
        "the stop stop sign is broken",
        "Stop stop stop? what does that mean",  # a question about the words
        "stopwatch",  # a longer word that begins with a keyword
        "endendless",
        "ending",
        "stopstopping",
    ],
)
def test_repeats_that_are_no_request_do_not_opt_out(text: str) -> None:
    assert KW.classify(text) is not Intent.OPT_OUT, KW.explain(text)


def test_an_extra_keyword_repeats_alike() -> None:
    kw = ComplianceKeywords(extra_opt_out=["ARRET"])
    assert kw.classify("ARRETARRET") is Intent.OPT_OUT
    assert kw.classify("arret arret arret merci beaucoup") is Intent.OPT_OUT
    assert KW.classify("ARRETARRET") is None


def test_opt_in_and_help_run_together_stay_exact() -> None:
    assert KW.classify("HELPHELP") is None
    assert KW.classify("startstart") is None

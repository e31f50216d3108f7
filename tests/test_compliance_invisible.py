"""Invisible characters (soft hyphens, zero-width joiners, direction marks) inside words.

Copy-pasted text and some keyboards put characters a phone does not show
inside words. They must not hide a revocation: "STOP" with a zero-width space
in it is still STOP, in a longer message too, not only as the whole message.
"""

from __future__ import annotations

import pytest

from bot.compliance import ComplianceKeywords, Intent

KW = ComplianceKeywords()


@pytest.mark.parametrize(
    "text",
    [
        "Thanks. S\u200bTOP",  # zero-width space
        "Thanks. ST\u00adOP",  # soft hyphen
        "who is this? st\u200dop",  # zero-width joiner
        "ok. \u2066STOP\u2069 thanks",  # direction isolates
        "please st\u00adop texting me",
        "stop tex\u200cting me",
        "stop\u200btexting me",  # a zero-width space between words still separates them
        "unsub\u2060scribe me",  # word joiner
        "take me off your li\ufeffst",  # byte-order mark
    ],
)
def test_invisible_characters_do_not_hide_an_opt_out(text: str) -> None:
    assert KW.classify(text) is Intent.OPT_OUT, KW.explain(text)


@pytest.mark.parametrize("text", ["stop\u200b by the store", "non\u00ad-stop flights", "where is the bus st\u200bop"])
def test_invisible_characters_do_not_make_an_opt_out(text: str) -> None:
    assert KW.classify(text) is None, KW.explain(text)
